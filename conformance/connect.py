"""Open a session on a Target and find out which protocol era(s) the server speaks.

Detection tries the newest revision first (2026-07-28 `server/discover`), then falls back to
the handshake (`initialize`); `--protocol` forces one revision. A server that answers both is
dual-era, and campaigns run once per era.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from . import budget
from .config import ConfigError, Target
from .session import HANDSHAKE_LATEST, LATEST, Exchange, Session, is_stateless
from .transport.base import Transport, TransportError

# The first answer of a freshly started server includes its start-up (interpreter, imports; an
# SDK server takes 2 s on an idle machine, several under load). The opening handshake of a
# session waits at least this long, so a slow start is not mistaken for a hang or a dead server
# while --timeout stays a per-request bound (fuzzed hangs are judged with it).
STARTUP_TIMEOUT = float(os.environ.get("MCPCHECK_STARTUP_TIMEOUT") or 20.0)


def make_transport(target: Target, *, extra_env: dict[str, str] | None = None) -> Transport:
    if target.transport == "stdio":
        from .transport.stdio import StdioTransport

        return StdioTransport(
            list(target.command or []), env={**target.env, **(extra_env or {})}, cwd=target.cwd
        )
    headers = dict(target.headers)
    if target.bearer_env:
        token = os.environ.get(target.bearer_env)
        if not token:
            raise ConfigError(f"--bearer-env {target.bearer_env}: that environment variable is not set")
        headers["Authorization"] = f"Bearer {token}"
    if target.transport == "http":
        from .transport.http import StreamableHttpTransport

        return StreamableHttpTransport(target.url or "", headers=headers, timeout=target.timeout)
    from .transport.sse import LegacySseTransport

    return LegacySseTransport(target.url or "", headers=headers, timeout=target.timeout)


@dataclass
class Probe:
    """What era detection learned."""

    stateless: Exchange | None = None  # the server/discover exchange
    handshake: Exchange | None = None  # the initialize exchange

    @property
    def speaks_stateless(self) -> bool:
        ex = self.stateless
        if ex is None or not ex.ok or not isinstance(ex.result, dict):
            return False
        versions = ex.result.get("supportedVersions")
        return isinstance(versions, list) and LATEST in versions

    @property
    def speaks_handshake(self) -> bool:
        ex = self.handshake
        return bool(ex and ex.ok and isinstance(ex.result, dict) and "protocolVersion" in ex.result)

    def eras(self) -> list[str]:
        out = []
        if self.speaks_stateless:
            out.append(LATEST)
        if self.speaks_handshake:
            v = self.handshake.result.get("protocolVersion")  # type: ignore[union-attr]
            out.append(v if isinstance(v, str) else HANDSHAKE_LATEST)
        return out


async def start_session(target: Target, *, extra_env: dict[str, str] | None = None) -> Session:
    session = Session(make_transport(target, extra_env=extra_env), timeout=target.timeout)
    try:
        await session.start()
    except BaseException:  # TransportError, or the run's time budget (budget.OutOfTime)
        await session.close()
        raise
    return session


def startup_wait(target: Target) -> float:
    """How long a fresh server's first answer is waited for: the start-up allowance, never less
    than the request timeout, never past the end of the run's --max-time."""
    return max(0.1, min(max(target.timeout, STARTUP_TIMEOUT), budget.current().remaining()))


async def open_session(
    target: Target, revision: str, *, extra_env: dict[str, str] | None = None, handshake: bool = True, listen: bool = False
) -> Session:
    """A fresh session speaking `revision` (initialize or discover done unless handshake=False).
    `listen`: once the handshake is done, open the channel where the server sends messages
    outside any request (notifications/*/list_changed), see start_listening: over Streamable
    HTTP in the session era the optional GET stream (H1; the transport's `get_stream` then says
    whether it is open or why not, 405: the server offers none); in 2026-07-28 a
    subscriptions/listen stream (`session.subscription`)."""
    session = await start_session(target, extra_env=extra_env)
    if not handshake:
        session.set_revision(revision)
        return session
    saved, session.timeout = session.timeout, max(session.timeout, STARTUP_TIMEOUT)
    try:
        ex = await (session.discover(revision) if is_stateless(revision) else session.initialize(revision))
    except BaseException:  # the run's time budget ran out mid-handshake: leave no process behind
        await session.close()
        raise
    finally:
        session.timeout = saved
    if not ex.ok:
        what = "server/discover" if is_stateless(revision) else "initialize"
        why = ex.transport_error or ("timed out" if ex.timed_out else f"answered {ex.response}")
        await session.close()
        raise TransportError(f"{what} for {revision} failed: {why}")
    if listen:
        await start_listening(session, min(target.timeout, 5.0))
    return session


LISTEN_FLAGS = {"tools": "toolsListChanged", "prompts": "promptsListChanged", "resources": "resourcesListChanged"}
KIND_CAPS = (("tool", "tools"), ("prompt", "prompts"), ("resource", "resources"), ("template", "resources"))


async def start_listening(session: Session, wait: float) -> None:
    """Open the channel a ready session's server sends list_changed notifications on, and wait
    (bounded by `wait`) until it is open: in the handshake era over Streamable HTTP the optional
    GET stream (H1; stdio needs nothing), in the 2026-07-28 era a `subscriptions/listen` stream
    asking for every list_changed kind the server declares (SB1; none declared: nothing to
    open). `missed_announcements` then says, per kind, whether one could have been missed."""
    wait = max(0.1, min(wait, budget.current().remaining()))  # never past the run's --max-time
    if session.stateless:
        caps = session.server_capabilities
        wanted = {flag: True for cap, flag in LISTEN_FLAGS.items() if isinstance(caps.get(cap), dict) and caps[cap].get("listChanged") is True}
        if wanted and session.subscription is None:
            await session.listen(wanted, wait)
    elif hasattr(session.transport, "listen"):
        await session.transport.listen(wait)


def missed_announcements(sessions: list[Session]) -> dict[str, str]:
    """Per kind of definition (tool, prompt, resource, template): why a list_changed the server
    sent may not have reached mcpcheck in these sessions (the last one's capabilities count). A
    kind is missing when every channel one can arrive on was read (stdio and legacy SSE in the
    handshake era; the HTTP GET stream, or a 405: the server has none; in 2026-07-28 a
    subscriptions/listen stream the server acknowledged with that kind), or when the server did
    not declare `listChanged` for it (it promised no announcement, so there is none to miss)."""
    if not sessions:
        return {}
    caps = sessions[-1].server_capabilities or {}
    out: dict[str, str] = {}
    for kind, cap in KIND_CAPS:
        if not (isinstance(caps.get(cap), dict) and caps[cap].get("listChanged") is True):
            continue
        for s in sessions:
            reason = _missed(s, LISTEN_FLAGS[cap])
            if reason is not None:
                out[kind] = reason
                break
    return out


def _missed(s: Session, flag: str) -> str | None:
    if s.stateless:
        if s.subscription is None:
            return "in 2026-07-28 a list_changed arrives only on a subscriptions/listen stream, which was not opened"
        why = s.subscription.missed(flag)
        return None if why is None else f"in 2026-07-28 a list_changed arrives only on a subscriptions/listen stream, and {why}"
    state = getattr(s.transport, "get_stream", "n/a")
    if state in ("n/a", "open", "none"):  # stdio / legacy SSE; GET stream read; 405: none offered
        return None
    return getattr(s.transport, "get_stream_detail", "") or "the HTTP GET stream, where a server sends notifications outside any request, was not read"


async def _probe(s: Session, ask) -> Exchange:
    """One detection probe on a fresh session, closed afterwards whatever happens."""
    try:
        return await ask(s)
    except BaseException:
        await s.close()
        raise


async def detect(target: Target, *, extra_env: dict[str, str] | None = None, listen: bool = False) -> tuple[Probe, Session]:
    """Probe both eras on fresh sessions; returns the probe and a ready session for the first
    era found (the newest). Raises TransportError when the server speaks neither, with one
    sentence a newcomer can act on (it exited, it echoes, it is silent, it answered X)."""
    probe = Probe()
    forced = target.protocol
    kept: Session | None = None
    logs: list[Session] = []
    # The handshake probe goes first with a start-up allowance (an `npx -y` download, a cold
    # import on a busy CI machine): its answer tells how fast this server starts, which bounds
    # the stateless probe. A handshake-only server may ignore a pre-initialize server/discover,
    # so that probe must not wait the full start-up allowance when we know better.
    discover_limit = min(target.timeout, 5.0)
    silent = False
    if forced is None or not is_stateless(forced):
        s = await start_session(target, extra_env=extra_env)
        logs.append(s)
        s.timeout = startup_wait(target)
        probe.handshake = await _probe(s, lambda s: s.initialize(forced or HANDSHAKE_LATEST))
        s.exited_by_itself = _exited(s)  # type: ignore[attr-defined]  # before close() ends it
        await s.close()
        hs = probe.handshake
        silent = hs.timed_out and not _said_anything(s)
        if hs.timed_out or hs.transport_error:
            discover_limit = startup_wait(target)  # nothing learned: allow start-up
        else:
            discover_limit = min(max(target.timeout, STARTUP_TIMEOUT), max(discover_limit, 3 * hs.elapsed))
    # A server that said nothing at all within the start-up allowance is not probed again (the
    # wait the message names is the wait there was), nor one that exited or echoed our request.
    skip_discover = forced is None and probe.handshake is not None and (silent or getattr(logs[-1], 'exited_by_itself', False) or _echoed(logs[-1]))
    if (forced is None or is_stateless(forced)) and not skip_discover:
        s = await start_session(target, extra_env=extra_env)
        logs.append(s)
        probe.stateless = await _probe(s, lambda s: s.discover(forced or LATEST, timeout=discover_limit))
        if probe.speaks_stateless:
            kept = s  # already a ready stateless session: reuse it
        else:
            await s.close()
    eras = probe.eras()
    if not eras:
        raise TransportError(_why_no_era(target, probe, logs))
    session = kept if kept is not None else await open_session(target, eras[0], extra_env=extra_env, listen=listen)
    if listen and kept is not None:
        await start_listening(session, min(target.timeout, 5.0))
    return probe, session


async def session_for(
    target: Target, known_eras: list[str] | None, *, extra_env: dict[str, str] | None = None, listen: bool = False
) -> tuple[list[str], Session]:
    """The eras the server speaks and a ready session in the newest: from an earlier campaign's
    detection when there was one (no second round of probe processes), else detect().
    `listen`: as open_session's (start_listening)."""
    if known_eras:
        return list(known_eras), await open_session(target, known_eras[0], extra_env=extra_env, listen=listen)
    probe, session = await detect(target, extra_env=extra_env, listen=listen)
    return probe.eras(), session


def _incoming(s: Session, channel: str) -> list[str]:
    return [line for e in s.wirelog.entries if e.direction == "in" and e.channel == channel for line in e.raw.splitlines() if line.strip()]


def _said_anything(s: Session) -> bool:
    return bool(_incoming(s, "stdout")) or any(e.direction == "in" and e.channel == "http" for e in s.wirelog.entries)


def _exited(s: Session) -> bool:
    return getattr(s.transport, "exit_code", None) is not None


def _echoed(s: Session) -> bool:
    sent = [e.parsed for e in s.wirelog.entries if e.direction == "out" and isinstance(e.parsed, dict) and "method" in e.parsed]
    return any(e.direction == "in" and isinstance(e.parsed, dict) and e.parsed in sent for e in s.wirelog.entries)


def _first_lines(s: Session, n: int = 3) -> str:
    parts = []
    for channel in ("stdout", "stderr"):
        lines = _incoming(s, channel)[:n]
        if lines:
            parts.append(f"first {channel} lines: " + " | ".join(line[:160] for line in lines))
    return "; ".join(parts) or "it wrote nothing on stdout or stderr"


def _why_no_era(target: Target, probe: Probe, logs: list[Session]) -> str:
    """One sentence: why the server could not be tested."""
    last = logs[-1] if logs else None
    first = logs[0] if logs else None
    if first is not None and getattr(first, "exited_by_itself", False) and not _said_mcp(first):
        code = first.transport.exit_code  # type: ignore[attr-defined]
        return f"the server exited with code {code} before answering initialize; {_first_lines(first)}"
    if first is not None and _echoed(first):
        return "the server answered with our own request: it echoes its input back, so it is not an MCP server"
    hs, st = probe.handshake, probe.stateless
    if hs is not None and hs.timed_out and (st is None or st.timed_out):
        waited = max((ex.elapsed or 0.0) for ex in (hs, st) if ex is not None)
        what = "initialize" + (" or server/discover" if st is not None else "")
        said = "" if first is None or not _said_anything(first) else f" ({_first_lines(first)})"
        return f"no answer to {what} within {waited:.0f}s{said}: is the command an MCP server on stdio, and does it start in time (MCPCHECK_STARTUP_TIMEOUT, --timeout)?" if target.transport == "stdio" else f"no answer to {what} within {waited:.0f}s from {target.url}"
    problems = []
    for name, ex in (("server/discover", st), ("initialize", hs)):
        if ex is None:
            continue
        if ex.transport_error:
            problems.append(f"{name}: {ex.transport_error}")
        elif ex.timed_out:
            problems.append(f"{name}: no answer within {ex.elapsed or target.timeout:.0f}s")
        else:
            problems.append(f"{name}: {str(ex.response)[:200]}")
    if last is not None and target.transport == "stdio" and not any(_said_mcp(s) for s in logs):
        problems.append(_first_lines(last))
    return "the server speaks no MCP revision mcpcheck knows (" + "; ".join(problems) + ")"


def _said_mcp(s: Session) -> bool:
    """Did anything on stdout parse as a JSON-RPC message?"""
    return any(e.direction == "in" and e.channel == "stdout" and isinstance(e.parsed, dict) and e.parsed.get("jsonrpc") == "2.0" for e in s.wirelog.entries)


async def list_tools(session: Session, *, max_pages: int = 50) -> list[dict[str, Any]]:
    """Every tool the server lists, de-duplicated by name (the first wins), following nextCursor
    through the one walker (pages.walk: page bound, a repeated cursor ends the walk; the
    conformance campaign's pagination check judges the cursors, this only collects)."""
    from .pages import walk

    return (await walk(session, "tools/list", "tools", max_pages=max_pages)).unique("name")

"""Open a session on a Target and find out which protocol era(s) the server speaks.

Detection tries the newest revision first (2026-07-28 `server/discover`), then falls back to
the handshake (`initialize`); `--protocol` forces one revision. A server that answers both is
dual-era, and campaigns run once per era.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

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
    except TransportError:
        await session.close()
        raise
    return session


async def open_session(
    target: Target, revision: str, *, extra_env: dict[str, str] | None = None, handshake: bool = True, listen: bool = False
) -> Session:
    """A fresh session speaking `revision` (initialize or discover done unless handshake=False).
    `listen`: over Streamable HTTP in the session era, also open the optional GET stream (H1)
    once the handshake is done and wait (bounded) for its answer, so that messages the server
    sends outside any request (notifications/*/list_changed) reach the session; the transport's
    `get_stream` then says whether it is open or why not (405: the server offers none)."""
    session = await start_session(target, extra_env=extra_env)
    if not handshake:
        session.set_revision(revision)
        return session
    saved, session.timeout = session.timeout, max(session.timeout, STARTUP_TIMEOUT)
    try:
        ex = await (session.discover(revision) if is_stateless(revision) else session.initialize(revision))
    finally:
        session.timeout = saved
    if not ex.ok:
        what = "server/discover" if is_stateless(revision) else "initialize"
        why = ex.transport_error or ("timed out" if ex.timed_out else f"answered {ex.response}")
        await session.close()
        raise TransportError(f"{what} for {revision} failed: {why}")
    if listen and not is_stateless(revision) and hasattr(session.transport, "listen"):
        await session.transport.listen(min(target.timeout, 5.0))
    return session


async def detect(target: Target, *, extra_env: dict[str, str] | None = None) -> tuple[Probe, Session]:
    """Probe both eras on fresh sessions; returns the probe and a ready session for the first
    era found (the newest). Raises TransportError when the server speaks neither."""
    probe = Probe()
    forced = target.protocol
    kept: Session | None = None
    # The handshake probe goes first with a start-up allowance (an `npx -y` download, a cold
    # import on a busy CI machine): its answer tells how fast this server starts, which bounds
    # the stateless probe. A handshake-only server may ignore a pre-initialize server/discover,
    # so that probe must not wait the full start-up allowance when we know better.
    discover_limit = min(target.timeout, 5.0)
    if forced is None or not is_stateless(forced):
        s = await start_session(target, extra_env=extra_env)
        s.timeout = max(s.timeout, STARTUP_TIMEOUT)
        probe.handshake = await s.initialize(forced or HANDSHAKE_LATEST)
        await s.close()
        hs = probe.handshake
        if hs.timed_out or hs.transport_error:
            discover_limit = max(target.timeout, STARTUP_TIMEOUT)  # nothing learned: allow start-up
        else:
            discover_limit = min(max(target.timeout, STARTUP_TIMEOUT), max(discover_limit, 3 * hs.elapsed))
    if forced is None or is_stateless(forced):
        s = await start_session(target, extra_env=extra_env)
        probe.stateless = await s.discover(forced or LATEST, timeout=discover_limit)
        if probe.speaks_stateless:
            kept = s  # already a ready stateless session: reuse it
        else:
            await s.close()
    eras = probe.eras()
    if not eras:
        problems = []
        for name, ex in (("server/discover", probe.stateless), ("initialize", probe.handshake)):
            if ex is None:
                continue
            if ex.transport_error:
                problems.append(f"{name}: {ex.transport_error}")
            elif ex.timed_out:
                problems.append(f"{name}: no answer within {target.timeout:g}s")
            else:
                problems.append(f"{name}: {str(ex.response)[:200]}")
        raise TransportError("the server speaks no MCP revision mcpcheck knows (" + "; ".join(problems) + ")")
    session = kept if kept is not None else await open_session(target, eras[0], extra_env=extra_env)
    return probe, session


async def list_tools(session: Session) -> list[dict[str, Any]]:
    """Every tool the server lists, following nextCursor (at most 50 pages; the conformance
    campaign's pagination checks judge the cursors, this only collects)."""
    tools: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        ex = await session.request("tools/list", {"cursor": cursor} if cursor else {})
        if not ex.ok or not isinstance(ex.result, dict):
            break
        tools += [t for t in ex.result.get("tools") or [] if isinstance(t, dict)]
        cursor = ex.result.get("nextCursor")
        if not isinstance(cursor, str) or not cursor:
            break
    return tools

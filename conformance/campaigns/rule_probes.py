"""Active conformance probes for lifecycle, logging, subscriptions and the GET stream
(spec-digest S4/L6, L4, LG2, RS6, SB1/SB2/RS7, H1).

Session checks of campaign "conformance", run after the campaign's own probes (registration
order). Each opens what it needs and skips with the reason when the rule does not apply:

- stdio.exit_on_eof                 a fresh process exits soon after its stdin closes (S4; L6)
- lifecycle.no_requests_before_initialized
                                    no request but ping before notifications/initialized (L4)
- logging.set_level                 logging/setLevel answers {}; an unknown level -32602 (LG2)
- resources.subscribe               subscribe/unsubscribe to a listed resource work when the
                                    server declares resources.subscribe (RS6)
- subscriptions.listen              2026-07-28 stdio: subscriptions/listen is acknowledged first,
                                    with the subscription id on every notification (SB1/SB2)
- http.get_stream                   handshake-era Streamable HTTP: GET opens an SSE stream or is 405 (H1)
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

from ..connect import open_session, start_session
from ..findings import Severity, Violation
from ..profiles import silence_wait
from ..registry import SessionContext, Skip, check
from ..session import Exchange, Session, id_key
from ..transport.base import TransportError
from ..transport.http import StreamableHttpTransport

EOF_GRACE = 5.0  # seconds a server may take to exit after stdin EOF
BEFORE_INITIALIZED = 1.5  # seconds mcpcheck withholds notifications/initialized
BEFORE_INITIALIZED_QUICK = 0.5  # the same under --profile quick (a shorter wait can only miss)
LISTEN_WAIT = 3.0  # seconds to wait for a listen stream's acknowledgement
ACK_GRACE = 0.3  # seconds to keep listening after the acknowledgement
ACK = "notifications/subscriptions/acknowledged"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


def _handshake_only(ctx: SessionContext) -> None:
    if ctx.stateless:
        raise Skip(f"a handshake-era rule (this era is {ctx.revision})")


# --------------------------------------------------------------------------- S4 / L6


@check(
    "stdio.exit_on_eof",
    category="protocol.lifecycle",
    severity="low",
    title="The server exits promptly once its stdin is closed",
    scope="session",
    rule="S4/L6",
    level="SHOULD",
    description=f"A fresh process, after its handshake, gets stdin EOF and has {EOF_GRACE:g} s to exit. "
    "2026-07-28 makes stdin EOF the primary shutdown (SHOULD exit: low); before it the client "
    "closes stdin then signals the server (advisory: info).",
    isolated=True,
)
async def exit_on_eof(ctx: SessionContext) -> Iterator[Violation]:
    if ctx.transport != "stdio":
        raise Skip("stdio rule")
    s = await open_session(ctx.config, ctx.revision)
    s.expected_exit = True  # ending it is the point: not a crash
    t = s.transport
    try:
        await t.close(grace=EOF_GRACE)
        took = getattr(t, "shutdown_seconds", None)
        if took is not None:
            return iter(())
        ev = s.wirelog.record("in", "event", f"stdin closed; the server was still running {EOF_GRACE:g}s later (then signalled)")
        sev = None if ctx.stateless else Severity.info
        return iter([Violation(f"the server did not exit within {EOF_GRACE:g}s of stdin EOF", [ev], severity=sev, key="eof")])
    finally:
        await s.close()


# --------------------------------------------------------------------------- L4


@check(
    "lifecycle.no_requests_before_initialized",
    category="protocol.lifecycle",
    severity="low",
    title="No server requests but ping before notifications/initialized",
    scope="session",
    rule="L4",
    level="SHOULD NOT",
    revisions="..2025-11-25",
    description=f"A fresh session declares the roots capability, answers initialize and withholds "
    f"notifications/initialized for {BEFORE_INITIALIZED:g} s; any request but ping the server sends "
    "meanwhile is reported (the roots/list it sends is answered with no roots).",
    isolated=True,
)
async def no_requests_before_initialized(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_only(ctx)
    s = await start_session(ctx.config)
    try:
        s.capabilities = {"roots": {"listChanged": False}}
        init = await s.initialize(ctx.revision or "2025-11-25", send_initialized=False)
        if not init.ok:
            raise Skip(f"initialize failed on a fresh session: {init.error or init.transport_error or 'no answer'}")
        await s.quiet_period(silence_wait(BEFORE_INITIALIZED, BEFORE_INITIALIZED_QUICK))
        early = [e for e in s.server_requests if isinstance(e.parsed, dict) and e.parsed.get("method") != "ping"]
        await s.notify("notifications/initialized", meta=False)
        out = []
        for e in early:
            out.append(Violation(f"the server sent {e.parsed.get('method')} before the client's notifications/initialized", [*init.evidence(), e], key=str(e.parsed.get("method"))))
        return iter(out)
    finally:
        await s.close()


# --------------------------------------------------------------------------- LG2


@check(
    "logging.set_level",
    category="protocol.error_codes",
    severity="low",
    title="logging/setLevel answers {} for a valid level and -32602 for an unknown one",
    scope="session",
    rule="LG2",
    level="SHOULD",
    revisions="..2025-11-25",
)
async def set_level(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_only(ctx)
    if "logging" not in ctx.capabilities:
        raise Skip("the server does not declare logging")
    s = ctx.session
    good = await s.request("logging/setLevel", {"level": "warning"})
    bad = await s.request("logging/setLevel", {"level": "mcpcheck-no-such-level"})
    await s.request("logging/setLevel", {"level": "debug"})  # leave the session as verbose as it may be
    return check_set_level(good, bad)


def check_set_level(good: Exchange, bad: Exchange) -> Iterator[Violation]:
    if good.answered and not good.ok:
        yield Violation(f"logging/setLevel {{level: warning}} was refused: {good.error}", good.evidence(), key="valid")
    if bad.ok:
        yield Violation("logging/setLevel with an unknown level succeeded; expected -32602", bad.evidence(), key="invalid")
    elif bad.answered and bad.error_code != -32602:
        yield Violation(f"logging/setLevel with an unknown level answered {bad.error_code!r}; expected -32602", bad.evidence(), key="invalid")


# --------------------------------------------------------------------------- RS6


@check(
    "resources.subscribe",
    category="protocol.capabilities",
    severity="low",
    title="resources/subscribe and unsubscribe work when resources.subscribe is declared",
    scope="session",
    rule="RS6",
    level="-",
    revisions="..2025-11-25",
)
async def subscribe(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_only(ctx)
    caps = ctx.capabilities.get("resources")
    if not (isinstance(caps, dict) and caps.get("subscribe") is True):
        raise Skip("the server does not declare resources.subscribe")
    s = ctx.session
    listed = await s.request("resources/list", {})
    items = (listed.result or {}).get("resources") if listed.ok and isinstance(listed.result, dict) else None
    uri = next((r["uri"] for r in items or [] if isinstance(r, dict) and isinstance(r.get("uri"), str)), None)
    if uri is None:
        raise Skip("no listed resource to subscribe to")
    sub = await s.request("resources/subscribe", {"uri": uri})
    unsub = await s.request("resources/unsubscribe", {"uri": uri})
    return check_subscribe(sub, unsub, uri)


def check_subscribe(sub: Exchange, unsub: Exchange, uri: str) -> Iterator[Violation]:
    for ex in (sub, unsub):
        if ex.answered and not ex.ok:
            yield Violation(f"{ex.method} {uri} failed ({ex.error}) although the server declares resources.subscribe", ex.evidence(), key="subscribe")


# --------------------------------------------------------------------------- SB1 / SB2


LISTEN_FLAGS = {"tools": "toolsListChanged", "prompts": "promptsListChanged", "resources": "resourcesListChanged"}


@check(
    "subscriptions.listen",
    category="protocol.lifecycle",
    severity="medium",
    title="2026-07-28: subscriptions/listen is acknowledged first, every notification naming the subscription",
    scope="session",
    rule="SB1/SB2/RS7",
    level="MUST",
    revisions="2026-07-28",
    description="stdio only (over HTTP the listen response is a long-lived SSE stream). Asks for the "
    "list_changed kinds the server declares; judges the first message of the subscription and the "
    "subscription id on each notification; ends it with notifications/cancelled.",
)
async def listen(ctx: SessionContext) -> Iterator[Violation]:
    if not ctx.stateless:
        raise Skip(f"a 2026-07-28 rule (this era is {ctx.revision})")
    if ctx.transport != "stdio":
        raise Skip("judged over stdio only")
    wanted = {flag: True for cap, flag in LISTEN_FLAGS.items() if isinstance(ctx.capabilities.get(cap), dict) and ctx.capabilities[cap].get("listChanged")}
    if not wanted:
        raise Skip("the server declares no listChanged capability to listen for")
    s: Session = ctx.session
    msg = s.build_request("subscriptions/listen", {"notifications": wanted})
    mark = s.wirelog.mark()
    # a listen stream stays open until cancelled: its silence is by design, not a hang (malformed=True: no grace, not judged by robustness.no_hang)
    task = asyncio.ensure_future(s.request("subscriptions/listen", message=msg, timeout=LISTEN_WAIT, malformed=True))
    # the stream stays open by design: once it is acknowledged, ACK_GRACE more is enough to see
    # what follows the acknowledgement (a notification out of order); no need to wait LISTEN_WAIT
    end = asyncio.get_running_loop().time() + LISTEN_WAIT + 1.0
    acked_at: float | None = None
    while not task.done():
        now = asyncio.get_running_loop().time()
        if acked_at is None and any(e.direction == "in" and isinstance(e.parsed, dict) and e.parsed.get("method") == ACK for e in s.wirelog.since(mark)):
            acked_at = now
        if now >= end or (acked_at is not None and now - acked_at >= ACK_GRACE):
            break
        await asyncio.wait({task}, timeout=0.05)
    done = task.result() if task.done() else None
    if not task.done():
        task.cancel()
    if done is None or done.timed_out:
        try:
            await s.notify("notifications/cancelled", {"requestId": msg["id"], "reason": "mcpcheck probe done"})
        except TransportError:
            pass
    sent = next((e for e in s.wirelog.since(mark) if e.direction == "out" and isinstance(e.parsed, dict) and e.parsed.get("id") == msg["id"]), None)
    ex = done if done is not None else Exchange("subscriptions/listen", msg, sent, timed_out=acked_at is None, malformed=True)
    incoming = [e for e in s.wirelog.since(mark) if e.direction == "in" and isinstance(e.parsed, dict)]
    return check_listen(msg, ex, incoming)


def _names(msg: dict[str, Any], listen_id: Any) -> bool:
    """The notification carries _meta subscriptionId equal to the listen request's id."""
    params = msg.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and SUBSCRIPTION_ID in meta and id_key(meta[SUBSCRIPTION_ID]) == id_key(listen_id)


def check_listen(msg: dict[str, Any], ex: Exchange, incoming: list[Any]) -> Iterator[Violation]:
    if ex.answered and not ex.ok:
        raise Skip(f"subscriptions/listen was refused ({ex.error}); nothing to judge")
    lid = msg["id"]
    ours = [
        e
        for e in incoming
        if "method" in e.parsed and "id" not in e.parsed and (
            _names(e.parsed, lid) or e.parsed.get("method") == "notifications/subscriptions/acknowledged"
        )
    ]
    sent = [x for x in (ex.request_entry,) if x is not None]
    if not ours:
        yield Violation(
            "subscriptions/listen was not acknowledged (no notifications/subscriptions/acknowledged for it)"
            + (" before its result" if ex.ok else f" within {LISTEN_WAIT:g}s"),
            [*sent, *([ex.response_entry] if ex.response_entry else [])],
            key="no-ack",
        )
        return
    first = ours[0]
    if first.parsed.get("method") != "notifications/subscriptions/acknowledged":
        yield Violation(f"the first message of the subscription is {first.parsed.get('method')}, not notifications/subscriptions/acknowledged", [*sent, first], key="order")
    for e in ours:
        if not _names(e.parsed, lid):
            yield Violation(
                f"{e.parsed.get('method')} on the listen stream lacks _meta {SUBSCRIPTION_ID} = {msg['id']!r}",
                [*sent, e],
                key=f"id/{e.parsed.get('method')}",
            )
            break


# --------------------------------------------------------------------------- H1


@check(
    "http.get_stream",
    category="transport.http",
    severity="medium",
    title="GET on the MCP endpoint opens an SSE stream or answers 405",
    scope="session",
    rule="H1",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
    description="Handshake-era Streamable HTTP: a GET with Accept: text/event-stream and the session's "
    "headers must be answered text/event-stream, or 405 when the server offers no GET stream. "
    "401/403 (authorization) and 409 (a stream already open) are not judged.",
)
async def get_stream(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_only(ctx)
    t = ctx.session.transport if ctx.session is not None else None
    if not isinstance(t, StreamableHttpTransport):
        raise Skip("not a Streamable HTTP target")
    raw = await t.http("GET", headers={"Accept": "text/event-stream"}, window=1.0, note="GET stream (H1)")
    if raw.error and raw.status is None:
        raise Skip(f"GET got no HTTP answer ({raw.error})")
    if raw.status in (401, 403, 409):
        raise Skip(f"GET answered {raw.status}")
    if raw.status == 405 or (raw.status == 200 and raw.content_type == "text/event-stream"):
        return iter(())
    return iter([Violation(f"GET on the MCP endpoint answered {raw.status} {raw.content_type or '(no content type)'}; expected an SSE stream or 405", raw.entries, key="get")])

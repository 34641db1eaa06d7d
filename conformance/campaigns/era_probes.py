"""Active probes for rules that bind one protocol era only (spec-digest J11, V4, V6, M6, PR3).

Session checks of campaign "conformance" (the runner imports this module after
campaigns/rule_probes.py; registration order is run order). Each sends raw requests on a session
of the era the rule binds and judges what came back with a pure function below:

- jsonrpc.batch_accepted      2025-03-26: a batch of two pings and a notification is answered with
                              the two responses (an array on stdio and JSON bodies) (J11). Judged
                              in an era that negotiated 2025-03-26: under --protocol 2025-03-26,
                              or a server whose newest revision it is. A server that negotiates a
                              later revision is not bound by it in that era (batches were removed
                              in 2025-06-18), so it is skipped there with that reason.
- versions.legacy_initialize  2026-07-28: a modern-only server (one that refuses a legacy
                              initialize) names the versions it supports in that error (V4)
- versions.removed_methods    2026-07-28: on a modern-only server the methods the revision removed
                              (initialize, ping, logging/setLevel, resources/subscribe ...) answer
                              -32601, over HTTP with status 404 (V6)
- mrtr.missing_input          2026-07-28: a tool that asks for input (input_required) and is retried
                              without the input (inputResponses {} or only an unrequested key) asks
                              again instead of answering an error (M6)
- progress.own_stream         2026-07-28 Streamable HTTP: with a subscriptions/listen stream open,
                              tool calls asking for progress and logs get them on their own
                              response stream, never on the listen stream (PR3)

A server that answers a legacy initialize is dual-era: V4 and V6 do not bind it (it rightly
serves the handshake methods in its handshake era) and both checks are skipped with that reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Iterable, Iterator

from ..connect import open_session
from ..findings import Severity, Violation
from ..registry import SessionContext, Skip, check
from ..session import HANDSHAKE_LATEST, LATEST, Exchange, Session, id_key
from ..transport.base import TransportError
from ..transport.http import StreamableHttpTransport
from ..wirelog import WireEntry

R2 = "2025-03-26"
BATCH_WAIT = 5.0  # seconds at most to wait for the answer to a batch
LEGACY = "versions.legacy_initialize"  # memo key of the shared legacy-initialize probe


# --------------------------------------------------------------------------- J11


@check(
    "jsonrpc.batch_accepted",
    category="protocol.jsonrpc_shape",
    severity="medium",
    title="2025-03-26: a JSON-RPC batch is accepted and each of its requests answered",
    scope="session",
    rule="J11",
    level="MUST",
    revisions="2025-03-26",
    description="Sends [ping, notifications/cancelled (for an id never sent), ping] as one message in an "
    "era that negotiated 2025-03-26 (--protocol 2025-03-26, or a server whose newest revision it is). "
    "Both pings must be answered; a refused, partly answered or unanswered batch is medium. On stdio and "
    "JSON bodies the answers should come back as one array (JSON-RPC 2.0; low when they come one by one); "
    "over an SSE stream they may come as separate events. Skipped in eras of later revisions.",
)
async def batch_accepted(ctx: SessionContext) -> Iterator[Violation]:
    if ctx.stateless:
        raise Skip(f"a 2025-03-26 rule (this era is {ctx.revision})")
    if ctx.revision != R2:
        raise Skip(f"binds 2025-03-26 sessions only; this era negotiated {ctx.revision} (--protocol 2025-03-26 judges it)")
    return await _send_batch(ctx, ctx.session)


def batch_messages(s: Session) -> tuple[list[dict[str, Any]], list[Any]]:
    """The batch (two pings around a notification) and the ids of its requests."""
    first, second = s.build_request("ping", None, meta=False), s.build_request("ping", None, meta=False)
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "mcpcheck-batch-never-sent", "reason": "mcpcheck: a notification inside a JSON-RPC batch"}}
    return [first, note, second], [first["id"], second["id"]]


async def _send_batch(ctx: SessionContext, s: Session) -> Iterator[Violation]:
    batch, ids = batch_messages(s)
    data = json.dumps(batch).encode()
    wait = min(max(ctx.config.timeout, 1.0), BATCH_WAIT)
    note = "JSON-RPC batch (2025-03-26): two pings and a notification"
    t = s.transport
    if isinstance(t, StreamableHttpTransport):
        raw = await t.http("POST", body=data, window=wait, timeout=wait, note=note)
        if raw.error and raw.status is None and not raw.messages:
            raise Skip(f"the POST of the batch got no HTTP answer ({raw.error})")
        sent, replies = raw.entries[0] if raw.entries else None, [e for e in raw.entries[1:] if e.direction == "in"]
        return iter(list(check_batch(sent, ids, replies, wait=wait, streamed=raw.sse, status=raw.status)))
    if t.kind != "stdio":
        raise Skip(f"judged over stdio and Streamable HTTP (this target is {t.kind})")
    mark = s.wirelog.mark()
    sent = await s.send_raw(data, note=note)
    if sent is None:
        raise Skip("the batch could not be sent (the server is gone)")
    keys = {id_key(i) for i in ids}
    deadline = time.monotonic() + wait
    replies: list[WireEntry] = []
    while time.monotonic() < deadline:
        replies = [e for e in s.wirelog.since(mark) if e.direction == "in" and e.channel == "stdout"]
        if _settled(replies, keys):
            break
        await asyncio.sleep(0.05)
    # answers that came one by one reached the session as responses to ids it never asked (its own
    # requests, sent raw): they are this probe's, not unsolicited (jsonrpc.unsolicited_response)
    s.unmatched[:] = [e for e in s.unmatched if not (isinstance(e.parsed, dict) and id_key(e.parsed.get("id")) in keys)]
    return iter(list(check_batch(sent, ids, replies, wait=wait, streamed=False)))


def _flatten(replies: Iterable[WireEntry]) -> list[tuple[WireEntry, dict[str, Any], bool]]:
    """(entry, message, came inside an array) for every JSON-RPC object received."""
    out = []
    for e in replies:
        v = e.parsed
        if isinstance(v, list):
            out += [(e, m, True) for m in v if isinstance(m, dict)]
        elif isinstance(v, dict):
            out.append((e, v, False))
    return out


def _responses(replies: Iterable[WireEntry]) -> list[tuple[WireEntry, dict[str, Any], bool]]:
    return [r for r in _flatten(replies) if "method" not in r[1] and ("result" in r[1] or "error" in r[1])]


def _settled(replies: list[WireEntry], keys: set[str]) -> bool:
    """The batch's answer is complete: an array came, every request was answered, or an id-less
    error refused the whole batch."""
    if any(isinstance(e.parsed, list) for e in replies):
        return True
    got = {id_key(m.get("id")) for _, m, _ in _responses(replies)}
    return keys <= got or any(m.get("id") is None and "error" in m for _, m, _ in _responses(replies))


def _code(msg: dict[str, Any]) -> Any:
    err = msg.get("error")
    return err.get("code") if isinstance(err, dict) else None


def check_batch(sent: WireEntry | None, ids: list[Any], replies: list[WireEntry], *, wait: float, streamed: bool, status: int | None = None) -> Iterator[Violation]:
    """J11 over one batch: `replies` are the entries received for it (stdout lines, an HTTP body,
    SSE events); `streamed`: they came as SSE events (one response per event is allowed)."""
    keys = [id_key(i) for i in ids]
    evidence = [x for x in [sent, *replies[:6]] if x is not None]
    responses = _responses(replies)
    mine = {id_key(m.get("id")): (e, m, arr) for e, m, arr in responses if id_key(m.get("id")) in keys}
    if status is not None and status >= 400:
        code = next((_code(m) for _, m, _ in responses if "error" in m), None)
        yield Violation(f"a 2025-03-26 JSON-RPC batch was refused with HTTP {status}" + (f" (JSON-RPC error {code})" if code is not None else "") + "; 2025-03-26 servers must accept batches", evidence, key="refused")
        return
    missing = [i for i, k in zip(ids, keys) if k not in mine]
    if missing:
        refusal = next((m for _, m, _ in responses if m.get("id") is None and "error" in m), None)
        if refusal is not None:
            yield Violation(f"a 2025-03-26 JSON-RPC batch was refused with error {_code(refusal)!r}: {str((refusal.get('error') or {}).get('message'))[:120]}; 2025-03-26 servers must accept batches", evidence, key="refused")
        elif not responses:
            yield Violation(f"a 2025-03-26 JSON-RPC batch (two pings and a notification) got no answer within {wait:g}s; 2025-03-26 servers must accept batches", evidence, key="silent")
        else:
            yield Violation(f"a 2025-03-26 JSON-RPC batch was answered only in part: no response for request id(s) {missing!r}", evidence, key="partial")
        return
    failed = [(e, m) for e, m, _ in mine.values() if "error" in m]
    if failed:
        e, m = failed[0]
        yield Violation(f"ping id {m.get('id')!r} inside a 2025-03-26 batch was answered with error {_code(m)!r}: {str((m.get('error') or {}).get('message'))[:120]}", evidence, key="error")
        return
    if not streamed and not all(arr for _, _, arr in mine.values()):
        yield Violation(
            "the requests of a JSON-RPC batch were answered one by one, not as one array (JSON-RPC 2.0: the server should answer a batch with an array)",
            evidence,
            severity=Severity.low,
            level="JSON-RPC",
            key="not-array",
        )


# --------------------------------------------------------------------------- V4 / V6


async def legacy_initialize(ctx: SessionContext) -> Exchange:
    """A legacy client's opening: initialize (2025-11-25, no _meta envelope) on a fresh session,
    sent once per era and shared by V4 and V6."""

    async def ask() -> Exchange:
        try:
            s = await open_session(ctx.config, HANDSHAKE_LATEST, handshake=False)
        except TransportError as exc:
            raise Skip(f"a fresh session for a legacy initialize could not be opened ({exc})") from None
        try:
            return await s.initialize(HANDSHAKE_LATEST, send_initialized=False)
        finally:
            await s.close()

    return await ctx.once(LEGACY, ask)


def modern_only(ex: Exchange) -> bool:
    """Did the server refuse the legacy initialize (an error, or an HTTP error status)? Raises
    Skip when it served it (dual-era) or gave no answer to judge."""
    if ex.ok and isinstance(ex.result, dict):
        raise Skip(f"the server answered a legacy initialize (protocolVersion {ex.result.get('protocolVersion')!r}): a dual-era server, which this rule does not bind")
    if ex.answered:
        return True
    status = (ex.http or {}).get("status") if isinstance(ex.http, dict) else None
    if ex.response_entry is not None and isinstance(status, int) and status >= 400:
        return True
    why = "timed out" if ex.timed_out else (ex.transport_error or "no answer")
    raise Skip(f"a legacy initialize got no answer to judge ({why})")


def _require_modern(ctx: SessionContext) -> None:
    if not ctx.stateless:
        raise Skip(f"a 2026-07-28 rule (this era is {ctx.revision})")


async def _callable_tools(ctx: SessionContext) -> list[dict[str, Any]]:
    """The era's listed tools mcpcheck may call, read-only first; Skip when there is none."""
    from ..safety import callable_tools
    from .conformance import listing_of

    tools = callable_tools((await listing_of(ctx)).tools, ctx.config.safety)
    if not tools:
        raise Skip("no tool mcpcheck may call")
    return tools


def _supported(ctx: SessionContext) -> list[str]:
    result = ctx.session.discover_result if ctx.session is not None else None
    versions = result.get("supportedVersions") if isinstance(result, dict) else None
    out = [v for v in versions or [] if isinstance(v, str)]
    return out or [LATEST]


@check(
    "versions.legacy_initialize",
    category="protocol.version_negotiation",
    severity="low",
    title="2026-07-28: a modern-only server refusing initialize names the versions it supports",
    scope="session",
    rule="V4",
    level="SHOULD",
    revisions="2026-07-28",
    description="Sends a legacy initialize (2025-11-25, no _meta envelope) on a fresh session. A server that "
    "answers it is dual-era (skipped); one that refuses it should name one of the versions server/discover "
    "lists in the error's message or data (over HTTP: in the 4xx body).",
    isolated=True,
)
async def legacy_initialize_names_versions(ctx: SessionContext) -> Iterator[Violation]:
    _require_modern(ctx)
    ex = await legacy_initialize(ctx)
    modern_only(ex)
    return check_legacy_initialize(ex, _supported(ctx))


def _error_text(ex: Exchange) -> str:
    """What a legacy client could show its user: the JSON-RPC error (message and data), else the
    HTTP body."""
    if isinstance(ex.response, dict) and "error" in ex.response:
        return json.dumps(ex.response.get("error"))
    entry = ex.response_entry
    return entry.raw if entry is not None else ""


def check_legacy_initialize(ex: Exchange, supported: list[str]) -> Iterator[Violation]:
    text = _error_text(ex)
    if any(v in text for v in supported):
        return
    status = (ex.http or {}).get("status") if isinstance(ex.http, dict) else None
    what = f"error {ex.error_code!r}" if ex.answered else f"HTTP {status}"
    yield Violation(
        f"a legacy initialize was refused ({what}: {text[:160]!r}) without naming a supported version ({', '.join(supported)}); a legacy client has no other way to tell its user what the server speaks",
        ex.evidence(),
        key="no-versions",
    )


#: methods 2026-07-28 removed, with harmless parameters (the envelope is added by the session)
REMOVED = (
    ("initialize", {"protocolVersion": HANDSHAKE_LATEST, "capabilities": {}, "clientInfo": {"name": "mcpcheck", "version": "0"}}),
    ("ping", {}),
    ("logging/setLevel", {"level": "info"}),
    ("resources/subscribe", {"uri": "mcpcheck://removed-method-probe"}),
    ("resources/unsubscribe", {"uri": "mcpcheck://removed-method-probe"}),
    ("tasks/list", {}),
    ("tasks/result", {"taskId": "mcpcheck-removed-method-probe"}),
)


@check(
    "versions.removed_methods",
    category="protocol.error_codes",
    severity="low",
    title="2026-07-28: a modern-only server answers removed methods with -32601 (HTTP 404)",
    scope="session",
    rule="V6",
    level="-",
    revisions="2026-07-28",
    description="Only on a modern-only server (it refused a legacy initialize; a dual-era server is skipped): "
    "initialize, ping, logging/setLevel, resources/subscribe and unsubscribe, tasks/list and tasks/result, each "
    "with the 2026-07-28 _meta envelope, must be answered -32601 (over HTTP with status 404). The digest words "
    "no keyword: low.",
)
async def removed_methods(ctx: SessionContext) -> Iterator[Violation]:
    _require_modern(ctx)
    modern_only(await legacy_initialize(ctx))
    s = ctx.session
    answers = [await s.request(method, dict(params), meta=True) for method, params in REMOVED]
    return check_removed(answers, http=ctx.transport == "http")


def check_removed(answers: Iterable[Exchange], *, http: bool) -> Iterator[Violation]:
    for ex in answers:
        status = (ex.http or {}).get("status") if isinstance(ex.http, dict) else None
        if ex.ok:
            yield Violation(f"{ex.method}, removed in 2026-07-28, was served by a modern-only server (expected -32601)", ex.evidence(), key=ex.method)
        elif ex.answered and ex.error_code != -32601:
            yield Violation(f"{ex.method}, removed in 2026-07-28, was answered {ex.error_code!r}; expected -32601 (method not found)", ex.evidence(), key=ex.method)
        elif ex.answered and http and status is not None and status != 404:
            yield Violation(f"{ex.method}, removed in 2026-07-28, got -32601 with HTTP {status}; expected 404", ex.evidence(), key=f"{ex.method}/status")


# --------------------------------------------------------------------------- M6

MRTR_TOOLS = 6  # tools asked (once each) whether they want input
#: what the probe's requests declare (per request, in _meta): every input a 2026-07-28 server may ask for
INPUT_CAPS = {"elicitation": {"form": {}}, "sampling": {}, "roots": {}}
UNREQUESTED = "mcpcheck-unrequested"


@check(
    "mrtr.missing_input",
    category="protocol.lifecycle",
    severity="low",
    title="2026-07-28: a retry without the requested input gets a new InputRequiredResult, not an error",
    scope="session",
    rule="M6",
    level="SHOULD",
    revisions="2026-07-28",
    description=f"Up to {MRTR_TOOLS} tools mcpcheck may call (read-only first) are called once with their simplest "
    "valid arguments, the request declaring elicitation (form), sampling and roots. The first that answers "
    "input_required with inputRequests is retried twice, echoing its requestState: with inputResponses {} and with "
    f"only an unrequested key ({UNREQUESTED!r}). Each retry should be asked again (input_required), not refused "
    "with an error. mcpcheck never answers an input request (that would be acting for the user).",
)
async def missing_input(ctx: SessionContext) -> Iterator[Violation]:
    _require_modern(ctx)
    if "tools" not in ctx.capabilities:
        raise Skip("the server does not advertise tools")
    from mcpcheck import strategies

    tools = await _callable_tools(ctx)
    s = ctx.session
    meta = {"_meta": {"io.modelcontextprotocol/clientCapabilities": INPUT_CAPS}}
    for tool in tools[:MRTR_TOOLS]:
        schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
        try:
            args = await asyncio.to_thread(strategies.simplest, strategies.plan_valid(schema, revision=ctx.revision).strategy)
        except Exception:  # noqa: BLE001 - a schema mcpcheck cannot draw from: try the next tool
            continue
        params = {"name": tool["name"], "arguments": args}
        first = await s.request("tools/call", {**params, **meta})
        body = first.result if first.ok and isinstance(first.result, dict) else None
        if not (body and body.get("resultType") == "input_required" and isinstance(body.get("inputRequests"), dict) and body["inputRequests"]):
            continue
        state = {"requestState": body["requestState"]} if isinstance(body.get("requestState"), str) else {}
        retries = []
        for responses in ({}, {UNREQUESTED: {"action": "cancel"}}):
            retries.append(await s.request("tools/call", {**params, "inputResponses": responses, **state, **meta}))
        return check_missing_input(tool["name"], first, retries)
    raise Skip(f"none of the {min(len(tools), MRTR_TOOLS)} tools called asked for input (input_required with inputRequests)")


def check_missing_input(tool: str, first: Exchange, retries: list[Exchange]) -> Iterator[Violation]:
    asked = sorted((first.result or {}).get("inputRequests") or {})
    for ex in retries:
        sent = ((ex.request or {}).get("params") or {}).get("inputResponses")
        what = "inputResponses {}" if not sent else f"inputResponses with only the unrequested key {UNREQUESTED!r}"
        if ex.answered and not ex.ok:
            message = ex.error.get("message") if isinstance(ex.error, dict) else ex.error
            yield Violation(
                f"tool {tool!r} asked for input ({', '.join(asked)}); a retry with {what} was answered error {ex.error_code!r} "
                f"({str(message)[:120]!r}); a retry missing the input should get a new InputRequiredResult",
                [*first.evidence(), *ex.evidence()],
                tool=tool,
                key="empty" if not sent else "unrequested",
            )


# --------------------------------------------------------------------------- PR3

STREAM_TOOLS = 4  # tools called (once each, asking for progress and logs) while a listen stream is open
LISTEN_ACK_WAIT = 3.0  # seconds for the listen stream's acknowledgement
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
STREAM_NOTES = ("notifications/progress", "notifications/message")


@check(
    "progress.own_stream",
    category="transport.http",
    severity="low",
    title="2026-07-28 HTTP: progress and log notifications travel on their request's own response stream, never on a listen stream",
    scope="session",
    rule="PR3",
    level="-",
    revisions="2026-07-28",
    description=f"A fresh 2026-07-28 Streamable HTTP session opens a subscriptions/listen stream (asking for the "
    f"list_changed kinds the server declares), then calls up to {STREAM_TOOLS} tools mcpcheck may call (read-only "
    "first), each asking for progress (progressToken) and logs (_meta logLevel debug). Every notifications/progress "
    "must arrive on the SSE stream of the request that carried its token, and no progress or log notification on the "
    "listen stream. Skipped when no tool reports progress or logs, or the listen stream is refused. The digest words "
    "no keyword: low.",
)
async def own_stream(ctx: SessionContext) -> Iterator[Violation]:
    _require_modern(ctx)
    if not isinstance(ctx.session.transport if ctx.session is not None else None, StreamableHttpTransport):
        raise Skip("judged over Streamable HTTP (on stdio there is one pipe: no stream to tell apart)")
    if "tools" not in ctx.capabilities:
        raise Skip("the server does not advertise tools")
    from mcpcheck import strategies

    from ..connect import LISTEN_FLAGS
    tools = await _callable_tools(ctx)
    s = await open_session(ctx.config, ctx.revision or LATEST)
    try:
        caps = s.server_capabilities
        wanted = {flag: True for cap, flag in LISTEN_FLAGS.items() if isinstance(caps.get(cap), dict) and caps[cap].get("listChanged") is True}
        sub = await s.listen(wanted, min(LISTEN_ACK_WAIT, ctx.config.timeout))
        if sub.state != "open" or sub.exchange.request_entry is None:
            raise Skip(f"no listen stream to watch: {sub.detail}")
        calls = []
        for tool in tools[:STREAM_TOOLS]:
            schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
            try:
                args = await asyncio.to_thread(strategies.simplest, strategies.plan_valid(schema, revision=ctx.revision).strategy)
            except Exception:  # noqa: BLE001 - a schema mcpcheck cannot draw from: the next tool
                continue
            calls.append(await s.request("tools/call", {"name": tool["name"], "arguments": args, "_meta": {META_LOG_LEVEL: "debug"}}, progress=True))
        await s.quiet_period(0.3)  # a notification still on its way
        return iter(list(check_own_stream(sub.exchange, calls, list(s.wirelog.entries))))
    finally:
        await s.close()


def _stream_of(entry: WireEntry) -> Any:
    return (entry.http or {}).get("request_seq") if isinstance(entry.http, dict) else None


def check_own_stream(listen: Exchange, calls: list[Exchange], entries: list[WireEntry]) -> Iterator[Violation]:
    """PR3 over one session's recording: each progress/log notification's SSE stream (the POST it
    came back on, `http.request_seq`) is its own request's, never the listen stream."""
    listen_seq = listen.request_entry.seq if listen.request_entry is not None else None
    by_token = {id_key(ex.progress_token): ex for ex in calls if ex.progress_token is not None}
    notes = [e for e in entries if e.direction == "in" and isinstance(e.parsed, dict) and e.parsed.get("method") in STREAM_NOTES and "id" not in e.parsed]
    if not notes:
        raise Skip(f"none of the {len(calls)} tools called reported progress or logs: nothing to judge")
    for e in notes:
        method = e.parsed["method"]
        stream = _stream_of(e)
        params = e.parsed.get("params") if isinstance(e.parsed.get("params"), dict) else {}
        if stream is not None and stream == listen_seq:
            yield Violation(
                f"{method} arrived on the subscriptions/listen stream; progress and log notifications belong on their request's own response stream",
                [x for x in (listen.request_entry, e) if x is not None],
                key=f"listen/{method}",
            )
            continue
        if method == "notifications/progress":
            ex = by_token.get(id_key(params.get("progressToken")))
            own = ex.request_entry.seq if ex is not None and ex.request_entry is not None else None
            if ex is not None and stream is not None and own is not None and stream != own:
                yield Violation(
                    f"notifications/progress for the {ex.method} carrying token {params.get('progressToken')!r} arrived on another request's stream",
                    [x for x in (ex.request_entry, e) if x is not None],
                    key="other-stream",
                )

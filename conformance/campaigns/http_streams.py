"""Streams of a handshake-era Streamable HTTP session (spec-digest H6, H7) and the 2026-07-28
Mcp-Param-* headers (HS9): the probes.

Two `session` checks of the conformance campaign, each on a throwaway session of its own (opened
with the target's settings and ended with DELETE), so the campaign's live session keeps its
state and its own optional GET stream:

- http.get_stream_routing (H6, MUST NOT): opens two GET streams (a server may refuse the second:
  409/405 are fine), then sends ping, tools/list when tools are declared and logging/setLevel
  when logging is declared (a server may log about it). Judged: no JSON-RPC response arrives on
  a GET stream (none was opened with Last-Event-ID, so none resumes anything), and no message
  arrives on two streams, one of them a GET stream, within COPY_WINDOW seconds of each other (a
  broadcast; two POST streams may each carry a look-alike message about their own request). A
  server that sends nothing on its own can only show the first; the second needs a message.
- http.resumption (H7, MUST; resumability is optional): two requests answered as SSE streams;
  judged only when the server puts event ids on them. Event ids must be unique across the
  session's streams, and a GET with Last-Event-ID naming the first event of the first stream may
  replay only what followed that event on that stream: no message of the other stream, and no
  event at or before the named one. Replaying nothing, or refusing the GET, is allowed.

- http.stateless_param_headers (HS9, MUST; 2026-07-28): on a tool that carries a valid
  x-mcp-header annotation and that the safety policy lets mcpcheck call, a tools/call with valid
  arguments and the annotated header (a) naming another value than the body, (b) left out. Each
  must be refused with 400 + -32020 before the tool runs; a served call is high, a refusal with
  another code medium. (The annotations themselves are linted by the listing check
  tools.x_mcp_header, mcpcheck.checks.param_headers.)

The pure judgements (`judge_routing`, `judge_resumption`, `judge_param_headers`) take recorded
`RawHttp` exchanges and are unit-tested apart from the I/O.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Iterator

from ..checks.param_headers import PREFIX, annotated, param_headers, render, value_at
from ..connect import open_session
from ..findings import Severity, Violation
from ..registry import SessionContext, Skip, check
from ..session import Session
from ..transport.base import TransportError
from ..safety import may_call
from ..transport.http import SSE, RawHttp, StreamableHttpTransport, encode_header_value
from ..wirelog import WireEntry
from .conformance import listing_of

STREAM_WINDOW = 3.0  # seconds each GET stream is read
SETTLE = 0.5  # seconds between opening the GET streams and the first trigger
COPY_WINDOW = 1.0  # two identical messages this close together on two streams are one message sent twice


def _handshake_http(ctx: SessionContext) -> StreamableHttpTransport:
    if ctx.transport != "http":
        raise Skip("not a Streamable HTTP target")
    if ctx.stateless:
        raise Skip(f"a handshake-era rule (this era is {ctx.revision}: no GET stream, no resumability)")
    t = ctx.session.transport if ctx.session is not None else None
    if not isinstance(t, StreamableHttpTransport):
        raise Skip("not a Streamable HTTP target")
    return t


async def _throwaway(ctx: SessionContext) -> Session:
    try:
        return await open_session(ctx.config, ctx.revision or "2025-11-25")
    except TransportError as exc:
        raise Skip(f"a second session could not be opened: {str(exc)[:160]}") from exc


def _canon(msg: Any) -> str:
    return json.dumps(msg, sort_keys=True, separators=(",", ":"))


def _is_response(msg: Any) -> bool:
    return isinstance(msg, dict) and "method" not in msg and ("result" in msg or "error" in msg)


def _events(raw: RawHttp) -> list[WireEntry]:
    """The SSE events of one stream that carried a JSON-RPC message."""
    return [e for e in raw.entries if e.channel == "sse" and e.direction == "in" and e.parse_error is None and e.parsed is not None]


def _event_id(e: WireEntry) -> str | None:
    sse = (e.http or {}).get("sse") or {}
    return sse.get("id") if isinstance(sse.get("id"), str) else None


def _all_ids(raw: RawHttp) -> list[tuple[str, WireEntry]]:
    """Every event id on a stream, priming events included."""
    out = []
    for e in raw.entries:
        if e.channel == "sse" and e.direction == "in":
            eid = _event_id(e)
            if eid is not None:
                out.append((eid, e))
    return out


# =========================================================================== H6


@dataclass
class Stream:
    label: str  # "GET stream 1", "POST ping" ...
    raw: RawHttp
    get: bool


def judge_routing(streams: list[Stream]) -> Iterator[Violation]:
    """No response on a GET stream; no message on two streams (one a GET stream) within
    COPY_WINDOW seconds."""
    for st in streams:
        if not st.get:
            continue
        for e in _events(st.raw):
            if _is_response(e.parsed):
                answered = next((x for x in streams if not x.get and x.raw.answers(e.parsed.get("id"))), None)
                where = f" (it answers the request of {answered.label}, which got it on its own stream too)" if answered else ""
                yield Violation(
                    f"{st.label}, opened without Last-Event-ID, carried a JSON-RPC response (id {e.parsed.get('id')!r}){where}: "
                    "the GET stream must not carry responses unless it resumes a stream",
                    [st.raw.entries[0], e, *(answered.raw.entries[:1] if answered else [])],
                    key="response-on-get",
                )
                break
    seen: dict[str, list[tuple[Stream, WireEntry]]] = {}
    for st in streams:
        for e in _events(st.raw):
            if _is_response(e.parsed):
                continue  # responses on GET are judged above; a POST answers its own request
            seen.setdefault(_canon(e.parsed), []).append((st, e))
    for copies in seen.values():
        labels = {st.label for st, _ in copies}
        if len(labels) < 2 or not any(st.get for st, _ in copies):
            continue  # two POST streams may each carry a look-alike message about their own request
        times = [e.t for _, e in copies]
        if max(times) - min(times) > COPY_WINDOW:
            continue  # the same content sent again later (a periodic message), not one message twice
        first = copies[0][1].parsed
        what = first.get("method") if isinstance(first, dict) else "message"
        yield Violation(
            f"one {what} message was sent on {len(labels)} streams ({', '.join(sorted(labels))}) within "
            f"{max(times) - min(times):.2f}s: a server must send each message on only one of the connected streams (no broadcast)",
            [e for _, e in copies[:4]],
            key=f"broadcast/{what}",
        )
        break


@check(
    "http.get_stream_routing",
    category="transport.http",
    severity="high",
    title="The GET stream carries no responses and no message is broadcast on several streams",
    scope="session",
    rule="H6",
    level="MUST NOT",
    revisions="2025-03-26..2025-11-25",
    description=f"On a throwaway session: two GET streams (a second may be refused), then ping, tools/list and "
    f"logging/setLevel (when declared). A response on a GET stream, or one message on two streams (one of "
    f"them a GET stream) within {COPY_WINDOW:g} s, is a violation. Only messages the server sends during the probe can be counted.",
)
async def get_stream_routing(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_http(ctx)
    s2 = await _throwaway(ctx)
    try:
        t2 = s2.transport
        assert isinstance(t2, StreamableHttpTransport)
        gets = [
            asyncio.create_task(t2.http("GET", headers={"Accept": SSE}, window=STREAM_WINDOW, timeout=STREAM_WINDOW + 5.0, note=f"GET stream {i} (H6)"))
            for i in (1, 2)
        ]
        await asyncio.sleep(SETTLE)
        triggers: list[tuple[str, dict[str, Any] | None]] = [("ping", None)]
        caps = s2.server_capabilities
        if "tools" in caps:
            triggers.append(("tools/list", {}))
        if "logging" in caps:
            triggers.append(("logging/setLevel", {"level": "info"}))
        posts: list[Stream] = []
        for method, params in triggers:
            body = json.dumps(s2.build_request(method, params)).encode()
            raw = await t2.http("POST", body=body, note=f"{method} while GET streams are open (H6)")
            posts.append(Stream(f"POST {method}", raw, False))
        got = await asyncio.gather(*gets)
        opened = [Stream(f"GET stream {i}", raw, True) for i, raw in enumerate(got, 1) if raw.status == 200 and raw.content_type == SSE]
        if not opened:
            first = got[0]
            raise Skip(f"the server opened no GET stream ({first.summary()})")
        return iter(list(judge_routing(opened + posts)))
    finally:
        await s2.close()


# =========================================================================== H7


def judge_resumption(a: RawHttp, b: RawHttp, resumed: RawHttp | None, last_id: str | None, others: list[RawHttp] = ()) -> Iterator[Violation]:
    """Event ids unique over the session's streams (`a`, `b`, `resumed`, `others`); what GET with
    Last-Event-ID `last_id` (the first id of `a`) replayed: only events after it, of `a`."""
    owners: dict[str, tuple[str, WireEntry]] = {}
    streams = [("stream of the first request", a), ("stream of the second request", b)]
    streams += [(f"stream {i}", r) for i, r in enumerate(others, 3)]
    dup = None
    for label, raw in streams:
        for eid, e in _all_ids(raw):
            if eid in owners and dup is None:
                dup = (eid, owners[eid], (label, e))
            owners.setdefault(eid, (label, e))
    if dup is not None:
        eid, (l1, e1), (l2, e2) = dup
        where = "twice on the " + l1 if l1 == l2 else f"on the {l1} and on the {l2}"
        yield Violation(
            f"SSE event id {eid!r} was used {where}: event ids must be unique across all streams of a session "
            "(a client resuming with Last-Event-ID cannot tell them apart)",
            [e1, e2],
            key="duplicate-id",
        )
    if resumed is None or last_id is None or resumed.status != 200 or resumed.content_type != SSE:
        return
    ids_a = [eid for eid, _ in _all_ids(a)]
    at = ids_a.index(last_id) if last_id in ids_a else -1
    before = {_canon(e.parsed) for e in _events(a) if _event_id(e) in ids_a[: at + 1]}
    after = {_canon(e.parsed) for e in _events(a) if _event_id(e) not in ids_a[: at + 1]}
    other = {_canon(e.parsed): e for e in _events(b)}
    for e in _events(resumed):
        c = _canon(e.parsed)
        if c in after:
            continue
        if c in other:
            yield Violation(
                f"GET with Last-Event-ID {last_id!r} (an event of the first request's stream) replayed a message of "
                "another stream: a server must not replay messages that would have been delivered on a different stream",
                [resumed.entries[0], e, other[c]],
                key="cross-stream",
            )
            return
        if c in before:
            yield Violation(
                f"GET with Last-Event-ID {last_id!r} replayed a message the client had already received at or before that "
                "event: only the messages after it may be replayed",
                [resumed.entries[0], e],
                key="replayed-old",
            )
            return
        if _is_response(e.parsed) and not a.answers(e.parsed.get("id")):
            yield Violation(
                f"GET with Last-Event-ID {last_id!r} replayed a response to id {e.parsed.get('id')!r}, which the resumed "
                "stream never carried: only that stream's missed messages may be replayed",
                [resumed.entries[0], e],
                key="cross-stream",
            )
            return


@check(
    "http.resumption",
    category="transport.http",
    severity="medium",
    title="SSE event ids are unique across a session's streams; Last-Event-ID replays only that stream",
    scope="session",
    rule="H7",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
    description="Resumability is optional: judged only when the server puts ids on its SSE events. On a throwaway "
    "session, two requests answered as SSE; then GET with Last-Event-ID naming the first event of the first stream.",
)
async def resumption(ctx: SessionContext) -> Iterator[Violation]:
    _handshake_http(ctx)
    s2 = await _throwaway(ctx)
    try:
        t2 = s2.transport
        assert isinstance(t2, StreamableHttpTransport)
        second = "tools/list" if "tools" in s2.server_capabilities else "ping"
        a = await t2.http("POST", body=json.dumps(s2.build_request("ping")).encode(), note="first stream (H7)")
        b = await t2.http("POST", body=json.dumps(s2.build_request(second, {} if second != "ping" else None)).encode(), note="second stream (H7)")
        if not (a.sse or b.sse):
            raise Skip("the server answered without SSE streams (JSON responses): nothing to resume")
        ids_a = _all_ids(a)
        if not ids_a and not _all_ids(b):
            raise Skip("the server puts no ids on its SSE events: resumability not offered (optional)")
        resumed = None
        last = ids_a[0][0] if ids_a else None
        if last is not None:
            resumed = await t2.http("GET", headers={"Accept": SSE, "Last-Event-ID": last}, window=1.5, timeout=8.0, note="resume the first stream with Last-Event-ID (H7)")
        return iter(list(judge_resumption(a, b, resumed, last)))
    finally:
        await s2.close()


# =========================================================================== HS9

HEADER_MISMATCH = -32020


def judge_param_headers(cases: list[tuple[str, str, RawHttp]]) -> Iterator[Violation]:
    """Each (case key, what was wrong, answer) must be 400 + -32020."""
    for case, what, raw in cases:
        if raw.status is None:
            continue
        code = raw.error_code
        if raw.status == 400 and code == HEADER_MISMATCH:
            continue
        if raw.has_result or (raw.ok and code is None):
            yield Violation(
                f"tools/call with {what} was served ({raw.summary()}): the server must compare Mcp-Param-* headers with the "
                "body and refuse a mismatch with 400 + -32020 before the tool runs",
                raw.entries[:2],
                key=f"served/{case}",
            )
        else:
            yield Violation(
                f"tools/call with {what} was refused with {raw.summary()}; the rule asks for HTTP 400 with JSON-RPC error -32020",
                raw.entries[:2],
                severity=Severity.medium,
                key=f"code/{case}",
            )


def _other_value(kind: str, value: Any) -> Any:
    if kind == "boolean":
        return not value
    if kind == "integer":
        return int(value) + 1
    return f"{value}-mcpcheck-other"


@check(
    "http.stateless_param_headers",
    category="transport.http",
    severity="high",
    title="A tools/call whose Mcp-Param-* header is missing or differs from the body is refused: 400 + -32020",
    scope="session",
    rule="HS9",
    level="MUST",
    revisions="2026-07-28",
    description="Only on a tool with a valid x-mcp-header annotation that the safety policy lets mcpcheck call (a server "
    "that does not check the header runs the tool): valid arguments, the annotated header with another value, then left out.",
)
async def stateless_param_headers(ctx: SessionContext) -> Iterator[Violation]:
    if ctx.transport != "http":
        raise Skip("not a Streamable HTTP target")
    if not ctx.stateless:
        raise Skip(f"2026-07-28 rule (this era is {ctx.revision})")
    s = ctx.session
    t = s.transport if s is not None else None
    if not isinstance(t, StreamableHttpTransport):
        raise Skip("not a Streamable HTTP target")
    if "tools" not in ctx.capabilities:
        raise Skip("the server does not advertise tools")
    listing = await listing_of(ctx)
    marked = [x for x in listing.tools if isinstance(x, dict) and isinstance(x.get("name"), str) and annotated(x.get("inputSchema"))]
    if not marked:
        raise Skip("no tool carries a valid x-mcp-header annotation")
    callable_ = [x for x in marked if may_call(x, ctx.config.safety) is None]
    if not callable_:
        raise Skip(f"the safety policy forbids calling every annotated tool ({', '.join(x['name'] for x in marked[:5])})")
    from .tool_probes import valid_inputs  # here: importing it above would register its probes before later modules'

    for tool in callable_:
        schema = tool["inputSchema"]
        try:
            inputs = await valid_inputs(schema, ctx.revision, 10)
        except Exception:  # noqa: BLE001 - a schema mcpcheck cannot generate for: try the next tool
            continue
        for args in inputs:
            for path, name, kind in annotated(schema):
                value = value_at(args, path)
                if render(value) is None:
                    continue
                good = param_headers(schema, args, encode_header_value)
                header = PREFIX + name
                body = json.dumps(s.build_request("tools/call", {"name": tool["name"], "arguments": args})).encode()
                wrong = encode_header_value(render(_other_value(kind, value)) or "mcpcheck-other")
                mismatch = await t.http("POST", body=body, headers={**good, header: wrong}, note=f"{header} differing from the body (HS9)")
                body2 = json.dumps(s.build_request("tools/call", {"name": tool["name"], "arguments": args})).encode()
                missing = await t.http("POST", body=body2, headers={**good, header: None}, note=f"{header} left out (HS9)")
                arg = ".".join(path)
                cases = [("mismatch", f"{header} differing from the body's {arg!r} argument", mismatch), ("missing", f"{header} missing while the body's {arg!r} argument is present", missing)]
                return iter(list(judge_param_headers(cases)))
    raise Skip("no valid arguments with a value for an annotated property could be generated")

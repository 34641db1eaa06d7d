"""Streamable HTTP transport rules as pure judgements (spec-digest §4.2 H2-H5, §4.3 HS2-HS4).

The probes that send the requests live in mcpcheck.campaigns.http_rules; the functions here
judge what was recorded: `RawHttp` answers and WireLog entries (each outgoing HTTP request
entry is linked to the entries of its response by the `request_seq` the transport puts in every
response entry's http dict). Two rules are judged here over the whole recording of every HTTP
session of every campaign (scope `log`): `http.response_content_type` (H4) and `http.sse_strict`
(H5). Evidence is always the recorded entries.

Severity policy (shared with the probes): a MUST that is plainly broken is high; a refusal with
the wrong status is medium; SHOULD-level deviations are medium or low; SDK conventions are info.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..findings import Severity, Violation
from ..registry import LogContext, SessionLog, Skip, check
from ..transport.http import JSON, SSE, RawHttp, media_type
from ..wirelog import WireEntry, WireLog

EVIL_ORIGIN = "http://evil.example"


def _is_4xx(raw: RawHttp) -> bool:
    return raw.status is not None and 400 <= raw.status < 500


def check_origin(raw: RawHttp, revision: str | None) -> Iterator[Violation]:
    if raw.error or raw.status is None:
        return  # no verdict without an HTTP answer
    if raw.status == 403:
        return
    ev = raw.entries
    if raw.ok:
        yield Violation(
            f"a request with `Origin: {EVIL_ORIGIN}` was served ({raw.summary()}): the server does not validate Origin, "
            "so a web page can drive it through DNS rebinding",
            ev,
            key="accepted",
        )
    elif _is_4xx(raw):
        if (revision or "") >= "2025-11-25":
            yield Violation(
                f"a hostile Origin was refused with HTTP {raw.status}; from 2025-11-25 on it MUST be 403 Forbidden",
                ev,
                severity=Severity.medium,
                key="status",
            )
    else:
        yield Violation(
            f"a hostile Origin was answered HTTP {raw.status} ({raw.summary()}), not refused with "
            + ("403" if (revision or "") >= "2025-11-25" else "a 4xx"),
            ev,
            severity=Severity.medium,
            key="status",
        )


def check_notification_ack(sent: WireEntry, raw: RawHttp) -> Iterator[Violation]:
    """H3/HS3: an accepted notification/response: 202, no body; refused: any 4xx/5xx."""
    if raw.error or raw.status is None:
        return
    msg = sent.parsed if isinstance(sent.parsed, dict) else {}
    what = f"notification {msg.get('method')!r}" if "method" in msg else "a POSTed JSON-RPC response"
    if raw.status >= 400:
        return  # "cannot accept" -> an HTTP error status is allowed (MAY carry an id-less error)
    body = raw.body if not raw.sse else (raw.body or f"<SSE stream, {raw.sse_events} events>")
    if raw.status == 202:
        if body.strip():
            yield Violation(f"{what} was answered 202 with a body ({body[:120]!r}); 202 MUST have no body", raw.entries, key=f"{raw.status}/body")
        return
    yield Violation(
        f"{what} was answered HTTP {raw.status} ({raw.headers.get('content-type') or 'no Content-Type'}"
        + (f", body {body[:80]!r}" if body.strip() else ", empty body")
        + "); an accepted notification or response MUST get 202 Accepted with no body",
        raw.entries,
        key=f"{raw.status}",
    )


def _valid_request(msg: Any) -> bool:
    if not isinstance(msg, dict) or not isinstance(msg.get("method"), str) or "id" not in msg:
        return False
    rid = msg["id"]
    return isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool))


def http_pairs(log: WireLog | Iterable[WireEntry]) -> list[tuple[WireEntry, list[WireEntry]]]:
    """Each outgoing HTTP request entry with the entries recorded for its response (linked by
    the `request_seq` the transport puts in every response entry's http dict)."""
    entries = log.entries if isinstance(log, WireLog) else list(log)
    outs: dict[int, tuple[WireEntry, list[WireEntry]]] = {}
    order: list[int] = []
    for e in entries:
        if e.direction == "out" and e.channel == "http" and e.http:
            outs[e.seq] = (e, [])
            order.append(e.seq)
        elif e.direction == "in" and e.http and isinstance(e.http.get("request_seq"), int):
            item = outs.get(e.http["request_seq"])
            if item is not None:
                item[1].append(e)
    return [outs[s] for s in order]


def _status_of(responses: list[WireEntry]) -> tuple[int | None, str]:
    for e in responses:
        st = (e.http or {}).get("status")
        if isinstance(st, int):
            ct = ((e.http or {}).get("headers") or {}).get("content-type", "")
            return st, ct
    return None, ""


def check_content_types(pairs: list[tuple[WireEntry, list[WireEntry]]]) -> Iterator[Violation]:
    """H4/HS3: a POSTed request that the server answers with 2xx gets JSON or SSE.
    Error statuses are HTTP-level refusals and may carry any body."""
    for out, responses in pairs:
        if (out.http or {}).get("method") != "POST" or not _valid_request(out.parsed):
            continue
        status, ct = _status_of(responses)
        if status is None or not 200 <= status < 300:
            continue
        mt = media_type(ct)
        if mt in (JSON, SSE):
            continue
        method = out.parsed.get("method")
        if status == 202 or not mt:
            body = next((e.raw for e in responses if e.channel == "http"), "")
            detail = f"request {method!r} was answered HTTP {status} with " + (f"no Content-Type and body {body[:80]!r}" if body else "no body")
        else:
            detail = f"request {method!r} was answered HTTP {status} with Content-Type {ct!r}"
        yield Violation(
            detail + "; a request MUST be answered with application/json (one JSON object) or text/event-stream",
            [out, *responses[:3]],
            key=f"{status}/{mt}",
        )


def check_sse(entries: Iterable[WireEntry], stateless: bool) -> Iterator[Violation]:
    """H5/HS4 over every recorded SSE event and SSE stream problem.

    An event a resumption GET (Last-Event-ID) replays whose id was first sent on ANOTHER stream is
    a cross-stream replay, the H7 defect http.resumption reports; what it carries is not judged
    again here (server-everything's store replays another stream's priming event as `data: {}`:
    one cause, one finding)."""
    first_stream: dict[str, Any] = {}  # SSE event id -> the request (stream) it was first seen on
    resumes: set[int] = set()  # seqs of GET requests carrying Last-Event-ID
    for e in entries:
        http = e.http or {}
        if e.direction == "out" and http.get("method") == "GET" and any(k.lower() == "last-event-id" for k in (http.get("headers") or {})):
            resumes.add(e.seq)
        if e.channel == "sse" and e.direction == "in":
            if http.get("method") == "GET" and e.note == "endpoint event":
                continue  # legacy HTTP+SSE endpoint event: its data is a URI
            sse = http.get("sse") or {}
            for problem in sse.get("problems") or []:
                yield Violation(f"SSE event with {problem}", [e], severity=Severity.low, key=f"field:{problem[:40]}")
            eid, stream = sse.get("id"), http.get("request_seq")
            if eid is not None:
                if stream in resumes and first_stream.setdefault(eid, stream) != stream:
                    continue  # another stream's event replayed on a resumption GET: http.resumption's (H7)
                first_stream.setdefault(eid, stream)
            if not e.raw.strip():
                continue  # priming / keep-alive
            if e.parse_error is not None:
                yield Violation(f"SSE event data is not JSON ({e.parse_error}): {e.raw[:120]!r}", [e], key="not-json")
                continue
            msg = e.parsed
            if isinstance(msg, list):
                continue  # a batch (2025-03-26) is judged by the JSON-RPC checks
            if not isinstance(msg, dict) or not any(k in msg for k in ("method", "result", "error")):
                yield Violation(f"SSE event data is JSON but not a JSON-RPC message: {e.raw[:120]!r}", [e], key="not-jsonrpc")
                continue
            event_type = sse.get("event", "message")
            if event_type != "message":
                yield Violation(
                    f"a JSON-RPC message was sent as SSE event type {event_type!r}; clients only read `message` events",
                    [e],
                    severity=Severity.low,
                    key=f"type:{event_type}",
                )
            if stateless and http.get("method") == "POST" and "method" in msg and msg.get("id") is not None:
                yield Violation(
                    f"the server sent a JSON-RPC request ({msg.get('method')!r}) on a 2026-07-28 response stream; it MUST NOT "
                    "(server-to-client input travels in an InputRequiredResult)",
                    [e],
                    key="request",
                )
        elif e.channel == "event" and e.note == "sse-problem":
            text = e.raw
            if "UTF-8" in text:
                yield Violation(text, [e], key="utf8")
            elif "middle of an event (data" in text:
                yield Violation(text + " (that message is lost for a conforming client)", [e], key="cut-data")
            else:
                yield Violation(text, [e], severity=Severity.low, key=text[:60])


def check_accept(cases: list[tuple[str, tuple[str, ...] | None, RawHttp]]) -> Iterator[Violation]:
    """Observations only (info): what happens with an Accept or Content-Type a conforming
    client would not send. 406/415/400 or serving anyway are both fine."""
    notes = []
    ev: list[WireEntry] = []
    for what, accepts, raw in cases:
        if raw.error:
            notes.append(f"{what}: {raw.error}")
        elif raw.status is not None and raw.status >= 500:
            notes.append(f"{what}: HTTP {raw.status}")
        elif raw.ok and accepts is not None and raw.content_type and raw.content_type not in accepts:
            notes.append(f"{what}: answered {raw.content_type}, which the client did not accept")
        else:
            continue
        ev.extend(raw.entries[:2])
    if notes:
        yield Violation("; ".join(notes), ev[:8], severity=Severity.info, key="|".join(notes)[:200])


# =========================================================================== probes


def raw_from(out: WireEntry, responses: list[WireEntry]) -> RawHttp:
    """Rebuild a RawHttp view from recorded entries (for traffic the session sent)."""
    raw = RawHttp(method=(out.http or {}).get("method", "POST"), url=(out.http or {}).get("url", ""), entries=[out, *responses])
    bodies = []
    for e in responses:
        http = e.http or {}
        if raw.status is None and isinstance(http.get("status"), int):
            raw.status = http["status"]
            raw.headers = dict(http.get("headers") or {})
        if e.channel == "event" and raw.status is None:
            raw.error = e.raw
        if e.channel in ("http", "sse") and e.raw:
            bodies.append(e.raw)
            if e.channel == "sse":
                raw.sse = True
                raw.sse_events += 1
            if e.parse_error is None and e.parsed is not None:
                raw.messages.extend(e.parsed if isinstance(e.parsed, list) else [e.parsed])
    raw.body = "\n".join(bodies)
    return raw


def notification_posts(log: WireLog | Iterable[WireEntry]) -> list[tuple[WireEntry, RawHttp]]:
    """Every POSTed notification or JSON-RPC response with the answer it got (H3/HS3's input)."""
    out_pairs = []
    for out, responses in http_pairs(log):
        m = out.parsed
        if (out.http or {}).get("method") != "POST" or not isinstance(m, dict):
            continue
        if "id" in m and "method" in m:
            continue  # a request
        if "method" not in m and not ("result" in m or "error" in m):
            continue  # not a message at all
        out_pairs.append((out, raw_from(out, responses)))
    return out_pairs


def _served_requests(pairs: list[tuple[WireEntry, list[WireEntry]]]) -> int:
    """How many POSTed requests got a 2xx (what check_content_types judges)."""
    n = 0
    for out, responses in pairs:
        if (out.http or {}).get("method") == "POST" and _valid_request(out.parsed):
            status, _ct = _status_of(responses)
            n += status is not None and 200 <= status < 300
    return n


def _sse_seen(entries: Iterable[WireEntry]) -> bool:
    return any((e.channel == "sse" and e.direction == "in") or (e.channel == "event" and e.note == "sse-problem") for e in entries)


def require_http(transport: str) -> None:
    """Skip a check on anything but a Streamable HTTP target."""
    if transport != "http":
        raise Skip("not a Streamable HTTP target")


# =========================================================================== over every HTTP session


@check(
    "http.response_content_type",
    category="transport.http",
    severity="high",
    title="Every request is answered with Content-Type application/json or text/event-stream",
    scope="log",
    rule="H4/HS3",
    level="MUST",
    revisions="2025-03-26..",
)
def response_content_type(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    require_http(ctx.transport)
    pairs = http_pairs(log.entries)
    if not _served_requests(pairs):
        raise Skip("no POSTed request was answered with a 2xx")
    return check_content_types(pairs)


@check(
    "http.sse_strict",
    category="transport.http",
    severity="high",
    title="SSE responses parse strictly and every event's data is a JSON-RPC message",
    scope="log",
    rule="H5/HS4",
    level="MUST",
    revisions="2025-03-26..",
    description="Comments, priming events (id + empty data) and retry are fine; non-JSON data, invalid UTF-8, an "
    "event cut off by the end of the stream, and (2026-07-28) server requests on a response stream are not.",
)
def sse_strict(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    require_http(ctx.transport)
    if not _sse_seen(log.entries):
        raise Skip("the server sent no SSE stream")
    return check_sse(log.entries, ctx.stateless)

"""JSON-RPC 2.0 envelope rules (spec-digest §1), as pure functions over recorded exchanges."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..findings import Severity, Violation, register
from ..session import Exchange
from ..wirelog import WireEntry

RESPONSE_SHAPE = register(
    "jsonrpc.response_shape",
    "protocol.jsonrpc_shape",
    "high",
    "Responses are well-formed JSON-RPC 2.0",
    rule="J1/J4/J5",
    level="MUST",
    description='"jsonrpc":"2.0", exactly one of result/error, integer error code, string message, result an object.',
)
ID_ECHO = register(
    "jsonrpc.id_echo",
    "protocol.jsonrpc_shape",
    "high",
    "Response id echoes the request id with the same type",
    rule="J4",
    level="MUST",
)
UNSOLICITED = register(
    "jsonrpc.unsolicited_response",
    "protocol.jsonrpc_shape",
    "medium",
    "No responses to ids the client never sent",
    rule="J4",
    level="MUST",
)
NOTIFICATION_NO_REPLY = register(
    "jsonrpc.notification_no_reply",
    "protocol.notification_response",
    "high",
    "Notifications are never answered",
    rule="J7",
    level="MUST NOT",
)
NULL_ID = register(
    "jsonrpc.null_id_rejected",
    "protocol.jsonrpc_shape",
    "medium",
    "A request with id null is rejected, not executed",
    rule="J2",
    level="MUST",
    description="MCP forbids null ids; a server must not treat such a message as a valid request.",
)
INVALID_REQUEST = register(
    "jsonrpc.invalid_request",
    "protocol.jsonrpc_shape",
    "medium",
    "Malformed requests get an error, never a result",
    rule="J6/J8",
    level="MUST",
)
BATCH = register(
    "jsonrpc.batch_rejected",
    "protocol.jsonrpc_shape",
    "medium",
    "JSON-RPC batches are rejected (removed in 2025-06-18)",
    rule="J12",
    level="-",
    revisions="2025-06-18..",
)
STDOUT = register(
    "stdio.stdout_pollution",
    "protocol.stdout_pollution",
    "high",
    "stdout carries only JSON-RPC messages, one per line",
    rule="S1",
    level="MUST NOT",
)
GARBAGE = register(
    "stdio.survives_garbage",
    "protocol.crash",
    "high",
    "The server keeps serving after a line that is not JSON",
    rule="S5",
    level="-",
)
NO_HANG = register(
    "robustness.no_hang",
    "robustness.timeout",
    "high",
    "Every request is answered within the timeout",
    rule="T11",
    level="MUST",
)
CRASH = register(
    "robustness.no_crash",
    "protocol.crash",
    "critical",
    "The server process does not die or drop the connection",
    rule="T11",
    level="MUST",
)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_response_shape(ex: Exchange) -> Iterator[Violation]:
    msg = ex.response
    if msg is None:
        return
    ev = ex.evidence()
    if msg.get("jsonrpc") != "2.0":
        yield Violation(f'{ex.method}: response has "jsonrpc": {msg.get("jsonrpc")!r}, expected "2.0"', ev, path="/jsonrpc", key=f"{ex.method}/jsonrpc")
    has_result, has_error = "result" in msg, "error" in msg
    if has_result == has_error:
        what = "both result and error" if has_result else "neither result nor error"
        yield Violation(f"{ex.method}: response carries {what}", ev, key=f"{ex.method}/xor")
    if has_error:
        err = msg["error"]
        if not isinstance(err, dict):
            yield Violation(f"{ex.method}: error member is {type(err).__name__}, not an object", ev, path="/error", key=f"{ex.method}/errobj")
        else:
            if not _is_int(err.get("code")):
                yield Violation(f"{ex.method}: error.code is {err.get('code')!r} ({type(err.get('code')).__name__}), not an integer", ev, path="/error/code", key=f"{ex.method}/code")
            if not isinstance(err.get("message"), str):
                yield Violation(f"{ex.method}: error.message is {err.get('message')!r}, not a string", ev, path="/error/message", key=f"{ex.method}/message")
    elif has_result and not isinstance(msg["result"], dict):
        yield Violation(f"{ex.method}: result is {type(msg['result']).__name__}, MCP results are objects", ev, path="/result", key=f"{ex.method}/resobj")


def check_id_echo(ex: Exchange) -> Iterator[Violation]:
    if ex.response is None or not isinstance(ex.request, dict):
        return
    sent, got = ex.request.get("id"), ex.response.get("id")
    if ex.loose_id_match or type(sent) is not type(got) or sent != got:
        yield Violation(
            f"{ex.method}: request id {sent!r} ({type(sent).__name__}) answered with id {got!r} ({type(got).__name__})",
            ex.evidence(),
            path="/id",
            key=f"{type(sent).__name__}->{type(got).__name__}",
        )


def check_unsolicited(unmatched: Iterable[WireEntry], sent_ids: set[str]) -> Iterator[Violation]:
    """Responses whose id we never used (late answers to timed-out requests are not counted)."""
    import json

    for entry in unmatched:
        msg = entry.parsed
        if not isinstance(msg, dict):
            continue
        if json.dumps(msg.get("id"), sort_keys=True) in sent_ids:
            continue
        if msg.get("id") is None:
            continue  # judged by the notification / parse-error checks
        yield Violation(f"response for id {msg.get('id')!r}, which the client never sent", [entry], key=str(msg.get("id")))


def check_notification_silence(sent: WireEntry | None, replies: list[WireEntry]) -> Iterator[Violation]:
    """After a notification, nothing that looks like a response may arrive (J7)."""
    for e in replies:
        msg = e.parsed
        if isinstance(msg, dict) and "method" not in msg and ("result" in msg or "error" in msg):
            method = sent.parsed.get("method") if sent and isinstance(sent.parsed, dict) else "?"
            yield Violation(f"the server answered the notification {method}", [x for x in (sent, e) if x], key=str(method))
            return


def check_null_id(ex: Exchange) -> Iterator[Violation]:
    if ex.response is None:
        # Silently dropping it is what many SDKs do; JSON-RPC would answer -32600. Not a violation.
        yield Violation(
            "a request with id null was silently dropped (JSON-RPC 2.0 would answer -32600 Invalid Request)",
            ex.evidence(),
            severity=Severity.info,
            key="silent",
        )
        return
    if "result" in ex.response:
        yield Violation("a request with id null was executed and answered with a result", ex.evidence(), key="executed")


def check_rejected(ex: Exchange, what: str, expect: tuple[int, ...]) -> Iterator[Violation]:
    """A malformed message must not produce a result. No answer is tolerated (info)."""
    if ex.response is None:
        if ex.transport_error is None:
            yield Violation(f"{what}: no answer (JSON-RPC 2.0 expects error {'/'.join(map(str, expect))})", ex.evidence(), severity=Severity.info, key=f"{what}/silent")
        return
    if "result" in ex.response:
        yield Violation(f"{what}: answered with a result instead of an error", ex.evidence(), key=f"{what}/result")
    elif ex.error_code not in expect:
        yield Violation(
            f"{what}: error code {ex.error_code!r}, expected {' or '.join(map(str, expect))}",
            ex.evidence(),
            severity=Severity.low,
            key=f"{what}/code",
        )


def check_batch_reply(replies: list[WireEntry], sent: WireEntry | None) -> Iterator[Violation]:
    for e in replies:
        if isinstance(e.parsed, list) and any(isinstance(m, dict) and "result" in m for m in e.parsed):
            yield Violation("a JSON-RPC batch (removed in 2025-06-18) was executed", [x for x in (sent, e) if x], key="batch")
            return


def check_stdout_lines(entries: Iterable[WireEntry]) -> Iterator[Violation]:
    """S1: every stdout line is exactly one JSON-RPC message."""
    for e in entries:
        if e.channel != "stdout":
            continue
        if e.parse_error is not None:
            shown = e.raw if len(e.raw) < 120 else e.raw[:120] + "..."
            yield Violation(f"stdout line is not JSON: {shown!r}", [e], key="not-json")
            return
        msg = e.parsed
        if isinstance(msg, list):
            continue  # batches are judged elsewhere
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            yield Violation(f"stdout line is JSON but not a JSON-RPC message: {e.raw[:120]!r}", [e], key="not-jsonrpc")
            return


def check_no_hang(ex: Exchange) -> Iterator[Violation]:
    if ex.timed_out:
        yield Violation(f"{ex.method} got no response within the timeout", ex.evidence(), key=ex.method)

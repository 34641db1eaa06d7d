"""Checks of the session-level envelope fuzzer (campaign "envelope"): how a server answers
JSON-RPC messages that are malformed on purpose (strategies/jsonrpc.py labels each one with the
answer it deserves).

Severities follow the spec-digest's levels:
  * the error *codes* (-32700/-32600/-32601/-32602) are JSON-RPC 2.0 conventions that MCP repeats
    without a MUST (J6, J8): a wrong code is `low`, no answer at all is an `info` observation;
  * executing a malformed message (a `result` where an error belongs) breaks J2/J6 (MUST): `medium`;
  * answering a notification breaks J7 (MUST NOT): `high`; a malformed error object breaks J5 (MUST): `high`;
  * dying breaks T11/S5: `critical`; going unresponsive: `high`; non-protocol stdout breaks S1 (MUST NOT): `high`.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..findings import CheckSpec, Severity, Violation
from ..registry import register
from ..wirelog import WireEntry

PARSE_ERROR = register(
    "envelope.parse_error",
    "protocol.error_codes",
    "low",
    "Input that is not JSON gets -32700 Parse error (or no answer), never a result",
    rule="J6/J8",
    level="JSON-RPC",
    campaign="envelope",
    description="not JSON, truncated JSON, trailing garbage, invalid UTF-8. No answer is an info observation.",
)
INVALID_REQUEST = register(
    "envelope.invalid_request",
    "protocol.error_codes",
    "low",
    "JSON that is not a valid request gets -32600 Invalid Request (or no answer), never a result",
    rule="J2/J6/J8/J12",
    level="MUST (no execution) / JSON-RPC (code)",
    campaign="envelope",
    description="wrong jsonrpc, missing or non-string method, bad id types (null, float, bool, object), scalars, {}, batches, stray responses.",
)
METHOD_NOT_FOUND = register(
    "envelope.method_not_found",
    "protocol.error_codes",
    "low",
    "Requests for unknown methods (also huge ones) get -32601 Method not found",
    rule="J8",
    level="JSON-RPC",
    campaign="envelope",
)
INVALID_PARAMS = register(
    "envelope.invalid_params",
    "protocol.error_codes",
    "low",
    "Requests with params of the wrong shape (or absurdly deep) get -32602 Invalid params (-32600 accepted)",
    rule="J8/T9",
    level="JSON-RPC",
    campaign="envelope",
)
NOTIFICATION = register(
    "envelope.notification_silent",
    "protocol.notification_response",
    "high",
    "Unknown notifications are never answered",
    rule="J7",
    level="MUST NOT",
    campaign="envelope",
)
ERROR_SHAPE = register(
    "envelope.error_shape",
    "protocol.jsonrpc_shape",
    "high",
    "Error answers to malformed messages are well-formed JSON-RPC errors",
    rule="J4/J5/J6",
    level="MUST",
    campaign="envelope",
    description='"jsonrpc":"2.0", integer code, string message, and an id that is the request\'s or null/absent.',
)
SURVIVES = register(
    "envelope.survives",
    "protocol.crash",
    "critical",
    "No malformed message kills the server or its connection",
    rule="T11/S5",
    level="MUST",
    campaign="envelope",
)
RESPONSIVE = register(
    "envelope.responsive",
    "robustness.timeout",
    "high",
    "After a malformed message the server still answers a ping (server/discover in 2026-07-28) in time",
    rule="S5/L5",
    level="MUST",
    campaign="envelope",
)
STDOUT = register(
    "envelope.stdout_clean",
    "protocol.stdout_pollution",
    "high",
    "Malformed input never makes the server write non-protocol bytes to stdout",
    rule="S1",
    level="MUST NOT",
    campaign="envelope",
)

KIND_SPEC: dict[str, CheckSpec] = {
    "not_json": PARSE_ERROR,
    "truncated_json": PARSE_ERROR,
    "trailing_garbage": PARSE_ERROR,
    "invalid_utf8": PARSE_ERROR,
    "scalar_json": INVALID_REQUEST,
    "wrong_jsonrpc_version": INVALID_REQUEST,
    "missing_method": INVALID_REQUEST,
    "method_wrong_type": INVALID_REQUEST,
    "bad_id_type": INVALID_REQUEST,
    "empty_object": INVALID_REQUEST,
    "batch": INVALID_REQUEST,
    "stray_response": INVALID_REQUEST,
    "unknown_method": METHOD_NOT_FOUND,
    "huge_message": METHOD_NOT_FOUND,
    "params_not_object": INVALID_PARAMS,
    "deep_nesting": INVALID_PARAMS,
    "unknown_notification": NOTIFICATION,
}

# kinds whose message carries a readable id: JSON-RPC owes exactly one answer (J4), so silence is `low`
ANSWER_OWED = {"unknown_method", "huge_message", "params_not_object"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _shown(data: bytes) -> str:
    text = data.decode("utf-8", errors="backslashreplace")
    return text if len(text) <= 100 else text[:80] + f"... [{len(data)} bytes]"


def replies_to(entries: list[WireEntry], own_ids: set[str]) -> list[WireEntry]:
    """Incoming responses (or batch answers) in `entries` that are not answers to our own requests."""
    import json

    out = []
    for e in entries:
        if e.direction != "in" or e.channel in ("stderr", "event"):
            continue
        msg = e.parsed
        if isinstance(msg, list):
            out.append(e)
        elif isinstance(msg, dict) and "method" not in msg and ("result" in msg or "error" in msg):
            if json.dumps(msg.get("id"), sort_keys=True) not in own_ids:
                out.append(e)
    return out


def check_reply(kind: str, expect: str, codes: frozenset[int], request_id: Any, data: bytes, sent: WireEntry | None, replies: list[WireEntry]) -> Iterator[tuple[CheckSpec, Violation]]:
    """Judge what came back for one malformed message (pure; the campaign collects `replies`)."""
    spec = KIND_SPEC[kind]
    ev = [x for x in (sent, *replies[:2]) if x is not None]
    what = f"{kind} message {_shown(data)!r}"
    if expect == "no-response":
        if replies:
            yield spec, Violation(f"the server answered the notification {_shown(data)!r}", ev, input=_shown(data), key=kind)
        return
    if not replies:
        if expect in ("error-or-ignore",):
            return
        sev = Severity.low if kind in ANSWER_OWED else Severity.info
        yield spec, Violation(f"{what}: no answer (JSON-RPC 2.0 expects error {'/'.join(map(str, sorted(codes)))})", ev, input=_shown(data), severity=sev, key=f"{kind}/silent")
        return
    for e in replies:
        msg = e.parsed
        if isinstance(msg, list):  # a batch answer
            if any(isinstance(m, dict) and "result" in m for m in msg):
                yield spec, Violation(f"{what}: the batch was executed (batches were removed in 2025-06-18)", ev, input=_shown(data), severity=Severity.medium, key=f"{kind}/executed")
            continue
        if "result" in msg and "error" not in msg:
            if kind == "invalid_utf8":
                sev = Severity.info  # lenient decoding (U+FFFD), a common and harmless choice
            elif spec is PARSE_ERROR:
                sev = Severity.low
            else:
                sev = Severity.medium
            yield spec, Violation(f"{what}: executed and answered with a result instead of an error", ev, input=_shown(data), severity=sev, key=f"{kind}/result")
            continue
        err = msg.get("error")
        problems = []
        if msg.get("jsonrpc") != "2.0":
            problems.append(f'"jsonrpc": {msg.get("jsonrpc")!r}')
        if "result" in msg:
            problems.append("both result and error")
        if not isinstance(err, dict):
            problems.append(f"error is {type(err).__name__}, not an object")
        else:
            if not _is_int(err.get("code")):
                problems.append(f"error.code {err.get('code')!r} is not an integer")
            if not isinstance(err.get("message"), str):
                problems.append(f"error.message {err.get('message')!r} is not a string")
        rid = msg.get("id")
        if rid is not None and (request_id is None or rid != request_id or type(rid) is not type(request_id)):
            problems.append(f"id {rid!r} is neither the request's id ({request_id!r}) nor null")
        if problems:
            yield ERROR_SHAPE, Violation(f"{what}: malformed error answer: {'; '.join(problems)}", ev, input=_shown(data), key=f"{kind}/shape")
        if isinstance(err, dict) and _is_int(err.get("code")) and expect != "error-or-ignore" and err["code"] not in codes:
            yield spec, Violation(
                f"{what}: error code {err['code']}, expected {' or '.join(map(str, sorted(codes)))}",
                ev,
                input=_shown(data),
                severity=Severity.low,
                key=f"{kind}/code",
            )

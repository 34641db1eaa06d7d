"""Checks of the session-level envelope fuzzer (campaign "envelope"): how a server answers
JSON-RPC messages that are malformed on purpose (strategies/jsonrpc.py labels each one with the
answer it deserves).

Each check is a `run` check of campaign "envelope": a pure function over `Malformed`, what one
malformed message produced (the line sent, whether the server survived it, the liveness probe,
the stdout lines and the answers that came back). The envelope campaign judges every message it
sends with them (`CampaignContext.judge_result`), and so does the replay of an `envelope` corpus
entry; no other campaign runs them. A check that does not apply to a message (a parse-error
check on an unknown method, every reply check after the server died) raises Skip.

Severities follow the spec-digest's levels (mcpcheck.registry.LEVEL_SEVERITIES), and each
finding prints the level of the rule it breaks:
  * the error *codes* are JSON-RPC 2.0 conventions MCP repeats without a keyword: -32700/-32600
    for a message whose id cannot be read (J6, level "JSON-RPC": either code passes for every
    parse-error and invalid-request kind), -32601/-32602 (J8, T9, level "-"). A wrong code is
    `low`, one finding per wrong code and check (every message that got it is an instance);
    silence where JSON-RPC owes an answer (a readable id) is `low`, elsewhere an `info` observation;
  * a wrong code for an unknown method is the cause errors.unknown_method (conformance campaign)
    owns, a wrong code for an invalid request the one jsonrpc.invalid_request owns: they are filed
    there (Violation.owner; reproduced by the envelope check), one finding for both campaigns;
  * executing a malformed message (a `result` where an error belongs) is `low` (JSON-RPC), except
    an id that is not a string or an integer (J2, MUST: `medium`) and a batch after 2025-03-26,
    whose handling the spec leaves unspecified (J12: `info`);
  * answering a notification breaks J7 (MUST NOT): `high`; a malformed error object breaks J5 (MUST): `high`;
  * dying breaks T11 (MUST): `critical`; going unresponsive: `high`; non-protocol stdout breaks S1 (MUST NOT): `high`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..findings import Severity, Violation
from ..registry import Check, RunContext, Skip, check
from ..session import Exchange
from ..wirelog import WireEntry
from .jsonrpc import check_stdout_lines


@dataclass
class Malformed:
    """What one malformed message produced: the `run` result every envelope check judges."""

    kind: str  # strategies.jsonrpc kind (not_json, bad_id_type, ...)
    expect: str  # the answer it deserves ("-32700", "no-response", "error-or-ignore", ...)
    codes: frozenset[int]  # the error codes that are right for it
    request_id: Any  # the id it carries, if readable
    data: bytes  # the line as sent
    sent: WireEntry | None  # None: the transport would not take it
    died: bool = False  # the server or its connection went away
    closed_reason: str | None = None
    stderr: str = ""  # the tail of the server's stderr, when it died
    window: list[WireEntry] = field(default_factory=list)  # everything on the wire since the line was sent
    probe: Exchange | None = None  # the liveness probe (ping; server/discover in 2026-07-28)
    timeout: float = 0.0
    replies: list[WireEntry] | None = None  # answers that are not to our probe (None: not collected)

    @property
    def shown(self) -> str:
        return _shown(self.data)

    @property
    def answered(self) -> bool:
        """The server is alive and answered the probe: its replies can be judged."""
        return not self.died and self.probe is not None and not self.probe.timed_out and self.replies is not None


def _alive_and_answering(m: Malformed) -> None:
    if m.died:
        raise Skip("judged on messages the server survived")
    if not m.answered:
        raise Skip("judged on messages after which the server answered the liveness probe")


# --------------------------------------------------------------------------- the checks, in judging order


@check(
    "envelope.survives",
    category="protocol.crash",
    severity="critical",
    title="No malformed message kills the server or its connection",
    scope="run",
    rule="T11/S5",
    level="MUST",
    campaign="envelope",
)
def survives(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    if not m.died:
        return
    detail = f"the {m.kind} message {m.shown!r} killed the server: {m.closed_reason or 'connection lost'}"
    if m.stderr:
        detail += f"\nlast stderr:\n{m.stderr}"
    ev = [e for e in m.window if e.channel not in ("stderr",)][:4]
    yield Violation(detail, ev, input=m.shown, key=m.kind)


@check(
    "envelope.responsive",
    category="robustness.timeout",
    severity="high",
    title="After a malformed message the server still answers a ping (server/discover in 2026-07-28) in time",
    scope="run",
    rule="S5/L5",
    level="MUST",
    campaign="envelope",
)
def responsive(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    if m.died or m.probe is None:
        raise Skip("judged on messages the server survived")
    if m.probe.timed_out:
        ev = [x for x in (m.sent, *m.probe.evidence()) if x is not None]
        yield Violation(f"after the {m.kind} message {m.shown!r} the server did not answer {m.probe.method} within {m.timeout:g}s", ev, input=m.shown, key=m.kind)


@check(
    "envelope.stdout_clean",
    category="protocol.stdout_pollution",
    severity="high",
    title="Malformed input never makes the server write non-protocol bytes to stdout",
    scope="run",
    rule="S1",
    level="MUST NOT",
    campaign="envelope",
)
def stdout_clean(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    if ctx.transport != "stdio":
        raise Skip("not a stdio target")
    _alive_and_answering(m)
    for v in check_stdout_lines([e for e in m.window if e.channel == "stdout"]):
        ev = [x for x in (m.sent, *v.evidence) if x is not None]
        yield Violation(f"after the {m.kind} message {m.shown!r}: {v.detail}", ev, input=m.shown, key=m.kind)
        return


@check(
    "envelope.error_shape",
    category="protocol.jsonrpc_shape",
    severity="high",
    title="Error answers to malformed messages are well-formed JSON-RPC errors",
    scope="run",
    rule="J4/J5/J6",
    level="MUST",
    campaign="envelope",
    description='"jsonrpc":"2.0", integer code, string message, and an id that is the request\'s or null/absent.',
)
def error_shape(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    _alive_and_answering(m)
    if not any(isinstance(e.parsed, dict) and "error" in e.parsed for e in m.replies or []):
        raise Skip("judged on error answers; none came")
    yield from _own(error_shape, m)


def _own(c: Check, m: Malformed) -> Iterator[Violation]:
    """The verdicts of check_reply that are `c`'s."""
    for spec, v in check_reply(m.kind, m.expect, m.codes, m.request_id, m.data, m.sent, m.replies or []):
        if spec is c:
            yield v


def _kind_check(c: Check, m: Malformed) -> Iterator[Violation]:
    if KIND_SPEC.get(m.kind) is not c:
        raise Skip(f"judged on {', '.join(k for k, s in KIND_SPEC.items() if s is c)} messages")
    _alive_and_answering(m)
    yield from _own(c, m)


@check(
    "envelope.parse_error",
    category="protocol.error_codes",
    severity="low",
    title="Input that is not JSON gets -32700 Parse error (or no answer), never a result",
    scope="run",
    rule="J6",
    level="JSON-RPC",
    campaign="envelope",
    description="not JSON, truncated JSON, trailing garbage, invalid UTF-8: -32700 or -32600 (J6 allows either). No answer is an info observation.",
)
def parse_error(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    yield from _kind_check(parse_error, m)


@check(
    "envelope.invalid_request",
    category="protocol.error_codes",
    severity="low",
    title="JSON that is not a valid request gets -32600 Invalid Request (or no answer), never a result",
    scope="run",
    rule="J6/J2/J12",
    level="JSON-RPC",
    campaign="envelope",
    description=(
        "wrong jsonrpc, missing or non-string method, bad id types (null, float, bool, object), scalars, {}, batches, "
        "stray responses: -32600 or -32700 (J6 allows either). Executing one is low (JSON-RPC), medium when the id "
        "is not a string or an integer (J2, MUST); an executed batch after 2025-03-26 is info (J12: unspecified). "
        "A wrong error code is filed under jsonrpc.invalid_request, which owns that cause (one finding for both campaigns)."
    ),
)
def invalid_request(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    yield from _kind_check(invalid_request, m)


@check(
    "envelope.method_not_found",
    category="protocol.error_codes",
    severity="low",
    title="Requests for unknown methods (also huge ones) get -32601 Method not found",
    scope="run",
    rule="J8",
    level="-",
    campaign="envelope",
    description=(
        "A wrong error code for an unknown method is the root cause errors.unknown_method owns: it is filed "
        "there (one finding for the conformance and envelope campaigns). This check keeps silence and execution."
    ),
)
def method_not_found(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    yield from _kind_check(method_not_found, m)


@check(
    "envelope.invalid_params",
    category="protocol.error_codes",
    severity="low",
    title="Requests with params of the wrong shape (or absurdly deep) get -32602 Invalid params (-32600 accepted)",
    scope="run",
    rule="J8/T9",
    level="-",
    campaign="envelope",
)
def invalid_params(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    yield from _kind_check(invalid_params, m)


@check(
    "envelope.notification_silent",
    category="protocol.notification_response",
    severity="high",
    title="Unknown notifications are never answered",
    scope="run",
    rule="J7",
    level="MUST NOT",
    campaign="envelope",
)
def notification_silent(ctx: RunContext, m: Malformed) -> Iterator[Violation]:
    yield from _kind_check(notification_silent, m)


KIND_SPEC: dict[str, Check] = {
    "not_json": parse_error,
    "truncated_json": parse_error,
    "trailing_garbage": parse_error,
    "invalid_utf8": parse_error,
    "scalar_json": invalid_request,
    "wrong_jsonrpc_version": invalid_request,
    "missing_method": invalid_request,
    "method_wrong_type": invalid_request,
    "bad_id_type": invalid_request,
    "empty_object": invalid_request,
    "batch": invalid_request,
    "stray_response": invalid_request,
    "unknown_method": method_not_found,
    "huge_message": method_not_found,
    "params_not_object": invalid_params,
    "deep_nesting": invalid_params,
    "unknown_notification": notification_silent,
}

# kinds whose message carries a readable id: JSON-RPC owes exactly one answer, so silence is `low`
ANSWER_OWED = {"unknown_method", "huge_message", "params_not_object"}
# the checks of the conformance campaign that own a wrong error code for an unknown method and for
# an invalid request: the envelope's messages are further instances of their findings
UNKNOWN_METHOD_OWNER = "errors.unknown_method"
INVALID_REQUEST_OWNER = "jsonrpc.invalid_request"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _shown(data: bytes) -> str:
    text = data.decode("utf-8", errors="backslashreplace")
    return text if len(text) <= 100 else text[:80] + f"... [{len(data)} bytes]"


def replies_to(entries: list[WireEntry], own_ids: set[str]) -> list[WireEntry]:
    """Incoming responses (or batch answers) in `entries` that are not answers to our own requests."""
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


def _level(spec: Check) -> str:
    return spec.level or "-"


def _executed(kind: str, spec: Check) -> tuple[Severity, str]:
    """Severity and level of executing (answering with a result) a malformed message of `kind`."""
    if kind == "invalid_utf8":
        return Severity.info, "JSON-RPC"  # lenient decoding (U+FFFD), a common and harmless choice
    if kind == "batch":  # only sent where batches are gone (strategies.jsonrpc drops it for 2025-03-26)
        return Severity.info, "-"  # J12: the reaction to an array is unspecified
    if kind == "bad_id_type":
        return Severity.medium, "MUST"  # J2: a request id is a string or an integer
    return Severity.low, _level(spec)


def check_reply(kind: str, expect: str, codes: frozenset[int], request_id: Any, data: bytes, sent: WireEntry | None, replies: list[WireEntry]) -> Iterator[tuple[Check, Violation]]:
    """What came back for one malformed message, as (check, violation) pairs: the kind's check
    (KIND_SPEC) or error_shape. The one judgement the reply checks above share."""
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
        yield spec, Violation(f"{what}: no answer (JSON-RPC 2.0 expects error {'/'.join(map(str, sorted(codes)))})", ev, input=_shown(data), severity=sev, key=f"{kind}/silent", level="JSON-RPC")
        return
    for e in replies:
        msg = e.parsed
        if isinstance(msg, list):  # a batch answer
            if any(isinstance(m, dict) and "result" in m for m in msg):
                sev, level = _executed(kind, spec)
                yield spec, Violation(f"{what}: the batch was executed (batches were removed in 2025-06-18; the spec leaves the reaction open)", ev, input=_shown(data), severity=sev, key=f"{kind}/executed", level=level)
            continue
        if "result" in msg and "error" not in msg:
            sev, level = _executed(kind, spec)
            yield spec, Violation(f"{what}: executed and answered with a result instead of an error", ev, input=_shown(data), severity=sev, key=f"{kind}/result", level=level)
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
            yield error_shape, Violation(f"{what}: malformed error answer: {'; '.join(problems)}", ev, input=_shown(data), key=f"{kind}/shape")
        if isinstance(err, dict) and _is_int(err.get("code")) and expect != "error-or-ignore" and err["code"] not in codes:
            detail = f"{what}: error code {err['code']}, expected {' or '.join(map(str, sorted(codes)))}"
            if spec is method_not_found:  # the cause errors.unknown_method owns (same key: one finding)
                yield spec, Violation(detail, ev, input=_shown(data), severity=Severity.low, key="code", level="-", owner=UNKNOWN_METHOD_OWNER)
            else:  # one finding per wrong code: every message that got it is an instance
                owner = INVALID_REQUEST_OWNER if spec is invalid_request else None
                yield spec, Violation(detail, ev, input=_shown(data), severity=Severity.low, key=f"code/{err['code']}", level=_level(spec), owner=owner)

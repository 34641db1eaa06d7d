"""JSON-RPC 2.0 envelope rules (spec-digest §1), as pure functions over recorded exchanges.

The exchange and log checks here judge every session of every campaign; the `check_*` helpers
without a decorator judge the exchanges the conformance campaign's active checks make
(mcpcheck.campaigns.conformance: null ids, malformed requests, batches, notifications).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..findings import Severity, Violation
from ..registry import ExchangeContext, LogContext, SessionLog, Skip, check
from ..session import LIVENESS_METHODS, Exchange, id_key
from ..wirelog import WireEntry


@check(
    "robustness.no_crash",
    category="protocol.crash",
    severity="critical",
    title="The server process does not die or drop the connection",
    scope="log",
    rule="T11",
    level="MUST",
)
def no_crash(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    """The session ended without mcpcheck closing it: the process exited or the connection went.
    Campaigns that send generated input judge crashes per input instead (fuzz.no_crash, the
    envelope and load checks), with the input that caused it."""
    if ctx.campaign in ("fuzz", "stateful", "envelope", "load", "replay"):
        return
    reason = log.closed_reason
    if reason is None or reason.startswith("closed by mcpcheck") or log.expected_exit:
        return
    sent = [e for e in log.entries if e.direction == "out" and e.channel in ("stdin", "http")][-2:]
    gone = [e for e in log.entries if e.channel == "event" and e.note == "transport closed"][-1:]
    last = sent[-1].parsed if sent else None
    method = last.get("method") if isinstance(last, dict) else None
    detail = f"the server went away ({reason})" + (f" after mcpcheck sent {method}" if method else "")
    if log.stderr.strip():
        detail += f"\nlast stderr:\n{log.stderr.strip()}"
    yield Violation(detail, [*sent, *gone], input=last, key=str(method))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@check(
    "jsonrpc.response_shape",
    category="protocol.jsonrpc_shape",
    severity="high",
    title="Responses are well-formed JSON-RPC 2.0",
    scope="exchange",
    rule="J1/J4/J5",
    level="MUST",
    description='"jsonrpc":"2.0", exactly one of result/error, integer error code, string message, result an object.',
)
def response_shape(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    return check_response_shape(ex)


def check_response_shape(ex: Exchange) -> Iterator[Violation]:
    """Judged on the raw object: a member set to null is present, not absent. One key per kind of
    defect, so the same defect on many methods is one finding listing each (Finding.instances)."""
    msg = ex.response
    if msg is None:
        return
    ev = ex.evidence()
    if msg.get("jsonrpc") != "2.0":
        yield Violation(f'{ex.method}: response has "jsonrpc": {msg.get("jsonrpc")!r}, expected "2.0"', ev, path="/jsonrpc", key="jsonrpc")
    has_result, has_error = "result" in msg, "error" in msg
    if has_result and has_error and msg["error"] is None:
        yield Violation(f'{ex.method}: response carries "error": null beside its result (exactly one of result/error may be present)', ev, path="/error", key="null-error")
    elif has_result and has_error and msg["result"] is None:
        yield Violation(f'{ex.method}: error response carries "result": null (exactly one of result/error may be present)', ev, path="/result", key="null-result")
    elif has_result == has_error:
        what = "both result and error" if has_result else "neither result nor error"
        yield Violation(f"{ex.method}: response carries {what}", ev, key="xor")
    if has_error and msg["error"] is not None:
        err = msg["error"]
        if not isinstance(err, dict):
            yield Violation(f"{ex.method}: error member is {type(err).__name__}, not an object", ev, path="/error", key="errobj")
        else:
            if not _is_int(err.get("code")):
                yield Violation(f"{ex.method}: error.code is {err.get('code')!r} ({type(err.get('code')).__name__}), not an integer", ev, path="/error/code", key="code")
            if not isinstance(err.get("message"), str):
                yield Violation(f"{ex.method}: error.message is {err.get('message')!r}, not a string", ev, path="/error/message", key="message")
    elif has_result and msg["result"] is not None and not isinstance(msg["result"], dict):
        yield Violation(f"{ex.method}: result is {type(msg['result']).__name__}, MCP results are objects", ev, path="/result", key="resobj")


@check(
    "jsonrpc.id_echo",
    category="protocol.jsonrpc_shape",
    severity="high",
    title="Response id echoes the request id with the same type",
    scope="exchange",
    rule="J4",
    level="MUST",
)
def id_echo(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if ctx.deliberate:
        raise Skip("malformed on purpose: judged by the envelope checks")
    return check_id_echo(ex)


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


@check(
    "jsonrpc.unsolicited_response",
    category="protocol.jsonrpc_shape",
    severity="medium",
    title="No responses to ids the client never sent",
    scope="log",
    rule="J4",
    level="MUST",
)
def unsolicited(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    if ctx.campaign == "envelope":
        raise Skip("the envelope campaign sends odd ids on purpose and judges every reply itself")
    sent = {id_key(ex.request.get("id")) for ex in log.exchanges if isinstance(ex.request, dict) and "id" in ex.request}
    return check_unsolicited(log.unmatched, sent)


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


J6_CODES = (-32700, -32600)  # spec-digest J6: either code for a message whose id cannot be read


def check_rejected(ex: Exchange, what: str, expect: tuple[int, ...]) -> Iterator[Violation]:
    """A malformed message must not produce a result (J6: a JSON-RPC convention, level "JSON-RPC",
    so low). No answer is tolerated (info). -32700 and -32600 are interchangeable (J6). A wrong
    code is keyed by the code: the envelope campaign's messages that got the same one are
    instances of the same finding (checks.envelope files them here)."""
    if set(expect) & set(J6_CODES):
        expect = tuple(dict.fromkeys((*expect, *J6_CODES)))
    if ex.response is None:
        if ex.transport_error is None:
            yield Violation(f"{what}: no answer (JSON-RPC 2.0 expects error {'/'.join(map(str, expect))})", ex.evidence(), severity=Severity.info, key=f"{what}/silent")
        return
    if "result" in ex.response:
        yield Violation(f"{what}: answered with a result instead of an error", ex.evidence(), severity=Severity.low, key=f"{what}/result", level="JSON-RPC")
    elif ex.error_code not in expect:
        yield Violation(
            f"{what}: error code {ex.error_code!r}, expected {' or '.join(map(str, expect))}",
            ex.evidence(),
            severity=Severity.low,
            key=f"code/{ex.error_code}",
            level="JSON-RPC",
        )


def check_batch_reply(replies: list[WireEntry], sent: WireEntry | None) -> Iterator[Violation]:
    """J12: after 2025-03-26 the spec leaves a server's reaction to a batch unspecified: an
    executed batch is an observation (info), never a finding."""
    for e in replies:
        if isinstance(e.parsed, list) and any(isinstance(m, dict) and "result" in m for m in e.parsed):
            yield Violation("a JSON-RPC batch (removed in 2025-06-18; the reaction is unspecified) was executed", [x for x in (sent, e) if x], severity=Severity.info, key="batch")
            return


@check(
    "stdio.stdout_pollution",
    category="protocol.stdout_pollution",
    severity="high",
    title="stdout carries only JSON-RPC messages, one per line",
    scope="log",
    rule="S1",
    level="MUST NOT",
)
def stdout_pollution(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    if ctx.transport != "stdio":
        raise Skip("not a stdio target")
    if ctx.campaign in ("fuzz", "stateful", "replay", "envelope"):
        return iter(())  # judged per input there (fuzz.stdout, envelope.stdout: with the input)
    return check_stdout_lines(log.entries)


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


@check(
    "robustness.no_hang",
    category="robustness.timeout",
    severity="medium",
    title="Every request is answered (judged after the timeout and a grace period, by whether ping still answers)",
    scope="exchange",
    rule="T11",
    level="MUST",
    description="A request never answered, though the server still answers ping: medium (an input that makes "
    "a handler run forever is a defect). Ping stalled too, or the request was a ping: high (the request "
    "blocks the whole server, e.g. a synchronous computation on its event loop). Late answers and calls "
    "still reporting progress are robustness.slow, not hangs.",
)
def no_hang(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if ctx.deliberate:
        raise Skip("malformed on purpose: judged by the envelope checks")
    if ex.liveness or (ex.method == "tools/call" and ctx.campaign != "conformance"):
        # a liveness ping is judged through the request it probed; a campaign's tool calls are
        # judged per call (fuzz.no_hang, with the input)
        return iter(())
    return check_no_hang(ex)


@check(
    "robustness.slow",
    category="performance.latency",
    severity="low",
    title="Requests are answered within the timeout (a late answer is slow; a call still reporting progress is long-running)",
    scope="exchange",
    description="No spec rule sets a deadline (clients SHOULD set their own timeouts and stop waiting): a "
    "request answered only in the grace period after mcpcheck's timeout is low, one that kept reporting "
    "progress until the progress cap is an observation (info). Never a hang.",
)
def slow(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if ctx.deliberate:
        raise Skip("malformed on purpose: judged by the envelope checks")
    if ex.liveness or (ex.method == "tools/call" and ctx.campaign != "conformance"):
        return iter(())  # judged per call by fuzz.slow, or through the request it probed
    return check_slow(ex)



def check_no_hang(ex: Exchange, what: str | None = None, *, tool: str | None = None, input: Any = None, key: str | None = None) -> Iterator[Violation]:
    """A request that got no answer within its timeout nor in the grace period after it (T11).
    Severity by what the server did meanwhile: still answering ping -> the check's (medium);
    ping stalled too, or the request was itself a ping -> high. Slow and long-running calls are
    check_slow's; a failed transport is a crash's or an unanswered call's, not a hang."""
    if not ex.timed_out or ex.answered or ex.progress_capped or ex.transport_error is not None:
        return
    what = what or ex.method
    detail = f"{what} got no answer within {ex.timeout:g}s" if ex.timeout else f"{what} got no response within the timeout"
    if ex.grace:
        detail += f" nor in the {ex.grace:g}s after"
    severity = None
    if ex.method in LIVENESS_METHODS:
        severity = Severity.high
        detail += " (a client takes a server that does not answer ping for dead)"
    elif ex.ping_answered is False:
        severity = Severity.high
        detail += "; the server did not answer ping meanwhile either: the request blocks the whole server (e.g. a synchronous computation on its event loop)"
    elif ex.ping_answered:
        detail += "; the server still answered ping meanwhile: the handler runs forever (or dropped the request)"
    evidence = [*ex.evidence(), *(ex.ping.evidence() if ex.ping is not None else [])]
    yield Violation(detail, evidence, tool=tool, input=input, severity=severity, key=key or ex.method)


def check_slow(ex: Exchange, what: str | None = None, *, tool: str | None = None, input: Any = None, key: str | None = None) -> Iterator[Violation]:
    """A request answered only in the grace period after its timeout (slow: low), or one still
    reporting progress when mcpcheck stopped waiting at the progress cap (long-running: info)."""
    what = what or ex.method
    key = key or ex.method
    if ex.progress_capped and not ex.answered and ex.transport_error is None:
        yield Violation(
            f"{what} was still running after {ex.elapsed or 0:.0f}s, reporting progress all along "
            f"({ex.progress} notifications); mcpcheck stopped waiting and cancelled it (long-running, not a hang)",
            ex.evidence(), tool=tool, input=input, severity=Severity.info, key=f"{key}/long-running")
    elif ex.late:
        yield Violation(
            f"{what} answered {ex.elapsed or 0:.1f}s after it was sent: after the {ex.timeout or 0:g}s timeout, "
            f"within the {ex.grace or 0:g}s grace period (slow, not hung)",
            ex.evidence(), tool=tool, input=input, key=f"{key}/slow")

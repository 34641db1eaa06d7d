"""Per-call tool invariants (spec-digest T9-T13, S1, §6.2, §6.6): the registry's `tool_call` checks.

Every tools/call a campaign makes is handed to every check below as a `ToolCall` (what kind of
input it was, the exchange, whether the server survived); each check judges the kinds it is about
and `Skip`s the rest. Registration order is judging order: a crash or a hang is the first thing
said about a call. The fuzz campaign shrinks the first violation; info-level ones are recorded
as observations without shrinking.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterator

from jsonschema import validators

from ..findings import Severity, Violation
from ..registry import Skip, ToolCall, ToolCallContext, check
from ..session import Exchange
from . import jsonrpc as J
from .listing import default_dialect


TRACEBACK_RE = re.compile(r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+ \(.*:\d+:\d+\)|File \"[^\"]+\", line \d+", re.M)
PATH_RE = re.compile(r"(?:/(?:home|Users|usr|opt|var|root|tmp|srv|app)/[\w.\-/]+\.(?:py|js|ts|mjs|cjs|rb|go|java))")


def _texts(result: Any) -> str:
    if not isinstance(result, dict):
        return ""
    parts = []
    for block in result.get("content") or []:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "\n".join(parts)


def _blames_arguments(result: dict) -> bool:
    text = _texts(result).lower()
    return any(w in text for w in ("validation error", "invalid argument", "invalid params", "invalid input", "input validation"))


def check_valid_accepted(ex: Exchange, tool: str, args: Any) -> Iterator[Violation]:
    """T10 (SHOULD): a -32602 for arguments the tool's own inputSchema allows is medium (a protocol
    error where the schema promised acceptance); a correct isError result that blames the
    arguments is low (the schema allows what the implementation rejects: a real mismatch, told
    to the model the right way)."""
    if ex.response is None:
        return
    if ex.error_code == -32602:
        yield Violation(f"tool {tool!r} rejected schema-valid arguments with -32602: {ex.error.get('message')!r}", ex.evidence(), tool=tool, input=args, key=f"{tool}/32602")
    elif ex.ok and isinstance(ex.result, dict) and ex.result.get("isError") is True and _blames_arguments(ex.result):
        yield Violation(
            f"tool {tool!r} answered schema-valid arguments with an argument-validation error (its inputSchema allows what the tool rejects): {_texts(ex.result)[:300]!r}",
            ex.evidence(), tool=tool, input=args, severity=Severity.low, key=f"{tool}/iserror",
        )


def _requires_nothing(tool: dict) -> bool:
    schema = tool.get("inputSchema")
    return isinstance(schema, dict) and not schema.get("required")


def check_null_arguments(ex: Exchange, tool: str) -> Iterator[Violation]:
    """`"arguments": null` executed as "no arguments" on a tool that requires no property: the
    official SDKs' default (mcp 1.x `arguments or {}`), protocol leniency rather than an
    unvalidated input (the tool ran with {}, which its schema allows). One info observation per
    server (the same key for every tool: the others are instances)."""
    if ex.response is None or not ex.ok or (isinstance(ex.result, dict) and ex.result.get("isError") is True):
        return
    yield Violation(
        f"tools/call {tool!r} with \"arguments\": null was executed as a call without arguments "
        "(lenient, as the official SDKs do: params.arguments is optional, but null is not an object)",
        ex.evidence(), tool=None, input=None, severity=Severity.info, key="arguments-null", level="-",
    )


def check_invalid_rejected(ex: Exchange, tool: str, args: Any, constraint: str, where: str, soft: bool) -> Iterator[Violation]:
    if ex.response is None or not ex.ok:
        return  # any JSON-RPC error is a rejection
    if isinstance(ex.result, dict) and ex.result.get("isError") is True:
        return
    yield Violation(
        f"tool {tool!r} executed arguments that violate its inputSchema ({constraint} at {where or '/'}) instead of rejecting them",
        ex.evidence(),
        tool=tool,
        input=args,
        path=where,
        severity=Severity.info if soft else None,
        key=f"{tool}/{constraint}",
    )


def check_structured_output(ex: Exchange, tool: str, output_schema: Any, revision: str | None, args: Any) -> Iterator[Violation]:
    if not ex.ok or not isinstance(ex.result, dict) or ex.result.get("isError") is True or not isinstance(output_schema, dict):
        return
    if "structuredContent" not in ex.result:
        yield Violation(f"tool {tool!r} has an outputSchema but its result has no structuredContent", ex.evidence(), tool=tool, input=args, path="/result/structuredContent", key=f"{tool}/missing")
        return
    try:
        err = next(iter(_output_validator(json.dumps(output_schema, sort_keys=True), revision).iter_errors(ex.result["structuredContent"])), None)
    except Exception as exc:  # an invalid outputSchema is judged by tools.output_schema
        err = None
        _ = exc
    if err is not None:
        where = "/" + "/".join(str(p) for p in err.absolute_path)
        yield Violation(f"tool {tool!r} structuredContent violates its outputSchema at {where}: {err.message}", ex.evidence(), tool=tool, input=args, path="/result/structuredContent" + (where if where != "/" else ""), key=f"{tool}/{err.validator}")


@functools.lru_cache(maxsize=256)
def _output_validator(schema_text: str, revision: str | None) -> Any:
    """One validator per outputSchema (building one per call cost more than validating)."""
    schema = json.loads(schema_text)
    cls = validators.validator_for(schema, default=validators.validator_for({"$schema": default_dialect(revision)}))
    return cls(schema)


def check_no_leak(ex: Exchange, tool: str, args: Any, secrets: list[str]) -> Iterator[Violation]:
    texts = []
    if ex.ok:
        texts.append(_texts(ex.result))
    elif isinstance(ex.error, dict):
        texts.append(str(ex.error.get("message", "")) + " " + str(ex.error.get("data", "")))
    text = "\n".join(texts)
    for secret in secrets:
        if secret and secret in text and secret not in repr(args):
            yield Violation(f"tool {tool!r} leaked the canary secret planted in the server's environment", ex.evidence(), tool=tool, input=args, severity=Severity.critical, key=f"{tool}/secret")
            return
    if TRACEBACK_RE.search(text):
        yield Violation(f"tool {tool!r} returned a stack trace to the client", ex.evidence(), tool=tool, input=args, key=f"{tool}/traceback")
    elif (m := PATH_RE.search(text)) and m.group(0) not in repr(args):
        yield Violation(f"tool {tool!r} leaked a server file path ({m.group(0)})", ex.evidence(), tool=tool, input=args, severity=Severity.low, key=f"{tool}/path", level="-")  # hardening: no rule names paths


def _comparable(result: Any) -> Any:
    if not isinstance(result, dict):
        return result
    return {k: v for k, v in result.items() if k != "_meta"}


def check_idempotent(first: Exchange, second: Exchange, tool: str, args: Any) -> Iterator[Violation]:
    if not (first.ok and second.ok):
        if first.ok != second.ok and first.answered and second.answered:
            yield Violation(f"tool {tool!r} (annotated idempotent/read-only) succeeded once and failed once for identical arguments", [*first.evidence(), *second.evidence()], tool=tool, input=args, key=f"{tool}/okerr")
        return
    e1 = isinstance(first.result, dict) and first.result.get("isError") is True
    e2 = isinstance(second.result, dict) and second.result.get("isError") is True
    if e1 != e2:
        yield Violation(f"tool {tool!r} (annotated idempotent/read-only) {'failed' if e1 else 'succeeded'} on the first call and {'failed' if e2 else 'succeeded'} on the second, for identical arguments: the first call changed state", [*first.evidence(), *second.evidence()], tool=tool, input=args, key=f"{tool}/iserror")
        return
    if _comparable(first.result) != _comparable(second.result):
        yield Violation(f"tool {tool!r} (annotated idempotent/read-only) gave different results for identical arguments (fine for time- or randomness-dependent tools; a side effect otherwise)", [*first.evidence(), *second.evidence()], tool=tool, input=args, severity=Severity.info, key=f"{tool}/diff")


def check_read_only(before: Exchange, after: Exchange, tool: str, args: Any, observer: str, observer_args: Any) -> Iterator[Violation]:
    """`observer` (read-only, answers the same twice in a row) answered differently before and
    after one call of read-only `tool`: that call changed state."""
    if not (before.answered and after.answered):
        return
    seen = [(_comparable(e.result) if e.ok else e.error) for e in (before, after)]
    if seen[0] != seen[1]:
        yield Violation(
            f"tool {tool!r} is annotated readOnlyHint, but calling it changed what read-only {observer!r} returns "
            f"for {json.dumps(observer_args, default=repr)[:200]}",
            [*before.evidence(), *after.evidence()],
            tool=tool,
            input=args,
            key=f"{tool}/changes/{observer}",
        )


# --------------------------------------------------------------------------- the checks, in judging order

INPUT_KINDS = ("valid", "invalid", "injected")  # calls whose answer is judged on its own


@check(
    "fuzz.no_crash",
    category="protocol.crash",
    severity="critical",
    title="No fuzzed call kills the server or its connection",
    scope="tool_call",
    rule="T11",
    level="MUST",
    description="A crash needs evidence: the process exited, the connection is refused, or the server "
    "answers no ping after the call. A call whose connection failed while the server still answers ping "
    "is an unanswered call (fuzz.no_hang), not a crash.",
)
def no_crash(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    ex = call.exchange
    if call.alive and (ex.transport_error is None or call.ping_answered is not False):
        return
    why = call.closed_reason if not call.alive else f"{ex.transport_error}; the server answered no ping afterwards"
    detail = f"tools/call {call.name!r} killed the server: {why}"
    if call.stderr.strip():
        detail += f"\nlast stderr:\n{call.stderr.strip()}"
    ping = ex.ping.evidence() if ex.ping is not None else []
    yield Violation(detail, [*ex.evidence(), *ping], tool=call.name, input=call.arguments, key=f"{call.name}/crash")


@check(
    "fuzz.no_hang",
    category="robustness.timeout",
    severity="medium",
    title="Every fuzzed call is answered (judged after the timeout and a grace period, by whether ping still answers)",
    scope="tool_call",
    rule="T11",
    level="MUST",
    description="Never answered while the server still answers ping: medium (an input that makes a tool "
    "spin forever is a defect); ping stalled too: high (the call blocks the whole server, e.g. a synchronous "
    "computation on its event loop). A call whose connection failed without a JSON-RPC response while the "
    "server still answers ping is unanswered (medium). Late answers and calls still reporting progress are "
    "fuzz.slow.",
)
def no_hang(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    ex = call.exchange
    if not call.alive:
        return  # fuzz.no_crash
    if ex.transport_error is not None:
        if call.ping_answered is False:
            return  # fuzz.no_crash: the server answers nothing any more
        alive = "; the server still answers ping (not a crash)" if call.ping_answered else ""
        ping = ex.ping.evidence() if ex.ping is not None else []
        yield Violation(f"tools/call {call.name!r} got no JSON-RPC response: {ex.transport_error}{alive}", [*ex.evidence(), *ping],
                        tool=call.name, input=call.arguments, key=f"{call.name}/unanswered")
        return
    yield from J.check_no_hang(ex, f"tools/call {call.name!r}", tool=call.name, input=call.arguments, key=f"{call.name}/hang")


@check(
    "fuzz.slow",
    category="performance.latency",
    severity="low",
    title="Fuzzed calls answer within the timeout (a late answer is slow; a call still reporting progress is long-running)",
    scope="tool_call",
    description="No spec rule sets a deadline: a call answered only in the grace period after the timeout "
    "is low; one that kept reporting progress until the progress cap is an observation (info).",
)
def slow(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    ex = call.exchange
    if not call.alive or ex.transport_error is not None:
        return
    yield from J.check_slow(ex, f"tools/call {call.name!r}", tool=call.name, input=call.arguments, key=call.name)


@check(
    "fuzz.stdout_clean",
    category="protocol.stdout_pollution",
    severity="high",
    title="Tool calls never write non-protocol bytes to stdout",
    scope="tool_call",
    rule="S1",
    level="MUST NOT",
)
def stdout_clean(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if ctx.transport != "stdio":
        raise Skip("not a stdio target")
    for v in J.check_stdout_lines(call.stdout):
        ev = [call.exchange.request_entry] if call.exchange.request_entry is not None else []
        yield Violation(f"tools/call {call.name!r} polluted stdout: {v.detail}", [*ev, *v.evidence], tool=call.name, input=call.arguments, key=f"{call.name}/stdout")
        return


def _answered(call: ToolCall) -> bool:
    """The call got its answer (a late one, in the grace period after the timeout, counts)."""
    ex = call.exchange
    return ex.transport_error is None and ex.answered and call.alive


@check(
    "fuzz.valid_input_accepted",
    category="tool.input_validation",
    severity="high",
    title="Schema-valid arguments are never rejected as invalid params",
    scope="tool_call",
    rule="T10",
    level="SHOULD",
    description=(
        "A -32602 for arguments that satisfy the advertised inputSchema means the schema lies (medium); an isError "
        "result blaming the arguments is the same mismatch told the right way (low). T10 is a SHOULD."
    ),
)
def valid_input_accepted(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "valid":
        raise Skip("judged on schema-valid inputs")
    if _answered(call):
        yield from check_valid_accepted(call.exchange, call.name, call.arguments)


@check(
    "fuzz.structured_output",
    category="tool.output_schema",
    severity="high",
    title="Successful results of tools with an outputSchema carry conforming structuredContent",
    scope="tool_call",
    rule="T12",
    level="MUST",
)
def structured_output(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "valid" or not isinstance(call.tool.get("outputSchema"), dict):
        raise Skip("no tool has an outputSchema")
    if _answered(call):
        yield from check_structured_output(call.exchange, call.name, call.tool["outputSchema"], ctx.revision, call.arguments)


@check(
    "fuzz.invalid_input_rejected",
    category="tool.input_validation",
    severity="medium",
    title="Schema-invalid arguments are rejected (-32602 or isError), never executed",
    scope="tool_call",
    rule="T11/T10",
    level="MUST",
)
def invalid_input_rejected(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "invalid":
        raise Skip("judged on schema-invalid inputs")
    if _answered(call):
        yield from check_invalid_rejected(call.exchange, call.name, call.arguments, call.constraint or "?", call.where or "", call.soft)


@check(
    "fuzz.idempotent",
    category="tool.idempotency",
    severity="medium",
    title="Tools annotated idempotentHint/readOnlyHint give equivalent results for identical calls",
    scope="tool_call",
    rule="T13",
    level="hint",
)
def idempotent(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "repeat" or call.first is None:
        raise Skip("no tool is annotated idempotentHint or readOnlyHint")
    yield from check_idempotent(call.first, call.exchange, call.name, call.arguments)


@check(
    "fuzz.read_only",
    category="tool.idempotency",
    severity="low",
    title="Tools annotated readOnlyHint change nothing observable through other read-only tools",
    scope="tool_call",
    rule="T13",
    level="hint",
)
def read_only(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "observed" or call.before is None or call.after is None:
        raise Skip("fewer than two read-only tools to observe one through")
    yield from check_read_only(call.before, call.after, call.name, call.arguments, str(call.observer), call.observer_arguments)


@check(
    "fuzz.no_internal_leak",
    category="security.data_exposure",
    severity="low",
    title="Error texts leak no stack traces, file paths or environment secrets",
    scope="tool_call",
    rule="T11",
    level="MUST",
)
def no_internal_leak(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind not in INPUT_KINDS:
        raise Skip("judged on single calls")
    if _answered(call):
        yield from check_no_leak(call.exchange, call.name, call.arguments, list(call.secrets))
    severity="medium",
    description=(
        "T11: servers validate all inputs. `\"arguments\": null` on a tool with no required property is not judged "
        "as an unvalidated input: CallToolRequest.params.arguments is optional and the official SDKs read null as "
        "absent (mcp 1.x `arguments or {}`), so the tool runs with {}, which its schema allows. null is not an "
        "object, so this is protocol leniency, not the tool author's defect: one info observation per server."
    ),
    if call.arguments is None and _requires_nothing(call.tool):
        if _answered(call):
            yield from check_null_arguments(call.exchange, call.name)
        return
    description="T13: annotations are hints clients must not trust, never a hard failure: low at most.",
    description="T13: annotations are hints clients must not trust, never a hard failure: low at most.",

"""Per-call tool invariants used by the fuzz campaign (spec-digest T9-T12, §6.2, §6.6)."""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterator

from jsonschema import validators

from ..findings import Severity, Violation
from ..registry import register
from ..session import Exchange
from .listing import default_dialect

VALID_ACCEPTED = register(
    "fuzz.valid_input_accepted",
    "tool.input_validation",
    "high",
    "Schema-valid arguments are never rejected as invalid params",
    rule="T10",
    level="MUST",
    campaign="fuzz",
    description="A -32602 for arguments that satisfy the advertised inputSchema means the schema lies.",
)
INVALID_REJECTED = register(
    "fuzz.invalid_input_rejected",
    "tool.input_validation",
    "medium",
    "Schema-invalid arguments are rejected (-32602 or isError), never executed",
    rule="T10/T11",
    level="MUST",
    campaign="fuzz",
)
OUTPUT_CONFORMS = register(
    "fuzz.structured_output",
    "tool.output_schema",
    "high",
    "Successful results of tools with an outputSchema carry conforming structuredContent",
    rule="T12",
    level="MUST",
    campaign="fuzz",
)
NO_LEAK = register(
    "fuzz.no_internal_leak",
    "security.data_exposure",
    "medium",
    "Error texts leak no stack traces, file paths or environment secrets",
    rule="T11",
    level="MUST",
    campaign="fuzz",
)
IDEMPOTENT = register(
    "fuzz.idempotent",
    "tool.idempotency",
    "medium",
    "Tools annotated idempotentHint/readOnlyHint give equivalent results for identical calls",
    rule="T13",
    level="hint",
    campaign="fuzz",
)
READ_ONLY = register(
    "fuzz.read_only",
    "tool.idempotency",
    "medium",
    "Tools annotated readOnlyHint change nothing observable through other read-only tools",
    rule="T13",
    level="hint",
    campaign="fuzz",
)
FUZZ_NO_HANG = register(
    "fuzz.no_hang",
    "robustness.timeout",
    "high",
    "Every fuzzed call is answered within the timeout",
    rule="T11",
    level="MUST",
    campaign="fuzz",
)
FUZZ_NO_CRASH = register(
    "fuzz.no_crash",
    "protocol.crash",
    "critical",
    "No fuzzed call kills the server or its connection",
    rule="T11",
    level="MUST",
    campaign="fuzz",
)
FUZZ_STDOUT = register(
    "fuzz.stdout_clean",
    "protocol.stdout_pollution",
    "high",
    "Tool calls never write non-protocol bytes to stdout",
    rule="S1",
    level="MUST NOT",
    campaign="fuzz",
)

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
    if ex.response is None:
        return
    if ex.error_code == -32602:
        yield Violation(f"tool {tool!r} rejected schema-valid arguments with -32602: {ex.error.get('message')!r}", ex.evidence(), tool=tool, input=args, key=f"{tool}/32602")
    elif ex.ok and isinstance(ex.result, dict) and ex.result.get("isError") is True and _blames_arguments(ex.result):
        yield Violation(f"tool {tool!r} answered schema-valid arguments with an argument-validation error: {_texts(ex.result)[:300]!r}", ex.evidence(), tool=tool, input=args, key=f"{tool}/iserror")


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
        yield Violation(f"tool {tool!r} leaked a server file path ({m.group(0)})", ex.evidence(), tool=tool, input=args, severity=Severity.low, key=f"{tool}/path")


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

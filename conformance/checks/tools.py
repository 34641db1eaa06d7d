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
        err = next(iter(_validator_of(output_schema, revision).iter_errors(ex.result["structuredContent"])), None)
    except Exception as exc:  # an invalid outputSchema is judged by tools.output_schema
        err = None
        _ = exc
    if err is not None:
        where = "/" + "/".join(str(p) for p in err.absolute_path)
        yield Violation(f"tool {tool!r} structuredContent violates its outputSchema at {where}: {err.message}", ex.evidence(), tool=tool, input=args, path="/result/structuredContent" + (where if where != "/" else ""), key=f"{tool}/{err.validator}")


_BY_OBJECT: dict[tuple[int, str | None], tuple[Any, Any]] = {}  # (id(schema), revision) -> (schema, validator)


def _validator_of(output_schema: dict[str, Any], revision: str | None) -> Any:
    """_output_validator without serializing the schema on every call: a tool's outputSchema is
    the same object on each of its fuzz calls (the entry holds the object, so its id stays its)."""
    key = (id(output_schema), revision)
    hit = _BY_OBJECT.get(key)
    if hit is None or hit[0] is not output_schema:
        if len(_BY_OBJECT) >= 256:
            _BY_OBJECT.clear()
        hit = _BY_OBJECT[key] = (output_schema, _output_validator(json.dumps(output_schema, sort_keys=True), revision))
    return hit[1]


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


# ----------------------------------------------------------------- volatile values (idempotency)
# What may differ between two identical calls of a truthful idempotent / read-only tool: the
# time (ISO dates, clock times, epoch seconds or milliseconds, durations), fresh random ids
# (UUIDs, long hex or base64 tokens) and non-integer numbers (random floats, measurements), and
# anything under a key that names such a value. Masking errs towards hiding a difference: a
# missed side effect is better than a false alarm.
_VOLATILE_WORDS = frozenset(
    "time timestamp timestamps date datetime dates uptime elapsed duration latency took ms ns us nonce uuid guid "
    "random rand seed etag expires expiry now timing clock ts age".split())
_ID_OWNERS = frozenset("request trace span session correlation run event message".split())


def volatile_key(key: str) -> bool:
    """A member name that names a volatile value: a time (createdAt, elapsed_ms, timestamp), a
    random or per-request id (uuid, nonce, request_id)."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", str(key))]
    if not words:
        return False
    if any(w in _VOLATILE_WORDS for w in words):
        return True
    return (len(words) > 1 and words[-1] == "at") or (len(words) > 1 and words[-1] == "id" and words[-2] in _ID_OWNERS)


_MASKS = [
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9a-fA-F])"),  # UUID
    re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"),  # ISO 8601
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp][Mm])?\b"),  # clock time
    re.compile(r"\b(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?|Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|"
               r"July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b"),  # day and month names
    re.compile(r"(?<![\w.])1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?(?![\w.])"),  # epoch s / ms (2017..2033)
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|sec|secs|seconds?|milliseconds?|minutes?|mins?)\b", re.I),  # duration
    re.compile(r"[0-9a-fA-F]{16,}"),  # hex token / hash
    re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}\b"),  # random token
    re.compile(r"(?<![\w.])-?\d+\.\d{3,}(?![\w.])"),  # a measured or random fraction
]
VOLATILE = "<volatile>"


def _mask_text(text: str) -> str:
    for rx in _MASKS:
        text = rx.sub(VOLATILE, text)
    return text


def mask_volatile(value: Any) -> Any:
    """`value` with every volatile part replaced by "<volatile>" (module comment above). A text
    block that holds JSON is compared as that JSON."""
    if isinstance(value, dict):
        return {k: (VOLATILE if volatile_key(k) and not isinstance(v, (dict, list)) else mask_volatile(v))
                for k, v in value.items() if k != "_meta"}
    if isinstance(value, list):
        return [mask_volatile(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and not value.is_integer():
        return VOLATILE
    if isinstance(value, (int, float)):
        return VOLATILE if 1_500_000_000 <= value < 2_100_000_000 or 1_500_000_000_000 <= value < 2_100_000_000_000 else value
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in "{[" and s[-1:] in "}]":
            try:
                return {"<json>": mask_volatile(json.loads(s))}
            except ValueError:
                pass
        return _mask_text(value)
    return value


def _outcome(ex: Exchange) -> Any:
    """What an answer says, masked: the error, or the result's structuredContent when it has one
    (the content blocks repeat it), else its content."""
    if not ex.ok:
        return mask_volatile(ex.error)
    result = _comparable(ex.result)
    if isinstance(result, dict) and "structuredContent" in result:
        result = {k: v for k, v in result.items() if k != "content"}
    return mask_volatile(result)


_TOKEN = re.compile(r"-?\d+|[^\W\d_]+|\S")


def _tokens(value: Any) -> list[str]:
    return _TOKEN.findall(json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr))


def _is_int(tok: str) -> bool:
    return tok.lstrip("-").isdigit()


def _counters(seen: list[Any]) -> bool:
    """Every answer has the same shape and what differs are integers that each move by one
    constant non-zero step per call (a call counter, a history length): state the calls changed."""
    toks = [_tokens(s) for s in seen]
    if len({len(t) for t in toks}) != 1:
        return False
    moving = False
    for column in zip(*toks):
        if len(set(column)) == 1:
            continue
        if not all(_is_int(t) for t in column):
            return False
        steps = {int(b) - int(a) for a, b in zip(column, column[1:])}
        if len(steps) != 1 or 0 in steps:
            return False
        moving = True
    return moving


def _appends(seen: list[Any]) -> bool:
    """Each answer is the previous one with the same number of new tokens inserted in one place
    (numbers aside): a history or a list the calls append to."""
    toks = [["#" if _is_int(t) else t for t in _tokens(s)] for s in seen]
    grown = set()
    for a, b in zip(toks, toks[1:]):
        if len(b) <= len(a):
            return False
        p = 0
        while p < len(a) and a[p] == b[p]:
            p += 1
        q = 0
        while q < len(a) - p and a[len(a) - 1 - q] == b[len(b) - 1 - q]:
            q += 1
        if p + q < len(a):  # more than one insertion, or a change
            return False
        grown.add(len(b) - len(a))
    return len(grown) == 1


def side_effect(first: Exchange, second: Exchange, further: "tuple[Exchange, ...] | list[Exchange]" = ()) -> str | None:
    """Why the answers to identical calls show a side effect (None: they do not, or it cannot be
    told from time or randomness). Needs the masked answers to differ, the first never to come
    back, and the change to progress: counters that move by one constant step per call, or a
    text that grows by the same amount per call. `further`: more identical calls after `second`."""
    seen = [_outcome(e) for e in (first, second, *further) if e.answered]
    if len(seen) < 3 or seen[0] == seen[1] or seen[0] in seen[1:]:
        return None
    if _counters(seen):
        return f"a value moves by a constant step on each of {len(seen)} identical calls (a counter the calls advance)"
    if _appends(seen):
        return f"the answer grows by the same amount on each of {len(seen)} identical calls (state the calls append to)"
    return None


def volatile_only(first: Exchange, second: Exchange) -> bool:
    """The answers to two identical calls differ only in volatile values (or not at all)."""
    return _outcome(first) == _outcome(second)


SIDE_EFFECT_SEVERITY = Severity.medium  # issue 13 class 2: a proven side effect, not a hint


def check_idempotent(first: Exchange, second: Exchange, tool: str, args: Any, further: "tuple[Exchange, ...] | list[Exchange]" = ()) -> Iterator[Violation]:
    """Identical calls of a tool annotated idempotentHint/readOnlyHint. Answers that differ only in
    volatile values (mask_volatile) are fine. A difference that survives masking, never returns to
    the first answer on `further` calls and progresses with each call is a side effect (medium,
    the first and the last answers as evidence); any other surviving difference is an
    observation (info): time or randomness mcpcheck could not mask may explain it."""
    if not (first.ok and second.ok):
        if first.ok != second.ok and first.answered and second.answered:
            yield Violation(f"tool {tool!r} (annotated idempotent/read-only) succeeded once and failed once for identical arguments", [*first.evidence(), *second.evidence()], tool=tool, input=args, key=f"{tool}/okerr")
        return
    e1 = isinstance(first.result, dict) and first.result.get("isError") is True
    e2 = isinstance(second.result, dict) and second.result.get("isError") is True
    if e1 != e2:
        yield Violation(f"tool {tool!r} (annotated idempotent/read-only) {'failed' if e1 else 'succeeded'} on the first call and {'failed' if e2 else 'succeeded'} on the second, for identical arguments: the first call changed state", [*first.evidence(), *second.evidence()], tool=tool, input=args, key=f"{tool}/iserror")
        return
    if volatile_only(first, second):
        return
    why = side_effect(first, second, further)
    if why is not None:
        last = [e for e in (second, *further) if e.answered][-1]
        yield Violation(
            f"tool {tool!r} is annotated idempotent/read-only, but identical calls change what it answers: {why}; "
            f"the first answer never came back (time stamps, ids, durations and random fractions masked)",
            [*first.evidence(), *last.evidence()], tool=tool, input=args, severity=SIDE_EFFECT_SEVERITY, key=f"{tool}/side-effect",
        )
        return
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
CAUSE_KINDS = ("oversized", "unicode")  # the fuzz campaign's string probes: crashes classified by cause

# odd unicode: C0/C1 controls (not tab, LF, CR), lone surrogates, zero-width and bidi controls,
# the BOM and noncharacters
ODD_UNICODE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")
SURROGATE = re.compile("[\ud800-\udfff]")


def odd_unicode(value: Any) -> list[str]:
    """The odd-unicode characters in every string of `value` (keys included), in order, unique."""
    found: dict[str, None] = {}

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.update(dict.fromkeys(ODD_UNICODE.findall(v)))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return list(found)


def crashed(call: ToolCall) -> str | None:
    """Why the server is dead or wedged after this call (None: it is not). The evidence that needs:
    the process or connection ended, or the server answered no liveness ping after the call failed
    or went unanswered."""
    ex = call.exchange
    if call.alive and call.ping_answered is not False:
        return None
    if not call.alive:
        why = call.closed_reason or "the connection was lost"
    else:
        why = f"{ex.transport_error or f'no answer within {call.timeout or 0:g}s'}; the server answered no ping afterwards"
    if call.stderr.strip():
        why += f"\nlast stderr:\n{call.stderr.strip()}"
    return why


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
    if call.kind in CAUSE_KINDS:
        raise Skip("crashes on oversized and odd-unicode strings are classified by their cause (fuzz.resource_limits, fuzz.unicode)")
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
    if call.kind in CAUSE_KINDS:
        raise Skip("oversized and odd-unicode strings are judged by fuzz.resource_limits and fuzz.unicode")
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
    if call.kind in CAUSE_KINDS:
        raise Skip("a slow answer to a megabyte string or odd unicode is no finding")
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
    title="Schema-valid arguments are never rejected as invalid params",
    scope="tool_call",
    severity="medium",
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
    description=(
        "T11: servers validate all inputs. `\"arguments\": null` on a tool with no required property is not judged "
        "as an unvalidated input: CallToolRequest.params.arguments is optional and the official SDKs read null as "
        "absent (mcp 1.x `arguments or {}`), so the tool runs with {}, which its schema allows. null is not an "
        "object, so this is protocol leniency, not the tool author's defect: one info observation per server."
    ),
)
def invalid_input_rejected(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "invalid":
        raise Skip("judged on schema-invalid inputs")
    if call.arguments is None and _requires_nothing(call.tool):
        if _answered(call):
            yield from check_null_arguments(call.exchange, call.name)
        return
    if _answered(call):
        yield from check_invalid_rejected(call.exchange, call.name, call.arguments, call.constraint or "?", call.where or "", call.soft)


@check(
    "fuzz.idempotent",
    category="tool.idempotency",
    severity="low",
    title="Tools annotated idempotentHint/readOnlyHint give equivalent results for identical calls",
    scope="tool_call",
    rule="T13",
    level="hint",
    description="T13: annotations are hints clients must not trust: low; medium only for a proven side effect (the difference survives masking volatile values and the earlier result never comes back).",
)
def idempotent(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "repeat" or call.first is None:
        raise Skip("no tool is annotated idempotentHint or readOnlyHint")
    yield from check_idempotent(call.first, call.exchange, call.name, call.arguments, call.further)


@check(
    "fuzz.read_only",
    category="tool.idempotency",
    severity="low",
    title="Tools annotated readOnlyHint change nothing observable through other read-only tools",
    scope="tool_call",
    rule="T13",
    level="hint",
    description="T13: annotations are hints clients must not trust, never a hard failure: low at most.",
)
def read_only(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "observed" or call.before is None or call.after is None:
        raise Skip("fewer than two read-only tools to observe one through")
    yield from check_read_only(call.before, call.after, call.name, call.arguments, str(call.observer), call.observer_arguments)


@check(
    "fuzz.no_internal_leak",
    category="security.data_exposure",
    severity="medium",
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


@check(
    "fuzz.resource_limits",
    category="robustness.resource_limits",
    severity="high",
    title="An oversized string in any string field never kills or wedges the server (sizes grow stepwise: the report names the first that fails)",
    scope="tool_call",
    rule="T11",
    level="MUST",
    description="The fuzz campaign's `strings` mode puts strings of growing size (1 KiB, 64 KiB, 1 MiB, 8 MiB, bounded by "
    "FuzzSettings.max_string_bytes / MCPCHECK_MAX_STRING_BYTES) into every string field of each tool. Dying on one (or "
    "answering no ping after it) is high; never answering it while ping still answers is medium. Refusing it (an error, "
    "an HTTP 413, a closed request) is the right answer; a slow answer is no finding.",
)
def resource_limits(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "oversized":
        raise Skip("judged on the oversized-string probe (fuzz mode 'strings')")
    ex = call.exchange
    ping = ex.ping.evidence() if ex.ping is not None else []
    why = crashed(call)
    if why is not None:
        yield Violation(f"tools/call {call.name!r} with a {call.constraint} string in {call.where} killed the server: {why}",
                        [*ex.evidence(), *ping], tool=call.name, input=call.arguments, path=call.where, key=f"crash/{call.constraint}")
    elif ex.timed_out and not ex.answered and ex.transport_error is None:
        yield Violation(f"tools/call {call.name!r} with a {call.constraint} string in {call.where} was never answered (the server still answers ping)",
                        [*ex.evidence(), *ping], tool=call.name, input=call.arguments, path=call.where, severity=Severity.medium, key=f"{call.name}/unanswered")


@check(
    "fuzz.unicode",
    category="robustness.unicode",
    severity="critical",
    title="Odd unicode in any string field (lone surrogates, NUL and control characters, bidi and zero-width marks, noncharacters) never kills the server",
    scope="tool_call",
    rule="T11",
    level="MUST",
    description="The fuzz campaign's `strings` mode puts each odd-unicode payload into every string field of each tool "
    "(lone surrogates as \\u escapes: UTF-8 cannot carry them). Dying on one is critical, as any crash on a small input; "
    "never answering one while ping still answers is medium, except a lone surrogate: RFC 8259 leaves the handling of "
    "unpaired surrogates unpredictable, so dropping that request is an observation (info). A crash the fuzz campaign's "
    "search finds is filed here when the same input without its odd characters does not crash a fresh server.",
)
def unicode(ctx: ToolCallContext, call: ToolCall) -> Iterator[Violation]:
    if call.kind != "unicode":
        raise Skip("judged on the odd-unicode probe (fuzz mode 'strings')")
    ex = call.exchange
    ping = ex.ping.evidence() if ex.ping is not None else []
    why = crashed(call)
    if why is not None:
        yield Violation(f"tools/call {call.name!r} with {call.constraint} in {call.where} killed the server: {why}",
                        [*ex.evidence(), *ping], tool=call.name, input=call.arguments, path=call.where, key=f"{call.name}/crash")
    elif ex.timed_out and not ex.answered and ex.transport_error is None:
        lone = bool(SURROGATE.search(json.dumps(call.arguments, ensure_ascii=False)))
        yield Violation(
            f"tools/call {call.name!r} with {call.constraint} in {call.where} was never answered "
            f"(not within {ex.timeout:g}s{f' nor the {ex.grace:g}s after' if ex.grace else ''}; the server still answers ping)"
            + (": it drops requests holding an unpaired surrogate, whose handling RFC 8259 leaves unpredictable" if lone else ""),
            [*ex.evidence(), *ping], tool=call.name, input=call.arguments, path=call.where,
            severity=Severity.info if lone else Severity.medium, key="surrogate-dropped" if lone else f"{call.name}/unanswered",
        )


"""Active conformance probes that call tools (issue 13, classes 3 and 4).

Session checks of campaign "conformance", run after the campaign's own probes and the rule probes
(the runner imports this module after campaigns/rule_probes.py; registration order is run order).
Only tools mcpcheck may call (safety.may_call) are called, with valid arguments
(mcpcheck.strategies: the simplest valid arguments, then distinct drawn ones); every phase has a
time budget. The judgements are pure functions in checks/concurrency.py.

- concurrency.tool_calls   the read-only tools (readOnlyHint) are called alone, twice per input
                           (an input whose two answers differ is time- or random-dependent and is
                           dropped), then all at once with distinct inputs; a call that gets the
                           answer another input gets alone was mixed up (J4).
- cancellation.slow_call   the callable tools are timed on a few inputs (read-only first; a
                           bounded number parameter at its maximum tends to be the slow one); the
                           slowest call that takes >= MIN_SLOW is cancelled in flight with
                           notifications/cancelled and must not be answered (CN1 SHOULD; CN2
                           MUST NOT over 2026-07-28 stdio). Skipped when every call is too fast to
                           tell an ignored cancel from a race, and over 2026-07-28 HTTP, where
                           closing the response stream is the cancel.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from mcpcheck import strategies
from ..checks.concurrency import CANCEL_GRACE, Baseline, CancelTrial, answer_of, burst_violations, cancel_violations, canonical, mismatches, short, trial_outcome
from ..findings import Violation
from ..load.pool import draw
from ..registry import SessionContext, Skip, check
from ..safety import is_read_only, may_call
from ..session import Exchange, Session
from .conformance import listing_of

# concurrency.tool_calls
CONC_TOOLS = 3  # read-only tools judged per era
CONC_INPUTS = 6  # distinct inputs (with distinct answers) per tool
CONC_REPEAT = 2  # each input this many times in the concurrent round
CONC_DRAWS = 12  # inputs drawn per tool to find them
CONC_BUDGET = 5.0  # seconds for the sequential calls of one era
CONC_CALL_CAP = 0.5  # seconds: an input slower than this is not used (the round must stay short)

# cancellation.slow_call
MIN_SLOW = 0.3  # seconds a call must take for its cancel to be observable
ENOUGH = 1.0  # stop timing candidates once one takes this long
MEASURE_CAP = 3.0  # seconds: a candidate slower than this is cancelled and not used
MEASURE_BUDGET = 8.0  # seconds of timing calls per era
TRIALS = 3  # cancel trials at most (two answered ones make a finding)
DELAY_WORDS = re.compile(r"delay|sleep|wait|duration|latency|timeout|seconds|secs|millis|_ms$|ms$", re.I)


def _schema(tool: dict[str, Any]) -> dict[str, Any]:
    schema = tool.get("inputSchema")
    return schema if isinstance(schema, dict) else {"type": "object"}


def _call(s: Session, name: str, args: Any, timeout: float, *, capped: bool) -> Any:
    """A tools/call; `capped`: mcpcheck's own short deadline (its silence is not judged a hang)."""
    return s.request("tools/call", {"name": name, "arguments": args}, timeout=timeout, malformed=capped)


async def _tools(ctx: SessionContext) -> list[dict[str, Any]]:
    if "tools" not in ctx.capabilities:
        raise Skip("the server does not advertise tools")
    listing = await listing_of(ctx)
    return [t for t in listing.tools if isinstance(t, dict) and isinstance(t.get("name"), str)]


async def valid_inputs(schema: dict[str, Any], revision: str | None, n: int) -> list[Any]:
    """The simplest valid arguments, then up to n distinct drawn ones (derandomized: the same
    every run); every one is valid for the schema (strategies.plan_valid's oracle)."""
    plan = strategies.plan_valid(schema, revision=revision)
    base = await asyncio.to_thread(strategies.simplest, plan.strategy)
    drawn = await asyncio.to_thread(draw, plan.strategy, n, None)
    out: dict[str, Any] = {canonical(base): base}
    for v in drawn:
        out.setdefault(canonical(v), v)
    return list(out.values())


def slow_variants(schema: dict[str, Any], base: Any, revision: str | None) -> list[Any]:
    """Arguments likely to make a call slow: first `base` with each delay-like number at a modest
    value (about a second: slow enough to observe a cancel, and the cancel trials each wait about
    as long as the call; at most the number's maximum), then `base` with each top-level bounded
    number at its maximum (all at once). Only variants the schema accepts."""
    if not isinstance(base, dict) or not isinstance(schema.get("properties"), dict):
        return []
    out, maxed, modest = [], copy.deepcopy(base), copy.deepcopy(base)
    for name, sub in schema["properties"].items():
        if not isinstance(sub, dict) or sub.get("type") not in ("integer", "number"):
            continue
        top = sub.get("maximum")
        bounded = isinstance(top, (int, float)) and not isinstance(top, bool)
        if DELAY_WORDS.search(name):
            second = 1000 if re.search(r"ms|milli", name, re.I) else 1
            modest[name] = min(top, second) if bounded else second
        if bounded:
            maxed[name] = top
        elif DELAY_WORDS.search(name):
            maxed[name] = modest[name]
    for variant in (modest, maxed):
        if variant != base and variant not in out:
            out.append(variant)
    try:
        validator = strategies.make_validator(schema, revision, formats=True)
        return [v for v in out if validator.is_valid(v)]
    except Exception:  # noqa: BLE001 - a schema we cannot evaluate gets no variant
        return []


# --------------------------------------------------------------------------- concurrency (class 3)


@check(
    "concurrency.tool_calls",
    category="protocol.concurrency",
    severity="high",
    title="Concurrent calls of read-only tools each get their own answer",
    scope="session",
    rule="J4",
    level="MUST",
    description=(
        f"Up to {CONC_TOOLS} read-only tools (readOnlyHint, callable): distinct valid inputs are called alone twice each "
        f"(inputs whose answers differ between the two calls, or equal another input's, are dropped), then {CONC_REPEAT}x "
        "each all at once. A call answered with exactly what another input gets alone is a mix-up (high). An answer that "
        "only differs from the sequential one is an observation (info): load-dependent output cannot be told from a bug. "
        "Skipped when no read-only tool can be called or none has two inputs with distinct, stable answers."
    ),
)
async def tool_calls(ctx: SessionContext) -> AsyncIterator[Violation]:
    tools = [t for t in await _tools(ctx) if is_read_only(t)]
    if not tools:
        raise Skip("no tool is annotated readOnlyHint: concurrent calls are made only of read-only tools")
    callable_ = [t for t in tools if may_call(t, ctx.config.safety) is None]
    if not callable_:
        raise Skip("no read-only tool mcpcheck may call: " + "; ".join(str(may_call(t, ctx.config.safety)) for t in tools[:3]))
    deadline = time.monotonic() + CONC_BUDGET
    judged, why = 0, []
    for tool in callable_:
        if judged >= CONC_TOOLS:
            break
        if time.monotonic() > deadline:
            why.append("time budget spent")
            break
        name = str(tool["name"])
        baselines, reason = await _baselines(ctx, tool, deadline)
        if len(baselines) < 2:
            why.append(f"{name}: {reason}")
            continue
        ctx.progress(f"concurrency.tool_calls: {len(baselines) * CONC_REPEAT} concurrent calls of {name}")
        order = [i for _ in range(CONC_REPEAT) for i in range(len(baselines))]
        s = ctx.session
        exchanges = await asyncio.gather(*(_call(s, name, baselines[i].input, s.timeout, capped=False) for i in order))
        calls = list(zip(order, exchanges))
        found = await _confirmed(ctx, name, baselines, mismatches(baselines, calls))
        judged += 1
        for v in burst_violations(name, baselines, calls, found):
            yield v
    if not judged:
        raise Skip("no read-only tool had two inputs with distinct, stable answers (" + "; ".join(why) + ")")


async def _baselines(ctx: SessionContext, tool: dict[str, Any], deadline: float) -> tuple[list[Baseline], str]:
    """Inputs with a stable answer (the same twice alone) that no other chosen input shares."""
    name = str(tool["name"])
    try:
        inputs = await valid_inputs(_schema(tool), ctx.revision, CONC_DRAWS)
    except Exception as exc:  # noqa: BLE001 - an unusable schema is judged by tools.input_schema
        return [], f"no valid inputs ({type(exc).__name__}: {str(exc)[:120]})"
    out: list[Baseline] = []
    seen: set[str] = set()
    unstable = slow = 0
    for args in inputs:
        if len(out) >= CONC_INPUTS or time.monotonic() > deadline:
            break
        pair: list[Exchange] = []
        for _ in range(2):
            ex = await _call(ctx.session, name, args, min(CONC_CALL_CAP, ctx.session.timeout), capped=True)
            if ex.response is None:
                break
            pair.append(ex)
        if len(pair) < 2:
            slow += 1
            if slow >= 2 and not out:
                break  # the tool is slow on its simplest inputs: not worth the budget
            continue
        a, b = answer_of(pair[0]), answer_of(pair[1])
        if a != b:
            unstable += 1
            continue
        if a is None or a in seen:
            continue
        seen.add(a)
        out.append(Baseline(args, a, pair))
    if len(out) >= 2:
        return out, ""
    parts = [f"{len(inputs)} inputs tried, {len(out)} with a distinct stable answer"]
    if unstable:
        parts.append(f"{unstable} answered differently on a second call alone (time- or random-dependent)")
    if slow:
        parts.append(f"{slow} slower than {CONC_CALL_CAP:g} s")
    return out, ", ".join(parts)


async def _confirmed(ctx: SessionContext, name: str, baselines: list[Baseline], found: list) -> list:
    """Mismatches whose inputs still get their sequential answers after the concurrent round (a
    read-only tool whose answers moved meanwhile proves nothing)."""
    if not found:
        return found
    involved = sorted({i for m in found for i in (m.index, m.crossed) if i is not None})
    drifted = set()
    for i in involved:
        ex = await _call(ctx.session, name, baselines[i].input, min(CONC_CALL_CAP, ctx.session.timeout), capped=True)
        if answer_of(ex) != baselines[i].answer:
            drifted.add(i)
    return [m for m in found if m.index not in drifted and m.crossed not in drifted]


# --------------------------------------------------------------------------- cancellation (class 4)


@dataclass
class Timed:
    tool: str
    args: Any
    seconds: float
    read_only: bool


@check(
    "cancellation.slow_call",
    category="protocol.cancellation",
    severity="medium",
    title="A slow tool call cancelled in flight is not answered",
    scope="session",
    rule="CN2/CN1",
    level="MUST NOT",
    description=(
        f"The callable tools (read-only first) are timed on their simplest valid arguments and with bounded numbers at "
        f"their maximum; the slowest call that takes >= {MIN_SLOW * 1000:.0f} ms is sent again and cancelled "
        "(notifications/cancelled) a fraction into it. A result more than "
        f"{CANCEL_GRACE * 1000:.0f} ms after the cancel, or an error answering it, in two trials: 2026-07-28 over stdio MUST "
        "NOT (CN2, medium); before 2026-07-28 SHOULD NOT (CN1, low; over HTTP an error is info: that wire ends a request's "
        "stream only with a response). One silent trial passes. Skipped when every call is too fast, over HTTP without a "
        "session, and over 2026-07-28 HTTP (closing the response stream is the cancel: an answer cannot be observed)."
    ),
)
async def slow_call(ctx: SessionContext) -> AsyncIterator[Violation]:
    if ctx.stateless and ctx.transport == "http":
        raise Skip("2026-07-28 over HTTP the cancel is closing the response stream (CN2/HS10): a result sent after it cannot be observed")
    http = ctx.transport == "http"
    if http and not getattr(ctx.session.transport, "session_id", None):
        raise Skip("Streamable HTTP without a session (no Mcp-Session-Id): a cancel cannot name a request of another POST")
    tools = [t for t in await _tools(ctx) if may_call(t, ctx.config.safety) is None]
    if not tools:
        raise Skip("no tool mcpcheck may call")
    pick, timed = await _slowest(ctx, tools)
    if pick is None:
        if not timed:
            raise Skip(f"no call of the {len(tools)} callable tools with valid arguments succeeded within {MEASURE_CAP:g} s: nothing to cancel")
        slowest = max(timed, key=lambda t: t.seconds)
        raise Skip(
            f"every callable tool answered too fast to observe a cancel ({len(timed)} successful calls timed; slowest: "
            f"{slowest.tool} {short(slowest.args, 80)} in {slowest.seconds * 1000:.0f} ms; needs >= {MIN_SLOW * 1000:.0f} ms)"
        )
    ctx.progress(f"cancellation.slow_call: cancelling {pick.tool} (~{pick.seconds * 1000:.0f} ms)")
    answered: list[CancelTrial] = []
    outcomes: list[str] = []
    for _ in range(TRIALS):
        trial = await _trial(ctx.session, pick)
        outcome = trial_outcome(trial)
        outcomes.append(outcome)
        if outcome == "silent":
            break
        if outcome == "answered":
            answered.append(trial)
            if len(answered) == 2:
                break
    await ctx.session.request("tools/list", {})  # still serving after the cancels (robustness.no_hang judges it)
    if "silent" in outcomes:
        return
    if len(answered) < 2:
        raise Skip(f"{pick.tool}: the cancel could not be observed ({', '.join(outcomes)}: answered before or within {CANCEL_GRACE * 1000:.0f} ms of the cancel)")
    strict = ctx.stateless and ctx.transport == "stdio"
    for v in cancel_violations(pick.tool, pick.args, answered, strict=strict, http=http):
        yield v


async def _slowest(ctx: SessionContext, tools: list[dict[str, Any]]) -> tuple[Timed | None, list[Timed]]:
    """Time a few (tool, arguments) candidates, read-only tools first, within MEASURE_BUDGET;
    the slowest one that takes >= MIN_SLOW (None if none does)."""
    ordered = sorted(tools, key=lambda t: not is_read_only(t))
    deadline = time.monotonic() + MEASURE_BUDGET
    timed: list[Timed] = []
    s = ctx.session
    for tool in ordered:
        name, schema = str(tool["name"]), _schema(tool)
        if any(t.seconds >= ENOUGH for t in timed) or time.monotonic() > deadline:
            break
        if not is_read_only(tool) and any(t.seconds >= MIN_SLOW for t in timed):
            break  # a slow enough read-only call: no state-changing tool is timed
        try:
            plan = strategies.plan_valid(schema, revision=ctx.revision)
            base = await asyncio.to_thread(strategies.simplest, plan.strategy)
        except Exception:  # noqa: BLE001 - no valid arguments: not a candidate
            continue
        for args in [*slow_variants(schema, base, ctx.revision), base]:
            if time.monotonic() > deadline:
                break
            ex = await _call(s, name, args, min(MEASURE_CAP, s.timeout), capped=True)
            if ex.response is None:
                if ex.request_entry is not None and ex.timed_out:
                    await s.notify("notifications/cancelled", {"requestId": ex.request.get("id"), "reason": "mcpcheck: too slow to time"})
                continue
            if ex.ok and not (isinstance(ex.result, dict) and ex.result.get("isError") is True):
                timed.append(Timed(name, args, ex.elapsed or 0.0, is_read_only(tool)))
                if timed[-1].seconds >= ENOUGH:
                    break  # slow enough: a slower variant would only lengthen every cancel trial
    slow = [t for t in timed if t.seconds >= MIN_SLOW]
    best = max(slow, key=lambda t: (t.read_only, t.seconds), default=None)
    return best, timed


async def _trial(s: Session, pick: Timed) -> CancelTrial:
    """Call, cancel a fraction into the call, and listen until well after it would have ended."""
    msg = s.build_request("tools/call", {"name": pick.tool, "arguments": pick.args})
    wait = pick.seconds * 1.5 + 0.5
    task = asyncio.ensure_future(s.request("tools/call", message=msg, timeout=wait, malformed=True))
    await asyncio.sleep(min(max(pick.seconds * 0.3, 0.05), 0.25))
    if task.done():
        return CancelTrial(task.result(), None, pick.seconds)
    note = await s.notify("notifications/cancelled", {"requestId": msg["id"], "reason": "mcpcheck: cancelling an in-flight call"})
    ex = await task
    return CancelTrial(ex, note.request_entry, pick.seconds)

"""Pure judgements of concurrent tool calls and of cancelled in-flight calls (issue 13, classes 3
and 4). The probes that make the calls live in campaigns/tool_probes.py; these functions only
read what came back, so tests can call them on recorded exchanges.

- answer_of(ex)               the comparable answer of one exchange (result without _meta, or the
                              error's code and message)
- mismatches(baselines, calls) which concurrent calls did not get the answer their input gets
                              alone, and whether it is the answer of another input (crossed)
- burst_violations(...)       concurrency.tool_calls: a crossed answer is a violation; an answer
                              that only differs is an observation (info: load-dependent output
                              cannot be told from a mix-up)
- trial_outcome(trial)        how a cancelled call ended: silent, answered, race, before, failed
- cancel_violations(...)      cancellation.slow_call: every trial answered after its cancel
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..findings import Severity, Violation
from ..session import Exchange
from ..wirelog import WireEntry

CANCEL_GRACE = 0.15  # seconds after the cancel within which a result may be a race (work done first)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def short(value: Any, limit: int = 120) -> str:
    text = canonical(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def answer_of(ex: Exchange) -> str | None:
    """What a call answered, comparable across calls: the result without `_meta` (2026-07-28
    puts serverInfo there), or the error's code and message; None without an answer."""
    if ex.response is None:
        return None
    if ex.ok:
        result = ex.result
        if isinstance(result, dict):
            result = {k: v for k, v in result.items() if k != "_meta"}
        return canonical({"result": result})
    err = ex.error
    if isinstance(err, dict):
        return canonical({"error": {"code": err.get("code"), "message": err.get("message")}})
    return canonical({"error": err})


# --------------------------------------------------------------------------- concurrency


@dataclass
class Baseline:
    """One input and the answer it got alone, twice in a row (stable)."""

    input: Any
    answer: str
    exchanges: list[Exchange] = field(default_factory=list)


@dataclass
class Mismatch:
    index: int  # the baseline the call's input belongs to
    exchange: Exchange  # the concurrent call
    crossed: int | None  # the baseline whose answer it got instead (None: nobody's)


def mismatches(baselines: list[Baseline], calls: list[tuple[int, Exchange]]) -> list[Mismatch]:
    """Concurrent calls (baseline index, exchange) whose answer is not their input's own. Calls
    without an answer are not judged here (robustness.no_hang judges them)."""
    owner = {b.answer: i for i, b in enumerate(baselines)}
    out = []
    for i, ex in calls:
        got = answer_of(ex)
        if got is None or got == baselines[i].answer:
            continue
        j = owner.get(got)
        out.append(Mismatch(i, ex, j if j is not None and j != i else None))
    return out


def burst_violations(tool: str, baselines: list[Baseline], calls: list[tuple[int, Exchange]], found: list[Mismatch]) -> Iterator[Violation]:
    """concurrency.tool_calls: one violation per tool. A call that got exactly the answer another
    input gets alone (and its own input never gets) was mixed up: the check's severity. Answers
    that only differ from the sequential one are an observation (info)."""
    n = len(calls)
    crossed = [m for m in found if m.crossed is not None]
    if crossed:
        m = crossed[0]
        mine, theirs = baselines[m.index], baselines[m.crossed]  # type: ignore[index]
        rid = m.exchange.request.get("id") if isinstance(m.exchange.request, dict) else None
        yield Violation(
            f"{len(crossed)} of {n} concurrent calls of {tool!r} got another call's answer: request id {rid!r} "
            f"(arguments {short(mine.input)}) was answered {short_answer(theirs.answer)}, the answer arguments "
            f"{short(theirs.input)} get on their own; alone, its own arguments get {short_answer(mine.answer)} "
            "(responses mixed up, or per-call state shared between concurrent calls)",
            [*m.exchange.evidence(), *mine.exchanges[0].evidence(), *theirs.exchanges[0].evidence()],
            tool=tool,
            input=mine.input,
            key=f"{tool}/crossed",
        )
    elif found:
        m = found[0]
        mine = baselines[m.index]
        yield Violation(
            f"{len(found)} of {n} concurrent calls of {tool!r} got an answer their arguments never got alone: arguments "
            f"{short(mine.input)} were answered {short_answer(answer_of(m.exchange) or '')} under concurrency, "
            f"{short_answer(mine.answer)} alone (no other call's answer: load-dependent output or shared state; not judged)",
            [*m.exchange.evidence(), *mine.exchanges[0].evidence()],
            tool=tool,
            input=mine.input,
            severity=Severity.info,
            key=f"{tool}/differs",
        )


def short_answer(answer: str, limit: int = 160) -> str:
    return answer if len(answer) <= limit else answer[: limit - 3] + "..."


# --------------------------------------------------------------------------- cancellation


@dataclass
class CancelTrial:
    """One call cancelled in flight: the call, the notifications/cancelled that went out for it
    (None: the call ended before the cancel was sent), and how long the call takes uncancelled."""

    exchange: Exchange
    cancel: WireEntry | None
    expected: float


def trial_outcome(trial: CancelTrial) -> str:
    """silent: no answer after the cancel (right). answered: a result more than CANCEL_GRACE after
    the cancel, or an error after it. race: a result within CANCEL_GRACE of the cancel (the work
    may have been done before the server read the cancel; the spec allows it). before: answered
    before the cancel went out. failed: the cancel could not be sent."""
    ex, cancel = trial.exchange, trial.cancel
    if cancel is None:
        return "before" if ex.response is not None else "failed"
    got = ex.response_entry if ex.response is not None else None
    if got is None:
        return "silent"
    after = got.t - cancel.t
    if after < 0:
        return "before"
    if ex.ok and after <= CANCEL_GRACE:
        return "race"
    return "answered"


def cancel_violations(tool: str, args: Any, trials: list[CancelTrial], *, strict: bool, http: bool = False) -> Iterator[Violation]:
    """cancellation.slow_call: every trial (at least two) was answered after its cancel.
    strict: 2026-07-28 over stdio, where no message for a cancelled request is a MUST NOT (CN2:
    the check's severity). Otherwise not answering is a SHOULD (CN1: low), except an error over
    HTTP before 2026-07-28: that wire ends a request's SSE stream only with a response (the SDK
    answers -32800 "Request cancelled"), so it is an observation (info)."""
    if len(trials) < 2 or any(trial_outcome(t) != "answered" for t in trials):
        return
    t = trials[-1]
    ex, cancel = t.exchange, t.cancel
    assert cancel is not None and ex.response_entry is not None
    after = ex.response_entry.t - cancel.t
    into = (cancel.t - ex.request_entry.t) if ex.request_entry is not None else 0.0
    if ex.ok:
        what = f"still sent its result {after * 1000:.0f} ms after the cancel"
    else:
        what = f"answered the cancel with an error ({short(ex.error, 80)}) {after * 1000:.0f} ms after it"
    severity, level = (None, None) if strict else (Severity.low, "SHOULD")
    if strict:
        rule = "2026-07-28 stdio: no message for a cancelled request, MUST NOT (CN2)"
    elif http and not ex.ok:
        severity, level = Severity.info, None
        rule = "a cancelled request SHOULD NOT be answered (CN1), but before 2026-07-28 an HTTP request's SSE stream ends only with a response: tolerated"
    else:
        rule = "a cancelled request SHOULD NOT be answered (CN1)"
    yield Violation(
        f"{tool!r}, cancelled {into * 1000:.0f} ms into a call that takes ~{t.expected * 1000:.0f} ms, {what}, in "
        f"{len(trials)} of {len(trials)} trials; {rule}",
        [e for e in (ex.request_entry, cancel, ex.response_entry) if e is not None],
        tool=tool,
        input=args,
        severity=severity,
        level=level,
        key=f"{tool}/answered" if ex.ok else f"{tool}/error",
    )

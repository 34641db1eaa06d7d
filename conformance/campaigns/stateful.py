"""The stateful campaign: a Hypothesis RuleBasedStateMachine over one session.

Rules call tools with generated valid inputs and feed values returned by one tool (ids, names,
URIs: a Bundle) into string arguments of others, list tools again, read resources, get prompts,
ping, and cancel in-flight calls; invariants run after every step. A failing sequence shrinks to
the shortest one and is saved to corpus/ like any other failure (mode "stateful": the steps with
every value passed forward already realized). `replay_sequence` runs such a stored sequence again,
step by step, with the same judging (the replay campaign calls it on a freshly started server).

The campaign's checks (stateful.sequence, stateful.listing_stable, stateful.cancel) are `run`
checks of campaign "stateful": pure functions over what one step produced (`Step`), judged by
`CampaignContext.judge_result` after each step, in the campaign and in the replay. A dead server
ends (and shrinks) the sequence; a listing change or an ignored cancel is recorded and the
sequence goes on. Tool calls are judged by the registry's `tool_call` checks. A check is passed
only once it judged a step; one that judged none is skipped with the reason (no tool to call,
a generation that could not run, a run that stopped early).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis.errors import Flaky, FlakyStrategyDefinition, Unsatisfiable
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule, run_state_machine_as_test

from mcpcheck import strategies

from .. import budget
from ..checks import tools as TC
from ..connect import list_tools, missed_announcements, open_session, session_for
from ..pages import walk
from ..findings import CheckSpec, Severity, Violation
from ..registry import REGISTRY, RunContext, Skip, check
from ..results import TargetResult
from ..safety import may_call
from ..security.poisoning import diff_listings
from ..session import Exchange
from ..wirelog import WireEntry
from .context import CampaignContext
from .engine import Failure, ToolRunner, grouped, hypothesis_notes, judge_call, last_failure, record_with_entry, shrink_budget, typical
from .fuzz import FuzzSettings, randomness
from .own_loop import Await, run_on_own_loop

@dataclass
class Step:
    """What one step of a sequence produced: the `run` result the stateful checks judge.

    action: "alive" (the invariant after every step), "list" (tools/list again) or "cancel" (a
    call cancelled at once)."""

    action: str
    steps: int = 0  # steps so far
    alive: bool = True
    closed_reason: str | None = None
    evidence: list[WireEntry] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)  # list: the session's first tools/list
    now: list[dict[str, Any]] = field(default_factory=list)  # list: this step's tools/list
    notifications: list[WireEntry] = field(default_factory=list)  # list: what the server notified so far
    missed: str | None = None  # list: why a tools list_changed may not have reached us (connect.missed_announcements)
    exchange: Exchange | None = None  # cancel: the cancelled call
    after: float = 0.0  # cancel: seconds between the cancel and the answer
    name: str = ""  # cancel: the tool
    stateless: bool = False


@check(
    "stateful.sequence",
    category="protocol.crash",
    severity="high",
    title="Any sequence of valid calls keeps the server alive and answering",
    scope="run",
    rule="T11",
    level="MUST",
    campaign="stateful",
)
def sequence(ctx: RunContext, step: Step) -> Iterator[Violation]:
    if step.action != "alive":
        raise Skip("judged after every step of a sequence")
    if not step.alive:
        yield Violation(f"the server died after {step.steps} steps: {step.closed_reason}", step.evidence, key="died")


@check(
    "stateful.listing_stable",
    category="security.rug_pull",
    severity="medium",
    title="tools/list does not change during a session without notifications/tools/list_changed",
    scope="run",
    rule="T7/T14",
    level="MUST NOT",
    campaign="stateful",
    description=(
        "The campaign listens where list_changed arrives (stdio; the Streamable HTTP GET stream, H1; in 2026-07-28 a "
        "subscriptions/listen stream): an announced change passes. When that channel could not be read and the server "
        "declared tools.listChanged, a change is low, with the reason."
    ),
)
def listing_stable(ctx: RunContext, step: Step) -> Iterator[Violation]:
    if step.action != "list":
        raise Skip("judged when a sequence lists the tools again")
    v = listing_change(step.listed, step.now, step.notifications, step.evidence, step.missed)
    if v is not None:
        yield v


@check(
    "stateful.cancel",
    category="protocol.cancellation",
    severity="medium",
    title="A cancelled in-flight request gets no response and the server stays healthy",
    scope="run",
    rule="CN2/CN1",
    level="MUST NOT",
    campaign="stateful",
    description=(
        "Judged where the spec binds: 2026-07-28 over stdio, no message for a cancelled request (CN2, MUST NOT). "
        "Before 2026-07-28 not responding is a SHOULD with races allowed (CN1): not judged."
    ),
)
def cancel(ctx: RunContext, step: Step) -> Iterator[Violation]:
    if step.action != "cancel" or step.exchange is None:
        raise Skip("judged when a sequence cancels a call in flight (stdio targets)")
    v = cancel_ignored(step.exchange, step.after, step.name, step.stateless, ctx.transport)
    if v is not None:
        yield v


def _alive(session: Any, steps: int) -> Step:
    return Step("alive", steps, session.alive, session.transport.closed_reason, session.wirelog.entries[-4:])


def _skip_unjudged(ctx: CampaignContext, why: str) -> None:
    """Every stateful check that judged no step so far is skipped with the reason."""
    for c in REGISTRY.for_scope("run", "stateful"):
        ctx.skip(c.spec, why)


ID_KEYS = ("id", "uri", "name", "key", "handle", "token", "slug", "path")


def harvest(result: Any, limit: int = 8) -> list[str]:
    """Strings worth feeding forward: values of id-like keys in structured or JSON text output."""
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if len(found) >= limit:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node[:20]:
                walk(v, key)
        elif isinstance(node, str) and 0 < len(node) <= 200:
            k = key.lower()
            if k in ID_KEYS or k.endswith("id") or k.endswith("_uri") or k.endswith("name"):
                found.append(node)

    if isinstance(result, dict):
        walk(result.get("structuredContent"))
        for block in result.get("content") or []:
            if isinstance(block, dict) and isinstance(block.get("text"), str) and block["text"][:1] in "{[":
                try:
                    walk(json.loads(block["text"]))
                except ValueError:
                    pass
            if isinstance(block, dict) and isinstance(block.get("uri"), str):
                found.append(block["uri"])
    return list(dict.fromkeys(found))[:limit]


def _string_slots(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _string_slots(v, path + (k,))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _string_slots(v, path + (i,))]
    return [path] if isinstance(node, str) else []


def _replace(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replace(node[head], rest, value)}
    out = list(node)
    out[head] = _replace(out[head], rest, value)
    return out


async def run_stateful(ctx: CampaignContext, result: TargetResult, cfg: FuzzSettings | None = None) -> None:
    await run_on_own_loop(_stateful, ctx, cfg or getattr(ctx, "fuzz_settings", None) or FuzzSettings())


def _stateful(run: Await, ctx: CampaignContext, cfg: FuzzSettings) -> None:
    """The campaign body, on the thread that owns the session's loop (see own_loop.py)."""
    # listen where list_changed arrives (the HTTP GET stream, a 2026-07-28 subscriptions/listen
    # stream), so stateful.listing_stable can tell an announced change from a silent one
    eras, session = run(session_for(ctx.target, ctx.known_eras or None, listen=True))
    ctx.revision, ctx.session = eras[0], session
    runner = ToolRunner(ctx, session, {}, [], run)
    runner.listen = True
    try:
        listed = run(list_tools(session))
        callable_tools = []
        for t in listed:
            if may_call(t, ctx.target.safety) is None and isinstance(t.get("inputSchema"), dict):
                try:
                    plan = strategies.plan_valid(t["inputSchema"], revision=ctx.revision)
                except Exception as exc:
                    ctx.notes.append(f"stateful: {t.get('name')}: no valid inputs: {exc}")
                    continue
                callable_tools.append((t, plan.strategy))
        resources = []
        if "resources" in session.server_capabilities:
            ex = run(session.request("resources/list", {}))
            if ex.ok and isinstance(ex.result, dict):
                resources = [r["uri"] for r in ex.result.get("resources") or [] if isinstance(r, dict) and isinstance(r.get("uri"), str)]
        if not callable_tools:
            _skip_unjudged(ctx, "no tool is safe to call")
            return
        _run_machine(runner, ctx, callable_tools, resources, listed, cfg)
    finally:
        run(runner.session.close())


def _run_machine(runner: ToolRunner, ctx: CampaignContext, tools: list, resources: list[str], listed: list, cfg: FuzzSettings) -> None:
    names = [t["name"] for t, _ in tools]
    steps_log: list[dict[str, Any]] = []
    # every step sent to the current server process (its sequences share its state): what is
    # replayed when a failure that Hypothesis could not replay is checked on a fresh server
    history: list[dict[str, Any]] = []
    history_of: list[Any] = [runner.session]

    def log(step: dict[str, Any]) -> None:
        if runner.session is not history_of[0]:  # restarted: a fresh process, a fresh state
            history.clear()
            history_of[0] = runner.session
        steps_log.append(step)
        history.append(step)
        del history[:-HISTORY_STEPS]

    first: list[Failure] = []  # the first failure raised (Hypothesis may lose it: see below)

    def failed(fail: Failure) -> Failure:
        """The failure with the sequence that reached it and the server's history."""
        fail.steps, fail.history = list(steps_log), list(history)  # type: ignore[attr-defined]
        first[:1] = first[:1] or [fail]
        return fail
    sequences = [0]  # state machines started (a list: the class body below increments it)
    planned = max(2, cfg.max_examples // 3)
    stateless = runner.session.stateless

    by_name = {str(t.get("name")): t for t in listed if isinstance(t, dict)}
    took: dict[str, list[float]] = {}  # seconds each tool's calls took (the cancel step's wait, the per-tool cap)
    capped: list[str] = []  # the tool whose calls used the per-tool cap (the campaign stopped there)

    class MCPSession(RuleBasedStateMachine):
        values = Bundle("values")

        def __init__(self) -> None:
            super().__init__()
            budget.current().check()  # --max-time: no new sequence
            sequences[0] += 1
            budget.current().doing(f"{ctx.target.name}: stateful sequence {sequences[0]}", planned=planned, done=sequences[0] - 1)
            steps_log.clear()
            if not runner.session.alive:  # an earlier sequence killed it: invariants run before the first step
                runner.restart()
            self.notes_seen = len(runner.session.notifications)

        def _call(self, i: int, args: Any) -> list[str]:
            budget.current().check()  # --max-time: stop at this step
            name = names[i]
            if cfg.tool_seconds is not None and sum(took.get(name, [])) + typical(took.get(name, [])) > cfg.tool_seconds:
                capped.append(name)  # its calls used the per-tool cap, or the next would pass it: the campaign stops here
                raise _ToolCapped()
            log({"call": name, "arguments": args})
            ex = runner.call(name, args)
            if ex.elapsed is not None:
                took.setdefault(name, []).append(ex.elapsed)
            try:
                runner.judge(runner.tool_call(by_name.get(name, {"name": name}), args, ex, "valid"))
            except Failure as fail:
                raise failed(fail) from None
            return harvest(ex.result) if ex.ok else []

        @rule(target=values, i=st.integers(0, len(tools) - 1), data=st.data())
        def call_tool(self, i: int, data: st.DataObject):
            args = data.draw(tools[i][1], label=f"{names[i]} arguments")
            return multiple(*self._call(i, args))

        @rule(target=values, i=st.integers(0, len(tools) - 1), value=values, data=st.data())
        def call_with_earlier_value(self, i: int, value: str, data: st.DataObject):
            args = data.draw(tools[i][1], label=f"{names[i]} arguments")
            slots = _string_slots(args)
            if slots:
                slot = data.draw(st.sampled_from(slots), label="slot")
                candidate = _replace(args, slot, value)
                if strategies.is_valid(tools[i][0]["inputSchema"], candidate, ctx.revision):
                    args = candidate
            return multiple(*self._call(i, args))

        @rule()
        def list_again(self) -> None:
            log({"list": "tools"})
            now = runner.run(_complete_listing(runner.session))
            if now is None:
                return
            s = runner.session
            step = Step("list", len(steps_log), evidence=s.wirelog.entries[-2:], listed=listed, now=now, notifications=list(s.notifications), missed=missed_announcements([s]).get("tool"))
            for spec, v in ctx.judge_result("stateful", step):
                ctx.record(spec, [v])

        @precondition(lambda self: bool(resources))
        @rule(i=st.integers(0, max(0, len(resources) - 1)))
        def read_resource(self, i: int) -> None:
            log({"read": resources[i]})
            ex = runner.run(runner.session.request("resources/read", {"uri": resources[i]}))
            if ex.timed_out:
                raise failed(Failure(TC.no_hang, Violation(f"resources/read {resources[i]!r} got no answer", ex.evidence())))

        @precondition(lambda self: not stateless)
        @rule()
        def ping(self) -> None:
            log({"ping": True})
            ex = runner.run(runner.session.request("ping"))
            if ex.timed_out:
                raise failed(Failure(TC.no_hang, Violation("ping got no answer mid-sequence", ex.evidence())))

        @precondition(lambda self: ctx.target.transport == "stdio")
        @rule(i=st.integers(0, len(tools) - 1), data=st.data())
        def cancel_in_flight(self, i: int, data: st.DataObject) -> None:
            args = data.draw(tools[i][1], label=f"{names[i]} arguments")
            log({"cancel": names[i], "arguments": args})
            ex, after = runner.run(_call_and_cancel(runner.session, names[i], args, cancel_wait(took.get(names[i], []))))
            for spec, v in ctx.judge_result("stateful", Step("cancel", len(steps_log), exchange=ex, after=after, name=names[i], stateless=stateless)):
                ctx.record(spec, [v])

        @invariant()
        def alive(self) -> None:
            for spec, v in ctx.judge_result("stateful", _alive(runner.session, len(steps_log))):
                if (v.severity or spec.severity) == Severity.info:
                    ctx.record(spec, [v])
                    continue
                raise failed(Failure(spec, v))

    # one example-database key per target (as engine.ToolRunner.keyed does per tool): the class is
    # the same source for every target, so without this they would replay each other's sequences
    MCPSession._hypothesis_internal_add_digest = f"mcpcheck:{ctx.target.name}:*:stateful".encode()  # type: ignore[attr-defined]
    if cfg.seed is not None:  # what @hypothesis.seed does for a test function
        MCPSession._hypothesis_internal_use_seed = cfg.seed  # type: ignore[attr-defined]
    last_failure()
    try:
        with shrink_budget(cfg.shrink_seconds), hypothesis_notes(ctx, "stateful"):  # every failing shrink step may cost a server restart
            _run_state_machine(MCPSession, cfg)
    except Failure as fail:
        _record_sequence(ctx, cfg, fail, steps_log)
    except budget.OutOfTime:
        fail = last_failure()
        if fail is not None:  # --max-time cut the shrink: keep the failing sequence as it stands
            fail.violation.detail += " (shrinking cut short by " + ("the per-tool cap)" if capped else "--max-time)")
            _record_sequence(ctx, cfg, fail, steps_log)
        if capped and not budget.current().expired:
            _note_capped(ctx, capped[0], took, cfg, sequences[0])
            return
        ctx.notes.append(f"time budget: stateful: stopped after {sequences[0]} sequences")
        raise
    except (Flaky, FlakyStrategyDefinition) as exc:
        if capped and not budget.current().expired and budget.caused_by(exc, _ToolCapped):
            _note_capped(ctx, capped[0], took, cfg, sequences[0])
            return
        if budget.out_of_time(exc):  # not flaky: --max-time stopped a step half-way
            ctx.notes.append(f"time budget: stateful: stopped after {sequences[0]} sequences")
            raise budget.OutOfTime() from exc
        # The server's answers feed the sequence (bundles, listings): when they change between
        # runs, Hypothesis cannot replay a sequence. Report what failed, if anything, and go on.
        inner = [e for e in getattr(exc, "exceptions", ()) if isinstance(e, Failure)]
        if inner or first:  # a failure the server's changed answers kept Hypothesis from replaying
            _record_unreplayable(ctx, cfg, runner, (inner or first)[0], by_name)
        if not inner:
            ctx.notes.append(flaky_note(exc, sequences[0]))
            _skip_unjudged(ctx, f"stopped early: the server's answers changed between runs, so Hypothesis could not replay a sequence ({type(exc).__name__})")
    except Unsatisfiable as exc:
        ctx.notes.append(f"stateful: could not generate a sequence ({exc})")
        _skip_unjudged(ctx, f"could not generate a sequence ({exc})")
    _skip_unjudged(ctx, "no sequence reached such a step")


class _ToolCapped(budget.OutOfTime):
    """A tool's calls in this stateful campaign used the per-tool cap (FuzzSettings.tool_seconds)."""


def _note_capped(ctx: CampaignContext, name: str, took: dict[str, list[float]], cfg: FuzzSettings, sequences: int) -> None:
    ctx.notes.append(
        f"time budget: stateful: stopped after {sequences} sequences: the calls of {name} took {sum(took.get(name, [])):.0f}s "
        f"in all, and its next call would have passed the per-tool cap ({cfg.tool_seconds:g}s, --tool-time); what ran before was judged"
    )
    budget.current().cut(f"{ctx.target.name}: stateful stopped after {sequences} sequences at {name}'s per-tool cap")


def flaky_note(exc: BaseException, sequences: int) -> str:
    """Why a stateful run stopped on Hypothesis' Flaky / FlakyStrategyDefinition, in plain words."""
    if isinstance(exc, FlakyStrategyDefinition):
        why = ("the steps Hypothesis could choose changed between runs of the same sequence: they depend on the "
               "server's answers (values fed forward from earlier results), and the server answered differently "
               "when the sequence was run again, so the sequence could not be replayed")
    else:
        why = "a failure did not happen again when Hypothesis ran the same sequence a second time"
    return (f"stateful: stopped after {sequences} sequences: {why}. What ran before was judged; a server whose answers "
            f"vary (time, randomness, ids) causes this; it is not a finding ({type(exc).__name__})")


def _run_state_machine(machine: type, cfg: FuzzSettings) -> None:
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max(2, cfg.max_examples // 3),
            stateful_step_count=12,
            verbosity=Verbosity.quiet,  # the steps go into the finding, not onto our stdout
            deadline=None,
            **randomness(cfg),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        ),
    )


def _record_sequence(ctx: CampaignContext, cfg: FuzzSettings, fail: Failure, steps_log: list) -> None:
    """The failure with the steps that reached it (those it was raised with, else `steps_log`)."""
    v = fail.violation
    steps = list(getattr(fail, "steps", None) or steps_log)
    v.input = {"steps": steps}
    record_with_entry(ctx, cfg, fail.spec, v, tool=v.tool or "*", arguments={"steps": steps}, mode="stateful")


HISTORY_STEPS = 100  # the most steps of one server process kept to replay (see _record_unreplayable)


def _record_unreplayable(ctx: CampaignContext, cfg: FuzzSettings, runner: ToolRunner, fail: Failure, tools: dict) -> None:
    """A failure Hypothesis could not replay: sequences share one server process, so what failed
    may need an earlier sequence's state (mcp-server-sqlite died on a cancel only after another
    sequence's cancels). It is replayed on a fresh server: its own sequence, then every step
    that server process had taken. A finding, with the steps that made it happen again; an
    observation (info) when neither did."""
    steps, history = getattr(fail, "steps", None) or [], getattr(fail, "history", None) or []
    tries = [(steps, "its sequence")] + ([(history, f"the {len(history)} steps the server had taken since it started")] if len(history) > len(steps) else [])
    again = lambda tried: bool(tried) and runner.run(_fails_alone(ctx, runner, fail.spec.id, tried, tools))  # noqa: E731
    try:
        for tried, what in tries:
            if again(tried):
                shortest = _shortest(tried, again, cfg.shrink_seconds)
                fail.steps = shortest  # type: ignore[attr-defined]
                fewer = f", and {len(shortest)} of them still do" if len(shortest) < len(tried) else ""
                fail.violation.detail += f" (Hypothesis could not replay it; {what}, replayed on a fresh server, made it happen again{fewer})"
                return _record_sequence(ctx, cfg, fail, shortest)
    except budget.OutOfTime:
        fail.violation.severity = Severity.info
        fail.violation.detail += " (Hypothesis could not replay it, and the time budget ran out before it was replayed on a fresh server: an observation)"
        _record_sequence(ctx, cfg, fail, steps)
        raise
    fail.violation.severity = Severity.info
    fail.violation.detail += (" (flaky: it did not happen again when " + " or ".join(w for _t, w in tries)
                              + " were replayed on a fresh server, so reported as an observation)")
    _record_sequence(ctx, cfg, fail, steps)


def _shortest(steps: list, fails: Callable[[list], bool], seconds: float | None) -> list:
    """Fewer steps that still fail (`fails` replays them on a fresh server): chunks are dropped,
    halves first, then smaller ones, while the time lasts (the shrink bound; None: 60 s)."""
    end = time.monotonic() + (seconds if seconds is not None else 60.0)
    parts = 2
    while len(steps) > 1 and time.monotonic() < end:
        size = max(1, len(steps) // parts)
        for at in range(0, len(steps), size):
            fewer = steps[:at] + steps[at + size:]
            if time.monotonic() >= end:
                return steps
            if fewer and fails(fewer):
                steps, parts = fewer, max(parts - 1, 2)
                break
        else:
            if size == 1:
                return steps
            parts = min(parts * 2, len(steps))
    return steps


async def _fails_alone(ctx: CampaignContext, runner: ToolRunner, check_id: str, steps: list, tools: dict) -> bool:
    """Run `steps` on a fresh server with the campaign's judging: does check `check_id` fail?"""
    session, saved = await open_session(ctx.target, ctx.revision or "", extra_env=runner.env), ctx.session
    ctx.session = session
    try:
        pairs = await replay_sequence(ctx, "replayed on a fresh server", steps, tools)
    finally:
        ctx.session = saved
        await session.close()
    return any(spec.id == check_id and any((v.severity or spec.severity) > Severity.info for v in found) for spec, found in pairs)


async def _complete_listing(session) -> list[dict[str, Any]] | None:
    """tools/list walked to its end, de-duplicated by name; None when a page got no result (the
    server died or answered an error): such a listing lists nothing, so it is not compared (a
    tool it lacks did not disappear; the death is stateful.sequence's)."""
    w = await walk(session, "tools/list", "tools")
    return None if w.stop == "error" else w.unique("name")


CANCEL_GRACE = 0.25  # seconds after the cancel within which an answer may be a race


CANCEL_SETTLE = 0.5  # seconds at most the ping after a cancel step waits for its answer
CANCEL_WAIT = 1.0  # seconds a cancelled call is listened to at most
CANCEL_WAIT_MIN = 0.25  # ... and at least


def cancel_wait(seconds: list[float]) -> float:
    """How long a call cancelled at once is listened to for an answer it should not get: four
    times the longest the tool took to answer before (a server that ignores the cancel answers
    about then), between CANCEL_WAIT_MIN and CANCEL_WAIT; CANCEL_WAIT for a tool not seen yet.
    A server that honours every cancel (the correct one) costs this much per cancel step, so
    the wait follows the tool: a shorter one can only miss a late answer, never invent one."""
    if not seconds:
        return CANCEL_WAIT
    return min(CANCEL_WAIT, max(CANCEL_WAIT_MIN, 4 * max(seconds)))


async def _call_and_cancel(session, name: str, args: Any, wait: float = CANCEL_WAIT):
    """Call, cancel at once; returns the exchange and how long after the cancel any answer came."""
    msg = session.build_request("tools/call", {"name": name, "arguments": args})
    t0 = time.monotonic()
    task = asyncio.create_task(session.request("tools/call", message=msg, timeout=wait, malformed=True))
    await asyncio.sleep(0)
    await session.notify("notifications/cancelled", {"requestId": msg["id"], "reason": "mcpcheck stateful cancel"})
    cancelled_at = time.monotonic() - t0
    ex = await task
    if session.alive:  # the server has read the cancel: a death it causes is this step's, not the next call's
        await session.settle(CANCEL_SETTLE)
    return ex, (ex.elapsed or 0.0) - cancelled_at


# ---------------------------------------------------------------- pure judgments of one step


def listing_change(listed: list, now_tools: list, notifications: list, evidence: list, missed: str | None = None) -> Violation | None:
    """stateful.listing_stable: tools/list differs from the session's first listing, and no
    notifications/tools/list_changed came (None: stable, or announced). `missed`: why an
    announcement may not have reached us (a GET stream or subscriptions/listen stream that could
    not be read, while the server declared tools.listChanged): the change is then low, with it."""
    now = sorted(json.dumps(t, sort_keys=True) for t in now_tools)
    if now == sorted(json.dumps(t, sort_keys=True) for t in listed):
        return None
    if any(isinstance(n.parsed, dict) and n.parsed.get("method") == "notifications/tools/list_changed" for n in notifications):
        return None
    what = "; ".join(diff_listings(listed, now_tools)[:6]) or "only _meta differs"
    if missed:
        return Violation(
            f"tools/list changed during the session and no notifications/tools/list_changed was seen: {what}. But {missed}: an announcement may have been missed",
            evidence, key="changed", severity=Severity.low,
        )
    return Violation(f"tools/list changed during the session without notifications/tools/list_changed: {what}", evidence, key="changed")


def cancel_ignored(ex: Exchange, after: float, name: str, stateless: bool, transport: str) -> Violation | None:
    """stateful.cancel: a fast tool may have answered before the server read the cancel (a race
    the spec allows): only an answer that came well after the cancel proves it was ignored."""
    if ex.response is not None and stateless and transport == "stdio" and after > CANCEL_GRACE:
        return Violation(f"a cancelled {name!r} call was still answered {after * 1000:.0f} ms after the cancel (2026-07-28 stdio: MUST NOT)", ex.evidence(), key="answered")
    return None


# ---------------------------------------------------------------- replay of a stored sequence

Verdicts = list[tuple[CheckSpec, list[Violation]]]


async def replay_sequence(ctx: CampaignContext, name: str, steps: list[dict[str, Any]], tools: dict) -> Verdicts:
    """Run a stored sequence's steps in order on ctx.s (a fresh session: state starts clean) with
    the judging the campaign applies to each step, plus the stateful.sequence check after each
    one. Like the campaign, the first failing call, read or ping ends the sequence (a listing
    change or an ignored cancel is recorded and the sequence goes on). Returns the (check,
    violations) pairs that found something; an empty list is a pass (the checks that judged a
    step and found nothing are marked judged)."""
    listed = await list_tools(ctx.s)
    out: Verdicts = []
    for n, step in enumerate(steps, 1):
        pairs = await _replay_step(ctx, f"{name} step {n}", step, listed, tools)
        out += pairs
        if "list" not in step and "cancel" not in step and any((v.severity or spec.severity) > Severity.info for spec, found in pairs for v in found):
            return out
        died = grouped(ctx.judge_result("stateful", _alive(ctx.s, n)))
        out += died
        if died:
            return out
    if steps and ctx.s.alive:  # a death the last step causes may come after it (a busy machine): one more round trip
        await ctx.s.liveness_ping(ctx.target.timeout)
        out += grouped(ctx.judge_result("stateful", _alive(ctx.s, len(steps))))
    return out


async def _replay_step(ctx: CampaignContext, where: str, step: dict[str, Any], listed: list, tools: dict) -> Verdicts:
    s = ctx.s
    if "call" in step:
        return await judge_call(ctx, where, step["call"], step.get("arguments"), tools)
    if "list" in step:
        now = await _complete_listing(s)
        if now is None:
            return []
        step = Step("list", evidence=s.wirelog.entries[-2:], listed=listed, now=now, notifications=list(s.notifications), missed=missed_announcements([s]).get("tool"))
        return grouped(ctx.judge_result("stateful", step))
    if "read" in step:
        ex = await s.request("resources/read", {"uri": step["read"]})
        return [(TC.no_hang, [Violation(f"resources/read {step['read']!r} got no answer", ex.evidence())] if ex.timed_out else [])]
    if "ping" in step:
        ex = await s.request("ping")
        return [(TC.no_hang, [Violation("ping got no answer mid-sequence", ex.evidence())] if ex.timed_out else [])]
    if "cancel" in step:
        ex, after = await _call_and_cancel(s, step["cancel"], step.get("arguments"))
        return grouped(ctx.judge_result("stateful", Step("cancel", exchange=ex, after=after, name=step["cancel"], stateless=s.stateless)))
    ctx.notes.append(f"replay: {where}: unknown step {step!r}; skipped")
    return []


def step_tools(steps: list[dict[str, Any]]) -> set[str]:
    """The tools a stored sequence calls (or cancels)."""
    return {str(st_.get("call", st_.get("cancel"))) for st_ in steps if "call" in st_ or "cancel" in st_}

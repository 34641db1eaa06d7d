"""The stateful campaign: a Hypothesis RuleBasedStateMachine over one session.

Rules call tools with generated valid inputs and feed values returned by one tool (ids, names,
URIs: a Bundle) into string arguments of others, list tools again, read resources, get prompts,
ping, and cancel in-flight calls; invariants run after every step. A failing sequence shrinks to
the shortest one and is saved to corpus/ like any other failure (mode "stateful": the steps with
every value passed forward already realized). `replay_sequence` runs such a stored sequence again,
step by step, with the same judging (the replay campaign calls it on a freshly started server).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis.errors import Flaky, FlakyStrategyDefinition
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule, run_state_machine_as_test

from ..checks import tools as TC
from ..connect import list_tools
from ..findings import CheckSpec, Severity, Violation, run_check
from ..registry import register
from ..report.model import TargetResult
from ..safety import may_call
from ..session import Exchange
from .context import CampaignContext
from .engine import Failure, ToolRunner, record_with_entry, shrink_budget
from .fuzz import FuzzSettings, randomness
from .own_loop import Await, run_on_own_loop

LISTING_STABLE = register(
    "stateful.listing_stable",
    "security.rug_pull",
    "medium",
    "tools/list does not change during a session without notifications/tools/list_changed",
    rule="T7/T14",
    level="MUST NOT",
    campaign="stateful",
)
SEQUENCE_OK = register(
    "stateful.sequence",
    "protocol.crash",
    "high",
    "Any sequence of valid calls keeps the server alive and answering",
    rule="T11",
    level="MUST",
    campaign="stateful",
)
CANCEL = register(
    "stateful.cancel",
    "protocol.cancellation",
    "low",
    "A cancelled in-flight request gets no response and the server stays healthy",
    rule="CN1/CN2",
    level="SHOULD/MUST",
    campaign="stateful",
)

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
    from mcpcheck import strategies
    from ..connect import detect

    probe, session = run(detect(ctx.target))
    ctx.revision, ctx.session = probe.eras()[0], session
    runner = ToolRunner(ctx, session, {}, [], run)
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
            ctx.skip(SEQUENCE_OK, "no tool is safe to call")
            return
        _run_machine(runner, ctx, callable_tools, resources, listed, cfg)
    finally:
        run(runner.session.close())


def _run_machine(runner: ToolRunner, ctx: CampaignContext, tools: list, resources: list[str], listed: list, cfg: FuzzSettings) -> None:
    names = [t["name"] for t, _ in tools]
    steps_log: list[dict[str, Any]] = []
    stateless = runner.session.stateless

    by_name = {str(t.get("name")): t for t in listed if isinstance(t, dict)}

    class MCPSession(RuleBasedStateMachine):
        values = Bundle("values")

        def __init__(self) -> None:
            super().__init__()
            steps_log.clear()
            if not runner.session.alive:  # an earlier sequence killed it: invariants run before the first step
                runner.restart()
            self.notes_seen = len(runner.session.notifications)

        def _call(self, i: int, args: Any) -> list[str]:
            name = names[i]
            steps_log.append({"call": name, "arguments": args})
            ex = runner.call(name, args)
            runner.judge(runner.tool_call(by_name.get(name, {"name": name}), args, ex, "valid"))
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
                from mcpcheck import strategies

                if strategies.is_valid(tools[i][0]["inputSchema"], candidate, ctx.revision):
                    args = candidate
            return multiple(*self._call(i, args))

        @rule()
        def list_again(self) -> None:
            steps_log.append({"list": "tools"})
            v = listing_change(listed, _sync_list(runner), runner.session.notifications, runner.session.wirelog.entries[-2:])
            if v is not None:
                ctx.fail(LISTING_STABLE, v)

        @precondition(lambda self: bool(resources))
        @rule(i=st.integers(0, max(0, len(resources) - 1)))
        def read_resource(self, i: int) -> None:
            steps_log.append({"read": resources[i]})
            ex = runner.run(runner.session.request("resources/read", {"uri": resources[i]}))
            if ex.timed_out:
                raise Failure(TC.no_hang, Violation(f"resources/read {resources[i]!r} got no answer", ex.evidence()))

        @precondition(lambda self: not stateless)
        @rule()
        def ping(self) -> None:
            steps_log.append({"ping": True})
            ex = runner.run(runner.session.request("ping"))
            if ex.timed_out:
                raise Failure(TC.no_hang, Violation("ping got no answer mid-sequence", ex.evidence()))

        @precondition(lambda self: ctx.target.transport == "stdio")
        @rule(i=st.integers(0, len(tools) - 1), data=st.data())
        def cancel_in_flight(self, i: int, data: st.DataObject) -> None:
            args = data.draw(tools[i][1], label=f"{names[i]} arguments")
            steps_log.append({"cancel": names[i], "arguments": args})
            ex, after = runner.run(_call_and_cancel(runner.session, names[i], args))
            v = cancel_ignored(ex, after, names[i], stateless, ctx.target.transport)
            if v is not None:
                ctx.fail(CANCEL, v)
            else:
                ctx.passed(CANCEL)

        @invariant()
        def alive(self) -> None:
            if not runner.session.alive:
                raise Failure(SEQUENCE_OK, Violation(f"the server died after {len(steps_log)} steps: {runner.session.transport.closed_reason}", runner.session.wirelog.entries[-4:], key="died"))

    ctx.passed(SEQUENCE_OK)
    ctx.passed(LISTING_STABLE)
    # one example-database key per target (as engine.ToolRunner.keyed does per tool): the class is
    # the same source for every target, so without this they would replay each other's sequences
    MCPSession._hypothesis_internal_add_digest = f"mcpcheck:{ctx.target.name}:*:stateful".encode()  # type: ignore[attr-defined]
    if cfg.seed is not None:  # what @hypothesis.seed does for a test function
        MCPSession._hypothesis_internal_use_seed = cfg.seed  # type: ignore[attr-defined]
    try:
        with shrink_budget(cfg.shrink_seconds):  # every failing shrink step may cost a server restart
            _run_state_machine(MCPSession, cfg)
    except Failure as fail:
        _record_sequence(ctx, cfg, fail, steps_log)
    except (Flaky, FlakyStrategyDefinition) as exc:
        # The server's answers feed the sequence (bundles, listings): when they change between
        # runs, Hypothesis cannot replay a sequence. Report what failed, if anything, and go on.
        inner = [e for e in getattr(exc, "exceptions", ()) if isinstance(e, Failure)]
        if inner:
            inner[0].violation.detail += " (flaky: did not reproduce on every replay)"
            _record_sequence(ctx, cfg, inner[0], steps_log)
        else:
            ctx.notes.append(f"stateful: stopped early: the server's answers changed between runs, so Hypothesis could not replay a sequence ({type(exc).__name__})")


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
    v = fail.violation
    v.input = {"steps": list(steps_log)}
    record_with_entry(ctx, cfg, fail.spec, v, tool=v.tool or "*", arguments={"steps": list(steps_log)}, mode="stateful")


def _sync_list(runner: ToolRunner) -> list[dict[str, Any]]:
    return runner.run(list_tools(runner.session))


CANCEL_GRACE = 0.25  # seconds after the cancel within which an answer may be a race


async def _call_and_cancel(session, name: str, args: Any):
    """Call, cancel at once; returns the exchange and how long after the cancel any answer came."""
    msg = session.build_request("tools/call", {"name": name, "arguments": args})
    t0 = time.monotonic()
    task = asyncio.create_task(session.request("tools/call", message=msg, timeout=1.0, malformed=True))
    await asyncio.sleep(0)
    await session.notify("notifications/cancelled", {"requestId": msg["id"], "reason": "mcpcheck stateful cancel"})
    cancelled_at = time.monotonic() - t0
    ex = await task
    return ex, (ex.elapsed or 0.0) - cancelled_at


# ---------------------------------------------------------------- pure judgments of one step


def listing_change(listed: list, now_tools: list, notifications: list, evidence: list) -> Violation | None:
    """stateful.listing_stable: tools/list differs from the session's first listing, and no
    notifications/tools/list_changed came (None: stable, or announced)."""
    now = sorted(json.dumps(t, sort_keys=True) for t in now_tools)
    if now == sorted(json.dumps(t, sort_keys=True) for t in listed):
        return None
    if any(isinstance(n.parsed, dict) and n.parsed.get("method") == "notifications/tools/list_changed" for n in notifications):
        return None
    from ..security.poisoning import diff_listings  # same field-by-field diff as security.rug_pull

    what = "; ".join(diff_listings(listed, now_tools)[:6]) or "only _meta differs"
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
    the judging the campaign applies to each step, plus the stateful.sequence invariant after
    each one. Like the campaign, the first failing step ends the sequence (a listing change or an
    ignored cancel is recorded and the sequence goes on). Returns (check, violations) pairs;
    an empty list is a pass."""
    listed = await list_tools(ctx.s)
    out: Verdicts = []
    for n, step in enumerate(steps, 1):
        pairs = await _replay_step(ctx, f"{name} step {n}", step, listed, tools)
        out += pairs
        if any(_fatal(spec, v) for spec, found in pairs for v in found):
            return out
        if not ctx.s.alive:
            why = ctx.s.transport.closed_reason
            out.append((SEQUENCE_OK, [Violation(f"the server died after {n} steps: {why}", ctx.s.wirelog.entries[-4:], key="died")]))
            return out
    out.append((SEQUENCE_OK, []))
    return out


def _fatal(spec: CheckSpec, v: Violation) -> bool:
    return spec not in (LISTING_STABLE, CANCEL) and (v.severity or spec.severity) > Severity.info


async def _replay_step(ctx: CampaignContext, where: str, step: dict[str, Any], listed: list, tools: dict) -> Verdicts:
    from .replay import judge_call  # the replay campaign's judge of one valid call

    s = ctx.s
    if "call" in step:
        return await judge_call(ctx, where, step["call"], step.get("arguments"), tools)
    if "list" in step:
        now = await list_tools(s)
        v = listing_change(listed, now, s.notifications, s.wirelog.entries[-2:])
        return [(LISTING_STABLE, [v] if v is not None else [])]
    if "read" in step:
        ex = await s.request("resources/read", {"uri": step["read"]})
        return [(TC.no_hang, [Violation(f"resources/read {step['read']!r} got no answer", ex.evidence())] if ex.timed_out else [])]
    if "ping" in step:
        ex = await s.request("ping")
        return [(TC.no_hang, [Violation("ping got no answer mid-sequence", ex.evidence())] if ex.timed_out else [])]
    if "cancel" in step:
        ex, after = await _call_and_cancel(s, step["cancel"], step.get("arguments"))
        v = cancel_ignored(ex, after, step["cancel"], s.stateless, ctx.target.transport)
        return [(CANCEL, [v] if v is not None else [])]
    ctx.notes.append(f"replay: {where}: unknown step {step!r}; skipped")
    return []


def step_tools(steps: list[dict[str, Any]]) -> set[str]:
    """The tools a stored sequence calls (or cancels)."""
    return {str(st_.get("call", st_.get("cancel"))) for st_ in steps if "call" in st_ or "cancel" in st_}

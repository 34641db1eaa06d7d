"""Property-testing a workflow whose arguments come from strategies.

Every draw point of the workflow (`$draw` values and `args_from: strategy` steps) is drawn by
Hypothesis (`data.draw`, labelled `<step>.<arg path>`) before each run; the workflow then runs
against the real servers with those values. A failing run fails the example, Hypothesis shrinks
the drawn values, and the result carries the minimal failing draws and its step-level message.

The servers are driven on an asyncio loop in a background thread; Hypothesis runs in the
calling thread and only hands finished draws over, so no Hypothesis object crosses threads.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

from ..config import Target
from .engine import REF, Runner, Sessions, WorkflowError, WorkflowResult, resolve_targets
from .model import Call, Workflow


class Predrawn:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def draw(self, strategy: Any, label: str) -> Any:
        if label not in self.values:
            raise WorkflowError(f"{label}: no value was drawn for this point")
        return self.values[label]


def _walk(value: Any, label: str, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        if "$draw" in value and len(value) == 1:
            out.append((label, value["$draw"]))
            return
        for k, v in value.items():
            _walk(v, f"{label}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{label}[{i}]", out)


async def draw_points(wf: Workflow, sessions: Sessions) -> list[tuple[str, Any]]:
    """(label, Hypothesis strategy) for every draw in the workflow, in run order."""
    from ..load.pool import plan_valid

    points: list[tuple[str, Any]] = []
    for step in wf.steps:
        calls: list[tuple[Call, str]] = [(step, step.id)]
        if step.on_error is not None:
            calls.append((step.on_error, f"{step.id}.on_error"))
        for call, label in calls:
            tname = wf.target_of(call, step.target)
            session = await sessions.get(tname)
            if call.args_from == "strategy":
                tool = sessions.tools[tname].get(call.tool or "")
                if tool is None:
                    raise WorkflowError(f"step {step.id!r}: {tname} does not list a tool named {call.tool!r}")
                schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
                points.append((label, plan_valid(schema, session.revision).strategy))
            raw: list[tuple[str, Any]] = []
            _walk(call.args, label, raw)
            for lab, schema in raw:
                if REF.search(str(schema)):
                    raise WorkflowError(f"{lab}: a $draw schema cannot reference earlier steps in a property test")
                points.append((lab, plan_valid(schema, session.revision).strategy))
    return points


@dataclass
class PropertyResult:
    name: str
    examples: int = 0
    passed: bool = True
    failure: str | None = None
    minimal: dict[str, Any] | None = None  # the shrunk draws of the failing run
    last: WorkflowResult | None = None
    notes: list[str] = field(default_factory=list)


def property_test(
    wf: Workflow,
    *,
    configured: dict[str, Target] | None = None,
    overrides: dict[str, Target] | None = None,
    max_examples: int = 20,
    seed: int | None = None,
) -> PropertyResult:
    """Run the workflow under Hypothesis (servers stay up across examples)."""
    out = PropertyResult(wf.name)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="mcpcheck-workflow-loop", daemon=True)
    thread.start()

    def on_loop(coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    sessions = Sessions(resolve_targets(wf, configured, overrides))
    try:
        points = on_loop(draw_points(wf, sessions))
        if not points:
            out.notes.append("the workflow draws nothing from strategies: ran it once")
        strategies_ = st.fixed_dictionaries({label: strat for label, strat in points})

        @settings(
            max_examples=max_examples if points else 1,
            deadline=None,
            database=None,
            derandomize=seed is None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(strategies_)
        def run(values: dict[str, Any]) -> None:
            out.examples += 1
            res = on_loop(Runner(wf, sessions, Predrawn(values)).run())
            out.last = res
            if not res.passed:
                out.minimal, out.failure = values, res.failure
                raise WorkflowError(res.failure)

        if seed is not None:
            run = hseed(seed)(run)
        try:
            run()
        except WorkflowError:
            out.passed = False  # out.failure / out.minimal: the last (shrunk) failing run
    finally:
        on_loop(sessions.close(), 30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    return out

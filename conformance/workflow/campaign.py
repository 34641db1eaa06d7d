"""The `workflow` campaign and the plain entry points.

    run_workflow(ctx, result)                 campaign "workflow": runs the files in
                                              ctx.workflow_files (paths); the workflow target
                                              named "target" (or named like ctx.target) is ctx.target;
                                              each WorkflowOutcome is judged by the registry's `run`
                                              checks of campaign "workflow" (ctx.judge_run)
    run_workflow_files(paths, ...)            CLI entry: every workflow of every file, optionally
                                              property-tested; returns WorkflowOutcome list
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..campaigns.context import CampaignContext
from ..config import Target
from ..findings import Violation
from ..registry import REGISTRY, RunContext, Skip, check
from ..results import TargetResult
from .engine import StepResult, WorkflowError, WorkflowResult, run_workflow_async
from .model import Workflow, load_workflow_file
from .prop import PropertyResult, property_test


@dataclass
class WorkflowOutcome:
    workflow: Workflow
    result: WorkflowResult | None = None
    prop: PropertyResult | None = None
    error: str | None = None  # could not run at all (bad target, unreachable server)

    @property
    def passed(self) -> bool:
        if self.error:
            return False
        if self.prop is not None:
            return self.prop.passed
        return bool(self.result and self.result.passed)

    @property
    def failure(self) -> str | None:
        if self.error:
            return self.error
        if self.prop is not None and not self.prop.passed:
            return f"{self.prop.failure} [shrunk draws: {json.dumps(self.prop.minimal, default=str)}]"
        return self.result.failure if self.result else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.workflow.name, "source": self.workflow.source, "passed": self.passed, "failure": self.failure}
        if self.result:
            d["run"] = self.result.to_dict()
        if self.prop:
            d["property"] = {"examples": self.prop.examples, "passed": self.prop.passed, "minimal": self.prop.minimal,
                             "last_run": self.prop.last.to_dict() if self.prop.last else None}
        return d


async def run_one(wf: Workflow, *, configured: dict[str, Target] | None = None, overrides: dict[str, Target] | None = None,
                  examples: int = 0, seed: int | None = 0) -> WorkflowOutcome:
    out = WorkflowOutcome(wf)
    try:
        if examples and wf.uses_strategies:
            import asyncio

            out.prop = await asyncio.to_thread(property_test, wf, configured=configured, overrides=overrides, max_examples=examples, seed=seed)
        else:
            from .engine import SeededDrawer

            out.result = await run_workflow_async(wf, configured=configured, overrides=overrides, drawer=SeededDrawer(seed))
    except WorkflowError as exc:
        out.error = f"workflow {wf.name!r}: {exc}"
    return out


def run_workflow_files(paths: list[str | Path], *, configured: dict[str, Target] | None = None,
                       examples: int = 0, seed: int | None = 0, only: list[str] | None = None) -> list[WorkflowOutcome]:
    """Load and run every workflow in the files (synchronous; the CLI's entry point)."""
    import asyncio

    workflows = [wf for p in paths for wf in load_workflow_file(p) if not only or wf.name in only]

    async def go() -> list[WorkflowOutcome]:
        return [await run_one(wf, configured=configured, examples=examples, seed=seed) for wf in workflows]

    return asyncio.run(go())


# ------------------------------------------------------------------------------ checks
# `run` checks of campaign "workflow": fn(ctx: RunContext, outcome: WorkflowOutcome), one
# outcome per workflow. A workflow that is property-tested is judged by workflow.property; one
# run once by workflow.step (and workflow.consistency when it has consistency assertions).


def _failed_step(outcome: WorkflowOutcome) -> StepResult | None:
    res = outcome.prop.last if outcome.prop is not None else outcome.result
    return next((s for s in (res.steps if res else []) if s.status == "failed"), None)


def _violation(outcome: WorkflowOutcome) -> Violation:
    """The failure of a workflow, with the failed step's wire evidence, tool and input."""
    failed = _failed_step(outcome)
    return Violation(
        outcome.failure or "workflow failed",
        evidence=failed.evidence if failed else [],
        tool=failed.what.split(" ", 1)[1] if failed and failed.what.startswith("tools/call") else None,
        input=(outcome.prop.minimal if outcome.prop is not None else (failed.args if failed else None)),
        key=f"{outcome.workflow.name}/{failed.id if failed else 'consistency'}",
    )


@check("workflow.step", category="workflow.step", severity="high", scope="run", campaign="workflow",
       title="Every workflow step succeeds and meets its expectations")
def step(ctx: RunContext, outcome: WorkflowOutcome) -> Iterator[Violation]:
    if outcome.prop is not None:
        raise Skip(f"workflow {outcome.workflow.name!r} is property-tested (see workflow.property)")
    if outcome.error or _failed_step(outcome) is not None:
        yield _violation(outcome)


@check("workflow.consistency", category="workflow.consistency", severity="high", scope="run", campaign="workflow",
       title="Servers in a workflow agree on the data passed between them")
def consistency(ctx: RunContext, outcome: WorkflowOutcome) -> Iterator[Violation]:
    name = outcome.workflow.name
    if not outcome.workflow.consistency:
        raise Skip(f"workflow {name!r} has no consistency assertions")
    if outcome.prop is not None:
        if not outcome.prop.passed:
            raise Skip(f"workflow {name!r} is property-tested; its failure is reported by workflow.property")
        return  # every example held, consistency assertions included
    if outcome.error:
        raise Skip(f"workflow {name!r} could not run")
    if _failed_step(outcome) is not None:
        raise Skip(f"workflow {name!r}: a step failed before the consistency assertions were judged")
    if not outcome.passed:
        yield _violation(outcome)


@check("workflow.property", category="workflow.step", severity="high", scope="run", campaign="workflow",
       title="A strategy-driven workflow holds for every drawn input (Hypothesis, shrunk)")
def property_holds(ctx: RunContext, outcome: WorkflowOutcome) -> Iterator[Violation]:
    if outcome.prop is None:
        raise Skip(f"workflow {outcome.workflow.name!r} was run once, not property-tested (--examples N on a workflow with $draw)")
    if not outcome.prop.passed:
        yield _violation(outcome)


async def run_workflow(ctx: CampaignContext, result: TargetResult) -> list[WorkflowOutcome]:
    files = list(ctx.workflow_files)
    configured: dict[str, Target] = dict(ctx.configured_targets)
    examples = int(ctx.workflow_examples or 0)
    if not files:
        for c in REGISTRY.for_scope("run", "workflow"):
            ctx.skip(c.spec, "no workflow files given")
        return []
    outcomes = []
    for path in files:
        for wf in load_workflow_file(path):
            overrides = {n: ctx.target for n, t in wf.targets.items() if n == "target" or t == ctx.target.name
                         or (isinstance(t, Target) and t.name == ctx.target.name)}
            ctx.progress(f"workflow {wf.name}")
            out = await run_one(wf, configured=configured, overrides=overrides, examples=examples)
            outcomes.append(out)
            ctx.judge_run("workflow", out)
            ctx.notes.append(f"workflow {wf.name}: " + ("passed" if out.passed else f"FAILED: {out.failure}"))
    return outcomes

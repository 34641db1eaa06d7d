"""Workflow suite: multi-server YAML workflows passing results between steps (docs/workflows.md).

Public API:
    load_workflow_file(path) -> [Workflow]          parse + validate (pydantic, extra="forbid")
    run_workflow_sync(wf, configured=..., overrides=...) -> WorkflowResult
    property_test(wf, max_examples=N) -> PropertyResult   Hypothesis-driven, shrinks failures
    run_workflow_files(paths, examples=N) -> [WorkflowOutcome]   the CLI's entry point
    run_workflow(ctx, result)                        the "workflow" campaign
"""

from .model import Workflow, load_workflow_file, parse_workflows

__all__ = ["Workflow", "load_workflow_file", "parse_workflows", "run_workflow_sync", "property_test",
           "run_workflow_files", "run_workflow"]


def __getattr__(name: str):
    if name == "run_workflow_sync":
        from .engine import run_workflow_sync

        return run_workflow_sync
    if name == "property_test":
        from .prop import property_test

        return property_test
    if name in ("run_workflow_files", "run_workflow"):
        from . import campaign

        return getattr(campaign, name)
    raise AttributeError(name)

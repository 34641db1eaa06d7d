"""Workflow files as pytest items: `*.workflow.yaml` / `*.workflow.yml` are collected, one item
per workflow, and a failing item shows the step-level message.

Enable with `-p mcpcheck.workflow.pytest_plugin` (or the pytest11 entry point). Options:
    --workflow-examples N   property-test strategy-driven workflows with N Hypothesis examples
    --workflow-config PATH  mcpcheck.toml / pyproject.toml whose targets workflows may name
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: Any) -> None:
    g = parser.getgroup("mcpcheck workflows")
    g.addoption("--workflow-examples", type=int, default=0, help="Hypothesis examples for strategy-driven workflows (0: one seeded run)")
    g.addoption("--workflow-config", default=None, help="config file whose targets workflows may name")


def pytest_collect_file(file_path: Path, parent: Any) -> Any:
    name = file_path.name
    if name.endswith((".workflow.yaml", ".workflow.yml")):
        return WorkflowFile.from_parent(parent, path=file_path)
    return None


class WorkflowFailed(Exception):
    pass


class WorkflowFile(pytest.File):
    def collect(self):
        from .model import load_workflow_file

        for wf in load_workflow_file(self.path):
            yield WorkflowItem.from_parent(self, name=wf.name, workflow=wf)


class WorkflowItem(pytest.Item):
    def __init__(self, *, workflow: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.workflow = workflow
        self.outcome = None

    def runtest(self) -> None:
        import asyncio

        from ..config import load_settings
        from .campaign import run_one

        cfg = self.config.getoption("--workflow-config")
        configured = dict(load_settings(cfg)[0].targets) if cfg else {}
        examples = self.config.getoption("--workflow-examples")
        self.outcome = asyncio.run(run_one(self.workflow, configured=configured, examples=examples))
        if not self.outcome.passed:
            raise WorkflowFailed(self.outcome.failure)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, WorkflowFailed):
            lines = [str(excinfo.value)]
            res = self.outcome.result if self.outcome and self.outcome.result else (self.outcome.prop.last if self.outcome and self.outcome.prop else None)
            if res is not None:
                lines.append("steps: " + ", ".join(f"{s.id}={s.status}" for s in res.steps))
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"workflow: {self.name}"

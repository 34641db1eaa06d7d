"""The canonical report of a run: the runner's outcomes, the verdict and the exit code.

One place builds a RunReport (the CLI, `mcpcheck.run`, the pytest plugin and `mcpcheck load`
all call it); the gate gives the verdict and the exit code from it (docs/gate.md).
"""

from __future__ import annotations

import datetime as _dt

from ..findings import Severity
from ..gate import evaluate, exit_code
from ..runner import TargetOutcome
from .model import RunReport, split, summarize


def build_report(
    outcomes: list[TargetOutcome],
    *,
    command: list[str],
    names: list[str],
    fail_on: Severity,
    started: _dt.datetime,
    duration: float,
    seed: int | None = None,
) -> RunReport:
    targets = [o.result for o in outcomes]
    checks = [c for o in outcomes for c in o.checks]
    findings, observations = split([f for o in outcomes for f in o.findings])
    gate = evaluate(findings, checks, targets, fail_on=fail_on)  # the --fail-on policy; `gate.finalize` applies --gate
    return RunReport(
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(duration, 3),
        command=command,
        campaigns=names,
        seed=seed,
        fail_on=fail_on,
        exit_code=exit_code(gate, targets),
        targets=targets,
        checks=checks,
        findings=findings,
        observations=observations,
        summary=summarize(targets, checks, findings, observations),
        gate=gate,
    )

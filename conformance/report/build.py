"""The canonical report of a run: the runner's outcomes, the verdict and the exit code.

One place builds a RunReport (the CLI, `mcpcheck.run`, the pytest plugin and `mcpcheck load`
all call it); the gate gives the verdict and the exit code from it (docs/gate.md).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..corpus import entry_file
from ..findings import Finding, Severity
from ..gate import evaluate, exit_code
from ..runner import TargetOutcome
from .model import RunReport, TargetResult, split, summarize


# A report shows an input string longer than LONG_INPUT characters as its first PREVIEW_CHARS
# characters and where the whole input is (the fuzz campaign's string probes send up to 8 MiB;
# the corpus entry keeps every byte, report.json/md/html and the other views a preview).
LONG_INPUT = 2000
PREVIEW_CHARS = 200


def bounded_inputs(findings: list[Finding], targets: list[TargetResult]) -> list[Finding]:
    """The findings as a report shows them: a copy of each finding whose input holds a string
    longer than LONG_INPUT, with that string cut to a preview that says its size and names the
    corpus file of this run that holds the full input (or that none does)."""
    stored = {t.name: [c.file.replace("\\", "/") for c in t.corpus] for t in targets}
    out = []
    for f in findings:
        if not _has_long(f.input):
            out.append(f)
            continue
        files = stored.get(f.target, [])
        wanted = {entry_file(f.target, tool, f.check, f.input) for tool in dict.fromkeys([f.tool or "*", "*"])}
        file = next((path for path in files for w in wanted if path == w or path.endswith("/" + w)), None)
        out.append(f.model_copy(update={"input": _preview(f.input, file)}))
    return out


def _has_long(node: Any) -> bool:
    if isinstance(node, str):
        return len(node) > LONG_INPUT
    if isinstance(node, dict):
        return any(_has_long(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_long(v) for v in node)
    return False


def _preview(node: Any, file: str | None) -> Any:
    if isinstance(node, str) and len(node) > LONG_INPUT:
        size = len(node.encode("utf-8", "surrogatepass"))
        where = f"full input in {file}" if file else "the full input is not in this run's corpus"
        return f"{node[:PREVIEW_CHARS]}... ({size} bytes; {where})"
    if isinstance(node, dict):
        return {k: _preview(v, file) for k, v in node.items()}
    if isinstance(node, list):
        return [_preview(v, file) for v in node]
    return node


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
    findings, observations = split(bounded_inputs([f for o in outcomes for f in o.findings], targets))
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

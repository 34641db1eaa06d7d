"""The canonical run report: the one document every view (Markdown, JUnit, SARIF, HTML) renders.

`report.json` is this model dumped as JSON. Severity `info` findings are observations (worth
knowing, no spec rule broken); everything from `low` up is a finding.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..findings import SEVERITY_ORDER, Finding, Severity
from ..results import CheckResult, CorpusRef, TargetResult, ToolConstraints  # noqa: F401 - part of the report schema

SCHEMA_VERSION = "1"


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings_by_severity: dict[str, int]
    observations: int
    checks_run: int
    checks_passed: int
    checks_failed: int
    checks_observed: int = 0
    checks_skipped: int
    targets: int
    targets_unreachable: int


class GateResult(BaseModel):
    """The deployment-readiness gate (docs/gate.md): a quality score and READY / NOT READY."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(description="true when the gate decided the exit code (`--gate` or `[gate] enabled`)")
    status: Literal["READY", "NOT READY"] = Field(description="the verdict")
    score: float = Field(description="quality score 0..100: weighted mean of the group scores")
    threshold: float = Field(description="lowest score that can be READY")
    reasons: list[str] = Field(default_factory=list, description="why NOT READY (empty when READY)")
    groups: dict[str, float] = Field(
        default_factory=dict, description="score 0..100 per category group tested (security, protocol, tool, ...)"
    )
    weights: dict[str, float] = Field(default_factory=dict, description="weight of each group in the score")
    fix_first: list[str] = Field(
        default_factory=list, description="finding ids in the order to fix them (blockers first, then by score impact)"
    )
    scope: Literal["all", "new"] = Field("all", description="`new` when only findings new against `--fail-on-new` gated")


class Suppressed(BaseModel):
    """A finding accepted by the baseline file: kept out of the exit code and the gate."""

    model_config = ConfigDict(extra="forbid")

    finding: Finding = Field(description="the finding as it was found")
    reason: str = Field(description="why it was accepted (from the baseline entry)")
    expires: str | None = Field(None, description="date (YYYY-MM-DD) after which the entry stops suppressing")
    entry: str = Field(description="which baseline entry matched: `id=...` or `check=... target=... tool=...`")


class BaselineStatus(BaseModel):
    """What the baseline (suppressions) file did in this run."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="the baseline file used")
    suppressed: int = Field(0, description="findings and observations it suppressed")
    expired: list[str] = Field(
        default_factory=list, description="entries past their expiry date: they no longer suppress (one line each)"
    )
    unused: list[str] = Field(default_factory=list, description="entries that matched nothing in this run")


class DiffSummary(BaseModel):
    """Findings compared by stable id with an earlier report (`--fail-on-new OLD.json`)."""

    model_config = ConfigDict(extra="forbid")

    against: str = Field(description="the earlier report.json")
    new: list[str] = Field(default_factory=list, description="finding ids not in the earlier report")
    fixed: list[str] = Field(default_factory=list, description="finding ids of the earlier report no longer found")
    unchanged: list[str] = Field(default_factory=list, description="finding ids in both")


def _tool_info() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return {"name": "mcpcheck", "version": version("mcpcheck")}
    except PackageNotFoundError:  # running from a source tree that was never installed
        return {"name": "mcpcheck", "version": "0+unknown"}


class RunReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    tool: dict[str, str] = Field(default_factory=_tool_info)
    started_at: str
    duration_s: float
    command: list[str]
    campaigns: list[str]
    seed: int | None = None
    fail_on: Severity
    exit_code: int
    targets: list[TargetResult]
    checks: list[CheckResult]
    findings: list[Finding] = Field(description="severity low and above")
    observations: list[Finding] = Field(description="severity info: worth knowing, not a violation")
    summary: Summary
    gate: GateResult | None = Field(None, description="quality score and deployment-readiness verdict (docs/gate.md)")
    suppressed: list[Suppressed] = Field(
        default_factory=list, description="findings accepted by the baseline file; they do not count toward the exit code or gate"
    )
    baseline: BaselineStatus | None = Field(None, description="the baseline file used, with expired and unused entries")
    diff: DiffSummary | None = Field(None, description="new / fixed / unchanged findings against `--fail-on-new OLD.json`")


def split(findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(findings low and up, most severe first; observations), each de-duplicated by id."""
    seen: set[str] = set()
    unique = []
    for f in findings:
        if f.id not in seen:
            seen.add(f.id)
            unique.append(f)
    real = [f for f in unique if f.severity > Severity.info]
    real.sort(key=lambda f: -f.severity.rank)  # stable: discovery order within a severity
    return real, [f for f in unique if f.severity == Severity.info]


def judged(findings: list[Finding]) -> set[tuple[str, str, str | None]]:
    """(target, check, revision) of every era these findings speak for: a finding merged across
    eras (results.merge_eras) lists the other eras as "also in ERA[: detail]" among its instances."""
    out: set[tuple[str, str, str | None]] = set()
    for f in findings:
        out.add((f.target, f.check, f.revision))
        for extra in f.instances:
            if extra.startswith("also in "):
                out.add((f.target, f.check, extra.removeprefix("also in ").split(":", 1)[0].strip()))
    return out


def summarize(
    targets: list[TargetResult], checks: list[CheckResult], findings: list[Finding], observations: list[Finding]
) -> Summary:
    by_sev = {s.value: 0 for s in SEVERITY_ORDER if s != Severity.info}
    for f in findings:
        by_sev[f.severity.value] += 1
    found = judged(findings)  # a check fails by a finding (low and up), in every era it speaks for
    failed = [c for c in checks if c.status == "failed" and (c.target, c.id, c.revision) in found]
    return Summary(
        findings_by_severity=by_sev,
        observations=len(observations),
        checks_run=sum(c.status != "skipped" for c in checks),
        checks_passed=sum(c.status == "passed" for c in checks),
        checks_failed=len(failed),
        checks_observed=sum(c.status == "failed" for c in checks) - len(failed),
        checks_skipped=sum(c.status == "skipped" for c in checks),
        targets=len(targets),
        targets_unreachable=sum(bool(t.error) for t in targets),
    )

"""The canonical run report: the one document every view (Markdown, JUnit, SARIF, HTML) renders.

`report.json` is this model dumped as JSON. Severity `info` findings are observations (worth
knowing, no spec rule broken); everything from `low` up is a finding.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..findings import SEVERITY_ORDER, Finding, Severity

SCHEMA_VERSION = "1"


class TargetResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    transport: str
    description: str
    eras: list[str] = Field(default_factory=list, description="protocol revisions tested")
    server_info: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    tools: list[str] = Field(default_factory=list)
    resources: int = 0
    prompts: int = 0
    error: str | None = Field(None, description="why the target could not be tested")
    duration_s: float = 0.0
    stderr_tail: str = ""
    notes: list[str] = Field(default_factory=list)


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    category: str
    severity: Severity
    title: str
    rule: str | None = None
    target: str
    revision: str | None = None
    status: Literal["passed", "failed", "skipped"]
    reason: str | None = Field(None, description="why the check was skipped")
    count: int = Field(0, description="how many times it was evaluated")


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings_by_severity: dict[str, int]
    observations: int
    checks_run: int
    checks_passed: int
    checks_failed: int
    checks_skipped: int
    targets: int
    targets_unreachable: int


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


def summarize(
    targets: list[TargetResult], checks: list[CheckResult], findings: list[Finding], observations: list[Finding]
) -> Summary:
    by_sev = {s.value: 0 for s in SEVERITY_ORDER if s != Severity.info}
    for f in findings:
        by_sev[f.severity.value] += 1
    return Summary(
        findings_by_severity=by_sev,
        observations=len(observations),
        checks_run=sum(c.status != "skipped" for c in checks),
        checks_passed=sum(c.status == "passed" for c in checks),
        checks_failed=sum(c.status == "failed" for c in checks),
        checks_skipped=sum(c.status == "skipped" for c in checks),
        targets=len(targets),
        targets_unreachable=sum(bool(t.error) for t in targets),
    )

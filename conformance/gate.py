"""Quality score and deployment-readiness gate (docs/gate.md).

Pure functions over the canonical RunReport. The score is a weighted mean of per-group scores
(a group is the first part of a category: security, protocol, tool, transport, robustness,
performance; findings of `workflow.*` checks form the `workflow` group):

    group score  = max(0, 100 - sum(penalty[severity] for each finding of the group))
    score        = sum(weight[g] * group_score[g]) / sum(weight[g])   over the groups tested

A group is *tested* when at least one of its checks ran or it has a finding.

One verdict decides both what is printed and the exit code (`exit_code`), under one of two
policies:

* `--fail-on` (the default): NOT READY when a target could not be tested, a *proven exploit*
  (a finding of `exploit_categories` at or above `exploit_block`: command/SQL/template injection,
  path traversal, SSRF, a leaked secret) was found, or any finding is at or above `--fail-on`.
  The score is computed and shown, not enforced.
* the gate (`--gate` / `[gate] enabled`): the same first two rules, then a security finding at or
  above `security_block`, any finding at or above `block_on`, a workflow finding, a performance
  finding at or above `performance_block`, and the score below `threshold`.
"""

from __future__ import annotations

from typing import Iterable


from .findings import Finding, Severity
from .report.model import CheckResult, GateResult, TargetResult

from .config import DEFAULT_PENALTIES, DEFAULT_WEIGHTS, EXPLOIT_CATEGORIES, GateSettings  # noqa: F401 - the [gate] settings live with the config


def group_of(check: str, category: str) -> str:
    """`workflow` for workflow checks, else the first part of the category."""
    if check.startswith("workflow.") or category.startswith("workflow."):
        return "workflow"
    return category.split(".", 1)[0]


def _fgroup(f: Finding) -> str:
    return group_of(f.check, f.category)


def _where(f: Finding) -> str:
    return f.target + (f"/{f.tool}" if f.tool else "")


def evaluate(
    findings: Iterable[Finding],
    checks: Iterable[CheckResult],
    targets: Iterable[TargetResult],
    settings: GateSettings | None = None,
    *,
    enabled: bool = False,
    scope: str = "all",
    fail_on: Severity = Severity.high,
) -> GateResult:
    """Score and verdict for (unsuppressed) findings of severity low and up: the full gate when
    `enabled`, else the `--fail-on` policy (module docstring)."""
    settings = settings or GateSettings()
    findings = [f for f in findings if f.severity > Severity.info]
    weights = settings.all_weights()
    penalties = settings.all_penalties()

    tested: set[str] = {group_of(c.id, c.category) for c in checks if c.status != "skipped"}
    tested |= {_fgroup(f) for f in findings}
    lost: dict[str, float] = {g: 0.0 for g in tested}
    for f in findings:
        lost[_fgroup(f)] += penalties.get(f.severity.value, 0.0)
    groups = {g: round(max(0.0, 100.0 - lost[g]), 1) for g in sorted(tested)}
    used = {g: weights.get(g, 1.0) for g in groups}
    total_w = sum(used.values())
    score = round(sum(used[g] * groups[g] for g in groups) / total_w, 1) if total_w > 0 else 0.0

    reasons: list[str] = []
    blockers: list[Finding] = []

    def block(f: Finding, why: str) -> None:
        if f not in blockers:
            blockers.append(f)
            reasons.append(f"{why}: {f.check} on {_where(f)} ({f.id})")

    targets = list(targets)
    for t in targets:
        if t.error:
            reasons.append(f"target {t.name} could not be tested: {t.error}")
    exploits = set(settings.exploit_categories)
    for f in findings:
        if f.category in exploits and f.severity >= settings.exploit_block:
            block(f, f"proven {f.category.removeprefix('security.').replace('_', ' ')} ({f.severity.value})")
    if not enabled:  # the --fail-on policy: the score is shown, not enforced
        for f in findings:
            if f.severity >= fail_on:
                block(f, f"{f.severity.value} finding (at or above --fail-on {fail_on.value})")
    else:
        for f in findings:
            if f.category.startswith("security.") and f.severity >= settings.security_block:
                block(f, f"{f.severity.value} security finding")
        for f in findings:
            if f.severity >= settings.block_on:
                block(f, f"{f.severity.value} finding")
        if settings.workflow_block:
            for f in findings:
                if _fgroup(f) == "workflow":
                    block(f, "failing workflow")
        for f in findings:
            if f.category.startswith("performance.") and f.severity >= settings.performance_block:
                block(f, "performance SLO breach")
        if not groups:  # no score to speak of: an unreachable target (said above) or nothing ran at all
            if not any(t.error for t in targets) and scope == "all":
                reasons.append("nothing was tested (no check ran)")
        elif score < settings.threshold:
            reasons.append(f"score {score:g} is below the threshold {settings.threshold:g}")

    # fix first: blockers (in rule order), then by points the fix would give back to the score
    def impact(f: Finding) -> float:
        return used.get(_fgroup(f), 1.0) * penalties.get(f.severity.value, 0.0)

    rest = sorted((f for f in findings if f not in blockers), key=lambda f: (-impact(f), -f.severity.rank))
    return GateResult(
        enabled=enabled,
        status="NOT READY" if reasons else "READY",
        score=score,
        threshold=settings.threshold,
        reasons=reasons,
        groups=groups,
        weights=used,
        fix_first=[f.id for f in [*blockers, *rest]],
        scope="new" if scope == "new" else "all",
    )


def exit_code(gate: GateResult, targets: Iterable[TargetResult]) -> int:
    """The exit code of a run, from its verdict (the one source of truth): 2 when a target could
    not be tested, else 1 when NOT READY, else 0."""
    if any(t.error for t in targets):
        return 2
    return 1 if gate.status != "READY" else 0


def finalize(
    report,
    *,
    settings: GateSettings | None = None,
    enabled: bool = False,
    baseline=None,
    old=None,
    old_path: str = "",
    today=None,
):
    """Apply the baseline (suppressions), the `--fail-on-new` diff and the gate to a report built
    by `runner.build_report`; recompute the summary and the exit code. Returns a new RunReport.

    Exit code: `exit_code(gate)`, the gate judging the findings that gate (unsuppressed; only the
    new ones with `--fail-on-new`) under the full gate when enabled, else under `--fail-on`."""
    from .baseline import apply_baseline, diff
    from .report.model import summarize

    findings, observations = list(report.findings), list(report.observations)
    suppressed, status = list(report.suppressed), report.baseline
    if baseline is not None:
        findings, observations, more, status = apply_baseline(findings, observations, baseline, today=today)
        suppressed += more
    summary_diff = None
    gating = findings
    if old is not None:
        summary_diff = diff(old, findings, old_path, still_present=[s.finding.id for s in suppressed])
        new = set(summary_diff.new)
        gating = [f for f in findings if f.id in new]
    gate = evaluate(gating, report.checks, report.targets, settings, enabled=enabled, scope="new" if old is not None else "all", fail_on=report.fail_on)
    code = exit_code(gate, report.targets)
    return report.model_copy(
        update={
            "findings": findings,
            "observations": observations,
            "suppressed": suppressed,
            "baseline": status,
            "diff": summary_diff,
            "gate": gate,
            "exit_code": code,
            "summary": summarize(report.targets, report.checks, findings, observations),
        }
    )

"""The executive summary at the top of every human-readable view (Markdown, console, HTML).

Status (READY / NOT READY), quality score, why, the top findings and what to fix first, all
derived from the canonical RunReport (its `gate`, or the gate evaluated now for a report written
before the gate existed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding
from .model import GateResult, RunReport

TOP = 5  # top findings listed
FIX_FIRST = 3  # steps in "what to fix first"


@dataclass
class Executive:
    status: str
    score: float
    threshold: float
    gate_decides: bool
    reasons: list[str]
    groups: dict[str, float]
    top: list[Finding]
    fix_first: list[str]  # one sentence each
    exit_code: int
    findings: int
    suppressed: int
    fail_on: str = "high"
    observations: int = 0
    failed_checks: int = 0
    expired: list[str] = field(default_factory=list)
    new: int | None = None
    fixed: int | None = None


def gate_of(report: RunReport) -> GateResult:
    if report.gate is not None:
        return report.gate
    from ..gate import evaluate

    return evaluate(report.findings, report.checks, report.targets, fail_on=report.fail_on)


def _where(f: Finding) -> str:
    return f.target + (f" / tool {f.tool}" if f.tool else "")


def fix_sentence(f: Finding) -> str:
    rule = f" (spec rule {f.rule}{', ' + f.spec_level if f.spec_level else ''})" if f.rule else ""
    what = " ".join(f.detail.split())
    what = what if len(what) <= 200 else what[:199] + "…"
    # what was wrong (the finding), then what is required (the check's title)
    text = f"{f.severity.value}: {what} [{f.check}] on {_where(f)}; required: {' '.join(f.title.split())}{rule}"
    if f.reproduce:
        text += f"; reproduce: {f.reproduce}"
    return text


def executive(report: RunReport) -> Executive:
    gate = gate_of(report)
    by_id = {f.id: f for f in report.findings}
    ordered = [by_id[i] for i in gate.fix_first if i in by_id]
    ordered += [f for f in report.findings if f not in ordered]
    fix: list[str] = []
    down = [t for t in report.targets if t.error]
    for t in down:
        fix.append(f"make target {t.name} reachable: {t.error}")
    for f in ordered[: max(0, FIX_FIRST - len(fix))]:
        fix.append(fix_sentence(f))
    if not fix and gate.status != "READY":
        fix = list(gate.reasons[:FIX_FIRST])
    return Executive(
        status=gate.status,
        score=gate.score,
        threshold=gate.threshold,
        gate_decides=gate.enabled,
        reasons=list(gate.reasons),
        groups=dict(gate.groups),
        top=ordered[:TOP],
        fix_first=fix,
        exit_code=report.exit_code,
        findings=len(report.findings),
        fail_on=report.fail_on.value,
        observations=len(report.observations),
        failed_checks=report.summary.checks_failed,
        suppressed=len(report.suppressed),
        expired=list(report.baseline.expired) if report.baseline else [],
        new=len(report.diff.new) if report.diff else None,
        fixed=len(report.diff.fixed) if report.diff else None,
    )


def headline(ex: Executive) -> str:
    """One line: `NOT READY: score 62.5/100 (threshold 80); 3 findings, 2 observations, 2 failed checks;
    the gate decides the exit code`. The status is the verdict the exit code follows."""
    threshold = f"threshold {ex.threshold:g}" + ("" if ex.gate_decides else ", enforced with --gate")
    counts = f"{_n(ex.findings, 'finding')}, {_n(ex.observations, 'observation')}, {_n(ex.failed_checks, 'failed check')}"
    parts = [f"{ex.status}: score {ex.score:g}/100 ({threshold})", counts]
    if ex.suppressed:
        parts.append(f"{ex.suppressed} suppressed by the baseline")
    if ex.new is not None:
        parts.append(f"{ex.new} new, {ex.fixed} fixed since the previous report")
    parts.append("the gate decides the exit code" if ex.gate_decides else f"proven exploits and --fail-on {ex.fail_on} decide the exit code")
    return "; ".join(parts)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def markdown_lines(report: RunReport, code=lambda s: f"`{s}`", cell=lambda s: s) -> list[str]:
    """The `## Executive summary` section (lists only: the Markdown tables keep their shape)."""
    ex = executive(report)
    out = ["## Executive summary", "", f"**{ex.status}**: {cell(headline(ex).split(': ', 1)[1])}."]
    groups = ", ".join(f"{g} {s:g}" for g, s in ex.groups.items())
    if groups:
        out += ["", f"Scores by group: {groups}."]
    if ex.reasons:
        out += ["", "Why not ready:", "", *(f"- {cell(r)}" for r in ex.reasons)]
    if ex.expired:
        out += ["", "Expired suppressions (no longer suppressing):", "", *(f"- {cell(e)}" for e in ex.expired)]
    if ex.top:
        out += ["", "Top findings:", ""]
        out += [f"- {f.severity.value} {code(f.check)} on {cell(_where(f))}: {cell(' '.join(f.title.split()))}" for f in ex.top]
    if ex.fix_first:
        out += ["", "What to fix first:", "", *(f"{i}. {cell(s)}" for i, s in enumerate(ex.fix_first, 1))]
    return out


def console_lines(report: RunReport) -> list[str]:
    ex = executive(report)
    out = ["readiness: " + headline(ex)]
    out += [f"  why: {r}" for r in ex.reasons[:5]]
    out += [f"  expired suppression: {e}" for e in ex.expired[:5]]
    out += [f"  fix first {i}: {s}" for i, s in enumerate(ex.fix_first, 1)]
    return out


def markdown_extra_lines(report: RunReport, code=lambda s: f"`{s}`", cell=lambda s: s, table=None) -> list[list[str]]:
    """Markdown sections after the findings: baseline and changes, constraint enforcement, corpus."""
    sections: list[list[str]] = []
    b, d = report.baseline, report.diff
    if report.suppressed or b is not None or d is not None:
        out = ["## Baseline and changes"]
        if b is not None:
            out += ["", f"Baseline {code(b.file)}: {b.suppressed} suppressed, {len(b.expired)} expired entries, {len(b.unused)} unused entries."]
            out += [f"- expired (no longer suppresses): {cell(e)}" for e in b.expired]
            out += [f"- unused: {code(e)}" for e in b.unused]
        if d is not None:
            out += ["", f"Against {code(d.against)}: **{len(d.new)} new**, {len(d.fixed)} fixed, {len(d.unchanged)} unchanged."]
            out += [f"- new: {code(i)}" for i in d.new]
            out += [f"- fixed: {code(i)}" for i in d.fixed]
        if report.suppressed:
            out += ["", f"Suppressed findings ({len(report.suppressed)}):", ""]
            for s in report.suppressed:
                f = s.finding
                until = f" until {s.expires}" if s.expires else ""
                out.append(f"- {f.severity.value} {code(f.check)} on {cell(_where(f))} ({code(f.id)}): accepted{until}: {cell(s.reason)}")
        sections.append(out)
    rows = []
    for t in report.targets:
        for c in t.constraints:
            if c.skipped:
                rows.append([t.name, c.tool, "-", f"not called: {c.skipped}", ""])
            for name, ok in sorted(c.enforced.items()):
                rows.append([t.name, c.tool, name, "enforced" if ok else "NOT enforced", c.calls])
    if rows and table is not None:
        sections.append(["## Constraint enforcement (fuzz)", "", *table(["target", "tool", "constraint", "enforced", "calls"], rows)])
    corpus = [[t.name, c.tool, c.check, c.mode, c.status, c.file] for t in report.targets for c in t.corpus]
    if corpus and table is not None:
        sections.append(["## Corpus entries", "", *table(["target", "tool", "check", "mode", "status", "file"], corpus)])
    return sections

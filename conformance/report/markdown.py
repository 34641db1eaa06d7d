"""The Markdown view (`report.md`, and the GitHub Actions step summary).

Read top to bottom: the verdict, the targets, the findings by severity (each with what is wrong,
where, and how to reproduce it), then the observations and every check that ran.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from ..findings import SEVERITY_ORDER, Evidence, Finding, Severity
from .json_report import visible
from .model import CheckResult, RunReport, TargetResult, judged

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary larger than 1 MiB


def cell(text: Any) -> str:
    """Text for one Markdown table cell: pipes escaped, newlines as <br>."""
    text = visible("" if text is None else str(text), controls=True)
    return text.replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def row(*cells: Any) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [row(*header), "|" + "---|" * len(header), *(row(*r) for r in rows)]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verdict(report: RunReport, quote: str = "") -> tuple[str, str]:
    """(PASS | FAIL | ERROR, why), e.g. ("FAIL", "exit code 1: 1 finding at or above high").
    `quote` wraps the severity name (a backtick in Markdown)."""
    fail_on = f"{quote}{report.fail_on.value}{quote}"
    new = set(report.diff.new) if report.diff is not None else None  # --fail-on-new: only new ones gate
    word = "new finding" if new is not None else "finding"
    gating = [f for f in report.findings if new is None or f.id in new]
    over = sum(f.severity >= report.fail_on for f in gating)
    below = len(gating) - over
    if over or report.exit_code == 2:
        why = f"{plural(over, word)} at or above {fail_on}" if over else ""
    else:
        why = f"no {word} at or above {fail_on}" + (f" ({below} below it)" if below else "")
    gate = report.gate
    if gate is not None and gate.enabled:  # the readiness gate decides the exit code
        why = f"{gate.status} (score {gate.score:g}, threshold {gate.threshold:g})" + (f": {gate.reasons[0]}" if gate.reasons else "")
    elif gate is not None and gate.status != "READY" and not over and report.exit_code != 2:
        why = f"NOT READY: {gate.reasons[0]}" if gate.reasons else "NOT READY"  # a proven exploit below --fail-on
    if report.suppressed and why:
        why += f" ({len(report.suppressed)} suppressed by the baseline)"
    if report.exit_code == 2:
        down = ", ".join(t.name for t in report.targets if t.error) or "every target"
        return "ERROR", f"exit code 2: could not test {down}" + (f"; the other targets: {why}" if why else "")
    return ("FAIL" if report.exit_code else "PASS"), f"exit code {report.exit_code}: {why or 'see the findings'}"


def server_name(target: TargetResult) -> str:
    info = target.server_info or {}
    return " ".join(str(info[k]) for k in ("name", "version") if info.get(k)) or "-"


def describe(target: TargetResult) -> str:
    """`stdio: python server.py`, `http: https://host/mcp`."""
    return f"{target.transport}: {target.description.removeprefix(target.transport + ' ')}"


def check_status(check: CheckResult, report: RunReport) -> str:
    """The check's status, but `observed` for a failure that produced only observations."""
    if check.status != "failed":
        return check.status
    key = (check.target, check.id, check.revision)
    if key in judged(report.findings):  # merged across eras: the other eras count too
        return "failed"
    return "observed" if key in judged(report.observations) else "failed"


def check_counts(report: RunReport) -> str:
    """`13 passed, 1 failed, 4 observed` for the checks that ran."""
    statuses = [check_status(c, report) for c in report.checks]
    return ", ".join(f"{statuses.count(s)} {s}" for s in ("passed", "failed", "observed") if s == "passed" or s in statuses)


def fenced(text: str, info: str = "") -> str:
    """A code fence longer than any backtick run inside, so the content cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def code(text: str) -> str:
    """Inline code span that survives backticks inside."""
    text = visible(text, controls=True).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def evidence_line(e: Evidence) -> str:
    where = " ".join(p for p in (e.direction, e.channel) if p)
    if e.http:
        where += " " + " ".join(str(e.http[k]) for k in ("method", "url", "status") if e.http.get(k) is not None)
    note = f"  ({e.note})" if e.note else ""
    return f"{where.strip() or 'wire'}: {e.raw}{note}"


# --------------------------------------------------------------------------- sections


def _header(report: RunReport) -> list[str]:
    label, why = verdict(report, quote="`")
    s = report.summary
    sev = ", ".join(f"{n} {name}" for name, n in reversed(s.findings_by_severity.items()) if n)
    findings = plural(len(report.findings), "finding") + (f" ({sev})" if sev else "")
    seed = f"; seed {report.seed}" if report.seed is not None else ""
    return [
        "# mcpcheck report",
        "",
        f"**{label}**: {why}",
        "",
        f"{findings}, {plural(s.observations, 'observation')}; checks: {check_counts(report)}, "
        f"{s.checks_skipped} skipped.",
        "",
        f"Started {report.started_at}, took {report.duration_s:g} s; campaigns: {', '.join(report.campaigns)}{seed}; "
        f"fail on `{report.fail_on.value}`; {report.tool.get('name', 'mcpcheck')} {report.tool.get('version', '')}".rstrip()
        + ".",
        "",
        "Command: " + code(shlex.join(report.command)),
    ]


def _targets(report: RunReport) -> list[str]:
    rows = []
    for t in report.targets:
        status = f"could not be tested: {t.error}" if t.error else f"tested in {t.duration_s:g} s"
        rows.append([t.name, describe(t), server_name(t), ", ".join(t.eras) or "-",
                     ", ".join(t.tools) or "-", status])
    out = ["## Targets", "", *table(["target", "transport", "server", "eras", "tools", "status"], rows)]
    notes = [(t.name, n) for t in report.targets for n in t.notes]
    if notes:
        out += ["", "Notes:", "", *(f"- {cell(name)}: {cell(n)}" for name, n in notes)]
    for t in report.targets:
        if t.error and t.stderr_tail.strip():
            out += ["", f"Last lines {cell(t.name)} wrote to stderr:", "", fenced(visible(t.stderr_tail.rstrip(), controls=True))]
    return out


def _finding(f: Finding) -> list[str]:
    facts = [
        ("id", code(f.id)),
        ("target", cell(f.target or "-") + (f", revision {f.revision}" if f.revision else "")),
        ("rule", " ".join(p for p in (f.rule, f"({f.spec_level})" if f.spec_level else "") if p) or None),
        ("category", f.category),
        ("path", code(f.path) if f.path else None),
        ("tool", code(f.tool) if f.tool else None),
        ("input", code(json.dumps(f.input, ensure_ascii=False)) if f.input is not None else None),
        ("reproduce", code(f.reproduce) if f.reproduce else None),
    ]
    out = ["", f"#### {code(f.check)}", "", f"**{cell(f.title)}**", "", cell(f.detail.strip()), ""]
    out += [f"- {name}: {value}" for name, value in facts if value]
    if f.evidence:
        text = "\n".join(evidence_line(e) for e in f.evidence)
        out += ["", "Evidence:", "", fenced(visible(text, controls=True))]
    return out


def _findings(report: RunReport) -> list[str]:
    out = ["## Findings"]
    if not report.findings:
        return out + ["", "None: no check found a violation at severity `low` or above."]
    for sev in reversed(SEVERITY_ORDER):
        group = [f for f in report.findings if f.severity == sev]
        if group and sev != Severity.info:
            out += ["", f"### {sev.value} ({len(group)})"]
            for f in group:
                out += _finding(f)
    return out


def _observations(report: RunReport) -> list[str]:
    out = ["## Observations", "", "Behaviour worth knowing that no spec rule forbids (severity `info`)."]
    if not report.observations:
        return out + ["", "None."]
    rows = [[o.check, o.target, o.revision or "-", o.detail, o.id] for o in report.observations]
    return out + ["", *table(["check", "target", "revision", "detail", "id"], rows)]


def _checks(report: RunReport) -> list[str]:
    rows = [
        [c.id, c.target, c.revision or "-", check_status(c, report), c.severity.value, c.rule or "-", c.reason or ""]
        for c in report.checks
    ]
    out = ["## Checks"]
    if not rows:
        return out + ["", "No check ran."]
    return out + ["", *table(["check", "target", "revision", "status", "severity", "rule", "reason"], rows)]


def render_markdown(report: RunReport) -> str:
    from .executive import markdown_extra_lines, markdown_lines  # executive summary, baseline, constraints

    sections = [
        _header(report), markdown_lines(report, code=code, cell=cell), _targets(report), _findings(report),
        *markdown_extra_lines(report, code=code, cell=cell, table=table), _observations(report), _checks(report),
    ]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def append_step_summary(report: RunReport, text: str | None = None) -> Path | None:
    """Append the Markdown report to $GITHUB_STEP_SUMMARY (GitHub Actions); None when unset."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    text = render_markdown(report) if text is None else text
    if len(text.encode("utf-8")) > STEP_SUMMARY_LIMIT:
        note = "\n\n_(truncated to fit the step summary; the full report is report.md)_\n"
        cut = text.encode("utf-8")[: STEP_SUMMARY_LIMIT - 4096].decode("utf-8", "ignore")
        text = cut[: cut.rfind("\n")] + note
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return path

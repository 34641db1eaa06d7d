"""The JUnit XML view (`junit.xml`) for CI test-result panels.

    <testsuites>                   the run
      <testsuite name=TARGET>      one per target
        <testcase name="CHECK [REVISION]" classname=TARGET>
          <failure type=SEVERITY>  the check produced findings (severity low and up)
          <skipped message=REASON> the check was skipped
          <system-out>             observations (severity info) and findings the baseline suppressed: never a failure
        <testcase name="reachable"><error type="TargetUnreachable">   the target could not be tested

Every text goes through `visible(controls=True)`: server output with NUL bytes, escape codes or
lone surrogates still gives a document any XML parser reads.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict

from ..findings import Finding
from .json_report import visible
from .model import CheckResult, RunReport, TargetResult

Key = tuple[str, str, "str | None"]  # (target, check, revision)


def _text(value: object) -> str:
    return visible(str(value), controls=True)


def _set(el: ET.Element, **attrs: object) -> ET.Element:
    for k, v in attrs.items():
        el.set(k, _text(v))
    return el


def _describe(f: Finding) -> str:
    lines = [f"[{f.severity.value}] {f.detail}", f"id: {f.id}"]
    if f.rule:
        lines.append(f"rule: {f.rule}" + (f" ({f.spec_level})" if f.spec_level else ""))
    for name in ("path", "tool"):
        if getattr(f, name):
            lines.append(f"{name}: {getattr(f, name)}")
    if f.input is not None:
        lines.append(f"input: {json.dumps(f.input, ensure_ascii=False)}")
    if f.reproduce:
        lines.append(f"reproduce: {f.reproduce}")
    if f.evidence:
        lines.append("evidence:")
        lines += [f"  {' '.join(p for p in (e.direction, e.channel) if p) or 'wire'}: {e.raw}" for e in f.evidence]
    return "\n".join(lines)


def _testcase(suite: ET.Element, target: str, name: str, findings: list[Finding], observations: list[Finding],
              check: CheckResult | None = None) -> ET.Element:
    case = _set(ET.SubElement(suite, "testcase"), name=name, classname=target, time="0")
    if findings:
        worst = max(findings, key=lambda f: f.severity.rank)
        message = worst.detail if len(findings) == 1 else f"{len(findings)} findings; worst: {worst.detail}"
        failure = _set(ET.SubElement(case, "failure"), type=worst.severity.value, message=message)
        failure.text = _text("\n\n".join(_describe(f) for f in findings))
    elif check is not None and check.status == "error":
        err = _set(ET.SubElement(case, "error"), type="check-error", message=f"the check itself failed ({check.origin}): {check.reason}")
        err.text = _text(check.reason or "")
    elif check is not None and check.status == "skipped":
        _set(ET.SubElement(case, "skipped"), message=check.reason or "skipped")
    if observations:
        ET.SubElement(case, "system-out").text = _text("\n\n".join(_describe(o) for o in observations))
    return case


def _suite(root: ET.Element, report: RunReport, target: TargetResult,
           findings: dict[Key, list[Finding]], observations: dict[Key, list[Finding]]) -> ET.Element:
    suite = _set(ET.SubElement(root, "testsuite"), name=target.name, timestamp=report.started_at, time=target.duration_s)
    seen: set[Key] = set()
    for c in (c for c in report.checks if c.target == target.name):
        key = (c.target, c.id, c.revision)
        seen.add(key)
        name = f"{c.id} [{c.revision}]" if c.revision else c.id
        _testcase(suite, target.name, name, findings.get(key, []), observations.get(key, []), c)
    # findings whose check has no entry in checks[] are still reported, never dropped
    for key in [k for k in {**findings, **observations} if k[0] == target.name and k not in seen]:
        name = f"{key[1]} [{key[2]}]" if key[2] else key[1]
        _testcase(suite, target.name, name, findings.get(key, []), observations.get(key, []))
    if target.error:
        case = _set(ET.SubElement(suite, "testcase"), name="reachable", classname=target.name, time="0")
        error = _set(ET.SubElement(case, "error"), type="TargetUnreachable", message=target.error)
        error.text = _text(target.stderr_tail or target.error)
    _count(suite, suite.iter("testcase"))
    return suite


def _count(el: ET.Element, cases) -> None:
    cases = list(cases)
    _set(el, tests=len(cases), failures=sum(c.find("failure") is not None for c in cases),
         errors=sum(c.find("error") is not None for c in cases), skipped=sum(c.find("skipped") is not None for c in cases))


def _by_key(findings: list[Finding]) -> dict[Key, list[Finding]]:
    out: dict[Key, list[Finding]] = defaultdict(list)
    for f in findings:
        out[(f.target, f.check, f.revision)].append(f)
    return out


def render_junit(report: RunReport) -> str:
    root = _set(ET.Element("testsuites"), name="mcpcheck", time=report.duration_s)
    # findings the baseline accepted are shown beside the observations (system-out), with the reason
    accepted = [s.finding.model_copy(update={"detail": f"[suppressed by the baseline: {s.reason}] {s.finding.detail}"}) for s in report.suppressed]
    findings, observations = _by_key(report.findings), _by_key([*report.observations, *accepted])
    for target in report.targets:
        _suite(root, report, target, findings, observations)
    _count(root, root.iter("testcase"))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

"""The gate blocks what is dangerous, and the verdict is the exit code (docs/gate.md).

- every proven exploit class blocks READY under both policies, whatever the score and --fail-on;
- the CVSS vectors of docs/gate.md, scored by a real CVSS calculator, give the severity each check
  reports;
- a real run against the deliberately vulnerable SDK fixture (path traversal only, at --fail-on
  critical, the very case that used to read "READY 90.6/100" then "FAIL"/"PASS" by another rule):
  the printed verdict, every report and the process exit code tell one story;
- the summary counts findings, observations and failed checks apart."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cvss import CVSS3

from mcpcheck.findings import Severity
from mcpcheck.registry import REGISTRY
from mcpcheck.gate import EXPLOIT_CATEGORIES, GateSettings, evaluate, finalize
from mcpcheck.report.html import render_html
from mcpcheck.report.markdown import render_markdown
from mcpcheck.runner import load_all_checks
from servers import FIXTURES

import report_views as rv

load_all_checks()
DOC = Path(__file__).resolve().parent.parent / "docs" / "gate.md"


@pytest.mark.parametrize("category, severity", [
    ("security.command_injection", "critical"), ("security.sql_injection", "critical"),
    ("security.template_injection", "critical"), ("security.path_traversal", "high"),
    ("security.ssrf", "high"), ("security.data_exposure", "critical"),
])
def test_a_proven_exploit_blocks_under_both_policies_whatever_the_score(category, severity):
    f = rv.finding(category, severity, "proof", category=category, tool="t")
    lenient = GateSettings(threshold=0, security_block="critical", block_on="critical")
    for enabled in (False, True):
        g = evaluate([f], [], [], lenient, enabled=enabled, fail_on=Severity.critical)
        assert g.status == "NOT READY", (category, enabled)
        assert g.reasons[0].startswith(f"proven {category.removeprefix('security.').replace('_', ' ')} ({severity})")
    report = finalize(rv.synthetic([f], fail_on="critical"), settings=lenient)
    assert (report.gate.status, report.exit_code) == ("NOT READY", 1)
    # turned off explicitly: only the score and --fail-on are left
    off = GateSettings(threshold=0, exploit_categories=[])
    assert evaluate([f], [], [], off, fail_on=Severity.critical).status == ("NOT READY" if severity == "critical" else "READY")


def test_a_stack_trace_or_host_path_is_no_exploit():
    for sev in ("medium", "low"):
        f = rv.finding("security.data_exposure", sev, "trace", category="security.data_exposure")
        assert evaluate([f], [], [], GateSettings(threshold=0)).status == "READY"


def test_doc_cvss_vectors_match_the_severities_the_checks_report():
    rows = re.findall(r"^\| `(security\.\w+)`[^|]*\((\w+)\) \| `(AV:[^`]+)` \| ([\d.]+) \|", DOC.read_text(), flags=re.M)
    assert {r[0] for r in rows} >= set(EXPLOIT_CATEGORIES), rows
    for check, severity, vector, score in rows:
        c = CVSS3("CVSS:3.1/" + vector)
        assert (c.scores()[0], c.severities()[0].lower()) == (float(score), severity), (check, vector)
        if check != "security.data_exposure":  # its default severity is the generic one; the kinds set theirs
            assert REGISTRY[check].severity.value == severity, check
    data = [r for r in rows if r[0] == "security.data_exposure"]
    assert sorted(r[1] for r in data) == ["critical", "low", "medium"]
    assert "secret: critical, trace: medium, path: low" in REGISTRY["security.data_exposure"].description


def _run(tmp_path, *args, check="security.path_traversal"):
    cmd = [sys.executable, "-m", "mcpcheck.cli", "run", "--campaign", "security", "--check", check,
           "--format", "json,markdown,html,junit,sarif", "--report-dir", "out", *args,
           "--", sys.executable, str(FIXTURES / "vuln_server.py")]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    return proc, json.loads((tmp_path / "out" / "report.json").read_text())


@pytest.mark.parametrize("policy", [["--fail-on", "critical"], ["--gate", "--gate-threshold", "0"]])
def test_real_path_traversal_is_not_ready_and_every_view_agrees(tmp_path, policy):
    proc, report = _run(tmp_path, *policy)
    out = proc.stdout
    assert [f["check"] for f in report["findings"]] and {f["check"] for f in report["findings"]} == {"security.path_traversal"}
    # neither --fail-on critical nor a threshold of 0 would block: only the exploit rule does
    assert proc.returncode == report["exit_code"] == 1, out + proc.stderr
    assert report["gate"]["status"] == "NOT READY"
    assert report["gate"]["reasons"][0].startswith("proven path traversal (high): security.path_traversal on vuln_server/")
    assert out.startswith("readiness: NOT READY: score ")
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("FAIL: exit code 1: NOT READY") and "proven path traversal" in last, last
    md = (tmp_path / "out" / "report.md").read_text()
    assert "**NOT READY**" in md and "**FAIL**: exit code 1" in md
    assert "READY: score" not in out.replace("NOT READY: score", "")


def test_ready_reads_ready_and_exits_0(tmp_path):
    # only the medium look-alike tool name (read_fiIe): below --fail-on high, no exploit
    proc, report = _run(tmp_path, check="security.tool_shadowing")
    assert [f["severity"] for f in report["findings"]] == ["medium"]
    assert proc.returncode == report["exit_code"] == 0, proc.stdout + proc.stderr
    assert report["gate"]["status"] == "READY" and proc.stdout.startswith("readiness: READY: ")
    assert proc.stdout.rstrip().splitlines()[-1] == "PASS: exit code 0: no finding at or above high (1 below it)"


def test_summary_counts_findings_observations_and_failed_checks_apart():
    finding = rv.finding("a.real", "medium", "x")
    obs = [rv.finding(f"b.obs{i}", "info", f"o{i}") for i in range(7)]
    report = rv.synthetic([finding, *obs])
    s = report.summary
    assert (len(report.findings), s.observations, s.checks_failed, s.checks_observed, s.checks_passed) == (1, 7, 1, 7, 1)
    assert "1 passed, 1 failed, 7 observed (observations only), 0 skipped." in render_html(report)
    md = render_markdown(report)
    assert "1 finding (1 medium), 7 observations; checks: 1 passed, 1 failed, 7 observed" in md
    assert "1 finding, 7 observations, 1 failed check" in md  # the executive summary's headline

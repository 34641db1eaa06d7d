"""Report writers: canonical JSON round-trips, Markdown escapes, JUnit XML parses back with counts
that match the report. The RunReport is built in the test through the runner's own build_report."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from mcpcheck.findings import Evidence, Finding, Severity
from mcpcheck.report import WRITERS, UnknownFormat, parse_formats, render, write_reports
from mcpcheck.report.json_report import render_json
from mcpcheck.report.junit import render_junit
from mcpcheck.report.markdown import append_step_summary, cell, render_markdown
from mcpcheck.report.model import CheckResult, RunReport, TargetResult
from mcpcheck.report.build import build_report
from mcpcheck.runner import TargetOutcome

REV = "2025-11-25"


def finding(check, severity, detail, *, target="srv", revision=REV, evidence=None, **kw):
    return Finding(
        id=f"{check}:{abs(hash((check, detail))) % 10**12:012d}",
        check=check,
        category="protocol.jsonrpc_shape",
        severity=Severity(severity),
        title=f"title of {check}",
        detail=detail,
        target=target,
        revision=revision,
        rule="J4",
        spec_level="MUST",
        evidence=evidence or [Evidence(seq=3, direction="in", channel="stdout", raw='{"jsonrpc":"2.0","id":"1","result":{}}')],
        reproduce=f"mcpcheck run --check {check} -- python server.py",
        **kw,
    )


def check(id, status, *, target="srv", revision=REV, reason=None, severity="high"):
    return CheckResult(
        id=id, category="protocol.jsonrpc_shape", severity=Severity(severity), title=f"title of {id}",
        rule="J4", target=target, revision=revision, status=status, reason=reason, count=1,
    )


def make_report(fail_on="high", *, extra_findings=(), unreachable=False) -> RunReport:
    findings = [
        finding("jsonrpc.id_echo", "high", "response id 1 (integer) echoed as \"1\" (string)"),
        finding("errors.unknown_method", "medium", "unknown method answered with a result | not -32601\nsecond line", tool="echo|tool"),
        finding("jsonrpc.null_id_rejected", "info", "null id silently dropped | noted"),
        *extra_findings,
    ]
    checks = [
        check("jsonrpc.id_echo", "failed"),
        check("errors.unknown_method", "failed", severity="medium"),
        check("jsonrpc.null_id_rejected", "failed", severity="medium"),  # observation only
        check("jsonrpc.response_shape", "passed"),
        check("resources.read", "skipped", reason="the server lists no resources"),
    ]
    result = TargetResult(
        name="srv", transport="stdio", description="python server.py", eras=[REV],
        server_info={"name": "demo", "version": "1.2"}, tools=["echo|tool", "add"], notes=["skipped tool wipe: looks destructive"],
    )
    outcomes = [TargetOutcome(result=result, findings=findings, checks=checks)]
    if unreachable:
        outcomes.append(TargetOutcome(result=TargetResult(name="down", transport="http", description="http http://127.0.0.1:9/mcp", error="cannot reach http://127.0.0.1:9/mcp: connection refused")))
    return build_report(
        outcomes, command=["mcpcheck", "run", "--", "python", "server.py"], names=["conformance"],
        fail_on=Severity(fail_on), started=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), duration=1.5, seed=7,
    )


# --------------------------------------------------------------------------- JSON


def test_json_roundtrips_through_the_model():
    report = make_report()
    text = render_json(report)
    assert text.endswith("\n")
    assert json.loads(text) == report.model_dump(mode="json")
    again = RunReport.model_validate_json(text)
    assert again == report
    assert again.exit_code == 1 and [f.check for f in again.findings] == ["jsonrpc.id_echo", "errors.unknown_method"]
    assert [o.check for o in again.observations] == ["jsonrpc.null_id_rejected"]


def test_json_survives_a_lone_surrogate_from_fuzzed_input():
    bad = finding("tools.call", "low", "echoed \ud800 back", evidence=[Evidence(raw="\ud800\x00\x1b[31m", direction="out", channel="stdin")], input={"s": "\udfff"})
    report = make_report(extra_findings=[bad])
    text = render_json(report)
    text.encode("utf-8")  # writable as UTF-8
    again = RunReport.model_validate_json(text)
    [echoed] = [f for f in again.findings if f.check == "tools.call"]
    assert echoed.evidence[0].raw == "\\ud800\x00\x1b[31m"  # the surrogate as visible text
    assert echoed.input == {"s": "\\udfff"} and echoed.detail == "echoed \\ud800 back"


# --------------------------------------------------------------------------- Markdown


def test_markdown_lists_findings_observations_and_checks():
    report = make_report()
    md = render_markdown(report)
    assert md.startswith("# mcpcheck report")
    assert "**FAIL**: exit code 1: 1 finding at or above `high`" in md
    for f in report.findings:
        assert f.id in md and f.check in md
    assert "### high (1)" in md and "### medium (1)" in md
    assert md.index("### high") < md.index("### medium") < md.index("## Observations") < md.index("## Checks")
    assert "jsonrpc.null_id_rejected" in md.split("## Observations")[1]
    assert "mcpcheck run --check jsonrpc.id_echo -- python server.py" in md  # reproduce command
    assert '{"jsonrpc":"2.0","id":"1","result":{}}' in md  # evidence excerpt
    assert "demo 1.2" in md and REV in md
    # an observation-only check is shown as observed, not failed
    assert "| jsonrpc.null_id_rejected | srv | 2025-11-25 | observed |" in md
    assert "| resources.read | srv | 2025-11-25 | skipped | high | J4 | the server lists no resources |" in md


def test_markdown_escapes_pipes_and_newlines_in_table_cells():
    md = render_markdown(make_report())
    assert cell("a|b\nc") == "a\\|b<br>c"
    assert "null id silently dropped \\| noted" in md  # observation table cell
    assert "echo\\|tool, add" in md  # tools column
    for line in md.splitlines():
        if line.startswith("| "):
            # every row of every table has as many unescaped cell separators as its header
            assert line.replace("\\|", "").count("|") in (7, 6, 8), line


def test_markdown_evidence_fence_cannot_be_broken_by_server_output():
    nasty = finding("jsonrpc.response_shape", "high", "shape", evidence=[Evidence(raw="```\n# injected heading\n```", channel="stdout", direction="in")])
    md = render_markdown(make_report(extra_findings=[nasty]))
    section = md.split("#### `jsonrpc.response_shape`")[1]
    block = section.split("Evidence:")[1].split("\n\n#")[0].strip()
    assert block == "````\nin stdout: ```\n# injected heading\n```\n````"  # a fence longer than any run inside  # a fence longer than the backtick run inside


def test_markdown_pass_and_error_verdicts():
    assert "**PASS**: exit code 0: no finding at or above `critical` (2 below it)" in render_markdown(make_report("critical"))
    md = render_markdown(make_report(unreachable=True))
    assert "**ERROR**: exit code 2: could not test down" in md
    assert "could not be tested: cannot reach http://127.0.0.1:9/mcp" in md


def test_step_summary_is_appended_when_github_sets_it(tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert append_step_summary(make_report()) == summary
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "# mcpcheck report" in text
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert append_step_summary(make_report()) is None


# --------------------------------------------------------------------------- JUnit


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def test_junit_parses_back_and_counts_match_the_report():
    report = make_report()
    root = _parse(render_junit(report))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["srv"]
    cases = root.findall(".//testcase")
    assert len(cases) == len(report.checks) == int(root.get("tests")) == int(suites[0].get("tests"))
    assert {c.get("name") for c in cases} == {f"{c.id} [{c.revision}]" for c in report.checks}
    assert {c.get("classname") for c in cases} == {"srv"}
    failures = root.findall(".//testcase/failure")
    # the two checks with real findings; the observation-only check is not a failure
    assert int(root.get("failures")) == int(suites[0].get("failures")) == len(failures) == 2
    assert int(root.get("skipped")) == len(root.findall(".//testcase/skipped")) == 1
    assert int(root.get("errors")) == 0
    by_name = {c.get("name"): c for c in cases}
    fail = by_name[f"jsonrpc.id_echo [{REV}]"].find("failure")
    assert fail.get("type") == "high" and "echoed" in fail.get("message")
    assert "reproduce: mcpcheck run --check jsonrpc.id_echo" in fail.text and '"id":"1"' in fail.text
    assert by_name[f"errors.unknown_method [{REV}]"].find("failure").get("type") == "medium"
    assert by_name[f"resources.read [{REV}]"].find("skipped").get("message") == "the server lists no resources"
    obs = by_name[f"jsonrpc.null_id_rejected [{REV}]"]
    assert obs.find("failure") is None and "null id silently dropped" in obs.find("system-out").text
    assert by_name[f"jsonrpc.response_shape [{REV}]"].find("*") is None  # passed: empty testcase


def test_junit_unreachable_target_is_an_error_and_control_chars_still_parse():
    nasty = finding("jsonrpc.response_shape", "high", "bad \x00 byte \x1b[31m", evidence=[Evidence(raw="\x00\x01\ud800 raw", channel="stdout", direction="in")])
    report = make_report(extra_findings=[nasty], unreachable=True)
    root = _parse(render_junit(report))
    down = root.find("testsuite[@name='down']")
    assert down.get("errors") == "1" and down.find("testcase/error").get("type") == "TargetUnreachable"
    assert "connection refused" in down.find("testcase/error").get("message")
    assert int(root.get("errors")) == 1
    case = root.find(f".//testcase[@name='jsonrpc.response_shape [{REV}]']")
    assert "\\x00" in case.find("failure").text


# --------------------------------------------------------------------------- writing


def test_write_reports_writes_the_requested_views(tmp_path):
    report = make_report()
    written = write_reports(report, tmp_path / "out", ["json,markdown", "junit"])
    assert [p.name for p in written] == ["report.json", "report.md", "junit.xml"]
    assert RunReport.model_validate_json((tmp_path / "out" / "report.json").read_text()) == report
    _parse((tmp_path / "out" / "junit.xml").read_text())
    only = write_reports(report, tmp_path / "one", ["junit"])
    assert [p.name for p in only] == ["junit.xml"]


def test_unknown_formats_are_rejected_with_the_supported_list():
    assert parse_formats(["md", "json", "json"]) == ["markdown", "json"]
    with pytest.raises(UnknownFormat, match=r"unknown report format 'pdf' \(supported: json, markdown, junit, sarif, html\)"):
        parse_formats(["json,pdf"])
    assert set(WRITERS) >= {"json", "markdown", "junit"}
    assert render(make_report(), "junit").startswith("<?xml")

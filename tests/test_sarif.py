"""SARIF 2.1.0 view: valid against the official schema (tests/data/sarif-schema-2.1.0.json, see
tests/data/README.md), rules from the check registry, results from findings with stable
fingerprints, suppressions from the baseline, the invocation's exit code; from a real run and
from synthetic reports built through runner.build_report."""

import json

import jsonschema
import pytest

from mcpcheck.baseline import Baseline, Suppression
from mcpcheck.gate import finalize
from mcpcheck.report import render, write_reports
from mcpcheck.report.sarif import FINGERPRINT, render_sarif

import report_views as rv


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(rv.SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def valid(validator, text: str) -> dict:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log


def test_real_run_sarif_is_valid_and_matches_the_report(validator):
    run = rv.real_run()
    report = run.report
    log = valid(validator, (run.dir / "mcpcheck.sarif").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [sarif_run] = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "mcpcheck" and driver["version"] == report.tool["version"] and driver["informationUri"].startswith("https://")
    rule_ids = [r["id"] for r in driver["rules"]]
    assert {c.id for c in report.checks} <= set(rule_ids)
    results = sarif_run["results"]
    assert len(results) == len(report.findings) == 2
    assert {r["partialFingerprints"][FINGERPRINT] for r in results} == {f.id for f in report.findings}
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "warning"  # both medium
    by_rule = {r["ruleId"]: r for r in results}
    fuzz = by_rule["fuzz.invalid_input_rejected"]
    names = [l["fullyQualifiedName"] for l in fuzz["locations"][0]["logicalLocations"]]
    assert names == [f"{report.targets[0].name}/set_volume", report.targets[0].name]
    # physical locations (GitHub needs one): real files of the run's directory, none invented
    [corpus] = report.targets[0].corpus
    assert fuzz["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == corpus.file  # the stored failing input
    protocol = by_rule["errors.unknown_method"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert protocol == "tiny_tools_server.py"  # the server's entry point
    assert all((run.workdir / r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).is_file() for r in results)
    assert "input" in fuzz["properties"] and fuzz["properties"]["tool"] == "set_volume"
    rule = driver["rules"][rule_ids.index("fuzz.invalid_input_rejected")]
    assert rule["defaultConfiguration"]["level"] == "warning" and "T10/T11" in rule["fullDescription"]["text"]
    assert rule["properties"]["category"] == "tool.input_validation"
    inv = sarif_run["invocations"][0]
    assert inv["exitCode"] == report.exit_code == run.code and inv["executionSuccessful"] is True
    assert inv["startTimeUtc"].endswith("Z") and inv["commandLine"].startswith("mcpcheck run")
    assert sarif_run["properties"]["gate"]["status"] == report.gate.status


def test_security_findings_carry_security_severity_and_suppressions_are_accepted(validator):
    crit = rv.finding("security.cmd_probe", "critical", "the canary file appeared", category="security.command_injection", tool="run")
    med = rv.finding("errors.unknown_method", "medium", "unknown method succeeded")
    low = rv.finding("listing.order", "low", "tools listed in random order")
    report = rv.synthetic([crit, med, low])
    baseline = Baseline(suppress=[Suppression(check="listing.order", reason="cosmetic, accepted", expires="2099-01-01")], file="b.toml")
    report = finalize(report, baseline=baseline)
    log = valid(validator, render_sarif(report))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["security.cmd_probe"]["properties"]["security-severity"] == "8.0"  # the check's default: high
    assert "security" in rules["security.cmd_probe"]["properties"]["tags"]
    assert "security-severity" not in rules["errors.unknown_method"]["properties"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert results["security.cmd_probe"]["level"] == "error" and results["errors.unknown_method"]["level"] == "warning"
    assert results["security.cmd_probe"]["properties"]["security-severity"] == "9.5"  # this finding: critical
    sup = results["listing.order"]
    assert sup["level"] == "note" and sup["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "cosmetic, accepted (until 2099-01-01) [check=listing.order]"}
    ]
    assert "suppressions" not in results["security.cmd_probe"]


def test_unreachable_target_is_a_notification_and_hostile_text_stays_valid(validator):
    nasty = rv.finding("jsonrpc.response_shape", "high", "bad \x00 byte \x1b[31m \ud800", input={"s": "\udfff"})
    report = rv.synthetic([nasty], unreachable=True)
    log = valid(validator, render(report, "sarif"))
    inv = log["runs"][0]["invocations"][0]
    assert inv["exitCode"] == 2 and inv["executionSuccessful"] is False
    assert "connection refused" in inv["toolExecutionNotifications"][0]["message"]["text"]
    text = log["runs"][0]["results"][0]["message"]["text"]
    assert "\\x00" in text and "\\ud800" in text


def test_empty_run_and_sarif_in_the_writers(tmp_path, validator):
    report = rv.synthetic([])
    [path] = write_reports(report, tmp_path, ["sarif"])
    assert path.name == "mcpcheck.sarif"
    log = valid(validator, path.read_text(encoding="utf-8"))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["invocations"][0]["exitCode"] == 0


def test_no_file_no_physical_location_and_the_workflow_file_in_actions(tmp_path, monkeypatch, validator):
    monkeypatch.delenv("GITHUB_WORKFLOW_REF", raising=False)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    report = rv.synthetic([rv.finding("errors.unknown_method", "medium", "x")])  # `python server.py`: no such file
    [r] = valid(validator, render_sarif(report))["runs"][0]["results"]
    assert "physicalLocation" not in r["locations"][0]
    (tmp_path / "server.py").write_text("")  # now the entry point exists in the workspace
    [r] = json.loads(render_sarif(report))["runs"][0]["results"]
    assert r["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "server.py"}}
    (tmp_path / "server.py").unlink()
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text("on: push\n")
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", "owner/repo/.github/workflows/ci.yml@refs/heads/main")
    log = valid(validator, render_sarif(report))
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".github/workflows/ci.yml"

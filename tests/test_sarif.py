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
    level = {f.id: {"low": "note", "medium": "warning"}[f.severity.value] for f in report.findings}
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == level[r["partialFingerprints"][FINGERPRINT]]  # SARIF level follows the severity
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
    assert rule["defaultConfiguration"]["level"] == "warning" and "T11/T10" in rule["fullDescription"]["text"]
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


def test_rules_come_from_the_registry_and_an_unknown_check_still_renders(validator):
    """A plugin's check is described by the registry (its title, description, revisions and
    origin, not the report's copy); a check the registry does not know (an old report, a plugin
    not loaded now) is described from the report and its findings still render."""
    from mcpcheck.registry import REGISTRY, check

    saved, REGISTRY.origin = REGISTRY.origin, "acme_checks"
    try:
        @check("acme.terse_description", category="tool.schema", severity="low", title="Tools say what they do", scope="listing",
               rule="T1", level="SHOULD", revisions="2025-06-18+", description="Every tool has a description of 20 characters or more")
        def terse(ctx, listing):
            return []
    finally:
        REGISTRY.origin = saved
    try:
        plugin = rv.finding("acme.terse_description", "low", "add: 'Adds.' is 5 characters", category="tool.schema", tool="add")
        retired = rv.finding("gone.retired_check", "medium", "from a report written by an older mcpcheck")
        log = valid(validator, render_sarif(rv.synthetic([plugin, retired])))
    finally:
        REGISTRY.remove("acme.terse_description")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    mine = by_id["acme.terse_description"]
    assert mine["shortDescription"]["text"] == "Tools say what they do"  # the registry's title, not "title of ..."
    assert mine["fullDescription"]["text"].startswith("Every tool has a description of 20 characters or more. MCP spec rule T1 (SHOULD)")
    assert mine["properties"]["origin"] == "acme_checks" and mine["properties"]["revisions"] == "2025-06-18+"
    gone = by_id["gone.retired_check"]
    assert gone["shortDescription"]["text"] == "title of gone.retired_check" and gone["properties"]["revisions"] == "?"
    assert gone["properties"]["specRule"] == "J4" and gone["defaultConfiguration"]["level"] == "error"  # the report: high
    assert "origin" not in gone["properties"] and "origin" not in by_id["jsonrpc.response_shape"]["properties"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert rules[results["gone.retired_check"]["ruleIndex"]]["id"] == "gone.retired_check"
    assert "older mcpcheck" in results["gone.retired_check"]["message"]["text"]


def test_report_command_loads_the_registry_for_sarif(tmp_path, validator):
    """`mcpcheck report --format sarif` in a fresh process (no campaign ran, nothing imported the
    checks): the CLI loads the registry, so rules carry the checks' own titles and revisions."""
    import subprocess
    import sys

    report = rv.synthetic([rv.finding("errors.unknown_method", "medium", "unknown method succeeded")])
    path = tmp_path / "report.json"
    path.write_text(report.model_dump_json(), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "mcpcheck.cli", "report", str(path), "--format", "sarif"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rules = {r["id"]: r for r in valid(validator, proc.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    for rid in ("errors.unknown_method", "jsonrpc.response_shape"):
        assert rules[rid]["shortDescription"]["text"] != f"title of {rid}", rules[rid]  # the registry's title
        assert rules[rid]["properties"]["revisions"] != "?"

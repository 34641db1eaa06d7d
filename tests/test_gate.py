"""Quality score and deployment-readiness gate (docs/gate.md): the formula, each blocking rule,
configuration from mcpcheck.toml [gate], and the exit code following the gate in a real run."""

import json

import pytest

from mcpcheck.config import ConfigError, load_settings
from mcpcheck.gate import GateSettings, evaluate, finalize
from mcpcheck.report.markdown import render_markdown
from mcpcheck.report.model import RunReport

import report_views as rv


def test_every_report_carries_the_gate_and_a_clean_run_is_ready():
    report = rv.synthetic([])
    g = report.gate
    assert g is not None and g.enabled is False
    assert (g.status, g.score, g.reasons, g.groups) == ("READY", 100.0, [], {"protocol": 100.0})


def test_score_formula_weighted_mean_of_group_scores():
    findings = [
        rv.finding("a.high", "high", "x"),  # protocol: 100 - 20
        rv.finding("b.medium", "medium", "y", category="tool.input_validation"),  # tool: 100 - 8 - 2
        rv.finding("b.low", "low", "z", category="tool.input_validation"),
    ]
    checks = [rv.check("s.ok", "passed", category="security.ssrf"), *(rv.check(f.check, "failed", category=f.category) for f in findings)]
    g = rv.synthetic(findings, checks).gate
    assert g.groups == {"protocol": 80.0, "security": 100.0, "tool": 90.0}
    assert g.weights == {"protocol": 2.0, "security": 4.0, "tool": 1.5}
    assert g.score == round((2 * 80 + 4 * 100 + 1.5 * 90) / 7.5, 1) == 92.7
    # the --fail-on policy (default high) blocks on the high finding; the full gate only scores it
    assert g.status == "NOT READY" and g.reasons == [f"high finding (at or above --fail-on high): a.high on srv ({findings[0].id})"]
    assert evaluate(findings, checks, []).status == "NOT READY"
    assert evaluate(findings, checks, [], enabled=True).status == "READY"
    # fix first: by points the fix gives back (weight x penalty)
    assert g.fix_first == [findings[0].id, findings[1].id, findings[2].id]
    # configurable weights and penalties
    custom = evaluate(findings, checks, [], GateSettings(weights={"tool": 10}, penalties={"medium": 50}), enabled=True)
    assert custom.groups["tool"] == 48.0 and custom.score == round((2 * 80 + 4 * 100 + 10 * 48) / 16, 1)


def test_a_critical_security_finding_blocks_whatever_the_score():
    crit = rv.finding("sec.canary", "critical", "canary file created", category="security.command_injection", tool="run")
    checks = [rv.check(f"ok.{i}", "passed", category=c) for i, c in enumerate(["protocol.lifecycle", "tool.schema", "transport.http"])]
    report = rv.synthetic([crit], [*checks, rv.check("sec.canary", "failed", category="security.command_injection")])
    g = report.gate
    assert g.status == "NOT READY"
    assert g.reasons[0] == f"proven command injection (critical): sec.canary on srv/run ({crit.id})"
    assert g.fix_first[0] == crit.id
    # a high security finding that is not a proven exploit is only score, unless security_block is lowered
    high = rv.finding("sec.rug", "high", "definitions changed", category="security.rug_pull")
    assert evaluate([high], report.checks, report.targets, GateSettings(threshold=0), enabled=True).status == "READY"
    assert evaluate([high], report.checks, report.targets, GateSettings(threshold=0, security_block="high"), enabled=True).status == "NOT READY"


@pytest.mark.parametrize(
    "f, reason",
    [
        (rv.finding("load.slo", "high", "p99 800 ms > 500 ms", category="performance.latency"), "performance SLO breach: load.slo"),
        (rv.finding("workflow.step", "high", "step create failed", category="tool.output_schema"), "failing workflow: workflow.step"),
        (rv.finding("fuzz.no_crash", "critical", "server died", category="protocol.crash"), "critical finding: fuzz.no_crash"),
    ],
)
def test_blocking_rules(f, reason):
    g = evaluate([f], [], [], GateSettings(threshold=0), enabled=True)
    assert g.status == "NOT READY" and g.reasons[0].startswith(reason)


def test_unreachable_target_and_low_score_and_nothing_tested():
    report = rv.synthetic([], unreachable=True)
    assert report.gate.status == "NOT READY"
    assert report.gate.reasons == ["target down could not be tested: cannot reach http://127.0.0.1:9/mcp: connection refused"]
    many = [rv.finding(f"c.{i}", "medium", f"d{i}") for i in range(3)]  # protocol 76
    report = rv.synthetic(many)
    assert report.gate.reasons == [] and report.exit_code == 0  # --fail-on high: the score is shown, not enforced
    assert finalize(report, enabled=True).gate.reasons == ["score 76 is below the threshold 80"]
    assert evaluate([], [], [], enabled=True).reasons == ["nothing was tested (no check ran)"]


def test_exit_code_follows_the_gate_only_when_enabled():
    medium = rv.synthetic([rv.finding("c.m", "medium", "x")], fail_on="medium")
    assert medium.exit_code == 1  # --fail-on as before
    assert finalize(medium).exit_code == 1  # gate computed, not enabled: unchanged
    ready = finalize(medium, enabled=True)
    assert (ready.gate.enabled, ready.gate.status, ready.exit_code) == (True, "READY", 0)
    blocked = finalize(medium, enabled=True, settings=GateSettings(threshold=95))
    assert (blocked.gate.status, blocked.exit_code) == ("NOT READY", 1)
    down = finalize(rv.synthetic([], unreachable=True), enabled=True)
    assert down.exit_code == 2
    md = render_markdown(blocked)
    assert "**FAIL**: exit code 1: NOT READY (score 92, threshold 95): score 92 is below the threshold 95" in md
    assert md.index("## Executive summary") < md.index("## Targets") < md.index("## Findings")


def test_gate_config_from_mcpcheck_toml(tmp_path):
    (tmp_path / "mcpcheck.toml").write_text(
        "[gate]\nenabled = true\nthreshold = 90\nsecurity_block = \"high\"\n[gate.weights]\nsecurity = 10\n[gate.penalties]\nlow = 1\n"
    )
    settings, _ = load_settings(cwd=tmp_path)
    assert settings.gate.enabled and settings.gate.threshold == 90 and settings.gate.all_weights()["security"] == 10
    assert settings.gate.all_penalties()["low"] == 1 and settings.gate.security_block.value == "high"
    (tmp_path / "mcpcheck.toml").write_text("[gate]\nthreshhold = 90\n")
    with pytest.raises(ConfigError, match="unknown key 'gate.threshhold'"):
        load_settings(cwd=tmp_path)
    (tmp_path / "mcpcheck.toml").write_text("[gate.penalties]\nsevere = 3\n")
    with pytest.raises(ConfigError, match="unknown severity 'severe'"):
        load_settings(cwd=tmp_path)


def test_real_run_gate_flag_and_config(tmp_path):
    # the tiny server: errors.unknown_method (low: J8 has no keyword; protocol) -> protocol 98 -> READY at 80
    conf = ["--check", "errors.unknown_method"]
    code, out_dir, out, err = rv.run_tiny(tmp_path / "a", "--fail-on", "low", campaigns=("conformance",), checks=conf, formats="json")
    assert code == 1, err  # --fail-on low, no gate
    code, out_dir, out, err = rv.run_tiny(tmp_path / "b", "--fail-on", "medium", "--gate", campaigns=("conformance",), checks=conf, formats="json,markdown")
    report = RunReport.model_validate_json((out_dir / "report.json").read_text())
    assert code == report.exit_code == 0, err
    assert (report.gate.enabled, report.gate.status, report.gate.score) == (True, "READY", 98.0)
    assert out.rstrip().splitlines()[-1] == "PASS: exit code 0: READY (score 98, threshold 80)"
    assert "## Executive summary" in (out_dir / "report.md").read_text()
    # the same from the config, with a stricter threshold: NOT READY, exit 1
    work = tmp_path / "c"
    work.mkdir()
    (work / "mcpcheck.toml").write_text("[gate]\nenabled = true\nthreshold = 99\n")
    code, out_dir, out, err = rv.run_tiny(work, campaigns=("conformance",), checks=conf, formats="json")
    report = json.loads((out_dir / "report.json").read_text())
    assert code == report["exit_code"] == 1 and report["gate"]["status"] == "NOT READY"
    assert report["gate"]["reasons"] == ["score 98 is below the threshold 99"]
    # --no-gate overrides the config; --gate-threshold overrides the threshold
    code, *_ = rv.run_tiny(work, "--no-gate", campaigns=("conformance",), checks=conf, formats="json")
    assert code == 0
    code, *_ = rv.run_tiny(work, "--gate-threshold", "90", campaigns=("conformance",), checks=conf, formats="json")
    assert code == 0

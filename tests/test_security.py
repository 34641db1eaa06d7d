"""The security campaign against real SDK servers: every seeded vulnerability of
tests/fixtures/vuln_server.py is found with proof, the clean fixture has zero security findings,
and stored hits replay from corpus/."""

from __future__ import annotations

import json
import sys

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.findings import Severity

from servers import FIXTURES, clean_stdio_cmd

VULN = [sys.executable, str(FIXTURES / "vuln_server.py")]


def _target(name: str, command: list[str]):
    return make_target(name=name, command=command, timeout=10.0)


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    """One security run over two targets, the vulnerable fixture and the clean one (corpus/
    written under a temp dir). Two targets in one run also exercise cross-target shadowing:
    both publish a tool named `echo`."""
    work = tmp_path_factory.mktemp("security-run")
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    try:
        vuln, clean = runner.run([_target("vuln", VULN), _target("clean", clean_stdio_cmd())], ["security"], corpus_dir=str(work / "corpus"))
    finally:
        mp.undo()
    assert vuln.result.error is None, vuln.result.error
    assert clean.result.error is None, clean.result.error
    return vuln, clean, work


@pytest.fixture(scope="module")
def vuln_run(both_runs):
    vuln, _clean, work = both_runs
    return vuln, work


def _one(outcome, check: str, tool: str | None = None, where: str | None = None):
    hits = [
        f for f in outcome.findings
        if f.check == check and (tool is None or f.tool == tool) and (where is None or where in f.detail)
    ]
    assert hits, f"no {check} finding for {tool or where}; got:\n" + "\n".join(f"{f.check} {f.tool}: {f.detail[:160]}" for f in outcome.findings)
    return hits[0]


def _evidence(f) -> str:
    return "\n".join(e.raw for e in f.evidence)


def test_command_injection_proven_by_computed_marker(vuln_run):
    outcome, _ = vuln_run
    f = _one(outcome, "security.command_injection", "ping")
    assert f.severity == Severity.critical and f.path == "/host"
    marker = f.detail.split("Proof: '")[1].split("'")[0]
    assert marker.endswith(":9801547") and marker.startswith("MCPCHK_")
    assert marker in _evidence(f)  # the answer on the wire carries the computed value...
    assert marker not in json.dumps(f.input)  # ...that was never sent


def test_sql_injection_proven_by_row_growth_against_a_false_control(vuln_run):
    outcome, _ = vuln_run
    f = _one(outcome, "security.sql_injection", "find_user")
    assert "tautology returned 3 records" in f.detail and "returned 1" in f.detail
    assert "OR '1'='1'" in f.input["name"]
    ev = _evidence(f)
    assert "alice" in ev and "carol" in ev and "'1'='2'" in ev  # baseline, tautology and control all on record


def test_path_traversal_reads_the_planted_file(vuln_run):
    outcome, _ = vuln_run
    f = _one(outcome, "security.path_traversal", "read_note")
    token = f.detail.split("Proof: '")[1].split("'")[0]
    assert token.startswith("MCPCHECK_PLANTED_") and token in _evidence(f)
    assert token not in json.dumps(f.input)
    r = _one(outcome, "security.path_traversal", where="resource template 'notes://{name}'")
    assert "MCPCHECK_PLANTED_" in _evidence(r)


def test_template_injection_in_tool_and_prompt(vuln_run):
    outcome, _ = vuln_run
    f = _one(outcome, "security.template_injection", "render_greeting")
    assert ":9801547" in _evidence(f) and "{{1337*7331}}" in f.input["name"]
    p = _one(outcome, "security.template_injection", where="prompt 'welcome'")
    assert ":9801547" in _evidence(p)


def test_ssrf_seen_by_the_loopback_canary(vuln_run):
    outcome, _ = vuln_run
    f = _one(outcome, "security.ssrf", "fetch_url")
    token = f.input["url"].rsplit("/", 1)[-1]
    assert f.input["url"].startswith("http://127.0.0.1:")
    assert any("canary server" in e.raw and token in e.raw for e in f.evidence)


def test_data_exposure_secret_and_traceback(vuln_run):
    outcome, _ = vuln_run
    secret = _one(outcome, "security.data_exposure", "get_config", where="canary secret")
    assert secret.severity == Severity.critical and "MCPCHK_SECRET_" in _evidence(secret)
    trace = _one(outcome, "security.data_exposure", "get_config", where="stack trace")
    assert "Traceback (most recent call last)" in _evidence(trace)


def test_static_checks(vuln_run):
    outcome, _ = vuln_run
    poison = {f.detail.split("rule '")[1].split("'")[0] for f in outcome.findings if f.check == "security.tool_poisoning" and f.tool == "add_numbers"}
    assert {"hidden_tag", "secret_file", "conceal"} <= poison
    rug = _one(outcome, "security.rug_pull", where="lookup_weather")
    assert "without notifications/tools/list_changed" in rug.detail and rug.evidence
    shadow = _one(outcome, "security.tool_shadowing", "read_fiIe")
    assert "read_file" in shadow.detail


def test_echo_tool_is_never_an_injection_finding(vuln_run):
    outcome, _ = vuln_run
    assert not [f for f in outcome.findings if f.tool == "echo" and f.check != "security.tool_shadowing_cross_target"]
    # every other tool that carried no flaw is clean as well
    flagged = {f.tool for f in outcome.findings if f.tool and f.check != "security.tool_shadowing_cross_target"}
    assert flagged <= {"ping", "find_user", "read_note", "render_greeting", "fetch_url", "get_config", "add_numbers", "read_fiIe"}


def test_hits_are_saved_to_corpus_and_replay(vuln_run):
    outcome, work = vuln_run
    files = sorted((work / "corpus" / "vuln").glob("security.*.json"))
    checks = {json.loads(p.read_text())["check"] for p in files}
    assert {"security.command_injection", "security.sql_injection", "security.path_traversal", "security.template_injection", "security.ssrf", "security.data_exposure"} <= checks
    entry = json.loads(next(p for p in files if "command_injection" in p.name).read_text())
    assert entry["mode"] == "injected" and entry["tool"] == "ping" and entry["oracle"]["marker"].endswith(":9801547")
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    try:
        replayed = runner.run([_target("vuln", VULN)], ["replay"], corpus_dir=str(work / "corpus"))[0]
    finally:
        mp.undo()
    notes = [n for n in replayed.result.notes if n.startswith("replay: security.")]
    assert notes and all("STILL FAILING" in n for n in notes), notes
    assert {f.check for f in replayed.findings} >= checks


CROSS = "security.tool_shadowing_cross_target"


def test_clean_fixture_has_zero_security_findings(both_runs):
    _vuln, clean, work = both_runs
    # the only finding that may name the clean fixture is the pair-wise one below: it exists
    # because the *other* target of the run also publishes `echo`
    own = [f for f in clean.findings if f.check != CROSS]
    assert own == [], "\n".join(f"{f.check} {f.tool}: {f.detail}" for f in own)
    ran = {c.id for c in clean.checks if c.status == "passed"}
    assert {"security.command_injection", "security.sql_injection", "security.path_traversal", "security.template_injection", "security.ssrf", "security.data_exposure", "security.tool_poisoning", "security.rug_pull", "security.tool_shadowing"} <= ran
    assert not (work / "corpus" / "clean").exists()


def test_same_tool_name_on_two_targets_is_cross_target_shadowing(both_runs):
    vuln, clean, _work = both_runs
    for outcome, other in ((vuln, "clean"), (clean, "vuln")):
        hits = [f for f in outcome.findings if f.check == CROSS]
        assert [f.tool for f in hits] == ["echo"], hits
        assert repr(other) in hits[0].detail
        assert any(c.id == CROSS and c.status == "failed" for c in outcome.checks)


def test_static_only_selection_calls_no_tool(tmp_path, monkeypatch):
    """Selecting only static checks lists, but never calls a tool (so no rug pull 'after calls')."""
    monkeypatch.chdir(tmp_path)
    outcome = runner.run([_target("vuln", VULN)], ["security"], only=["security.tool_poisoning", "security.rug_pull"])[0]
    assert {f.check for f in outcome.findings} == {"security.tool_poisoning"}
    assert not list(tmp_path.glob("corpus/**/*.json"))

"""Blind, time-based injection (issue 13 class 7) against real SDK servers: the fixture whose
shell output is discarded and whose SQL answer is only a count is caught by timing; its correct
twin (`--safe`) and a slow, jittery tool have no finding; the decision rule refuses delays that
are inconsistent, not proportional or inside the baseline's spread."""

from __future__ import annotations

import re
import sys

import pytest

from mcpcheck import runner
from mcpcheck.config import EXPLOIT_CATEGORIES, make_target
from mcpcheck.security import timing as T
from mcpcheck.strategies.payloads import timed_templates

from servers import FIXTURES

BLIND = [sys.executable, str(FIXTURES / "blind_server.py")]
ONLY = ["security.command_injection", "security.sql_injection"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("blind-run")
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    try:
        vuln, safe = runner.run(
            [make_target(name="blind", command=BLIND, timeout=10.0), make_target(name="blind-safe", command=[*BLIND, "--safe"], timeout=10.0)],
            ["security"], only=ONLY,
        )
    finally:
        mp.undo()
    assert vuln.result.error is None, vuln.result.error
    assert safe.result.error is None, safe.result.error
    return vuln, safe


def _findings(outcome, check: str, tool: str):
    return [f for f in outcome.findings if f.check == check and f.tool == tool]


def test_blind_command_injection_is_proven_by_timing(runs):
    vuln, _ = runs
    found = _findings(vuln, "security.command_injection", "notify")
    assert len(found) == 1, [n for n in vuln.result.notes if "notify" in n]
    [f] = found
    assert "blind, time-based" in f.detail and "sleep" in f.detail
    assert "baseline (5 calls)" in f.detail and "requested 1.0s" in f.detail and "requested 2.0s" in f.detail
    assert f.severity.name == "critical" and f.category in EXPLOIT_CATEGORIES
    assert len(f.evidence) >= 8  # the screen, the trials and the after-calls: requests and responses


def test_blind_sql_injection_is_proven_by_timing(runs):
    vuln, _ = runs
    found = _findings(vuln, "security.sql_injection", "count_users")
    assert len(found) == 1, [n for n in vuln.result.notes if "count_users" in n]
    [f] = found
    assert "blind, time-based" in f.detail and "sqlite_heavy" in f.detail and "rows" in f.detail
    assert f.category in EXPLOIT_CATEGORIES


def test_sqlite_rows_calibrated_too_low_are_rescaled_from_the_servers_own_excess(tmp_path, monkeypatch):
    """The rows are calibrated in mcpcheck's process; a server whose SQLite does them 5x faster
    (another build, or a calibration taken under heavier load) answers the 1 s screen in ~0.2 s,
    under the threshold. The probe rescales the rows from that measured excess (bounded) and the
    proof still holds, with the ratio judged at the rows actually sent."""
    real = T.sqlite_rows_per_second()
    monkeypatch.setattr(T, "sqlite_rows_per_second", lambda: real / 5)
    monkeypatch.chdir(tmp_path)
    t = make_target(name="blind", command=BLIND, timeout=10.0)
    t.safety.only_tools = ["count_users"]
    [vuln] = runner.run([t], ["security"], only=["security.sql_injection"])
    found = _findings(vuln, "security.sql_injection", "count_users")
    assert len(found) == 1, [n for n in vuln.result.notes if "count_users" in n]
    sent = [int(n) for n in re.findall(r"requested (\d+) rows", found[0].detail)]
    assert sent and min(sent) > T.rows_for(1.0), (sent, found[0].detail)  # more than the calibration asked for


def test_twins_and_the_jittery_tool_are_not_flagged(runs):
    vuln, safe = runs
    assert not [f for f in safe.findings if f.check in ONLY], [f.detail for f in safe.findings]
    assert not [f for f in vuln.findings if f.tool == "lookup"], [f.detail for f in vuln.findings if f.tool == "lookup"]
    assert {c.id: c.status for c in safe.checks if c.id in ONLY} == {i: "passed" for i in ONLY}


def test_the_gate_blocks_a_blind_injection(runs):
    vuln, _ = runs
    from mcpcheck.gate import evaluate

    # the timing findings alone (no other check's findings): a proven exploit blocks whatever the score
    blind = [f for f in vuln.findings if "blind, time-based" in f.detail]
    verdict = evaluate(blind, vuln.checks, [vuln.result])
    assert verdict.status == "NOT READY" and any("injection" in r for r in verdict.reasons), verdict.reasons


# -------------------------------------------------------------------- the decision rule itself

BASE = [0.010, 0.012, 0.011, 0.015, 0.010]


def test_rule_accepts_a_consistent_proportional_delay():
    v = T.judge(BASE, [1.02, 1.03], [2.02, 2.04], [0.01, 0.012], 1.0, 2.0, "s", 0.5)
    assert v.ok, v.why


@pytest.mark.parametrize("low, high, after, why", [
    ([1.02, 0.3], [2.02, 2.04], [0.01, 0.01], "not every trial"),  # one trial not delayed
    ([1.02, 1.03], [1.03, 1.01], [0.01, 0.01], "not always slower"),  # the bigger request no slower
    ([1.02, 1.03], [4.5, 4.6], [0.01, 0.01], "not proportional"),  # +3.5 s for +1 s requested
    ([0.6, 0.62], [1.2, 1.25], [0.01, 0.01], "shorter than requested"),
    ([1.02, 1.03], [2.02, 2.04], [0.9, 0.01], "stayed slow"),  # slow without the payload too
])
def test_rule_refuses(low, high, after, why):
    v = T.judge(BASE, low, high, after, 1.0, 2.0, "s", 0.5)
    assert not v.ok and why in v.why


def test_rule_threshold_follows_the_baseline_spread():
    jittery = [0.02, 0.29, 0.15, 0.05, 0.3]
    assert T.threshold(jittery, 0.5) == pytest.approx(0.8)
    assert T.threshold([0.1, 0.9, 0.1, 0.1, 0.1], 0.5) == pytest.approx(1.7)  # spread 0.8 > margin
    assert not T.judge(jittery, [1.0, 0.79], [2.0, 2.0], [0.1, 0.1], 1.0, 2.0, "s", 0.5).ok


def test_rule_for_sqlite_work_is_relative():
    assert T.judge(BASE, [0.9, 0.95], [1.85, 1.9], [0.01, 0.01], 5e6, 1e7, "rows", 0.5).ok
    assert not T.judge(BASE, [0.9, 0.95], [0.99, 1.0], [0.01, 0.01], 5e6, 1e7, "rows", 0.5).ok


def test_timed_templates_render_the_delay():
    rendered = {t.name: t.render(2 if t.unit == "s" else 1000) for t in timed_templates()}
    assert rendered["shell.semicolon_sleep"] == "; sleep 2"
    assert "pg_sleep(2)" in rendered["sql.pg_sleep_concat"]
    assert "x<1000" in rendered["sql.sqlite_heavy_concat"]
    assert T.rows_for(1.0) >= 10_000

"""The checks added for spec-rule coverage (issue 13) catch their seeded defect, and the correct
twin gives them nothing to report.

Defects the official SDK cannot express live in tests/rawservers/rule_defects.py (a hand-written
JSON-RPC server, one defect per run, no argument = the correct twin); the SDK's clean server
(tests/fixtures/clean_server.py) is the other correct twin; the H1 defect is
tests/fixtures/broken_http.py --defect get_not_found.
"""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from servers import TESTS, broken_http, clean_http, clean_stdio_cmd

RAW = [sys.executable, str(TESTS / "rawservers" / "rule_defects.py")]

# defect -> (campaign, forced protocol or None, the check that must fire)
CASES = {
    "dup_server_request_ids": ("conformance", "2025-11-25", "jsonrpc.server_request_ids"),
    "requests_before_initialized": ("conformance", "2025-11-25", "lifecycle.no_requests_before_initialized"),
    "no_exit_on_eof": ("conformance", "2026-07-28", "stdio.exit_on_eof"),
    "set_level_accepts_anything": ("conformance", "2025-11-25", "logging.set_level"),
    "subscribe_unsupported": ("conformance", "2025-11-25", "resources.subscribe"),
    "listen_no_ack": ("conformance", "2026-07-28", "subscriptions.listen"),
    "listen_no_subscription_id": ("conformance", "2026-07-28", "subscriptions.listen"),
    "progress_unknown_token": ("fuzz", "2025-11-25", "progress.notifications"),
    "progress_not_increasing": ("fuzz", "2025-11-25", "progress.notifications"),
    "progress_after_response": ("fuzz", "2025-11-25", "progress.notifications"),
    "cancel_non_listen": ("fuzz", "2026-07-28", "cancellation.server_sent"),
    "input_required_undeclared": ("fuzz", "2026-07-28", "capabilities.per_request"),
    "task_undeclared": ("fuzz", "2026-07-28", "capabilities.per_request"),
    "task_required_served": ("fuzz", "2025-11-25", "tools.task_required"),
}
CHECKS = sorted({c for _, _, c in CASES.values()})
LOW = Severity.low


def _run(command, campaign, protocol, checks):
    target = make_target(name="rules", command=command, timeout=10.0, protocol=protocol)
    return runner.run([target], [campaign], only=checks)[0]


@pytest.fixture(autouse=True)
def _few_examples(monkeypatch, tmp_path):
    monkeypatch.setenv("MCPCHECK_MAX_EXAMPLES", "3")
    monkeypatch.setenv("MCPCHECK_CORPUS", str(tmp_path / "corpus"))  # fuzz failures stay out of the checkout


@pytest.mark.parametrize("defect", sorted(CASES))
def test_seeded_defect_is_caught(defect):
    campaign, protocol, check = CASES[defect]
    outcome = _run([*RAW, defect], campaign, protocol, [check])
    assert outcome.result.error is None, outcome.result.error
    hits = [f for f in outcome.findings if f.check == check and f.severity >= LOW]
    assert hits, f"{defect}: no {check} finding; got {[(f.check, f.severity.value, f.detail) for f in outcome.findings]}"
    assert hits[0].evidence, "a finding carries wire evidence"
    assert f"--check {check}" in (hits[0].reproduce or "")


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("campaign", ["conformance", "fuzz"])
def test_correct_raw_twin_is_clean(campaign, protocol):
    outcome = _run(RAW, campaign, protocol, CHECKS)
    assert outcome.result.error is None
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []


def test_task_required_twin_refusing_plain_calls_is_clean():
    outcome = _run([*RAW, "task_required"], "fuzz", "2025-11-25", ["tools.task_required"])
    assert {c.id: c.status for c in outcome.checks}.get("tools.task_required") == "passed"
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []


def test_task_required_refusal_inside_an_iserror_result_is_a_medium_must_finding():
    """server-everything (TypeScript SDK McpServer) wraps its -32601 in a tool result: the tool did
    not run, but T16's MUST is broken on the wire, so the finding is medium (a MUST's lowest), never
    a low finding printed with level MUST (issue 12: severity follows the level)."""
    outcome = _run([*RAW, "task_required_wrapped"], "fuzz", "2025-11-25", ["tools.task_required"])
    hits = [f for f in outcome.findings if f.check == "tools.task_required"]
    assert hits and {f.severity for f in hits} == {Severity.medium}, [(f.severity.value, f.detail) for f in hits]
    assert all("inside an isError result" in f.detail for f in hits)


def test_sdk_clean_server_passes_the_new_probes():
    outcome = _run(clean_stdio_cmd(), "conformance", None, CHECKS)
    assert outcome.result.error is None
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    status = {(c.id, c.revision): c.status for c in outcome.checks}
    # the SDK acknowledges a 2026-07-28 listen stream and exits on stdin EOF in both eras
    assert status[("subscriptions.listen", "2026-07-28")] == "passed"
    assert status[("stdio.exit_on_eof", "2026-07-28")] == "passed"
    assert status[("stdio.exit_on_eof", "2025-11-25")] == "passed"


def test_exit_on_eof_is_advisory_before_2026():
    outcome = _run([*RAW, "no_exit_on_eof"], "conformance", "2025-11-25", ["stdio.exit_on_eof"])
    [f] = [f for f in outcome.findings if f.check == "stdio.exit_on_eof"]
    assert f.severity == Severity.info


@pytest.mark.parametrize("defect", ["none", "get_not_found"])
def test_get_stream_over_http(defect):
    cm = clean_http() if defect == "none" else broken_http(defect)
    with cm as url:
        target = make_target(name="rules-http", url=str(url), transport="http", timeout=10.0, protocol="2025-11-25")
        outcome = runner.run([target], ["conformance"], only=["http.get_stream"])[0]
    hits = [f for f in outcome.findings if f.check == "http.get_stream" and f.severity >= LOW]
    status = {c.id: c.status for c in outcome.checks}
    if defect == "none":
        assert hits == [] and status["http.get_stream"] == "passed"
    else:
        assert hits and "404" in hits[0].detail

"""The one-era rule probes (conformance/campaigns/era_probes.py) catch their seeded defect, and
correct twins give them nothing to report.

J11 (2025-03-26 batches, judged under --protocol 2025-03-26): tests/rawservers/rule_defects.py
answers a batch with an array when its process negotiated 2025-03-26 (the correct twin) or
refuses / half-answers / answers it line by line (defects). V4 / V6 (modern-only servers): tests/rawservers/modern_only.py, which refuses the
handshake (the SDK cannot: its servers are all dual-era). A dual-era server is skipped by V4/V6.
M6 (2026-07-28 input requests): tests/fixtures/mrtr_server.py, an SDK MCPServer whose tool asks
for a name (the SDK's resolver asks again on a retry without it; its defect modes answer errors).
PR3 (2026-07-28 HTTP streams): tests/rawservers/listen_http.py puts a call's progress or logs on
the listen stream (defects) or on the call's own stream (twin); the SDK (mrtr_server.py --http,
tool `count`) is the SDK twin.
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from servers import FIXTURES, TESTS, _serve_on_free_port, clean_stdio_cmd

RULE_DEFECTS = [sys.executable, str(TESTS / "rawservers" / "rule_defects.py")]
MODERN_ONLY = [sys.executable, str(TESTS / "rawservers" / "modern_only.py")]
MRTR = [sys.executable, str(FIXTURES / "mrtr_server.py")]
CHECKS = ["jsonrpc.batch_accepted", "versions.legacy_initialize", "versions.removed_methods", "mrtr.missing_input", "progress.own_stream"]
LOW = Severity.low

# (server, defect) -> (the check that must fire, its severity, a word of the detail)
CASES = {
    ("rule_defects", "batch_refused"): ("jsonrpc.batch_accepted", Severity.medium, "-32600"),
    ("rule_defects", "batch_partial"): ("jsonrpc.batch_accepted", Severity.medium, "only in part"),
    ("rule_defects", "batch_one_by_one"): ("jsonrpc.batch_accepted", Severity.low, "one by one"),
    ("modern_only", "no_versions"): ("versions.legacy_initialize", Severity.low, "without naming"),
    ("modern_only", "serves_removed"): ("versions.removed_methods", Severity.low, "ping"),
    ("modern_only", "removed_wrong_code"): ("versions.removed_methods", Severity.low, "-32600"),
    ("mrtr", "error_on_missing"): ("mrtr.missing_input", Severity.low, "inputResponses {}"),
    ("mrtr", "error_on_unknown"): ("mrtr.missing_input", Severity.low, "unrequested key"),
}


def _run(command, protocol=None, checks=CHECKS):
    target = make_target(name="era", command=command, timeout=10.0, protocol=protocol)
    return runner.run([target], ["conformance"], only=checks)[0]


def _server(name):
    return {"rule_defects": RULE_DEFECTS, "modern_only": MODERN_ONLY, "mrtr": MRTR}[name]


@pytest.mark.parametrize("server,defect", sorted(CASES))
def test_seeded_defect_is_caught(server, defect):
    check, severity, word = CASES[(server, defect)]
    protocol = "2025-03-26" if server == "rule_defects" else None
    outcome = _run([*_server(server), defect], protocol, checks=[check])
    assert outcome.result.error is None, outcome.result.error
    hits = [f for f in outcome.findings if f.check == check]
    assert hits, f"{defect}: no {check} finding; got {[(f.check, f.detail) for f in outcome.findings]}"
    assert {f.severity for f in hits} == {severity}
    assert any(word in f.detail for f in hits), [f.detail for f in hits]
    assert hits[0].evidence, "a finding carries wire evidence"


def test_modern_only_twin_passes_v4_and_v6():
    outcome = _run(MODERN_ONLY)
    assert outcome.result.error is None and outcome.result.eras == ["2026-07-28"]
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    status = {c.id: c.status for c in outcome.checks}
    assert status["versions.legacy_initialize"] == "passed"
    assert status["versions.removed_methods"] == "passed"


def test_removed_wrong_code_names_every_removed_method():
    outcome = _run([*MODERN_ONLY, "removed_wrong_code"], checks=["versions.removed_methods"])
    methods = {f.detail.split(",")[0] for f in outcome.findings if f.check == "versions.removed_methods"}
    assert {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "tasks/list", "tasks/result"} <= methods


def test_batch_twin_passes():
    outcome = _run(RULE_DEFECTS, "2025-03-26")
    assert outcome.result.error is None
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    assert {(c.id, c.revision): c.status for c in outcome.checks}[("jsonrpc.batch_accepted", "2025-03-26")] == "passed"


def test_dual_era_server_is_not_judged_modern_only_nor_by_the_2025_03_26_rule():
    outcome = _run([*RULE_DEFECTS, "batch_refused"])
    assert outcome.result.error is None
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    status = {(c.id, c.revision): (c.status, c.reason) for c in outcome.checks}
    state, reason = status[("jsonrpc.batch_accepted", "2025-11-25")]
    assert state == "skipped" and "--protocol 2025-03-26" in reason
    for check in ("versions.legacy_initialize", "versions.removed_methods"):
        state, reason = status[(check, "2026-07-28")]
        assert state == "skipped" and "dual-era" in reason


def test_batch_finding_is_filed_under_2025_03_26():
    outcome = _run([*RULE_DEFECTS, "batch_refused"], protocol="2025-03-26", checks=["jsonrpc.batch_accepted"])
    assert [f.revision for f in outcome.findings if f.check == "jsonrpc.batch_accepted"] == ["2025-03-26"]


def test_mrtr_twin_asks_again_and_servers_without_input_tools_are_skipped():
    outcome = _run(MRTR, checks=["mrtr.missing_input"])
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    assert {(c.id, c.revision): c.status for c in outcome.checks}[("mrtr.missing_input", "2026-07-28")] == "passed"
    outcome = _run(clean_stdio_cmd(), checks=["mrtr.missing_input"])
    status = {(c.id, c.revision): (c.status, c.reason) for c in outcome.checks}
    state, reason = status[("mrtr.missing_input", "2026-07-28")]
    assert state == "skipped" and "asked for input" in reason


def _listen_http(defect: str) -> contextlib.AbstractContextManager:
    script = TESTS / "rawservers" / "listen_http.py"
    return _serve_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port), "--defect", defect])


def _mrtr_http() -> contextlib.AbstractContextManager:
    return _serve_on_free_port(lambda port: [*MRTR, "none", "--http", str(port)])


def _run_http(url, checks):
    target = make_target(name="era-http", url=str(url), transport="http", timeout=10.0)
    return runner.run([target], ["conformance"], only=checks)[0]


@pytest.mark.parametrize("defect,method", [("progress_on_listen", "notifications/progress"), ("log_on_listen", "notifications/message")])
def test_notifications_on_the_listen_stream_are_caught(defect, method):
    with _listen_http(defect) as url:
        outcome = _run_http(url, ["progress.own_stream"])
    assert outcome.result.error is None, outcome.result.error
    hits = [f for f in outcome.findings if f.check == "progress.own_stream"]
    assert hits and {f.severity for f in hits} == {Severity.low}
    assert any(f.detail.startswith(method) and "listen stream" in f.detail for f in hits), [f.detail for f in hits]
    assert hits[0].evidence


@pytest.mark.parametrize("server", ["raw", "sdk"])
def test_own_stream_twins_pass(server):
    with (_listen_http("none") if server == "raw" else _mrtr_http()) as url:
        outcome = _run_http(url, ["progress.own_stream"])
    assert outcome.result.error is None, outcome.result.error
    assert [f.detail for f in outcome.findings if f.severity >= LOW] == []
    assert {(c.id, c.revision): c.status for c in outcome.checks}[("progress.own_stream", "2026-07-28")] == "passed"


def test_own_stream_is_skipped_on_stdio():
    outcome = _run(MRTR, checks=["progress.own_stream"])
    status = {(c.id, c.revision): (c.status, c.reason) for c in outcome.checks}
    assert status[("progress.own_stream", "2026-07-28")][0] == "skipped"

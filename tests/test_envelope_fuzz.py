"""The envelope campaign (session-level JSON-RPC fuzzer) against real servers, and its pure checks."""

from __future__ import annotations

import sys

import pytest

from conformance import runner
from conformance.campaigns.envelope_fuzz import summarize_notes
from conformance.campaigns.fuzz import FuzzSettings
from conformance.checks import envelope as E
from conformance.config import make_target
from conformance.findings import CATEGORIES, REGISTRY, Severity
from servers import TESTS, clean_stdio_cmd, everything_stdio_cmd, npm_available

CFG = FuzzSettings(max_examples=10)  # 2 messages per kind and era
FATAL = {"envelope.survives", "envelope.responsive", "envelope.stdout_clean", "envelope.notification_silent", "envelope.error_shape"}


def run_envelope(name: str, cmd: list[str]):
    out = runner.run([make_target(name=name, command=cmd, timeout=5)], ["envelope"], fuzz_settings=CFG)[0]
    assert out.result.error is None, out.result.error
    return out


def test_registered_with_taxonomy_categories():
    runner.load_all_checks()
    assert "envelope" in runner.campaigns()
    ids = {k for k, v in REGISTRY.items() if v.campaign == "envelope"}
    assert {"envelope.parse_error", "envelope.invalid_request", "envelope.survives"} <= ids
    assert all(REGISTRY[i].category in CATEGORIES for i in ids)
    assert REGISTRY["envelope.survives"].severity == Severity.critical
    assert REGISTRY["envelope.notification_silent"].level == "MUST NOT"


def test_clean_sdk_server_survives_everything():
    """What the official SDK (mcp 2.3.0) does, recorded: it never crashes, hangs or pollutes stdout and
    never answers a notification; it answers unknown methods with -32601, and it stays SILENT on
    unparseable lines and invalid requests (info observations: JSON-RPC would answer -32700/-32600)
    and on `params: []` for a real method (low: a request with a readable id is owed an answer)."""
    out = run_envelope("clean_server", clean_stdio_cmd())
    assert not [f for f in out.findings if f.check in FATAL], [f.detail for f in out.findings if f.check in FATAL]
    assert not [f for f in out.findings if f.severity >= Severity.medium]
    status = {c.id: c.status for c in out.checks}
    for check in ("envelope.survives", "envelope.responsive", "envelope.stdout_clean", "envelope.notification_silent"):
        assert status[check] == "passed", (check, status)
    tally = summarize_notes(out.result.notes)
    assert tally.get("unknown_method:-32601")
    assert tally.get("not_json:silent") and not tally.get("not_json:-32700")
    silent = {f.check for f in out.findings if f.severity == Severity.info}
    assert {"envelope.parse_error", "envelope.invalid_request"} <= silent
    low = [f for f in out.findings if f.severity == Severity.low]
    assert all(f.check == "envelope.invalid_params" for f in low), [f.detail for f in low]


def test_raw_server_crash_is_found_shrunk_and_the_run_goes_on():
    out = run_envelope("envelope_crash", [sys.executable, str(TESTS / "rawservers" / "envelope_crash.py")])
    crash = [f for f in out.findings if f.check == "envelope.survives"]
    assert len(crash) == 1 and crash[0].severity == Severity.critical
    assert crash[0].input == '{"jsonrpc":"2.0","id":{},"method":"ping"}'  # the smallest crashing message
    assert "exited with code 1" in crash[0].detail and "TypeError" in crash[0].detail
    tally = summarize_notes(out.result.notes)
    # kinds after bad_id_type ran against the restarted server and were answered by the book
    assert tally.get("params_not_object:-32602") and tally.get("unknown_method:-32601") and tally.get("not_json:-32700")
    assert [f.check for f in out.findings if f.severity > Severity.info] == ["envelope.survives"]


@pytest.mark.thirdparty
@pytest.mark.skipif(not npm_available(), reason="node/npm not available")
def test_server_everything():
    out = run_envelope("everything", everything_stdio_cmd())
    assert not [f for f in out.findings if f.check in FATAL], [f.detail for f in out.findings if f.check in FATAL]
    assert summarize_notes(out.result.notes).get("unknown_method:-32601")


# ---------------------------------------------------------------- pure checks


def reply(obj):
    from conformance.wirelog import WireLog

    return WireLog().record("in", "stdout", __import__("json").dumps(obj))


def judge(kind, expect, codes, rid, replies):
    return [(s.id, (v.severity or s.severity).value) for s, v in E.check_reply(kind, expect, frozenset(codes), rid, b"x", None, replies)]


def test_check_reply_levels():
    ok = reply({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
    assert judge("not_json", "-32700", {-32700}, None, [ok]) == []
    assert judge("not_json", "-32700", {-32700}, None, []) == [("envelope.parse_error", "info")]
    assert judge("unknown_method", "-32601", {-32601}, 3, []) == [("envelope.method_not_found", "low")]
    executed = reply({"jsonrpc": "2.0", "id": None, "result": {}})
    assert judge("bad_id_type", "-32600", {-32600}, None, [executed]) == [("envelope.invalid_request", "medium")]
    wrong = reply({"jsonrpc": "2.0", "id": 3, "error": {"code": -32603, "message": "x"}})
    assert judge("unknown_method", "-32601", {-32601}, 3, [wrong]) == [("envelope.method_not_found", "low")]
    bad = reply({"jsonrpc": "2.0", "id": 4, "error": {"code": "x"}})
    assert ("envelope.error_shape", "high") in judge("unknown_method", "-32601", {-32601}, 3, [bad])
    assert judge("unknown_notification", "no-response", set(), None, [ok]) == [("envelope.notification_silent", "high")]
    assert judge("batch", "error-or-ignore", {-32600}, None, []) == []
    assert judge("batch", "error-or-ignore", {-32600}, None, [reply([{"jsonrpc": "2.0", "id": 1, "result": {}}])]) == [("envelope.invalid_request", "medium")]

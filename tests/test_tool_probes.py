"""Issue 13, classes 3 and 4: concurrent tool calls and cancelled slow calls.

- concurrency.tool_calls: tests/fixtures/tool_race_server.py --defect shared_global (an SDK
  server whose read-only `lookup` keeps its argument in a module global across an await) is
  caught; without the defect (the correct twin) it passes.
- cancellation.slow_call: tests/rawservers/cancel_ignored.py ignore (a hand-written server that
  still sends the result of a cancelled call; the SDK cannot express it) is caught at the level
  of its era (CN1 SHOULD: low before 2026-07-28; CN2 MUST NOT: medium over 2026-07-28 stdio);
  the SDK's own behaviour (tool_race_server.py, the correct twin) and the raw server's correct
  mode pass. Fast tools only: skipped with the reason.
"""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.checks.concurrency import CANCEL_GRACE, Baseline, CancelTrial, burst_violations, mismatches, trial_outcome
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.session import Exchange
from mcpcheck.wirelog import WireEntry
from servers import FIXTURES, TESTS, clean_http

RACE = [sys.executable, str(FIXTURES / "tool_race_server.py")]
CANCEL = [sys.executable, str(TESTS / "rawservers" / "cancel_ignored.py")]
FAST = [sys.executable, str(TESTS / "rawservers" / "rule_defects.py")]  # one fast read-only tool
H, S = "2025-11-25", "2026-07-28"
CONC, CANC = "concurrency.tool_calls", "cancellation.slow_call"


def _run(command, checks, protocol=None, **kw):
    target = make_target(name="probe", command=command, timeout=10.0, protocol=protocol, **kw)
    out = runner.run([target], ["conformance"], only=checks)[0]
    assert out.result.error is None, out.result.error
    return out


def _real(out, check):
    return [f for f in out.findings if f.check == check and f.severity >= Severity.low]


def _status(out, check):
    return {c.revision: (c.status, c.reason) for c in out.checks if c.id == check}


# --------------------------------------------------------------------------- class 3


@pytest.mark.parametrize("protocol", [H, S])
def test_shared_state_under_concurrent_tool_calls_is_caught(protocol):
    out = _run([*RACE, "--defect", "shared_global"], [CONC], protocol)
    (f,) = _real(out, CONC)
    assert f.severity == Severity.high and f.category == "protocol.concurrency" and f.rule == "J4"
    assert f.tool == "lookup" and "got another call's answer" in f.detail
    assert len(f.evidence) >= 4, "the concurrent call and the sequential answers it is compared with"
    assert f.reproduce and CONC in f.reproduce


def test_correct_twin_passes_the_concurrent_tool_calls():
    out = _run(RACE, [CONC], H)
    assert _real(out, CONC) == [] and [f for f in out.findings if f.check == CONC] == []
    assert _status(out, CONC)[H][0] == "passed"


def test_no_read_only_tool_skips_with_the_reason():
    progress = [sys.executable, str(FIXTURES / "progress_server.py")]  # crunch, stall: no annotations
    status, reason = _status(_run(progress, [CONC], H), CONC)[H]
    assert status == "skipped" and "readOnlyHint" in reason


# --------------------------------------------------------------------------- class 4


def test_result_of_a_cancelled_call_is_caught_at_the_level_of_each_era():
    out = _run([*CANCEL, "ignore"], [CANC])
    found = {f.revision: f for f in _real(out, CANC)}
    assert set(found) == {H, S}, [(f.revision, f.detail) for f in out.findings]
    assert found[H].severity == Severity.low and found[H].spec_level == "SHOULD" and "CN1" in found[H].detail
    assert found[S].severity == Severity.medium and found[S].spec_level == "MUST NOT" and "CN2" in found[S].detail
    for f in found.values():
        assert f.category == "protocol.cancellation" and f.tool == "slow_lookup" and "still sent its result" in f.detail
        methods = [e.raw for e in f.evidence]
        assert any("notifications/cancelled" in r for r in methods), "the cancel is part of the proof"


def test_an_error_answering_the_cancel_is_a_response_too():
    out = _run([*CANCEL, "error_ack"], [CANC], H)
    (f,) = _real(out, CANC)
    assert f.severity == Severity.low and "answered the cancel with an error" in f.detail


@pytest.mark.parametrize("command", [[*CANCEL, "none"], RACE], ids=["raw-correct", "sdk"])
def test_correct_twins_never_answer_a_cancelled_call(command):
    out = _run(command, [CANC, "robustness.no_hang", "jsonrpc.unsolicited_response"])
    assert [f for f in out.findings if f.severity >= Severity.low] == []
    assert [f for f in out.findings if f.check == CANC] == []
    assert {r: s for r, (s, _) in _status(out, CANC).items()} == {H: "passed", S: "passed"}


def test_fast_tools_only_skip_with_the_reason():
    status, reason = _status(_run(FAST, [CANC], H), CANC)[H]
    assert status == "skipped" and "too fast" in reason


@pytest.mark.parametrize("stateless", [False, True], ids=["session", "no-session"])
def test_http_sdk_cancel_is_no_finding(stateless):
    """Over HTTP before 2026-07-28 the SDK ends a cancelled request's SSE stream with -32800
    (that wire needs a response to end a stream): an observation, never low or above. Without a
    session a cancel cannot name another POST's request; 2026-07-28 over HTTP closing the stream
    is the cancel: both skipped with the reason."""
    with clean_http(stateless=stateless) as url:
        out = runner.run([make_target(name="sdk", transport="http", url=url, timeout=10.0)], ["conformance"], only=[CANC, CONC])[0]
    assert out.result.error is None
    assert [f for f in out.findings if f.severity >= Severity.low] == [], [(f.check, f.detail) for f in out.findings]
    st = _status(out, CANC)
    assert st[S][0] == "skipped" and "closing the response stream" in st[S][1]
    if stateless:
        assert st[H][0] == "skipped" and "Mcp-Session-Id" in st[H][1]
    else:
        assert [f.severity for f in out.findings if f.check == CANC] == [Severity.info]
    assert {r: s for r, (s, _) in _status(out, CONC).items()} == {H: "passed", S: "passed"}


# --------------------------------------------------------------------------- pure judgements


def _entry(seq: int, t: float, msg: dict) -> WireEntry:
    import json

    return WireEntry(seq=seq, t=t, direction="in" if "result" in msg or "error" in msg else "out", channel="stdout", raw=json.dumps(msg), parsed=msg)


def _exchange(rid: int, text: str, sent: float = 0.0, got: float | None = 0.01) -> Exchange:
    req = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": "t", "arguments": {"k": text}}}
    resp = {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": f"for {text}"}]}}
    return Exchange("tools/call", req, _entry(rid * 10, sent, req), resp if got is not None else None, _entry(rid * 10 + 1, got, resp) if got is not None else None)


def test_crossed_answer_is_a_violation_and_a_mere_difference_is_info():
    from mcpcheck.checks.concurrency import answer_of

    a, b = _exchange(1, "a"), _exchange(2, "b")
    base = [Baseline({"k": "a"}, answer_of(a), [a, a]), Baseline({"k": "b"}, answer_of(b), [b, b])]
    crossed = [(0, _exchange(3, "b")), (1, _exchange(4, "b"))]  # input a answered with b's answer
    (v,) = burst_violations("t", base, crossed, mismatches(base, crossed))
    assert v.severity is None and v.key == "t/crossed"
    differs = [(0, _exchange(5, "zzz")), (1, _exchange(6, "b"))]
    (w,) = burst_violations("t", base, differs, mismatches(base, differs))
    assert w.severity == Severity.info
    same = [(0, _exchange(7, "a")), (1, _exchange(8, "b"))]
    assert list(burst_violations("t", base, same, mismatches(base, same))) == []


def test_trial_outcomes_tell_a_race_from_an_ignored_cancel():
    cancel = _entry(99, 0.1, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
    assert trial_outcome(CancelTrial(_exchange(1, "a", got=None), cancel, 1.0)) == "silent"
    assert trial_outcome(CancelTrial(_exchange(1, "a", got=0.1 + CANCEL_GRACE / 2), cancel, 1.0)) == "race"
    assert trial_outcome(CancelTrial(_exchange(1, "a", got=0.1 + CANCEL_GRACE * 3), cancel, 1.0)) == "answered"
    assert trial_outcome(CancelTrial(_exchange(1, "a", got=0.05), cancel, 1.0)) == "before"
    assert trial_outcome(CancelTrial(_exchange(1, "a", got=0.05), None, 1.0)) == "before"

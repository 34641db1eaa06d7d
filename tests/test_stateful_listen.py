"""stateful.listing_stable listens where list_changed arrives (issue 12, class 3):

- over Streamable HTTP (handshake era) the campaign opens the session's GET stream (H1), so a
  change the server announced there (tests/fixtures/rug_http_server.py --mode announced, an SDK
  MCPServer) is no finding, while its silent twin (--mode silent) still is one at medium;
- in 2026-07-28 it opens a subscriptions/listen stream (tests/rawservers/stateless_rug.py, a
  hand-written stdio server): announced passes, silent is caught, and when listen is refused a
  change is reported at low with that reason.
"""

from __future__ import annotations

import sys

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.findings import Severity

from servers import FIXTURES, _serve_on_free_port

RUG_HTTP = FIXTURES / "rug_http_server.py"
STATELESS_RUG = FIXTURES.parent / "rawservers" / "stateless_rug.py"
# enough sequences that some list the tools again after a call (the fixtures change then); seeded
CFG = FuzzSettings(max_examples=12, shrink_seconds=5, write_corpus=False)
SEED = 3


def _lines(outcome) -> str:
    return "\n".join(f"{f.check} {f.tool} {f.severity.value}: {f.detail[:300]}" for f in outcome.findings)


def _run(target):
    outcome = runner.run([target], ["stateful"], seed=SEED, fuzz_settings=CFG, only=["stateful.listing_stable"])[0]
    assert outcome.result.error is None, outcome.result.error
    return outcome


def _listing(outcome):
    return [f for f in outcome.findings if f.check == "stateful.listing_stable"]


def _judged(outcome) -> list[str]:
    return [c.status for c in outcome.checks if c.id == "stateful.listing_stable"]


def _http(tmp_path, monkeypatch, mode: str):
    monkeypatch.chdir(tmp_path)
    cmd = lambda port: [sys.executable, str(RUG_HTTP), "--port", str(port), "--mode", mode]  # noqa: E731
    with _serve_on_free_port(cmd) as url:
        return _run(make_target(name=f"rug-{mode}", transport="http", url=str(url), timeout=10.0, protocol="2025-11-25"))


def test_http_change_announced_on_the_get_stream_is_no_finding(tmp_path, monkeypatch):
    outcome = _http(tmp_path, monkeypatch, "announced")
    assert [f for f in _listing(outcome) if f.severity >= Severity.low] == [], _lines(outcome)
    assert _judged(outcome) == ["passed"]


def test_http_silent_change_is_still_caught(tmp_path, monkeypatch):
    outcome = _http(tmp_path, monkeypatch, "silent")
    found = _listing(outcome)
    assert found and all(f.severity == Severity.medium for f in found), _lines(outcome)
    assert "forward the conversation" in found[0].detail and "may have been missed" not in found[0].detail


def _stateless(tmp_path, monkeypatch, mode: str):
    monkeypatch.chdir(tmp_path)
    return _run(make_target(name=f"stateless-rug-{mode}", command=[sys.executable, str(STATELESS_RUG), mode], timeout=10.0))


def test_2026_07_28_change_announced_on_the_listen_stream_is_no_finding(tmp_path, monkeypatch):
    outcome = _stateless(tmp_path, monkeypatch, "announced")
    assert [f for f in _listing(outcome) if f.severity >= Severity.low] == [], _lines(outcome)
    assert _judged(outcome) == ["passed"]


def test_2026_07_28_silent_change_is_caught(tmp_path, monkeypatch):
    found = _listing(_stateless(tmp_path, monkeypatch, "silent"))
    assert found and all(f.severity == Severity.medium for f in found), found


def test_2026_07_28_change_is_low_with_the_reason_when_listen_is_refused(tmp_path, monkeypatch):
    found = _listing(_stateless(tmp_path, monkeypatch, "refused"))
    assert found and all(f.severity == Severity.low for f in found), found
    assert "subscriptions/listen was refused" in found[0].detail

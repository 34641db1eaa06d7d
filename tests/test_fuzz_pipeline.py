"""The fuzz search overlaps the server's work with Hypothesis' drawing (campaigns/fuzz.py,
_Pipeline): these tests pin what that must not change. A failure the search finds is reported
with the very input that failed, and shrunk when it happens again (test_fuzz_e2e.py covers the
shrinking); one that never happens again is still reported, unshrunk, with a note saying so."""

from __future__ import annotations

import sys

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from servers import FIXTURES, clean_stdio_cmd


def once_target():
    return make_target(name="once", command=[sys.executable, str(FIXTURES / "once_server.py")])


def test_a_failure_that_never_recurs_is_reported_unshrunk_with_its_input(tmp_path):
    seen: list = []
    cfg = FuzzSettings(max_examples=10, modes=("valid",), write_corpus=True, corpus_dir=str(tmp_path), observe=lambda _t, _m, args: seen.append(args))
    out = runner.run([once_target()], ["fuzz"], fuzz_settings=cfg)[0]
    leaks = [f for f in out.findings if f.check == "fuzz.no_internal_leak"]
    assert len(leaks) == 1, [f.check for f in out.findings]
    finding = leaks[0]
    assert "stack trace" in finding.title + finding.detail
    assert "not shrunk" in finding.detail
    # the third call failed, so the third generated input is the one reported
    assert finding.input == seen[2]
    # and it is in the corpus like any other failure
    entries = list(tmp_path.rglob("*.json"))
    assert len(entries) == 1 and "not shrunk" in entries[0].read_text()


def test_every_input_is_called_once_and_the_last_answer_is_judged():
    """One call per generated input, the last one (still in flight when Hypothesis stops) included."""
    seen: list = []
    target = make_target(name="clean", command=clean_stdio_cmd())
    target.safety.only_tools = ["add"]
    cfg = FuzzSettings(max_examples=15, modes=("valid",), write_corpus=False, observe=lambda _t, _m, args: seen.append(args))
    out = runner.run([target], ["fuzz"], fuzz_settings=cfg)[0]
    assert [f.check for f in out.findings if f.severity.value != "info"] == []
    line = next(n for n in out.result.notes if n.startswith("fuzz: add "))
    assert f" {len(seen)} calls" in line, (line, len(seen))
    assert len(seen) == 15

"""Issue 13, classes 2, 5 and 6, each proven on a real server and a correct twin.

* Class 2: tools annotated readOnlyHint/idempotentHint whose identical calls change what they
  answer beyond volatile values (tests/fixtures/idempotency_server.py; the npm
  server-sequential-thinking) are a medium tool.idempotency finding with both answers as evidence;
  the twin whose answers change only with the time, fresh UUIDs, durations and random fractions
  has no finding of low or above.
* Class 5: crashes on oversized strings are robustness.resource_limits and name the size that
  failed and the sizes answered; crashes on odd unicode are robustness.unicode
  (tests/fixtures/limits_server.py); the twin that refuses or handles them has none.
* Class 6: a crash that needs earlier inputs is said not to reproduce alone on a fresh server.
"""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from servers import FIXTURES, LOOPBACK, NODE_MODULES, ensure_npm_servers, npm_available

IDEMPOTENCY = str(FIXTURES / "idempotency_server.py")
LIMITS = str(FIXTURES / "limits_server.py")
SEQUENTIAL = NODE_MODULES / "@modelcontextprotocol" / "server-sequential-thinking" / "dist" / "index.js"


def fuzz(name: str, cmd: list[str], **settings):
    cfg = FuzzSettings(write_corpus=False, **{"max_examples": 10, **settings})
    out = runner.run([make_target(name=name, command=cmd, timeout=5)], ["fuzz"], fuzz_settings=cfg)[0]
    assert out.result.error is None, out.result.error
    return out


def real(out):
    return sorted((f.check, f.tool) for f in out.findings if f.severity > Severity.info)


def test_side_effects_of_read_only_tools_are_medium_findings_with_both_answers():
    out = fuzz("idempotency", [sys.executable, IDEMPOTENCY], modes=("valid",))
    assert real(out) == [("fuzz.idempotent", "lookup"), ("fuzz.idempotent", "search")], [(f.check, f.tool, f.detail) for f in out.findings]
    for f in out.findings:
        if f.tool in ("lookup", "search"):
            assert f.severity == Severity.medium and f.category == "tool.idempotency"
            assert "never came back" in f.detail
            answers = [e for e in f.evidence if e.direction == "in"]
            assert len(answers) >= 2, "the first and the last answer are the evidence"
    lookup = next(f for f in out.findings if f.tool == "lookup")
    assert "constant step" in lookup.detail  # the per-key lookup counter
    search = next(f for f in out.findings if f.tool == "search")
    assert "grows by the same amount" in search.detail  # the search history it repeats


def test_answers_that_change_only_with_time_and_randomness_are_no_finding():
    out = fuzz("idempotency-correct", [sys.executable, IDEMPOTENCY, "--correct"], modes=("valid",))
    assert real(out) == [], [(f.check, f.tool, f.detail) for f in out.findings if f.severity > Severity.info]


@pytest.mark.thirdparty
@pytest.mark.skipif(not npm_available(), reason="needs node and npm for the third-party servers")
def test_sequential_thinking_history_is_a_side_effect():
    """server-sequential-thinking annotates its one tool readOnlyHint + idempotentHint, and every
    call appends to the thought history whose length it reports (thoughtHistoryLength 1, 2, 3...)."""
    import shutil

    ensure_npm_servers()
    out = fuzz("sequential-thinking", [shutil.which("node"), "--require", str(LOOPBACK), str(SEQUENTIAL)], modes=("valid",))
    side = [f for f in out.findings if f.check == "fuzz.idempotent" and f.severity == Severity.medium]
    assert [f.tool for f in side] == ["sequentialthinking"], [(f.check, f.severity.value, f.detail) for f in out.findings]
    assert "constant step" in side[0].detail


def test_crashes_are_classified_by_their_cause_and_sized():
    out = fuzz("limits", [sys.executable, LIMITS])
    assert real(out) == [("fuzz.resource_limits", "ingest"), ("fuzz.resource_limits", "summarize"), ("fuzz.unicode", "shape")], [
        (f.check, f.tool, f.detail) for f in out.findings]
    assert not [f for f in out.findings if f.category == "protocol.crash"]
    by_tool = {f.tool: f for f in out.findings if f.severity > Severity.info}
    summarize = by_tool["summarize"]
    assert summarize.category == "robustness.resource_limits" and summarize.severity == Severity.high
    assert "1 MiB string in /text killed the server" in summarize.detail and "it answered 1 KiB, 64 KiB in the same field" in summarize.detail
    assert "reproduced alone on a fresh server" in summarize.detail
    shape = by_tool["shape"]
    assert shape.category == "robustness.unicode" and shape.severity == Severity.critical
    assert "\u202e" in shape.input["text"] and "reproduced alone" in shape.detail
    # class 6: the 8 MiB chunk kills the leaking server only after the smaller ones it kept
    ingest = by_tool["ingest"]
    assert "8 MiB" in ingest.detail and "does not crash a fresh server on its own" in ingest.detail


def test_servers_that_refuse_or_handle_odd_strings_have_no_finding():
    out = fuzz("limits-correct", [sys.executable, LIMITS, "--correct"])
    assert real(out) == [], [(f.check, f.tool, f.detail) for f in out.findings if f.severity > Severity.info]
    # the official SDK drops a request holding a lone surrogate: one observation, not a finding
    dropped = [f for f in out.findings if f.check == "fuzz.unicode"]
    assert len(dropped) == 1 and dropped[0].severity == Severity.info and "unpaired surrogate" in dropped[0].detail

"""The real fuzz campaign against a server with seeded tool bugs (tests/fixtures/buggy_tools_server.py).

One seeded run of runner.run(campaign "fuzz") is shared by the tests below. They prove that every
seeded bug is found AND shrunk to its minimal input, that the crash restarts the server and the
campaign goes on, that each shrunk failure lands in a (temporary) corpus directory, and that the
replay campaign re-runs those entries: still failing against the buggy build, fixed against the
`--fixed` build, and not applicable to the clean fixture (whose tools have other names).
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.corpus import load_entries
from mcpcheck.findings import Severity
from servers import FIXTURES, clean_stdio_cmd

BUGGY = str(FIXTURES / "buggy_tools_server.py")
NAME = "buggy_tools_server"
SEED = 20261124
LIMIT = 1000  # buggy_tools_server.LIMIT
TIMEOUT = 3.0  # per request: also what one hang costs

CRASH_CHARS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]  # buggy_tools_server.CRASH_CHARS

# check id, tool, minimal input(s): the shrunk input must be one of these
SEEDED = [
    # exactly ONE control character; the crash is filed by its cause (issue 13, class 5): the same
    # input without the control character does not crash a fresh server
    ("fuzz.unicode", "shout", [{"text": c} for c in CRASH_CHARS]),
    ("fuzz.no_internal_leak", "lookup", [{"n": LIMIT + 1}]),
    ("fuzz.no_hang", "total", [{"values": []}]),
    ("fuzz.invalid_input_rejected", "set_volume", [{"level": 11}, {"level": -1}]),
    ("fuzz.structured_output", "ratio", [{"a": 0, "b": 0}]),
    ("fuzz.idempotent", "redeem_coupon", [{"code": ""}]),
    ("fuzz.stdout_clean", "render", [{"title": "", "verbose": True}]),
    ("fuzz.read_only", "peek", [{"key": ""}]),
]
# set_volume enforces neither bound: each unenforced constraint is its own finding and corpus entry
ENTRIES = len(SEEDED) + 1
TOOL_ORDER = ["shout", "lookup", "total", "set_volume", "ratio", "redeem_coupon", "render", "peek", "echo", "stats"]


def buggy_target(*extra: str):
    return make_target(name=NAME, command=[sys.executable, BUGGY, *extra], timeout=TIMEOUT)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    # mutants cost more to generate than valid inputs, and only set_volume's bug needs them
    cfg = FuzzSettings(max_examples=30, invalid_examples=15, observe=lambda tool, mode, args: SENT.append((tool, args)))
    outcome = runner.run([buggy_target()], ["fuzz"], seed=SEED, fuzz_settings=cfg, corpus_dir=str(corpus))[0]
    return outcome, corpus


SENT: list = []  # (tool, arguments) of every call the campaign sent


def calls_per_tool(outcome) -> dict[str, int]:
    out = {}
    for note in outcome.result.notes:
        m = re.match(r"fuzz: (\S+) \[[^\]]*\] (\d+) calls", note)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


@pytest.mark.parametrize("check,tool,minimal", SEEDED, ids=[s[1] for s in SEEDED])
def test_seeded_bug_is_found_and_shrunk(campaign, check, tool, minimal):
    outcome, _ = campaign
    assert outcome.result.error is None, outcome.result.error
    found = [f for f in outcome.findings if f.check == check and f.tool == tool]
    assert found, f"{check} on {tool} not found; findings: {[(f.check, f.tool, f.input) for f in outcome.findings]}"
    assert found[0].input in minimal, f"{tool}: shrunk to {found[0].input!r}, expected one of {minimal!r}"
    assert found[0].severity > Severity.info
    assert found[0].evidence, "a finding carries its WireLog evidence"


def test_no_false_positives(campaign):
    outcome, _ = campaign
    real = [(f.check, f.tool) for f in outcome.findings if f.severity > Severity.info]
    assert set(real) == {(c, t) for c, t, _ in SEEDED} and len(real) == ENTRIES, real
    bounds = {f.input["level"] for f in outcome.findings if f.tool == "set_volume"}
    assert bounds == {11, -1}, "the constraint sweep breaks each bound with its smallest input"
    assert not [f for f in outcome.findings if f.tool == "echo"], "the control tool has no bug"


def test_crash_restarts_the_server_and_the_campaign_goes_on(campaign):
    outcome, _ = campaign
    crash = next(f for f in outcome.findings if f.check == "fuzz.unicode" and f.severity > Severity.info)
    assert "exited with code 70" in crash.detail and "control character" in crash.detail  # exit status and stderr
    assert crash.severity == Severity.critical and crash.category == "robustness.unicode"
    assert "reproduced alone on a fresh server" in crash.detail and "the cause is odd unicode" in crash.detail
    calls = calls_per_tool(outcome)
    assert TOOL_ORDER[0] == "shout"
    for tool in TOOL_ORDER[1:]:  # every tool after the crashing one was still fuzzed
        assert calls.get(tool, 0) > 0, (tool, calls)
    # every other seeded bug (all in tools fuzzed after the crash) was still found
    assert {f.tool for f in outcome.findings} >= {tool for _, tool, _ in SEEDED} - {"shout"}


def test_hang_and_leak_details(campaign):
    outcome, _ = campaign
    hang = next(f for f in outcome.findings if f.check == "fuzz.no_hang")
    assert f"within {TIMEOUT:g}s" in hang.detail
    leak = next(f for f in outcome.findings if f.check == "fuzz.no_internal_leak")
    assert "stack trace" in leak.detail
    assert any("Traceback" in e.raw for e in leak.evidence)


def test_a_hanging_input_is_sent_to_find_and_confirm_the_hang_not_for_every_rerun(campaign):
    """Hypothesis runs the failing input again while shrinking and to report it; each send of a
    hang costs the timeout and its grace. It is sent twice (found, confirmed), not a third time."""
    outcome, _ = campaign
    assert next(f for f in outcome.findings if f.check == "fuzz.no_hang").input == {"values": []}
    assert [args for tool, args in SENT if tool == "total"].count({"values": []}) == 2, SENT


def test_corpus_entries_are_written(campaign):
    outcome, corpus = campaign
    entries = load_entries(corpus, NAME)
    assert len(entries) == ENTRIES, [p.name for p, _ in entries]
    by_check = {e.check: (p, e) for p, e in entries}
    for check, tool, minimal in SEEDED:
        path, entry = by_check[check]
        assert path.parent.name == NAME and path.name.startswith(check + "-")
        assert entry.tool == tool and entry.arguments in minimal
        assert entry.seed == SEED and entry.revision in outcome.result.eras
        raw = json.loads(path.read_text())
        assert raw["format"] == "mcpcheck-corpus/1"
    assert by_check["fuzz.invalid_input_rejected"][1].mode == "invalid"
    assert by_check["fuzz.invalid_input_rejected"][1].constraint in ("maximum", "minimum")


def test_replay_fails_on_the_buggy_build(campaign):
    _, corpus = campaign
    outcome = runner.run([buggy_target()], ["replay"], corpus_dir=str(corpus))[0]
    assert outcome.result.error is None
    failing = {(f.check, f.tool) for f in outcome.findings if f.severity > Severity.info}
    assert failing == {(c, t) for c, t, _ in SEEDED}
    assert sum("STILL FAILING" in n for n in outcome.result.notes) == ENTRIES, outcome.result.notes


def test_replay_passes_on_the_fixed_build(campaign):
    _, corpus = campaign
    outcome = runner.run([buggy_target("--fixed")], ["replay"], corpus_dir=str(corpus))[0]
    assert outcome.result.error is None
    assert not [f for f in outcome.findings if f.severity > Severity.info], [f.detail for f in outcome.findings]
    assert sum(n.endswith(": fixed") for n in outcome.result.notes) == ENTRIES, outcome.result.notes


def test_replay_against_the_clean_server_passes(campaign):
    """The clean fixture offers none of these tools: every entry is reported as not applicable."""
    _, corpus = campaign
    target = make_target(name=NAME, command=clean_stdio_cmd(), timeout=TIMEOUT)
    outcome = runner.run([target], ["replay"], corpus_dir=str(corpus))[0]
    assert outcome.result.error is None
    assert not outcome.findings
    assert sum("is not offered by this server" in n for n in outcome.result.notes) == ENTRIES


def test_sdk_null_arguments_default_is_one_info_observation_per_server():
    """The official SDK runs `"arguments": null` as a call without arguments (tools with no required
    parameter). Not the author's defect and not an unvalidated input (the tool ran with {}, which
    its schema allows): one info observation for the server, no finding of low or above."""
    cmd = [sys.executable, str(FIXTURES / "sdk_defaults_server.py")]
    outcome = runner.run([make_target(name="sdk_defaults", command=cmd, timeout=TIMEOUT, protocol="2025-11-25")], ["fuzz"], seed=SEED, fuzz_settings=FuzzSettings(max_examples=10, invalid_examples=10, write_corpus=False))[0]
    assert outcome.result.error is None, outcome.result.error
    real = [f for f in outcome.findings if f.severity > Severity.info]
    assert real == [], [(f.check, f.severity.value, f.detail) for f in real]
    null = [f for f in outcome.findings if f.check == "fuzz.invalid_input_rejected" and '"arguments": null' in f.detail]
    assert len(null) == 1 and null[0].severity == Severity.info, [f.detail for f in outcome.findings]
    assert "greet" in null[0].detail and "official SDKs" in null[0].detail and null[0].tool is None

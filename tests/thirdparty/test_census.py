"""The census of issue 12 as a test (slow: about 17 minutes for all ten servers; `tox -e fuzz`).

Each server runs through benchmarks/census.py (every applicable campaign via `mcpcheck run`) and
its findings of low or above are compared with tests/thirdparty/census_expectations.yaml, which
was judged by hand: every `expected` (true) finding must still be reported at its severity, and
nothing else of low or above may appear. Findings listed under `known_false` (false alarms and
debatable severities, each with its root cause in mcpcheck) make the test xfail while mcpcheck
still reports them; once fixed (gone, or at their `should_be` severity) the test passes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("census", ROOT / "benchmarks" / "census.py")
census = importlib.util.module_from_spec(_spec)
sys.modules["census"] = census  # dataclasses look their module up there
_spec.loader.exec_module(census)

pytestmark = [pytest.mark.slow, pytest.mark.thirdparty]

EXPECTATIONS = census.load_expectations()


def test_expectations_cover_every_census_server():
    assert set(EXPECTATIONS["servers"]) == set(census.SERVERS)
    for name, server in EXPECTATIONS["servers"].items():
        assert server["transport"] == census.SERVERS[name].transport, name
        for e in server.get("expected") or []:
            assert e["severity"] in census.SEVERITIES[1:] and e.get("why"), (name, e)
        for e in server.get("known_false") or []:
            assert e["verdict"] in ("false", "debatable") and e.get("why") and e.get("root_cause") and e.get("fix"), (name, e)


def test_compare_flags_missing_unexpected_and_known_false():
    server = {
        "expected": [{"check": "a.b", "tool": None, "severity": "low"}],
        "known_false": [{"check": "c.d", "tool": "t", "severity": "high", "should_be": "low", "verdict": "false"}],
    }
    f = lambda check, sev, tool=None: {"check": check, "tool": tool, "severity": sev}  # noqa: E731
    ok = census.compare([f("a.b", "low"), f("c.d", "low", "t")], server)
    assert ok.ok and not ok.known_false  # the known false alarm at its should_be severity = fixed
    still = census.compare([f("a.b", "low"), f("c.d", "high", "t")], server)
    assert still.ok and len(still.known_false) == 1
    bad = census.compare([f("a.b", "medium"), f("e.f", "low")], server)
    assert not bad.ok and len(bad.missing) == 1 and {x["check"] for x in bad.unexpected} == {"a.b", "e.f"}


# MCPCHECK_CENSUS_REPORTS=DIR judges the reports a census run already wrote (e.g. .census/final from
# `python benchmarks/census.py --out .census/final`) instead of running every server again.
REPORTS = os.environ.get("MCPCHECK_CENSUS_REPORTS")


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", list(census.SERVERS))
def test_census(name, tmp_path):
    if REPORTS:
        outcome = census.load_outcome(name, Path(REPORTS))
    else:
        if census.SERVERS[name].transport == "http" or name in ("everything-stdio", "memory", "filesystem", "sequential-thinking"):
            if shutil.which("node") is None:
                pytest.skip("node is not on PATH (the npm servers need Node.js >= 20)")
        outcome = census.run_server(name, tmp_path / "reports")
    assert outcome.error is None, outcome.error
    cmp = census.compare(outcome.findings("low"), EXPECTATIONS["servers"][name])
    shown = lambda fs: "\n".join(f"  {f['severity']} {f['check']} {f.get('tool')}: {f['detail'][:200]}" for f in fs)  # noqa: E731
    assert not cmp.missing, f"true findings no longer reported on {name}:\n" + "\n".join(f"  {e}" for e in cmp.missing)
    assert not cmp.unexpected, f"findings nobody judged on {name} (judge them and update census_expectations.yaml):\n" + shown(cmp.unexpected)
    if cmp.known_false:
        pytest.xfail(f"{len(cmp.known_false)} known false/debatable finding(s) still reported on {name}:\n" + shown([f for f, _ in cmp.known_false]))

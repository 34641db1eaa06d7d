"""The `quick` profile leaves out its heaviest work and says so (issue 14, item 1).

Through the real CLI against the clean fixture (tests/fixtures/clean_server.py, official SDK,
stdio): what quick does not run is a note in the report ("quick profile: ... not run; run
--profile full") and a skipped check with that reason, never a silent gap; every tool is still
fuzzed and its constraint table still has a row per constraint kind. The sweep's ordering is
checked on a real schema. Speed is not asserted here (benchmarks/bench_run.py prints it): the
run gets an explicit, generous --max-time so a loaded machine cannot cut it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcpcheck import strategies
from mcpcheck.campaigns.fuzz import informative_first
from mcpcheck.profiles import PROFILES, QUICK_FIRST_ERA_ONLY, QUICK_LEAVE_OUT
from servers import FIXTURES

CLEAN = FIXTURES / "clean_server.py"


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("quick")
    (work / "tmp").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "mcpcheck.cli", "run", "--profile", "quick", "--max-time", "240", "--corpus", str(work / "corpus"), "--", sys.executable, str(CLEAN)],
        cwd=work, capture_output=True, text=True, timeout=400, env={**os.environ, "TMPDIR": str(work / "tmp")},
    )
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    return json.loads((work / "mcpcheck-report" / "report.json").read_text())


def notes(rep: dict) -> list[str]:
    return [n for t in rep["targets"] for n in t["notes"]]


def test_what_quick_leaves_out_is_a_note_and_a_skipped_check(quick):
    text = notes(quick)
    left = [n for n in text if n.startswith("quick profile: ") and n.endswith(" not run; run --profile full") and "eras" not in n and "fuzz:" not in n]
    assert len(left) == 1 and all(c in left[0] for c in QUICK_LEAVE_OUT), text
    for check_id in QUICK_LEAVE_OUT:
        rows = [c for c in quick["checks"] if c["id"] == check_id]
        assert rows and all(c["status"] == "skipped" and "quick profile: not run" in (c["reason"] or "") for c in rows), rows
    # the process-level probes run in the first era, and are skipped (with the reason) in the next
    eras = quick["targets"][0]["eras"]
    assert len(eras) >= 2, eras
    burst = {c["revision"]: c for c in quick["checks"] if c["id"] == "concurrency.burst"}
    assert burst[eras[0]]["status"] == "passed", burst
    assert burst[eras[1]]["status"] == "skipped" and "first protocol era only" in burst[eras[1]]["reason"], burst
    assert any(n.startswith("quick profile: in later protocol eras:") and "concurrency.burst" in n for n in text), text
    # the fuzz campaign's leave-outs
    for what in ("the read-only probe", "lone surrogates", "strings larger than 64 KiB"):
        assert any(n.startswith("quick profile: fuzz: " + what) and n.endswith("not run; run --profile full") for n in text), (what, text)
    read_only = [c for c in quick["checks"] if c["id"] == "fuzz.read_only"]
    assert read_only and read_only[0]["status"] == "skipped", read_only


def test_quick_still_fuzzes_every_tool_and_fills_the_constraint_table(quick):
    rows = {c["tool"]: c for c in quick["targets"][0]["constraints"]}
    callable_tools = {"echo", "add", "get_item", "list_items", "create_item", "place_order", "slow_echo"}
    for tool in callable_tools:
        assert rows[tool]["calls"] > 0, rows[tool]
    # the capped sweep tries one case per constraint kind first: place_order's strict schema
    # still shows its kinds (pattern, enum, string lengths, array sizes, types, required)
    kinds = set(rows["place_order"]["enforced"])
    assert {"pattern", "enum", "minLength", "maxLength", "type", "required"} <= kinds, kinds
    assert all(rows["place_order"]["enforced"].values()), rows["place_order"]
    assert not [f for f in quick["findings"] if f["check"].startswith("fuzz.")], quick["findings"]


def test_informative_first_puts_one_target_per_constraint_kind_first():
    """On the clean fixture's place_order schema (34 breakable constraints, many nested), the
    first targets cover every constraint kind, each at its shallowest path."""
    schema = {
        "type": "object",
        "properties": {
            "customer": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[a-z][a-z0-9_]*$"},
            "lines": {
                "type": "array", "minItems": 1, "maxItems": 10,
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["sku", "qty"],
                    "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"}, "qty": {"type": "integer", "minimum": 1, "maximum": 99}},
                },
            },
            "priority": {"enum": ["low", "normal", "high"]},
        },
        "required": ["customer", "lines"],
        "additionalProperties": False,
    }
    targets = strategies.mutation_targets(schema, "2025-11-25")
    ordered = informative_first(targets)
    assert sorted(map(id, ordered)) == sorted(map(id, targets))  # a reordering, nothing lost
    kinds = list(dict.fromkeys(t.constraint for t in targets))
    head = ordered[: len(kinds)]
    assert {t.constraint for t in head} == set(kinds)
    for t in head:  # each kind at its shallowest path
        assert t.path.count("/") == min(u.path.count("/") for u in targets if u.constraint == t.constraint), t
    assert next(t for t in head if t.constraint == "pattern").path == "/customer"


def test_quick_profile_lists_are_registered_checks():
    """A renamed check must not silently drop out of the quick profile's lists."""
    from mcpcheck.registry import REGISTRY
    from mcpcheck.runner import load_all_checks

    load_all_checks()
    for check_id in (*QUICK_LEAVE_OUT, *QUICK_FIRST_ERA_ONLY):
        assert check_id in REGISTRY, check_id
    assert PROFILES["quick"].leave_out == QUICK_LEAVE_OUT

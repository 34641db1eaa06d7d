"""The rule table (mcpcheck.rules) mirrors the spec digest, and every rule has a check or a reason.

The digest lives outside the project (../shared/spec-digest.md, next to the repository in the
development set-up); the comparison is skipped where it is absent. docs/rules.md is generated:
    mcpcheck list-checks --rules --format markdown > docs/rules.md
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mcpcheck import rules
from mcpcheck.registry import REGISTRY
from mcpcheck.runner import load_all_checks

ROOT = Path(__file__).resolve().parent.parent
DIGEST = ROOT.parent / "shared" / "spec-digest.md"
DOC = ROOT / "docs" / "rules.md"
REGEN = "regenerate it: mcpcheck list-checks --rules --format markdown > docs/rules.md"


def digest_rules(text: str) -> dict[str, str]:
    """rule id -> level, from the digest's tables (revision rows R1..R5 have no level: '—')."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"[A-Z]{1,2}\d{1,2}", cells[0]):
            continue
        out[cells[0]] = "—" if re.fullmatch(r"R\d", cells[0]) else cells[2]
    return out


@pytest.mark.skipif(not DIGEST.exists(), reason="../shared/spec-digest.md is not next to this checkout")
def test_rule_table_has_exactly_the_digest_rules_and_levels():
    want = digest_rules(DIGEST.read_text(encoding="utf-8"))
    assert len(want) == 119, f"the digest parser found {len(want)} rules"
    have = {r.id: r.level for r in rules.RULES}
    assert sorted(have) == sorted(want), f"missing {sorted(set(want) - set(have))}, extra {sorted(set(have) - set(want))}"
    wrong = {k: (have[k], want[k]) for k in want if have[k] != want[k]}
    assert not wrong, f"levels differ (table, digest): {wrong}"


def test_rule_ids_unique_and_cited_parses_rule_fields():
    assert len(rules.BY_ID) == len(rules.RULES)
    assert rules.cited("J1/J4/J5") == ["J1", "J4", "J5"]
    assert rules.cited("T1/RS1/P1/V2") == ["T1", "RS1", "P1", "V2"]
    assert rules.cited("§6.8") == [] and rules.cited(None) == []
    assert rules.cited("HS10") == ["HS10"] and rules.cited("X99") == []


def test_every_check_rule_names_known_rules():
    """A check's `rule` cites digest ids only (a typo such as 'T99' would silently cover nothing)."""
    load_all_checks()
    unknown = {}
    for spec in REGISTRY.values():
        tokens = re.findall(r"\b[A-Z]{1,3}\d{1,3}\b", spec.rule or "")
        bad = [t for t in tokens if t not in rules.BY_ID]
        if bad:
            unknown[spec.id] = bad
    assert not unknown, unknown


def test_every_rule_is_covered_or_explained():
    load_all_checks()
    rows = rules.coverage((s.id, s.rule) for s in REGISTRY.values())
    neither = [c.rule.id for c in rows if c.status == "neither"]
    assert neither == [], f"rules with no check and no reason: {neither}"
    # a reason is for rules no check cites; a covered rule with a stale reason would mislead
    stale = [c.rule.id for c in rows if c.checks and c.rule.why and not c.rule.id.startswith("R")]
    assert stale == [], f"rules that have a check but still carry a 'why none' reason: {stale}"


def test_docs_rules_md_is_current():
    load_all_checks()
    rows = rules.coverage((s.id, s.rule) for s in REGISTRY.values())
    assert DOC.read_text(encoding="utf-8") == rules.render_markdown(rows), f"docs/rules.md is stale; {REGEN}"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcpcheck.cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_list_checks_rules_json_and_table():
    out = _cli("list-checks", "--rules", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["rules"]) == 119
    j4 = next(r for r in data["rules"] if r["rule"] == "J4")
    assert j4["level"] == "MUST" and "jsonrpc.id_echo" in j4["checks"] and j4["status"] == "covered"
    a6 = next(r for r in data["rules"] if r["rule"] == "A6")
    assert a6["checks"] == [] and "upstream" in a6["why"]
    assert re.fullmatch(r"\d+ of 119 rules covered by a check, \d+ explained \(\d+ of them testable but not built yet\), 0 neither", data["summary"])
    table = _cli("list-checks", "--rules")
    assert table.returncode == 0 and table.stdout.splitlines()[-1] == data["summary"]
    assert re.search(r"^J4\s+MUST\s+all\s+.*jsonrpc\.id_echo", table.stdout, re.M)


def test_list_checks_markdown_needs_rules():
    out = _cli("list-checks", "--format", "markdown")
    assert out.returncode == 2 and "needs --rules" in out.stderr and len(out.stderr.strip().splitlines()) == 1

"""Severity follows the spec level (issue 12): every registered check cites rules that exist in the
rule table (mcpcheck.rules), prints a level those rules word, and has a default severity that level
allows (mcpcheck.registry.LEVEL_SEVERITIES: MUST medium..critical, SHOULD low..medium, no keyword /
JSON-RPC convention at most low, annotation hint low (medium only for a proven side effect); info everywhere). Checks that cite no rule (load
and workflow expectations the user sets) are free."""

from __future__ import annotations

import re

import pytest

from mcpcheck import runner
from mcpcheck.findings import Severity
from mcpcheck.registry import LEVEL_SEVERITIES, LEVELS, REGISTRY, severity_fits
from mcpcheck.rules import BY_ID

runner.load_all_checks()
BUILTIN = [c for c in REGISTRY.checks() if c.origin == "mcpcheck"]
TOKEN = re.compile(r"[A-Z]{1,2}\d{1,2}")


def strength(level: str) -> str:
    """MUST and MUST NOT are one strength, as are SHOULD and SHOULD NOT."""
    return level.replace(" NOT", "")


def worded(rule_level: str) -> set[str]:
    """The levels a rule table entry words ("MUST (R3→) / SHOULD (R1–R2)" -> {MUST, SHOULD})."""
    out = {strength(k) for k in re.findall(r"MUST NOT|SHOULD NOT|MUST|SHOULD|MAY", rule_level)}
    if "JSON-RPC" in rule_level:
        out.add("JSON-RPC")
    if "hints" in rule_level:
        out.add("hint")
    if "—" in rule_level or not out:
        out.add("-")
    return out


def cited(c) -> list[str]:
    return [t for t in re.split(r"[/, ]+", c.rule or "") if t and t != "-"]


def test_the_policy_table():
    assert set(LEVEL_SEVERITIES) == set(LEVELS)
    assert severity_fits("MUST", "medium") and not severity_fits("MUST", "low")
    assert severity_fits("SHOULD", "low") and not severity_fits("SHOULD", "high")
    assert severity_fits("-", "low") and not severity_fits("-", "medium")
    assert all(severity_fits(level, Severity.info) for level in LEVELS)
    assert not severity_fits("SHOULD/MUST", "medium")  # a level must be one level
    assert severity_fits(None, "critical")  # no rule cited: the user's own expectation


@pytest.mark.parametrize("c", BUILTIN, ids=lambda c: c.id)
def test_check_cites_real_rules_at_their_level_with_a_fitting_severity(c):
    rules = cited(c)
    if not rules:
        assert c.level in (None, "", "-"), f"{c.id}: level {c.level!r} without a rule"
        return
    for token in rules:
        if token.startswith("§"):
            continue  # a section of the digest (e.g. §6.8, a known ambiguity), not a rule
        assert TOKEN.fullmatch(token) and token in BY_ID, f"{c.id}: cites {token!r}, which is not in mcpcheck.rules"
    assert c.level in LEVELS, f"{c.id}: level {c.level!r} is not one of {LEVELS}"
    assert severity_fits(c.level, c.severity), f"{c.id}: {c.severity.value} does not fit level {c.level} ({LEVEL_SEVERITIES[c.level]})"
    if c.severity == Severity.info and c.level == "-":
        return  # an observation about a rule, not a verdict on it
    words = set().union(*(worded(BY_ID[t].level) for t in rules if t in BY_ID)) if any(t in BY_ID for t in rules) else {"-"}
    assert strength(c.level) in words, f"{c.id}: prints {c.level!r}, but {c.rule} words {sorted(words)}"


def test_findings_of_the_envelope_fixtures_fit_their_printed_level():
    """Not only the defaults: every finding a run files (per-violation severities and levels
    included) fits the level it prints. A raw server with two wrong codes, both campaigns."""
    import sys

    from mcpcheck.campaigns.fuzz import FuzzSettings
    from mcpcheck.config import make_target
    from servers import TESTS

    cmd = [sys.executable, str(TESTS / "rawservers" / "envelope_wrong_code.py"), "-32602"]
    out = runner.run([make_target(name="levels", command=cmd, timeout=5)], ["conformance", "envelope"], fuzz_settings=FuzzSettings(max_examples=10, write_corpus=False))[0]
    assert out.findings
    bad = [(f.check, f.severity.value, f.spec_level) for f in out.findings if not severity_fits(f.spec_level, f.severity)]
    assert not bad, bad

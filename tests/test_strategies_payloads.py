"""Payload families, canaries, and valid-with-payload (injected) instances."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcheck import strategies
from mcpcheck.strategies import formats
from mcpcheck.strategies.payloads import PRODUCT_TEXT
from mcpcheck.strategies.pointers import from_pointer
from test_strategies_schemas import ECHO, EMPTY, GET_SUM, PYDANTIC

FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
BASE = "http://127.0.0.1:48123"
TOKEN = strategies.make_canary(7, "test")


def _at(value: Any, pointer: str) -> Any:
    cur = value
    for t in from_pointer(pointer):
        cur = cur[int(t)] if isinstance(cur, list) else cur[t]
    return cur


# ------------------------------------------------------------------ payloads


def test_canary_is_deterministic_and_salted() -> None:
    assert strategies.make_canary(7, "test") == TOKEN
    assert strategies.CANARY_RE.fullmatch(TOKEN)
    assert strategies.make_canary(7, "other") != TOKEN
    assert strategies.make_canary(8, "test") != TOKEN


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(token=strategies.canary("x"))
def test_canary_strategy(token: str) -> None:
    assert strategies.CANARY_RE.fullmatch(token)


@pytest.mark.parametrize("payload", strategies.render_all(TOKEN, strategies.FAMILIES, ssrf_base=BASE, sizes=(64, 4096)), ids=repr)
def test_every_payload_carries_its_canary(payload: strategies.Payload) -> None:
    assert payload.canary == TOKEN and TOKEN in payload.text
    assert payload.family in strategies.FAMILIES and payload.template.startswith(payload.family + ".")
    assert payload.description
    if payload.expected_marker is not None and payload.family != "ssrf":
        # execution evidence must not be in what we send: only running it can produce it
        assert payload.expected_marker not in payload.text
    if payload.expected_marker and PRODUCT_TEXT in payload.expected_marker:
        assert "1337" in payload.text and "7331" in payload.text
        assert not re.search(r"(?<!\d)7\s*\*\s*7(?!\d)", payload.text)  # not the guessable 7*7


def test_families_are_complete() -> None:
    rendered = strategies.render_all(TOKEN, strategies.FAMILIES, ssrf_base=BASE, sizes=(64,))
    texts = {p.template: p.text for p in rendered}
    assert texts["shell.semicolon_echo"].startswith("; echo ")
    assert "$(" in texts["shell.dollar_paren"] and "`" in texts["shell.backticks"] and texts["shell.pipe_id"].startswith("| id")
    assert "' OR '1'='1" in texts["sql.tautology_single"] and "UNION SELECT" in texts["sql.union_concat_pipes"]
    assert texts["path.dotdot_passwd"].startswith("../../") and "..%2f" in texts["path.urlencoded"] and "..\\" in texts["path.backslash"]
    assert texts["path.absolute_tmp"].startswith("/")
    assert "{{1337*7331}}" in texts["template.double_brace"] and "${1337*7331}" in texts["template.dollar_brace"]
    assert "<%= 1337*7331 %>" in texts["template.erb"] and "#{1337*7331}" in texts["template.hash_brace"]
    assert texts["ssrf.base"] == f"{BASE}/{TOKEN}"
    assert "\u202e" in texts["unicode.rtl_override"] and "\x00" in texts["unicode.nul"]


def test_ssrf_only_to_loopback() -> None:
    for bad in ("http://example.com:80", "http://10.0.0.1:8080", "ftp://127.0.0.1:21", "http://169.254.169.254"):
        with pytest.raises(ValueError):
            strategies.templates(["ssrf"], ssrf_base=bad)
    with pytest.raises(ValueError, match="ssrf_base"):
        strategies.templates(["ssrf"])
    for p in strategies.render_all(TOKEN, ["ssrf"], ssrf_base=BASE):
        assert ":48123" in p.text and p.expected_marker == "/" + TOKEN


def test_lone_surrogates_survive_ascii_json() -> None:
    (p,) = [p for p in strategies.render_all(TOKEN, ["unicode"]) if p.template == "unicode.lone_high_surrogate"]
    assert p.needs_ascii_json
    encoded = json.dumps({"s": p.text}, ensure_ascii=True)
    assert "\\ud800" in encoded
    assert json.loads(encoded)["s"] == p.text
    assert not strategies.render_all(TOKEN, ["shell"])[0].needs_ascii_json


def test_oversized_sizes_are_configurable() -> None:
    rendered = strategies.render_all(TOKEN, ["oversized"], sizes=(100, 1000))
    assert {len(p.text) for p in rendered} == {100, 1000}
    assert all(p.text.startswith(TOKEN) for p in rendered)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(p=strategies.payloads(strategies.FAMILIES, ssrf_base=BASE, sizes=(128,)))
def test_payload_strategy(p: strategies.Payload) -> None:
    assert strategies.CANARY_RE.search(p.text).group(0) == p.canary  # type: ignore[union-attr]


# ------------------------------------------------------------------ injected


def test_injection_points() -> None:
    assert [p.path for p in strategies.injection_points(PYDANTIC)] == ["/title", "/contact/name", "/tags/*/*"]
    assert [p.path for p in strategies.injection_points(ECHO)] == ["/message"]
    assert strategies.injection_points(GET_SUM) == []
    assert strategies.injection_points(EMPTY) == []
    assert strategies.injected(GET_SUM).is_empty  # no string positions: nothing, not a crash


@pytest.mark.parametrize("schema", [PYDANTIC, ECHO], ids=["pydantic", "echo"])
@FAST
@given(data=st.data())
def test_injected_stays_valid_and_carries_canaries(schema: dict[str, Any], data: st.DataObject) -> None:
    case = data.draw(strategies.injected(schema, strategies.FAMILIES, ssrf_base=BASE, sizes=(256,)))
    assert strategies.is_valid(schema, case.value)
    assert case.injections
    for inj in case.injections:
        assert _at(case.value, inj.path) == inj.payload.text
        assert inj.payload.canary in _at(case.value, inj.path)
    assert len(set(case.canaries)) == len(case.canaries)


LIMITED = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 30},
        "homepage": {"type": "string", "format": "uri"},
        "kind": {"enum": ["a", "b"]},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
    "required": ["name", "kind", "code"],
}


@FAST
@given(case=strategies.injected(LIMITED, strategies.FAMILIES, ssrf_base=BASE, max_points=2))
def test_injected_respects_limits(case: strategies.InjectedCase) -> None:
    assert strategies.is_valid(LIMITED, case.value)
    for inj in case.injections:
        assert inj.path in ("/name", "/homepage")  # never enum or pattern fields
        if inj.path == "/name":
            assert len(inj.payload.text) <= 30
        else:
            assert formats.is_uri(inj.payload.text)  # only URL payloads (ssrf, file://) fit

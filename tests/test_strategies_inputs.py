"""Valid-argument generation: dialect choice, engine choice, and that every draw is valid."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcheck import strategies
from mcpcheck.strategies import dialect, formats
from mcpcheck.strategies.closing import close_objects
from mcpcheck.strategies.refs import inline_refs
from test_strategies_schemas import ALL, DRAFT7, ECHO, EMPTY, HAND_2020, PYDANTIC

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def plans() -> dict[str, strategies.ValidPlan]:
    # built outside any @given so the engine probe runs (it cannot inside a test)
    return {name: strategies.plan_valid(schema) for name, schema in ALL.items()}


# ------------------------------------------------------------------ dialect


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        (None, jsonschema.Draft202012Validator),
        ("2024-11-05", jsonschema.Draft7Validator),
        ("2025-06-18", jsonschema.Draft7Validator),
        ("2025-11-25", jsonschema.Draft202012Validator),
        ("2026-07-28", jsonschema.Draft202012Validator),
        ("draft", jsonschema.Draft202012Validator),
    ],
)
def test_default_dialect_follows_revision(revision: str | None, expected: type) -> None:
    assert strategies.validator_for(ECHO, revision) is expected


def test_explicit_schema_wins_over_revision() -> None:
    assert strategies.validator_for(DRAFT7, "2026-07-28") is jsonschema.Draft7Validator
    https_07 = {**DRAFT7, "$schema": "https://json-schema.org/draft-07/schema"}
    assert strategies.validator_for(https_07) is jsonschema.Draft7Validator


def test_unknown_dialect_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(strategies.UnsupportedDialect):
        strategies.validator_for({"$schema": "https://example.com/my-dialect", "type": "object"})


def test_remote_ref_is_never_fetched() -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/remote.json"}}}
    assert strategies.is_valid(schema, {"a": 1}) is False  # cannot vouch: not valid
    with pytest.raises(Exception, match="127.0.0.1:9/remote.json"):
        strategies.errors(schema, {"a": 1})
    with pytest.raises(strategies.UnresolvableRef):
        strategies.plan_valid(schema)


def test_formats_are_asserted_by_the_oracle() -> None:
    schema = {"type": "string", "format": "date-time"}
    assert strategies.is_valid(schema, "2024-02-29T23:59:60.5+01:00")
    assert not strategies.is_valid(schema, "2024-02-30T00:00:00Z")
    assert strategies.is_valid(schema, "2024-02-30T00:00:00Z", formats=False)


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "1999-12-31T23:59:59Z", "1999-12-31 23:59:59"),
        ("date", "2000-02-29", "1900-02-29"),
        ("time", "08:30:00.25-05:00", "24:00:00Z"),
        ("uri", "https://example.com/a?b=c", "not a uri"),
        ("hostname", "a-b.example.org", "-bad.example"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"),
        ("duration", "P1DT2H", "P"),
        ("json-pointer", "/a~1b/0", "a/b"),
    ],
)
def test_format_checkers(fmt: str, good: str, bad: str) -> None:
    assert formats.conforms(good, fmt)
    assert not formats.conforms(bad, fmt)


# ------------------------------------------------------------------ refs / closing


def test_ref_siblings_follow_the_dialect() -> None:
    schema = {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n", "maximum": 3}}}
    legacy = inline_refs(schema, legacy=True).schema
    modern = inline_refs(schema, legacy=False).schema
    assert legacy["properties"]["a"] == {"type": "integer"}  # draft-07: siblings ignored
    assert modern["properties"]["a"] == {"type": "integer", "maximum": 3}
    assert "$defs" not in modern


def test_recursive_refs_are_detected_and_kept_resolvable() -> None:
    out = inline_refs(HAND_2020)
    assert out.recursive
    assert "$defs" in out.schema  # remaining refs still point somewhere


def test_closing_only_where_it_cannot_make_valid_data_impossible() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "b": {"type": "object", "required": ["undeclared"]},
            "c": {"type": "object", "properties": {"y": {}}, "allOf": [{"properties": {"z": {}}}]},
            "d": {"not": {"type": "object", "properties": {"q": {}}}},
        },
    }
    closed, count = close_objects(schema)
    props = closed["properties"]
    assert closed["additionalProperties"] is False
    assert props["a"]["additionalProperties"] is False
    assert "additionalProperties" not in props["b"]  # would forbid its own required member
    assert "additionalProperties" not in props["c"]  # allOf may add members
    assert "additionalProperties" not in props["d"]["not"]  # never under "not"
    assert count == 2


# ------------------------------------------------------------------ engine choice


def test_engine_choice_is_explained(plans: dict[str, strategies.ValidPlan]) -> None:
    assert plans["pydantic"].engine == "hypothesis-jsonschema"
    assert plans["draft7"].engine == "hypothesis-jsonschema"
    assert plans["echo"].engine == "hypothesis-jsonschema"
    hand = plans["hand_2020"]
    assert hand.engine == "schemathesis"
    assert "recursive" in hand.note
    assert all(p.exact for p in plans.values())
    assert "closed" in plans["pydantic"].note


def test_2020_keywords_without_recursion_go_to_schemathesis() -> None:
    schema = {"type": "object", "properties": {"t": {"type": "array", "prefixItems": [{"type": "string"}]}}, "dependentRequired": {"t": ["u"]}}
    plan = strategies.plan_valid(schema)
    assert plan.engine == "schemathesis"
    assert "prefixItems" in plan.note and "dependentRequired" in plan.note


def test_ecma_regex_is_reported_as_approximated() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^\\p{L}+$"}}, "required": ["name"]}
    plan = strategies.plan_valid(schema)
    assert plan.engine == "approximate"
    assert plan.exact is False
    assert "\\p{L}" in plan.note


def test_plans_are_cached_on_canonical_json() -> None:
    reordered = dict(reversed(list(copy.deepcopy(PYDANTIC).items())))
    assert strategies.plan_valid(reordered) is strategies.plan_valid(PYDANTIC)
    assert strategies.plan_valid(ECHO, "2025-06-18") is not strategies.plan_valid(ECHO, "2025-11-25")


def test_unsatisfiable_schema_is_refused_with_a_reason() -> None:
    with pytest.raises(strategies.UnsupportedSchema):
        strategies.plan_valid(False)


# ------------------------------------------------------------------ every draw is valid


@pytest.mark.parametrize("name", sorted(ALL))
@FAST
@given(data=st.data())
def test_every_valid_draw_validates(plans: dict[str, strategies.ValidPlan], name: str, data: st.DataObject) -> None:
    value = data.draw(plans[name].strategy)
    assert strategies.is_valid(ALL[name], value), value


@FAST
@given(value=strategies.valid(PYDANTIC))
def test_closed_objects_have_only_declared_keys(value: dict[str, Any]) -> None:
    assert set(value) <= set(PYDANTIC["properties"])
    assert set(value["contact"]) <= {"name", "email"}
    assert {"title", "count", "contact"} <= set(value)


@FAST
@given(value=strategies.valid(ECHO, close_objects=False))
def test_open_plan_is_still_valid(value: dict[str, Any]) -> None:
    assert isinstance(value["message"], str)
    assert strategies.is_valid(ECHO, value)


@FAST
@given(value=strategies.valid(EMPTY))
def test_no_argument_tool_gets_empty_object(value: dict[str, Any]) -> None:
    assert value == {}


@FAST
@given(value=strategies.valid({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "d": {"type": "string", "format": "duration"}}, "required": ["id", "d"]}))
def test_custom_formats_generate_valid_strings(value: dict[str, Any]) -> None:
    assert formats.is_uuid(value["id"]) and formats.is_duration(value["d"])


@FAST
@given(value=strategies.valid(DRAFT7, "2025-06-18"))
def test_draft7_definitions(value: dict[str, Any]) -> None:
    assert 1 <= len(value["path"]) <= 200
    assert dialect.is_valid(DRAFT7, value)


def test_simplest_with_a_candidate_bound_is_deterministic_and_still_a_value_of_the_strategy():
    """max_candidates stops shrinking after that many values and returns the smallest seen: the
    same every time (the constraint sweep's bound on deep mutants), never a value the strategy
    would not produce."""
    from hypothesis import strategies as st

    from mcpcheck.strategies import simplest

    strat = st.lists(st.integers(min_value=0), min_size=3)
    full = simplest(strat)
    assert full == [0, 0, 0]
    bounded = [simplest(strat, max_candidates=2) for _ in range(3)]
    assert bounded[0] == bounded[1] == bounded[2]
    assert len(bounded[0]) >= 3 and all(isinstance(x, int) and x >= 0 for x in bounded[0])

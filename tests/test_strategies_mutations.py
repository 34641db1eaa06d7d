"""Invalid-argument generation: every draw is rejected, and for the labelled reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpcheck import strategies
from mcpcheck.strategies.mutations import KINDS
from mcpcheck.strategies.pointers import from_pointer, to_pointer
from test_strategies_schemas import ALL, BOUNDED, DRAFT7, GET_SUM, HAND_2020, PYDANTIC

FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _errors_named(schema: Any, case: strategies.InvalidCase) -> list[tuple[str, str]]:
    errs = []
    stack = list(strategies.errors(schema, case.value, formats=case.soft))
    while stack:
        e = stack.pop()
        errs.append((e.validator, to_pointer(e.absolute_path)))
        stack.extend(e.context or ())
    return errs


def _check(schema: Any, case: strategies.InvalidCase) -> None:
    assert case.kind in KINDS
    # the oracle: rejected (format violations only with format assertion on)
    assert not strategies.is_valid(schema, case.value, formats=case.soft), case
    assert case.soft == (case.kind == "format_violation")
    # and rejected by the labelled keyword at (or, for member problems, just above) the path
    named = _errors_named(schema, case)
    if case.kind in ("missing_required", "extra_property"):
        parent = case.path.rsplit("/", 1)[0]
        assert (case.constraint, parent) in named, (case, named)
    else:
        assert (case.constraint, case.path) in named, (case, named)


@pytest.fixture(scope="module")
def targets() -> dict[str, list[tuple[str, str, str]]]:
    return {name: [(t.kind, t.path, t.constraint) for t in strategies.mutation_targets(s)] for name, s in ALL.items()}


@pytest.mark.parametrize("name", sorted(ALL))
@FAST
@given(data=st.data())
def test_every_invalid_draw_is_rejected_for_its_label(name: str, data: st.DataObject) -> None:
    _check(ALL[name], data.draw(strategies.invalid(ALL[name])))


def test_targets_of_bounded_schema_name_each_constraint(targets: dict[str, list[tuple[str, str, str]]]) -> None:
    t = targets["bounded"]
    for row in [
        ("root_not_object", "", "type"),
        ("null_not_allowed", "", "type"),
        ("missing_required", "/n", "required"),
        ("extra_property", "/mcpcheck_extra", "additionalProperties"),
        ("out_of_range", "/n", "maximum"),
        ("out_of_range", "/n", "minimum"),
        ("out_of_range", "/x", "exclusiveMaximum"),
        ("out_of_range", "/x", "exclusiveMinimum"),
        ("too_long", "/s", "maxLength"),
        ("too_short", "/s", "minLength"),
        ("pattern_violation", "/s", "pattern"),
        ("not_in_enum", "/color", "enum"),
        ("not_const", "/k", "const"),
        ("format_violation", "/when", "format"),
        ("format_violation", "/url", "format"),
        ("too_long", "/xs", "maxItems"),
        ("too_short", "/xs", "minItems"),
        ("not_multiple", "/xs/*", "multipleOf"),
        ("wrong_type", "/n", "type"),
        ("null_not_allowed", "/s", "type"),
        ("wrong_container_type", "/xs", "type"),
    ]:
        assert row in t, row
    soft = [m for m in strategies.mutation_targets(BOUNDED) if m.soft]
    assert {m.constraint for m in soft} == {"format"}


def test_targets_of_pydantic_schema(targets: dict[str, list[tuple[str, str, str]]]) -> None:
    t = targets["pydantic"]
    for row in [
        ("out_of_range", "/count", "maximum"),
        ("missing_required", "/contact/name", "required"),
        ("pattern_violation", "/contact/email", "pattern"),  # inside anyOf [string, null]
        ("format_violation", "/due", "format"),
        ("out_of_range", "/ratio", "exclusiveMaximum"),
        ("not_in_enum", "/priority", "enum"),  # through $ref
        ("too_long", "/tags", "maxItems"),
        ("wrong_type", "/tags/*/*", "type"),
    ]:
        assert row in t, row
    # Optional fields accept null: no null_not_allowed for them
    assert ("null_not_allowed", "/due", "type") not in t


def test_overlapping_unions_and_not_are_not_entered() -> None:
    schema = {
        "type": "object",
        "properties": {
            "u": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "string", "minLength": 10}]},
            "v": {"not": {"type": "string", "maxLength": 2}},
        },
    }
    rows = {(t.kind, t.path, t.constraint) for t in strategies.mutation_targets(schema)}
    assert not any(c in ("maxLength", "minLength") for _, _, c in rows)
    assert ("wrong_type", "/u", "type") in rows  # no branch takes numbers: still safe


def _has_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, dict):
        return any(_has_null(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_null(x) for x in v)
    return False


_BY_KIND = [
    ("out_of_range", lambda v: not (1 <= v["n"] <= 10) or not (0 < v.get("x", 0.5) < 1)),
    ("too_long", lambda v: len(v.get("s", "")) > 5 or len(v.get("xs", [])) > 4),
    ("not_in_enum", lambda v: v["color"] not in ("red", "green")),
    ("not_const", lambda v: v["k"] != "v"),
    ("missing_required", lambda v: "n" not in v),
    ("extra_property", lambda v: "mcpcheck_extra" in v),
    ("root_not_object", lambda v: not isinstance(v, dict)),
    ("null_not_allowed", lambda v: _has_null(v)),
]


@pytest.mark.parametrize(("kind", "witness"), _BY_KIND, ids=[k for k, _ in _BY_KIND])
@FAST
@given(data=st.data())
def test_kind_filter_and_witness(kind: str, witness: Any, data: st.DataObject) -> None:
    case = data.draw(strategies.invalid(BOUNDED, kinds={kind}))
    assert case.kind == kind
    _check(BOUNDED, case)
    assert witness(case.value), case


@FAST
@given(case=strategies.invalid(BOUNDED, kinds={"format_violation"}))
def test_format_violations_are_soft(case: strategies.InvalidCase) -> None:
    assert case.soft and case.constraint == "format"
    assert strategies.is_valid(BOUNDED, case.value, formats=False)  # only the format is wrong
    _check(BOUNDED, case)


@FAST
@given(case=strategies.invalid(PYDANTIC, kinds={"wrong_type", "null_not_allowed", "wrong_container_type"}))
def test_nested_paths_are_concrete(case: strategies.InvalidCase) -> None:
    _check(PYDANTIC, case)
    assert "*" not in case.path
    tokens = from_pointer(case.path)
    cur: Any = case.value
    for t in tokens:
        cur = cur[int(t)] if isinstance(cur, list) else cur[t]  # the path exists in the value


@FAST
@given(case=strategies.invalid(HAND_2020, close_objects=True))
def test_recursive_2020_schema_with_closed_mutants(case: strategies.InvalidCase) -> None:
    _check(HAND_2020, case)


@FAST
@given(case=strategies.invalid(DRAFT7, "2025-06-18", kinds={"out_of_range", "too_long", "too_short"}))
def test_draft7_ref_targets(case: strategies.InvalidCase) -> None:
    _check(DRAFT7, case)
    assert case.path in ("/limit", "/path") or case.path.startswith("/exclude/")


def test_get_sum_targets() -> None:
    rows = {(t.kind, t.path) for t in strategies.mutation_targets(GET_SUM)}
    assert {("missing_required", "/a"), ("missing_required", "/b"), ("wrong_type", "/a"), ("null_not_allowed", "/b")} <= rows


# --- the constraint sweep's edit of one valid instance (sweep_case)


def _only_break(schema: Any, case: strategies.InvalidCase) -> None:
    """Every error the validator reports is the labelled one (or sits inside it: a failed
    anyOf/oneOf above the spot reports its branches' errors in its context)."""
    for e in strategies.errors(schema, case.value, formats=case.soft):
        where = to_pointer(e.absolute_path)
        at = case.path.rsplit("/", 1)[0] if case.kind in ("missing_required", "extra_property") else case.path
        assert at.startswith(where), (case, e.validator, where)


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_sweep_case_breaks_its_target_and_nothing_else(name: str) -> None:
    schema = ALL[name]
    built = 0
    for target in strategies.mutation_targets(schema):
        case = strategies.sweep_case(schema, target)
        if case is None:
            continue  # the campaign generates the whole mutant instead
        built += 1
        _check(schema, case)
        assert (case.kind, case.constraint) == (target.kind, target.constraint)
        _only_break(schema, case)
        assert strategies.sweep_case(schema, target) == case  # deterministic
    assert built, f"{name}: no sweep case built by editing a valid instance"


def test_sweep_case_reaches_nested_array_items_the_whole_mutant_cannot() -> None:
    """items' own bounds inside a bounded array: generating the whole mutant is unsatisfiable for
    hypothesis-jsonschema; the edit of a one-item array is not."""
    schema = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "maxItems": 5, "items": {"type": "string", "minLength": 1, "maxLength": 16}}}}
    by_path = {(t.path, t.constraint): t for t in strategies.mutation_targets(schema)}
    long_ = strategies.sweep_case(schema, by_path[("/tags/*", "maxLength")])
    short = strategies.sweep_case(schema, by_path[("/tags/*", "minLength")])
    assert long_ is not None and long_.value == {"tags": ["0" * 17]} and long_.path == "/tags/0"
    assert short is not None and short.value == {"tags": [""]}

"""Pin guard: hypothesis-jsonschema 0.23.1 needs Hypothesis < 6.170.10.

hypothesis-jsonschema calls the private ``many(...).more()``, which Hypothesis removed in
6.170.10 (library-notes 1.1): every object schema then fails at draw time with
"'many' object has no attribute 'more'". pyproject pins ``hypothesis<6.170.10``; if someone
lifts the pin before hypothesis-jsonschema is fixed (or a compatibility shim is added), these
tests fail loudly instead of every fuzz campaign failing mysteriously.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import from_schema

from mcpcheck import strategies

ARRAY_OBJECT = {
    "type": "object",
    "properties": {
        "xs": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["xs"],
}


def test_private_api_hypothesis_jsonschema_relies_on_exists() -> None:
    assert hasattr(conjecture_utils.many, "more"), (
        "Hypothesis removed many.more(); hypothesis-jsonschema 0.23.1 cannot draw objects any more. "
        "Keep hypothesis<6.170.10 (pyproject.toml) or add the shim from library-notes 1.1."
    )


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(value=from_schema(ARRAY_OBJECT))
def test_hypothesis_jsonschema_draws_an_array_containing_object(value: Any) -> None:
    assert isinstance(value["xs"], list) and value["xs"]
    assert strategies.is_valid(ARRAY_OBJECT, value)


def test_the_shrink_bound_hypothesis_reads_still_exists():
    """mcpcheck.campaigns.fuzz.shrink_budget lowers Hypothesis' only bound on shrinking."""
    from hypothesis.internal.conjecture import engine

    from mcpcheck.campaigns.fuzz import shrink_budget

    before = engine.MAX_SHRINKING_SECONDS
    assert isinstance(before, (int, float)) and before > 0
    with shrink_budget(7):
        assert engine.MAX_SHRINKING_SECONDS == 7
    assert engine.MAX_SHRINKING_SECONDS == before


def test_the_local_constants_pool_mcpcheck_pins_still_exists():
    """mcpcheck.campaigns.engine.pin_local_constants replaces Hypothesis' pool of constants from
    local modules for a campaign's duration, so the inputs of a seed do not depend on what the
    process imported (a --jobs worker against a sequential run)."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants  # noqa: F401

    from mcpcheck.campaigns.engine import pin_local_constants

    before = providers._get_local_constants
    with pin_local_constants():
        pool = providers._get_local_constants()
        assert providers._get_local_constants is not before
        assert "mcpcheck_pinned" in repr(vars(providers._get_local_constants))
        assert not (pool.integers or pool.floats or pool.bytes or pool.strings)  # what an installed mcpcheck has
        with pin_local_constants():  # nested: the same pool
            assert providers._get_local_constants() is pool
    assert providers._get_local_constants is before
    assert hasattr(providers, "CONSTANTS_CACHE")

"""VALID tool arguments: ``plan_valid(schema)`` picks a generator, says why, and guards it.

A "valid" input the schema actually rejects would make mcpcheck blame the server for refusing
it, so every draw is filtered through the real validator (dialect.py, formats asserted). The
generators are only there to make the filter cheap.

Engine choice, in order (the first whose probe yields a valid value wins):

1. ``hypothesis-jsonschema`` when the (ref-inlined) schema uses only the draft-04..07 keyword
   set: no prefixItems / unevaluated* / dependentRequired / dependentSchemas / min-/maxContains /
   $dynamicRef, and no recursive ``$ref``.
2. ``schemathesis`` for 2020-12-only keywords and recursion (library-notes 3.5).
3. ``approximate``: hypothesis-jsonschema on a simplified schema (unsupported keywords dropped,
   recursion cut after one level); the oracle still filters. If a ``pattern`` is not a Python
   regex (ECMA ``\\p{L}``...), nothing can check it: it is dropped from generator *and* oracle,
   the plan says so and ``exact`` is False.

Plans are cached on the schema's canonical JSON text (building one costs 0.3-0.8 s).
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from . import engines
from .closing import close_objects as _close
from .dialect import default_dialect, is_legacy_dialect, make_validator, validator_for
from .errors import UnsupportedSchema
from .keywords import HJS_UNSUPPORTED, bad_patterns, keywords_used, walk
from .pointers import canonical_json
from .refs import inline_refs


@dataclass(frozen=True)
class ValidPlan:
    """How valid arguments for one schema are generated.

    engine: "hypothesis-jsonschema" | "schemathesis" | "approximate".
    note: why that engine, what was approximated, how many objects were closed.
    strategy: valid instances only (already filtered through the oracle).
    exact: True when the oracle is the unmodified schema (False only if something in the
        schema cannot be evaluated in Python, e.g. an ECMA-only regex).
    """

    engine: str
    note: str
    strategy: st.SearchStrategy[Any] = field(repr=False, compare=False)
    exact: bool = True
    closed_objects: int = 0
    dialect: str = ""


_CACHE: dict[tuple[str, str, bool], tuple[str, Any]] = {}
_LOCK = threading.Lock()


def plan_valid(schema: Any, revision: str | None = None, *, close_objects: bool = True) -> ValidPlan:
    """Build (once per schema) the generation plan for valid arguments.

    ``revision`` only matters for schemas without ``$schema`` (dialect.default_dialect).
    ``close_objects`` adds ``additionalProperties: false`` where that is provably safe (faster
    shrinking); pass False to also explore undeclared keys the schema allows.
    Raises UnsupportedSchema (with the reason) when no generator can serve the schema.
    """
    key = (canonical_json(schema), default_dialect(revision), close_objects)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None:
        try:
            hit = ("ok", _build(schema, revision, close_objects))
        except UnsupportedSchema as exc:
            hit = ("err", exc)
        with _LOCK:
            _CACHE.setdefault(key, hit)
    kind, value = hit
    if kind == "err":
        raise value
    return value


def valid(schema: Any, revision: str | None = None, *, close_objects: bool = True) -> st.SearchStrategy[Any]:
    """Strategy of instances valid for ``schema`` (see plan_valid)."""
    return plan_valid(schema, revision, close_objects=close_objects).strategy


def strip_patterns(schema: Any, bad: set[str]) -> Any:
    out = copy.deepcopy(schema)
    for _, node in walk(out):
        if node.get("pattern") in bad:
            del node["pattern"]
        if isinstance(node.get("patternProperties"), dict):
            node["patternProperties"] = {k: v for k, v in node["patternProperties"].items() if k not in bad}
    return out


def simplify(schema: Any) -> Any:
    """The approximation: drop keywords hypothesis-jsonschema ignores, cut remaining ``$ref``s."""
    out = copy.deepcopy(schema)
    for _, node in list(walk(out)):
        for kw in HJS_UNSUPPORTED:
            node.pop(kw, None)
        if "$ref" in node:
            node.pop("$ref")  # a recursion cut: "anything", the oracle filters
    if isinstance(out, dict):
        out.pop("$defs", None)
        out.pop("definitions", None)
    return out


def _build(schema: Any, revision: str | None, close_objects: bool) -> ValidPlan:
    if schema is False or (isinstance(schema, dict) and schema.get("not") == {}):
        raise UnsupportedSchema("the schema accepts nothing")
    if not isinstance(schema, (dict, bool)):
        raise UnsupportedSchema(f"inputSchema is not a JSON Schema object: {type(schema).__name__}")
    cls = validator_for(schema, revision)
    dialect = cls.__name__.replace("Validator", "")
    why_dialect = "from $schema" if isinstance(schema, dict) and "$schema" in schema else f"default for revision {revision or 'latest'}"
    notes = [f"dialect {dialect} ({why_dialect})"]
    exact = True

    oracle_schema = schema
    bad = set(bad_patterns(schema))
    if bad:
        exact = False
        oracle_schema = strip_patterns(schema, bad)
        notes.append("approximated: not Python regexes, neither generated nor checked: " + ", ".join(sorted(bad)))
    inlined = inline_refs(oracle_schema, legacy=is_legacy_dialect(cls))
    gen_schema = inlined.schema
    closed = 0
    if close_objects:
        gen_schema, closed = _close(gen_schema)
        if closed:
            notes.append(f"closed {closed} object schema(s) (additionalProperties: false)")

    oracle = make_validator(oracle_schema, revision, formats=True)

    def accept(value: Any) -> bool:
        try:
            return bool(oracle.is_valid(value))
        except Exception:  # noqa: BLE001 - undecidable: cannot vouch for it
            return False

    if currently_in_test_context():
        notes.append("engine not probed (plan built inside a running test)")
    used = keywords_used(gen_schema)
    unsupported = sorted(used & HJS_UNSUPPORTED)
    legacy = is_legacy_dialect(cls)
    candidates: list[tuple[str, Callable[[], st.SearchStrategy[Any]]]] = []
    if inlined.recursive:
        notes.append(f"{engines.HJS} skipped: recursive $ref")
    elif unsupported:
        notes.append(f"{engines.HJS} skipped: uses {', '.join(unsupported)}")
    else:
        candidates.append((engines.HJS, lambda: engines.hjs_strategy(gen_schema)))
    candidates.append((engines.SCHEMATHESIS, lambda: engines.schemathesis_strategy(gen_schema, legacy=legacy)))
    candidates.append((engines.APPROXIMATE, lambda: engines.hjs_strategy(simplify(gen_schema))))

    for name, make in candidates:
        try:
            raw = make()
        except Exception as exc:  # noqa: BLE001 - a generator that cannot even build is skipped, with its reason
            notes.append(f"{name} failed to build: {type(exc).__name__}: {str(exc)[:160]}")
            continue
        problem = engines.probe(raw, accept)
        if problem is not None:
            notes.append(f"{name} failed: {problem}")
            continue
        if name == engines.APPROXIMATE:
            notes.append("approximated: generated from a simplified schema " f"(dropped {', '.join(unsupported) or 'recursive refs'}), every draw checked by the validator")
        engine = engines.APPROXIMATE if not exact else name
        if not exact and name != engines.APPROXIMATE:
            notes.append(f"generator: {name}")
        return ValidPlan(
            engine=engine,
            note="; ".join(notes),
            strategy=raw.filter(accept),
            exact=exact,
            closed_objects=closed,
            dialect=dialect,
        )
    raise UnsupportedSchema("no generator can produce valid instances: " + "; ".join(notes))


def clear_cache() -> None:
    """Forget built plans (tests; long-lived processes that see many schemas)."""
    with _LOCK:
        _CACHE.clear()


__all__ = ["ValidPlan", "clear_cache", "plan_valid", "simplify", "strip_patterns", "valid"]


class _Enough(BaseException):
    """simplest() has looked at max_candidates values (a BaseException: Hypothesis lets it through)."""


def _size(value: Any) -> tuple[int, str]:
    """How big a candidate is: its JSON (an InvalidCase by the arguments it carries)."""
    text = json.dumps(getattr(value, "value", value), sort_keys=True, default=repr, ensure_ascii=False)
    return len(text), text


def simplest(strategy: Any, *, check: Any = None, max_candidates: int | None = None) -> Any:
    """The simplest value Hypothesis can find for a strategy (derandomized and shrunk, so the same
    every run): e.g. the simplest valid arguments of a tool, for probes that need one fixed call.
    `check()`, if given, is called before each candidate and may raise to stop (a run's time
    budget: shrinking a big schema's value can take seconds). `max_candidates`: shrinking stops
    after looking at that many values and the smallest seen (shortest JSON, then its text) is
    returned: deterministic like the rest, and a deep mutant's value costs a bounded number of
    draws (each can take tens of milliseconds) instead of hundreds."""
    from hypothesis import HealthCheck, Phase, find, settings

    seen = [0]
    best: list[Any] = []

    def keep(x: Any) -> bool:
        if check is not None:
            check()
        if max_candidates is not None:
            seen[0] += 1
            if not best or _size(x) < _size(best[0]):
                best[:] = [x]
            if seen[0] >= max_candidates:
                raise _Enough()
        return True

    try:
        return find(
            strategy,
            keep,
            settings=settings(database=None, derandomize=True, max_examples=20, suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink], deadline=None),
        )
    except _Enough:
        return best[0]

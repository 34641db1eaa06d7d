"""INVALID tool arguments, each labelled with the one constraint it breaks (library-notes 1.5).

Method: mutation + oracle.

1. Inline ``$ref``s and walk the schema through *conjunctive* positions only: the root,
   ``properties/*``, ``additionalProperties`` (schema form) and ``items``. A keyword at such a
   node must hold for the whole instance to be valid, so breaking it breaks the instance. The
   walk also enters ``anyOf``/``oneOf`` branches when the branches have disjoint types (pydantic's
   ``anyOf: [X, {"type": "null"}]``): a value of X's type can only be accepted by X. Other
   disjunctions (``not``, ``if``, overlapping unions) are not entered: a sibling branch could
   still accept the mutated value.
2. At one node, replace the sub-schema by a schema whose instances break one keyword
   (``maxLength`` -> strings of length maxLength+1..+8, ``required`` -> property forced absent...)
   and *force the path to exist*: every ancestor property becomes required, every ancestor array
   gets ``minItems >= 1``. Without that the generator may simply omit the mutated spot
   (49/660 raw outputs were still valid in library-notes 1.5).
3. Generate from that mutant schema, then the oracle: the real validator must reject the value
   *with an error of the labelled keyword at the labelled place*; otherwise the draw is
   discarded. So every InvalidCase is invalid, and its label is true, whatever bugs step 1-2
   have. ``format`` violations are checked with format assertion on and marked ``soft``:
   formats are annotations by default in 2020-12, a server may legitimately accept them.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from hypothesis import reject
from hypothesis import strategies as st

from . import engines
from .closing import close_objects as _close
from .dialect import is_legacy_dialect, make_validator, validator_for
from .formats import BAD_EXAMPLES, asserted_formats, conforms
from .inputs import strip_patterns, simplify
from .keywords import ANNOTATIONS, HJS_UNSUPPORTED, bad_patterns, keywords_used, types_of
from .pointers import WILDCARD, Token, canonical_json, matches, to_pointer
from .refs import inline_refs

_STOP = threading.local()


class stop_check:
    """`with stop_check(fn):` on this thread, every invalid-case draw first calls fn(), which may
    raise to stop generation (a caller's time budget; drawing one mutant can take seconds)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn

    def __enter__(self) -> None:
        self.saved = getattr(_STOP, "check", None)
        _STOP.check = self.fn

    def __exit__(self, *exc: object) -> None:
        _STOP.check = self.saved

KINDS = (
    "missing_required",
    "wrong_type",
    "null_not_allowed",
    "wrong_container_type",
    "root_not_object",
    "out_of_range",
    "not_multiple",
    "too_long",
    "too_short",
    "extra_property",
    "not_in_enum",
    "not_const",
    "pattern_violation",
    "format_violation",
)

EXTRA_KEY = "mcpcheck_extra"
MAP_KEY = "mcpcheck_key"


@dataclass(frozen=True)
class MutationTarget:
    """One constraint of a schema that can be broken on its own.

    ``path`` is a JSON pointer pattern into the instance ("*" = any array index), ``constraint``
    the JSON Schema keyword that must reject the value. ``mutant`` is the whole schema whose
    instances break it (internal; generated from, then checked).
    """

    kind: str
    path: str
    constraint: str
    soft: bool = False
    detail: str = ""
    tokens: tuple[Token, ...] = field(default=(), repr=False, compare=False)
    mutant: Any = field(default=None, repr=False, compare=False)
    # the same break as an edit of one valid instance (sweep_case): ``frame`` is the schema with
    # the path forced to exist and every constraint kept; ``splice`` is ("set", at, sub-schema),
    # ("drop", at, member) or ("add", at, member): what to do at the node ``at`` of its instance
    frame: Any = field(default=None, repr=False, compare=False)
    splice: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class InvalidCase:
    """An argument object the schema rejects, and what it breaks.

    kind: one of KINDS. path: concrete JSON pointer of the violated spot (for
    ``missing_required`` the absent member, for ``extra_property`` the undeclared one).
    constraint: the keyword that rejects it ("maximum", "required", "type"...). value: the
    whole arguments object to send. soft: only a ``format`` is broken (formats are annotations
    in 2020-12, so accepting it is not a hard failure).
    """

    kind: str
    path: str
    constraint: str
    value: Any
    soft: bool = False
    detail: str = ""


# ------------------------------------------------------------------------------------ targets


def _disjoint(type_sets: list[frozenset[str]]) -> bool:
    seen: set[str] = set()
    for ts in type_sets:
        if ts & seen:
            return False
        seen |= ts
    return True


def _near_misses(values: list[Any]) -> list[Any]:
    """Values close to allowed ones (case flips, off-by-one), none of them allowed."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, bool):
            out.append(not v)
        elif isinstance(v, int):
            out += [v + 1, v - 1]
        elif isinstance(v, float):
            out += [v + 0.5, -v if v else 1.5]
        elif isinstance(v, str):
            out += [v.upper(), v.lower(), v.capitalize(), v + "x", v[:-1], " " + v]
    allowed = [canonical_json(v) for v in values]
    uniq: dict[str, Any] = {}
    for v in out:
        key = canonical_json(v)
        if key not in allowed:
            uniq.setdefault(key, v)
    return list(uniq.values())[:12]


def _number_type(types: frozenset[str] | None) -> str | None:
    if not types or not ({"integer", "number"} & types):
        return None
    return "number" if "number" in types else "integer"


def _range_mutations(node: dict[str, Any], types: frozenset[str] | None, legacy_bool: bool) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(kind, constraint, detail, replacement) for minimum/maximum/exclusive*."""
    num = _number_type(types)
    if num is None:
        return
    is_int = num == "integer"
    for kw in ("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"):
        bound = node.get(kw)
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            continue
        upper = kw in ("maximum", "exclusiveMaximum")
        exclusive = kw.startswith("exclusive") or (legacy_bool and node.get("exclusive" + kw.capitalize()) is True)
        span = max(1.0, abs(float(bound))) * 1000
        if upper:
            if is_int:
                lo = math.ceil(bound) if exclusive else math.floor(bound) + 1
                rep = {"type": "integer", "minimum": lo, "maximum": lo + 1_000_000}
            else:
                rep = {"type": "number", ("minimum" if exclusive else "exclusiveMinimum"): bound, "maximum": bound + span}
        else:
            if is_int:
                hi = math.floor(bound) if exclusive else math.ceil(bound) - 1
                rep = {"type": "integer", "maximum": hi, "minimum": hi - 1_000_000}
            else:
                rep = {"type": "number", ("maximum" if exclusive else "exclusiveMaximum"): bound, "minimum": bound - span}
        yield "out_of_range", kw, f"{kw} {bound}", rep


def _local(node: dict[str, Any], types: frozenset[str] | None, *, legacy_bool: bool, with_types: bool) -> Iterator[tuple[str, str, str, bool, Any]]:
    """(kind, constraint, detail, soft, replacement sub-schema) for one node's own keywords."""
    if with_types and types:
        if "null" not in types:
            yield "null_not_allowed", "type", f"type {sorted(types)}", False, {"type": "null"}
        containers = {"object", "array"}
        if types & containers and (other := sorted(containers - types)):
            yield "wrong_container_type", "type", f"type {sorted(types)}", False, {"type": other}
        scalars: list[dict[str, Any]] = [{"type": t} for t in ("boolean", "string") if t not in types]
        if "integer" not in types:
            scalars.append({"type": "integer"})
        elif "number" not in types:
            scalars.append({"type": "number", "not": {"type": "integer"}})
        if scalars:
            yield "wrong_type", "type", f"type {sorted(types)}", False, {"anyOf": scalars}
    if isinstance(node.get("enum"), list) and node["enum"]:
        enum = node["enum"]
        alts: list[Any] = []
        if near := _near_misses(enum):
            alts.append({"enum": near})
        enum_types = types or frozenset({"string"})
        alts.append({"type": sorted(enum_types), "not": {"enum": enum}})
        yield "not_in_enum", "enum", f"enum {canonical_json(enum)[:60]}", False, {"anyOf": alts}
    if "const" in node:
        near = _near_misses([node["const"]])
        alts = ([{"enum": near}] if near else []) + [{"not": {"const": node["const"]}}]
        yield "not_const", "const", f"const {canonical_json(node['const'])[:60]}", False, {"anyOf": alts}
    for kind, kw, detail, rep in _range_mutations(node, types, legacy_bool):
        yield kind, kw, detail, False, rep
    num = _number_type(types)
    k = node.get("multipleOf")
    if num and isinstance(k, (int, float)) and not isinstance(k, bool) and k > 0:
        if not (num == "integer" and float(1 / k).is_integer()):
            rep = {"type": num, "not": {"multipleOf": k}, **{b: node[b] for b in ("minimum", "maximum") if isinstance(node.get(b), (int, float)) and not isinstance(node.get(b), bool)}}
            yield "not_multiple", "multipleOf", f"multipleOf {k}", False, rep
    stringy = types is None or "string" in types
    arrayish = types is None or "array" in types
    n = node.get("maxLength")
    if stringy and isinstance(n, int) and not isinstance(n, bool):
        yield "too_long", "maxLength", f"maxLength {n}", False, {"type": "string", "minLength": n + 1, "maxLength": n + 8}
    n = node.get("minLength")
    if stringy and isinstance(n, int) and not isinstance(n, bool) and n > 0:
        yield "too_short", "minLength", f"minLength {n}", False, {"type": "string", "maxLength": n - 1}
    n = node.get("maxItems")
    if arrayish and isinstance(n, int) and not isinstance(n, bool):
        rep = {k2: v for k2, v in node.items() if k2 not in ("minItems", "maxItems")}
        yield "too_long", "maxItems", f"maxItems {n}", False, {**rep, "type": "array", "minItems": n + 1, "maxItems": n + 3}
    n = node.get("minItems")
    if arrayish and isinstance(n, int) and not isinstance(n, bool) and n > 0:
        rep = {k2: v for k2, v in node.items() if k2 not in ("minItems", "maxItems")}
        yield "too_short", "minItems", f"minItems {n}", False, {**rep, "type": "array", "maxItems": n - 1}
    p = node.get("pattern")
    if stringy and isinstance(p, str) and not bad_patterns({"pattern": p}):
        rep = {"type": "string", "not": {"pattern": p}, **{b: node[b] for b in ("minLength", "maxLength") if b in node}}
        yield "pattern_violation", "pattern", f"pattern {p}", False, rep
    fmt = node.get("format")
    if stringy and isinstance(fmt, str) and fmt in asserted_formats():
        rest = {k2: node[k2] for k2 in ("minLength", "maxLength") if k2 in node}
        if isinstance(node.get("pattern"), str) and not bad_patterns({"pattern": node["pattern"]}):
            rest["pattern"] = node["pattern"]
        checker = make_validator({"type": "string", **rest}, formats=False)
        bads = [b for b in BAD_EXAMPLES.get(fmt, ()) if not conforms(b, fmt) and checker.is_valid(b)]
        if bads:
            yield "format_violation", "format", f"format {fmt}", True, {"enum": bads}


def _free_key(base: str, node: dict[str, Any]) -> str:
    """A property name not declared and not matched by any patternProperties regex."""
    props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    pats = [p for p in (node.get("patternProperties") or {}) if not bad_patterns({"pattern": p})]
    key, i = base, 0
    while key in props or any(re.search(p, key) for p in pats):
        i += 1
        key = f"{base}_{i}"
    return key


def _walk(schema: Any, legacy: bool) -> list[MutationTarget]:
    found: list[MutationTarget] = []

    def add(kind: str, tokens: tuple[Token, ...], constraint: str, detail: str, soft: bool, mutant: Any, frame: Any = None, splice: Any = None) -> None:
        found.append(MutationTarget(kind, to_pointer(tokens), constraint, soft, detail, tokens, mutant, frame, splice))

    def visit(node: Any, tokens: tuple[Token, ...], rebuild: Callable[[Any], Any], *, with_types: bool = True) -> None:
        if not isinstance(node, dict) or "$ref" in node or "$dynamicRef" in node:
            return
        types = types_of(node)
        union_key = next((k for k in ("anyOf", "oneOf") if isinstance(node.get(k), list)), None)
        branches = [b for b in node.get(union_key, [])] if union_key else []
        branch_types = [types_of(b) for b in branches]
        if union_key and types is None and branches and all(t is not None for t in branch_types):
            types = frozenset().union(*branch_types)  # type: ignore[arg-type]
        frame = rebuild(node)  # the path forced to exist, every constraint kept: valid instances reach the node
        for kind, constraint, detail, soft, rep in _local(node, types, legacy_bool=legacy, with_types=with_types):
            add(kind, tokens, constraint, detail, soft, rebuild(rep), frame, ("set", tokens, rep))

        if union_key and branches and all(t is not None for t in branch_types) and _disjoint(branch_types):  # type: ignore[arg-type]
            rest = {k: v for k, v in node.items() if k != union_key and k not in ANNOTATIONS}

            def in_branch(new: Any, rest: dict[str, Any] = rest) -> Any:
                return rebuild({"allOf": [rest, new]} if rest else new)

            for branch in branches:
                visit(branch, tokens, in_branch, with_types=False)

        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        required = [r for r in node.get("required", []) if isinstance(r, str)] if isinstance(node.get("required"), list) else []
        objectish = (types is None and (props or required)) or (types is not None and "object" in types)
        if objectish:
            for name in required:
                rep = {**node, "required": [r for r in required if r != name], "properties": {**props, name: False}}
                add("missing_required", tokens + (name,), "required", f"required {name!r}", False, rebuild(rep), frame, ("drop", tokens, name))
            for kw in ("additionalProperties", "unevaluatedProperties"):
                if node.get(kw) is False and (kw == "additionalProperties" or not ({"allOf", "anyOf", "oneOf", "if", "$ref", "dependentSchemas"} & node.keys())):
                    key = _free_key(EXTRA_KEY, node)
                    rep = {**node, "properties": {**props, key: {"type": "string", "maxLength": 8}}, "required": required + [key]}
                    if kw == "unevaluatedProperties":
                        rep.pop(kw)
                        rep["additionalProperties"] = False
                    add("extra_property", tokens + (key,), kw, f"{kw} false", False, rebuild(rep), frame, ("add", tokens, key))
                    break
            for name, sub in props.items():

                def child(new: Any, name: str = name) -> Any:
                    return rebuild({**node, "required": sorted(set(required) | {name}), "properties": {**props, name: new}})

                visit(sub, tokens + (name,), child)
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                key = _free_key(MAP_KEY, node)

                def child_extra(new: Any, key: str = key) -> Any:
                    return rebuild({**node, "required": sorted(set(required) | {key}), "properties": {**props, key: new}})

                visit(extra, tokens + (key,), child_extra)

        items = node.get("items")
        arrayish = types is None or "array" in types
        if arrayish and isinstance(items, dict) and "prefixItems" not in node and node.get("maxItems", 1) != 0:

            def child_items(new: Any, items: dict[str, Any] = items) -> Any:
                # Items may stay as they were, at least one must be the mutant: keeps every
                # other array keyword (uniqueItems, contains...) satisfiable.
                arr = {**node, "items": {"anyOf": [items, new]}, "minItems": max(1, node.get("minItems", 0) or 0)}
                if "contains" in node:
                    arr["allOf"] = [*node.get("allOf", []), {"contains": new}]
                else:
                    arr["contains"] = new
                return rebuild(arr)

            visit(items, tokens + (WILDCARD,), child_items)

    if isinstance(schema, dict):
        root_types = types_of(schema)
        if root_types is not None and "object" in root_types:
            # ``"arguments": null`` is kept apart from the other non-objects: many SDKs read it
            # as "no arguments", so reports should be able to tell the two findings apart.
            non_objects = [t for t in ("boolean", "number", "string", "array") if t not in root_types]
            if non_objects:
                add("root_not_object", (), "type", "root must be an object", False, {"type": non_objects}, schema, ("set", (), {"type": non_objects}))
            if "null" not in root_types:
                add("null_not_allowed", (), "type", "arguments null instead of an object", False, {"type": "null"}, schema, ("set", (), {"type": "null"}))
        visit(schema, (), lambda new: new, with_types=False)
    return found


_TARGETS: dict[tuple[str, str], tuple[list[MutationTarget], Any, str]] = {}
_LOCK = threading.Lock()


def _prepare(schema: Any, revision: str | None) -> tuple[list[MutationTarget], Any, str]:
    """(targets, oracle schema, dialect class name), cached per schema text and dialect."""
    cls = validator_for(schema, revision)
    key = (canonical_json(schema), cls.__name__)
    with _LOCK:
        hit = _TARGETS.get(key)
    if hit is not None:
        return hit
    oracle_schema = schema
    bad = set(bad_patterns(schema))
    if bad:
        oracle_schema = strip_patterns(schema, bad)
    inlined = inline_refs(oracle_schema, legacy=is_legacy_dialect(cls))
    hit = (_walk(inlined.schema, is_legacy_dialect(cls)), oracle_schema, cls.__name__)
    with _LOCK:
        _TARGETS.setdefault(key, hit)
    return hit


def mutation_targets(schema: Any, revision: str | None = None) -> list[MutationTarget]:
    """Every constraint of ``schema`` that invalid() can break on its own, in walk order.

    Meant for a per-tool "constraint enforcement" table: one row per (path, constraint).
    Raises UnsupportedSchema for unknown dialects and remote/unresolvable ``$ref``s.
    """
    return list(_prepare(schema, revision)[0])


# ----------------------------------------------------------------------------- generation

_MUTANT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}


def _mutant_strategy(mutant: Any, legacy: bool) -> st.SearchStrategy[Any]:
    key = canonical_json(mutant)
    with _LOCK:
        hit = _MUTANT_STRATEGIES.get(key)
    if hit is None:
        recursive = "$ref" in key
        if recursive or keywords_used(mutant) & HJS_UNSUPPORTED:
            try:
                hit = engines.schemathesis_strategy(mutant, legacy=legacy)
            except Exception:  # noqa: BLE001 - fall back to the approximation, oracle filters
                hit = engines.hjs_strategy(simplify(mutant))
        else:
            hit = engines.hjs_strategy(mutant)
        with _LOCK:
            _MUTANT_STRATEGIES.setdefault(key, hit)
    return hit


def _all_errors(errors: Any) -> Iterator[Any]:
    for e in errors:
        yield e
        if e.context:
            yield from _all_errors(e.context)


def label(target: MutationTarget, value: Any, oracle: Any) -> InvalidCase | None:
    """The InvalidCase if ``oracle`` rejects ``value`` for ``target``'s reason, else None."""
    try:
        errs = list(_all_errors(oracle.iter_errors(value)))
    except Exception:  # noqa: BLE001 - undecidable: never claim a violation we cannot show
        return None
    parent = target.tokens[:-1]
    for e in errs:
        if e.validator != target.constraint:
            continue
        where = tuple(e.absolute_path)
        if target.kind in ("missing_required", "extra_property"):
            if not matches(parent, where):
                continue
            try:
                container = value
                for t in where:
                    container = container[t]
            except (KeyError, IndexError, TypeError):
                continue
            name = target.tokens[-1]
            present = isinstance(container, dict) and name in container
            if present != (target.kind == "extra_property"):
                continue
            concrete = where + (name,)
        elif matches(target.tokens, where):
            concrete = where
        else:
            continue
        return InvalidCase(target.kind, to_pointer(concrete), target.constraint, value, target.soft, target.detail)
    return None


def invalid(
    schema: Any,
    revision: str | None = None,
    *,
    kinds: set[str] | frozenset[str] | None = None,
    include_soft: bool = True,
    close_objects: bool = False,
    target: MutationTarget | None = None,
) -> st.SearchStrategy[InvalidCase]:
    """Strategy of InvalidCase for ``schema``: every value is rejected by the real validator.

    ``kinds`` restricts to some of KINDS; ``include_soft=False`` drops format violations.
    ``close_objects=True`` generates each mutant with its objects closed (closing.py): the only
    violation is then the labelled one (no undeclared junk keys that a strict server might
    reject instead) and drawing is faster. Off by default: the brief reserves closing for the
    valid campaign. Targets and labels do not depend on it.
    ``target`` (one of mutation_targets(schema)) breaks only that constraint: with
    strategies.simplest, the smallest input that breaks it (the fuzz campaign's constraint sweep).
    Produces nothing (``st.nothing()``) when the schema has no breakable constraint.
    """
    targets, oracle_schema, _ = _prepare(schema, revision)
    cls = validator_for(schema, revision)
    legacy = is_legacy_dialect(cls)
    chosen = [t for t in targets if (kinds is None or t.kind in kinds) and (include_soft or not t.soft) and (target is None or t == target)]
    if not chosen:
        return st.nothing()
    hard = make_validator(oracle_schema, revision, formats=False)
    soft = make_validator(oracle_schema, revision, formats=True)
    errors_to_skip = engines.generator_errors()

    @st.composite
    def cases(draw: st.DrawFn) -> InvalidCase:
        stop = getattr(_STOP, "check", None)
        if stop is not None:
            stop()  # may raise: the caller's time is up (a mutant can take seconds to draw)
        picked = draw(st.sampled_from(chosen), label="mutation target")
        try:
            mutant = _close(picked.mutant)[0] if close_objects else picked.mutant
            value = draw(_mutant_strategy(mutant, legacy), label="mutant instance")
        except errors_to_skip:
            # A mutant no generator can serve (e.g. unsatisfiable next to other keywords).
            # Rejected every time rather than remembered: remembering would make a replay
            # draw differently, which Hypothesis reports as flaky.
            reject()
        case = label(picked, value, soft if picked.soft else hard)
        if case is None:
            reject()
        return case  # type: ignore[return-value]

    return cases()


# ------------------------------------------------------------------------ the constraint sweep

FRAME_CANDIDATES = 1  # whole-schema values looked at per frame (each can take tens of ms to draw)
LEAF_CANDIDATES = 20  # values looked at per broken sub-schema (small: the smallest of them is kept)
_FRAMES: dict[str, Any] = {}
_LEAVES: dict[str, Any] = {}
_NONE = object()


def _first(cache: dict[str, Any], schema: Any, legacy: bool, check: Callable[[], None] | None, candidates: int) -> Any:
    """The smallest of Hypothesis' first ``candidates`` values of ``schema`` (its first is already
    the simplest it knows), objects closed; _NONE if it has none. Cached per schema text: a tool's
    sweep cases share their frames."""
    from .inputs import simplest

    closed = _close(schema)[0]
    key = canonical_json(closed)
    with _LOCK:
        hit = cache.get(key)
    if hit is None:
        stopped: list[BaseException] = []

        def guarded() -> None:
            try:
                if check is not None:
                    check()
            except BaseException as exc:
                stopped.append(exc)
                raise

        try:
            hit = simplest(_mutant_strategy(closed, legacy), check=guarded, max_candidates=candidates)
        except Exception:  # noqa: BLE001 - no value: the caller takes the slow path
            if stopped:  # the caller's check stopped it (its time is up), whatever Hypothesis wrapped it in
                raise stopped[0] from None
            hit = _NONE
        with _LOCK:
            cache.setdefault(key, hit)
    return hit


def _spliced(frame_value: Any, splice: Any, leaf: Any) -> Any:
    """A copy of ``frame_value`` with the splice applied at its node (each "*" is index 0)."""
    import copy

    op, at, member = splice
    if not at and op == "set":
        return copy.deepcopy(leaf)
    value = copy.deepcopy(frame_value)
    parent, key = None, None
    node = value
    for t in at:
        parent, key = node, (0 if t is WILDCARD else t)
        node = node[key]  # KeyError / IndexError / TypeError: the frame did not reach the node
    if op == "set":
        parent[key] = copy.deepcopy(leaf)  # type: ignore[index]
    elif op == "drop":
        del node[member]
    else:
        node[member] = ""
    return value


def sweep_case(schema: Any, target: MutationTarget, revision: str | None = None, *, check: Callable[[], None] | None = None) -> InvalidCase | None:
    """The constraint sweep's input for ``target`` built as an edit of one valid instance, without
    generating the whole mutant: the simplest instance of ``target.frame`` (the schema with the path
    forced to exist), with the simplest instance of the broken sub-schema put at the node (or the
    required member dropped, or an undeclared one added). The oracle must reject it for the
    target's reason, the frame must be valid on its own (so the labelled break is the only one),
    else None: the caller generates the mutant instead (simplest(invalid(schema, target=...))).
    Deterministic; a deep schema's case costs two small draws instead of dozens of whole ones."""
    if target.splice is None:
        return None
    _targets, oracle_schema, _ = _prepare(schema, revision)
    legacy = is_legacy_dialect(validator_for(schema, revision))
    op, at, member = target.splice
    hard = make_validator(oracle_schema, revision, formats=False)
    frame_value: Any = None
    if at or op != "set":
        frame_value = _first(_FRAMES, target.frame, legacy, check, FRAME_CANDIDATES)
        if frame_value is _NONE or not hard.is_valid(frame_value):
            return None
    leaf: Any = None
    if op == "set":
        leaf = _first(_LEAVES, member, legacy, check, LEAF_CANDIDATES)
        if leaf is _NONE:
            return None
    try:
        value = _spliced(frame_value, target.splice, leaf)
    except (KeyError, IndexError, TypeError):
        return None
    oracle = make_validator(oracle_schema, revision, formats=True) if target.soft else hard
    return label(target, value, oracle)


def clear_cache() -> None:
    """Forget computed targets, built mutant strategies and sweep frames."""
    with _LOCK:
        _TARGETS.clear()
        _MUTANT_STRATEGIES.clear()
        _FRAMES.clear()
        _LEAVES.clear()


__all__ = ["KINDS", "InvalidCase", "MutationTarget", "clear_cache", "invalid", "label", "mutation_targets", "sweep_case"]

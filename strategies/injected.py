"""VALID arguments with hostile payloads in their string fields.

The point of an injection campaign is to see what a server *does* with input it must accept,
so every InjectedCase stays valid for the schema (checked with the real validator, formats
asserted). A payload the schema would reject (too long, wrong pattern, enum...) would only test
input validation, which mutations.py already covers.

Which string positions qualify (``injection_points``): conjunctive positions (properties,
items, disjoint-type anyOf branches, as in mutations.py) whose schema admits strings and has no
``enum``/``const``/``pattern`` (a payload cannot match them), no ``format`` other than URI-like
ones (only SSRF payloads can be URIs), and room for a canary (maxLength >= 19). For each
point, only templates whose rendered text the point's own schema accepts are used.

A schema without such positions yields ``st.nothing()``: callers should check
``injection_points(schema)`` first and report "no string inputs" instead of a silent skip.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from hypothesis import reject
from hypothesis import strategies as st

from .dialect import is_legacy_dialect, make_validator, validator_for
from .inputs import plan_valid
from .keywords import types_of
from .payloads import CANARY_PREFIX, DEFAULT_FAMILIES, DEFAULT_SIZES, Payload, PayloadTemplate, draw_template, make_canary, templates
from .pointers import WILDCARD, Token, to_pointer
from .refs import inline_refs

URI_FORMATS = frozenset({"uri", "iri", "uri-reference", "iri-reference"})
MIN_ROOM = len(CANARY_PREFIX) + 12


@dataclass(frozen=True)
class InjectionPoint:
    """A string position of the schema; ``path`` is a pointer pattern ("*" = any index)."""

    path: str
    max_length: int | None = None
    format: str | None = None
    tokens: tuple[Token, ...] = field(default=(), repr=False, compare=False)
    schema: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Injection:
    path: str  # concrete JSON pointer into InjectedCase.value
    payload: Payload


@dataclass(frozen=True)
class InjectedCase:
    """Valid arguments (``value``) where each ``injections[i].path`` holds that payload's text."""

    value: Any
    injections: tuple[Injection, ...]

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(i.payload.canary for i in self.injections)


def _string_node_ok(node: dict[str, Any]) -> bool:
    types = types_of(node)
    if types is not None and "string" not in types:
        return False
    if "enum" in node or "const" in node or "pattern" in node:
        return False
    fmt = node.get("format")
    if fmt is not None and fmt not in URI_FORMATS:
        return False
    n = node.get("maxLength")
    return not (isinstance(n, int) and n < MIN_ROOM)


def _points(schema: Any) -> list[InjectionPoint]:
    found: list[InjectionPoint] = []

    def visit(node: Any, tokens: tuple[Token, ...], own: Any) -> None:
        """``own``: the schema checked against the payload (the union node for a branch)."""
        if not isinstance(node, dict) or "$ref" in node:
            return
        types = types_of(node)
        union = next((k for k in ("anyOf", "oneOf") if isinstance(node.get(k), list)), None)
        if union:
            branches = node[union]
            bts = [types_of(b) for b in branches]
            if all(t is not None for t in bts) and sum(len(t) for t in bts) == len(frozenset().union(*bts)):  # type: ignore[arg-type]
                for b in branches:
                    visit(b, tokens, node)
            return
        if tokens and (types is None or "string" in types) and _string_node_ok(node) and not ({"not", "allOf", "if"} & node.keys()):
            n = node.get("maxLength")
            found.append(InjectionPoint(to_pointer(tokens), n if isinstance(n, int) else None, node.get("format"), tokens, own))
        if types is None or "object" in types:
            for name, sub in (node.get("properties") or {}).items():
                visit(sub, tokens + (name,), sub)
        if (types is None or "array" in types) and isinstance(node.get("items"), dict) and "prefixItems" not in node:
            visit(node["items"], tokens + (WILDCARD,), node["items"])

    visit(schema, (), schema)
    return found


def injection_points(schema: Any, revision: str | None = None) -> list[InjectionPoint]:
    """String positions a payload can occupy while the instance stays valid (see module doc)."""
    cls = validator_for(schema, revision)
    return _points(inline_refs(schema, legacy=is_legacy_dialect(cls)).schema)


def slots_for(value: Any, tokens: tuple[Token, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """Concrete places in `value` matching an InjectionPoint's tokens, as (where, mode): "replace" an
    existing string, "insert" a missing key, or "append" to an array (feed them to `put_text`)."""
    out: list[tuple[tuple[str | int, ...], str]] = []

    def go(cur: Any, i: int, prefix: tuple[str | int, ...]) -> None:
        if i == len(tokens):
            out.append((prefix, "replace"))
            return
        t = tokens[i]
        last = i == len(tokens) - 1
        if t is WILDCARD:
            if isinstance(cur, list):
                for j, item in enumerate(cur):
                    go(item, i + 1, prefix + (j,))
                if last:
                    out.append((prefix + (len(cur),), "append"))
        elif isinstance(cur, dict):
            if t in cur:
                go(cur[t], i + 1, prefix + (t,))  # type: ignore[index]
            elif last:
                out.append((prefix + (t,), "insert"))  # type: ignore[operator]

    go(value, 0, ())
    return out


def put_text(value: Any, where: tuple[str | int, ...], mode: str, text: str) -> tuple[Any, tuple[str | int, ...]]:
    """Put `text` at a place `slots_for` found (in place: pass a copy); returns the value and
    the concrete place (an append's index)."""
    cur = value
    for t in where[:-1]:
        cur = cur[t]
    last = where[-1]
    if mode == "append":
        cur.append(text)
        return value, where[:-1] + (len(cur) - 1,)
    cur[last] = text
    return value, where


def injected(
    schema: Any,
    families: Iterable[str] = DEFAULT_FAMILIES,
    ssrf_base: str | None = None,
    revision: str | None = None,
    *,
    max_points: int = 2,
    sizes: Sequence[int] = DEFAULT_SIZES,
) -> st.SearchStrategy[InjectedCase]:
    """Valid instances with payloads at 1..``max_points`` string positions (all verified valid)."""
    families = tuple(families)
    points = injection_points(schema, revision)
    if not points:
        return st.nothing()
    all_templates = templates(families, ssrf_base=ssrf_base, sizes=sizes)
    probe_token = make_canary(0, "probe")
    usable: list[tuple[InjectionPoint, list[PayloadTemplate]]] = []
    for point in points:
        node_ok = make_validator(point.schema, revision, formats=True) if isinstance(point.schema, (dict, bool)) else None
        fits = [t for t in all_templates if node_ok is not None and _accepts(node_ok, t.render(probe_token).text)]
        if fits:
            usable.append((point, fits))
    if not usable:
        return st.nothing()
    plan = plan_valid(schema, revision)
    oracle = make_validator(schema, revision, formats=True)

    @st.composite
    def cases(draw: st.DrawFn) -> InjectedCase:
        base = draw(plan.strategy, label="valid arguments")
        slots = [(where, mode, k) for k, (point, _) in enumerate(usable) for where, mode in slots_for(base, point.tokens)]
        if not slots:
            reject()
        count = draw(st.integers(1, min(max_points, len(slots))), label="how many injections")
        picked = draw(st.lists(st.sampled_from(range(len(slots))), min_size=count, max_size=count, unique=True), label="slots")
        value = copy.deepcopy(base)
        done: list[Injection] = []
        used_arrays: set[tuple[str | int, ...]] = set()
        for index in picked:
            where, mode, k = slots[index]
            if mode == "append":
                if where[:-1] in used_arrays:
                    continue  # one append per array keeps recorded indices right
                used_arrays.add(where[:-1])
            template = draw_template(draw, usable[k][1])
            n = draw(st.integers(0, 2**48 - 1), label="canary seed")
            payload = template.render(make_canary(n, f"{to_pointer(where)}|{template.name}"))
            value, concrete = put_text(value, where, mode, payload.text)
            done.append(Injection(to_pointer(concrete), payload))
        if not done or not _accepts(oracle, value):
            reject()
        return InjectedCase(value, tuple(done))

    return cases()


def _accepts(validator: Any, instance: Any) -> bool:
    try:
        return bool(validator.is_valid(instance))
    except Exception:  # noqa: BLE001 - undecidable: not provably valid
        return False


__all__ = ["InjectedCase", "Injection", "InjectionPoint", "injected", "injection_points", "put_text", "slots_for"]

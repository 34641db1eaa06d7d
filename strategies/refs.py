"""Inline local ``$ref``s offline, and find out whether a schema is recursive.

Why inline ourselves instead of using hypothesis-jsonschema's ``resolve_all_refs``: (1) it is
private API, (2) it merges ``$ref`` siblings with 2019+ semantics even for draft-07 schemas,
where siblings of ``$ref`` are *ignored*, and (3) the mutation walker (mutations.py) needs a
ref-free tree to find conjunctive positions. Recursive references cannot be inlined; they are
left in place (with ``$defs``/``definitions`` kept so they still resolve) and ``recursive`` is
set, which sends generation to schemathesis.

Remote references are never fetched (offline by design): they raise ``UnresolvableRef``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .errors import UnresolvableRef
from .keywords import ANNOTATIONS, LISTS, MAPS, SINGLE
from .pointers import resolve_schema_pointer

# Above this many schema nodes, inlining is abandoned (a DAG of refs can blow up exponentially).
MAX_INLINED_NODES = 20_000

# Keywords whose meaning depends on other keywords in the same schema object: a "$ref" target
# and its siblings may only be merged into one object when neither side uses these.
_INTERACTING = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "items",
        "prefixItems",
        "additionalItems",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "if",
        "then",
        "else",
        "$ref",
        "$dynamicRef",
    }
)


@dataclass(frozen=True)
class Inlined:
    schema: Any
    recursive: bool  # some "$ref" still remains because it refers to one of its own ancestors
    refs_kept: bool  # inlining was abandoned (too large); "$ref"s left as they were
    had_refs: bool


class _TooLarge(Exception):
    pass


def _anchors(root: Any) -> dict[str, Any]:
    """``$anchor`` names (2019+) and draft-06/07 ``$id: "#name"`` anchors -> their schema."""
    found: dict[str, Any] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$anchor"), str):
                found[node["$anchor"]] = node
            if isinstance(node.get("$id"), str) and node["$id"].startswith("#") and len(node["$id"]) > 1:
                found[node["$id"][1:]] = node
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(root)
    return found


def _local_fragment(ref: str, root_id: str | None) -> str | None:
    """The fragment of a ref that points into this document, or None if it is remote."""
    if ref.startswith("#"):
        return ref[1:]
    if root_id:
        base = root_id.split("#", 1)[0]
        if ref == base:
            return ""
        if ref.startswith(base + "#"):
            return ref[len(base) + 1 :]
    return None


def inline_refs(schema: Any, *, legacy: bool = False) -> Inlined:
    """Return ``schema`` with every non-recursive local ``$ref`` replaced by its target.

    ``legacy=True`` (draft <= 07): siblings of ``$ref`` are dropped, as those drafts require.
    Otherwise siblings are conjoined with the target (merged when that is safe, else allOf).
    """
    if not isinstance(schema, dict):
        return Inlined(schema, False, False, False)
    root = schema
    root_id = root.get("$id") if isinstance(root.get("$id"), str) else None
    anchors = _anchors(root)
    state = {"nodes": 0, "recursive": False, "had_refs": False}

    def target_of(ref: str) -> tuple[str, Any]:
        fragment = _local_fragment(ref, root_id)
        if fragment is None:
            raise UnresolvableRef(f"remote $ref {ref!r}: mcpcheck never fetches remote references")
        try:
            if fragment == "" or fragment.startswith("/"):
                return "#" + fragment, resolve_schema_pointer(root, fragment)
            return "#" + fragment, anchors[fragment]
        except (KeyError, IndexError, ValueError):
            raise UnresolvableRef(f"$ref {ref!r} points nowhere in the schema") from None

    def expand(node: Any, stack: tuple[str, ...]) -> Any:
        state["nodes"] += 1
        if state["nodes"] > MAX_INLINED_NODES:
            raise _TooLarge
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            state["had_refs"] = True
            key, target = target_of(node["$ref"])
            if key in stack:
                state["recursive"] = True
                return {k: (expand_children(k, v, stack) if k != "$ref" else v) for k, v in node.items()}
            resolved = expand(target, stack + (key,))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if legacy or not (set(siblings) - ANNOTATIONS):
                return resolved
            siblings = {k: expand_children(k, v, stack) for k, v in siblings.items()}
            if isinstance(resolved, dict) and _mergeable(resolved, siblings):
                return {**resolved, **siblings}
            return {"allOf": [resolved, siblings]}
        return {k: expand_children(k, v, stack) for k, v in node.items()}

    def expand_children(key: str, value: Any, stack: tuple[str, ...]) -> Any:
        if key in ("$defs", "definitions"):
            return value  # expanded where used; kept verbatim for any recursive ref left over
        if key in SINGLE or (key == "items" and isinstance(value, (dict, bool))):
            return expand(value, stack)
        if (key in LISTS or key == "items") and isinstance(value, list):
            return [expand(v, stack) for v in value]
        if (key in MAPS or key == "dependencies") and isinstance(value, dict):
            return {k: (expand(v, stack) if isinstance(v, (dict, bool)) else v) for k, v in value.items()}
        return value

    try:
        out = expand(copy.deepcopy(root), ("#",))
    except _TooLarge:
        return Inlined(copy.deepcopy(root), True, True, True)
    if isinstance(out, dict) and not state["recursive"]:
        out.pop("$defs", None)
        out.pop("definitions", None)
    elif isinstance(out, dict):  # remaining refs need the original definitions
        for key in ("$defs", "definitions"):
            if key in root:
                out[key] = copy.deepcopy(root[key])
    return Inlined(out, bool(state["recursive"]), False, bool(state["had_refs"]))


def _mergeable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    shared = set(a) & set(b)
    if any(a[k] != b[k] for k in shared):
        return False
    return not ((set(a) & _INTERACTING) and (set(b) & _INTERACTING))

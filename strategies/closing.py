"""Close object schemas (``additionalProperties: false``) for the *valid* campaign.

Why: tool schemas rarely close their objects, so generators stuff every object with junk keys.
That makes each example larger and shrinking slow: in library-notes 2.1 a stateful failure did
not finish shrinking in 10 minutes for exactly this reason. Extra keys are a separate concern
(the invalid campaign's ``extra_property`` and schemas that forbid them).

Why it is sound: adding a keyword to a schema object only removes instances, *if* the object
sits in a monotone position (root, properties/*, items, prefixItems/*, additionalProperties,
patternProperties/*, anyOf/*). Under ``not``, ``oneOf`` or ``if`` it could turn an invalid
instance into a valid one, so those are never touched. A node is only closed when closing
cannot make it unsatisfiable: every ``required`` name is declared, nothing else at that node
(allOf, if/then, dependentSchemas, $ref...) might demand other properties. The validity oracle
still checks every draw against the *original* schema.
"""

from __future__ import annotations

from typing import Any

from .keywords import types_of

_BLOCKERS = frozenset(
    {
        "additionalProperties",
        "patternProperties",
        "unevaluatedProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "dependentSchemas",
        "dependencies",
    }
)
_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "required",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "propertyNames",
    }
)


def _closable(node: dict[str, Any]) -> bool:
    types = types_of(node)
    if types is not None and "object" not in types:
        return False
    if types is None and "properties" not in node:
        return False
    if _BLOCKERS & node.keys():
        return False
    props = node.get("properties", {})
    if not isinstance(props, dict):
        return False
    required = node.get("required", [])
    if not isinstance(required, list) or not set(required) <= set(props):
        return False
    dep = node.get("dependentRequired", {})
    if isinstance(dep, dict) and any(not set(v) <= set(props) for v in dep.values() if isinstance(v, list)):
        return False
    min_props = node.get("minProperties", 0)
    return isinstance(min_props, int) and min_props <= len(props)


def close_objects(schema: Any) -> tuple[Any, int]:
    """Return (closed copy, number of object schemas closed)."""
    count = 0

    def visit(node: Any) -> Any:
        nonlocal count
        if not isinstance(node, dict):
            return node
        out = dict(node)
        if isinstance(out.get("properties"), dict):
            out["properties"] = {k: visit(v) for k, v in out["properties"].items()}
        if isinstance(out.get("patternProperties"), dict):
            out["patternProperties"] = {k: visit(v) for k, v in out["patternProperties"].items()}
        if isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"] = visit(out["additionalProperties"])
        if isinstance(out.get("items"), dict):
            out["items"] = visit(out["items"])
        if isinstance(out.get("prefixItems"), list):
            out["prefixItems"] = [visit(v) for v in out["prefixItems"]]
        if isinstance(out.get("anyOf"), list) and not (_OBJECT_KEYWORDS & node.keys()):
            out["anyOf"] = [visit(v) for v in out["anyOf"]]
        if _closable(node):
            out["additionalProperties"] = False
            count += 1
        return out

    return visit(schema), count

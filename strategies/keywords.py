"""Where sub-schemas live in a JSON Schema, and which keywords a schema uses.

The engine choice (inputs.py) depends on the keywords a schema uses *as keywords*: a property
that happens to be called "prefixItems" must not send a schema to a different generator. So
this walks sub-schema positions only (draft-04 .. 2020-12 union), never property names.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

# keyword -> how its value holds sub-schemas
SINGLE = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "contentSchema",
    }
)
LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})

# Keywords hypothesis-jsonschema does not implement. It does not reject them: it ignores them,
# so its "valid" output violates them (library-notes 1.2), or it raises on recursion.
HJS_UNSUPPORTED = frozenset(
    {
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "minContains",
        "maxContains",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
    }
)

# Keywords that only describe; a "$ref" whose siblings are all annotations is a plain reference.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
    }
)


def subschemas(node: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Yield (relative path, sub-schema) for every direct sub-schema of ``node``."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in SINGLE or (key == "items" and isinstance(value, (dict, bool))):
            yield (key,), value
        elif key in LISTS or (key == "items" and isinstance(value, list)):
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    yield (key, i), sub
        elif key in MAPS or key == "dependencies":
            if isinstance(value, dict):
                for name, sub in value.items():
                    if isinstance(sub, (dict, bool)):  # draft-07 "dependencies" also holds arrays
                        yield (key, name), sub


def walk(schema: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every schema object (dict) in ``schema``, depth first, with its path from the root."""
    if isinstance(schema, dict):
        yield path, schema
        for rel, sub in subschemas(schema):
            yield from walk(sub, path + rel)


def keywords_used(schema: Any) -> set[str]:
    """Keyword names appearing in any schema object (not property names)."""
    out: set[str] = set()
    for _, node in walk(schema):
        out.update(node.keys())
        if isinstance(node.get("items"), list):
            out.add("items[]")  # draft-07 tuple form
    return out


def bad_patterns(schema: Any) -> list[str]:
    """Regexes (``pattern`` values and ``patternProperties`` keys) Python's ``re`` cannot compile.

    JSON Schema regexes are ECMA-262; ``\\p{L}`` and friends are not Python syntax. Neither
    generator nor the jsonschema validator can handle them, so callers must know.
    """
    bad: list[str] = []
    for _, node in walk(schema):
        candidates = []
        if isinstance(node.get("pattern"), str):
            candidates.append(node["pattern"])
        if isinstance(node.get("patternProperties"), dict):
            candidates.extend(k for k in node["patternProperties"] if isinstance(k, str))
        for pattern in candidates:
            try:
                re.compile(pattern)
            except re.error:
                bad.append(pattern)
    return bad


JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def json_type(value: Any) -> str:
    """The JSON Schema type name of a Python JSON value ("integer" for 3 and 3.0)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def types_of(node: Any) -> frozenset[str] | None:
    """Types a schema node admits, from ``type`` or inferred from ``enum``/``const``.

    ``None`` means "unknown / any". "number" implies "integer" (every integer is a number).
    """
    if not isinstance(node, dict):
        return None
    t = node.get("type")
    if isinstance(t, str):
        ts = {t}
    elif isinstance(t, list) and all(isinstance(x, str) for x in t):
        ts = set(t)
    elif "const" in node:
        ts = {json_type(node["const"])}
    elif isinstance(node.get("enum"), list) and node["enum"]:
        try:
            ts = {json_type(v) for v in node["enum"]}
        except TypeError:
            return None
    else:
        return None
    if "number" in ts:
        ts.add("integer")
    return frozenset(ts)

"""`x-mcp-header` annotations and the `Mcp-Param-*` headers they ask for (2026-07-28, spec-digest
HS9), pure: the transport uses it to send the headers a conforming client sends, the check
tools.x_mcp_header (mcpcheck.checks.param_headers) to lint the annotations.

A 2026-07-28 tool may mark a property of its inputSchema with `"x-mcp-header": "<Name>"`; a
client calling it over Streamable HTTP mirrors the argument's value into `Mcp-Param-<Name>`.
The annotations must obey constraints, or conforming clients drop the tool (and send no header):
the name is an RFC 9110 token, unique case-insensitively in the schema, on a property of type
string, integer or boolean (never number), reachable from the root only through `properties`.

`annotation_problems(schema)` lints one schema, `annotated(schema)` lists the valid annotations
(property path, header name, type), `param_headers(schema, args)` builds the headers.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

KEY = "x-mcp-header"
PREFIX = "Mcp-Param-"
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 §5.6.2 token
TYPES = ("string", "integer", "boolean")
_SINGLE = ("items", "contains", "unevaluatedItems", "additionalProperties", "propertyNames", "unevaluatedProperties", "not", "if", "then", "else", "contentSchema")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("patternProperties", "dependentSchemas", "$defs", "definitions")
MAX_NODES = 10_000  # schema positions walked per schema (bounded)


def positions(root: Any) -> Iterator[tuple[tuple[str, ...] | None, dict[str, Any]]]:
    """(properties path, schema) for every schema position; the path is None once any applicator
    but `properties` was crossed. Instance data (default, enum, const, examples) and $ref are not
    entered."""
    stack: list[tuple[tuple[str, ...] | None, Any]] = [((), root)]
    seen = 0
    while stack and seen < MAX_NODES:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        seen += 1
        yield path, node
        for kw, val in node.items():
            if kw == "properties" and isinstance(val, dict):
                stack.extend((((*path, k) if path is not None else None), sub) for k, sub in val.items())
            elif kw in _SINGLE:
                stack.append((None, val))
            elif kw in _LIST and isinstance(val, list):
                stack.extend((None, sub) for sub in val)
            elif kw in _MAP and isinstance(val, dict):
                stack.extend((None, sub) for sub in val.values())


def annotation_problems(schema: Any) -> list[str]:
    """Every way the schema's x-mcp-header annotations break the constraints (empty: fine)."""
    out: list[str] = []
    names: dict[str, str] = {}
    for path, node in positions(schema):
        if KEY not in node:
            continue
        value = node[KEY]
        where = "the schema root" if path == () else ("a position reachable only through " + "an applicator other than properties" if path is None else f"property {'.'.join(path)!r}")
        if not path:
            out.append(f"{KEY} {value!r} sits at {where}: only properties reachable through `properties` alone may carry it")
            continue
        if not isinstance(value, str) or not TOKEN.match(value):
            out.append(f"{KEY} {value!r} on {where} is not an HTTP token (RFC 9110: letters, digits, !#$%&'*+-.^_`|~)")
            continue
        kind = node.get("type")
        if kind not in TYPES:
            out.append(f"{KEY} {value!r} on {where} of type {kind!r}: only string, integer and boolean properties may carry it (never number)")
        lower = value.lower()
        if lower in names:
            out.append(f"{KEY} {value!r} on {where} repeats {names[lower]!r} (header names are case-insensitive)")
        else:
            names[lower] = f"{value}' on property '{'.'.join(path)}"
    return out


def annotated(schema: Any) -> list[tuple[tuple[str, ...], str, str]]:
    """(property path, header name, type) of every valid annotation; [] when any is invalid (a
    conforming client drops such a tool and sends no header)."""
    if annotation_problems(schema):
        return []
    return [(path, node[KEY], node.get("type")) for path, node in positions(schema) if path and isinstance(node.get(KEY), str)]


def render(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)) or (isinstance(value, float) and value.is_integer()):
        return str(int(value)) if isinstance(value, float) else str(value)
    return None


def value_at(args: Any, path: tuple[str, ...]) -> Any:
    node = args
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def param_headers(schema: Any, args: Any, encode=lambda v: v) -> dict[str, str]:
    """The Mcp-Param-* headers a conforming client sends for a tools/call with `args`."""
    out: dict[str, str] = {}
    for path, name, _kind in annotated(schema):
        rendered = render(value_at(args, path))
        if rendered is not None:
            out[PREFIX + name] = encode(rendered)
    return out

"""`x-mcp-header` annotations and their `Mcp-Param-*` headers (spec-digest HS9, 2026-07-28).

A 2026-07-28 tool may mark a property of its inputSchema with `"x-mcp-header": "<Name>"`; a
client calling it over Streamable HTTP then mirrors the argument's value into the header
`Mcp-Param-<Name>`, and the server validates the header against the body (missing, mismatched
or malformed -> 400 + -32020). The annotations themselves must obey constraints, or conforming
clients drop the tool: the name is an RFC 9110 token, unique case-insensitively in the schema,
on a property of type string, integer or boolean (never number), reachable from the root only
through `properties` (not under items, allOf, $defs ...).

The pure helpers live in mcpcheck.transport.param_headers (the transport sends the headers a
conforming client sends). The listing check `tools.x_mcp_header` here judges every listed tool;
the probe that sends mismatching headers is `http.stateless_param_headers`
(mcpcheck.campaigns.http_streams).
"""

from __future__ import annotations

from typing import Iterator

from ..findings import Violation
from ..registry import Listing, ListingContext, Skip, check
from ..transport.param_headers import KEY, PREFIX, annotated, annotation_problems, param_headers, positions, render, value_at

__all__ = ["KEY", "PREFIX", "annotated", "annotation_problems", "param_headers", "positions", "render", "value_at", "x_mcp_header"]


@check(
    "tools.x_mcp_header",
    category="protocol.schema",
    severity="medium",
    title="x-mcp-header annotations are tokens, unique, on string/integer/boolean properties reached through properties",
    scope="listing",
    rule="HS9",
    level="MUST",
    revisions="2026-07-28",
    description="A tool whose annotations break these constraints is dropped by conforming clients (they cannot "
    "mirror its arguments into Mcp-Param-* headers).",
)
def x_mcp_header(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    if not ctx.stateless:
        raise Skip(f"x-mcp-header is a 2026-07-28 annotation (this era is {ctx.revision})")
    marked = 0
    ev = [e for p in (listing.pages.get("tools/list") or [])[:2] for e in p.evidence()]
    for tool in listing.tools:
        if not isinstance(tool, dict):
            continue
        schema = tool.get("inputSchema")
        if not any(KEY in node for _p, node in positions(schema)):
            continue
        marked += 1
        problems = annotation_problems(schema)
        if problems:
            name = tool.get("name")
            yield Violation(f"tool {name!r}: " + "; ".join(problems[:3]), ev, key=f"{name}", path="/inputSchema")
    if not marked:
        raise Skip(f"no tool carries {KEY} annotations")

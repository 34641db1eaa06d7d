"""An mcpcheck plugin: every tool whose description is shorter than 20 characters is a finding.

A model picks tools by their descriptions; "Adds" tells it nothing about when to call a tool.
The check is a `listing` check: it runs once per tools listing of every session mcpcheck opens
in the conformance campaign, and its findings go through the same reports, score, gate,
baselines, SARIF, JUnit and pytest items as the built-in ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import mcpcheck

MIN_LENGTH = 20


@mcpcheck.check(
    "example.short_description",
    category="tool.schema",
    severity="low",
    title=f"Every tool has a description of at least {MIN_LENGTH} characters",
    scope="listing",
    level="-",
    description="Not a spec rule: a house rule, shown as a plugin example (docs/plugins.md).",
)
def short_description(ctx: mcpcheck.ListingContext, listing: mcpcheck.Listing) -> Iterator[mcpcheck.Violation]:
    if not listing.tools:
        raise mcpcheck.Skip("the server lists no tools")
    for tool in listing.tools:
        text = (tool.get("description") or "").strip()
        if len(text) < MIN_LENGTH:
            yield mcpcheck.Violation(
                f"tool {tool.get('name')!r} has a {len(text)}-character description ({text!r}); "
                f"at least {MIN_LENGTH} tell a model when to call it",
                tool=str(tool.get("name")),
                path="/description",
                key=str(tool.get("name")),
            )

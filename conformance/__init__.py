"""mcpcheck: property-based fuzzing and conformance testing for MCP servers.

The public API is what `__all__` lists; every other module is internal and may change.

    import mcpcheck
    from mcpcheck import strategies

    @mcpcheck.check("acme.short_descriptions", category="tool.schema", severity="low",
                    title="Tools describe themselves", scope="listing")
    def short_descriptions(ctx: mcpcheck.ListingContext, listing: mcpcheck.Listing):
        for tool in listing.tools:
            if len(tool.get("description") or "") < 20:
                yield mcpcheck.Violation(f"tool {tool['name']!r} has a short description", tool=tool["name"])

    report = mcpcheck.run(["python", "server.py"], campaigns=["conformance"])

Checks: docs/plugins.md. Strategies (pure, schema in, Hypothesis strategies out):
`strategies.valid(schema)`, `strategies.invalid(schema)`, `strategies.injected(schema)`.
"""

from __future__ import annotations

from . import strategies
from .api import run, write_reports
from .config import Target, make_target
from .findings import Evidence, Finding, Severity, Violation
from .registry import (
    SCOPES,
    CheckContext,
    ExchangeContext,
    Listing,
    ListingContext,
    LogContext,
    RunContext,
    SessionContext,
    SessionLog,
    Skip,
    ToolCall,
    ToolCallContext,
    check,
)
from .report.model import RunReport
from .session import Exchange
from .strategies import injected, invalid, valid

__version__ = "0.1.0"

__all__ = [
    "SCOPES",
    "CheckContext",
    "Evidence",
    "Exchange",
    "ExchangeContext",
    "Finding",
    "Listing",
    "ListingContext",
    "LogContext",
    "RunContext",
    "RunReport",
    "SessionContext",
    "SessionLog",
    "Severity",
    "Skip",
    "Target",
    "ToolCall",
    "ToolCallContext",
    "Violation",
    "__version__",
    "check",
    "injected",
    "invalid",
    "make_target",
    "run",
    "strategies",
    "valid",
    "write_reports",
]

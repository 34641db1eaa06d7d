"""MCP protocol revisions, JSON-RPC / MCP error codes and the reserved `_meta` keys.

Revision tags used throughout mcpcheck (and in spec-digest.md):

    R1 2024-11-05  legacy, handshake
    R2 2025-03-26  legacy, handshake
    R3 2025-06-18  handshake
    R4 2025-11-25  handshake (the last one)
    R5 2026-07-28  stateless (`server/discover`, per-request `_meta`), LATEST

Revision strings are ISO dates, so they order correctly as plain strings; `since()`,
`until()` and `between()` build the sets of revisions a field or a method exists in.
"""

from __future__ import annotations

from typing import Literal

R1 = "2024-11-05"
R2 = "2025-03-26"
R3 = "2025-06-18"
R4 = "2025-11-25"
R5 = "2026-07-28"

#: Every revision mcpcheck knows, oldest first.
REVISIONS: tuple[str, ...] = (R1, R2, R3, R4, R5)
LATEST = R5
#: Revisions that open a session with `initialize` (R1-R4).
HANDSHAKE_REVISIONS: tuple[str, ...] = (R1, R2, R3, R4)
#: Revisions without `initialize`: every request carries its version in `_meta` (R5).
STATELESS_REVISIONS: tuple[str, ...] = (R5,)
#: Revisions the spec marks legacy and whose shapes mcpcheck models as 2025-06-18 minus the
#: fields 2025-06-18 (or 2025-03-26) introduced. See conformance/protocol/README.md.
LEGACY_REVISIONS: tuple[str, ...] = (R1, R2)
#: Aliases accepted wherever a revision is expected. At the spec snapshot `schema/draft` was
#: byte-identical to 2026-07-28.
ALIASES = {"draft": R5, "latest": R5}

Era = Literal["handshake", "stateless", "unknown"]


def normalize(revision: object) -> str | None:
    """The known revision `revision` names, or None when it names none (unknown, empty, not a str)."""
    if not isinstance(revision, str):
        return None
    revision = ALIASES.get(revision, revision)
    return revision if revision in REVISIONS else None


def is_stateless(revision: object) -> bool:
    return normalize(revision) in STATELESS_REVISIONS


def is_legacy(revision: object) -> bool:
    return normalize(revision) in LEGACY_REVISIONS


def era(revision: object) -> Era:
    """"handshake" (R1-R4: `initialize`, sessions), "stateless" (R5) or "unknown"."""
    rev = normalize(revision)
    if rev is None:
        return "unknown"
    return "stateless" if rev in STATELESS_REVISIONS else "handshake"


def since(first: str) -> frozenset[str]:
    """Known revisions from `first` on (inclusive)."""
    return frozenset(r for r in REVISIONS if r >= first)


def until(last: str) -> frozenset[str]:
    """Known revisions up to `last` (inclusive)."""
    return frozenset(r for r in REVISIONS if r <= last)


def between(first: str, last: str) -> frozenset[str]:
    return since(first) & until(last)


def only(*revisions: str) -> frozenset[str]:
    return frozenset(revisions)


ALL: frozenset[str] = frozenset(REVISIONS)


# --------------------------------------------------------------------------- error codes

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: R1-R4 resource not found (SHOULD). MUST NOT be used in R5 (R5 uses -32602).
RESOURCE_NOT_FOUND = -32002
#: R4 URL elicitation required. MUST NOT be used in R5.
URL_ELICITATION_REQUIRED = -32042
#: R5: HTTP headers disagree with the body (Mcp-Method, Mcp-Name, MCP-Protocol-Version, ...).
HEADER_MISMATCH = -32020
#: R5: the request needs a client capability it did not declare; data.requiredCapabilities.
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
#: R5: protocol version not supported; data.supported[] and data.requested.
UNSUPPORTED_PROTOCOL_VERSION = -32022

ERROR_CODE_NAMES: dict[int, str] = {
    PARSE_ERROR: "ParseError",
    INVALID_REQUEST: "InvalidRequest",
    METHOD_NOT_FOUND: "MethodNotFound",
    INVALID_PARAMS: "InvalidParams",
    INTERNAL_ERROR: "InternalError",
    RESOURCE_NOT_FOUND: "ResourceNotFound",
    URL_ELICITATION_REQUIRED: "URLElicitationRequired",
    HEADER_MISMATCH: "HeaderMismatch",
    MISSING_REQUIRED_CLIENT_CAPABILITY: "MissingRequiredClientCapability",
    UNSUPPORTED_PROTOCOL_VERSION: "UnsupportedProtocolVersion",
}
#: R5 reserves -32020..-32099 for MCP; only the codes above are defined in it (J10).
RESERVED_RANGE = range(-32099, -32019)


def error_code_name(code: object) -> str | None:
    return ERROR_CODE_NAMES.get(code) if isinstance(code, int) and not isinstance(code, bool) else None


# --------------------------------------------------------------------------- R5 `_meta` keys

META_PREFIX = "io.modelcontextprotocol/"
META_PROTOCOL_VERSION = META_PREFIX + "protocolVersion"
META_CLIENT_CAPABILITIES = META_PREFIX + "clientCapabilities"
META_CLIENT_INFO = META_PREFIX + "clientInfo"
META_SERVER_INFO = META_PREFIX + "serverInfo"
META_LOG_LEVEL = META_PREFIX + "logLevel"
META_SUBSCRIPTION_ID = META_PREFIX + "subscriptionId"
#: Request `_meta` keys an R5 request MUST carry (J15); clientInfo is optional.
META_REQUIRED_ON_REQUESTS: tuple[str, ...] = (META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES)
#: W3C trace-context keys R5 allows in `_meta` without a prefix.
OTEL_META_KEYS: frozenset[str] = frozenset({"traceparent", "tracestate", "baggage"})

"""mcpcheck's protocol models: pydantic v2 models of what an MCP server sends, per revision,
and the verdict functions the checks call. See README.md in this folder for what differs per
revision and what is deliberately lenient.

    from mcpcheck.protocol import validate_result, validate_message, validate_error
"""

from .jsonrpc import classify
from .meta import meta_key_violations
from .revisions import (
    HANDSHAKE_REVISIONS,
    LATEST,
    REVISIONS,
    STATELESS_REVISIONS,
    era,
    is_stateless,
    normalize,
)
from .validate import (
    known_methods,
    known_notifications,
    known_server_requests,
    result_advisories,
    validate_as,
    validate_error,
    validate_message,
    validate_result,
)
from .violations import Violation

__all__ = [
    "HANDSHAKE_REVISIONS",
    "LATEST",
    "REVISIONS",
    "STATELESS_REVISIONS",
    "Violation",
    "classify",
    "era",
    "is_stateless",
    "known_methods",
    "known_notifications",
    "known_server_requests",
    "meta_key_violations",
    "normalize",
    "result_advisories",
    "validate_as",
    "validate_error",
    "validate_message",
    "validate_result",
]

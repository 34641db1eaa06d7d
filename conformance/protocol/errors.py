"""The JSON-RPC error object and the `data` shapes MCP defines for some codes.

- Every revision (J5): `code` an integer literal (not a float, boolean or string), `message` a
  string, `data` anything.
- 2026-07-28 (J10, V1): -32022 needs `data.supported` (array of strings) and `data.requested`
  (string); -32021 needs `data.requiredCapabilities` (a ClientCapabilities object).
- 2025-11-25 (J9): -32042 needs `data.elicitations` (URL-mode elicitation params).

Which codes a server may use at all (the reserved -32020..-32099 range, no -32002/-32042 in R5)
is an exchange-level rule and lives in checks/listing.py (`errors.reserved_codes`).
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictInt

from .base import McpModel
from .common import ClientCapabilities
from .revisions import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    R4,
    R5,
    UNSUPPORTED_PROTOCOL_VERSION,
    URL_ELICITATION_REQUIRED,
    only,
    since,
)
from .scalars import UNSET, StrictStr
from .server_requests import ElicitUrlParams


class ErrorObject(McpModel):
    code: StrictInt
    message: StrictStr
    data: Any = UNSET


class UnsupportedProtocolVersionData(McpModel):
    supported: list[StrictStr]
    requested: StrictStr


class MissingRequiredClientCapabilityData(McpModel):
    requiredCapabilities: ClientCapabilities


class UrlElicitationRequiredData(McpModel):
    elicitations: list[ElicitUrlParams]


#: code -> (model of `data`, revisions in which that shape is required, rule id)
ERROR_DATA: dict[int, tuple[type[McpModel], frozenset[str], str]] = {
    UNSUPPORTED_PROTOCOL_VERSION: (UnsupportedProtocolVersionData, since(R5), "V1"),
    MISSING_REQUIRED_CLIENT_CAPABILITY: (MissingRequiredClientCapabilityData, since(R5), "J10"),
    URL_ELICITATION_REQUIRED: (UrlElicitationRequiredData, only(R4), "J9"),
}

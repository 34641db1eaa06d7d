"""JSON-RPC 2.0 envelopes as MCP uses them (J1, J2, J4, J5, J6) and `classify`.

- request: `jsonrpc: "2.0"`, `id` string|integer (never null/boolean/float), `method` string,
  optional `params` object (JSON-RPC also allows an array; MCP does not).
- notification: the same without `id`.
- result response: `id` string|integer and `result` (an MCP Result is always an object).
- error response: `error` object; `id` string|integer, or absent/null when the server could not
  read the request's id (J6: the R1-R3 schemas require it, R4+ make it optional, JSON-RPC 2.0
  says null; all three are accepted).
- exactly one of `result` / `error` (J4).
"""

from __future__ import annotations

from typing import Any, Literal

from .base import McpModel
from .errors import ErrorObject
from .scalars import UNSET, RequestId, StrictStr, is_request_id

Kind = Literal["request", "notification", "response", "error", "invalid"]


class JSONRPCRequest(McpModel):
    jsonrpc: Literal["2.0"]
    id: RequestId
    method: StrictStr
    params: dict[str, Any] = UNSET


class JSONRPCNotification(McpModel):
    jsonrpc: Literal["2.0"]
    method: StrictStr
    params: dict[str, Any] = UNSET


class JSONRPCResultResponse(McpModel):
    jsonrpc: Literal["2.0"]
    id: RequestId
    result: dict[str, Any]


class JSONRPCErrorResponse(McpModel):
    jsonrpc: Literal["2.0"]
    id: RequestId | None = UNSET
    error: ErrorObject


def intended_kind(message: Any) -> Kind:
    """What `message` tries to be, judged by its keys only (for picking a model)."""
    if not isinstance(message, dict):
        return "invalid"
    if "method" in message:
        return "request" if "id" in message else "notification"
    if "error" in message:
        return "error"
    if "result" in message:
        return "response"
    return "invalid"


def classify(message: Any) -> Kind:
    """The kind of a well-formed envelope, or "invalid". Never raises.

    Checks the envelope discriminators only: `jsonrpc == "2.0"`, a string `method`, a valid
    request/response id, exactly one of result/error, an object `error`. It does not look at
    params or at the result/error contents (`validate_message` does). A JSON array (a batch)
    is "invalid" here; validate_message knows which revisions allowed batches.
    """
    try:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return "invalid"
        if "method" in message:
            if not isinstance(message["method"], str) or "result" in message or "error" in message:
                return "invalid"
            if "id" not in message:
                return "notification"
            return "request" if is_request_id(message["id"]) else "invalid"
        has_result, has_error = "result" in message, "error" in message
        if has_result == has_error:
            return "invalid"
        if has_result:
            return "response" if is_request_id(message.get("id")) else "invalid"
        if not isinstance(message["error"], dict):
            return "invalid"
        ident = message.get("id")
        return "error" if ident is None or is_request_id(ident) else "invalid"
    except Exception:  # pragma: no cover - a dict subclass with a hostile __getitem__
        return "invalid"


ENVELOPES: dict[str, type[McpModel]] = {
    "request": JSONRPCRequest,
    "notification": JSONRPCNotification,
    "response": JSONRPCResultResponse,
    "error": JSONRPCErrorResponse,
}

__all__ = [
    "ENVELOPES",
    "ErrorObject",
    "JSONRPCErrorResponse",
    "JSONRPCNotification",
    "JSONRPCRequest",
    "JSONRPCResultResponse",
    "Kind",
    "classify",
    "intended_kind",
]

"""What a server asks of the client: ping, sampling/createMessage, elicitation/create,
roots/list. Sent as JSON-RPC requests up to 2025-11-25 (M1); in 2026-07-28 a server never
sends requests (S3, M3) and nests them in `InputRequiredResult.inputRequests` instead.

Leniencies: elicitation `requestedSchema.properties` values are only checked to be objects
(not against the primitive-schema union), URL-mode elicitation is accepted whenever `mode` is
"url", and the R4 sampling-with-tools content (tool_use/tool_result, arrays of blocks) is
accepted in every revision.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

from .base import McpModel
from .common import JsonObject, MetaObject, RequestMeta
from .content import SamplingContent
from .results import Result
from .revisions import R4, only, since
from .scalars import UNSET, JsonInt, JsonNumber, Role, StrictStr, UnitInterval
from .tools import Tool
from .violations import TAG


class RequestParams(McpModel):
    meta: RequestMeta = Field(UNSET, alias="_meta")


class ModelHint(McpModel):
    name: StrictStr = UNSET


class ModelPreferences(McpModel):
    hints: list[ModelHint] = UNSET
    costPriority: UnitInterval = UNSET
    speedPriority: UnitInterval = UNSET
    intelligencePriority: UnitInterval = UNSET


class SamplingMessage(McpModel):
    role: Role
    content: SamplingContent
    meta: MetaObject = Field(UNSET, alias="_meta")


class ToolChoice(McpModel):
    mode: Literal["auto", "none", "required"] = UNSET


class CreateMessageParams(RequestParams):
    present_in = {"tools": since(R4), "toolChoice": since(R4)}

    messages: list[SamplingMessage]
    maxTokens: JsonInt
    systemPrompt: StrictStr = UNSET
    includeContext: Literal["none", "thisServer", "allServers"] = UNSET
    temperature: JsonNumber = UNSET
    stopSequences: list[StrictStr] = UNSET
    metadata: JsonObject = UNSET
    modelPreferences: ModelPreferences = UNSET
    tools: list[Tool] = UNSET
    toolChoice: ToolChoice = UNSET


class RequestedSchema(McpModel):
    present_in = {"$schema": since(R4)}

    type: Literal["object"]
    schema_: StrictStr = Field(UNSET, alias="$schema")
    properties: dict[str, JsonObject]
    required: list[StrictStr] = UNSET


class ElicitFormParams(RequestParams):
    present_in = {"mode": since(R4)}

    mode: Literal["form"] = UNSET
    message: StrictStr
    requestedSchema: RequestedSchema


class ElicitUrlParams(RequestParams):
    """R4+ URL mode. `elicitationId` is required in 2025-11-25 and gone from 2026-07-28."""

    present_in = {"elicitationId": only(R4)}
    required_in = {"elicitationId": only(R4)}

    mode: Literal["url"]
    message: StrictStr
    url: StrictStr
    elicitationId: StrictStr = UNSET


def _mode_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return TAG + ("url" if value.get("mode") == "url" else "form")


ElicitParams = Annotated[
    Union[Annotated[ElicitFormParams, Tag(TAG + "form")], Annotated[ElicitUrlParams, Tag(TAG + "url")]],
    Discriminator(
        _mode_tag,
        custom_error_type="elicit_params_type",
        custom_error_message="must be an object",
    ),
]


# --------------------------------------------------------------------------- R5 input requests


class SamplingInputRequest(McpModel):
    method: Literal["sampling/createMessage"]
    params: CreateMessageParams


class ElicitInputRequest(McpModel):
    method: Literal["elicitation/create"]
    params: ElicitParams


class RootsInputRequest(McpModel):
    method: Literal["roots/list"]
    params: RequestParams = UNSET


INPUT_REQUEST_METHODS = ("sampling/createMessage", "elicitation/create", "roots/list")


def _method_tag(value: Any) -> str | None:
    method = value.get("method") if isinstance(value, dict) else None
    return TAG + method if isinstance(method, str) else None


InputRequest = Annotated[
    Union[
        Annotated[SamplingInputRequest, Tag(TAG + "sampling/createMessage")],
        Annotated[ElicitInputRequest, Tag(TAG + "elicitation/create")],
        Annotated[RootsInputRequest, Tag(TAG + "roots/list")],
    ],
    Discriminator(
        _method_tag,
        custom_error_type="input_request_method",
        custom_error_message="must be an input request: an object whose 'method' is one of "
        + ", ".join(INPUT_REQUEST_METHODS),
    ),
]


class InputRequiredResult(Result):
    """R5 `resultType: "input_required"` (M3): at least one of inputRequests / requestState."""

    inputRequests: dict[str, InputRequest] = UNSET
    requestState: StrictStr = UNSET

    @classmethod
    def revision_checks(cls, data, revision):
        if "inputRequests" not in data and "requestState" not in data:
            yield (), "input_required_empty", "must carry inputRequests, requestState or both (M3)"

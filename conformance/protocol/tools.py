"""Tools: `Tool`, tools/list and tools/call results (T2, T3, T12, T13, T15).

Per revision:
- `annotations` from 2025-03-26; `title`, `outputSchema`, `structuredContent`, `_meta` from
  2025-06-18; `icons` from 2025-11-25; `execution` only in 2025-11-25 (tasks became an
  extension in 2026-07-28).
- `inputSchema`: an object with `type: "object"` in every revision. Its `properties` must be
  an object and `required` an array of strings up to 2025-11-25 (the R5 schema leaves both to
  JSON Schema itself). Property sub-schemas are not checked here: boolean sub-schemas are legal
  JSON Schema, and whether the schema is valid in its dialect is checks/listing.py's job (T3/T4).
- `outputSchema`: R3/R4 require `type: "object"`; R5 accepts any schema object.
- `structuredContent`: an object in R3/R4; any JSON value in R5.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import McpModel
from .common import Icon, MetaObject
from .content import ContentBlock
from .results import Cacheable, PaginatedResult, Result
from .revisions import R2, R3, R4, R5, only, since, until
from .scalars import UNSET, StrictBool, StrictStr
from .violations import describe_value


class InputSchema(McpModel):
    present_in = {"$schema": since(R4), "properties": until(R4), "required": until(R4)}

    type: Literal["object"]
    schema_: StrictStr = Field(UNSET, alias="$schema")
    properties: dict[str, Any] = UNSET
    required: list[StrictStr] = UNSET


class OutputSchema(McpModel):
    present_in = {"$schema": since(R4), "type": until(R4), "properties": until(R4), "required": until(R4)}
    required_in = {"type": until(R4)}

    type: Literal["object"] = UNSET
    schema_: StrictStr = Field(UNSET, alias="$schema")
    properties: dict[str, Any] = UNSET
    required: list[StrictStr] = UNSET


class ToolAnnotations(McpModel):
    """Hints (T13). Only their types are checked here; contradictions are checks/listing.py's."""

    title: StrictStr = UNSET
    readOnlyHint: StrictBool = UNSET
    destructiveHint: StrictBool = UNSET
    idempotentHint: StrictBool = UNSET
    openWorldHint: StrictBool = UNSET


class ToolExecution(McpModel):
    taskSupport: Literal["forbidden", "optional", "required"] = UNSET


class Tool(McpModel):
    present_in = {
        "annotations": since(R2),
        "title": since(R3),
        "outputSchema": since(R3),
        "_meta": since(R3),
        "icons": since(R4),
        "execution": only(R4),
    }

    name: StrictStr
    inputSchema: InputSchema
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    outputSchema: OutputSchema = UNSET
    annotations: ToolAnnotations = UNSET
    icons: list[Icon] = UNSET
    execution: ToolExecution = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ListToolsResult(PaginatedResult, Cacheable):
    tools: list[Tool]


class CallToolResult(Result):
    present_in = {"structuredContent": since(R3)}

    content: list[ContentBlock]
    structuredContent: Any = UNSET
    isError: StrictBool = UNSET

    @classmethod
    def revision_checks(cls, data, revision):
        value = data.get("structuredContent", {})
        if revision < R5 and not isinstance(value, dict):
            yield (
                ("structuredContent",),
                "structured_content_type",
                f"must be an object in {revision} (any JSON value only from {R5}), got {describe_value(value)}",
            )

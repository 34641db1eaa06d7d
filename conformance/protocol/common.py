"""Shared building blocks: `_meta`, icons, implementation info, annotations, capabilities."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import McpModel
from .meta import key_problem
from .revisions import META_SERVER_INFO, META_SUBSCRIPTION_ID, R2, R3, R4, R5, only, since
from .scalars import UNSET, RequestId, Role, StrictBool, StrictStr, UnitInterval

#: A `_meta` object. Key syntax (J13) is checked separately by `meta.meta_key_violations`, so
#: that a naming slip is reported at its own (low) severity and not as a schema failure.
MetaObject = dict[str, Any]
#: A JSON object whose contents the spec leaves open (capability settings, metadata, ...).
#: R5's schema types these as JSONObject, whose JSONValue omits floats and null: a generator
#: quirk of schema.json, so it is deliberately not enforced.
JsonObject = dict[str, Any]


class Icon(McpModel):
    """R4+: `icons` on Implementation, Tool, Resource, ResourceTemplate, Prompt, ResourceLink."""

    src: StrictStr
    mimeType: StrictStr = UNSET
    sizes: list[StrictStr] = UNSET
    theme: Literal["light", "dark"] = UNSET


class Implementation(McpModel):
    """serverInfo (initialize), `_meta` io.modelcontextprotocol/serverInfo (R5)."""

    present_in = {"title": since(R3), "description": since(R4), "icons": since(R4), "websiteUrl": since(R4)}

    name: StrictStr
    version: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    icons: list[Icon] = UNSET
    #: `format: uri` in the schema; not checked (servers use many URI schemes; see README).
    websiteUrl: StrictStr = UNSET


class Annotations(McpModel):
    """Annotations on content blocks and resources (audience, priority, lastModified)."""

    present_in = {"lastModified": since(R3)}

    audience: list[Role] = UNSET
    priority: UnitInterval = UNSET
    lastModified: StrictStr = UNSET


class ResultMeta(McpModel):
    """`_meta` of a result. R5 types the serverInfo key; it is a SHOULD (J16), so its absence is
    an advisory, but a present value must be a valid Implementation."""

    present_in = {META_SERVER_INFO: since(R5)}

    serverInfo: Implementation = Field(UNSET, alias=META_SERVER_INFO)


class NotificationMeta(McpModel):
    present_in = {META_SUBSCRIPTION_ID: since(R5)}

    subscriptionId: RequestId = Field(UNSET, alias=META_SUBSCRIPTION_ID)


class RequestMeta(McpModel):
    """`_meta` of a request the server sends (R1-R4) or nests in inputRequests (R5)."""

    progressToken: RequestId = UNSET


# --------------------------------------------------------------------------- capabilities


class ListChangedCapability(McpModel):
    listChanged: StrictBool = UNSET


class ResourcesCapability(McpModel):
    subscribe: StrictBool = UNSET
    listChanged: StrictBool = UNSET


class TasksRequestsTools(McpModel):
    call: JsonObject = UNSET


class TasksRequests(McpModel):
    tools: TasksRequestsTools = UNSET


class TasksCapability(McpModel):
    """R4 only (experimental core tasks; an extension from R5 on)."""

    list_: JsonObject = Field(UNSET, alias="list")
    cancel: JsonObject = UNSET
    requests: TasksRequests = UNSET


def _extension_key_problems(data: dict[str, Any]):
    extensions = data.get("extensions")
    if not isinstance(extensions, dict):
        return
    for key in extensions:
        reason = key_problem(key, require_prefix=True) if isinstance(key, str) else "is not a string"
        if reason:
            yield ("extensions", key), "extension_id", f"is not a valid extension id: it {reason}"


class ServerCapabilities(McpModel):
    present_in = {"completions": since(R2), "tasks": only(R4), "extensions": since(R5)}

    experimental: dict[str, JsonObject] = UNSET
    logging: JsonObject = UNSET
    completions: JsonObject = UNSET
    prompts: ListChangedCapability = UNSET
    resources: ResourcesCapability = UNSET
    tools: ListChangedCapability = UNSET
    tasks: TasksCapability = UNSET
    extensions: dict[str, JsonObject] = UNSET

    @classmethod
    def revision_checks(cls, data, revision):
        if revision in since(R5):
            yield from _extension_key_problems(data)


class ClientCapabilities(McpModel):
    """Only as data of -32021 (`requiredCapabilities`): every field is an open object."""

    experimental: dict[str, JsonObject] = UNSET
    roots: JsonObject = UNSET
    sampling: JsonObject = UNSET
    elicitation: JsonObject = UNSET
    extensions: dict[str, JsonObject] = UNSET


__all__ = [
    "Annotations",
    "ClientCapabilities",
    "Icon",
    "Implementation",
    "JsonObject",
    "MetaObject",
    "NotificationMeta",
    "RequestMeta",
    "ResultMeta",
    "ServerCapabilities",
]

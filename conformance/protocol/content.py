"""Content blocks (tool results, prompt messages, sampling) and resource contents.

Content blocks are discriminated on `type` (T15): text, image, audio, resource_link, resource.
`audio` appeared in 2025-03-26 and `resource_link` in 2025-06-18; both are accepted in every
revision (lenient: respecting the negotiated version was only a SHOULD before 2025-06-18, and
SDKs emit the same blocks whatever was negotiated). Any other `type` is a violation.
Image/audio `data` and resource `blob` must be base64; `mimeType` is required on image/audio.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

from .base import McpModel
from .common import Annotations, Icon, MetaObject
from .revisions import R3, R4, since
from .scalars import UNSET, Base64, JsonInt, StrictBool, StrictStr
from .violations import TAG

_META_R3 = {"_meta": since(R3)}


class TextResourceContents(McpModel):
    present_in = _META_R3

    uri: StrictStr
    text: StrictStr
    mimeType: StrictStr = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class BlobResourceContents(McpModel):
    present_in = _META_R3

    uri: StrictStr
    blob: Base64
    mimeType: StrictStr = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


def _contents_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    if "text" in value:
        return TAG + "text"
    if "blob" in value:
        return TAG + "blob"
    return None


#: `{uri, text}` or `{uri, blob}` (RS3). An object with both is validated as text.
ResourceContents = Annotated[
    Union[Annotated[TextResourceContents, Tag(TAG + "text")], Annotated[BlobResourceContents, Tag(TAG + "blob")]],
    Discriminator(
        _contents_tag,
        custom_error_type="resource_contents",
        custom_error_message="must be an object with a string 'uri' and either 'text' or base64 'blob'",
    ),
]


class TextContent(McpModel):
    present_in = _META_R3

    type: Literal["text"]
    text: StrictStr
    annotations: Annotations = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ImageContent(McpModel):
    present_in = _META_R3

    type: Literal["image"]
    data: Base64
    mimeType: StrictStr
    annotations: Annotations = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class AudioContent(McpModel):
    present_in = _META_R3

    type: Literal["audio"]
    data: Base64
    mimeType: StrictStr
    annotations: Annotations = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ResourceLink(McpModel):
    """R3+ `resource_link` block: a Resource plus `type`."""

    present_in = {"icons": since(R4)}

    type: Literal["resource_link"]
    uri: StrictStr
    name: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    mimeType: StrictStr = UNSET
    size: JsonInt = UNSET
    annotations: Annotations = UNSET
    icons: list[Icon] = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class EmbeddedResource(McpModel):
    present_in = _META_R3

    type: Literal["resource"]
    resource: ResourceContents
    annotations: Annotations = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


CONTENT_TYPES = ("text", "image", "audio", "resource_link", "resource")


def _type_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else None
    return TAG + kind if isinstance(kind, str) else None


ContentBlock = Annotated[
    Union[
        Annotated[TextContent, Tag(TAG + "text")],
        Annotated[ImageContent, Tag(TAG + "image")],
        Annotated[AudioContent, Tag(TAG + "audio")],
        Annotated[ResourceLink, Tag(TAG + "resource_link")],
        Annotated[EmbeddedResource, Tag(TAG + "resource")],
    ],
    Discriminator(
        _type_tag,
        custom_error_type="content_block_type",
        custom_error_message="must be a content block: an object whose 'type' is one of " + ", ".join(CONTENT_TYPES),
    ),
]


# --------------------------------------------------------------------------- sampling (R4+ tools)


class ToolUseContent(McpModel):
    type: Literal["tool_use"]
    id: StrictStr
    name: StrictStr
    input: dict[str, Any]
    meta: MetaObject = Field(UNSET, alias="_meta")


class ToolResultContent(McpModel):
    type: Literal["tool_result"]
    toolUseId: StrictStr
    content: list[ContentBlock]
    structuredContent: Any = UNSET
    isError: StrictBool = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


SAMPLING_CONTENT_TYPES = ("text", "image", "audio", "tool_use", "tool_result")

SamplingContentBlock = Annotated[
    Union[
        Annotated[TextContent, Tag(TAG + "text")],
        Annotated[ImageContent, Tag(TAG + "image")],
        Annotated[AudioContent, Tag(TAG + "audio")],
        Annotated[ToolUseContent, Tag(TAG + "tool_use")],
        Annotated[ToolResultContent, Tag(TAG + "tool_result")],
    ],
    Discriminator(
        _type_tag,
        custom_error_type="content_block_type",
        custom_error_message="must be a sampling content block: an object whose 'type' is one of "
        + ", ".join(SAMPLING_CONTENT_TYPES),
    ),
]


def _one_or_many(value: Any) -> str:
    return TAG + ("many" if isinstance(value, list) else "one")


#: SamplingMessage.content: one block, or (R4+) an array of blocks. Accepted in every revision.
SamplingContent = Annotated[
    Union[Annotated[SamplingContentBlock, Tag(TAG + "one")], Annotated[list[SamplingContentBlock], Tag(TAG + "many")]],
    Discriminator(_one_or_many),
]


__all__ = [
    "AudioContent",
    "BlobResourceContents",
    "CONTENT_TYPES",
    "ContentBlock",
    "EmbeddedResource",
    "ImageContent",
    "ResourceContents",
    "ResourceLink",
    "SamplingContent",
    "TextContent",
    "TextResourceContents",
    "ToolResultContent",
    "ToolUseContent",
]

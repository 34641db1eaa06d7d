"""Resources: resources/list, resources/templates/list, resources/read (RS2, RS3, CA1).

resources/read in 2026-07-28: the schema's `ReadResourceResult` requires `ttlMs`/`cacheScope`,
yet the spec's own example `ReadResourceResultResponse/read-resource-result-response.json`
omits them (it validates only through the loose `InputRequiredResult` branch of the response
union). Until the spec settles this, a complete read result without them is reported as an
advisory (`validate.result_advisories`), not as a validation failure; present values are still
type-checked. Flip `READ_CACHE_FIELDS_REQUIRED` to make them a failure.
"""

from __future__ import annotations

from pydantic import Field

from .base import McpModel
from .common import Annotations, Icon, MetaObject
from .content import ResourceContents
from .results import Cacheable, CacheFields, PaginatedResult, Result
from .revisions import R2, R3, R4, R5, since
from .scalars import UNSET, JsonInt, StrictStr

READ_CACHE_FIELDS_REQUIRED = False


class Resource(McpModel):
    present_in = {"size": since(R2), "title": since(R3), "_meta": since(R3), "icons": since(R4)}

    uri: StrictStr
    name: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    mimeType: StrictStr = UNSET
    size: JsonInt = UNSET
    annotations: Annotations = UNSET
    icons: list[Icon] = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ResourceTemplate(McpModel):
    present_in = {"title": since(R3), "_meta": since(R3), "icons": since(R4)}

    #: RFC 6570 template (`format: uri-template`); only its type is checked.
    uriTemplate: StrictStr
    name: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    mimeType: StrictStr = UNSET
    annotations: Annotations = UNSET
    icons: list[Icon] = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ListResourcesResult(PaginatedResult, Cacheable):
    resources: list[Resource]


class ListResourceTemplatesResult(PaginatedResult, Cacheable):
    resourceTemplates: list[ResourceTemplate]


class ReadResourceResult(Result, CacheFields):
    required_in = {"ttlMs": since(R5), "cacheScope": since(R5)} if READ_CACHE_FIELDS_REQUIRED else {}

    contents: list[ResourceContents]

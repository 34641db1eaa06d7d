"""Prompts: prompts/list and prompts/get (P1, P3)."""

from __future__ import annotations

from pydantic import Field

from .base import McpModel
from .common import Icon, MetaObject
from .content import ContentBlock
from .results import Cacheable, PaginatedResult, Result
from .revisions import R3, R4, since
from .scalars import UNSET, Role, StrictBool, StrictStr


class PromptArgument(McpModel):
    present_in = {"title": since(R3)}

    name: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    required: StrictBool = UNSET


class Prompt(McpModel):
    present_in = {"title": since(R3), "_meta": since(R3), "icons": since(R4)}

    name: StrictStr
    title: StrictStr = UNSET
    description: StrictStr = UNSET
    arguments: list[PromptArgument] = UNSET
    icons: list[Icon] = UNSET
    meta: MetaObject = Field(UNSET, alias="_meta")


class ListPromptsResult(PaginatedResult, Cacheable):
    prompts: list[Prompt]


class PromptMessage(McpModel):
    role: Role
    content: ContentBlock


class GetPromptResult(Result):
    description: StrictStr = UNSET
    messages: list[PromptMessage]

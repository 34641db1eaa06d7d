"""Result bases and the lifecycle / utility results.

- `Result`: `_meta` (object; R5 types its serverInfo key) and, from 2026-07-28 on, a required
  string `resultType` (J14). Before R5 `resultType` is an unknown field, and the spec tells
  clients to read its absence as "complete".
- `CacheFields` / `Cacheable`: R5 `ttlMs` (integer >= 0) and `cacheScope` ("public" |
  "private"); `Cacheable` makes them required (CA1, T8) for server/discover and the four list
  results. resources/read uses `CacheFields` only: see resources.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import McpModel
from .common import Implementation, ResultMeta, ServerCapabilities
from .revisions import META_SUBSCRIPTION_ID, R5, since
from .scalars import UNSET, JsonInt, NonNegativeInt, RequestId, StrictBool, StrictStr


class Result(McpModel):
    present_in = {"resultType": since(R5)}
    required_in = {"resultType": since(R5)}

    meta: ResultMeta = Field(UNSET, alias="_meta")
    resultType: StrictStr = UNSET


EmptyResult = Result


class PaginatedResult(Result):
    nextCursor: StrictStr = UNSET


class CacheFields(McpModel):
    present_in = {"ttlMs": since(R5), "cacheScope": since(R5)}

    ttlMs: NonNegativeInt = UNSET
    cacheScope: Literal["public", "private"] = UNSET


class Cacheable(CacheFields):
    required_in = {"ttlMs": since(R5), "cacheScope": since(R5)}


class InitializeResult(Result):
    """initialize (R1-R4), L1."""

    protocolVersion: StrictStr
    capabilities: ServerCapabilities
    serverInfo: Implementation
    instructions: StrictStr = UNSET


class DiscoverResult(Result, Cacheable):
    """server/discover (R5), V2."""

    supportedVersions: list[StrictStr]
    capabilities: ServerCapabilities
    instructions: StrictStr = UNSET


class Completion(McpModel):
    #: maxItems 100 is only in the R5 schema.json, but every revision's prose caps it (C1).
    values: list[StrictStr] = Field(max_length=100)
    total: JsonInt = UNSET
    hasMore: StrictBool = UNSET


class CompleteResult(Result):
    completion: Completion


class ListenResultMeta(ResultMeta):
    subscriptionId: RequestId = Field(alias=META_SUBSCRIPTION_ID)


class SubscriptionsListenResult(Result):
    """subscriptions/listen (R5): the result that closes a listen stream carries its id."""

    meta: ListenResultMeta = Field(alias="_meta")


# --------------------------------------------------------------------------- tasks (R4 only)


class Task(McpModel):
    taskId: StrictStr
    status: Literal["working", "input_required", "completed", "failed", "cancelled"]
    statusMessage: StrictStr = UNSET
    createdAt: StrictStr
    lastUpdatedAt: StrictStr
    ttl: JsonInt | None
    pollInterval: JsonInt = UNSET


class CreateTaskResult(Result):
    """tools/call answered with a task (R4, task-augmented request)."""

    task: Task


class TaskResult(Result, Task):
    """tasks/get and tasks/cancel (R4): Result and Task in one object."""


class ListTasksResult(PaginatedResult):
    tasks: list[Task]

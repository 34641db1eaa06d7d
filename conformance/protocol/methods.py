"""Which method exists in which revision, and which model checks its result or params.

Only what a server produces is listed: results of client->server requests, params of
server->client notifications and requests. Methods not listed for a revision are unknown to
mcpcheck's verdict (validate_* return no violations for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .notifications import (
    CancelledParams,
    ElicitationCompleteParams,
    LoggingMessageParams,
    NotificationParams,
    ProgressParams,
    ResourceUpdatedParams,
    SubscriptionsAcknowledgedParams,
    TaskStatusParams,
)
from .prompts import GetPromptResult, ListPromptsResult
from .resources import ListResourcesResult, ListResourceTemplatesResult, ReadResourceResult
from .results import (
    CompleteResult,
    DiscoverResult,
    EmptyResult,
    InitializeResult,
    ListTasksResult,
    Result,
    SubscriptionsListenResult,
    TaskResult,
)
from .revisions import ALL, R3, R4, R5, between, only, since, until
from .server_requests import CreateMessageParams, ElicitParams, RequestParams
from .tools import CallToolResult, ListToolsResult

HANDSHAKE = until(R4)


@dataclass(frozen=True)
class MethodSpec:
    model: Any
    revisions: frozenset[str]
    rule: str
    #: for notifications / requests: whether `params` must be present
    params_required: bool = False


#: client->server request method -> model of the server's (complete) result
RESULTS: dict[str, MethodSpec] = {
    "initialize": MethodSpec(InitializeResult, HANDSHAKE, "L1"),
    "ping": MethodSpec(EmptyResult, HANDSHAKE, "L5"),
    "logging/setLevel": MethodSpec(EmptyResult, HANDSHAKE, "LG2"),
    "resources/subscribe": MethodSpec(EmptyResult, HANDSHAKE, "RS6"),
    "resources/unsubscribe": MethodSpec(EmptyResult, HANDSHAKE, "RS6"),
    "server/discover": MethodSpec(DiscoverResult, since(R5), "V2"),
    "subscriptions/listen": MethodSpec(SubscriptionsListenResult, since(R5), "SB3"),
    "tools/list": MethodSpec(ListToolsResult, ALL, "T2"),
    "tools/call": MethodSpec(CallToolResult, ALL, "T15"),
    "resources/list": MethodSpec(ListResourcesResult, ALL, "RS2"),
    "resources/templates/list": MethodSpec(ListResourceTemplatesResult, ALL, "RS2"),
    "resources/read": MethodSpec(ReadResourceResult, ALL, "RS3"),
    "prompts/list": MethodSpec(ListPromptsResult, ALL, "P1"),
    "prompts/get": MethodSpec(GetPromptResult, ALL, "P1"),
    "completion/complete": MethodSpec(CompleteResult, ALL, "C1"),
    # 2025-11-25 experimental tasks (core). tasks/result returns the underlying result.
    "tasks/get": MethodSpec(TaskResult, only(R4), "TK1"),
    "tasks/cancel": MethodSpec(TaskResult, only(R4), "TK1"),
    "tasks/list": MethodSpec(ListTasksResult, only(R4), "TK1"),
    "tasks/result": MethodSpec(Result, only(R4), "TK1"),
}

#: R5: the methods whose result may be `resultType: "input_required"` (M3).
INPUT_REQUIRED_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})
#: R5 result methods whose complete result must carry ttlMs/cacheScope (CA1); resources/read
#: is treated as advisory (see resources.py).
CACHEABLE_METHODS = frozenset(
    {"server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"}
)

#: server->client notifications -> params model
NOTIFICATIONS: dict[str, MethodSpec] = {
    "notifications/message": MethodSpec(LoggingMessageParams, ALL, "LG1", True),
    "notifications/progress": MethodSpec(ProgressParams, ALL, "PR1", True),
    "notifications/cancelled": MethodSpec(CancelledParams, ALL, "CN1", True),
    "notifications/resources/updated": MethodSpec(ResourceUpdatedParams, ALL, "RS6", True),
    "notifications/resources/list_changed": MethodSpec(NotificationParams, ALL, "RS6"),
    "notifications/tools/list_changed": MethodSpec(NotificationParams, ALL, "T14"),
    "notifications/prompts/list_changed": MethodSpec(NotificationParams, ALL, "P1"),
    "notifications/elicitation/complete": MethodSpec(ElicitationCompleteParams, only(R4), "M2", True),
    "notifications/tasks/status": MethodSpec(TaskStatusParams, only(R4), "TK1", True),
    "notifications/subscriptions/acknowledged": MethodSpec(SubscriptionsAcknowledgedParams, since(R5), "SB1", True),
}

#: server->client requests (R1-R4 only; M1) -> params model
SERVER_REQUESTS: dict[str, MethodSpec] = {
    "ping": MethodSpec(RequestParams, HANDSHAKE, "L5"),
    "sampling/createMessage": MethodSpec(CreateMessageParams, HANDSHAKE, "M1", True),
    "roots/list": MethodSpec(RequestParams, HANDSHAKE, "M1"),
    "elicitation/create": MethodSpec(ElicitParams, between(R3, R4), "M1", True),
}


def result_spec(method: str, revision: str) -> MethodSpec | None:
    spec = RESULTS.get(method)
    return spec if spec is not None and revision in spec.revisions else None


def notification_spec(method: str, revision: str) -> MethodSpec | None:
    spec = NOTIFICATIONS.get(method)
    return spec if spec is not None and revision in spec.revisions else None


def server_request_spec(method: str, revision: str) -> MethodSpec | None:
    spec = SERVER_REQUESTS.get(method)
    return spec if spec is not None and revision in spec.revisions else None

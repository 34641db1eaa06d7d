"""Params of the notifications a server may send.

notifications/message (LG1), progress (PR1), cancelled (CN1/CN3), resources/updated (RS6),
resources|tools|prompts/list_changed, and per revision: elicitation/complete and tasks/status
(2025-11-25 only), subscriptions/acknowledged (2026-07-28, SB1). In R5 every notification's
`_meta` may carry `io.modelcontextprotocol/subscriptionId` (a request id, SB2).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import McpModel
from .common import NotificationMeta
from .results import Task
from .revisions import R1, R2, R3, R5, between, since
from .scalars import UNSET, JsonNumber, LoggingLevel, RequestId, StrictBool, StrictStr


class NotificationParams(McpModel):
    meta: NotificationMeta = Field(UNSET, alias="_meta")


class LoggingMessageParams(NotificationParams):
    level: LoggingLevel
    #: Any JSON value, null included, but the key is required.
    data: Any
    logger: StrictStr = UNSET


class ProgressParams(NotificationParams):
    present_in = {"message": since(R2)}

    progressToken: RequestId
    #: Numbers, floats allowed (PR1). Monotonicity is a sequence check, not a shape check.
    progress: JsonNumber
    total: JsonNumber = UNSET
    message: StrictStr = UNSET


class CancelledParams(NotificationParams):
    """`requestId` is required except in 2025-11-25 (where task cancellation made it optional)."""

    required_in = {"requestId": between(R1, R3) | since(R5)}

    requestId: RequestId = UNSET
    reason: StrictStr = UNSET


class ResourceUpdatedParams(NotificationParams):
    uri: StrictStr


class ElicitationCompleteParams(NotificationParams):
    elicitationId: StrictStr


class TaskStatusParams(NotificationParams, Task):
    pass


class SubscriptionFilter(McpModel):
    toolsListChanged: StrictBool = UNSET
    promptsListChanged: StrictBool = UNSET
    resourcesListChanged: StrictBool = UNSET
    resourceSubscriptions: list[StrictStr] = UNSET


class SubscriptionsAcknowledgedParams(NotificationParams):
    notifications: SubscriptionFilter

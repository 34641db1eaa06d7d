"""What the server sends on its own, judged over a session's recording (spec-digest J3, PR1/PR2,
CN3, M4/V3/V5/TK2).

Pure checks over recorded data, judged on every session of every campaign:
- jsonrpc.server_request_ids   the server never reuses one of its request ids in a session (J3)
- progress.notifications       progress only for a token mcpcheck sent, strictly increasing, and
                               (stdio, one ordered pipe) never after the request's response (PR1/PR2)
- cancellation.server_sent     2026-07-28: a server's notifications/cancelled only ends a
                               subscriptions/listen stream (CN3)
- capabilities.per_request     2026-07-28: inputRequests only for capabilities the same request
                               declared; a task result only when the request declared the tasks
                               extension (M4, V3, V5, TK2)
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..findings import Violation
from ..registry import ExchangeContext, LogContext, SessionLog, Skip, check
from ..session import META_CAPS, Exchange, id_key
from ..wirelog import WireEntry

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
#: inputRequests method -> the client capability it needs
INPUT_CAPABILITY = {"sampling/createMessage": "sampling", "elicitation/create": "elicitation", "roots/list": "roots"}


def _params(msg: Any) -> dict[str, Any]:
    p = msg.get("params") if isinstance(msg, dict) else None
    return p if isinstance(p, dict) else {}


# --------------------------------------------------------------------------- J3


@check(
    "jsonrpc.server_request_ids",
    category="protocol.jsonrpc_shape",
    severity="medium",
    title="The server never reuses a request id within a session",
    scope="log",
    rule="J3",
    level="MUST",
    revisions="..2025-11-25",
)
def server_request_ids(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    if not log.server_requests:
        raise Skip("the server sent no requests")
    return check_server_request_ids(log.server_requests)


def check_server_request_ids(requests: Iterable[WireEntry]) -> Iterator[Violation]:
    seen: dict[str, WireEntry] = {}
    for e in requests:
        rid = e.parsed.get("id") if isinstance(e.parsed, dict) else None
        key = id_key(rid)
        if key in seen:
            yield Violation(f"the server sent two requests with id {rid!r} in one session", [seen[key], e], key=key)
        else:
            seen[key] = e


# --------------------------------------------------------------------------- PR1 / PR2


@check(
    "progress.notifications",
    category="protocol.lifecycle",
    severity="medium",
    title="Progress only for tokens the client sent, strictly increasing, never after the response",
    scope="log",
    rule="PR1/PR2",
    level="MUST",
    description="Order after the response is judged on stdio only (one ordered pipe); over HTTP a "
    "notification may travel on another stream than the response.",
)
def progress_notifications(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    notes = [e for e in log.notifications if isinstance(e.parsed, dict) and e.parsed.get("method") == "notifications/progress"]
    if not notes:
        raise Skip("the server sent no progress notifications")
    return check_progress(notes, log.exchanges, ordered=ctx.transport == "stdio")


def check_progress(notes: list[WireEntry], exchanges: Iterable[Exchange], *, ordered: bool) -> Iterator[Violation]:
    by_token: dict[str, Exchange] = {}
    for ex in exchanges:
        token = (_params(ex.request).get("_meta") or {}).get("progressToken") if isinstance(_params(ex.request).get("_meta"), dict) else None
        if token is not None:
            by_token[id_key(token)] = ex
    last: dict[str, tuple[float, WireEntry]] = {}
    for e in notes:
        params = _params(e.parsed)
        token = params.get("progressToken")
        key = id_key(token)
        ex = by_token.get(key)
        if ex is None:
            yield Violation(f"notifications/progress for token {token!r}, which no request of this session carried", [e], key=f"unknown/{key}")
            continue
        progress = params.get("progress")
        if isinstance(progress, (int, float)) and not isinstance(progress, bool):
            prev = last.get(key)
            if prev is not None and progress <= prev[0]:
                yield Violation(
                    f"{ex.method} progress went from {prev[0]!r} to {progress!r} (token {token!r}); it must strictly increase",
                    [*(x for x in [ex.request_entry] if x is not None), prev[1], e],
                    key=f"order/{ex.method}",
                )
            last[key] = (float(progress), e)
        done = ex.response_entry
        if ordered and done is not None and ex.response is not None and e.seq > done.seq:
            yield Violation(
                f"notifications/progress for {ex.method} (token {token!r}) arrived after the request's response",
                [*ex.evidence(), e],
                key=f"late/{ex.method}",
            )


# --------------------------------------------------------------------------- CN3


@check(
    "cancellation.server_sent",
    category="protocol.cancellation",
    severity="medium",
    title="2026-07-28: the server sends notifications/cancelled only to end a listen stream",
    scope="log",
    rule="CN3",
    level="MUST",
    revisions="2026-07-28",
)
def server_cancelled(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    if not ctx.stateless:
        raise Skip("2026-07-28 rule (a handshake-era server may cancel its own requests)")
    cancels = [e for e in log.notifications if isinstance(e.parsed, dict) and e.parsed.get("method") == "notifications/cancelled"]
    if not cancels:
        raise Skip("the server sent no notifications/cancelled")
    return check_server_cancelled(cancels, log.exchanges)


def check_server_cancelled(cancels: Iterable[WireEntry], exchanges: Iterable[Exchange]) -> Iterator[Violation]:
    listens = {id_key(ex.request.get("id")) for ex in exchanges if ex.method == "subscriptions/listen" and isinstance(ex.request, dict)}
    sent = {id_key(ex.request.get("id")): ex for ex in exchanges if isinstance(ex.request, dict) and "id" in ex.request}
    for e in cancels:
        rid = _params(e.parsed).get("requestId")
        if id_key(rid) in listens:
            continue
        ex = sent.get(id_key(rid))
        what = f"the client's {ex.method} request" if ex is not None else "no subscriptions/listen request"
        yield Violation(f"the server sent notifications/cancelled for id {rid!r} ({what}); 2026-07-28 servers cancel only listen streams", [*(ex.evidence() if ex else []), e], key="cancel")


# --------------------------------------------------------------------------- M4 / V3 / V5 / TK2


@check(
    "capabilities.per_request",
    category="protocol.capabilities",
    severity="high",
    title="2026-07-28: input requests and task results only for what the same request declared",
    scope="exchange",
    rule="M4/V3/V5/TK2",
    level="MUST",
    revisions="2026-07-28",
    description="inputRequests may ask only for sampling/elicitation/roots the request's own "
    "clientCapabilities declared (else -32021); resultType \"task\" only when the request declared "
    "the io.modelcontextprotocol/tasks extension. mcpcheck declares neither.",
)
def per_request_capabilities(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if not ctx.stateless or ctx.deliberate:
        raise Skip("2026-07-28 rule, judged on ordinary requests")
    if not ex.ok or not isinstance(ex.result, dict):
        raise Skip("judged on results")
    return check_per_request(ex)


def check_per_request(ex: Exchange) -> Iterator[Violation]:
    meta = _params(ex.request).get("_meta")
    caps = meta.get(META_CAPS) if isinstance(meta, dict) else None
    caps = caps if isinstance(caps, dict) else {}
    kind = ex.result.get("resultType")
    if kind == "input_required" and isinstance(ex.result.get("inputRequests"), dict):
        for name, req in ex.result["inputRequests"].items():
            method = req.get("method") if isinstance(req, dict) else None
            need = INPUT_CAPABILITY.get(str(method))
            if need and need not in caps:
                yield Violation(
                    f"{ex.method} answered input_required asking for {method} (inputRequests[{name!r}]) although the request declared no '{need}' capability (expected -32021 or a plain result)",
                    ex.evidence(),
                    path=f"/result/inputRequests/{name}",
                    key=f"input/{need}",
                )
    if kind == "task":
        extensions = caps.get("extensions")
        if not (isinstance(extensions, dict) and TASKS_EXTENSION in extensions):
            yield Violation(
                f"{ex.method} answered resultType \"task\" although the request did not declare the {TASKS_EXTENSION} extension",
                ex.evidence(),
                path="/result/resultType",
                key="task",
            )


# --------------------------------------------------------------------------- T16


@check(
    "tools.task_required",
    category="protocol.error_codes",
    severity="medium",
    title="2025-11-25: a tool with execution.taskSupport \"required\" refuses a call without a task (-32601)",
    scope="tool_call",
    rule="T16",
    level="MUST",
    revisions="2025-11-25",
    campaign="fuzz",
    description="mcpcheck never sends a task-augmented call, so every call of such a tool must be refused with -32601.",
)
def task_required(ctx: Any, call: Any) -> Iterator[Violation]:
    execution = call.tool.get("execution") if isinstance(call.tool, dict) else None
    if ctx.revision != "2025-11-25" or not (isinstance(execution, dict) and execution.get("taskSupport") == "required"):
        raise Skip("judged on 2025-11-25 tools whose execution.taskSupport is \"required\"")
    if isinstance(_params(call.exchange.request).get("task"), dict):
        raise Skip("a task-augmented call")
    if call.kind != "valid":
        raise Skip("judged on calls with schema-valid arguments (an invalid one may be refused for its arguments first)")
    return check_task_required(call.exchange, call.name)


def check_task_required(ex: Exchange, tool: str) -> Iterator[Violation]:
    if ex.ok and isinstance(ex.result, dict) and ex.result.get("isError") is True:
        # refused, but inside a tool result (the TypeScript SDK's McpServer wraps its own -32601
        # this way): the tool did not run, but the wire breaks T16's MUST (a client cannot tell
        # "needs a task" from a tool failure), so the MUST's lowest severity, medium, not low
        yield Violation(f"tool {tool!r} (taskSupport \"required\") refused a call without a task inside an isError result; expected a -32601 JSON-RPC error", ex.evidence(), tool=tool, key="wrapped")
    elif ex.ok:
        yield Violation(f"tool {tool!r} declares execution.taskSupport \"required\" but served a call without a task; expected -32601", ex.evidence(), tool=tool, key="served")
    elif ex.answered and ex.error_code != -32601:
        yield Violation(f"tool {tool!r} (taskSupport \"required\") refused a call without a task with {ex.error_code!r}; expected -32601", ex.evidence(), tool=tool, key="code")

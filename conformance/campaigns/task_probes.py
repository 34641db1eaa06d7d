"""2025-11-25 experimental tasks, walked end to end (spec-digest TK1).

Session check of campaign "conformance" (the runner imports this module after
campaigns/tool_probes.py; registration order is run order):

- tasks.lifecycle   on a 2025-11-25 server declaring tasks.requests.tools.call, one tool whose
                    execution.taskSupport is "optional" or "required" and that mcpcheck may call
                    (safety.may_call; read-only first) is called once as a task with its simplest
                    valid arguments. The answer must be a CreateTaskResult; the task is polled
                    with tasks/get (bounded, at the server's pollInterval) and every status must
                    follow the legal paths (working -> input_required / terminal, input_required
                    -> working / terminal, terminal is final); a completed task's tasks/result
                    must be the tool's result (not a task), carrying _meta related-task, and the
                    status must stay terminal on one more tasks/get; unknown
                    taskIds (tasks/get, tasks/result) and cancelling a terminal task answer -32602;
                    tasks/list (when declared) lists the task. A task still running at the end of
                    the wait, or asking for input mcpcheck cannot give, is cancelled (tasks/cancel,
                    when declared) and must then be "cancelled".

The judgement is the pure function `check_task_walk` over the recorded exchanges.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

from mcpcheck import strategies
from ..findings import Violation
from ..registry import SessionContext, Skip, check
from ..safety import is_read_only, may_call
from ..session import Exchange
from .conformance import listing_of

R4 = "2025-11-25"
TASK_WAIT = 15.0  # seconds a task may take to reach a terminal status while mcpcheck polls
POLL_MIN, POLL_MAX = 0.2, 2.0  # seconds between polls (the server's pollInterval, clamped)
TASK_TTL = 60000  # ms asked for
TERMINAL = ("completed", "failed", "cancelled")
STATUSES = ("working", "input_required", *TERMINAL)
LEGAL = {"working": {"working", "input_required", *TERMINAL}, "input_required": {"input_required", "working", *TERMINAL}}
RELATED = "io.modelcontextprotocol/related-task"


@dataclass
class TaskWalk:
    """What one task's walk recorded (every exchange keeps its wire evidence)."""

    tool: str
    create: Exchange
    task_id: str | None = None
    polls: list[Exchange] = field(default_factory=list)  # tasks/get, in order
    poll_ages: list[float] = field(default_factory=list)  # seconds since the task was created, per poll
    ttl_ms: Any = None  # the ttl the server gave the task (it may delete the task after it)
    result: Exchange | None = None  # tasks/result of a terminal task
    cancel: Exchange | None = None  # tasks/cancel of a task still running at the end of the wait
    unknown_get: Exchange | None = None
    unknown_result: Exchange | None = None
    cancel_terminal: Exchange | None = None
    listed: Exchange | None = None  # tasks/list
    waited: float = 0.0


def _task_tools(tools: list[dict[str, Any]], safety: Any) -> list[dict[str, Any]]:
    """Tools that accept a task and that mcpcheck may call, read-only first."""
    out = []
    for t in tools:
        execution = t.get("execution") if isinstance(t, dict) else None
        if isinstance(execution, dict) and execution.get("taskSupport") in ("optional", "required") and may_call(t, safety) is None:
            out.append(t)
    return sorted(out, key=lambda t: not is_read_only(t))


def _simplest(tool: dict[str, Any], revision: str | None) -> Any:
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
    return strategies.simplest(strategies.plan_valid(schema, revision=revision).strategy)


def _task_of(ex: Exchange) -> dict[str, Any] | None:
    return ex.result if ex.ok and isinstance(ex.result, dict) else None


@check(
    "tasks.lifecycle",
    category="protocol.lifecycle",
    severity="medium",
    title="2025-11-25 tasks: a task-augmented call creates a task whose states, result and errors follow the spec",
    scope="session",
    rule="TK1",
    level="MUST",
    revisions="2025-11-25",
    description="One task-capable tool mcpcheck may call is called once as a task (simplest valid arguments). "
    "CreateTaskResult with a string taskId; tasks/get statuses on legal paths (terminal is final); a completed "
    "task's tasks/result is the tool's result with _meta related-task; -32602 for unknown taskIds and for "
    "cancelling a terminal task; tasks/list lists the task; a task cancelled at the end of the wait is "
    f"\"cancelled\". Polls for at most {TASK_WAIT:g} s. Whether the first status is \"working\" is not judged (a "
    "fast task may be done when its CreateTaskResult is written).",
)
async def task_lifecycle(ctx: SessionContext) -> Iterator[Violation]:
    if ctx.stateless or ctx.revision != R4:
        raise Skip(f"experimental tasks are a 2025-11-25 feature (this era is {ctx.revision})")
    tasks = ctx.capabilities.get("tasks")
    requests = tasks.get("requests") if isinstance(tasks, dict) else None
    tools_caps = requests.get("tools") if isinstance(requests, dict) else None
    if not (isinstance(tools_caps, dict) and isinstance(tools_caps.get("call"), dict)):
        raise Skip("the server does not declare tasks.requests.tools.call")
    if "tools" not in ctx.capabilities:
        raise Skip("the server does not advertise tools")
    listing = await listing_of(ctx)
    candidates = _task_tools(listing.tools, ctx.config.safety)
    if not candidates:
        capable = [t.get("name") for t in listing.tools if isinstance(t, dict) and isinstance(t.get("execution"), dict) and t["execution"].get("taskSupport") in ("optional", "required")]
        raise Skip("no tool with execution.taskSupport optional/required mcpcheck may call" + (f" ({', '.join(map(str, capable))} not callable under the safety policy)" if capable else ""))
    tool = candidates[0]
    args = await asyncio.to_thread(_simplest, tool, ctx.revision)
    walk = await walk_task(ctx, tool["name"], args, cancel_declared=isinstance(tasks.get("cancel"), dict), list_declared=isinstance(tasks.get("list"), dict))
    return check_task_walk(walk)


async def walk_task(ctx: SessionContext, name: str, args: Any, *, cancel_declared: bool, list_declared: bool) -> TaskWalk:
    s = ctx.session
    create = await s.request("tools/call", {"name": name, "arguments": args, "task": {"ttl": TASK_TTL}})
    walk = TaskWalk(tool=name, create=create)
    task = (_task_of(create) or {}).get("task")
    task_id = task.get("taskId") if isinstance(task, dict) else None
    if not isinstance(task_id, str):
        return walk
    walk.task_id = task_id
    status = task.get("status")
    interval = task.get("pollInterval")
    walk.ttl_ms = task.get("ttl")
    t0 = time.monotonic()

    async def poll() -> dict[str, Any] | None:
        get = await s.request("tasks/get", {"taskId": task_id})
        walk.polls.append(get)
        walk.poll_ages.append(time.monotonic() - t0)
        return _task_of(get)

    while status not in TERMINAL and status != "input_required" and time.monotonic() - t0 < TASK_WAIT:
        pause = interval / 1000 if isinstance(interval, (int, float)) and not isinstance(interval, bool) else 0.5
        await asyncio.sleep(min(max(pause, POLL_MIN), POLL_MAX, max(0.0, TASK_WAIT - (time.monotonic() - t0))))
        got = await poll()
        if got is None:
            break
        status, interval = got.get("status"), got.get("pollInterval", interval)
    walk.waited = time.monotonic() - t0
    if status in ("completed", "failed"):
        walk.result = await s.request("tasks/result", {"taskId": task_id})
        await poll()  # a terminal status is final: it must still be the same
        if cancel_declared:
            walk.cancel_terminal = await s.request("tasks/cancel", {"taskId": task_id})
    elif status in ("working", "input_required") and cancel_declared:
        walk.cancel = await s.request("tasks/cancel", {"taskId": task_id})  # leave nothing running
    if list_declared:
        walk.listed = await s.request("tasks/list", {})
    unknown = f"mcpcheck-no-such-task-{uuid.uuid4().hex[:12]}"
    walk.unknown_get = await s.request("tasks/get", {"taskId": unknown})
    walk.unknown_result = await s.request("tasks/result", {"taskId": unknown})
    return walk


def _evidence(*exchanges: Exchange | None) -> list[Any]:
    out = []
    for ex in exchanges:
        if ex is not None:
            out += ex.evidence()
    return out


def check_task_walk(w: TaskWalk) -> Iterator[Violation]:
    create = w.create
    if not create.ok:
        if create.answered and create.error_code in (-32600, -32601):
            yield Violation(
                f"tool {w.tool!r} declares execution.taskSupport and the server tasks.requests.tools.call, but a task-augmented call was refused with {create.error_code!r}",
                create.evidence(), tool=w.tool, key="create-refused")
            return
        raise Skip(f"the task-augmented call of {w.tool!r} was not answered with a result ({create.error or ('timed out' if create.timed_out else create.transport_error)}); nothing to walk")
    task = (_task_of(create) or {}).get("task")
    if not isinstance(task, dict):
        yield Violation(f"a task-augmented call of {w.tool!r} was answered without a CreateTaskResult (no result.task): a server accepting a task-augmented request must return one", create.evidence(), tool=w.tool, key="create")
        return
    if w.task_id is None:
        yield Violation(f"the CreateTaskResult for {w.tool!r} has taskId {task.get('taskId')!r}; task ids must be strings", create.evidence(), tool=w.tool, path="/result/task/taskId", key="task-id")
        return
    # statuses on legal paths
    seen: list[tuple[str, Exchange]] = [(str(task.get("status")), create)]
    for get, age in zip(w.polls, w.poll_ages):
        got = _task_of(get)
        if got is None:
            expired = isinstance(w.ttl_ms, (int, float)) and not isinstance(w.ttl_ms, bool) and age * 1000 >= w.ttl_ms
            if get.answered and not expired:
                yield Violation(f"tasks/get for task {w.task_id!r}, {age:.1f}s old (ttl {w.ttl_ms!r} ms), failed: {get.error}", _evidence(create, get), tool=w.tool, key="get")
            break
        if got.get("taskId") != w.task_id:
            yield Violation(f"tasks/get for {w.task_id!r} answered a task with taskId {got.get('taskId')!r}", _evidence(create, get), tool=w.tool, key="get-id")
        seen.append((str(got.get("status")), get))
    for status, ex in seen:
        if status not in STATUSES:
            yield Violation(f"task {w.task_id!r} reported status {status!r}, which is none of {', '.join(STATUSES)}", _evidence(create, ex), tool=w.tool, key=f"status/{status}")
            return
    for (a, ea), (b, eb) in zip(seen, seen[1:]):
        if b != a and b not in LEGAL.get(a, set()):
            yield Violation(f"task {w.task_id!r} went from {a!r} to {b!r}: " + ("a terminal status is final" if a in TERMINAL else "not a legal transition"), _evidence(ea, eb), tool=w.tool, key=f"transition/{a}->{b}")
            break
    final = seen[-1][0]
    # the result of a terminal task
    r = w.result
    if r is not None and r.answered:
        body = r.result if r.ok and isinstance(r.result, dict) else None
        if final == "completed" and not r.ok:
            yield Violation(f"tasks/result of completed task {w.task_id!r} answered error {r.error_code!r}; a completed task's result is the tool's result", _evidence(seen[-1][1], r), tool=w.tool, key="result-error")
        elif body is not None and ("task" in body or ("taskId" in body and "status" in body)) and "content" not in body:
            yield Violation(f"tasks/result of {w.task_id!r} returned task data, not the tool's result (a CallToolResult)", _evidence(seen[-1][1], r), tool=w.tool, key="result-shape")
        elif body is not None:
            meta = body.get("_meta")
            related = meta.get(RELATED) if isinstance(meta, dict) else None
            if not (isinstance(related, dict) and related.get("taskId") == w.task_id):
                yield Violation(f"tasks/result of {w.task_id!r} lacks _meta {RELATED} {{taskId: {w.task_id!r}}}, which its response must carry", r.evidence(), tool=w.tool, path="/result/_meta", key="related-task")
    # cancelling at the end of the wait, and cancelling a terminal task
    c = w.cancel
    if c is not None and c.ok:
        body = c.result if isinstance(c.result, dict) else {}
        if body.get("status") != "cancelled":
            yield Violation(f"tasks/cancel of running task {w.task_id!r} answered status {body.get('status')!r}; the task must be cancelled before the response is sent", c.evidence(), tool=w.tool, key="cancel")
    ct = w.cancel_terminal
    if ct is not None and ct.answered and ct.error_code != -32602:
        what = "succeeded" if ct.ok else f"answered {ct.error_code!r}"
        yield Violation(f"tasks/cancel of task {w.task_id!r}, already {final!r}, {what}; cancelling a terminal task must be refused with -32602", _evidence(seen[-1][1], ct), tool=w.tool, key="cancel-terminal")
    # tasks/list lists a task tasks/get retrieves (a single page only: a longer list may hold it further on)
    lst = w.listed
    if lst is not None and lst.ok and isinstance(lst.result, dict) and len(w.polls) > 0 and _task_of(w.polls[-1]) is not None:
        listed = lst.result.get("tasks")
        if isinstance(listed, list) and not lst.result.get("nextCursor"):
            if not any(isinstance(t, dict) and t.get("taskId") == w.task_id for t in listed):
                yield Violation(f"tasks/list does not list task {w.task_id!r}, which tasks/get retrieves", _evidence(w.polls[-1], lst), tool=w.tool, key="list")
    # unknown task ids
    for ex in (w.unknown_get, w.unknown_result):
        if ex is not None and ex.answered and ex.error_code != -32602:
            what = "succeeded" if ex.ok else f"answered {ex.error_code!r}"
            yield Violation(f"{ex.method} for a taskId that was never issued {what}; expected -32602", ex.evidence(), key=f"unknown/{ex.method}")

"""A hand-written 2025-11-25 server with experimental tasks (stdio, no SDK: the Python SDK has no
tasks support).

Usage: python tasks_server.py [DEFECT]        (no DEFECT, or "none": the correct twin)

Declares tasks {list, cancel, requests.tools.call}; one read-only tool `slow_echo {text}` with
execution.taskSupport "optional". A task-augmented call returns a CreateTaskResult (status
working); the task completes DURATION seconds later (its status is computed when asked);
tasks/result of a completed task is the CallToolResult with _meta related-task; unknown taskIds
and cancelling a terminal task are -32602. A plain call is answered directly.

Defects (name: what happens -> TK1):
  plain_result       a task-augmented call is answered with the plain CallToolResult
  numeric_task_id    the CreateTaskResult's taskId is a number
  terminal_moves     a completed task reports "working" again on the next tasks/get
  result_is_task     tasks/result returns the task data instead of the tool's result
  no_related_task    tasks/result lacks _meta io.modelcontextprotocol/related-task
  unknown_task_ok    tasks/get / tasks/result for an unknown taskId answer -32603
  cancel_terminal_ok tasks/cancel of a completed task succeeds (status cancelled)
  never_done         the task never leaves "working"; tasks/cancel answers status "working"
"""

from __future__ import annotations

import json
import sys
import time

DEFECT = sys.argv[1] if len(sys.argv) > 1 else "none"
DURATION = 0.6  # seconds a task runs
INFO = {"name": "tasks-server", "version": "1.0.0"}
TOOL = {
    "name": "slow_echo",
    "description": "Echo the text back after a short while.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    "annotations": {"readOnlyHint": True, "idempotentHint": True},
    "execution": {"taskSupport": "optional"},
}
TASKS: dict[str, dict] = {}  # taskId -> {created, text, cancelled, gets (tasks/get answered "completed")}
STAMP = "2026-01-01T00:00:00Z"


def send(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def error(mid, code: int, message: str) -> None:
    send({"jsonrpc": "2.0", "id": mid, "error": {"code": code, "message": message}})


def status_of(tid: str, get: bool = False) -> str:
    t = TASKS[tid]
    if t["cancelled"]:
        return "cancelled"
    if DEFECT == "never_done" or time.monotonic() - t["created"] < DURATION:
        return "working"
    if get:
        t["gets"] += 1
        if DEFECT == "terminal_moves" and t["gets"] == 2:
            return "working"  # the defect: a completed task is reported working again
    return "completed"


def task_data(tid: str, get: bool = False) -> dict:
    return {"taskId": tid, "status": status_of(tid, get), "createdAt": STAMP, "lastUpdatedAt": STAMP, "ttl": 60000, "pollInterval": 100}


def tool_result(text: str) -> dict:
    return {"content": [{"type": "text", "text": text}], "isError": False}


def answer(msg: dict) -> None:
    mid, method = msg["id"], msg.get("method")
    params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
    if method == "initialize":
        caps = {"tools": {}, "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}}
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": "2025-11-25", "capabilities": caps, "serverInfo": INFO}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": [TOOL]}})
    elif method == "tools/call":
        args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        if params.get("name") != "slow_echo":
            return error(mid, -32602, f"Unknown tool: {params.get('name')}")
        if not isinstance(args.get("text"), str):
            return send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": "text must be a string"}], "isError": True}})
        if not isinstance(params.get("task"), dict) or DEFECT == "plain_result":
            return send({"jsonrpc": "2.0", "id": mid, "result": tool_result(args["text"])})
        tid = f"task-{len(TASKS) + 1}"
        TASKS[tid] = {"created": time.monotonic(), "text": args["text"], "cancelled": False, "gets": 0}
        task = task_data(tid)
        if DEFECT == "numeric_task_id":
            task["taskId"] = len(TASKS)
        send({"jsonrpc": "2.0", "id": mid, "result": {"task": task}})
    elif method in ("tasks/get", "tasks/result", "tasks/cancel"):
        tid = params.get("taskId")
        if tid not in TASKS:
            return error(mid, -32603 if DEFECT == "unknown_task_ok" else -32602, f"Task not found: {tid}")
        if method == "tasks/get":
            return send({"jsonrpc": "2.0", "id": mid, "result": task_data(tid, get=True)})
        if method == "tasks/cancel":
            status = status_of(tid)
            if status in ("completed", "failed", "cancelled") and DEFECT != "cancel_terminal_ok":
                return error(mid, -32602, f"Cannot cancel task in terminal status: {status}")
            if DEFECT != "never_done":
                TASKS[tid]["cancelled"] = True
            return send({"jsonrpc": "2.0", "id": mid, "result": task_data(tid)})
        while status_of(tid) == "working" and DEFECT != "never_done":  # tasks/result blocks until terminal
            time.sleep(0.05)
        if DEFECT == "result_is_task":
            return send({"jsonrpc": "2.0", "id": mid, "result": task_data(tid)})
        body = tool_result(TASKS[tid]["text"])
        if DEFECT != "no_related_task":
            body["_meta"] = {"io.modelcontextprotocol/related-task": {"taskId": tid}}
        send({"jsonrpc": "2.0", "id": mid, "result": body})
    elif method == "tasks/list":
        send({"jsonrpc": "2.0", "id": mid, "result": {"tasks": [task_data(t) for t in TASKS]}})
    else:
        error(mid, -32601, f"Method not found: {method}")


def main() -> None:
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            continue
        if not isinstance(msg, dict) or "method" not in msg or "id" not in msg:
            continue
        if msg.get("id") is None:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request: null id"}})
            continue
        answer(msg)


if __name__ == "__main__":
    main()

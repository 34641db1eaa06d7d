"""A minimal hand-written MCP server (stdio, no SDK) with one seeded defect the SDK cannot express.

Usage: python rule_defects.py [DEFECT]        (no DEFECT, or "none": the correct twin)

It speaks both eras: the handshake (initialize, 2025-11-25 and older) and 2026-07-28 stateless
requests (server/discover, per-request _meta). Surface: one read-only tool `echo {text}`.

Defects (name: what happens -> the rule it breaks):
  dup_server_request_ids   after notifications/initialized, two ping requests to the client with
                           the same id "srv-1" (J3)
  requests_before_initialized
                           a roots/list request right after the initialize response, before the
                           client's notifications/initialized (L4; the client declared roots)
  progress_unknown_token   a tools/call also gets notifications/progress for a token nobody sent (PR1)
  progress_not_increasing  progress 2 then 1 for the call's own token (PR1)
  progress_after_response  the call's progress notification comes after its response (PR2)
  cancel_non_listen        2026-07-28: notifications/cancelled for the client's own tools/call (CN3)
  input_required_undeclared
                           2026-07-28: tools/call answers input_required asking for elicitation
                           although the request declared no elicitation capability (M4)
  task_undeclared          2026-07-28: tools/call answers resultType "task" although the request
                           declared no tasks extension (V5/TK2)
  no_exit_on_eof           keeps running for 60 s after stdin reaches EOF (S4)
  task_required_served     handshake era: echo declares execution.taskSupport "required" but serves
                           plain calls (T16); mode task_required is the correct twin (-32601)
  task_required_wrapped    handshake era: like task_required, but the -32601 refusal comes back inside
                           an isError tool result (the TypeScript SDK's McpServer does this; T16 MUST)
  set_level_accepts_anything
                           logging/setLevel answers {} even for an unknown level (LG2)
  subscribe_unsupported    declares resources.subscribe but answers resources/subscribe -32601 (RS6)
  listen_no_ack            2026-07-28: subscriptions/listen gets a list_changed notification first,
                           never notifications/subscriptions/acknowledged (SB1)
  listen_no_subscription_id
                           2026-07-28: the acknowledgement lacks _meta subscriptionId (SB2)
  batch_refused            a process that negotiated 2025-03-26 refuses a JSON-RPC batch with
                           -32600 (J11; the correct twin answers it with an array, and refuses
                           batches -32600 in later revisions, which removed them)
  batch_partial            2025-03-26: only the first request of a batch is answered (J11)
  batch_one_by_one         2025-03-26: a batch's requests are answered one line each, not as one
                           array (J11, JSON-RPC's "should": low)

Capabilities: tools; handshake era also logging and resources {subscribe} (one resource,
mem://note); 2026-07-28 tools {listChanged} with a subscriptions/listen that acknowledges and
stays open until the client cancels it.
"""

from __future__ import annotations

import json
import sys
import time

DEFECT = sys.argv[1] if len(sys.argv) > 1 else "none"
NEGOTIATED: list[str] = []  # the version this process's initialize settled on
R5 = "2026-07-28"
INFO = {"name": "rule-defects", "version": "1.0.0"}
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
TOOL = {
    "name": "echo",
    "description": "Echo the text back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    "annotations": {"readOnlyHint": True, "idempotentHint": True},
}


OUT: list[dict] | None = None  # collecting the answers to a batch


def send(msg: dict) -> None:
    if OUT is not None and "method" not in msg:
        OUT.append(msg)
        return
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def batch(items: list) -> None:
    """2025-03-26 (JSON-RPC batches): answer every request of the array, as one array."""
    global OUT
    if not items or NEGOTIATED != ["2025-03-26"] or DEFECT == "batch_refused":
        send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request: batches are not supported"}})
        return
    OUT = []
    try:
        for msg in items:
            if isinstance(msg, dict) and "method" in msg and msg.get("id") is not None:
                answer(msg)
    finally:
        answers, OUT = OUT, None
    if DEFECT == "batch_partial":
        answers = answers[:1]
    if DEFECT == "batch_one_by_one":
        for a in answers:
            send(a)
    elif answers:
        sys.stdout.write(json.dumps(answers) + "\n")
        sys.stdout.flush()


def modern(msg: dict) -> bool:
    meta = (msg.get("params") or {}).get("_meta") or {}
    return meta.get("io.modelcontextprotocol/protocolVersion") == R5


def finish(result: dict, stateless: bool, cacheable: bool = False) -> dict:
    if stateless:
        result = {**result, "resultType": result.get("resultType", "complete"), "_meta": {"io.modelcontextprotocol/serverInfo": INFO}}
        if cacheable:
            result.update(ttlMs=0, cacheScope="public")
    return result


def answer(msg: dict) -> None:
    mid, method, params = msg["id"], msg.get("method"), msg.get("params") or {}
    stateless = modern(msg)
    if method == "initialize":
        version = params.get("protocolVersion")
        if version not in ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"):
            version = "2025-11-25"
        NEGOTIATED[:] = [version]
        caps = {"tools": {}, "logging": {}, "resources": {"subscribe": True}}
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": version, "capabilities": caps, "serverInfo": INFO}})
        if DEFECT == "requests_before_initialized":
            send({"jsonrpc": "2.0", "id": "early-roots", "method": "roots/list"})
        return
    if method == "server/discover" and stateless:
        result = {"supportedVersions": [R5], "capabilities": {"tools": {"listChanged": True}}}
        send({"jsonrpc": "2.0", "id": mid, "result": finish(result, True, cacheable=True)})
        return
    if method == "ping" and not stateless:
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
        return
    if method == "logging/setLevel" and not stateless:
        if params.get("level") in LEVELS or DEFECT == "set_level_accepts_anything":
            send({"jsonrpc": "2.0", "id": mid, "result": {}})
        else:
            send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": f"unknown level {params.get('level')!r}"}})
        return
    if method == "resources/list" and not stateless:
        send({"jsonrpc": "2.0", "id": mid, "result": {"resources": [{"uri": "mem://note", "name": "note", "mimeType": "text/plain"}]}})
        return
    if method == "resources/read" and not stateless and params.get("uri") == "mem://note":
        send({"jsonrpc": "2.0", "id": mid, "result": {"contents": [{"uri": "mem://note", "mimeType": "text/plain", "text": "hello"}]}})
        return
    if method in ("resources/subscribe", "resources/unsubscribe") and not stateless and DEFECT != "subscribe_unsupported":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
        return
    if method == "subscriptions/listen" and stateless:
        sub = {"io.modelcontextprotocol/subscriptionId": mid}
        honored = {k: True for k, v in ((params.get("notifications") or {}).items()) if k == "toolsListChanged" and v}
        if DEFECT == "listen_no_ack":
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": sub}})
        elif DEFECT == "listen_no_subscription_id":
            send({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {"notifications": honored}})
        else:
            send({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {"notifications": honored, "_meta": sub}})
        return  # the stream stays open until the client cancels it
    if method == "tools/list":
        tool = dict(TOOL)
        if DEFECT in ("task_required", "task_required_served", "task_required_wrapped") and not stateless:
            tool["execution"] = {"taskSupport": "required"}
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"tools": [tool]}, stateless, cacheable=True)})
        return
    if method == "tools/call":
        call(mid, params, stateless)
        return
    send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"Method not found: {method}"}})


def call(mid, params: dict, stateless: bool) -> None:
    if params.get("name") != "echo":
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": f"Unknown tool: {params.get('name')}"}})
        return
    if DEFECT == "task_required" and not stateless and "task" not in params:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "echo requires task augmentation"}})
        return
    if DEFECT == "task_required_wrapped" and not stateless and "task" not in params:
        text = "MCP error -32601: Tool echo requires task augmentation (taskSupport: 'required')"
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"content": [{"type": "text", "text": text}], "isError": True}, stateless)})
        return
    args = params.get("arguments") or {}
    if not isinstance(args.get("text"), str):
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"content": [{"type": "text", "text": "text must be a string"}], "isError": True}, stateless)})
        return
    token = ((params.get("_meta") or {}).get("progressToken"))
    note = lambda tok, p: send({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": tok, "progress": p, "total": 2}})  # noqa: E731
    if token is not None:
        if DEFECT == "progress_unknown_token":
            note("nobody-sent-this", 1)
        elif DEFECT == "progress_not_increasing":
            note(token, 2)
            note(token, 1)
        elif DEFECT != "progress_after_response":
            note(token, 1)
    if stateless and DEFECT == "cancel_non_listen":
        send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": mid, "reason": "server changed its mind"}})
    if stateless and DEFECT == "input_required_undeclared":
        ask = {"method": "elicitation/create", "params": {"mode": "form", "message": "Confirm?", "requestedSchema": {"type": "object", "properties": {}}}}
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"resultType": "input_required", "inputRequests": {"confirm": ask}}, True)})
        return
    if stateless and DEFECT == "task_undeclared":
        task = {"taskId": "task-1", "status": "working", "createdAt": "2026-01-01T00:00:00Z", "lastUpdatedAt": "2026-01-01T00:00:00Z", "ttl": 60000}
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"resultType": "task", "task": task}, True)})
        return
    send({"jsonrpc": "2.0", "id": mid, "result": finish({"content": [{"type": "text", "text": args["text"]}], "isError": False}, stateless)})
    if token is not None and DEFECT == "progress_after_response":
        note(token, 2)


def main() -> None:
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            continue
        if isinstance(msg, list):
            batch(msg)
            continue
        if not isinstance(msg, dict):
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
            continue
        if "method" not in msg:
            continue  # the client's answer to one of our requests
        if "id" not in msg:
            if msg["method"] == "notifications/initialized" and DEFECT == "dup_server_request_ids":
                send({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
                send({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
            continue
        if msg.get("id") is None:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request: null id"}})
            continue
        answer(msg)
    if DEFECT == "no_exit_on_eof":
        time.sleep(60)


if __name__ == "__main__":
    main()

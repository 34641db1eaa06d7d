"""A hand-written MCP server (stdio, no SDK) whose slow tool may ignore notifications/cancelled.

Usage: python cancel_ignored.py [MODE]

  ignore     (the defect) a cancelled call still gets its result when the work is done (CN1, and
             CN2's MUST NOT over 2026-07-28 stdio). The SDK cannot express it: it never answers
             a cancelled request.
  error_ack  a cancelled call is answered at once with an error "Request cancelled" (what the
             mcp 1.x Python SDK did): still a response to a cancelled request
  none       (correct) a cancelled call is never answered

It speaks both eras: the handshake (initialize, 2025-11-25 and older) and 2026-07-28 stateless
requests (server/discover, per-request _meta). Surface: one read-only tool
`slow_lookup {key, delay_ms (0..1500, default 600)}` that answers "slow record for <key>" after
delay_ms; calls run on threads, so the server keeps reading (and sees the cancel) meanwhile.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import stdio_rpc as rpc
from stdio_rpc import R5, error, modern, send

MODE = sys.argv[1] if len(sys.argv) > 1 else "none"
INFO = {"name": "cancel-ignored", "version": "1.0.0"}
TOOL = {
    "name": "slow_lookup",
    "description": "Look up the record stored under `key` the slow way (takes delay_ms).",
    "inputSchema": {
        "type": "object",
        "properties": {"key": {"type": "string", "maxLength": 64}, "delay_ms": {"type": "integer", "minimum": 0, "maximum": 1500, "default": 600}},
        "required": ["key"],
    },
    "annotations": {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False},
}
lock = threading.Lock()
cancelled: set[str] = set()
inflight: set[str] = set()


def finish(result: dict, stateless: bool, cacheable: bool = False) -> dict:
    return rpc.finish(result, INFO, stateless, cacheable)


def slow_call(mid, args: dict, stateless: bool) -> None:
    time.sleep(args.get("delay_ms", 600) / 1000)
    with lock:
        was_cancelled = json.dumps(mid) in cancelled
        inflight.discard(json.dumps(mid))
    if was_cancelled and MODE != "ignore":
        return
    text = f"slow record for {args['key']}"
    send({"jsonrpc": "2.0", "id": mid, "result": finish({"content": [{"type": "text", "text": text}], "isError": False}, stateless)})


def call(mid, params: dict, stateless: bool) -> None:
    if params.get("name") != "slow_lookup":
        error(mid, -32602, f"Unknown tool: {params.get('name')}")
        return
    args = params.get("arguments")
    ok = isinstance(args, dict) and isinstance(args.get("key"), str) and len(args["key"]) <= 64 and set(args) <= {"key", "delay_ms"}
    delay = args.get("delay_ms", 600) if isinstance(args, dict) else None
    if not ok or not (isinstance(delay, int) and not isinstance(delay, bool) and 0 <= delay <= 1500):
        error(mid, -32602, "Invalid params: want {key: string, delay_ms: 0..1500}")
        return
    with lock:
        inflight.add(json.dumps(mid))
    threading.Thread(target=slow_call, args=(mid, args, stateless), daemon=True).start()


def answer(msg: dict) -> None:
    mid, method, params = msg["id"], msg.get("method"), msg.get("params") or {}
    stateless = modern(msg)
    if method == "initialize":
        version = params.get("protocolVersion")
        if version not in ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"):
            version = "2025-11-25"
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": INFO}})
    elif method == "server/discover" and stateless:
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"supportedVersions": [R5], "capabilities": {"tools": {}}}, True, cacheable=True)})
    elif method == "ping" and not stateless:
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": mid, "result": finish({"tools": [TOOL]}, stateless, cacheable=True)})
    elif method == "tools/call":
        call(mid, params, stateless)
    else:
        error(mid, -32601, f"Method not found: {method}")


def notified(msg: dict) -> None:
    if msg["method"] == "notifications/cancelled":
        rid = (msg.get("params") or {}).get("requestId")
        with lock:
            cancelled.add(json.dumps(rid))
            running = json.dumps(rid) in inflight
        if MODE == "error_ack" and running:
            error(rid, 0, "Request cancelled")


if __name__ == "__main__":
    rpc.serve(answer, notified, null_id=True)

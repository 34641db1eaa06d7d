"""A hand-written modern-only MCP server (stdio, no SDK): it speaks 2026-07-28 and nothing older.

Usage: python modern_only.py [DEFECT]        (no DEFECT, or "none": the correct twin)

The official SDK's servers are all dual-era (they answer initialize), so a server that refuses
the handshake has to be written by hand. Surface: server/discover, tools/list and tools/call of
one read-only tool `echo {text}`; every request must carry the 2026-07-28 _meta envelope (an
unknown version gets -32022 with the supported list). Everything else, including the methods
2026-07-28 removed (initialize, ping, logging/setLevel, resources/subscribe ...), is -32601; a
legacy initialize (no envelope) is refused -32601 with a message and data naming 2026-07-28.

Defects (name: what happens -> the rule it breaks):
  no_versions        a legacy initialize is refused with a bare "Method not found": no version
                     named anywhere (V4)
  serves_removed     ping and logging/setLevel with the 2026-07-28 envelope are answered {} (V6)
  removed_wrong_code the removed methods are answered -32600 instead of -32601 (V6)
"""

from __future__ import annotations

import json
import sys

DEFECT = sys.argv[1] if len(sys.argv) > 1 else "none"
R5 = "2026-07-28"
INFO = {"name": "modern-only", "version": "1.0.0"}
REMOVED = {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "tasks/list", "tasks/result", "tasks/get", "tasks/cancel"}
TOOL = {
    "name": "echo",
    "description": "Echo the text back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    "annotations": {"readOnlyHint": True, "idempotentHint": True},
}


def send(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def error(mid, code: int, message: str, data=None) -> None:
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    send({"jsonrpc": "2.0", "id": mid, "error": err})


def result(mid, body: dict, cacheable: bool = False) -> None:
    body = {**body, "resultType": "complete", "_meta": {"io.modelcontextprotocol/serverInfo": INFO}}
    if cacheable:
        body.update(ttlMs=0, cacheScope="public")
    send({"jsonrpc": "2.0", "id": mid, "result": body})


def answer(msg: dict) -> None:
    mid, method = msg["id"], msg.get("method")
    params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
    meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
    version = meta.get("io.modelcontextprotocol/protocolVersion")
    if version is None:
        if method == "initialize":
            if DEFECT == "no_versions":
                error(mid, -32601, "Method not found")
            else:
                error(mid, -32601, f"initialize is not supported: this server speaks only MCP {R5} (per-request _meta, no handshake)", {"supported": [R5]})
            return
        error(mid, -32602, "missing _meta io.modelcontextprotocol/protocolVersion")
        return
    if version != R5:
        error(mid, -32022, "Unsupported protocol version", {"supported": [R5], "requested": version})
        return
    if method in REMOVED:
        if DEFECT == "serves_removed" and method in ("ping", "logging/setLevel"):
            result(mid, {})
        elif DEFECT == "removed_wrong_code":
            error(mid, -32600, f"{method} is not a 2026-07-28 method")
        else:
            error(mid, -32601, f"Method not found: {method}")
        return
    if method == "server/discover":
        result(mid, {"supportedVersions": [R5], "capabilities": {"tools": {}}}, cacheable=True)
    elif method == "tools/list":
        result(mid, {"tools": [TOOL]}, cacheable=True)
    elif method == "tools/call":
        args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        if params.get("name") != "echo":
            error(mid, -32602, f"Unknown tool: {params.get('name')}")
        elif not isinstance(args.get("text"), str):
            result(mid, {"content": [{"type": "text", "text": "text must be a string"}], "isError": True})
        else:
            result(mid, {"content": [{"type": "text", "text": args["text"]}], "isError": False})
    else:
        error(mid, -32601, f"Method not found: {method}")


def main() -> None:
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            continue
        if not isinstance(msg, dict) or not isinstance(msg.get("method", ""), str):
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
            continue
        if "method" not in msg or "id" not in msg:
            continue  # a response or a notification: nothing to answer
        if msg.get("id") is None:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request: null id"}})
            continue
        answer(msg)


if __name__ == "__main__":
    main()

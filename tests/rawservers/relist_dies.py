"""A hand-written handshake-era MCP server on stdio that dies (exit 1, no answer) when a session
lists its tools a second time; its tool definitions never change.

Usage: python relist_dies.py

The death is a crash mcpcheck must report as one. What a dead server did not list did not
disappear: a listing that got no answer is never compared with the first as a rug pull
(stateful.listing_stable, security.rug_pull). Tool: `echo {message}`, read-only.
"""

from __future__ import annotations

import sys

import stdio_rpc as rpc
from stdio_rpc import error, send

READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
TOOLS = [{"name": "echo", "description": "Echo the message back.", "annotations": READ_ONLY,
          "inputSchema": {"type": "object", "properties": {"message": {"type": "string", "maxLength": 50}}, "required": ["message"]}}]
state = {"lists": 0}


def answer(msg: dict) -> None:
    mid, method, params = msg["id"], msg.get("method"), msg.get("params") or {}
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                                                      "serverInfo": {"name": "relist-dies", "version": "1.0.0"}}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/list":
        state["lists"] += 1
        if state["lists"] > 1:
            print("relist-dies: a second tools/list, exiting", file=sys.stderr, flush=True)
            sys.exit(1)
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        args = params.get("arguments")
        if params.get("name") != "echo" or not (isinstance(args, dict) and isinstance(args.get("message"), str)):
            return error(mid, -32602, "Invalid params: want echo {message: string}")
        send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": args["message"]}], "isError": False}})
    else:
        error(mid, -32601, f"Method not found: {method}")


if __name__ == "__main__":
    rpc.serve(answer)

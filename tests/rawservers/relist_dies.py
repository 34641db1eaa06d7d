"""A hand-written handshake-era MCP server on stdio that dies (exit 1, no answer) late in its life;
its tool definitions never change.

Usage: python relist_dies.py [relist|third_cancel]

  relist        (default) dies when a session lists its tools a second time. The death is a
                crash mcpcheck must report as one; what a dead server did not list did not
                disappear: a listing that got no answer is never compared with the first as a
                rug pull (stateful.listing_stable, security.rug_pull)
  third_cancel  dies on the third notifications/cancelled of its life (mcp-server-sqlite's
                SDK died on a cancel only after earlier cancels): the stateful sequence that
                meets it cannot be replayed alone; every step the process had taken can

Tool: `echo {message}`, read-only.
"""

from __future__ import annotations

import sys

import stdio_rpc as rpc
from stdio_rpc import error, send

READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
TOOLS = [{"name": "echo", "description": "Echo the message back.", "annotations": READ_ONLY,
          "inputSchema": {"type": "object", "properties": {"message": {"type": "string", "maxLength": 50}}, "required": ["message"]}}]
MODE = sys.argv[1] if len(sys.argv) > 1 else "relist"
state = {"lists": 0, "cancels": 0}


def answer(msg: dict) -> None:
    mid, method, params = msg["id"], msg.get("method"), msg.get("params") or {}
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                                                      "serverInfo": {"name": "relist-dies", "version": "1.0.0"}}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/list":
        state["lists"] += 1
        if state["lists"] > 1 and MODE == "relist":
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


def notified(msg: dict) -> None:
    if msg.get("method") == "notifications/cancelled":
        state["cancels"] += 1
        if MODE == "third_cancel" and state["cancels"] >= 3:
            print("relist-dies: a third cancel, exiting", file=sys.stderr, flush=True)
            sys.exit(1)


if __name__ == "__main__":
    rpc.serve(answer, notified)

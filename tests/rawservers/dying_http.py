"""A hand-written MCP server over plain HTTP (asyncio, no SDK) whose `die` tool breaks the call's
connection and leaves the server in doubt for a while: the session's liveness confirmation.

Usage: python dying_http.py --port N --mode exits|recovers [--stall S]

  exits     after `die`, connections are still accepted (the listening socket stays open) but
            never read, for S seconds; then the process exits (code 70): what a process that
            takes a while to die looks like from outside. A crash.
  recovers  after `die`, every request is dropped (connection closed without an answer) for S
            seconds; then the server answers again. Alive.

POST /mcp takes one JSON-RPC message (handshake era: initialize, ping, tools/list, tools/call;
notifications get 202); GET and DELETE get 405. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--mode", choices=("exits", "recovers"), required=True)
parser.add_argument("--stall", type=float, default=1.5)
args = parser.parse_args()

TOOLS = [
    {"name": "echo", "description": "Echo the message back.", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}},
    {"name": "die", "description": "Break this call's connection.", "inputSchema": {"type": "object", "properties": {}}},
]
died_at: list[float] = []


def stalled() -> bool:
    return bool(died_at) and time.monotonic() - died_at[0] < args.stall


def answer(msg: dict) -> dict | None:
    mid, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
    if "id" not in msg:
        return None
    if method == "initialize":
        result = {"protocolVersion": params.get("protocolVersion", "2025-11-25"), "capabilities": {"tools": {}}, "serverInfo": {"name": "dying-http", "version": "1"}}
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call" and params.get("name") == "echo":
        result = {"content": [{"type": "text", "text": str((params.get("arguments") or {}).get("message", ""))}], "isError": False}
    else:
        return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"Method not found: {method}"}}
    return {"jsonrpc": "2.0", "id": mid, "result": result}


def respond(writer: asyncio.StreamWriter, status: str, body: bytes = b"", ctype: str = "application/json") -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n" + (f"Content-Type: {ctype}\r\n" if body else "") + "\r\n"
    writer.write(head.encode() + body)


async def exit_later() -> None:
    await asyncio.sleep(args.stall)
    os._exit(70)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        if args.mode == "exits" and died_at:
            await asyncio.Event().wait()  # accepted, never read: the process is on its way out
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        lines = head.decode("latin-1").split("\r\n")
        method = lines[0].split(" ")[0]
        length = next((int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.strip().lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        if args.mode == "exits" and died_at:
            await asyncio.Event().wait()
        if args.mode == "recovers" and stalled():
            writer.transport.abort()  # dropped without an answer
            return
        if method != "POST":
            respond(writer, "405 Method Not Allowed")
            await writer.drain()
            continue
        msg = json.loads(body)
        if msg.get("method") == "tools/call" and (msg.get("params") or {}).get("name") == "die":
            died_at.append(time.monotonic())
            if args.mode == "exits":
                asyncio.get_running_loop().create_task(exit_later())
            writer.transport.abort()
            return
        out = answer(msg)
        if out is None:
            respond(writer, "202 Accepted")
        else:
            respond(writer, "200 OK", json.dumps(out).encode())
        await writer.drain()


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", args.port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())

"""A hand-written 2026-07-28-only Streamable HTTP server (raw ASGI, no SDK) with a
subscriptions/listen stream and a tool that reports progress and logs, for PR3 (progress and log
notifications travel on their request's own response stream, never on a listen stream). The
SDK cannot be made to put a request's notifications on another stream.

Usage:
    python listen_http.py --port N [--defect NAME]

Serves http://127.0.0.1:N/mcp (127.0.0.1 only). POST only; every request carries the
2026-07-28 _meta envelope (a legacy initialize is refused 400 naming 2026-07-28). Declares
tools {listChanged}. subscriptions/listen answers an SSE stream: the acknowledgement, then
whatever is queued for listeners, until the client goes. Tool `work {steps}` (read-only) answers
on an SSE stream: for each step a notifications/progress (when the request carried a
progressToken) and a notifications/message (when it carried _meta logLevel), then the result.

Defects (default none: the correct server):
    none                as above
    progress_on_listen  the progress notifications go to every open listen stream instead
    log_on_listen       the log notifications go to every open listen stream instead
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

DEFECTS = ("none", "progress_on_listen", "log_on_listen")
R5 = "2026-07-28"
INFO = {"name": "listen-http", "version": "1.0.0"}
SUB = "io.modelcontextprotocol/subscriptionId"
TOOL = {
    "name": "work",
    "description": "Work through a few steps, reporting progress.",
    "inputSchema": {"type": "object", "properties": {"steps": {"type": "integer", "minimum": 1, "maximum": 5}}},
    "annotations": {"readOnlyHint": True, "idempotentHint": True},
}


def _result(body: dict[str, Any], cacheable: bool = False) -> dict[str, Any]:
    body = {**body, "resultType": "complete", "_meta": {"io.modelcontextprotocol/serverInfo": INFO}}
    if cacheable:
        body.update(ttlMs=0, cacheScope="public")
    return body


class App:
    def __init__(self, defect: str) -> None:
        self.defect = defect
        self.listeners: list[asyncio.Queue] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            return await self._json(send, 405, None)
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        try:
            msg = json.loads(body)
        except ValueError:
            return await self._json(send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            return await self._json(send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        if "id" not in msg:
            return await self._json(send, 202, None)
        mid, method = msg["id"], msg["method"]
        version = meta.get("io.modelcontextprotocol/protocolVersion")
        if version != R5:
            err = {"code": -32022, "message": f"Unsupported protocol version: this server speaks only {R5}", "data": {"supported": [R5], "requested": version}}
            return await self._json(send, 400, {"jsonrpc": "2.0", "id": mid, "error": err})
        if method == "server/discover":
            result = _result({"supportedVersions": [R5], "capabilities": {"tools": {"listChanged": True}}}, cacheable=True)
            return await self._json(send, 200, {"jsonrpc": "2.0", "id": mid, "result": result})
        if method == "tools/list":
            return await self._json(send, 200, {"jsonrpc": "2.0", "id": mid, "result": _result({"tools": [TOOL]}, cacheable=True)})
        if method == "subscriptions/listen":
            return await self._listen(mid, params, receive, send)
        if method == "tools/call":
            return await self._work(mid, params, meta, send)
        await self._json(send, 404, {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"Method not found: {method}"}})

    async def _json(self, send: Any, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        headers = [(b"content-type", b"application/json")] if body is not None else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _sse_start(self, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})

    async def _event(self, send: Any, msg: dict[str, Any], more: bool = True) -> None:
        await send({"type": "http.response.body", "body": f"event: message\ndata: {json.dumps(msg)}\n\n".encode(), "more_body": more})

    async def _listen(self, mid: Any, params: dict[str, Any], receive: Any, send: Any) -> None:
        wanted = params.get("notifications") if isinstance(params.get("notifications"), dict) else {}
        honoured = {"toolsListChanged": True} if wanted.get("toolsListChanged") else {}
        await self._sse_start(send)
        await self._event(send, {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {"notifications": honoured, "_meta": {SUB: mid}}})
        queue: asyncio.Queue = asyncio.Queue()
        self.listeners.append(queue)
        gone = asyncio.ensure_future(receive())  # http.disconnect when the client closes the stream
        try:
            while True:
                get = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    get.cancel()
                    return
                await self._event(send, get.result())
        finally:
            self.listeners.remove(queue)
            gone.cancel()

    async def _work(self, mid: Any, params: dict[str, Any], meta: dict[str, Any], send: Any) -> None:
        args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        if params.get("name") != "work":
            return await self._json(send, 200, {"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": f"Unknown tool: {params.get('name')}"}})
        steps = args.get("steps", 2)
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 5:
            steps = 2
        token, level = meta.get("progressToken"), meta.get("io.modelcontextprotocol/logLevel")
        await self._sse_start(send)
        for i in range(1, steps + 1):
            notes = []
            if token is not None:
                notes.append(("progress_on_listen", {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": token, "progress": i, "total": steps}}))
            if level is not None:
                notes.append(("log_on_listen", {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "logger": "work", "data": f"step {i} of {steps}"}}))
            for defect, note in notes:
                if self.defect == defect:
                    for q in list(self.listeners):
                        q.put_nowait(note)
                else:
                    await self._event(send, note)
            await asyncio.sleep(0.05)
        result = _result({"content": [{"type": "text", "text": f"did {steps} steps"}], "isError": False})
        await self._event(send, {"jsonrpc": "2.0", "id": mid, "result": result}, more=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--defect", default="none", choices=DEFECTS)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(App(args.defect), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()

"""A hand-written Streamable HTTP MCP server (handshake era) with resumable SSE streams, for the
GET-stream and resumability rules (spec-digest H6, H7). The official SDK cannot express these
defects: it allows one GET stream per session and its event store is correct by construction.

Usage:
    python streams_http.py --port N [--defect NAME]

Serves http://127.0.0.1:N/mcp (127.0.0.1 only) with uvicorn and a raw ASGI app. Sessions are
issued on initialize (Mcp-Session-Id). Every request after initialize is answered on an SSE
stream: a priming event (id, empty data), then any related notification, then the response.
Every SSE event gets an id and is kept in the session's event store. GET opens a standalone
stream (several may be open at once, as the spec allows); GET with Last-Event-ID replays the
events that followed that id on that id's stream, then ends. logging/setLevel makes the server
log "log level set to X" as a notifications/message on ONE open GET stream (on the POST stream
when none is open).

Defects (default none: the correct server):
    none              as above
    broadcast         the setLevel log message is sent on EVERY open GET stream (H6: no broadcast)
    response_on_get   every response is also written on every open GET stream (H6: the GET stream
                      carries no responses)
    shared_event_ids  event ids are a per-stream counter ("1", "2", ...), so two streams of one
                      session reuse the same ids (H7: unique across the session's streams)
    replay_all        GET with Last-Event-ID replays every later event of the session, from all
                      streams (H7: only that stream's missed messages)
    replay_all_primed as replay_all, and the other streams' priming events come back as `data: {}`
                      (server-everything: its event store keeps the TypeScript SDK's priming events as
                      `{}` and replays every later event of the session): one cause, one H7 finding
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFECTS = ("none", "broadcast", "response_on_get", "shared_event_ids", "replay_all", "replay_all_primed")
VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


@dataclass
class Session:
    version: str
    get_streams: list[asyncio.Queue] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (stream key, event id, data)
    counters: dict[str, int] = field(default_factory=dict)


class App:
    def __init__(self, defect: str) -> None:
        self.defect = defect
        self.sessions: dict[str, Session] = {}

    # ------------------------------------------------------------------ helpers
    def event(self, sess: Session, stream: str, data: str) -> bytes:
        n = sess.counters.get(stream, 0) + 1
        sess.counters[stream] = n
        eid = str(n) if self.defect == "shared_event_ids" else f"{stream}-{n}"
        sess.events.append((stream, eid, data))
        return f"id: {eid}\ndata: {data}\n\n".encode()

    @staticmethod
    async def json_response(send: Any, status: int, body: Any = None, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h = list(headers or [])
        if body is not None:
            h.append((b"content-type", b"application/json"))
        h.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": h})
        await send({"type": "http.response.body", "body": data})

    @staticmethod
    def error(rid: Any, code: int, message: str) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if scope["path"].rstrip("/") != "/mcp":
            await self.json_response(send, 404, {"error": "not found"})
            return
        method = scope["method"]
        if method == "POST":
            await self.post(headers, receive, send)
        elif method == "GET":
            await self.get(headers, receive, send)
        elif method == "DELETE":
            sid = headers.get("mcp-session-id")
            if sid in self.sessions:
                del self.sessions[sid]
                await self.json_response(send, 200)
            else:
                await self.json_response(send, 404, self.error(None, -32001, "Session not found"))
        else:
            await self.json_response(send, 405, None, [(b"allow", b"GET, POST, DELETE")])

    def session_of(self, headers: dict[str, str]) -> tuple[Session | None, int, str]:
        sid = headers.get("mcp-session-id")
        if not sid:
            return None, 400, "Bad Request: Missing session ID"
        sess = self.sessions.get(sid)
        if sess is None:
            return None, 404, "Session not found"
        return sess, 200, ""

    async def post(self, headers: dict[str, str], receive: Any, send: Any) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        try:
            message = json.loads(body)
        except ValueError:
            await self.json_response(send, 400, self.error(None, -32700, "Parse error"))
            return
        if not isinstance(message, dict):
            await self.json_response(send, 400, self.error(None, -32600, "Invalid Request"))
            return
        rid, name = message.get("id"), message.get("method")
        if name == "initialize":
            params = message.get("params") if isinstance(message.get("params"), dict) else {}
            asked = params.get("protocolVersion")
            version = asked if asked in VERSIONS else VERSIONS[-1]
            sid = uuid.uuid4().hex
            self.sessions[sid] = Session(version)
            result = {
                "protocolVersion": version,
                "capabilities": {"logging": {}, "tools": {}},
                "serverInfo": {"name": "mcpcheck-streams-fixture", "version": "1.0.0"},
            }
            await self.json_response(send, 200, {"jsonrpc": "2.0", "id": rid, "result": result}, [(b"mcp-session-id", sid.encode())])
            return
        sess, status, why = self.session_of(headers)
        if sess is None:
            await self.json_response(send, status, self.error(None, -32600 if status == 400 else -32001, why))
            return
        if name is None or "id" not in message:  # a notification or a response
            await self.json_response(send, 202)
            return
        related: list[dict[str, Any]] = []
        get_note: dict[str, Any] | None = None
        if name == "ping":
            response = {"jsonrpc": "2.0", "id": rid, "result": {}}
        elif name == "tools/list":
            response = {"jsonrpc": "2.0", "id": rid, "result": {"tools": []}}
        elif name == "logging/setLevel":
            level = (message.get("params") or {}).get("level") if isinstance(message.get("params"), dict) else None
            if level not in LEVELS:
                response = self.error(rid, -32602, f"unknown level {level!r}")
            else:
                response = {"jsonrpc": "2.0", "id": rid, "result": {}}
                note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "logger": "fixture", "data": f"log level set to {level} ({uuid.uuid4().hex[:8]})"}}
                if sess.get_streams:
                    get_note = note
                else:
                    related.append(note)
        else:
            response = self.error(rid, -32601, f"Method not found: {name}")
        if get_note is not None:
            for q in sess.get_streams if self.defect == "broadcast" else sess.get_streams[:1]:
                q.put_nowait(json.dumps(get_note))
        if self.defect == "response_on_get":
            for q in sess.get_streams:
                q.put_nowait(json.dumps(response))
        stream = uuid.uuid4().hex[:12]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        chunks = [self.event(sess, stream, "")]
        chunks += [self.event(sess, stream, json.dumps(m)) for m in related]
        chunks.append(self.event(sess, stream, json.dumps(response)))
        await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})

    async def get(self, headers: dict[str, str], receive: Any, send: Any) -> None:
        sess, status, why = self.session_of(headers)
        if sess is None:
            await self.json_response(send, status, self.error(None, -32600 if status == 400 else -32001, why))
            return
        if "text/event-stream" not in headers.get("accept", ""):
            await self.json_response(send, 406, self.error(None, -32600, "Not Acceptable: Client must accept text/event-stream"))
            return
        sse = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        last = headers.get("last-event-id")
        if last is not None:
            index = next((i for i, (_s, eid, _d) in enumerate(sess.events) if eid == last), None)
            if index is None:
                await self.json_response(send, 404, self.error(None, -32600, "unknown Last-Event-ID"))
                return
            stream = sess.events[index][0]
            if self.defect == "replay_all_primed":
                later = [(s, eid, d or "{}") for s, eid, d in sess.events[index + 1 :]]
            else:
                later = [(s, eid, d) for s, eid, d in sess.events[index + 1 :] if d and (self.defect == "replay_all" or s == stream)]
            body = b"".join(f"id: {eid}\ndata: {d}\n\n".encode() for _s, eid, d in later)
            await send({"type": "http.response.start", "status": 200, "headers": sse})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        queue: asyncio.Queue = asyncio.Queue()
        sess.get_streams.append(queue)
        stream = "get-" + uuid.uuid4().hex[:12]

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            queue.put_nowait(None)

        watcher = asyncio.create_task(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": sse})
            await send({"type": "http.response.body", "body": self.event(sess, stream, ""), "more_body": True})
            while True:
                data = await queue.get()
                if data is None:
                    break
                await send({"type": "http.response.body", "body": self.event(sess, stream, data), "more_body": True})
        except OSError:
            pass
        finally:
            watcher.cancel()
            if queue in sess.get_streams:
                sess.get_streams.remove(queue)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--defect", default="none", choices=DEFECTS)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(App(args.defect), host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()

"""A hand-written 2025-03-26 Streamable HTTP MCP server that requires a bearer token and is its own
OAuth authorization server, as the 2025-03-26 authorization spec asks (spec-digest A1). The SDKs
of today follow the 2025-06-18 model (a resource server pointing at a separate authorization
server), and negotiate every revision, so they cannot express a 2025-03-26-only server.

Usage:
    python oauth_2025_03_26.py --port N --token TOKEN [--defect NAME]

Serves http://127.0.0.1:N/mcp (127.0.0.1 only). initialize always negotiates 2025-03-26. Every
request to /mcp without `Authorization: Bearer TOKEN` gets 401 with `WWW-Authenticate: Bearer`.
The authorization-server side is a stub that never issues anything: GET
/.well-known/oauth-authorization-server (RFC 8414 metadata), GET /authorize (400
invalid_request without parameters), POST /token (400 invalid_request), POST /register (400
invalid_client_metadata); other verbs on those paths get 405.

Defects (default none: the correct server):
    none          as above
    no_metadata   no RFC 8414 metadata (404); /authorize, /token, /register still served: the
                  clients' fallback works (A1: metadata SHOULD)
    no_endpoints  neither metadata nor /authorize, /token, /register (all 404): a 2025-03-26 client
                  cannot authorize at all (A1 MUST)
    forbidden     requests without a token get 403 (with the Bearer challenge) instead of 401
"""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

DEFECTS = ("none", "no_metadata", "no_endpoints", "forbidden")
VERSION = "2025-03-26"


class App:
    def __init__(self, port: int, token: str, defect: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.defect = defect
        self.sessions: set[str] = set()

    @staticmethod
    async def respond(send: Any, status: int, body: Any = None, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h = list(headers or [])
        if body is not None:
            h.append((b"content-type", b"application/json"))
        h.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": h})
        await send({"type": "http.response.body", "body": data})

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
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path, verb = scope["path"], scope["method"]
        if path.rstrip("/") == "/mcp":
            await self.mcp(verb, headers, body, send)
        elif path == "/.well-known/oauth-authorization-server" and self.defect not in ("no_metadata", "no_endpoints"):
            if verb != "GET":
                await self.respond(send, 405, None, [(b"allow", b"GET")])
                return
            await self.respond(
                send,
                200,
                {
                    "issuer": self.base,
                    "authorization_endpoint": self.base + "/authorize",
                    "token_endpoint": self.base + "/token",
                    "registration_endpoint": self.base + "/register",
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        elif path in ("/authorize", "/token", "/register") and self.defect != "no_endpoints":
            allowed = "GET" if path == "/authorize" else "POST"
            if verb != allowed:
                await self.respond(send, 405, None, [(b"allow", allowed.encode())])
                return
            error = "invalid_client_metadata" if path == "/register" else "invalid_request"
            await self.respond(send, 400, {"error": error, "error_description": "mcpcheck fixture: this stub issues nothing"})
        else:
            await self.respond(send, 404, {"error": "not found"})

    async def mcp(self, verb: str, headers: dict[str, str], body: bytes, send: Any) -> None:
        if headers.get("authorization") != f"Bearer {self.token}":
            challenge = [(b"www-authenticate", b'Bearer error="invalid_token", error_description="a bearer token is required"')]
            status = 403 if self.defect == "forbidden" else 401
            await self.respond(send, status, {"error": "invalid_token"}, challenge)
            return
        if verb == "DELETE":
            self.sessions.discard(headers.get("mcp-session-id", ""))
            await self.respond(send, 200)
            return
        if verb != "POST":
            await self.respond(send, 405, None, [(b"allow", b"POST, DELETE")])
            return
        try:
            msg = json.loads(body)
        except ValueError:
            await self.respond(send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            return
        if not isinstance(msg, dict):
            await self.respond(send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batches are not served by this fixture"}})
            return
        rid, method = msg.get("id"), msg.get("method")
        if method == "initialize":
            sid = uuid.uuid4().hex
            self.sessions.add(sid)
            result = {"protocolVersion": VERSION, "capabilities": {"tools": {}}, "serverInfo": {"name": "mcpcheck-oauth-2025-03-26", "version": "1.0.0"}}
            await self.respond(send, 200, {"jsonrpc": "2.0", "id": rid, "result": result}, [(b"mcp-session-id", sid.encode())])
            return
        if headers.get("mcp-session-id") not in self.sessions:
            await self.respond(send, 400 if "mcp-session-id" not in headers else 404, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no valid session"}})
            return
        if method is None or "id" not in msg:
            await self.respond(send, 202)
            return
        if method == "ping":
            result: Any = {}
        elif method == "tools/list":
            result = {"tools": []}
        else:
            await self.respond(send, 200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"Method not found: {method}"}})
            return
        await self.respond(send, 200, {"jsonrpc": "2.0", "id": rid, "result": result})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--defect", default="none", choices=DEFECTS)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(App(args.port, args.token, args.defect), host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()

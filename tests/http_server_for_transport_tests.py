"""A real MCP server over Streamable HTTP (official SDK `MCPServer` + uvicorn) for the HTTP
transport and HTTP-rule tests, with optional deliberate defects injected by a small ASGI
middleware in front of the SDK app.

    python tests/http_server_for_transport_tests.py PORT [--json] [--stateless] [--defect NAME]...
    python tests/http_server_for_transport_tests.py PORT --catalog   # every CATALOG app at /<name>/mcp

Defects (each breaks exactly one HTTP rule so a check can be shown to fire):
  no_origin_check         forward every request without the SDK's Origin/Host validation
  notification_200        answer accepted notifications 200 with a JSON body instead of 202
  text_plain              rewrite application/json responses to text/plain
  ignore_session          serve requests with a missing or unknown Mcp-Session-Id on the newest live session
  delete_noop             answer DELETE 200 without ending the session
  unknown_session_400     answer 400 "No valid session ID provided" to any session id the server does not hold,
                          never-issued or DELETEd (what server-everything's express wrapper does; H8 wants 404)
  mint_session            add an Mcp-Session-Id to every 2026-07-28 response
  bogus_protocol_header_ok  session era: drop an unknown MCP-Protocol-Version header
  bad_session_id          mint session ids containing a space (outside 0x21-0x7E)
  no_header_check         2026-07-28: overwrite MCP-Protocol-Version/Mcp-Method/Mcp-Name with the body's values
  get_200                 answer GET/DELETE with 200 text/event-stream (one comment) instead of 405
  unknown_method_200      answer -32601 errors with HTTP 200 instead of 404
  bad_sse                 append a non-JSON `data:` event to every SSE response
  any_version             2026-07-28: serve a _meta protocol version 19xx as if it were 2026-07-28
  short_session_id        hand out session ids "1", "2", ... (mapped to the real ones)
  call_500                answer tools/call of the (unlisted) tool `explode` with 500 text/plain
  modern_only (--modern-only)  refuse everything but 2026-07-28 requests (GET/DELETE 405, POST 400 -32020)
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import socket
import subprocess
import sys
import time

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings

def build_server() -> MCPServer:
    """A fresh server instance (each app in the catalog gets its own session manager)."""
    mcp = MCPServer("http-transport-fixture", version="0.1.0", instructions="mcpcheck HTTP transport fixture")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @mcp.tool()
    async def slow(ms: int, ctx: Context) -> str:
        """Sleep ms milliseconds, reporting progress half way."""
        await asyncio.sleep(ms / 2000)
        await ctx.report_progress(1, 2)
        await asyncio.sleep(ms / 2000)
        return f"slept {ms}"

    @mcp.resource("mem://greeting")
    def greeting() -> str:
        return "hello"

    @mcp.prompt()
    def review(code: str) -> str:
        return f"Please review:\n{code}"

    return mcp


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _set_header(scope, name: str, value: str | None) -> None:
    key = name.lower().encode()
    hs = [(k, v) for k, v in scope.get("headers", []) if k.lower() != key]
    if value is not None:
        hs.append((key, value.encode("latin-1")))
    scope["headers"] = hs


class Defects:
    """ASGI middleware that injects the selected defects around the SDK app."""

    def __init__(self, app, defects: set[str]) -> None:
        self.app, self.defects = app, defects
        self.live: list[str] = []  # session ids minted and not DELETEd, newest last
        self.short: dict[str, str] = {}  # short_session_id: short id -> real id

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        d = self.defects
        h = _headers(scope)
        method = scope["method"]
        version = h.get("mcp-protocol-version")
        modern = version is not None and version not in HANDSHAKE
        raw = b""
        parsed = None
        if method == "POST":
            more = True
            while more:
                m = await receive()
                raw += m.get("body", b"")
                more = m.get("more_body", False)
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        msg = parsed if isinstance(parsed, dict) else {}
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        body_version = meta.get("io.modelcontextprotocol/protocolVersion")

        # Defects that rewrite the request before anyone looks at it.
        if "no_header_check" in d and isinstance(msg.get("method"), str) and isinstance(body_version, str):
            _set_header(scope, "mcp-protocol-version", body_version)
            _set_header(scope, "mcp-method", msg["method"])
            name = params.get("name", params.get("uri"))
            if isinstance(name, str) and name.isascii():
                _set_header(scope, "mcp-name", name)
        if "any_version" in d and isinstance(body_version, str) and body_version.startswith("19"):
            meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28"
            raw = json.dumps(parsed).encode()
            _set_header(scope, "mcp-protocol-version", "2026-07-28")
        if "short_session_id" in d and h.get("mcp-session-id") in self.short:
            _set_header(scope, "mcp-session-id", self.short[h["mcp-session-id"]])
        h = _headers(scope)
        version = h.get("mcp-protocol-version")
        modern = version is not None and version not in HANDSHAKE

        if method == "POST":
            replayed = False

            async def receive():  # noqa: F811 - replay the body we consumed
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": raw, "more_body": False}
                await asyncio.Event().wait()

        if "get_200" in d and method in ("GET", "DELETE") and (modern or "modern_only" in d):
            await _respond(send, 200, b": hello\n\n", b"text/event-stream")
            return
        if "modern_only" in d and not modern:
            if method != "POST":
                await _respond(send, 405, b"", None, [(b"allow", b"POST")])
                return
            err = {"jsonrpc": "2.0", "id": msg.get("id"), "error": {"code": -32020, "message": "MCP-Protocol-Version header missing or not 2026-07-28"}}
            await _respond(send, 400, json.dumps(err).encode(), b"application/json")
            return
        if "delete_noop" in d and method == "DELETE":
            await _respond(send, 200, b"", None)
            return
        sid_in = h.get("mcp-session-id")
        if "unknown_session_400" in d and sid_in is not None and sid_in not in self.live and msg.get("method") != "initialize" and not modern:
            err = {"jsonrpc": "2.0", "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}, "id": None}
            await _respond(send, 400, json.dumps(err).encode(), b"application/json")
            return
        if "call_500" in d and msg.get("method") == "tools/call" and params.get("name") == "explode":
            await _respond(send, 500, b"Internal Server Error", b"text/plain")
            return
        if "bad_session_id" in d and h.get("mcp-session-id", "").startswith("bad id "):
            _set_header(scope, "mcp-session-id", h["mcp-session-id"][len("bad id ") :])
        if "ignore_session" in d and self.live and msg.get("method") != "initialize" and not modern:
            if h.get("mcp-session-id") not in self.live:
                _set_header(scope, "mcp-session-id", self.live[-1])
        if "bogus_protocol_header_ok" in d and "mcp-session-id" in h and version is not None and not version.startswith("2026") and version not in HANDSHAKE:
            _set_header(scope, "mcp-protocol-version", None)

        state: dict = {"sse": False, "swallow": False}

        async def patched_send(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                status = message["status"]
                hd = {k.decode().lower(): v.decode("latin-1") for k, v in headers}
                if "mcp-session-id" in hd:
                    sid = hd["mcp-session-id"]
                    if "bad_session_id" in d:
                        headers = [(k, v) for k, v in headers if k.lower() != b"mcp-session-id"]
                        headers.append((b"mcp-session-id", b"bad id " + sid.encode()))
                    if "short_session_id" in d:
                        short = next((k for k, v in self.short.items() if v == sid), None) or str(len(self.short) + 1)
                        self.short[short] = sid
                        headers = [(k, v) for k, v in headers if k.lower() != b"mcp-session-id"]
                        headers.append((b"mcp-session-id", short.encode()))
                    if msg.get("method") == "initialize" and status < 400 and sid not in self.live:
                        self.live.append(sid)
                if method == "DELETE" and status < 300 and h.get("mcp-session-id") in self.live:
                    self.live.remove(h["mcp-session-id"])
                if "mint_session" in d and modern:
                    headers.append((b"mcp-session-id", b"minted-" + str(id(self)).encode()))
                ct = hd.get("content-type", "")
                state["sse"] = ct.startswith("text/event-stream")
                if "text_plain" in d and ct.startswith("application/json"):
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                    headers.append((b"content-type", b"text/plain"))
                if "notification_200" in d and status == 202:
                    headers = [(k, v) for k, v in headers if k.lower() not in (b"content-type", b"content-length")]
                    headers += [(b"content-type", b"application/json"), (b"content-length", b"15")]
                    await send({**message, "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": b'{"status":"ok"}'})
                    state["swallow"] = True
                    return
                if "unknown_method_200" in d and status == 404 and modern:
                    status = 200
                return await send({**message, "status": status, "headers": headers})
            if message["type"] == "http.response.body":
                if state["swallow"]:
                    return
                if "bad_sse" in d and state["sse"] and not message.get("more_body", False):
                    await send({**message, "more_body": True})
                    await send({"type": "http.response.body", "body": b"data: not json at all\n\n", "more_body": False})
                    return
            return await send(message)

        await self.app(scope, receive, patched_send)


HANDSHAKE = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")


async def _respond(send, status: int, body: bytes, content_type: bytes | None, extra: list | None = None) -> None:
    headers = list(extra or [])
    if content_type:
        headers.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# name -> (json_response, stateless_http, defects): every app is served at /<name>/mcp by one
# process (`--catalog`), so the tests pay for one interpreter start, not twenty.
CATALOG: dict[str, tuple[bool, bool, tuple[str, ...]]] = {
    "clean": (False, False, ()),
    "clean-json": (True, False, ()),
    "stateless": (False, True, ()),
    "stateless-json": (True, True, ()),
    "modern-only": (False, False, ("modern_only",)),
    "call-500": (True, False, ("call_500",)),
    "no_origin_check": (False, False, ("no_origin_check",)),
    "notification_200": (False, False, ("notification_200",)),
    "text_plain": (True, False, ("text_plain",)),
    "ignore_session": (False, False, ("ignore_session",)),
    "delete_noop": (False, False, ("delete_noop",)),
    "unknown_session_400": (False, False, ("unknown_session_400",)),
    "bogus_protocol_header_ok": (False, False, ("bogus_protocol_header_ok",)),
    "bad_session_id": (False, False, ("bad_session_id",)),
    "get_200": (False, False, ("modern_only", "get_200")),
    "no_header_check": (False, False, ("modern_only", "no_header_check")),
    "mint_session": (False, False, ("mint_session",)),
    "unknown_method_200": (True, False, ("unknown_method_200",)),
    "bad_sse": (False, False, ("bad_sse",)),
    "any_version": (True, False, ("any_version",)),
    "short_session_id": (False, False, ("short_session_id",)),
}


def make_app(path: str = "/mcp", *, json_response: bool = False, stateless: bool = False, defects: tuple[str, ...] | set[str] = ()):
    security = None
    if "no_origin_check" in defects:
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = build_server().streamable_http_app(
        streamable_http_path=path, json_response=json_response, stateless_http=stateless, transport_security=security, host="127.0.0.1"
    )
    return (Defects(app, set(defects)) if defects else app), app


class Catalog:
    """One ASGI app routing /<name>/... to the catalog's apps, running all their lifespans."""

    def __init__(self, names=None) -> None:
        self.apps = {}
        self.starlettes = []
        for name, (js, sl, defects) in CATALOG.items():
            if names and name not in names:
                continue
            outer, inner = make_app(f"/{name}/mcp", json_response=js, stateless=sl, defects=defects)
            self.apps[name] = outer
            self.starlettes.append(inner)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            from contextlib import AsyncExitStack

            await receive()  # lifespan.startup
            async with AsyncExitStack() as stack:
                for app in self.starlettes:
                    await stack.enter_async_context(app.router.lifespan_context(app))
                await send({"type": "lifespan.startup.complete"})
                await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        name = scope.get("path", "/").split("/")[1] if scope.get("path", "/").count("/") >= 2 else ""
        app = self.apps.get(name)
        if app is None:
            await _respond(send, 404, b"no such app", b"text/plain")
            return
        await app(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--stateless", action="store_true")
    ap.add_argument("--defect", action="append", default=[])
    ap.add_argument("--modern-only", action="store_true", help="refuse everything but 2026-07-28 requests")
    ap.add_argument("--catalog", action="store_true", help="serve every CATALOG app at /<name>/mcp")
    args = ap.parse_args(argv)
    if args.modern_only:
        args.defect.append("modern_only")
    if args.catalog:
        app = Catalog()
    else:
        app, _ = make_app(json_response=args.json, stateless=args.stateless, defects=tuple(args.defect))
    print(f"listening on {args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


# --------------------------------------------------------------------------- for the tests

_CATALOG_PROC: "subprocess.Popen | None" = None
_CATALOG_PORT: int | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: "subprocess.Popen", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"test server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"test server did not listen on {port} within {timeout:g}s")


def catalog_url(name: str) -> str:
    """URL of one catalog app; the catalog process starts on first use (once per pytest run)
    and is killed at interpreter exit."""
    global _CATALOG_PROC, _CATALOG_PORT
    if name not in CATALOG:
        raise KeyError(name)
    if _CATALOG_PROC is None or _CATALOG_PROC.poll() is not None:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, __file__, str(port), "--catalog"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        atexit.register(_stop, proc)
        wait_for_port(port, proc)
        _CATALOG_PROC, _CATALOG_PORT = proc, port
    return f"http://127.0.0.1:{_CATALOG_PORT}/{name}/mcp"


def _stop(proc: "subprocess.Popen") -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()

"""A synchronous MCP client over mcpcheck's own session, for tests you write yourself.

    with McpClient(make_target(command=["python", "server.py"])) as client:
        schema = client.tool("echo")["inputSchema"]

        @given(strategies.valid(schema))
        def test(args):
            ex = client.call_tool("echo", args)
            assert ex.ok and not ex.result.get("isError")

The session (every era mcpcheck knows, the WireLog, a timeout on every request) lives on an
event loop in a background thread, so plain synchronous code (Hypothesis' @given included) can
drive it. The pytest plugin hands one out as the `mcp_client` fixture.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .config import Target
from .session import Exchange, Session


class McpClient:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.session: Session | None = None
        self.revision: str | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"mcpcheck-client-{target.name}", daemon=True)
        self._tools: list[dict[str, Any]] | None = None

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def connect(self) -> "McpClient":
        """Detect the eras the server speaks and open a session in the newest."""
        from .connect import detect

        if not self._thread.is_alive():
            self._thread.start()
        probe, self.session = self._run(detect(self.target))
        self.revision = probe.eras()[0]
        return self

    def close(self) -> None:
        if self.session is not None:
            self._run(self.session.close())
            self.session = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> "McpClient":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("McpClient is not connected: use `with McpClient(target) as client` or .connect()")
        return self.session

    def request(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Exchange:
        """One request, answered or not: the Exchange says (ok, result, error, timed_out, evidence)."""
        return self._run(self._session.request(method, params or {}, timeout=timeout))

    def call_tool(self, name: str, arguments: Any, *, timeout: float | None = None) -> Exchange:
        return self.request("tools/call", {"name": name, "arguments": arguments}, timeout=timeout)

    def tools(self) -> list[dict[str, Any]]:
        """Every tool the server lists (all pages), cached."""
        if self._tools is None:
            from .connect import list_tools

            self._tools = self._run(list_tools(self._session))
        return self._tools

    def tool(self, name: str) -> dict[str, Any]:
        for t in self.tools():
            if t.get("name") == name:
                return t
        raise KeyError(f"the server lists no tool {name!r} (it lists: {', '.join(str(t.get('name')) for t in self.tools())})")

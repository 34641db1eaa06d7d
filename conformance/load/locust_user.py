"""A Locust `User` that drives MCP tool calls through mcpcheck's own Session.

When one machine is not enough, Locust (an existing distributed load engine, master/worker) runs
this file; every worker draws the same kind of valid-input pool from the strategies (before its
users start), checks every response like the load campaign does (ids, shape, isError, reference
answers -> a `protocol.concurrency:` failure on a mix-up), and reports each call to Locust as a
request named after the tool.

One machine, headless, 50 users:

    locust -f conformance/load/locust_user.py --headless -u 50 -r 50 -t 60s \\
        --mcp-command "python server.py"

Distributed (one master, N workers; the mcp-* options given to the master reach the workers):

    locust -f conformance/load/locust_user.py --master --headless --expect-workers 2 \\
        -u 200 -r 50 -t 5m --mcp-url http://127.0.0.1:8000/mcp --mcp-config load.yaml --csv out/run
    locust -f conformance/load/locust_user.py --worker --master-host 127.0.0.1   # on each worker machine

The preparation (server start, pool, calibration) runs in Locust's test_start event, before
users spawn; Locust's --run-time clock is already running then, so allow a few seconds for it.

Options: --mcp-command "CMD" (stdio; each worker process starts its own server) or --mcp-url URL
[--mcp-transport http|sse]; --mcp-config FILE (a load config: `tools` weights, `pool_size`,
`seed`, `timeout`, `reference_checks`, `connections` are used); --mcp-protocol REVISION;
--mcp-session-scope process|user (default process: the users of one worker process share one
session, as the campaign does; `user` gives every simulated user its own session).

How asyncio meets gevent: Locust monkey-patches the standard library with gevent. The asyncio
event loop that owns the sessions runs inside one greenlet (its selector is gevent's, so it
yields to the hub while it waits); a user greenlet hands a coroutine to that loop with
run_coroutine_threadsafe and waits on a gevent AsyncResult that the loop fills in.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from typing import Any

import gevent
from gevent.event import AsyncResult
from gevent.lock import Semaphore
from locust import User, constant, events, task
from locust.exception import StopUser

import hypothesis  # noqa: F401 - imported here, before Locust's --run-time clock starts
import mcpcheck.strategies.inputs  # noqa: F401

from mcpcheck.config import make_target
from mcpcheck.load.config import LoadConfig, load_config_file
from mcpcheck.load.engine import LoadEngine, open_load_session
from mcpcheck.load.judge import is_load_error, judge
from mcpcheck.load.pool import build_pool


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser.add_argument_group("mcpcheck")
    g.add_argument("--mcp-command", default="", help="stdio server command (quoted)")
    g.add_argument("--mcp-url", default="", help="Streamable HTTP / SSE endpoint")
    g.add_argument("--mcp-transport", default="http", choices=["http", "sse"])
    g.add_argument("--mcp-config", default="", help="load config file (TOML/YAML)")
    g.add_argument("--mcp-protocol", default="", help="protocol revision (default: detect)")
    g.add_argument("--mcp-session-scope", default="process", choices=["process", "user"])


class _Runtime:
    """One per Locust process: the asyncio loop greenlet, the target, the pool, the engine."""

    def __init__(self) -> None:
        self.lock = Semaphore()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine: LoadEngine | None = None
        self.cfg: LoadConfig | None = None
        self.target = None
        self.revision: str | None = None
        self.error: str | None = None

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        """Run a coroutine on the loop greenlet; block only this greenlet until it is done."""
        assert self.loop is not None
        result = AsyncResult()

        def done(fut: Any) -> None:
            try:
                result.set(fut.result())
            except BaseException as exc:  # noqa: BLE001 - handed back to the waiting greenlet
                result.set_exception(exc)

        asyncio.run_coroutine_threadsafe(coro, self.loop).add_done_callback(done)
        return result.get(timeout=timeout)

    def start(self, options: Any) -> None:
        with self.lock:
            if self.engine is not None or self.error is not None:
                return
            try:
                self._start(options)
            except Exception as exc:  # noqa: BLE001 - shown once, every user then stops
                self.error = f"mcpcheck locust user: cannot start: {exc}"
                import logging

                logging.getLogger("mcpcheck").error(self.error)

    def _start(self, options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        gevent.spawn(self.loop.run_forever)
        cfg = load_config_file(options.mcp_config) if options.mcp_config else LoadConfig()
        self.cfg = cfg
        if options.mcp_command:
            self.target = make_target(name="locust", command=shlex.split(options.mcp_command),
                                      protocol=options.mcp_protocol or None, **({"timeout": cfg.timeout} if cfg.timeout else {}))
        elif options.mcp_url:
            self.target = make_target(name="locust", transport=options.mcp_transport, url=options.mcp_url,
                                      protocol=options.mcp_protocol or None, **({"timeout": cfg.timeout} if cfg.timeout else {}))
        else:
            raise ValueError("give --mcp-command or --mcp-url")
        self.engine = self.run(self._prepare(options.mcp_session_scope))

    async def _prepare(self, scope: str) -> LoadEngine:
        # No full era detection here: it starts and stops extra server processes, and stopping a
        # process is slow under gevent's child watcher. Try the newest era, then the handshake.
        from mcpcheck.session import HANDSHAKE_LATEST, LATEST
        from mcpcheck.transport.base import TransportError

        first = None
        for rev in [self.target.protocol] if self.target.protocol else [LATEST, HANDSHAKE_LATEST]:
            try:
                first = await open_load_session(self.target, rev)
                self.revision = rev
                break
            except TransportError as exc:
                last = exc
        if first is None:
            raise last
        sessions = [first] + [await open_load_session(self.target, self.revision) for _ in range(self.cfg.connections - 1)]
        ex = await sessions[0].request("tools/list", {})
        tools = (ex.result or {}).get("tools") or [] if ex.ok else []
        pool = await asyncio.to_thread(build_pool, tools, weights=self.cfg.tools, safety=self.target.safety,
                                       revision=self.revision, size=self.cfg.pool_size, seed=self.cfg.seed)
        if not pool.items:
            raise ValueError(f"no tool can be called ({pool.skipped or 'the server lists none'})")
        engine = LoadEngine(sessions, pool, self.cfg, self.cfg.timeout or self.target.timeout)
        await engine.calibrate()
        return engine

    async def user_engine(self) -> LoadEngine:
        """scope=user: a private session (and engine) sharing the process pool."""
        assert self.engine is not None
        session = await open_load_session(self.target, self.revision)
        eng = LoadEngine([session], self.engine.pool, self.cfg, self.engine.timeout)
        eng.owners = self.engine.owners
        return eng


RUNTIME = _Runtime()


@events.test_start.add_listener
def _prepare_before_users(environment: Any, **_kw: Any) -> None:
    """Start the server session, draw the pool and calibrate before any user spawns (and before
    Locust's --run-time clock runs). The master of a distributed run drives no MCP calls."""
    from locust.runners import MasterRunner

    if isinstance(environment.runner, MasterRunner) or environment.parsed_options is None:
        return
    try:
        RUNTIME.start(environment.parsed_options)
    except Exception:  # noqa: BLE001 - RUNTIME.error is logged; users stop with it
        pass


class ProtocolConcurrencyError(Exception):
    """A response under load that belongs to another request (load.concurrency.mixup)."""


class CallFailed(Exception):
    pass


class MCPUser(User):
    """One simulated MCP client: picks a tool by weight and a pre-generated input, calls it."""

    wait_time = constant(0)

    def on_start(self) -> None:
        try:
            RUNTIME.start(self.environment.parsed_options)
        except Exception:
            pass  # RUNTIME.error says why; shown once below
        if RUNTIME.engine is None:
            raise StopUser(RUNTIME.error or "mcpcheck locust user: not started")
        self.engine = RUNTIME.engine
        if self.environment.parsed_options.mcp_session_scope == "user":
            self.engine = RUNTIME.run(RUNTIME.user_engine())
        self.pick = self.engine.pool.picker(None)

    def on_stop(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None and engine is not RUNTIME.engine:
            RUNTIME.run(engine.sessions[0].close())

    @task
    def call_tool(self) -> None:
        item = self.pick()
        t0 = time.perf_counter()
        ex = RUNTIME.run(self.engine.call(item))
        elapsed_ms = (time.perf_counter() - t0) * 1000
        self.engine._after(ex)
        outcome, problem = judge(ex, item, None, self.engine.owners)
        exc: Exception | None = None
        if outcome == "mixup":
            exc = ProtocolConcurrencyError(f"protocol.concurrency: {problem}")
        elif is_load_error(outcome, item):  # an input that fails alone too is not a load failure
            what = ex.transport_error or (ex.error or {}).get("message") if outcome != "tool_error" else "isError result"
            exc = CallFailed(f"{outcome}: {str(what)[:200]}")
        self.environment.events.request.fire(
            request_type="tools/call",
            name=item.tool,
            response_time=elapsed_ms,
            response_length=len(ex.response_entry.raw) if ex.response_entry is not None else 0,
            exception=exc,
            context={"input": item.args},
        )

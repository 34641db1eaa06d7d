"""Real MCP servers for mcpcheck's own tests: command lines and context managers (no pytest needed).

stdio targets are plain argv lists (the transport under test starts them):
    clean_stdio_cmd()                 the official SDK's MCPServer (tests/fixtures/clean_server.py)
    broken_stdio_cmd(defect)          the same behind tests/fixtures/broken_proxy.py (one wire defect)
    everything_stdio_cmd()            @modelcontextprotocol/server-everything (npm, pinned)
    memory_stdio_cmd()                @modelcontextprotocol/server-memory, memory file in a fresh temp dir
    time_stdio_cmd()                  PyPI mcp-server-time, --local-timezone UTC

HTTP targets are context managers yielding the endpoint URL (a `ServedURL`, i.e. a str):
    clean_http(stateless=False, json_response=False)   http://127.0.0.1:PORT/mcp
    broken_http(defect, stateless=False)               http://127.0.0.1:PORT/mcp
    everything_http()                                  http://127.0.0.1:PORT/mcp   (streamableHttp)
    everything_sse()                                   http://127.0.0.1:PORT/sse   (legacy HTTP+SSE;
                                                       POSTs go to the `endpoint` event's URL,
                                                       /message?sessionId=...)

Everything listens on 127.0.0.1 only, runs in a fresh temporary working directory, in its own
process group, and is terminated as a group (SIGTERM, then SIGKILL) when the context exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
THIRDPARTY = TESTS / "thirdparty"
LOOPBACK = THIRDPARTY / "loopback.cjs"
MEMORY_TMP = THIRDPARTY / "memory_tmp.cjs"
NODE_MODULES = THIRDPARTY / "node_modules"
EVERYTHING_JS = NODE_MODULES / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
MEMORY_JS = NODE_MODULES / "@modelcontextprotocol" / "server-memory" / "dist" / "index.js"

HOST = "127.0.0.1"

# kept in step with broken_proxy.DEFECTS / broken_http.DEFECTS (tests/test_fixtures_smoke.py checks)
BROKEN_STDIO_DEFECTS = (
    "banner",
    "string_ids",
    "result_and_error",
    "null_error_member",
    "null_result_member",
    "string_error_codes",
    "reply_to_notifications",
    "unknown_method_ok",
    "echo_unknown_version",
    "bad_tool_schema",
    "duplicate_tools",
    "cursor_loop",
    "hang_on_ping",
    "crash_on_garbage",
    "accept_null_id",
    "missing_server_version",
    "swap_ids_under_load",
    "phantom_resources",
)
BROKEN_HTTP_DEFECTS = (
    "no_origin_check",
    "notification_200",
    "text_plain",
    "ignore_session",
    "get_not_found",
    "bogus_protocol_header_ok",
)


class ServerStartError(RuntimeError):
    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        # the port was taken, or the server exited at once (maybe it lost the port to someone else);
        # as opposed to a server that never started listening
        self.retryable = retryable


class NpmUnavailable(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# stdio command lines
# --------------------------------------------------------------------------------------------


def clean_stdio_cmd() -> list[str]:
    return [sys.executable, str(FIXTURES / "clean_server.py")]


def broken_stdio_cmd(defect: str, child: list[str] | None = None) -> list[str]:
    """The clean server (or `child`) behind the stdio proxy that applies one defect ("none" = passthrough)."""
    if defect not in BROKEN_STDIO_DEFECTS and defect != "none":
        raise ValueError(f"unknown stdio defect {defect!r}; one of {BROKEN_STDIO_DEFECTS}")
    return [sys.executable, str(FIXTURES / "broken_proxy.py"), "--defect", defect, "--", *(child or clean_stdio_cmd())]


def time_stdio_cmd() -> list[str]:
    """PyPI mcp-server-time (an mcp 2.x MCPServer), pinned to UTC so answers do not depend on the host."""
    return [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NpmUnavailable("node is not on PATH: the third-party npm servers need Node.js >= 20")
    return node


def everything_stdio_cmd() -> list[str]:
    ensure_npm_servers()
    return [_node(), "--require", str(LOOPBACK), str(EVERYTHING_JS), "stdio"]


def memory_stdio_cmd() -> list[str]:
    """server-memory; the preload memory_tmp.cjs points MEMORY_FILE_PATH at a fresh temp dir (removed on exit)
    unless MEMORY_FILE_PATH is already set, so it never writes next to its own code or into the repo."""
    ensure_npm_servers()
    return [_node(), "--require", str(LOOPBACK), "--require", str(MEMORY_TMP), str(MEMORY_JS)]


# --------------------------------------------------------------------------------------------
# HTTP command lines
# --------------------------------------------------------------------------------------------


def clean_http_cmd(port: int, *, stateless: bool = False, json_response: bool = False) -> list[str]:
    cmd = [*clean_stdio_cmd(), "http", "--port", str(port)]
    return cmd + (["--stateless"] if stateless else []) + (["--json"] if json_response else [])


def broken_http_cmd(defect: str, port: int, *, stateless: bool = False) -> list[str]:
    if defect not in BROKEN_HTTP_DEFECTS and defect != "none":
        raise ValueError(f"unknown HTTP defect {defect!r}; one of {BROKEN_HTTP_DEFECTS}")
    cmd = [sys.executable, str(FIXTURES / "broken_http.py"), "--defect", defect, "--port", str(port)]
    return cmd + (["--stateless"] if stateless else [])


AUTH_HTTP_DEFECTS = ("accept_bogus_token", "no_www_authenticate", "sequential_session_ids", "server_error", "scope_401", "scope_no_challenge")
AUTH_FIXTURE_TOKEN = "mcpcheck-fixture-token"
AUTH_LOW_SCOPE_TOKEN = "mcpcheck-fixture-low-scope-token"  # valid, but lacks the scope the fixture requires (A8)


def auth_http_cmd(port: int, defect: str = "none", token: str = AUTH_FIXTURE_TOKEN) -> list[str]:
    """tests/fixtures/auth_http.py: the SDK behind bearer-token auth (RFC 9728 metadata), one defect or none."""
    if defect not in AUTH_HTTP_DEFECTS and defect != "none":
        raise ValueError(f"unknown auth defect {defect!r}; one of {AUTH_HTTP_DEFECTS}")
    return [sys.executable, str(FIXTURES / "auth_http.py"), "--port", str(port), "--defect", defect, "--token", token]


def everything_http_cmd() -> list[str]:
    """server-everything in streamableHttp mode; the port comes from the PORT environment variable."""
    ensure_npm_servers()
    return [_node(), "--require", str(LOOPBACK), str(EVERYTHING_JS), "streamableHttp"]


def everything_sse_cmd() -> list[str]:
    ensure_npm_servers()
    return [_node(), "--require", str(LOOPBACK), str(EVERYTHING_JS), "sse"]


# --------------------------------------------------------------------------------------------
# running HTTP servers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the server may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


class ServedURL(str):
    """The endpoint URL (a plain str for every purpose) with the running server attached."""

    proc: subprocess.Popen
    port: int
    workdir: Path
    _stderr_path: Path

    def stderr(self) -> str:
        """Everything the server wrote on stderr so far."""
        try:
            return self._stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def _stop_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the process group we created for `proc` (start_new_session: pgid == pid), then SIGKILL."""
    pgid = proc.pid

    def group_gone() -> bool:
        proc.poll()  # reap the leader, or it lingers as a zombie member of the group
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    for sig in (signal.SIGTERM, signal.SIGKILL):
        if group_gone():
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not group_gone():
            time.sleep(0.05)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def serve_http(
    cmd: list[str],
    *,
    port: int,
    path: str = "/mcp",
    env: dict[str, str] | None = None,
    ready_timeout: float = 20,
) -> Iterator[ServedURL]:
    """Run `cmd` (an HTTP server that will listen on 127.0.0.1:`port`) and yield http://127.0.0.1:PORT{path}.

    The server runs in a fresh temporary working directory and its own process group; stdout and
    stderr go to files there. Waits until the port accepts TCP connections; if the server exits
    first or `ready_timeout` passes, raises ServerStartError carrying its stderr. On exit the whole
    group is terminated (SIGTERM, SIGKILL after a few seconds) and the directory removed.
    """
    if _accepts(port):
        raise ServerStartError(f"port {port} on {HOST} is already taken by something else", retryable=True)
    with tempfile.TemporaryDirectory(prefix="mcpcheck-server-") as tmp:
        workdir = Path(tmp)
        out_path, err_path = workdir / "stdout.log", workdir / "stderr.log"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                if proc.poll() is not None:
                    raise ServerStartError(
                        f"{cmd!r} exited with status {proc.returncode} before listening on {HOST}:{port}\n"
                        f"--- stderr ---\n{err_path.read_text(errors='replace')}"
                        f"--- stdout ---\n{out_path.read_text(errors='replace')}",
                        retryable=True,
                    )
                if _accepts(port):
                    break
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"{cmd!r} did not listen on {HOST}:{port} within {ready_timeout}s\n"
                        f"--- stderr ---\n{err_path.read_text(errors='replace')}"
                    )
                time.sleep(0.05)
            url = ServedURL(f"http://{HOST}:{port}{path}")
            url.proc, url.port, url.workdir, url._stderr_path = proc, port, workdir, err_path
            yield url
        finally:
            _stop_group(proc)


@contextlib.contextmanager
def _serve_on_free_port(
    make_cmd: Callable[[int], list[str]],
    *,
    path: str = "/mcp",
    env: Callable[[int], dict[str, str]] | None = None,
    ready_timeout: float = 20,
    attempts: int = 3,
) -> Iterator[ServedURL]:
    """serve_http on a fresh free port; if the server exits during startup (another process may
    have taken the port between free_port() and its bind) try again on another port."""
    for attempt in range(attempts):
        port = free_port()
        stack = contextlib.ExitStack()
        try:
            url = stack.enter_context(
                serve_http(make_cmd(port), port=port, path=path, env=env(port) if env else None, ready_timeout=ready_timeout)
            )
        except ServerStartError as e:
            if not e.retryable or attempt == attempts - 1:
                raise
            continue
        with stack:
            yield url
        return


def clean_http(stateless: bool = False, json_response: bool = False) -> contextlib.AbstractContextManager[ServedURL]:
    """The clean SDK server on Streamable HTTP: yields http://127.0.0.1:PORT/mcp."""
    return _serve_on_free_port(lambda port: clean_http_cmd(port, stateless=stateless, json_response=json_response))


def broken_http(defect: str, stateless: bool = False) -> contextlib.AbstractContextManager[ServedURL]:
    """The clean SDK app wrapped in one HTTP-transport defect: yields http://127.0.0.1:PORT/mcp."""
    return _serve_on_free_port(lambda port: broken_http_cmd(defect, port, stateless=stateless))


def auth_http(defect: str = "none", token: str = AUTH_FIXTURE_TOKEN) -> contextlib.AbstractContextManager[ServedURL]:
    """The SDK server that requires `Authorization: Bearer <token>`: yields http://127.0.0.1:PORT/mcp."""
    return _serve_on_free_port(lambda port: auth_http_cmd(port, defect, token))


def liveness_stdio_cmd(*args: str) -> list[str]:
    """tests/fixtures/liveness_server.py (slow, spinning, loop-blocking and dying tools); `args`: its options."""
    return [sys.executable, str(FIXTURES / "liveness_server.py"), *args]


def liveness_http(*args: str) -> contextlib.AbstractContextManager[ServedURL]:
    """The liveness fixture on Streamable HTTP (`args`: its options): yields http://127.0.0.1:PORT/mcp."""
    return _serve_on_free_port(lambda port: [*liveness_stdio_cmd(*args), "http", "--port", str(port)])


def everything_http() -> contextlib.AbstractContextManager[ServedURL]:
    """server-everything, Streamable HTTP (POST/GET/DELETE /mcp): yields http://127.0.0.1:PORT/mcp."""
    cmd = everything_http_cmd()
    return _serve_on_free_port(lambda port: cmd, env=lambda port: {"PORT": str(port)}, path="/mcp")


def everything_sse() -> contextlib.AbstractContextManager[ServedURL]:
    """server-everything, legacy HTTP+SSE: yields http://127.0.0.1:PORT/sse (GET; first event `endpoint`
    names /message?sessionId=..., where the client POSTs)."""
    cmd = everything_sse_cmd()
    return _serve_on_free_port(lambda port: cmd, env=lambda port: {"PORT": str(port)}, path="/sse")


# --------------------------------------------------------------------------------------------
# npm third-party servers
# --------------------------------------------------------------------------------------------


def _npm_state_problem() -> str | None:
    """Why node_modules does not match package-lock.json (None = up to date)."""
    lock_path = THIRDPARTY / "package-lock.json"
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"cannot read {lock_path}: {e}"
    if not NODE_MODULES.is_dir():
        return "node_modules is missing"
    for key, entry in lock.get("packages", {}).items():
        if not key.startswith("node_modules/") or entry.get("optional") or entry.get("dev") or entry.get("link"):
            continue
        manifest = THIRDPARTY / key / "package.json"
        try:
            installed = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            return f"{key} is not installed"
        if installed != entry.get("version"):
            return f"{key} is {installed}, the lock wants {entry.get('version')}"
    for js in (EVERYTHING_JS, MEMORY_JS):
        if not js.is_file():
            return f"{js} is missing"
    return None


def ensure_npm_servers() -> Path:
    """Make tests/thirdparty/node_modules match package-lock.json (`npm ci` when missing or stale).

    Guarded by an exclusive file lock (in the temp dir, keyed by this checkout) so parallel test
    workers install at most once. Returns the node_modules path. Raises NpmUnavailable when npm is
    needed but missing or fails.
    """
    if _npm_state_problem() is None:
        return NODE_MODULES
    key = hashlib.sha256(str(THIRDPARTY).encode()).hexdigest()[:16]
    lock_file = Path(tempfile.gettempdir()) / f"mcpcheck-npm-{key}.lock"
    with open(lock_file, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            problem = _npm_state_problem()  # another worker may have installed while we waited
            if problem is None:
                return NODE_MODULES
            npm = shutil.which("npm")
            if npm is None:
                raise NpmUnavailable(
                    f"tests/thirdparty needs `npm ci` ({problem}) but npm is not on PATH; install Node.js >= 20 with npm"
                )
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=THIRDPARTY,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                raise NpmUnavailable(
                    f"`npm ci` in {THIRDPARTY} failed ({problem}), status {proc.returncode}:\n{proc.stderr[-4000:]}"
                )
            problem = _npm_state_problem()
            if problem is not None:
                raise NpmUnavailable(f"`npm ci` succeeded but node_modules is still not right: {problem}")
            return NODE_MODULES
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def npm_available() -> bool:
    """True when the npm servers can be used (installed, or installable with npm)."""
    try:
        _node()
    except NpmUnavailable:
        return False
    return _npm_state_problem() is None or shutil.which("npm") is not None


__all__ = [
    "AUTH_FIXTURE_TOKEN",
    "AUTH_HTTP_DEFECTS",
    "BROKEN_HTTP_DEFECTS",
    "auth_http",
    "auth_http_cmd",
    "BROKEN_STDIO_DEFECTS",
    "FIXTURES",
    "NpmUnavailable",
    "ServedURL",
    "ServerStartError",
    "broken_http",
    "broken_http_cmd",
    "broken_stdio_cmd",
    "clean_http",
    "clean_http_cmd",
    "clean_stdio_cmd",
    "ensure_npm_servers",
    "everything_http",
    "everything_http_cmd",
    "everything_sse",
    "everything_sse_cmd",
    "everything_stdio_cmd",
    "free_port",
    "memory_stdio_cmd",
    "npm_available",
    "serve_http",
    "time_stdio_cmd",
]

"""stdio transport: the server is a subprocess speaking newline-delimited JSON on stdin/stdout.

Every stdout line is recorded, JSON or not (a non-protocol line is itself a defect, S1); stderr
is captured separately and never treated as an error (S2). The server runs in a fresh temporary
working directory so a fuzzed file tool cannot touch the user's checkout.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from typing import Any

from ..wirelog import WireEntry
from .base import Transport, TransportError, encode

# started, not yet closed (kill_all); held strongly: a transport dropped without close() is still
# ended, and its directory removed, when the run ends
LIVE: "set[StdioTransport]" = set()
LINE_LIMIT = 64 * 1024 * 1024  # longest stdout line we accept (oversized-response fuzzing)
STDERR_KEEP = 256 * 1024
STDIN_CLOSED_WAIT = 2.0  # seconds a write that found stdin closed waits for the process to exit


def absolutize(command: list[str]) -> list[str]:
    """The server runs in a fresh temporary directory, so arguments that name existing paths
    relative to the user's working directory (`python server.py`, `./run.sh`) are made
    absolute first; everything else is passed through untouched."""
    out = []
    for i, arg in enumerate(command):
        if not arg.startswith("-") and not os.path.isabs(arg) and (i == 0 and "/" in arg or i > 0) and os.path.exists(arg):
            arg = os.path.abspath(arg)
        out.append(arg)
    return out


SERVER_TMPDIR_ENV = "MCPCHECK_SERVER_TMPDIR"  # a --jobs worker: the user's TMPDIR ("": none), given back to its servers


def inherited_env() -> dict[str, str]:
    """The environment a server process inherits: this process's, without mcpcheck's own
    MCPCHECK_* settings (what a --jobs worker was told, a temporary file's path): they are not
    the server's, and a server that returns its environment would show them as its own leak.
    In a --jobs worker, TMPDIR is the worker's own (where its servers' working directories are
    made); the server gets the user's back. What mcpcheck plants on purpose (the canary) and a
    target's configured `env` are added on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCHECK_")}
    if SERVER_TMPDIR_ENV in os.environ:
        env.pop("TMPDIR", None)
        if os.environ[SERVER_TMPDIR_ENV]:
            env["TMPDIR"] = os.environ[SERVER_TMPDIR_ENV]
    return env


class StdioTransport(Transport):
    kind = "stdio"

    def __init__(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        wirelog=None,
        inherit_env: bool = True,
    ) -> None:
        super().__init__(wirelog)
        if not command:
            raise TransportError("no server command given")
        self.command = absolutize(list(command))
        self.env = dict(env or {})
        self.cwd = cwd
        self.inherit_env = inherit_env
        self.proc: asyncio.subprocess.Process | None = None
        self.workdir: str | None = None
        self.exit_code: int | None = None
        self.shutdown_seconds: float | None = None  # time to exit after stdin EOF (S4)
        self._tasks: list[asyncio.Task] = []
        self._stderr_bytes = 0
        self._write_lock = asyncio.Lock()

    def describe(self) -> str:
        return "stdio: " + " ".join(self.command)

    async def start(self) -> None:
        self.workdir = self.cwd or tempfile.mkdtemp(prefix="mcpcheck-")
        env = (inherited_env() if self.inherit_env else {}) | self.env
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.workdir,
                env=env,
                limit=LINE_LIMIT,
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            self._drop_workdir()  # leave no temporary directory behind
            raise TransportError(f"cannot start server command {self.command[0]!r}: {exc}") from exc
        except BaseException:  # cancelled while starting (the time budget ran out): no debris
            self._drop_workdir()
            raise
        LIVE.add(self)
        self.wirelog.record("out", "event", f"started: {' '.join(self.command)} (pid {self.proc.pid})")
        self._tasks = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    async def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        reader = self.proc.stdout
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # line longer than LINE_LIMIT
                chunk = await reader.read(LINE_LIMIT)
                entry = self.wirelog.record("in", "stdout", chunk, parsed=None, note="line over limit")
                entry.parse_error = "line longer than the reader limit"
                self.incoming.put_nowait(entry)
                continue
            if not line:
                break
            text = line.rstrip(b"\n")
            if text.endswith(b"\r"):
                text = text[:-1]
            entry = self.wirelog.record("in", "stdout", text)
            self.incoming.put_nowait(entry)
        self._exit_seen(await self.proc.wait())

    async def _read_stderr(self) -> None:
        assert self.proc and self.proc.stderr
        while True:
            chunk = await self.proc.stderr.read(65536)
            if not chunk:
                return
            self._stderr_bytes += len(chunk)
            if self._stderr_bytes <= STDERR_KEEP:
                self.wirelog.record("in", "stderr", chunk)

    async def send(self, message: dict[str, Any]) -> WireEntry:
        data = encode(message)
        return await self._write(data, parsed=message)

    async def send_raw(self, data: bytes, *, note: str | None = None) -> WireEntry:
        return await self._write(data.rstrip(b"\n"), note=note)

    async def _write(self, data: bytes, *, parsed: Any = None, note: str | None = None) -> WireEntry:
        if parsed is None:
            entry = self.wirelog.record("out", "stdin", data, note=note)
        else:
            entry = self.wirelog.record("out", "stdin", data, parsed=parsed, note=note)
        if not self.alive or self.proc is None or self.proc.stdin is None:
            raise TransportError(self.closed_reason or "server not started")
        async with self._write_lock:
            try:
                self.proc.stdin.write(data + b"\n")
                await self.proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as exc:
                await self._exited(STDIN_CLOSED_WAIT)
                raise TransportError(f"server closed its stdin: {exc}") from exc
        return entry

    async def _exited(self, wait: float) -> None:
        """A server that closed its stdin is ending: once its process has exited (within
        `wait`), the transport is gone, as the stdout reader would say a moment later; a check
        made right after this failed write must not see a live server (a busy machine delays
        the reader)."""
        assert self.proc is not None
        try:
            code = await asyncio.wait_for(asyncio.shield(self.proc.wait()), wait)
        except asyncio.TimeoutError:
            return  # it closed stdin but runs on: the reader says when it ends
        self._exit_seen(code)

    def _exit_seen(self, code: int) -> None:
        """The process exited with `code`: the transport is gone (the stdout reader, _exited)."""
        self.exit_code = code
        self._gone(f"server process exited with code {code}")

    async def close(self, grace: float = 2.0) -> None:
        self.closing = True
        proc = self.proc
        if proc is None:
            return
        try:
            await self._end(proc, grace)
        except BaseException:  # cancelled while closing (the time budget ran out): kill, no debris
            self._signal(signal.SIGKILL)
            raise
        finally:
            self._drop_workdir()
            LIVE.discard(self)

    async def _end(self, proc: asyncio.subprocess.Process, grace: float) -> None:
        if proc.returncode is None:
            t0 = time.monotonic()
            try:
                if proc.stdin and not proc.stdin.is_closing():
                    proc.stdin.close()
                await asyncio.wait_for(proc.wait(), grace)
                self.shutdown_seconds = time.monotonic() - t0
            except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
                self._signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), grace)
                except asyncio.TimeoutError:
                    self._signal(signal.SIGKILL)
                    await proc.wait()
        else:
            # Child gone; make sure its own children (npm wrappers etc.) go too.
            self._signal(signal.SIGKILL)
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                task.cancel()
        self._gone(self.closed_reason or f"closed by mcpcheck (exit code {proc.returncode})")

    def _drop_workdir(self) -> None:
        """Remove the temporary working directory mcpcheck made for the server (not a given cwd)."""
        if self.workdir and not self.cwd:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_all() -> None:
    """End every server this process started and has not closed, with its process group, and
    remove their temporary directories (a --jobs worker the parent ends: mcpcheck/jobs.py; the
    end of a run whose budget ran out while a server was being started or closed: runner.run)."""
    for t in list(LIVE):
        t._signal(signal.SIGKILL)
        t._drop_workdir()
        LIVE.discard(t)

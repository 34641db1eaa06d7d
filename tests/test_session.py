"""The session core against real processes: correlation, concurrency, timeouts, crashes, WireLog."""

import asyncio
import sys
import time
from pathlib import Path

import pytest

from mcpcheck.session import Session
from mcpcheck.transport.base import TransportError
from mcpcheck.transport.stdio import StdioTransport

SCRIPTED = str(Path(__file__).parent / "rawservers" / "scripted.py")


def scripted(mode: str, timeout: float = 3.0) -> Session:
    return Session(StdioTransport([sys.executable, SCRIPTED, mode]), timeout=timeout)


def run(coro):
    return asyncio.run(coro)


def test_out_of_order_responses_are_correlated_by_id():
    async def go():
        async with scripted("reverse") as s:
            await s.initialize()
            exs = await asyncio.gather(*(s.request(f"m/{i}") for i in range(5)))
            return [(ex.request["id"], ex.result["echo"]) for ex in exs]

    pairs = run(go())
    assert [m for _, m in pairs] == [f"m/{i}" for i in range(5)]


def test_overlapping_requests_all_complete_concurrently():
    async def go():
        async with scripted("late") as s:
            await s.initialize()
            t0 = time.monotonic()
            exs = await asyncio.gather(*(s.request("x") for _ in range(20)))
            return exs, time.monotonic() - t0

    exs, elapsed = run(go())
    assert all(ex.ok for ex in exs)
    assert len({ex.request["id"] for ex in exs}) == 20
    assert elapsed < 20 * 0.2  # they overlapped instead of queueing behind each other


def test_a_hang_is_bounded_and_recorded():
    async def go():
        async with scripted("hang", timeout=0.5) as s:
            ex = await s.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}})
            return ex, s.wirelog

    ex, log = run(go())
    assert ex.timed_out and ex.response is None
    assert any(e.channel == "event" and "no response to initialize" in e.raw for e in log.entries)


def test_a_crash_fails_the_pending_request_and_reports_the_exit_code():
    async def go():
        async with scripted("die") as s:
            await s.initialize()
            ex = await s.request("boom")
            return ex, s.transport.exit_code

    ex, code = run(go())
    assert ex.transport_error and "exited with code 7" in ex.transport_error
    assert code == 7


def test_missing_command_is_a_clear_transport_error():
    async def go():
        s = Session(StdioTransport(["mcpcheck-no-such-binary-xyz"]))
        await s.start()

    with pytest.raises(TransportError, match="cannot start server command"):
        run(go())


def test_wirelog_records_both_directions_raw_and_parsed():
    async def go():
        async with scripted("echo") as s:
            await s.initialize()
            await s.request("tools/list", {})
            return s.wirelog

    log = run(go())
    outs = [e for e in log.entries if e.direction == "out" and e.channel == "stdin"]
    ins = [e for e in log.entries if e.direction == "in" and e.channel == "stdout"]
    assert outs[0].parsed["method"] == "initialize" and '"initialize"' in outs[0].raw
    assert ins[-1].parsed["result"] == {"echo": "tools/list"}
    assert all(b.t >= a.t for a, b in zip(log.entries, log.entries[1:]))


def test_server_runs_in_a_fresh_temporary_directory():
    async def go():
        t = StdioTransport([sys.executable, "-c", "import os,sys; print(os.getcwd()); sys.stdout.flush()"])
        s = Session(t)
        await s.start()
        await asyncio.sleep(0.5)
        wd = t.workdir
        await s.close()
        return wd, s.wirelog

    wd, log = run(go())
    line = next(e.raw for e in log.entries if e.channel == "stdout")
    assert Path(line).resolve() == Path(wd).resolve()
    assert Path(line).resolve() != Path.cwd().resolve()
    assert not Path(wd).exists()  # removed afterwards


def test_a_cancelled_start_or_close_leaves_no_directory_and_no_process(monkeypatch, tmp_path):
    """The time budget can cancel a server's start or close (a CI run left a server's working
    directory behind): the directory is removed either way, the process is ended, and a server
    started but never closed is ended with its directory when the run ends (kill_all)."""
    from mcpcheck.transport import stdio

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]

    async def go() -> list[int]:
        starting = asyncio.create_task(StdioTransport(stubborn).start())
        await asyncio.sleep(0)  # inside start: the directory is made, the process is starting
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        t = StdioTransport(stubborn)
        await t.start()
        closing = asyncio.create_task(t.close(grace=5))
        await asyncio.sleep(0.3)  # it ignores stdin EOF and SIGTERM: close is still waiting
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        left = StdioTransport(stubborn)
        await left.start()  # never closed
        stdio.kill_all()  # what runner.run does when its run ends
        await asyncio.wait_for(left.proc.wait(), 5)
        await asyncio.wait_for(t.proc.wait(), 5)
        return [t.proc.returncode, left.proc.returncode]

    assert asyncio.run(go()) == [-9, -9]  # both ended (SIGKILL: they ignore SIGTERM)
    assert not list(tmp_path.iterdir())


def test_the_server_does_not_inherit_mcpchecks_own_settings(monkeypatch):
    """A server's environment is the user's, without mcpcheck's MCPCHECK_* settings (a --jobs
    worker's temporary file path there was reported as the server leaking a file path); what
    mcpcheck plants on purpose (the canary) still arrives."""
    monkeypatch.setenv("MCPCHECK_CORPUS_AT_START", "/tmp/mcpcheck-corpus-at-start-x.json")
    monkeypatch.setenv("MCPCHECK_SOME_OTHER_SETTING", "not the server's")
    monkeypatch.setenv("SOME_USER_SETTING", "kept")
    script = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(('MCPCHECK_', 'SOME_USER'))}), flush=True)"

    async def go() -> dict:
        t = StdioTransport([sys.executable, "-c", script], env={"MCPCHECK_CANARY_SECRET": "planted"})
        await t.start()
        try:
            entry = await asyncio.wait_for(t.incoming.get(), 30)
            return entry.parsed
        finally:
            await t.close()

    seen = asyncio.run(go())
    assert seen == {"MCPCHECK_CANARY_SECRET": "planted", "SOME_USER_SETTING": "kept"}, seen


def test_a_jobs_worker_gives_its_servers_the_users_tmpdir(monkeypatch, tmp_path):
    """A --jobs worker's TMPDIR is its own (its servers' working directories, removed with it);
    the server gets the user's TMPDIR back, or none if the user had none."""
    from mcpcheck.transport.stdio import SERVER_TMPDIR_ENV, inherited_env

    monkeypatch.setenv("TMPDIR", str(tmp_path / "worker"))
    monkeypatch.setenv(SERVER_TMPDIR_ENV, "/users/tmp")
    assert inherited_env()["TMPDIR"] == "/users/tmp" and SERVER_TMPDIR_ENV not in inherited_env()
    monkeypatch.setenv(SERVER_TMPDIR_ENV, "")
    assert "TMPDIR" not in inherited_env()
    monkeypatch.delenv(SERVER_TMPDIR_ENV)
    assert inherited_env()["TMPDIR"] == str(tmp_path / "worker")  # not a worker: as it is

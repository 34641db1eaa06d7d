"""Session overhead benchmark (issue 2): prints figures, asserts nothing.

In one run against the same stdio fixture server (the official SDK's MCPServer):
  1. a raw JSON-RPC loop (blocking pipes, one request in flight) -> calls/s
  2. mcpcheck's Session (asyncio transport, WireLog, correlation, timeouts) -> calls/s
  3. their ratio (target: session >= 70% of the raw loop)
  4. the wall time of a full `mcpcheck run` against @modelcontextprotocol/server-everything (stdio)
Usage: python benchmarks/bench_session.py [--calls N]  (tox -e bench)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcpcheck.session import Session  # noqa: E402
from mcpcheck.transport.stdio import StdioTransport  # noqa: E402

SERVER = [sys.executable, os.environ.get("BENCH_SERVER", str(ROOT / "tests" / "fixtures" / "clean_server.py"))]
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
CALL = {"name": "add", "arguments": {"a": 2, "b": 3}}


STATELESS_META = {  # the per-request envelope of the stateless era (2026-07-28)
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
}


def raw_loop(calls: int, era: str = "2025-11-25") -> float:
    """calls/s of blocking pipes, one request in flight, fixed arguments. `era` 2026-07-28: no
    handshake, the `_meta` envelope on every request (as mcpcheck's Session sends it)."""
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    rf, wf = proc.stdout, proc.stdin
    stateless = era == "2026-07-28"
    call = {**CALL, "_meta": STATELESS_META} if stateless else CALL

    def rpc(i: int, method: str, params: dict) -> dict:
        wf.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode())
        while True:
            msg = json.loads(rf.readline())
            if msg.get("id") == i:
                return msg

    if not stateless:
        rpc(0, "initialize", {**INIT, "protocolVersion": era})
        wf.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    for i in range(1, 21):  # warm-up
        rpc(i, "tools/call", call)
    t0 = time.perf_counter()
    for i in range(100, 100 + calls):
        assert "result" in rpc(i, "tools/call", call)
    dt = time.perf_counter() - t0
    proc.stdin.close()
    proc.wait(5)
    return calls / dt


async def session_loop(calls: int) -> float:
    s = Session(StdioTransport(SERVER), timeout=10)
    await s.start()
    assert (await s.initialize("2025-11-25")).ok
    for _ in range(20):
        await s.request("tools/call", CALL)
    t0 = time.perf_counter()
    for _ in range(calls):
        assert (await s.request("tools/call", CALL)).ok
    dt = time.perf_counter() - t0
    await s.close()
    return calls / dt


def full_run_everything() -> float | None:
    npm = ROOT / "tests" / "thirdparty" / "node_modules" / ".bin" / "mcp-server-everything"
    if not npm.exists():
        return None
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mcpcheck.cli", "run", "--quiet", "--report-dir", str(ROOT / ".mcpcheck" / "bench"), "--", "node", str(npm)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    raws, sess = [], []
    for _ in range(args.rounds):  # interleave so machine noise hits both alike
        raws.append(raw_loop(args.calls))
        sess.append(asyncio.run(session_loop(args.calls)))
    raw, ses = max(raws), max(sess)
    print(f"raw JSON-RPC loop      : {raw:8.0f} calls/s  (best of {args.rounds}: {', '.join(f'{x:.0f}' for x in raws)})")
    print(f"mcpcheck Session       : {ses:8.0f} calls/s  (best of {args.rounds}: {', '.join(f'{x:.0f}' for x in sess)})")
    print(f"session / raw          : {ses / raw:8.2%}  (target >= 70%)")
    wall = full_run_everything()
    if wall is None:
        print("full run, server-everything: skipped (npm servers not installed; run the tests once)")
    else:
        print(f"full `mcpcheck run`, server-everything stdio: {wall:.1f} s wall")


if __name__ == "__main__":
    main()

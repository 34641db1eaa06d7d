"""Load-generator benchmark (issue 5): prints figures, asserts nothing.

In one run against the same fast fixture (tests/fixtures/load_raw_fast_server.py, a raw JSON-RPC
stdio server that answers tens of thousands of calls/s, so the generator is what is measured):

  1. our generator, one process, closed model with N clients (swept): calls/s at saturation, and its
     own CPU cost per call (CPU seconds of this process / calls), every response still judged
  2. our generator, open model, stress steps: the highest offered rate it sustains (achieved
     >= 95% of offered, p99 below the limit, nothing dropped)
  3. Locust 2.x, one process, the same numbers of users, driving the same server through the
     same Session (conformance/load/locust_user.py): calls/s
  4. each side's highest calls/s over the sweep, and the ratio ours / Locust (target: >= 2)

Usage: python benchmarks/bench_load.py [--seconds 8] [--clients 16,64]   (tox -e bench)
Note: the machine has 2 cores, and the server process needs one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcpcheck.config import make_target  # noqa: E402
from mcpcheck.load.campaign import run_load_target  # noqa: E402

SERVER = [sys.executable, str(ROOT / "tests" / "fixtures" / "load_raw_fast_server.py")]
QUIET = {"charts": [], "slow_inputs": {"enabled": False}, "degradation": {"enabled": False}, "pool_size": 50}


def ours_closed(seconds: float, clients: int, report_dir: str) -> dict:
    t = make_target(name="raw-fast", command=SERVER, protocol="2025-11-25", timeout=10)
    cfg = {**QUIET, "pattern": "constant", "model": "closed", "clients": clients, "duration": seconds, "warmup": 1.0, "report_dir": report_dir}
    run, ctx, _ = asyncio.run(run_load_target(t, cfg))
    s, g = run.summary, run.data["generator"]
    return {"calls_per_s": s["throughput"], "p50_ms": s.get("p50_ms"), "p99_ms": s.get("p99_ms"), "errors": s["errors"],
            "mixups": s.get("mixup", 0), "cpu_us_per_call": g["cpu_us_per_call"], "calls": s["calls"],
            "findings": sorted({f.check for f in ctx.findings})}


def ours_open(step_seconds: float, report_dir: str, start: float, step: float, limit: float) -> dict:
    t = make_target(name="raw-fast-open", command=SERVER, protocol="2025-11-25", timeout=10)
    cfg = {**QUIET, "pattern": "stress", "model": "open", "report_dir": report_dir, "max_in_flight": 256, "warmup": 1.0,
           "stress": {"start": start, "step": step, "max": limit, "step_duration": step_seconds, "max_error_rate": 0.0, "max_p99_ms": 100}}
    run, _ctx, _ = asyncio.run(run_load_target(t, cfg))
    steps = run.data["stress"]["steps"]
    good = [r for r in steps if not r["broken"] and r["throughput"] >= 0.95 * r["level"]]
    return {"sustained_calls_per_s": max((r["throughput"] for r in good), default=None),
            "breaking_point": run.data["stress"]["breaking_point"], "broken_by": run.data["stress"]["broken_by"],
            "steps": [(r["level"], r["throughput"], r["p99_ms"]) for r in steps]}


def locust(seconds: float, users: int) -> dict:
    locust_bin = Path(sys.executable).with_name("locust")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "run")
        cmd = [str(locust_bin), "-f", str(ROOT / "conformance" / "load" / "locust_user.py"), "--headless",
               "-u", str(users), "-r", str(users), "-t", f"{int(seconds + 3)}s", "--only-summary", "--csv", prefix, "--csv-full-history",
               "--mcp-command", shlex.join(SERVER), "--mcp-config", str(Path(tmp) / "cfg.toml")]
        (Path(tmp) / "cfg.toml").write_text("pool_size = 50\n")
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=seconds + 120)
        wall = time.monotonic() - t0
        rows = list(csv.DictReader(open(prefix + "_stats.csv"))) if os.path.exists(prefix + "_stats.csv") else []
        hist = list(csv.DictReader(open(prefix + "_stats_history.csv"))) if os.path.exists(prefix + "_stats_history.csv") else []
    agg = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if agg is None:
        return {"error": (proc.stderr or proc.stdout)[-800:]}
    # Locust's own Requests/s averages over the whole run, start-up (pool, calibration) included;
    # the steady state is the growth of its request count once every user runs.
    full = [(int(r["Timestamp"]), int(r["Total Request Count"])) for r in hist
            if r.get("Name") == "Aggregated" and r.get("User Count") == str(users) and int(r["Total Request Count"]) > 0]
    steady = (full[-1][1] - full[0][1]) / (full[-1][0] - full[0][0]) if len(full) > 2 and full[-1][0] > full[0][0] else None
    return {"calls_per_s": round(steady, 1) if steady else round(float(agg["Requests/s"]), 1),
            "calls_per_s_whole_run": round(float(agg["Requests/s"]), 1), "calls": int(agg["Request Count"]), "failures": int(agg["Failure Count"]),
            "p50_ms": float(agg["50%"]), "p99_ms": float(agg["99%"]), "wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clients", default="16,64", help="closed-model clients = Locust users; a comma list is swept and each side's best is kept")
    ap.add_argument("--no-open", action="store_true", help="skip the open-model stress search")
    args = ap.parse_args()
    sweep = [int(c) for c in args.clients.split(",") if c.strip()]
    with tempfile.TemporaryDirectory() as rd:
        print(f"fixture: {shlex.join(SERVER)} (stdio); cores: {os.cpu_count()}")
        best_ours = best_lo = None
        for n in sweep:
            ours = ours_closed(args.seconds, n, rd)
            print(f"ours   (closed, {n} clients, {args.seconds:g} s): {ours['calls_per_s']:.0f} calls/s, "
                  f"p50 {ours['p50_ms']} ms, p99 {ours['p99_ms']} ms, errors {ours['errors']}, mix-ups {ours['mixups']}, "
                  f"generator CPU {ours['cpu_us_per_call']} us/call ({ours['calls']} calls; findings: {ours['findings'] or 'none'})")
            lo = locust(args.seconds, n)
            if "error" in lo:
                print(f"locust ({n} users): failed: {lo['error']}")
                continue
            print(f"locust (1 process, {n} users, same Session + pool): {lo['calls_per_s']:.0f} calls/s, "
                  f"p50 {lo['p50_ms']} ms, p99 {lo['p99_ms']} ms, failures {lo['failures']} ({lo['calls']} calls; whole-run average incl. start-up {lo['calls_per_s_whole_run']:.0f} calls/s)")
            if best_ours is None or ours["calls_per_s"] > best_ours["calls_per_s"]:
                best_ours = {**ours, "clients": n}
            if best_lo is None or lo["calls_per_s"] > best_lo["calls_per_s"]:
                best_lo = {**lo, "users": n}
        if not args.no_open and best_ours:
            top = max(2000.0, best_ours["calls_per_s"] * 1.2)
            op = ours_open(2.0, rd, start=round(top / 8, -2) or 250, step=round(top / 8, -2) or 250, limit=top)
            print(f"ours   (open, stress steps of 2 s, limit p99 100 ms): highest sustained {op['sustained_calls_per_s']} calls/s; "
                  f"broke at {op['breaking_point']} ({op['broken_by']}); steps (offered, achieved, p99 ms): {op['steps']}")
        if best_ours and best_lo:
            print(f"highest: ours {best_ours['calls_per_s']:.0f} calls/s ({best_ours['clients']} clients, {best_ours['cpu_us_per_call']} us CPU/call), "
                  f"locust {best_lo['calls_per_s']:.0f} calls/s ({best_lo['users']} users)")
            print(f"ratio ours/locust: {best_ours['calls_per_s'] / best_lo['calls_per_s']:.2f}x (target >= 2x per process)")


if __name__ == "__main__":
    main()

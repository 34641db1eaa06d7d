"""Whole-run benchmark (issue 14): prints figures beside the issue's goals, asserts nothing.

On fixed servers over stdio (the clean fixture, PyPI mcp-server-time, npm server-everything),
each through the real CLI in a fresh temporary directory:
  1. wall time of `mcpcheck run --campaign all` with `--jobs 1` and with `--jobs <cores>` (when
     `mcpcheck run --help` lists --jobs; otherwise one run, and a line saying so), and the time
     each campaign took in that run (the --jobs 1 run is driven by this script in a child process
     that times each campaign function the runner calls; no change to what runs);
  2. wall time of `mcpcheck run --profile quick` (its own --max-time, 60 s);
  3. fuzz calls/s beside the raw JSON-RPC loop on the clean fixture (bench_fuzz.fuzz_vs_raw).
Goals printed beside: quick <= 30 s on a 5-tool server, server-everything full (`all`) <= 60 s,
a full run on a 5-tool server <= 30 s, fuzz >= 50% of raw. A server that is not installed is
skipped with a line saying so. Findings are not judged here (the tests do).

Usage: python benchmarks/bench_run.py [--servers clean,time,sqlite,everything] [--max-time 900] [--skip-fuzz]
(sqlite: mcp-server-sqlite, 6 tools, in its own venv with mcp<2: MCPCHECK_BENCH_SQLITE=path/to/it)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

GOAL_QUICK = 30.0  # s, quick profile on a 5-tool server
GOAL_FULL_SMALL = 30.0  # s, a full run on a 5-tool server
GOAL_FULL_EVERYTHING = 60.0  # s, server-everything full run
GOAL_FUZZ_RATIO = 0.5  # fuzz calls/s over the raw loop's


def servers() -> dict[str, tuple[list[str] | None, str]]:
    """name -> (stdio command, or None and why it is skipped)."""
    import importlib.util

    from servers import NpmUnavailable, clean_stdio_cmd, everything_stdio_cmd, time_stdio_cmd

    out: dict[str, tuple[list[str] | None, str]] = {"clean": (clean_stdio_cmd(), "tests/fixtures/clean_server.py (8 tools, 7 callable)")}
    census = ROOT / ".census" / "venv-mcp2" / "bin" / "mcp-server-time"
    if importlib.util.find_spec("mcp_server_time") is not None:
        out["time"] = (time_stdio_cmd(), "mcp-server-time (PyPI, 2 tools)")
    elif census.exists():
        out["time"] = ([str(census), "--local-timezone", "UTC"], f"mcp-server-time ({census}, 2 tools)")
    else:
        out["time"] = (None, "mcp-server-time is not installed (pip install mcp-server-time)")
    # a real server of about five tools (6): mcp-server-sqlite needs mcp<2, so its own venv
    # (MCPCHECK_BENCH_SQLITE=path/to/mcp-server-sqlite, or .census/venv-mcp1); optional
    import tempfile

    sqlite = os.environ.get("MCPCHECK_BENCH_SQLITE") or str(ROOT / ".census" / "venv-mcp1" / "bin" / "mcp-server-sqlite")
    if Path(sqlite).exists():
        db = Path(tempfile.mkdtemp(prefix="mcpcheck-bench-sqlite-")) / "bench.db"
        out["sqlite"] = ([sqlite, "--db-path", str(db)], f"mcp-server-sqlite ({sqlite}, 6 tools)")
    else:
        out["sqlite"] = (None, "mcp-server-sqlite is not installed (its own venv with mcp<2; MCPCHECK_BENCH_SQLITE=path/to/mcp-server-sqlite)")
    try:
        out["everything"] = (everything_stdio_cmd(), "@modelcontextprotocol/server-everything (npm, stdio, 13 tools)")
    except NpmUnavailable as exc:
        out["everything"] = (None, f"server-everything is not available: {exc}")
    return out


def has_jobs() -> bool:
    proc = subprocess.run([sys.executable, "-m", "mcpcheck.cli", "run", "--help"], capture_output=True, text=True, timeout=120)
    return "--jobs" in proc.stdout


def run_cli(args: list[str], *, timed: bool = False) -> tuple[float, dict | None, dict[str, float], str]:
    """One CLI run in a fresh directory: (wall s, report.json or None, per-campaign seconds, stderr tail)."""
    with tempfile.TemporaryDirectory(prefix="mcpcheck-bench-") as tmp:
        work = Path(tmp)
        (work / "tmp").mkdir()
        timings = work / "timings.json"
        argv = [sys.executable, str(Path(__file__).resolve()), "--driver", str(timings), "--", *args] if timed else [sys.executable, "-m", "mcpcheck.cli", *args]
        env = {**os.environ, "TMPDIR": str(work / "tmp"), "MCPCHECK_CORPUS": str(work / "corpus")}
        t0 = time.monotonic()
        proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, env=env, timeout=3600)
        wall = time.monotonic() - t0
        report_file = work / "mcpcheck-report" / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else None
        per = json.loads(timings.read_text()) if timings.exists() else {}
        return wall, report, per, proc.stderr[-600:]


def driver(timings: str, args: list[str]) -> int:
    """Child process: the real CLI, with each campaign function the runner calls timed."""
    from mcpcheck import cli, runner

    spent: dict[str, float] = {}
    original = runner.campaigns

    def timed_campaigns():
        out = {}
        for name, fn in original().items():
            async def wrapped(ctx, result, _fn=fn, _name=name):
                t0 = time.monotonic()
                try:
                    return await _fn(ctx, result)
                finally:
                    spent[_name] = spent.get(_name, 0.0) + time.monotonic() - t0
            out[name] = wrapped
        return out

    runner.campaigns = timed_campaigns
    try:
        return cli.main(args)
    finally:
        Path(timings).write_text(json.dumps(spent))


def cut_line(report: dict | None) -> str:
    if report is None:
        return "no report written"
    notes = [n for t in report["targets"] for n in t["notes"] if n.startswith("time budget:")]
    tools = {c["tool"]: c["calls"] for t in report["targets"] for c in t.get("constraints", []) if not c.get("skipped")}
    fuzzed = sum(1 for n in tools.values() if n > 0)
    return f"{len(notes)} time-budget note(s); tools fuzzed {fuzzed}/{len(tools)} callable" if tools else f"{len(notes)} time-budget note(s)"


def verdict(value: float, goal: float, *, at_most: bool = True) -> str:
    ok = value <= goal if at_most else value >= goal
    return "meets" if ok else "MISSES"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", default="clean,time,sqlite,everything")
    ap.add_argument("--max-time", type=float, default=900, help="--max-time of the `--campaign all` runs (the full profile's)")
    ap.add_argument("--skip-fuzz", action="store_true", help="leave out the fuzz-vs-raw figures (bench_fuzz.py prints them too)")
    ap.add_argument("--skip-all", action="store_true", help="leave out the `--campaign all` runs (quick and fuzz figures only)")
    args = ap.parse_args()

    cores = os.cpu_count() or 1
    jobs = has_jobs()
    print(f"mcpcheck run benchmark: {cores} cores; --jobs " + ("available" if jobs else "not available in this build"))
    known = servers()
    for name in [s.strip() for s in args.servers.split(",") if s.strip()]:
        cmd, about = known.get(name, (None, f"unknown server {name!r} (known: {', '.join(known)})"))
        if cmd is None:
            print(f"\n[{name}] skipped: {about}")
            continue
        print(f"\n[{name}] {about}")
        full_goal = GOAL_FULL_EVERYTHING if name == "everything" else GOAL_FULL_SMALL
        # the 30 s goal is for a server of about five tools: said beside the others' figures
        about_goal = "" if name in ("everything", "sqlite", "time") else "; the 30 s goal is for a 5-tool server, this one has more"
        if not args.skip_all:
            base = ["run", "--campaign", "all", "--max-time", f"{args.max_time:g}", "--quiet", "--", *cmd]
            wall, report, per, tail = run_cli(base[:1] + (["--jobs", "1"] if jobs else []) + base[1:], timed=True)
            label = "--jobs 1" if jobs else "one run (no --jobs)"
            print(f"  --campaign all, {label}: {wall:6.1f} s   (goal <= {full_goal:g} s: {verdict(wall, full_goal)}{about_goal}; {cut_line(report)})")
            if per:
                print("    per campaign: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))
            else:
                print("    per campaign: not measured (the runner's campaign table could not be timed)" + (f"; stderr: {tail!r}" if report is None else ""))
            if jobs:
                wall_n, report_n, _per, _tail = run_cli(base[:1] + ["--jobs", str(cores)] + base[1:])
                print(f"  --campaign all, --jobs {cores}: {wall_n:6.1f} s   (goal <= {full_goal:g} s: {verdict(wall_n, full_goal)}{about_goal}; "
                      f"{wall / wall_n if wall_n else 0:.2f}x the --jobs 1 run; {cut_line(report_n)})")
            else:
                print("  --jobs: not available in this build (the single run above is the figure)")
        wall_q, report_q, _per, _tail = run_cli(["run", "--profile", "quick", "--quiet", "--", *cmd])
        tools = len(report_q["targets"][0]["tools"]) if report_q else 0
        goal_note = f"goal <= {GOAL_QUICK:g} s on a 5-tool server: {verdict(wall_q, GOAL_QUICK)}" if tools <= 8 else f"{tools} tools: the goal is for a 5-tool server"
        print(f"  --profile quick: {wall_q:6.1f} s   ({goal_note}; {cut_line(report_q)})")

    if not args.skip_fuzz:
        from bench_fuzz import fuzz_vs_raw

        print("\n[fuzz vs raw] clean fixture, tool add, valid inputs (bench_fuzz.py section 3)")
        for era in ("2025-11-25", "2026-07-28"):
            raw, fuzz, n = fuzz_vs_raw(era, 500)
            ratio = fuzz / raw if raw else 0.0
            print(f"  [{era}] raw {raw:.0f} calls/s, fuzz {fuzz:.0f} calls/s over {n} calls: {ratio:.0%} (goal >= {GOAL_FUZZ_RATIO:.0%}: {verdict(ratio, GOAL_FUZZ_RATIO, at_most=False)})")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--driver":
        rest = sys.argv[3:]
        sys.exit(driver(sys.argv[2], rest[1:] if rest[:1] == ["--"] else rest))
    main()

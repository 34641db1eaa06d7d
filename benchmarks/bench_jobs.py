"""`--jobs` benchmark (issue 14): prints figures, asserts nothing.

Wall time of `mcpcheck run --campaign all` (the real CLI, one run each) with `--jobs 1` and with
`--jobs` = the number of cores, on fixed stdio servers: the clean fixture
(tests/fixtures/clean_server.py) and PyPI mcp-server-time (pinned to UTC); the ratio; and the
number of findings of each run (the same seed gives the same findings).

Usage: python benchmarks/bench_jobs.py [--seed 1] [--max-examples 25]   (tox -e bench)
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mcpcheck.jobs import cores  # noqa: E402
from servers import clean_stdio_cmd, time_stdio_cmd  # noqa: E402


def one(command: list[str], jobs: int, seed: int, examples: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as work:
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "mcpcheck.cli", "run", "--campaign", "all", "--jobs", str(jobs), "--seed", str(seed),
             "--max-examples", str(examples), "--quiet", "--corpus", f"{work}/corpus", "--report-dir", f"{work}/report", "--", *command],
            cwd=work, capture_output=True, text=True, timeout=1800, env={k: v for k, v in os.environ.items() if k != "MCPCHECK_JOBS"},
        )
        wall = time.monotonic() - t0
        try:
            rep = json.loads(Path(work, "report", "report.json").read_text())
        except OSError:
            print(proc.stderr[-2000:], file=sys.stderr)
            return wall, -1, proc.returncode
        return wall, len(rep["findings"]), proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-examples", type=int, default=25)
    args = ap.parse_args()
    n = cores()
    servers = {"clean fixture": clean_stdio_cmd()}
    try:
        import mcp_server_time  # noqa: F401

        servers["mcp-server-time"] = time_stdio_cmd()
    except ImportError:
        print("mcp-server-time: not installed, skipped")
    print(f"mcpcheck run --campaign all --seed {args.seed} --max-examples {args.max_examples}; {n} cores")
    for name, cmd in servers.items():
        w1, f1, c1 = one(cmd, 1, args.seed, args.max_examples)
        wn, fn, cn = one(cmd, n, args.seed, args.max_examples)
        print(f"{name:>16}: --jobs 1 {w1:6.1f} s ({f1} findings, exit {c1}); --jobs {n} {wn:6.1f} s ({fn} findings, exit {cn}); ratio {wn / w1:.2f}")


if __name__ == "__main__":
    main()

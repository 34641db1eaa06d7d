"""The Locust user (conformance/load/locust_user.py) run by real Locust processes."""

from __future__ import annotations

import csv
import json
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
LOCUSTFILE = ROOT / "conformance" / "load" / "locust_user.py"
LOCUST = Path(sys.executable).with_name("locust")

pytestmark = pytest.mark.skipif(not LOCUST.exists(), reason="locust is not installed")


def stats(prefix: Path) -> dict[str, dict[str, int]]:
    """Locust's final stats (--json-file): requests and failures per name, plus "Aggregated"."""
    rows = {e["name"]: {"Request Count": e["num_requests"], "Failure Count": e["num_failures"]}
            for e in json.loads(Path(f"{prefix}.json").read_text())}
    rows["Aggregated"] = {k: sum(r[k] for r in rows.values()) for k in ("Request Count", "Failure Count")}
    return rows


def failures(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_failures.csv") as fh:
        return list(csv.DictReader(fh))


def run_locust(tmp: Path, server: list[str], *extra: str, seconds: int = 6) -> tuple[subprocess.CompletedProcess, Path]:
    prefix = tmp / "run"
    (tmp / "load.toml").write_text("pool_size = 10\n")
    cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-t", f"{seconds}s", "--csv", str(prefix), "--json-file", str(prefix), "--only-summary",
           "--mcp-command", shlex.join(server), "--mcp-config", str(tmp / "load.toml"), *extra]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=seconds + 90)
    return proc, prefix


def test_locust_user_reports_mixups_as_concurrency_failures(tmp_path):
    clean = [sys.executable, str(FIX / "load_fast_server.py")]
    broken = [sys.executable, str(FIX / "broken_proxy.py"), "--defect", "swap_ids_under_load", "--", *clean]
    proc, prefix = run_locust(tmp_path, broken, "-u", "4", "-r", "4", seconds=15)  # each user starts a proxy + server
    rows = stats(prefix)
    assert rows["Aggregated"]["Request Count"] > 50, proc.stderr[-2000:]
    assert {"echo", "add", "measure"} <= set(rows)  # one Locust request name per tool
    fails = failures(prefix)
    assert fails and any("protocol.concurrency" in f["Error"] for f in fails), proc.stderr[-2000:]


@pytest.mark.slow
def test_locust_user_against_a_clean_server_has_no_failures(tmp_path):
    proc, prefix = run_locust(tmp_path, [sys.executable, str(FIX / "load_fast_server.py")], "-u", "4", "-r", "4")
    rows = stats(prefix)
    assert rows["Aggregated"]["Request Count"] > 50, proc.stderr[-2000:]
    assert rows["Aggregated"]["Failure Count"] == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_documented_master_and_worker_commands(tmp_path):
    port = _free_port()
    server = shlex.join([sys.executable, str(FIX / "load_fast_server.py")])
    (tmp_path / "load.toml").write_text("pool_size = 10\n")
    worker = subprocess.Popen([str(LOCUST), "-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        master = subprocess.run(
            [str(LOCUST), "-f", str(LOCUSTFILE), "--master", "--headless", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(port), "-u", "4", "-r", "4", "-t", "6s", "--csv", str(tmp_path / "dist"), "--json-file", str(tmp_path / "dist"), "--only-summary",
             "--mcp-command", server, "--mcp-config", str(tmp_path / "load.toml")],
            cwd=tmp_path, capture_output=True, text=True, timeout=120)
        rows = stats(tmp_path / "dist")
        assert rows["Aggregated"]["Request Count"] > 50, master.stderr[-2000:]
        assert rows["Aggregated"]["Failure Count"] == 0
    finally:
        worker.terminate()
        worker.wait(20)

"""The health monitor against real servers: liveness per era, metrics files, thresholds, commands."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mcpcheck.config import ConfigError, make_target
from mcpcheck.monitor import monitor, parse_monitor_config

FIX = Path(__file__).parent / "fixtures"
PY = sys.executable


def t(script: str, name: str, **kw):
    return make_target(name=name, command=[PY, str(FIX / script)], **kw)


def test_config_needs_a_bound_and_names_bad_keys():
    with pytest.raises(ConfigError, match="unknown key 'thresholds.latency'"):
        parse_monitor_config({"thresholds": {"latency": 3}})
    from mcpcheck.monitor import monitor_async
    import asyncio

    with pytest.raises(ConfigError, match="duration or a count"):
        asyncio.run(monitor_async([t("load_fast_server.py", "x")], {}))


def test_two_eras_up_with_jsonl_and_prometheus(tmp_path):
    jsonl, prom = tmp_path / "health.jsonl", tmp_path / "health.prom"
    targets = [t("load_fast_server.py", "sdk"), t("load_raw_fast_server.py", "raw")]
    res = monitor(targets, {"interval": 0.2, "count": 3, "jsonl": str(jsonl), "prometheus": str(prom),
                            "tools": {"sdk": {"name": "echo", "args": {"message": "hi"}}}, "live": False})
    assert res.exit_code == 0 and res.rounds == 3 and not res.breaches
    lines = [json.loads(l) for l in jsonl.read_text().splitlines()]
    assert len(lines) == 6 and all(l["ok"] and l["alive"] for l in lines)
    by = {l["target"]: l for l in lines}
    assert by["sdk"]["era"] == "2026-07-28" and by["sdk"]["method"] == "server/discover"  # no ping in that era
    assert by["raw"]["era"] == "2025-11-25" and by["raw"]["method"] == "ping"
    assert by["sdk"]["tool"]["ok"] and by["sdk"]["tool"]["latency_ms"] > 0
    text = prom.read_text()
    assert 'mcpcheck_up{target="sdk"} 1.0' in text and 'mcpcheck_up{target="raw"} 1.0' in text
    assert 'mcpcheck_checks_total{result="ok",target="raw"} 3.0' in text
    assert 'mcpcheck_liveness_latency_seconds_count{method="ping",target="raw"} 3.0' in text
    assert 'mcpcheck_availability_ratio{target="sdk"} 1.0' in text
    s = {r["target"]: r for r in res.summary()}
    assert s["raw"]["availability"] == 1.0 and s["raw"]["p50_ms"] is not None


def test_slow_tool_breaches_latency_and_runs_the_command_once(tmp_path):
    marker = tmp_path / "breaches.txt"
    res = monitor([t("load_slow_server.py", "slow")], {
        "interval": 0.1, "count": 3, "tool": {"name": "resolve", "args": {"n": 95}},  # the slow path: 300 ms
        "thresholds": {"latency_ms": 150}, "on_breach": f"echo \"$MCPCHECK_TARGET $MCPCHECK_BREACH\" >> {marker}",
        "live": False})
    assert res.exit_code == 1
    assert [b["kind"] for b in res.breaches] == ["latency"]  # edge-triggered: once, not every round
    assert marker.read_text().split("\n")[0] == "slow latency"
    assert res.commands and res.commands[0]["exit_code"] == 0


def test_dead_server_breaches_failures_and_can_stop_early(tmp_path):
    dead = make_target(name="dead", command=[PY, "-c", "import sys; sys.exit(3)"], timeout=2)
    res = monitor([dead], {"interval": 0.05, "count": 10, "thresholds": {"max_failures": 2}, "exit_on_breach": True, "live": False})
    assert res.exit_code == 1 and res.rounds == 2
    assert res.breaches[0]["kind"] == "failures" and "unreachable" in res.records[0]["error"]


def test_live_table_renders(tmp_path):
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=140)
    res = monitor([t("load_raw_fast_server.py", "raw")], {"interval": 0.05, "count": 2, "live": True}, console=console)
    assert res.exit_code == 0
    out = buf.getvalue()
    assert "mcpcheck monitor" in out and "raw" in out and "UP" in out


def test_monitor_command(tmp_path, capsys):
    from mcpcheck.monitor.cli import main

    code = main(["--count", "2", "--interval", "0.05", "--no-live", "--max-failures", "1", "--jsonl", str(tmp_path / "h.jsonl"),
                 "--", PY, str(FIX / "load_raw_fast_server.py")])
    assert code == 0
    assert "target: 2/2 ok (100.0%)" in capsys.readouterr().out
    assert len((tmp_path / "h.jsonl").read_text().splitlines()) == 2

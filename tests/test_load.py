"""The load suite against real fixture servers (stdio subprocesses): each defect is detected,
the clean server passes. Durations and rates are kept small; the figures are not asserted
tightly because the machine may be busy."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from mcpcheck.config import ConfigError, make_target
from mcpcheck.load.campaign import run_load_target
from mcpcheck.load.config import LoadConfig, parse_load_config
from mcpcheck.load.metrics import trend
from mcpcheck.load.patterns import arrivals, expected_calls, shape_for

FIX = Path(__file__).parent / "fixtures"
PY = sys.executable


def target(script: str, *, proxy: str | None = None, protocol: str | None = "2025-11-25", **kw):
    cmd = [PY, str(FIX / script)]
    if proxy:
        cmd = [PY, str(FIX / "broken_proxy.py"), "--defect", proxy, "--", *cmd]
    return make_target(name=script.split(".")[0], command=cmd, protocol=protocol, **kw)


def load(t, cfg: dict, tmp_path: Path, progress=lambda _m: None):
    cfg = {"report_dir": str(tmp_path), "charts": [], "pool_size": 12, **cfg}
    return asyncio.run(run_load_target(t, cfg, progress=progress))


def checks(ctx) -> dict[str, str]:
    return {k[0]: v.status for k, v in ctx.ledger.items()}


def real_findings(ctx):
    return sorted({f.check for f in ctx.findings if f.severity.value != "info"})


# ------------------------------------------------------------------ pure parts


def test_patterns_produce_the_intended_arrivals():
    cfg = LoadConfig(pattern="constant", rate=50, duration=2)
    offs = list(arrivals(shape_for(cfg)))
    assert len(offs) == 100 and offs[0] == 0 and offs[1] == pytest.approx(0.02)
    ramp = list(arrivals(shape_for(LoadConfig(pattern="ramp-up", rate=100, duration=4, ramp={"start_rate": 10}))))
    first, last = sum(1 for o in ramp if o < 1), sum(1 for o in ramp if o >= 3)
    assert last > 3 * first  # rate grows across the run
    burst = list(arrivals(shape_for(LoadConfig(pattern="burst", duration=2, burst={"size": 5, "every": 0.5}))))
    assert burst.count(0.0) == 5 and len(burst) == 20
    spike = shape_for(LoadConfig(pattern="spike", rate=10, duration=10, spike={"at": 0.5, "length": 0.2, "factor": 4}))
    offs = list(arrivals(spike))
    assert sum(1 for o in offs if 5 <= o < 7) == pytest.approx(80, abs=2)
    assert len(offs) == pytest.approx(expected_calls(spike), abs=3)
    poisson = list(arrivals(shape_for(LoadConfig(rate=200, duration=5, arrivals="poisson", seed=3))))
    assert 850 < len(poisson) < 1150
    assert shape_for(LoadConfig(pattern="baseline")).clients == 1  # baseline: one client unless told


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="unknown key 'burst.sise'"):
        parse_load_config({"burst": {"sise": 3}})
    with pytest.raises(ConfigError, match="burst needs the open model"):
        parse_load_config({"pattern": "burst", "model": "closed"})
    assert parse_load_config({"pattern": "baseline"}).model == "closed"


def test_trend_fits_a_slope():
    t = trend([(i, 10 + 2 * i) for i in range(9)])
    assert t["slope_per_s"] == pytest.approx(2) and t["r"] == pytest.approx(1) and t["ratio"] == pytest.approx(2)
    flat = trend([(i, 5.0) for i in range(9)])
    assert flat["ratio"] == 1 and flat["r"] == 0


# ------------------------------------------------------------------ real servers


def test_clean_fast_server_passes_with_metrics_and_charts(tmp_path):
    t = target("load_fast_server.py", protocol=None)  # detect: newest era (2026-07-28)
    run, ctx, result = load(t, {"duration": 3, "rate": 40, "charts": ["png", "svg"], "resource_interval": 0.25}, tmp_path)
    assert real_findings(ctx) == [], [f.detail for f in ctx.findings]
    st = checks(ctx)
    for c in ("load.concurrency.mixup", "load.concurrency.unmatched", "load.crash", "load.errors_under_load", "load.slow_inputs", "load.degradation"):
        assert st[c] == "passed", (c, st)
    for c in ("load.slo", "load.stress", "load.baseline"):  # nothing configured: judged nothing, says so
        assert st[c] == "skipped", (c, st)
    assert run.data["revision"] == "2026-07-28"
    s = run.summary
    assert s["calls"] == 120 and s["errors"] == 0
    for p in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"):
        assert s[p] > 0
    assert s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert set(run.data["tools"]) == {"echo", "add", "measure"}
    assert len(run.data["windows"]) >= 5 and all("target" in w for w in run.data["windows"])
    assert run.data["pool"]["tools"]["echo"]["references"] > 0
    server = run.data["server"]
    assert server["samples"] >= 3 and server["rss_mb_max"] > 10  # psutil saw the stdio server
    out = tmp_path / "load" / t.name
    for f in ("latency_over_time.png", "latency_over_time.svg", "latency_distribution.png", "latency_distribution.svg",
              "server_resources.png", "latency.hgrm", "load.json"):
        assert (out / f).stat().st_size > 100, f
    assert json.loads((out / "load.json").read_text())["summary"]["calls"] == 120
    assert any(n.startswith("load: constant (open) 120 calls") for n in result.notes)


def test_slow_inputs_are_found_and_reported_with_the_input(tmp_path):
    t = target("load_slow_server.py")
    run, ctx, _ = load(t, {"duration": 1.5, "rate": 20, "tools": {"resolve": 1}, "pool_size": 20, "reference_checks": 0}, tmp_path)
    slow = [f for f in ctx.findings if f.check == "load.slow_inputs"]
    assert slow, [f.detail for f in ctx.findings]
    assert all(f.category == "performance.latency" and f.input["n"] >= 90 for f in slow)
    assert all(r["input"]["n"] >= 90 for r in run.data["slow_inputs"])
    # and no fast input is blamed
    assert "load.errors_under_load" not in real_findings(ctx)


def test_errors_that_only_appear_under_load(tmp_path):
    t = target("load_slow_server.py", protocol="2026-07-28")
    run, ctx, _ = load(t, {"pattern": "burst", "duration": 2, "burst": {"size": 6, "every": 0.5}, "tools": {"limited": 1},
                           "slo": {"p99_ms": 5000, "error_rate": 0.1}}, tmp_path)
    errs = [f for f in ctx.findings if f.check == "load.errors_under_load"]
    assert len(errs) == 1 and errs[0].category == "performance.errors_under_load"
    assert "server busy" in errs[0].detail and errs[0].evidence
    assert run.summary["load_errors"] >= 8
    assert any(f.check == "load.slo" and "error_rate" in f.detail for f in ctx.findings)
    assert "load.concurrency.mixup" not in real_findings(ctx)  # an error is not a mix-up


def test_degradation_with_use_is_detected(tmp_path):
    t = target("load_degrading_server.py")
    run, ctx, _ = load(t, {"duration": 4, "rate": 40, "pool_size": 8, "window": 0.5}, tmp_path)
    deg = [f for f in ctx.findings if f.check == "load.degradation"]
    assert deg and deg[0].category == "performance.degradation", [f.detail for f in ctx.findings]
    d = run.data["degradation"]
    assert d["slope_per_s"] > 0 and d["ratio"] > 1.5 and d["r"] > 0.6
    assert "ms per second" in deg[0].detail


def test_ids_mixed_up_under_concurrency_are_caught(tmp_path):
    proxy = FIX / "broken_proxy.py"
    if not proxy.exists():
        pytest.skip("tests/fixtures/broken_proxy.py is not there")
    t = target("load_fast_server.py", proxy="swap_ids_under_load")
    run, ctx, _ = load(t, {"pattern": "burst", "duration": 2, "burst": {"size": 8, "every": 0.5}}, tmp_path)
    mix = [f for f in ctx.findings if f.check == "load.concurrency.mixup"]
    assert mix and mix[0].category == "protocol.concurrency", [f.detail for f in ctx.findings]
    assert "was answered, under load, with what" in mix[0].detail and mix[0].evidence
    assert run.summary["mixup"] >= 5


def test_latency_counts_from_the_intended_send_time(tmp_path):
    """Coordinated omission: stall the generator's own loop for 300 ms mid-run. Calls meant to go
    out during the stall are sent late; their latency must include the wait."""
    t = target("load_fast_server.py")

    def progress(msg: str) -> None:
        if "constant load" in msg:
            asyncio.get_running_loop().call_later(1.0, time.sleep, 0.3)

    run, ctx, _ = load(t, {"duration": 2.5, "rate": 40, "slow_inputs": {"enabled": False}}, tmp_path, progress)
    s, g = run.summary, run.data["generator"]
    assert g["max_send_lag_ms"] >= 250
    assert s["max_ms"] >= 250  # counted from the intended time ...
    assert s["service_p99_ms"] < s["max_ms"]  # ... although the server answered quickly once asked


def test_stress_reports_the_breaking_point_and_closed_model(tmp_path):
    t = target("load_slow_server.py")
    run, ctx, result = load(t, {"pattern": "stress", "model": "closed", "tools": {"limited": 1},
                                "stress": {"start": 1, "step": 1, "max": 6, "step_duration": 1.0, "max_error_rate": 0.05,
                                           "min_breaking_point": 5}}, tmp_path)
    st = run.data["stress"]
    assert st["unit"] == "clients"
    assert st["breaking_point"] == 3 and st["last_good"] == 2, st  # > 2 in flight -> "server busy"
    assert any("stress breaking point 3 clients" in n for n in result.notes)
    assert any(f.check == "load.stress" for f in ctx.findings)  # broke below min_breaking_point=5


def test_baseline_is_saved_then_regressions_fail(tmp_path):
    t = target("load_fast_server.py")
    base = tmp_path / "baseline.json"
    cfg = {"pattern": "baseline", "duration": 1.5, "baseline": {"file": str(base), "save": True}}
    run, ctx, _ = load(t, cfg, tmp_path)
    assert checks(ctx)["load.baseline"] == "skipped" and base.exists()
    stored = json.loads(base.read_text())
    assert stored["mcpcheck_load_baseline"] == 1 and stored["pattern"] == "baseline"
    # pretend the baseline was 50x faster and 10x the throughput (robust to a noisy machine): this run is a regression
    stored["summary"] = {**stored["summary"], "p50_ms": stored["summary"]["p50_ms"] / 50, "throughput": stored["summary"]["throughput"] * 10}
    base.write_text(json.dumps(stored))
    run, ctx, _ = load(t, {**cfg, "baseline": {"file": str(base), "tolerance": 0.3, "min_delta_ms": 0}}, tmp_path)
    regs = {f.detail.split(":")[0] + ":" + f.detail.split(" ")[2] for f in ctx.findings if f.check == "load.baseline"}
    assert any("p50_ms" in r for r in regs) and any("throughput" in r for r in regs), regs
    assert run.data["baseline"]["ratios"]["p50_ms"] > 1.3


def test_load_command_writes_the_canonical_report_and_fails_the_gate(tmp_path):
    from mcpcheck.load.cli import main
    from mcpcheck.report.model import RunReport

    code = main(["--duration", "1.5", "--rate", "20", "--pool-size", "6", "--charts", "none", "--report-dir", str(tmp_path),
                 "--slo", "p99_ms=0.001", "--tool", "echo=2", "--tool", "add", "--protocol", "2025-11-25", "-q",
                 "--", PY, str(FIX / "load_fast_server.py")])
    assert code == 1
    report = RunReport.model_validate_json((tmp_path / "report.json").read_text())
    assert report.campaigns == ["load"] and [f.check for f in report.findings] == ["load.slo"]
    data = json.loads((tmp_path / "load" / "target" / "load.json").read_text())
    assert set(data["tools"]) == {"echo", "add"} and data["pool"]["tools"]["echo"]["weight"] == 2


def test_ramp_up_closed_model_and_spike_shape_the_windows(tmp_path):
    t = target("load_fast_server.py")
    run, ctx, _ = load(t, {"pattern": "ramp-up", "model": "closed", "clients": 6, "duration": 1.5, "window": 0.25,
                           "ramp": {"start_clients": 1}, "think_time": 0.01}, tmp_path)
    targets = [w["target"] for w in run.data["windows"]]
    assert targets[0] < targets[-1] >= 5 and real_findings(ctx) == []
    assert checks(ctx)["load.degradation"] == "skipped"  # latency may follow the load in a ramp
    run, ctx, _ = load(t, {"pattern": "spike", "rate": 12, "duration": 1.5, "window": 0.25, "spike": {"at": 0.5, "length": 0.34, "factor": 6}, "pool_size": 6}, tmp_path)
    calls = [w["calls"] for w in run.data["windows"]]
    assert max(calls) >= 4 * min(calls), calls
    assert real_findings(ctx) == []


@pytest.mark.slow
def test_soak_keeps_the_generator_bounded(tmp_path):
    import psutil

    t = target("load_fast_server.py")
    me = psutil.Process()
    before = me.memory_info().rss
    run, ctx, _ = load(t, {"pattern": "soak", "rate": 300, "duration": 60, "charts": ["png"]}, tmp_path)
    grown_mb = (me.memory_info().rss - before) / 2**20
    assert run.summary["calls"] == 18000 and real_findings(ctx) == []
    assert grown_mb < 150, grown_mb  # bounded WireLog: no per-call growth of the generator
    assert run.data["server"]["samples"] >= 100

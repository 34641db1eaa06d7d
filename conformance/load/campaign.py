"""The `load` campaign: patterns over the valid-input pool, with honest latency and checks.

    run_load(ctx, result)               the campaign (registered as "load"); config from
                                        ctx.load_config (a LoadConfig or dict), else defaults
    run_load_target(target, cfg)        standalone: returns (LoadRun, CampaignContext)

Steps: detect the era -> list tools -> draw the input pool (before any clock) -> call every
input alone (outcome, unloaded latency, reference answers) -> warmup -> the measured pattern
(stress: steps until a limit breaks) -> confirm slow inputs -> the registry's `run` checks of
campaign "load" over one LoadResult (mcpcheck.load.checks) -> load.json, charts, the HdrHistogram
distribution and (optionally) the new baseline in <report_dir>/load/<target>/.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..campaigns.context import CampaignContext
from ..config import Target
from ..connect import detect, list_tools
from ..registry import REGISTRY
from ..results import TargetResult
from ..session import Session
from . import baseline as B
from .checks import STEADY, LoadResult, SlowInput
from .config import LoadConfig, parse_load_config
from .engine import BoundedWireLog, LoadEngine, PhaseResult, open_load_session
from .metrics import Recorder, trend
from .patterns import shape_for
from .pool import Pool, build_pool
from .resources import ResourceSampler, SelfCPU, server_pids


@dataclass
class LoadRun:
    """Everything one load run measured; `data` is what load.json holds."""

    data: dict[str, Any] = field(default_factory=dict)
    recorder: Recorder | None = None
    pool: Pool | None = None
    files: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        return self.data.get("summary", {})


def _validators(pool: Pool, revision: str | None) -> dict[str, Any]:
    out = {}
    for t in pool.tools:
        if t.output_schema:
            try:
                from mcpcheck.strategies.dialect import make_validator

                v = make_validator(t.output_schema, revision, formats=False)
                out[t.name] = v.is_valid
            except Exception:  # an unusable outputSchema is the fuzz campaign's finding, not ours
                continue
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-.") or "target"


async def run_load(ctx: CampaignContext, result: TargetResult, cfg: LoadConfig | dict | None = None) -> LoadRun:
    cfg = parse_load_config(cfg if cfg is not None else ctx.load_config)
    target = ctx.target
    timeout = cfg.timeout or target.timeout
    if target.protocol:
        eras, first = [target.protocol], None
    else:
        ctx.progress(f"{target.name}: detecting protocol era for the load run")
        probe, detected = await detect(target)
        eras = probe.eras()
        if target.transport == "stdio":
            await detected.close()  # reopened below with the load transport (coalesced writes)
            first = None
        else:
            detected.transport.wirelog = BoundedWireLog()  # a soak run must not grow the log without bound
            first = detected
    if not result.eras:
        result.eras = eras
    era = eras[0]
    ctx.revision = era
    run = LoadRun()
    sessions: list[Session] = [first] if first is not None else []
    try:
        while len(sessions) < cfg.connections:
            sessions.append(await open_load_session(target, era))
        ctx.session = sessions[0]
        tools = await list_tools(sessions[0])
        result.tools = sorted({str(t.get("name")) for t in tools} | set(result.tools))
        ctx.progress(f"{target.name} [{era}]: drawing {cfg.pool_size} valid inputs per tool (before the clock starts)")
        pool = await asyncio.to_thread(
            build_pool, tools, weights=cfg.tools, safety=target.safety, revision=era, size=cfg.pool_size, seed=cfg.seed
        )
        run.pool = pool
        for name, why in pool.skipped.items():
            ctx.notes.append(f"load: not calling {name}: {why}")
        if not pool.items:
            for c in REGISTRY.for_scope("run", "load"):
                ctx.skip(c.spec, "no tool could be called (see notes)")
            return run
        engine = LoadEngine(sessions, pool, cfg, timeout, _validators(pool, era) if cfg.check_output_schema else {})
        sampler = ResourceSampler(server_pids(sessions), cfg.resource_interval)
        sampler.start()
        await engine.calibrate(ctx.progress)
        await _measure(ctx, cfg, engine, sampler, run, era)
        await _analyse(ctx, cfg, engine, sampler, run, era, sessions)
    finally:
        for s in sessions:
            await s.close()
    if run.files:
        ctx.notes.append(f"load: figures and charts in {Path(run.files[0]).parent}")
    ctx.load_run = run
    return run


async def _measure(ctx: CampaignContext, cfg: LoadConfig, engine: LoadEngine, sampler: ResourceSampler, run: LoadRun, era: str) -> None:
    target = ctx.target
    max_seconds = max(60.0, engine.timeout * 4)
    if cfg.warmup:
        ctx.progress(f"{target.name}: warming up for {cfg.warmup:g} s (not measured)")
        await engine.run_phase(shape_for(cfg, seconds=cfg.warmup), "warmup", [])
    rec = Recorder(window=cfg.window_s, max_seconds=max_seconds, n_items=len(engine.pool.items))
    run.recorder = rec
    phases: list[PhaseResult] = []
    steps: list[dict[str, Any]] = []
    # A full garbage collection over a big heap stalls the loop for tens of ms, which would show up
    # as send lag; move what exists now out of the collector's way and collect young objects only
    # (the WireLog is bounded, so nothing grows without limit meanwhile).
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(20_000, 50, 1_000_000)
    cpu = SelfCPU()
    calls_before = engine.calls
    sampler.origin = time.monotonic()
    t0 = time.monotonic()
    if cfg.pattern == "stress":
        s = cfg.stress
        level, i = s.start, 0
        broke: dict[str, Any] | None = None
        while level <= s.max + 1e-9:
            shape = shape_for(cfg, seconds=s.step_duration, level=level)
            unit = "clients" if cfg.model == "closed" else "calls/s"
            ctx.progress(f"{target.name}: stress step {i + 1}: {level:g} {unit} for {s.step_duration:g} s")
            step_rec = Recorder(window=s.step_duration, max_seconds=max_seconds, n_items=len(engine.pool.items))
            ph = await engine.run_phase(shape, f"step {i + 1}", [(rec, i * s.step_duration), (step_rec, 0.0)])
            for w in rec.windows.values():
                if w.target is None and w.start >= i * s.step_duration - 1e-9:
                    w.target = level
            phases.append(ph)
            summ = step_rec.total.summary(s.step_duration)
            row = {"step": i + 1, "level": level, **{k: summ.get(k) for k in ("calls", "throughput", "p50_ms", "p99_ms", "max_ms", "error_rate", "errors")}}
            why = []
            if summ.get("error_rate", 0) > s.max_error_rate:
                why.append(f"error rate {summ['error_rate']:.1%} > {s.max_error_rate:.1%}")
            if summ.get("p99_ms", 0) > s.max_p99_ms:
                why.append(f"p99 {summ['p99_ms']:g} ms > {s.max_p99_ms:g} ms")
            if ph.stopped:
                why.append(f"server gone: {ph.stopped}")
            row["broken"] = "; ".join(why) or None
            steps.append(row)
            if why:
                broke = row
                break
            level += s.step
            i += 1
        last_good = steps[-2]["level"] if broke and len(steps) > 1 else (None if broke else (steps[-1]["level"] if steps else None))
        run.data["stress"] = {
            "unit": "clients" if cfg.model == "closed" else "calls/s",
            "steps": steps,
            "breaking_point": broke["level"] if broke else None,
            "broken_by": broke["broken"] if broke else None,
            "last_good": last_good,
        }
        measured = len(steps) * s.step_duration
    else:
        shape = shape_for(cfg)
        what = f"{cfg.clients if cfg.model == 'closed' else cfg.rate:g} {'clients' if cfg.model == 'closed' else 'calls/s'}"
        ctx.progress(f"{target.name}: {cfg.pattern} load ({cfg.model} model, {what}) for {cfg.duration:g} s")
        ph = await engine.run_phase(shape, cfg.pattern, [(rec, 0.0)])
        phases.append(ph)
        for w in rec.windows.values():
            w.target = shape.target_at(w.start + rec.window / 2, cfg.model or "open")
        measured = cfg.duration
    wall = time.monotonic() - t0
    cpu_s = cpu.stop()
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    calls = engine.calls - calls_before
    run.data["phases"] = [p.__dict__ for p in phases]
    run.data["measured_seconds"] = measured
    run.data["generator"] = {
        "calls": calls,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu_s, 3),
        "cpu_us_per_call": round(cpu_s / calls * 1e6, 1) if calls else None,
        "max_send_lag_ms": round(rec.max_lag_us / 1000, 3),
        "sends_late_over_10ms": rec.lag_over_10ms,
        "dropped": sum(p.dropped for p in phases),
    }


async def _analyse(ctx: CampaignContext, cfg: LoadConfig, engine: LoadEngine, sampler: ResourceSampler, run: LoadRun, era: str, sessions: list[Session]) -> None:
    rec = run.recorder
    assert rec is not None and run.pool is not None
    target = ctx.target
    measured = run.data["measured_seconds"]
    summary = rec.total.summary(measured)
    service = rec.service
    if service.get_total_count():
        summary["service_p50_ms"] = round(service.get_value_at_percentile(50) / 1000, 3)
        summary["service_p99_ms"] = round(service.get_value_at_percentile(99) / 1000, 3)
    tools = {name: s.summary(measured) for name, s in sorted(rec.tools.items())}
    windows = rec.window_rows()
    run.data.update(
        target=target.name,
        revision=era,
        pattern=cfg.pattern,
        model=cfg.model,
        config=cfg.model_dump(mode="json"),
        pool={
            "tools": {t.name: {"inputs": len(t.items), "weight": t.weight, "engine": t.engine,
                               "references": sum(1 for i in t.items if i.has_reference)} for t in run.pool.tools},
            "skipped": run.pool.skipped,
        },
        summary=summary,
        tools=tools,
        windows=windows,
    )

    # ---- slow inputs: slow alone before the run, and again when re-called alone after it
    judged = LoadResult(config=cfg, data=run.data, examples=engine.examples, late_ids=engine.late_ids)
    if not cfg.slow_inputs.enabled:
        judged.slow_skipped = "slow inputs not looked for (slow_inputs.enabled = false)"
    elif engine.dead:
        judged.slow_skipped = "the server went away under load: inputs were not re-called"
    else:
        await _slow_inputs(ctx, cfg, engine, run, judged)
    run.data["slow_inputs"] = [s.row for s in judged.slow]

    await sampler.stop()
    res_summary = sampler.summary()
    run.data["server"] = {**(res_summary or {}), "series": [s.__dict__ for s in sampler.samples]} if res_summary else None
    judged.unmatched = [e for s in sessions for e in s.unmatched]
    judged.calls, judged.dead = engine.calls, engine.dead
    if engine.dead:
        judged.stderr = sessions[0].wirelog.stderr_text(800)

    # ---- degradation trend (steady patterns only: elsewhere latency is meant to move with the load)
    if cfg.degradation.enabled and cfg.pattern in STEADY:
        pts = [(w["start_s"] + rec.window / 2, w["p50_ms"]) for w in windows if "p50_ms" in w and w["calls"] >= 3]
        judged.trend = tr = trend(pts)
        run.data["degradation"] = {**(tr or {}), "windows": len(pts)} if tr else None
        if tr and res_summary:
            run.data["degradation"]["rss_mb_growth"] = res_summary["rss_mb_growth"]

    # ---- stress breaking point
    stress = run.data.get("stress")
    if stress is not None:
        bp = stress["breaking_point"]
        unit = stress["unit"]
        if bp is None:
            ctx.notes.append(f"load: stress found no breaking point up to {cfg.stress.max:g} {unit} (last step {stress['steps'][-1]['level']:g})" if stress["steps"] else "load: stress ran no step")
        else:
            ctx.notes.append(f"load: stress breaking point {bp:g} {unit} ({stress['broken_by']}); last good step {stress['last_good']}")

    # ---- baseline
    out_dir = Path(cfg.report_dir) / "load" / _slug(target.name)
    if cfg.baseline.file:
        base = B.load_baseline(cfg.baseline.file)
        if base is not None:
            judged.comparison = comparison = B.compare(run.data, base, cfg)
            run.data["baseline"] = {"file": cfg.baseline.file, **comparison}
            if not comparison["comparable"]:
                ctx.notes.append(f"load: baseline {cfg.baseline.file} was recorded with pattern {base.get('pattern')} / {base.get('model')} model; ratios are indicative")
        if cfg.baseline.save:
            B.save_baseline(cfg.baseline.file, B.make_baseline(run.data, cfg))
            ctx.notes.append(f"load: baseline written to {cfg.baseline.file}")

    # ---- every load check of the registry (mcpcheck.load.checks, plugins) over this run
    ctx.judge_run("load", judged)

    # ---- notes and files
    s = summary
    ctx.notes.append(
        f"load: {cfg.pattern} ({cfg.model}) {s['calls']} calls in {measured:g} s, {s.get('throughput', 0):g} calls/s; "
        f"p50 {s.get('p50_ms', '-')} ms, p99 {s.get('p99_ms', '-')} ms, p99.9 {s.get('p999_ms', '-')} ms, max {s.get('max_ms', '-')} ms; "
        f"errors {s['errors']} ({s['error_rate']:.2%}), load-induced {s['load_errors']}"
    )
    g = run.data["generator"]
    if g["sends_late_over_10ms"]:
        ctx.notes.append(f"load: the generator sent {g['sends_late_over_10ms']} calls more than 10 ms late (max lag {g['max_send_lag_ms']} ms); "
                         "their latency still counts from the intended time")
    run.files = _write(out_dir, run, rec, sampler, cfg, f"{target.name} [{era}] {cfg.pattern} ({cfg.model} model)")


async def _slow_inputs(ctx: CampaignContext, cfg: LoadConfig, engine: LoadEngine, run: LoadRun, judged: LoadResult) -> None:
    """Re-call alone every input that was far slower alone than its tool's median; the ones slow
    again go to `judged.slow` (the load.slow_inputs check reports them)."""
    rec, pool, si = run.recorder, run.pool, cfg.slow_inputs
    assert rec is not None and pool is not None
    for tool in pool.tools:
        alone = [i.calib_ms[0] for i in tool.items if i.calib_ms]
        if len(alone) < 3:
            continue
        judged.slow_judged += 1
        typical = statistics.median(alone)
        limit = max(si.factor * typical, si.min_ms)
        cands = sorted((i for i in tool.items if i.calib_ms and i.calib_ms[0] > limit), key=lambda i: -i.calib_ms[0])
        for item in cands[: si.report]:
            again, ex = await engine.confirm(item)
            if again <= limit:
                continue
            n = rec.item_n[item.index]
            row = {
                "tool": tool.name, "input": item.args, "alone_ms": round(item.calib_ms[0], 2), "again_ms": round(again, 2),
                "typical_ms": round(typical, 2), "under_load_mean_ms": round(rec.item_sum_us[item.index] / n / 1000, 2) if n else None,
                "under_load_calls": n,
            }
            judged.slow.append(SlowInput(row, ex))


def _write(out_dir: Path, run: LoadRun, rec: Recorder, sampler: ResourceSampler, cfg: LoadConfig, title: str) -> list[str]:
    from . import charts

    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    if cfg.charts:
        try:
            files += charts.latency_over_time(run.data["windows"], rec.window, title, out_dir, list(cfg.charts), cfg.model or "open")
            files += charts.latency_distribution(rec.total, title, out_dir, list(cfg.charts))
            files += charts.server_resources(sampler.samples, f"{title}: server process", out_dir, list(cfg.charts))
        except Exception as exc:  # a chart must never cost the run its results
            run.data.setdefault("notes", []).append(f"charts failed: {exc!r}")
    hgrm = out_dir / "latency.hgrm"
    hgrm.write_text(rec.total.distribution_text(), encoding="utf-8")
    files.append(str(hgrm))
    run.data["files"] = [str(Path(f).name) for f in files] + ["load.json"]
    path = out_dir / "load.json"
    path.write_text(json.dumps(run.data, indent=2, default=str) + "\n", encoding="utf-8")
    return [str(path)] + files


# ------------------------------------------------------------------------------ standalone


async def run_load_target(target: Target, cfg: LoadConfig | dict | None = None, *, progress=lambda _m: None) -> tuple[LoadRun, CampaignContext, TargetResult]:
    """Run the load campaign on one target outside the runner (tests, benchmarks, the CLI)."""
    ctx = CampaignContext(target=target, campaign="load", progress=progress)
    result = TargetResult(name=target.name, transport=target.transport, description=target.describe())
    run = await run_load(ctx, result, cfg)
    result.notes.extend(ctx.notes)
    return run, ctx, result

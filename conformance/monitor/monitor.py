"""Health monitor: check MCP servers at an interval, record latency and availability.

    result = monitor(targets, MonitorConfig(interval=5, count=12, jsonl="health.jsonl",
                                            prometheus="health.prom", on_breach="notify.sh"))
    sys.exit(result.exit_code)

Liveness uses the cheapest valid request of the server's protocol era: `ping` in the handshake
era (2024-11-05 .. 2025-11-25), `server/discover` in the stateless 2026-07-28 era (which has no
ping). An optional tool call (read-only tools only, see safety.py) is made after it. Each check
is one JSON line; the Prometheus text file (prometheus_client) is rewritten after every round.
A threshold breach (latency, consecutive failures, availability) runs the configured command
once per breach and makes the exit code 1; `exit_on_breach` stops at the first one.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import ConfigError, Target, format_error
from ..connect import detect, open_session
from ..safety import may_call
from ..session import Exchange, Session, is_stateless
from ..transport.base import TransportError


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolProbe(_M):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class Thresholds(_M):
    latency_ms: float | None = Field(None, gt=0, description="a liveness (or tool) call slower than this breaches")
    max_failures: int = Field(3, ge=1, description="this many failed checks in a row breach")
    min_availability: float | None = Field(None, ge=0, le=1, description="ok checks / checks below this breaches")
    min_checks: int = Field(3, ge=1, description="availability is judged only after this many checks")


class MonitorConfig(_M):
    interval: float = Field(10.0, gt=0, description="seconds between rounds")
    duration: float | None = Field(None, gt=0, description="stop after this many seconds")
    count: int | None = Field(None, ge=1, description="stop after this many rounds")
    timeout: float | None = Field(None, gt=0, description="per-request timeout (default: the target's)")
    tool: ToolProbe | None = Field(None, description="tool call made on every target after liveness")
    tools: dict[str, ToolProbe] = Field(default_factory=dict, description="per-target tool call (overrides `tool`)")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    jsonl: str | None = Field(None, description="append one JSON line per check")
    prometheus: str | None = Field(None, description="Prometheus text-format file, rewritten every round")
    on_breach: str | None = Field(None, description="shell command run once per breach (env MCPCHECK_TARGET, MCPCHECK_REASON)")
    exit_on_breach: bool = False
    live: bool | None = Field(None, description="live table (default: when stdout is a terminal)")


def parse_monitor_config(data: Any, source: str = "monitor config") -> MonitorConfig:
    if isinstance(data, MonitorConfig):
        return data
    try:
        return MonitorConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(format_error(source, exc)) from exc


@dataclass
class TargetState:
    target: Target
    session: Session | None = None
    era: str | None = None
    checks: int = 0
    ok: int = 0
    consecutive_failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    last: dict[str, Any] | None = None
    breaches: list[dict[str, Any]] = field(default_factory=list)
    active: set[str] = field(default_factory=set)  # breach kinds currently in force (edge-triggered command)

    @property
    def availability(self) -> float:
        return self.ok / self.checks if self.checks else 1.0

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        data = sorted(self.latencies_ms[-1000:])
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]


@dataclass
class MonitorResult:
    states: list[TargetState]
    rounds: int
    records: list[dict[str, Any]]
    commands: list[dict[str, Any]] = field(default_factory=list)

    @property
    def breaches(self) -> list[dict[str, Any]]:
        return [b for s in self.states for b in s.breaches]

    @property
    def exit_code(self) -> int:
        return 1 if self.breaches else 0

    def summary(self) -> list[dict[str, Any]]:
        out = []
        for s in self.states:
            out.append({
                "target": s.target.name, "era": s.era, "checks": s.checks, "ok": s.ok,
                "availability": round(s.availability, 4),
                "p50_ms": s.percentile(50), "p95_ms": s.percentile(95), "breaches": s.breaches,
            })
        return out


class _Metrics:
    """Prometheus metrics (prometheus_client), written as a text file."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        if path is None:
            return
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.up = Gauge("mcpcheck_up", "1 if the last liveness check of the target succeeded", ["target"], registry=self.registry)
        self.checks = Counter("mcpcheck_checks", "health checks by result", ["target", "result"], registry=self.registry)
        self.latency = Histogram("mcpcheck_liveness_latency_seconds", "liveness request latency", ["target", "method"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.tool = Gauge("mcpcheck_tool_latency_seconds", "latency of the last probe tool call", ["target", "tool"], registry=self.registry)
        self.tool_ok = Gauge("mcpcheck_tool_up", "1 if the last probe tool call succeeded", ["target", "tool"], registry=self.registry)
        self.avail = Gauge("mcpcheck_availability_ratio", "ok checks / checks since the monitor started", ["target"], registry=self.registry)
        self.breach = Gauge("mcpcheck_threshold_breached", "1 while a threshold is breached", ["target", "kind"], registry=self.registry)

    def observe(self, st: TargetState, rec: dict[str, Any]) -> None:
        if self.path is None:
            return
        name = st.target.name
        self.up.labels(name).set(1 if rec["alive"] else 0)
        self.checks.labels(name, "ok" if rec["ok"] else "fail").inc()
        if rec["latency_ms"] is not None:
            self.latency.labels(name, rec["method"] or "none").observe(rec["latency_ms"] / 1000)
        if rec.get("tool"):
            t = rec["tool"]
            if t["latency_ms"] is not None:
                self.tool.labels(name, t["name"]).set(t["latency_ms"] / 1000)
            self.tool_ok.labels(name, t["name"]).set(1 if t["ok"] else 0)
        self.avail.labels(name).set(st.availability)
        for kind in ("latency", "failures", "availability"):
            self.breach.labels(name, kind).set(1 if kind in st.active else 0)

    def write(self) -> None:
        if self.path is None:
            return
        from prometheus_client import write_to_textfile

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(self.path, self.registry)


async def _connect(st: TargetState) -> None:
    if st.session is not None and st.session.alive:
        return
    if st.session is not None:
        await st.session.close()
        st.session = None
    if st.era is None:
        probe, st.session = await detect(st.target)
        st.era = probe.eras()[0]
    else:
        st.session = await open_session(st.target, st.era)


def _failure(ex: Exchange, what: str) -> str | None:
    if ex.transport_error:
        return f"{what}: transport error: {ex.transport_error}"
    if ex.timed_out:
        return f"{what}: no answer"
    if ex.error is not None:
        return f"{what}: error {json.dumps(ex.error, default=str)[:200]}"
    if not ex.ok:
        return f"{what}: no result"
    return None


async def check_once(st: TargetState, cfg: MonitorConfig, n: int) -> dict[str, Any]:
    """One health check of one target (reconnecting if the session is gone)."""
    timeout = cfg.timeout or st.target.timeout
    rec: dict[str, Any] = {
        "ts": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
        "target": st.target.name, "round": n, "era": st.era, "method": None,
        "alive": False, "ok": False, "latency_ms": None, "error": None, "tool": None,
    }
    try:
        await asyncio.wait_for(_connect(st), timeout + 30)
        assert st.session is not None
        rec["era"] = st.era
        if is_stateless(st.era):
            rec["method"] = "server/discover"
            ex = await st.session.request("server/discover", {}, meta=True, timeout=timeout)
        else:
            rec["method"] = "ping"
            ex = await st.session.request("ping", None, timeout=timeout)
        rec["latency_ms"] = round(ex.elapsed * 1000, 3) if ex.elapsed is not None else None
        rec["error"] = _failure(ex, rec["method"])
        rec["alive"] = rec["error"] is None
        probe = cfg.tools.get(st.target.name) or cfg.tool
        if rec["alive"] and probe is not None:
            rec["tool"] = await _tool_probe(st, probe, timeout)
        rec["ok"] = rec["alive"] and (rec["tool"] is None or rec["tool"]["ok"])
        if rec["tool"] is not None and not rec["tool"]["ok"]:
            rec["error"] = rec["tool"]["error"]
    except (TransportError, asyncio.TimeoutError, OSError) as exc:
        rec["error"] = f"unreachable: {exc or type(exc).__name__}"
        if st.session is not None:
            await st.session.close()
            st.session = None
    return rec


async def _tool_probe(st: TargetState, probe: ToolProbe, timeout: float) -> dict[str, Any]:
    out: dict[str, Any] = {"name": probe.name, "ok": False, "latency_ms": None, "error": None}
    assert st.session is not None
    tools = getattr(st, "_tools", None)
    if tools is None:
        ex = await st.session.request("tools/list", {}, timeout=timeout)
        tools = {t.get("name"): t for t in ((ex.result or {}).get("tools") or []) if isinstance(t, dict)} if ex.ok else {}
        st._tools = tools  # type: ignore[attr-defined]
    tool = tools.get(probe.name)
    if tool is None:
        out["error"] = f"tool {probe.name!r} is not listed"
        return out
    why = may_call(tool, st.target.safety)
    if why is not None:
        out["error"] = f"not calling {probe.name}: {why}"
        return out
    ex = await st.session.request("tools/call", {"name": probe.name, "arguments": probe.args}, timeout=timeout)
    out["latency_ms"] = round(ex.elapsed * 1000, 3) if ex.elapsed is not None else None
    out["error"] = _failure(ex, f"tools/call {probe.name}")
    if out["error"] is None and isinstance(ex.result, dict) and ex.result.get("isError") is True:
        out["error"] = f"tools/call {probe.name}: isError result"
    out["ok"] = out["error"] is None
    return out


def _judge(st: TargetState, rec: dict[str, Any], th: Thresholds) -> list[dict[str, Any]]:
    """Update counters; return the breaches that START with this check (edge-triggered)."""
    st.checks += 1
    if rec["ok"]:
        st.ok += 1
        st.consecutive_failures = 0
    else:
        st.consecutive_failures += 1
    if rec["latency_ms"] is not None:
        st.latencies_ms.append(rec["latency_ms"])
    st.last = rec
    now: dict[str, str] = {}
    slowest = max([x for x in (rec["latency_ms"], (rec["tool"] or {}).get("latency_ms")) if x is not None], default=None)
    if th.latency_ms is not None and slowest is not None and slowest > th.latency_ms:
        now["latency"] = f"latency {slowest:g} ms > {th.latency_ms:g} ms"
    if st.consecutive_failures >= th.max_failures:
        now["failures"] = f"{st.consecutive_failures} failed checks in a row (last: {rec['error']})"
    if th.min_availability is not None and st.checks >= th.min_checks and st.availability < th.min_availability:
        now["availability"] = f"availability {st.availability:.1%} < {th.min_availability:.1%}"
    started = [{"target": st.target.name, "kind": k, "reason": v, "ts": rec["ts"], "round": rec["round"]}
               for k, v in now.items() if k not in st.active]
    st.active = set(now)
    st.breaches += started
    return started


def _run_command(cmd: str, breach: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "MCPCHECK_TARGET": breach["target"], "MCPCHECK_REASON": breach["reason"], "MCPCHECK_BREACH": breach["kind"]}
    try:
        p = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True, timeout=60)
        return {"command": cmd, "breach": breach, "exit_code": p.returncode, "stderr": p.stderr[-500:]}
    except subprocess.TimeoutExpired:
        return {"command": cmd, "breach": breach, "exit_code": None, "stderr": "timed out after 60 s"}


def _table(states: list[TargetState], rounds: int) -> Any:
    from rich.table import Table

    t = Table(title=f"mcpcheck monitor: round {rounds}", expand=False)
    for col in ("target", "era", "status", "latency ms", "p50", "p95", "avail.", "checks", "last error"):
        t.add_column(col)
    for s in states:
        last = s.last or {}
        status = "[green]UP[/]" if last.get("ok") else ("[yellow]DEGRADED[/]" if last.get("alive") else "[red]DOWN[/]")
        if not last:
            status = "-"
        if s.active:
            status += " [red]BREACH[/]"
        lat = last.get("latency_ms")
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        t.add_row(s.target.name, s.era or "-", status, fmt(lat), fmt(s.percentile(50)), fmt(s.percentile(95)),
                  f"{s.availability:.1%}", str(s.checks), (last.get("error") or "")[:60])
    return t


async def monitor_async(targets: list[Target], cfg: MonitorConfig | dict | None = None, *, console: Any = None) -> MonitorResult:
    cfg = parse_monitor_config(cfg)
    if cfg.duration is None and cfg.count is None:
        raise ConfigError("monitor: give a duration or a count (an unbounded monitor is a service, run it with a large count)")
    states = [TargetState(t) for t in targets]
    metrics = _Metrics(cfg.prometheus)
    records: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    jsonl = open(cfg.jsonl, "a", encoding="utf-8") if cfg.jsonl else None  # noqa: SIM115
    live_ctx = None
    if cfg.live or (cfg.live is None and console is None and os.isatty(1)):
        from rich.console import Console
        from rich.live import Live

        live_ctx = Live(_table(states, 0), console=console or Console(), refresh_per_second=4)
        live_ctx.start()
    start = time.monotonic()
    rounds = 0
    stop = False
    try:
        while not stop:
            rounds += 1
            recs = await asyncio.gather(*(check_once(s, cfg, rounds) for s in states))
            for st, rec in zip(states, recs):
                records.append(rec)
                started = _judge(st, rec, cfg.thresholds)
                metrics.observe(st, rec)
                if jsonl is not None:
                    jsonl.write(json.dumps(rec, default=str) + "\n")
                for b in started:
                    if cfg.on_breach:
                        commands.append(await asyncio.to_thread(_run_command, cfg.on_breach, b))
                    if cfg.exit_on_breach:
                        stop = True
            if jsonl is not None:
                jsonl.flush()
            metrics.write()
            if live_ctx is not None:
                live_ctx.update(_table(states, rounds))
            if cfg.count is not None and rounds >= cfg.count:
                break
            next_at = start + rounds * cfg.interval
            if cfg.duration is not None and next_at - start >= cfg.duration:
                break
            if not stop:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        if live_ctx is not None:
            live_ctx.stop()
        if jsonl is not None:
            jsonl.close()
        for s in states:
            if s.session is not None:
                await s.session.close()
    return MonitorResult(states, rounds, records, commands)


def monitor(targets: list[Target], cfg: MonitorConfig | dict | None = None, **kw: Any) -> MonitorResult:
    """Synchronous entry point (the CLI)."""
    return asyncio.run(monitor_async(targets, cfg, **kw))

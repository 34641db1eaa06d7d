"""The load campaign's checks: registered once, pure functions over what a run recorded."""

from __future__ import annotations

import json
from typing import Any, Iterator

from ..findings import Severity, Violation
from ..registry import register
from .config import LoadConfig

MIXUP = register(
    "load.concurrency.mixup", "protocol.concurrency", "high",
    "Responses stay with their requests under concurrent load", rule="J4", level="MUST", campaign="load",
    description="Under load every answer must be the one its request got when sent alone; a different "
    "answer, a non-CallToolResult or an id of another type means responses were mixed up.",
)
UNMATCHED = register(
    "load.concurrency.unmatched", "protocol.concurrency", "high",
    "No response under load carries an id nobody is waiting for", rule="J4", level="MUST", campaign="load",
)
CRASH = register(
    "load.crash", "protocol.crash", "critical", "The server survives the load run", campaign="load",
)
ERRORS = register(
    "load.errors_under_load", "performance.errors_under_load", "medium",
    "Calls that succeed alone keep succeeding under load", campaign="load",
    description="Load-induced error rate (timeouts, transport failures, dropped calls, and errors an "
    "input did not produce when called alone) must stay at or below max_error_rate.",
)
SLOW = register(
    "load.slow_inputs", "performance.latency", "medium",
    "No input is far slower than its tool's typical call", campaign="load",
)
DEGRADATION = register(
    "load.degradation", "performance.degradation", "medium",
    "Latency does not grow across a steady run", campaign="load",
)
SLO = register(
    "load.slo", "performance.slo", "high", "Service-level objectives are met", campaign="load",
)
BASELINE = register(
    "load.baseline", "performance.degradation", "high",
    "No regression against the stored baseline beyond the tolerance", campaign="load",
)
STRESS = register(
    "load.stress", "performance.errors_under_load", "high",
    "The server holds up to the configured minimum load before breaking", campaign="load",
)

SLO_METRIC = {
    "p50_ms": "p50_ms", "p90_ms": "p90_ms", "p95_ms": "p95_ms", "p99_ms": "p99_ms", "p999_ms": "p999_ms",
    "max_ms": "max_ms", "error_rate": "error_rate", "timeout_rate": "timeout_rate", "min_throughput": "throughput",
}


def check_slo(summary: dict[str, Any], limits: dict[str, float], scope: str) -> Iterator[Violation]:
    for key, limit in limits.items():
        metric = SLO_METRIC[key]
        value = summary.get(metric)
        if value is None:
            continue
        broken = value < limit if key == "min_throughput" else value > limit
        if broken:
            rel = "below" if key == "min_throughput" else "above"
            unit = " calls/s" if key == "min_throughput" else ("" if "rate" in key else " ms")
            yield Violation(
                f"{scope}: {metric} = {value:g}{unit} is {rel} the SLO {key} = {limit:g}{unit}",
                key=f"{scope}/{key}",
                tool=None if scope == "all tools" else scope,
            )


def check_degradation(windows: list[dict[str, Any]], cfg: LoadConfig, trend: dict[str, float] | None) -> Iterator[Violation]:
    d = cfg.degradation
    if trend is None or len(windows) < d.min_windows:
        return
    grew = trend["last"] - trend["first"]
    if trend["ratio"] >= d.ratio and trend["r"] >= d.min_correlation and grew >= d.min_increase_ms:
        yield Violation(
            f"latency grew across a steady {cfg.pattern} run: window p50 went from {trend['first']:.2f} ms "
            f"(first third) to {trend['last']:.2f} ms (last third), x{trend['ratio']:.2f}; trend slope "
            f"{trend['slope_per_s']:.3f} ms per second of load (r = {trend['r']:.2f}, {len(windows)} windows "
            f"of {cfg.window_s:g} s) at a constant offered load",
            key="degradation",
        )


def check_errors(summary: dict[str, Any], tools: dict[str, dict[str, Any]], cfg: LoadConfig, examples: list) -> Iterator[Violation]:
    rate = summary.get("load_error_rate", 0.0)
    if rate <= cfg.max_error_rate or not summary.get("load_errors"):
        return
    kinds = ", ".join(f"{k} {summary[k]}" for k in ("tool_error", "rpc_error", "timeout", "transport", "dropped") if summary.get(k))
    per_tool = "; ".join(
        f"{name}: {s.get('load_errors', 0)}/{s['calls']} ({s.get('load_error_rate', 0):.1%})"
        for name, s in sorted(tools.items()) if s.get("load_errors")
    )
    first = examples[0] if examples else None
    detail = (
        f"{summary['load_errors']} of {summary['calls']} calls ({rate:.2%}) failed because of the load "
        f"(max_error_rate {cfg.max_error_rate:.2%}); outcomes: {kinds}; per tool: {per_tool}"
    )
    if first is not None:
        resp = first.ex.response if first.ex.response is not None else (first.ex.transport_error or "no answer")
        detail += f". First example: {first.item.tool} {json.dumps(first.item.args, default=str)[:200]} -> {json.dumps(resp, default=str)[:300]}"
    yield Violation(
        detail,
        evidence=[e for ex in examples[:3] for e in ex.ex.evidence()],
        tool=first.item.tool if first else None,
        input=first.item.args if first else None,
        key="errors_under_load",
    )


def check_baseline(comparison: dict[str, Any]) -> Iterator[Violation]:
    for reg in comparison.get("regressions", []):
        yield Violation(reg["detail"], key=f"baseline/{reg['scope']}/{reg['metric']}", tool=reg.get("tool"))


def severity_for_stress(broke_at: float | None, minimum: float | None) -> Severity | None:
    if minimum is None or broke_at is None:
        return None
    return Severity.high if broke_at < minimum else None

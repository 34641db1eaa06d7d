"""The load campaign's checks: `run`-scope checks over what one load run measured.

Each is `fn(ctx: RunContext, result: LoadResult)` (mcpcheck.registry, scope "run", campaign
"load"); the campaign builds one LoadResult after the measured run (and the slow-input
confirmation) and calls `ctx.judge_run("load", result)`. A check that had nothing to judge
(no calls measured, a pattern it does not apply to, nothing configured) raises Skip with the
reason. Plugins may register their own `campaign="load"` run checks over the same LoadResult.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..findings import Severity, Violation
from ..registry import RunContext, Skip, check
from ..session import id_key
from ..wirelog import WireEntry
from .config import LoadConfig
from .engine import Example

STEADY = ("constant", "soak", "baseline")  # patterns with a constant offered load


@dataclass
class SlowInput:
    """An input slow alone before the run and again when re-called alone after it."""

    row: dict[str, Any]  # as load.json's slow_inputs holds it (tool, input, alone_ms, again_ms, ...)
    exchange: Any  # mcpcheck.session.Exchange of the confirming call


@dataclass
class LoadResult:
    """What the load checks judge: one run's figures (`data`, i.e. load.json) and what the
    engine saw (examples per outcome, responses to ids nobody waited for, the server's death)."""

    config: LoadConfig
    data: dict[str, Any]  # summary, tools, windows, stress, baseline, degradation, slow_inputs
    examples: dict[str, list[Example]] = field(default_factory=dict)  # by outcome: mixup, timeout, ...
    unmatched: list[WireEntry] = field(default_factory=list)  # responses to ids no request was waiting for
    late_ids: set[str] = field(default_factory=set)  # ids of requests that timed out (a late answer is not stray)
    calls: int = 0  # every call the engine made, calibration and confirmation included
    dead: str | None = None  # why the server went away under load, or None
    stderr: str = ""  # the tail of the server's stderr when it died
    trend: dict[str, float] | None = None  # latency trend over the windows (steady patterns)
    slow: list[SlowInput] = field(default_factory=list)
    slow_judged: int = 0  # tools with enough inputs timed alone to judge slowness (0: not judged)
    slow_skipped: str | None = None  # why slow inputs were not looked for
    comparison: dict[str, Any] | None = None  # against the stored baseline (None: none stored)

    @property
    def summary(self) -> dict[str, Any]:
        return self.data.get("summary", {})

    @property
    def tools(self) -> dict[str, dict[str, Any]]:
        return self.data.get("tools", {})

    @property
    def windows(self) -> list[dict[str, Any]]:
        return self.data.get("windows", [])

    def measured(self) -> None:
        """Skip unless the measured run made calls."""
        if not self.summary.get("calls"):
            raise Skip("no call was measured")


def _evidence(examples: list[Example], n: int) -> list[WireEntry]:
    return [e for x in examples[:n] for e in x.ex.evidence()]


@check("load.slow_inputs", category="performance.latency", severity="medium", scope="run", campaign="load",
       title="No input is far slower than its tool's typical call")
def slow_inputs(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    if result.slow_skipped:
        raise Skip(result.slow_skipped)
    if not result.slow_judged:
        raise Skip("no tool had 3 inputs timed alone")
    si = result.config.slow_inputs
    for s in result.slow:
        row, n = s.row, s.row["under_load_calls"]
        yield Violation(
            f"tools/call {row['tool']!r} with {json.dumps(row['input'], default=str)[:200]} took {row['alone_ms']:g} ms alone "
            f"and {row['again_ms']:g} ms when repeated, against a typical {row['typical_ms']:.2f} ms for this tool "
            f"(limit: {si.factor:g}x typical and at least {si.min_ms:g} ms)"
            + (f"; under load it averaged {row['under_load_mean_ms']:g} ms over {n} calls" if n else ""),
            evidence=s.exchange.evidence(), tool=row["tool"], input=row["input"],
            key=f"slow/{row['tool']}/{json.dumps(row['input'], sort_keys=True, default=str)}",
        )


@check("load.concurrency.mixup", category="protocol.concurrency", severity="high", scope="run", campaign="load",
       title="Responses stay with their requests under concurrent load", rule="J4", level="MUST",
       description="Under load every answer must be the one its request got when sent alone; a different "
       "answer, a non-CallToolResult or an id of another type means responses were mixed up.")
def mixup(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    result.measured()
    mix = result.examples.get("mixup", [])
    if mix:
        first = mix[0]
        yield Violation(
            f"{result.summary.get('mixup', 0)} of {result.summary['calls']} responses under load were not the answer "
            f"to their own request. First: {first.problem}",
            evidence=_evidence(mix, 3), tool=first.item.tool, input=first.item.args, key="mixup",
        )


@check("load.concurrency.unmatched", category="protocol.concurrency", severity="high", scope="run", campaign="load",
       title="No response under load carries an id nobody is waiting for", rule="J4", level="MUST")
def unmatched(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    result.measured()
    stray = [e for e in result.unmatched
             if not (isinstance(e.parsed, dict) and id_key(e.parsed.get("id")) in result.late_ids)]
    if stray:
        ids = [e.parsed.get("id") if isinstance(e.parsed, dict) else None for e in stray[:5]]
        yield Violation(f"{len(stray)} responses under load carried an id no request was waiting for (ids {ids})",
                        evidence=stray[:4], key="unmatched")


@check("load.crash", category="protocol.crash", severity="critical", scope="run", campaign="load",
       title="The server survives the load run")
def crash(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    if result.dead:
        stderr = result.stderr.strip()
        yield Violation(
            f"the server went away under load after {result.calls} calls: {result.dead}" + (f"\nlast stderr:\n{stderr}" if stderr else ""),
            evidence=_evidence(result.examples.get("transport", []), 1), key="crash",
        )


@check("load.errors_under_load", category="performance.errors_under_load", severity="medium", scope="run", campaign="load",
       title="Calls that succeed alone keep succeeding under load",
       description="Load-induced error rate (timeouts, transport failures, dropped calls, and errors an "
       "input did not produce when called alone) must stay at or below max_error_rate.")
def errors_under_load(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    result.measured()
    summary, cfg = result.summary, result.config
    rate = summary.get("load_error_rate", 0.0)
    if rate <= cfg.max_error_rate or not summary.get("load_errors"):
        return
    # load-induced: a timeout, a lost server or a dropped call always; an error only when the input did not get it alone
    examples = [x for k in ("timeout", "transport", "rpc_error", "tool_error", "dropped") for x in result.examples.get(k, [])
                if k in ("timeout", "transport", "dropped") or x.item.calib_outcome != k]
    kinds = ", ".join(f"{k} {summary[k]}" for k in ("tool_error", "rpc_error", "timeout", "transport", "dropped") if summary.get(k))
    per_tool = "; ".join(
        f"{name}: {s.get('load_errors', 0)}/{s['calls']} ({s.get('load_error_rate', 0):.1%})"
        for name, s in sorted(result.tools.items()) if s.get("load_errors")
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
        evidence=_evidence(examples, 3),
        tool=first.item.tool if first else None,
        input=first.item.args if first else None,
        key="errors_under_load",
    )


@check("load.degradation", category="performance.degradation", severity="medium", scope="run", campaign="load",
       title="Latency does not grow across a steady run")
def degradation(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    cfg = result.config
    d = cfg.degradation
    if not d.enabled:
        raise Skip("degradation check disabled (degradation.enabled = false)")
    if cfg.pattern not in STEADY:
        raise Skip(f"degradation is judged on steady patterns ({', '.join(STEADY)}), not {cfg.pattern}")
    windows = [w for w in result.windows if "p50_ms" in w]
    tr = result.trend
    if tr is None or len(windows) < d.min_windows:
        raise Skip(f"{len(windows)} latency windows, fewer than degradation.min_windows = {d.min_windows}")
    grew = tr["last"] - tr["first"]
    if tr["ratio"] >= d.ratio and tr["r"] >= d.min_correlation and grew >= d.min_increase_ms:
        yield Violation(
            f"latency grew across a steady {cfg.pattern} run: window p50 went from {tr['first']:.2f} ms "
            f"(first third) to {tr['last']:.2f} ms (last third), x{tr['ratio']:.2f}; trend slope "
            f"{tr['slope_per_s']:.3f} ms per second of load (r = {tr['r']:.2f}, {len(windows)} windows "
            f"of {cfg.window_s:g} s) at a constant offered load",
            key="degradation",
        )


SLO_METRIC = {
    "p50_ms": "p50_ms", "p90_ms": "p90_ms", "p95_ms": "p95_ms", "p99_ms": "p99_ms", "p999_ms": "p999_ms",
    "max_ms": "max_ms", "error_rate": "error_rate", "timeout_rate": "timeout_rate", "min_throughput": "throughput",
}


def check_slo(summary: dict[str, Any], limits: dict[str, float], scope: str) -> Iterator[Violation]:
    """Every SLO of `limits` that `summary` (all tools, or one tool's) breaks."""
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


@check("load.slo", category="performance.slo", severity="high", scope="run", campaign="load",
       title="Service-level objectives are met")
def slo(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    cfg = result.config
    limits = cfg.slo.limits()
    if not limits and not cfg.slo_tools:
        raise Skip("no SLO configured")
    result.measured()
    yield from check_slo(result.summary, limits, "all tools")
    for name, tool_slo in cfg.slo_tools.items():
        if name in result.tools:
            yield from check_slo(result.tools[name], tool_slo.limits(), name)


def severity_for_stress(broke_at: float | None, minimum: float | None) -> Severity | None:
    if minimum is None or broke_at is None:
        return None
    return Severity.high if broke_at < minimum else None


@check("load.stress", category="performance.errors_under_load", severity="high", scope="run", campaign="load",
       title="The server holds up to the configured minimum load before breaking")
def stress(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    st = result.data.get("stress")
    if st is None:
        raise Skip(f"not a stress run (pattern {result.config.pattern})")
    minimum = result.config.stress.min_breaking_point
    if minimum is None:
        raise Skip("no stress.min_breaking_point configured")
    bp, unit = st["breaking_point"], st["unit"]
    sev = severity_for_stress(bp, minimum)
    if sev is not None:
        yield Violation(f"the server broke at {bp:g} {unit} ({st['broken_by']}), below the required {minimum:g} {unit}",
                        key="stress", severity=sev)


@check("load.baseline", category="performance.degradation", severity="high", scope="run", campaign="load",
       title="No regression against the stored baseline beyond the tolerance")
def baseline(ctx: RunContext, result: LoadResult) -> Iterator[Violation]:
    file = result.config.baseline.file
    if not file:
        raise Skip("no baseline file configured")
    if result.comparison is None:
        raise Skip(f"no baseline stored yet at {file}")
    for reg in result.comparison.get("regressions", []):
        yield Violation(reg["detail"], key=f"baseline/{reg['scope']}/{reg['metric']}", tool=reg.get("tool"))

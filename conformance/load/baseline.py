"""The stored baseline: a small JSON file of a run's headline figures, and the comparison.

    {"mcpcheck_load_baseline": 1, "created": "...", "target": "...", "pattern": "constant",
     "model": "open", "rate": 50, "clients": 4, "summary": {"p50_ms": ..., "throughput": ...},
     "tools": {"echo": {...}}}

Latency figures regress when current / baseline > 1 + tolerance (and the difference is at least
`min_delta_ms`, default 1 ms, so sub-millisecond noise never fails a gate); throughput regresses when
current / baseline < 1 - tolerance; error_rate when it rose by more than error_rate_tolerance.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .config import LoadConfig

FORMAT = 1


def make_baseline(run: dict[str, Any], cfg: LoadConfig) -> dict[str, Any]:
    keep = lambda s: {k: v for k, v in s.items() if k.endswith("_ms") or k in ("throughput", "error_rate", "timeout_rate", "calls")}  # noqa: E731
    return {
        "mcpcheck_load_baseline": FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "target": run.get("target"),
        "revision": run.get("revision"),
        "pattern": cfg.pattern,
        "model": cfg.model,
        "rate": cfg.rate,
        "clients": cfg.clients,
        "duration": cfg.duration,
        "summary": keep(run["summary"]),
        "tools": {name: keep(s) for name, s in run["tools"].items()},
    }


def load_baseline(path: str | Path) -> dict[str, Any] | None:
    p = Path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"baseline {path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("mcpcheck_load_baseline") != FORMAT or not isinstance(data.get("summary"), dict):
        raise ConfigError(f"baseline {path}: not a mcpcheck load baseline (format {FORMAT})")
    return data


def save_baseline(path: str | Path, data: dict[str, Any]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(p)


def _compare_one(scope: str, cur: dict[str, Any], base: dict[str, Any], cfg: LoadConfig, tool: str | None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    ratios: dict[str, float] = {}
    regs: list[dict[str, Any]] = []
    tol = cfg.baseline.tolerance
    for metric in cfg.baseline.metrics:
        c, b = cur.get(metric), base.get(metric)
        if not isinstance(c, (int, float)) or not isinstance(b, (int, float)):
            continue
        if metric == "error_rate" or metric == "timeout_rate":
            ratios[metric] = round(c - b, 6)
            if c - b > cfg.baseline.error_rate_tolerance:
                regs.append({"scope": scope, "tool": tool, "metric": metric, "current": c, "baseline": b,
                             "detail": f"{scope}: {metric} rose from {b:.2%} (baseline) to {c:.2%} (+{c - b:.2%}, tolerance +{cfg.baseline.error_rate_tolerance:.2%})"})
            continue
        if b <= 0:
            continue
        ratio = c / b
        ratios[metric] = round(ratio, 3)
        if metric == "throughput":
            if ratio < 1 - tol:
                regs.append({"scope": scope, "tool": tool, "metric": metric, "current": c, "baseline": b, "ratio": ratio,
                             "detail": f"{scope}: throughput {c:g} calls/s is x{ratio:.2f} of the baseline {b:g} calls/s (tolerance -{tol:.0%})"})
        elif ratio > 1 + tol and c - b >= cfg.baseline.min_delta_ms:
            regs.append({"scope": scope, "tool": tool, "metric": metric, "current": c, "baseline": b, "ratio": ratio,
                         "detail": f"{scope}: {metric} {c:g} ms is x{ratio:.2f} the baseline {b:g} ms (tolerance +{tol:.0%})"})
    return ratios, regs


def compare(run: dict[str, Any], base: dict[str, Any], cfg: LoadConfig) -> dict[str, Any]:
    ratios, regs = _compare_one("all tools", run["summary"], base["summary"], cfg, None)
    per_tool: dict[str, dict[str, float]] = {}
    for name, cur in run["tools"].items():
        b = (base.get("tools") or {}).get(name)
        if isinstance(b, dict):
            per_tool[name], r = _compare_one(name, cur, b, cfg, name)
            regs += r
    same_shape = all(base.get(k) == v for k, v in (("pattern", cfg.pattern), ("model", cfg.model)))
    return {
        "baseline_created": base.get("created"),
        "comparable": same_shape,
        "ratios": ratios,
        "tools": per_tool,
        "regressions": regs,
        "tolerance": cfg.baseline.tolerance,
    }

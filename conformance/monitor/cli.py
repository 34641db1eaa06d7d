"""`mcpcheck monitor`: options and the command (wired by conformance/cli.py).

    add_arguments(parser)
    build_config(args, base=None) -> MonitorConfig
    cmd_monitor(args, targets) -> exit code (0 healthy, 1 a threshold breached, 2 usage/config)
Standalone: python -m mcpcheck.monitor.cli --count 10 -- COMMAND ARGS...
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from ..config import ConfigError, Target
from .monitor import MonitorConfig, monitor, parse_monitor_config


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("monitor")
    g.add_argument("--monitor-config", metavar="PATH", help="monitor config (TOML/YAML); options below override it")
    g.add_argument("--interval", type=float, metavar="S", help="seconds between rounds (default 10)")
    bound = g.add_mutually_exclusive_group()
    bound.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    bound.add_argument("--count", type=int, metavar="N", help="stop after N rounds")
    g.add_argument("--probe-tool", metavar="NAME", help="also call this (read-only) tool every round")
    g.add_argument("--probe-args", metavar="JSON", help="arguments for --probe-tool (a JSON object)")
    g.add_argument("--max-latency-ms", type=float, metavar="MS", help="breach when a check is slower")
    g.add_argument("--max-failures", type=int, metavar="N", help="breach after N failed checks in a row (default 3)")
    g.add_argument("--min-availability", type=float, metavar="R", help="breach when ok/checks falls below R (0..1)")
    g.add_argument("--jsonl", metavar="PATH", help="append one JSON line per check")
    g.add_argument("--prometheus", metavar="PATH", help="Prometheus text file, rewritten every round")
    g.add_argument("--on-breach", metavar="CMD", help="shell command run once per breach (env MCPCHECK_TARGET, MCPCHECK_REASON, MCPCHECK_BREACH)")
    g.add_argument("--exit-on-breach", action="store_true", help="stop at the first breach")
    g.add_argument("--no-live", action="store_true", help="no live table")


def build_config(args: argparse.Namespace, base: Any = None) -> MonitorConfig:
    if getattr(args, "monitor_config", None):
        from ..load.config import read_structured

        raw = read_structured(args.monitor_config)
        data = dict(raw.get("monitor", raw) if isinstance(raw, dict) else {})
    else:
        data = dict(base.model_dump(exclude_unset=True) if isinstance(base, MonitorConfig) else base or {})
    for attr in ("interval", "duration", "count", "jsonl", "prometheus", "on_breach"):
        v = getattr(args, attr, None)
        if v is not None:
            data[attr] = v
    if getattr(args, "duration", None) is not None:
        data.pop("count", None)
    if getattr(args, "count", None) is not None:
        data.pop("duration", None)
    if getattr(args, "exit_on_breach", False):
        data["exit_on_breach"] = True
    if getattr(args, "no_live", False):
        data["live"] = False
    if getattr(args, "probe_tool", None):
        try:
            pargs = json.loads(args.probe_args) if args.probe_args else {}
        except ValueError as exc:
            raise ConfigError(f"--probe-args: not JSON: {exc}") from None
        data["tool"] = {"name": args.probe_tool, "args": pargs}
    th = dict(data.get("thresholds") or {})
    for attr, key in (("max_latency_ms", "latency_ms"), ("max_failures", "max_failures"), ("min_availability", "min_availability")):
        v = getattr(args, attr, None)
        if v is not None:
            th[key] = v
    if th:
        data["thresholds"] = th
    return parse_monitor_config(data, "monitor options")


def cmd_monitor(args: argparse.Namespace, targets: list[Target], *, base: Any = None, console: Any = None) -> int:
    cfg = build_config(args, base)
    result = monitor(targets, cfg, console=console)
    for s in result.summary():
        p50 = "-" if s["p50_ms"] is None else f"{s['p50_ms']:.1f}"
        print(f"{s['target']}: {s['ok']}/{s['checks']} ok ({s['availability']:.1%}), p50 {p50} ms, era {s['era']}")
    for b in result.breaches:
        print(f"BREACH {b['target']} [{b['kind']}] round {b['round']}: {b['reason']}")
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    from ..config import make_target

    argv = list(sys.argv[1:] if argv is None else argv)
    head, command = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(prog="mcpcheck monitor")
    p.add_argument("--url")
    p.add_argument("--name")
    p.add_argument("--timeout", type=float)
    add_arguments(p)
    args = p.parse_args(head)
    try:
        extra = {"timeout": args.timeout} if args.timeout else {}
        if command:
            targets = [make_target(name=args.name or "target", command=command, **extra)]
        elif args.url:
            targets = [make_target(name=args.name or "target", transport="http", url=args.url, **extra)]
        else:
            p.error("give a server command after -- or --url")
        return cmd_monitor(args, targets)
    except ConfigError as exc:
        print(f"mcpcheck: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

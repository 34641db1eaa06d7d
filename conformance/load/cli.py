"""`mcpcheck load`: argument group, config building and the command (wired by conformance/cli.py).

    add_arguments(parser)               the load-specific options
    build_config(args, base=None)       LoadConfig = file/table config + command-line overrides
    cmd_load(args, targets, argv=...)   run, write report.json/md/junit + load figures -> exit code

Standalone until it is wired in:  python -m mcpcheck.load.cli [options] -- COMMAND ARGS...
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import sys
import time
from typing import Any, Sequence

from ..config import ConfigError, Target
from ..findings import Severity
from ..registry import REGISTRY
from .config import PATTERNS, LoadConfig, load_config_file, parse_load_config


def _kv(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("load")
    g.add_argument("--load-config", metavar="PATH", help="load config (TOML/YAML; see docs/load.md); options below override it")
    g.add_argument("--pattern", choices=PATTERNS, help="load pattern (default constant)")
    g.add_argument("--model", choices=["open", "closed"], help="open: arrival rate; closed: N clients (default: closed for baseline)")
    g.add_argument("--duration", type=float, metavar="S", help="seconds of measured load (stress: see --step-duration)")
    g.add_argument("--rate", type=float, metavar="N", help="open model: calls/s (ramp-up: end rate; spike: base rate)")
    g.add_argument("--clients", type=int, metavar="N", help="closed model: concurrent clients")
    g.add_argument("--warmup", type=float, metavar="S", help="seconds of unmeasured load first")
    g.add_argument("--tool", action="append", default=[], metavar="NAME[=WEIGHT]", help="tool to call, with a weight (repeatable; default: every callable tool)")
    g.add_argument("--pool-size", type=int, metavar="N", help="pre-generated valid inputs per tool")
    g.add_argument("--load-seed", type=int, metavar="N", help="seed for inputs and the tool mix")
    g.add_argument("--slo", action="append", default=[], type=_kv, metavar="KEY=VALUE", help="SLO, e.g. p99_ms=200, error_rate=0.01, min_throughput=50 (repeatable)")
    g.add_argument("--baseline", metavar="PATH", help="baseline file to compare against")
    g.add_argument("--save-baseline", action="store_true", help="write this run as the new baseline")
    g.add_argument("--tolerance", type=float, metavar="R", help="allowed regression vs the baseline (0.25 = 25%%)")
    g.add_argument("--max-error-rate", type=float, metavar="R", help="load-induced error rate that fails (default 0.01)")
    g.add_argument("--step-duration", type=float, metavar="S", help="stress: seconds per step")
    g.add_argument("--stress-start", type=float, metavar="N", help="stress: first step (calls/s or clients)")
    g.add_argument("--stress-step", type=float, metavar="N", help="stress: added per step")
    g.add_argument("--stress-max", type=float, metavar="N", help="stress: give up beyond this")
    g.add_argument("--charts", metavar="LIST", help="chart formats: png,svg (default) or none")


def build_config(args: argparse.Namespace, base: dict[str, Any] | LoadConfig | None = None) -> LoadConfig:
    if getattr(args, "load_config", None):
        data = load_config_file(args.load_config).model_dump(exclude_unset=True)
    elif isinstance(base, LoadConfig):
        data = base.model_dump(exclude_unset=True)
    else:
        data = dict(base or {})
    simple = {"pattern": "pattern", "model": "model", "duration": "duration", "rate": "rate", "clients": "clients",
              "warmup": "warmup", "pool_size": "pool_size", "load_seed": "seed", "max_error_rate": "max_error_rate"}
    for attr, key in simple.items():
        v = getattr(args, attr, None)
        if v is not None:
            data[key] = v
    if getattr(args, "tool", None):
        tools = {}
        for spec in args.tool:
            name, _, w = spec.partition("=")
            try:
                tools[name] = float(w) if w else 1.0
            except ValueError:
                raise ConfigError(f"--tool {spec!r}: the weight must be a number") from None
        data["tools"] = tools
    if getattr(args, "slo", None):
        slo = dict(data.get("slo") or {})
        for k, v in args.slo:
            try:
                slo[k] = float(v)
            except ValueError:
                raise ConfigError(f"--slo {k}={v}: not a number") from None
        data["slo"] = slo
    bl = dict(data.get("baseline") or {})
    if getattr(args, "baseline", None):
        bl["file"] = args.baseline
    if getattr(args, "save_baseline", False):
        bl["save"] = True
    if getattr(args, "tolerance", None) is not None:
        bl["tolerance"] = args.tolerance
    if bl:
        data["baseline"] = bl
    st = dict(data.get("stress") or {})
    for attr, key in (("step_duration", "step_duration"), ("stress_start", "start"), ("stress_step", "step"), ("stress_max", "max")):
        v = getattr(args, attr, None)
        if v is not None:
            st[key] = v
    if st:
        data["stress"] = st
    if getattr(args, "charts", None):
        data["charts"] = [] if args.charts == "none" else [c.strip() for c in args.charts.split(",") if c.strip()]
    if getattr(args, "report_dir", None):
        data["report_dir"] = args.report_dir
    return parse_load_config(data, "load options")


def cmd_load(args: argparse.Namespace, targets: list[Target], *, argv: Sequence[str] = (), base: Any = None,
             fail_on: Severity = Severity.medium, quiet: bool = False) -> int:
    """Run the load campaign on every target; write the canonical reports; return the exit code."""
    from .. import runner
    from ..report import write_reports
    from ..report.build import build_report
    from ..report.console import Progress, print_summary
    from ..report.model import CheckResult
    from ..transport.base import TransportError
    from .campaign import run_load_target

    cfg = build_config(args, base)
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.monotonic()
    outcomes = []
    with Progress(quiet=quiet) as progress:
        for t in targets:
            try:
                _run, ctx, result = asyncio.run(run_load_target(t, cfg, progress=progress))
            except TransportError as exc:
                from ..report.model import TargetResult

                result = TargetResult(name=t.name, transport=t.transport, description=t.describe(), error=str(exc))
                outcomes.append(runner.TargetOutcome(result=result))
                continue
            checks = [
                CheckResult(id=cid, category=REGISTRY[cid].category, severity=REGISTRY[cid].severity, title=REGISTRY[cid].title,
                            rule=REGISTRY[cid].rule, target=t.name, revision=rev, status=run.status, reason=run.reason, count=run.count)
                for (cid, rev), run in sorted(ctx.ledger.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
            ]
            outcomes.append(runner.TargetOutcome(result=result, findings=ctx.findings, checks=checks))
    report = build_report(outcomes, command=["mcpcheck", "load", *argv], names=["load"], fail_on=fail_on,
                                 started=started, duration=time.monotonic() - t0, seed=cfg.seed)
    written = write_reports(report, cfg.report_dir, ["json", "markdown", "junit"])
    print_summary(report, written, quiet=quiet)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone: python -m mcpcheck.load.cli [options] (-- COMMAND ARGS... | --url URL)."""
    from ..config import make_target

    argv = list(sys.argv[1:] if argv is None else argv)
    head, command = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(prog="mcpcheck load")
    p.add_argument("--url")
    p.add_argument("--name")
    p.add_argument("--protocol")
    p.add_argument("--timeout", type=float)
    p.add_argument("--report-dir")
    p.add_argument("--fail-on", default="medium", choices=[s.value for s in Severity])
    p.add_argument("--quiet", "-q", action="store_true")
    add_arguments(p)
    args = p.parse_args(head)
    try:
        extra = {k: v for k, v in (("protocol", args.protocol), ("timeout", args.timeout)) if v is not None}
        if command:
            targets = [make_target(name=args.name or "target", command=command, **extra)]
        elif args.url:
            targets = [make_target(name=args.name or "target", transport="http", url=args.url, **extra)]
        else:
            p.error("give a server command after -- or --url")
        return cmd_load(args, targets, argv=argv, fail_on=Severity(args.fail_on), quiet=args.quiet)
    except ConfigError as exc:
        print(f"mcpcheck: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

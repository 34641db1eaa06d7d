"""`mcpcheck workflow FILE...`: run workflow files (wired by conformance/cli.py).

    add_arguments(parser)     --examples N, --workflow-seed N, --only NAME, --report-dir DIR
    cmd_workflow(args, configured_targets) -> exit code (0 all passed, 1 a workflow failed,
                                                         2 a workflow could not run)
Standalone: python -m mcpcheck.workflow.cli FILE... [--examples N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ..config import ConfigError, Target


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="workflow files (YAML)")
    g = p.add_argument_group("workflow")
    g.add_argument("--examples", type=int, default=0, metavar="N", help="property-test strategy-driven workflows with N Hypothesis examples (0: one seeded run)")
    g.add_argument("--workflow-seed", type=int, default=0, metavar="N", help="seed for drawn arguments")
    g.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this workflow (repeatable)")


def cmd_workflow(args: argparse.Namespace, configured: dict[str, Target] | None = None, *, report_dir: str | None = None,
                 out=None) -> int:
    from .campaign import run_workflow_files

    out = out or sys.stdout
    outcomes = run_workflow_files(args.files, configured=configured, examples=args.examples, seed=args.workflow_seed, only=args.only or None)
    if not outcomes:
        raise ConfigError("no workflow to run" + (f" named {', '.join(args.only)}" if args.only else ""))
    code = 0
    for o in outcomes:
        mark = "PASS" if o.passed else "FAIL"
        extra = f" ({o.prop.examples} examples)" if o.prop is not None else ""
        print(f"{mark} {o.workflow.name}{extra}", file=out)
        res = o.result or (o.prop.last if o.prop else None)
        for s in res.steps if res else []:
            line = f"    {s.status:<9} {s.id:<16} {s.target}: {s.what}  {s.duration_ms:.0f} ms"
            if s.recovery:
                line += f"  [recovery: {s.recovery}]"
            print(line, file=out)
        if not o.passed:
            print(f"    -> {o.failure}", file=out)
            code = max(code, 2 if o.error else 1)
    if report_dir:
        path = Path(report_dir) / "workflows.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([o.to_dict() for o in outcomes], indent=2, default=str) + "\n", encoding="utf-8")
        print(f"results: {path}", file=out)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mcpcheck workflow")
    p.add_argument("--config", help="mcpcheck.toml / pyproject.toml whose targets workflows may name")
    p.add_argument("--report-dir")
    add_arguments(p)
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        from ..config import load_settings

        configured = dict(load_settings(args.config)[0].targets) if args.config else {}
        return cmd_workflow(args, configured, report_dir=args.report_dir)
    except ConfigError as exc:
        print(f"mcpcheck: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

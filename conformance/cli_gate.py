"""Command-line parts of the readiness gate, baselines and diffs (wired into conformance/cli.py).

    mcpcheck run ... [--gate | --no-gate] [--gate-threshold N] [--baseline FILE | --no-baseline] [--fail-on-new OLD.json]
    mcpcheck diff OLD.json NEW.json [--format text|json|markdown]
    mcpcheck baseline REPORT.json [-o mcpcheck-baseline.toml] [--reason TEXT] [--expires YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .baseline import DEFAULT_BASELINE, Baseline, BaselineError, baseline_toml, diff_reports, load_baseline, load_report
from .gate import GateSettings, finalize


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, got {text!r}")
    return value


def _date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def add_gate_options(run: argparse.ArgumentParser) -> None:
    g = run.add_argument_group(
        "readiness gate, baselines, new findings (docs/gate.md)",
        "With the gate enabled the exit code follows it: 0 = READY, 1 = NOT READY, 2 = a target could not be tested. "
        "Without it, --fail-on decides (over the findings not suppressed by the baseline; only the new ones with --fail-on-new).",
    )
    g.add_argument("--gate", action=argparse.BooleanOptionalAction, default=None,
                   help="let the deployment-readiness gate (score + blocking rules) decide the exit code (default: [gate] enabled in the config, else off; the score and verdict are in every report either way)")
    g.add_argument("--gate-threshold", type=_score, metavar="SCORE", help="lowest quality score (0..100) that can be READY (default: [gate] threshold, else 80)")
    g.add_argument("--baseline", metavar="FILE", help=f"baseline of accepted findings (TOML or JSON; default: config `baseline`, else ./{DEFAULT_BASELINE} when present); suppressed findings are listed apart and never fail the run")
    g.add_argument("--no-baseline", action="store_true", help="ignore any baseline file")
    g.add_argument("--fail-on-new", metavar="OLD.json", help="gate only on findings that are not in this earlier report.json (matched by stable finding id)")


def add_diff_commands(sub: Any) -> None:
    df = sub.add_parser(
        "diff", help="compare two report.json files: new, fixed and unchanged findings",
        description="List the findings of NEW.json that are new, fixed or unchanged against OLD.json (by stable finding id).",
        epilog="Exit codes: 0 = no new finding; 1 = at least one new finding; 2 = a file cannot be read or is not a report.",
    )
    df.add_argument("old", metavar="OLD.json")
    df.add_argument("new", metavar="NEW.json")
    df.add_argument("--format", choices=["text", "json", "markdown"], default="text", help="text (default), json or markdown")
    bl = sub.add_parser(
        "baseline", help="write a baseline file accepting every finding of a report.json",
        description="Write a baseline (suppressions) file with one [[suppress]] entry per finding of REPORT.json; review and commit it.",
    )
    bl.add_argument("report", metavar="REPORT.json")
    bl.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout (e.g. mcpcheck-baseline.toml)")
    bl.add_argument("--reason", default="accepted when the baseline was created", help="reason recorded in every entry")
    bl.add_argument("--expires", type=_date, metavar="YYYY-MM-DD", help="expiry date of every entry")


@dataclass
class GatePlan:
    settings: GateSettings
    enabled: bool
    baseline: Baseline | None
    old: Any = None
    old_path: str = ""


def gate_plan(args: argparse.Namespace, settings: Any) -> GatePlan:
    """Settings + flags -> what to apply after the run; reads the files now (BaselineError)."""
    gs: GateSettings = getattr(settings, "gate", None) or GateSettings()
    if getattr(args, "gate_threshold", None) is not None:
        gs = gs.model_copy(update={"threshold": args.gate_threshold})
    enabled = gs.enabled if getattr(args, "gate", None) is None else bool(args.gate)
    baseline = None
    if not getattr(args, "no_baseline", False):
        path = getattr(args, "baseline", None) or getattr(settings, "baseline", None)
        if path:
            baseline = load_baseline(path)
        elif Path(DEFAULT_BASELINE).is_file():
            baseline = load_baseline(DEFAULT_BASELINE)
    old = None
    old_path = getattr(args, "fail_on_new", None) or ""
    if old_path:
        old = load_report(old_path)
    return GatePlan(settings=gs, enabled=enabled, baseline=baseline, old=old, old_path=old_path)


def apply_gate(report: Any, plan: GatePlan) -> Any:
    return finalize(report, settings=plan.settings, enabled=plan.enabled, baseline=plan.baseline, old=plan.old, old_path=plan.old_path)


def _lines(title: str, ids: list[str], by_id: dict[str, Any]) -> list[str]:
    out = [f"{title} ({len(ids)})"]
    for i in ids:
        f = by_id.get(i)
        out.append(f"  {i}" + (f"  {f.severity.value}  {f.target}{'/' + f.tool if f.tool else ''}  {' '.join(f.title.split())}" if f else ""))
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        old, new = load_report(args.old), load_report(args.new)
    except BaselineError as exc:
        print(f"mcpcheck: error: {exc}", file=sys.stderr)
        return 2
    d = diff_reports(old, new, against=args.old)
    by_id = {f.id: f for f in old.findings}
    by_id.update({s.finding.id: s.finding for s in old.suppressed})
    by_id.update({f.id: f for f in new.findings})
    if args.format == "json":
        data = d.model_dump(mode="json")
        data["new_report"] = args.new
        data["findings"] = {i: by_id[i].model_dump(mode="json", include={"check", "severity", "target", "tool", "title"}) for i in d.new + d.fixed + d.unchanged if i in by_id}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.format == "markdown":
        out = [f"# mcpcheck diff\n\n`{args.old}` -> `{args.new}`: **{len(d.new)} new**, {len(d.fixed)} fixed, {len(d.unchanged)} unchanged\n"]
        for title, ids in (("New", d.new), ("Fixed", d.fixed), ("Unchanged", d.unchanged)):
            out.append(f"## {title} ({len(ids)})\n")
            if ids:
                out.append("| id | severity | target | title |\n|---|---|---|---|")
                for i in ids:
                    f = by_id.get(i)
                    cells = [i, f.severity.value if f else "", (f.target + ("/" + f.tool if f.tool else "")) if f else "", " ".join(f.title.split()) if f else ""]
                    out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
            out.append("")
        sys.stdout.write("\n".join(out) + "\n")
    else:
        out = [f"{args.old} -> {args.new}: {len(d.new)} new, {len(d.fixed)} fixed, {len(d.unchanged)} unchanged"]
        out += _lines("new", d.new, by_id) + _lines("fixed", d.fixed, by_id) + _lines("unchanged", d.unchanged, by_id)
        sys.stdout.write("\n".join(out) + "\n")
    return 1 if d.new else 0


def cmd_baseline(args: argparse.Namespace) -> int:
    try:
        report = load_report(args.report)
    except BaselineError as exc:
        print(f"mcpcheck: error: {exc}", file=sys.stderr)
        return 2
    text = baseline_toml(report, reason=args.reason, expires=args.expires)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"mcpcheck: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"{args.output}: {len(report.findings) + len(report.suppressed)} entries", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

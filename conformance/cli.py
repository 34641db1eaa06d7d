"""The `mcpcheck` command line.

    mcpcheck run [options] -- COMMAND ARGS...      a stdio server
    mcpcheck run [options] --url URL               Streamable HTTP (or --transport sse)
    mcpcheck run [options] [--target NAME ...]     targets from mcpcheck.toml / [tool.mcpcheck]
    mcpcheck list-checks [--format table|json] [--rules [--format markdown]]
    mcpcheck schema [--format json|markdown]
    mcpcheck report REPORT.json --format markdown|junit|json|sarif|html
    mcpcheck diff OLD.json NEW.json                new / fixed / unchanged findings (exit 1 if new)
    mcpcheck baseline REPORT.json -o mcpcheck-baseline.toml
    mcpcheck corpus merge DIR... --into DIR        join the corpora of a sharded campaign

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage error, bad
configuration, or a target that could not be started or reached (one line on stderr says why;
never a traceback for a user error). With the readiness gate (`--gate`, docs/gate.md) the exit
code is 0 READY / 1 NOT READY; baseline-suppressed findings never count; `--fail-on-new` counts
only findings new against an earlier report.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Sequence
from urllib.parse import urlparse

from .config import ConfigError, Settings, Target, load_settings, make_target
from .findings import Severity
from .registry import REGISTRY

PROG = "mcpcheck"
EXIT_MEANING = {
    0: "no finding at or above --fail-on",
    1: "at least one finding at or above --fail-on",
    2: "usage error, bad configuration, or a target could not be started or reached",
}
SECRET_NAME = re.compile(r"authorization|token|secret|password|passwd|api[-_]?key|cookie|credential", re.I)
LAUNCHERS = {"node", "npx", "uv", "uvx", "deno", "bun", "pipx", "sh", "bash", "npm", "pnpm", "yarn", "env", "java", "ruby", "go"}
LAUNCHER_WORDS = {"run", "exec", "x", "dlx", "tool", "--"}
# launcher options whose value is not the server (node, python, uv, npx)
VALUE_OPTIONS = {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "-W", "-X", "--from", "--with", "-p", "--package"}


class UsageError(Exception):
    """A user error: exit code 2 with one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the prog and why), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _key_value(sep: str, what: str):
    def parse(text: str) -> tuple[str, str]:
        key, found, value = text.partition(sep)
        if not found or not key.strip():
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return key.strip(), value.strip() if sep == ":" else value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def _known_versions() -> list[str]:
    from .session import KNOWN_VERSIONS

    return list(KNOWN_VERSIONS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Conformance and property-based fuzzing suite for MCP (Model Context Protocol) servers.",
        epilog="Shortcuts: `mcpcheck fuzz ...` = `mcpcheck run --campaign fuzz --campaign stateful ...`; "
        "`mcpcheck replay [DIR] ...` = `mcpcheck run --campaign replay [--corpus DIR] ...`. "
        "Exit codes: 0 = " + EXIT_MEANING[0] + "; 1 = " + EXIT_MEANING[1] + "; 2 = " + EXIT_MEANING[2] + ".",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True, parser_class=_Parser)

    severities = [s.value for s in Severity]
    run = sub.add_parser(
        "run",
        help="test one or more MCP servers and write the reports",
        description="Test MCP servers: a stdio command after `--`, a --url, or named targets from the config.",
        usage=(
            "%(prog)s [options] -- COMMAND ARGS...\n"
            "       %(prog)s [options] --url URL [--transport http|sse] [--header K:V ...] [--bearer-env VAR]\n"
            "       %(prog)s [options] [--target NAME ...]"
        ),
        epilog=(
            "Exit codes: 0 = " + EXIT_MEANING[0] + "; 1 = " + EXIT_MEANING[1] + "; 2 = " + EXIT_MEANING[2] + ". "
            "Example: mcpcheck run --profile quick -- python -m mcp_server_time"
        ),
    )
    run.add_argument("command", nargs="*", metavar="COMMAND", help=argparse.SUPPRESS)
    _add_target_options(run)
    what = run.add_argument_group("what to run")
    from .profiles import DEFAULT_TOOL_SECONDS, PROFILES, help_text, profile_help

    what.add_argument("--campaign", action="append", default=[], metavar="NAME", help="campaign to run (repeatable; default: conformance, or the profile's): " + help_text())
    what.add_argument("--profile", choices=list(PROFILES), metavar="NAME", help="a named set of campaigns, fuzz sizes and time budget: " + profile_help())
    what.add_argument("--max-time", type=_positive_float, metavar="SECONDS", help="time budget for the whole run: when it is used up every campaign stops at its next step and the report says what was cut (default: the profile's, else none)")
    what.add_argument("--tool-time", type=_positive_float, metavar="SECONDS", help="the time one tool's calls may take in all per protocol era (fuzz, its probes, stateful), split among its valid, invalid and string inputs, so a tool whose calls take seconds cannot set the length of the run (default: the profile's: " + ", ".join(f"{p.name} {p.tool_seconds:g}s" if p.tool_seconds else f"{p.name} none" for p in PROFILES.values()) + f"; else {DEFAULT_TOOL_SECONDS:g}s; env MCPCHECK_TOOL_SECONDS)")
    what.add_argument("--jobs", "-j", type=_jobs, metavar="N", help="work units (campaigns, parts of the fuzz campaign) run at once in worker processes, each with its own server processes; findings and corpus are the same as with --jobs 1 for a given seed (default: the number of cores; a target with `jobs = 1` in its config runs its campaigns one after another)")
    what.add_argument("--check", action="append", default=[], metavar="ID", help="run only checks with this id or id prefix, e.g. jsonrpc (repeatable)")
    what.add_argument("--skip-check", action="append", default=[], metavar="ID", help="skip checks with this id or id prefix (repeatable)")
    what.add_argument("--plugin", action="append", default=[], metavar="MODULE", help="import this module of user-written checks (repeatable; also `plugins` in the config and the mcpcheck.checks entry points; docs/plugins.md)")
    what.add_argument("--protocol", choices=_known_versions(), metavar="REVISION", help="force one protocol revision (" + ", ".join(_known_versions()) + "; default: detect every era the server speaks)")
    what.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="seconds allowed per request (default: the target's, else 10)")
    what.add_argument("--seed", type=int, metavar="N", help="random seed for generated inputs (fuzz, stateful)")
    what.add_argument("--corpus", metavar="DIR", help="where fuzz writes shrunk failures and replay reads them (default: env MCPCHECK_CORPUS, else ./corpus)")
    what.add_argument("--max-examples", type=int, metavar="N", help="generated inputs per tool and mode (fuzz; stateful and idempotency use a fraction; default 25, env MCPCHECK_MAX_EXAMPLES)")
    what.add_argument("--allow-destructive", action="store_true", default=None, help="also call tools that look destructive (never by default)")
    what.add_argument("--read-only", action="store_true", default=None, help="call only tools annotated readOnlyHint (listings, resource reads and prompts still run): for targets that hold real data")
    _add_nightly_options(run)
    out = run.add_argument_group("results")
    out.add_argument("--fail-on", type=str.lower, choices=severities, metavar="SEVERITY", help="lowest severity that fails the run: " + ", ".join(severities) + " (default: config, else high)")
    out.add_argument("--report-dir", metavar="DIR", help="where to write the reports (default: config, else mcpcheck-report)")
    out.add_argument("--format", action="append", default=[], metavar="LIST", help="report formats, comma-separated: json, markdown, junit, sarif, html (default: json, markdown, junit)")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress output; only the verdict line on stdout")
    _add_gate_options(run)

    lc = sub.add_parser("list-checks", help="list every registered check", description="List every registered check: id, category, severity, spec rule, level, revisions.")
    lc.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="markdown: only with --rules (the docs/rules.md document)")
    lc.add_argument("--rules", action="store_true", help="the spec rule matrix instead: every rule of the MCP spec digest, its level and revisions, the checks citing it or why none does")
    lc.add_argument("--campaign", action="append", default=[], metavar="NAME", help="only checks of this campaign (repeatable)")
    lc.add_argument("--plugin", action="append", default=[], metavar="MODULE", help="also load this module of user-written checks (repeatable)")
    lc.add_argument("--config", metavar="PATH", help="config file whose `plugins` to load (default: ./mcpcheck.toml, then [tool.mcpcheck] in ./pyproject.toml)")

    sc = sub.add_parser("schema", help="print the JSON Schema of report.json", description="Print the canonical report JSON Schema (or the docs/report-schema.md document).")
    sc.add_argument("--format", choices=["json", "markdown"], default="json", help="json: the schema (default); markdown: the generated docs/report-schema.md")

    from .load import cli as load_cli
    from .monitor import cli as monitor_cli
    from .workflow import cli as workflow_cli

    ld = sub.add_parser(
        "load", help="load-test servers (constant, ramp-up, spike, burst, stress, soak)",
        description="Load-test MCP servers with inputs drawn from the fuzz strategies; latency percentiles, throughput, "
        "error rate, degradation, SLOs and baselines (docs/load.md).",
        usage="%(prog)s [options] -- COMMAND ARGS...  |  --url URL  |  --target NAME",
        epilog="Exit codes: 0 = " + EXIT_MEANING[0] + "; 1 = " + EXIT_MEANING[1] + "; 2 = " + EXIT_MEANING[2] + ".",
    )
    ld.add_argument("command", nargs="*", metavar="COMMAND", help=argparse.SUPPRESS)
    _add_target_options(ld, session_options=True)
    load_cli.add_arguments(ld)
    lo = ld.add_argument_group("results")
    lo.add_argument("--fail-on", type=str.lower, choices=severities, metavar="SEVERITY", help="lowest severity that fails the run (default medium)")
    lo.add_argument("--report-dir", metavar="DIR", help="where to write the reports and charts (default: config, else mcpcheck-report)")
    lo.add_argument("--quiet", "-q", action="store_true", help="no progress output")

    wf = sub.add_parser(
        "workflow", help="run multi-server workflow files (YAML)",
        description="Run workflow files: steps across named targets, passing results forward, with assertions (docs/workflows.md).",
    )
    workflow_cli.add_arguments(wf)
    wf.add_argument("--config", metavar="PATH", help="config whose [targets] the workflows may name")
    wf.add_argument("--report-dir", metavar="DIR", help="write workflows.json here")

    mo = sub.add_parser(
        "monitor", help="health-monitor servers at an interval (live table, JSON lines, Prometheus)",
        description="Check each target at an interval: liveness, latency, availability; exits 1 when a threshold breaks (docs/monitor.md).",
        usage="%(prog)s [options] -- COMMAND ARGS...  |  --url URL  |  --target NAME",
    )
    mo.add_argument("command", nargs="*", metavar="COMMAND", help=argparse.SUPPRESS)
    _add_target_options(mo, session_options=True)
    monitor_cli.add_arguments(mo)

    _add_diff_commands(sub)
    _add_corpus_command(sub)

    rp = sub.add_parser("report", help="re-render a view from a saved report.json", description="Re-render a view (Markdown, JUnit XML, JSON, SARIF, HTML) from a saved canonical report.json.")
    rp.add_argument("report", metavar="REPORT.json")
    rp.add_argument("--format", default="markdown", metavar="FORMAT", help="markdown (default), junit, json, sarif or html")
    rp.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    return parser



def _add_target_options(p: argparse.ArgumentParser, *, session_options: bool = False) -> None:
    """The target options shared by `run`, `load` and `monitor`."""
    tgt = p.add_argument_group("target")
    tgt.add_argument("--url", help="Streamable HTTP (or legacy SSE) endpoint of the server")
    tgt.add_argument("--transport", choices=["http", "sse"], help="HTTP transport for --url (default: http)")
    tgt.add_argument("--header", action="append", default=[], type=_key_value(":", "K:V"), metavar="K:V", help="HTTP header sent with every request (repeatable)")
    tgt.add_argument("--bearer-env", metavar="VAR", help="environment variable holding a bearer token for --url")
    tgt.add_argument("--env", action="append", default=[], type=_key_value("=", "K=V"), metavar="K=V", help="environment variable for the stdio server (repeatable)")
    tgt.add_argument("--target", action="append", default=[], metavar="NAME", help="a target from the config (repeatable; default: all configured targets)")
    tgt.add_argument("--name", help="name of the command/--url target in the report (default: derived from it)")
    tgt.add_argument("--config", metavar="PATH", help="config file (default: ./mcpcheck.toml, then [tool.mcpcheck] in ./pyproject.toml)")
    if session_options:
        tgt.add_argument("--protocol", choices=_known_versions(), metavar="REVISION", help="force one protocol revision")
        tgt.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="seconds allowed per request (default: the target's, else 10)")
        tgt.add_argument("--allow-destructive", action="store_true", default=None, help="also call tools that look destructive (never by default)")
        tgt.add_argument("--read-only", action="store_true", default=None, help="call only tools annotated readOnlyHint")


def _add_gate_options(p: argparse.ArgumentParser) -> None:
    from .cli_gate import add_gate_options

    add_gate_options(p)


def _add_nightly_options(p: argparse.ArgumentParser) -> None:
    from .cli_nightly import add_run_options

    add_run_options(p)


def _add_corpus_command(sub) -> None:
    from .cli_nightly import add_corpus_command

    add_corpus_command(sub)


def _add_diff_commands(sub) -> None:
    from .cli_gate import add_diff_commands

    add_diff_commands(sub)


def _gate_plan(args: argparse.Namespace, settings: Settings):
    """Load the baseline and the --fail-on-new report before the run (a bad file: exit 2 now)."""
    from .cli_gate import gate_plan

    try:
        return gate_plan(args, settings)
    except ValueError as exc:  # BaselineError: unreadable baseline / old report
        raise UsageError(str(exc)) from exc


def _apply_gate(report, plan):
    """Baseline suppressions, --fail-on-new and the readiness gate (conformance/cli_gate.py)."""
    from .cli_gate import apply_gate

    return apply_gate(report, plan)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mcpcheck")
    except Exception:  # noqa: BLE001 - not installed (running from a checkout)
        return "0.1.0"


# --------------------------------------------------------------------------- helpers


def _split_argv(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """Everything after the first `--` is the server command (never parsed as options)."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, None


def redact(argv: Sequence[str]) -> list[str]:
    """The argv for the report, with secret-looking header and env values and a --database
    URL's password masked."""
    out: list[str] = []
    pending: str | None = None
    for arg in argv:
        if arg == "--":
            out.extend(argv[len(out):])
            break
        if pending is not None:
            out.append(_mask(arg, pending))
            pending = None
            continue
        if arg in ("--header", "--env", "--database"):
            pending = {"--header": ":", "--env": "=", "--database": "url"}[arg]
            out.append(arg)
            continue
        for opt, sep in (("--header=", ":"), ("--env=", "="), ("--database=", "url")):
            if arg.startswith(opt):
                arg = opt + _mask(arg[len(opt):], sep)
        out.append(arg)
    return out


def _mask(value: str, sep: str) -> str:
    from .redact import secret_name

    if sep == "url":  # --database redis://user:PASSWORD@host: the password never reaches a report
        parts = urlparse(value)
        if parts.password:
            return value.replace(f":{parts.password}@", ":***@", 1)
        return value
    key, found, _ = value.partition(sep)
    return f"{key}{sep}***" if found and (SECRET_NAME.search(key) or secret_name(key)) else value


def _command_name(command: list[str]) -> str:
    """A stable, readable target name for a stdio command: `python -m mcp_server_time` ->
    `mcp_server_time`, `npx -y @scope/server-everything` -> `server-everything`."""
    base = os.path.basename(command[0])
    name = base
    if re.fullmatch(r"python[\d.]*(\.exe)?|pypy[\d.]*", base) or base in LAUNCHERS:
        rest = command[1:]
        if "-m" in rest and rest.index("-m") + 1 < len(rest):
            name = rest[rest.index("-m") + 1]
        else:
            skip = False
            for arg in rest:
                if skip:  # the value of an option such as `node --require preload.cjs`
                    skip = False
                    continue
                if arg in VALUE_OPTIONS:
                    skip = True
                    continue
                if not arg.startswith("-") and arg not in LAUNCHER_WORDS and "=" not in arg:
                    name = arg
                    break
    name = name.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"\.(py|js|mjs|cjs|ts|sh|exe)$", "", name)
    name = re.sub(r"@[\w.^~-]*$", "", name) if not name.startswith("@") else name
    return re.sub(r"[^\w.@-]+", "-", name).strip("-.") or "target"


def _url_name(url: str) -> str:
    host = urlparse(url).netloc or "target"
    return re.sub(r"[^\w.@:-]+", "-", host).strip("-.") or "target"


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.timeout is not None:
        out["timeout"] = args.timeout
    if args.protocol is not None:
        out["protocol"] = args.protocol
    return out


def _with_safety(data: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    for flag in ("allow_destructive", "read_only"):
        if getattr(args, flag, None):
            safety = dict(data.get("safety") or {})
            safety[flag] = True
            data["safety"] = safety
    return data


def resolve_targets(args: argparse.Namespace, settings: Settings, command: list[str]) -> list[Target]:
    http_only = [opt for opt, given in (("--transport", args.transport), ("--header", args.header), ("--bearer-env", args.bearer_env)) if given]
    if command and args.url:
        raise UsageError("give either a server command after `--` or --url, not both")
    if args.target and (command or args.url):
        raise UsageError("give either --target NAME or a server command / --url, not both")
    if command:
        if http_only:
            raise UsageError(f"{', '.join(http_only)} only apply to --url targets")
        data = {"name": args.name or _command_name(command), "transport": "stdio", "command": command, "env": dict(args.env)}
        return [make_target(**_with_safety({**data, **_overrides(args)}, args))]
    if args.url:
        if args.env:
            raise UsageError("--env only applies to stdio servers (a command after `--`)")
        parsed = urlparse(args.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"--url must be an http:// or https:// URL, got {args.url!r}")
        data = {
            "name": args.name or _url_name(args.url),
            "transport": args.transport or "http",
            "url": args.url,
            "headers": dict(args.header),
            "bearer_env": args.bearer_env,
        }
        return [make_target(**_with_safety({**data, **_overrides(args)}, args))]
    if args.name:
        raise UsageError("--name applies to a server command or --url target")
    if not settings.targets:
        raise UsageError("no target: give a server command after `--`, --url URL, or configure targets in mcpcheck.toml / [tool.mcpcheck.targets]")
    names = args.target or list(settings.targets)
    unknown = [n for n in names if n not in settings.targets]
    if unknown:
        raise UsageError(f"unknown target {unknown[0]!r} (configured: {', '.join(settings.targets)})")
    targets = []
    for name in dict.fromkeys(names):
        t = settings.targets[name]
        data = t.model_dump()
        data.update(_overrides(args))
        if args.env:
            if t.transport != "stdio":
                raise UsageError(f"--env only applies to stdio targets ({name!r} is {t.transport})")
            data["env"] = {**t.env, **dict(args.env)}
        if args.header or args.bearer_env or args.transport:
            if t.transport == "stdio":
                raise UsageError(f"{', '.join(http_only)} only apply to HTTP targets ({name!r} is stdio)")
            data["headers"] = {**t.headers, **dict(args.header)}
            if args.bearer_env:
                data["bearer_env"] = args.bearer_env
            if args.transport:
                data["transport"] = args.transport
        targets.append(make_target(**_with_safety(data, args)))
    return targets


def load_checks(plugins: list[str] | tuple[str, ...] = ()) -> None:
    """Every built-in check (runner.load_all_checks), then the plugins: the mcpcheck.checks entry
    points and `plugins` (modules). A plugin that fails is one line on stderr; the run goes on."""
    from .plugins import load_plugins
    from .runner import load_all_checks

    load_all_checks()
    load_plugins(plugins)


def _check_patterns(patterns: list[str], what: str) -> None:
    """A --check that matches no registered check is almost always a typo: say so."""
    from .runner import selector

    ids = list(REGISTRY)
    for p in patterns:
        wants = selector([p], [])
        if not any(wants(i) for i in ids):
            close = sorted(i for i in ids if p.split(".")[0] in i)[:5]
            hint = f" (did you mean: {', '.join(close)}?)" if close else " (see mcpcheck list-checks)"
            raise UsageError(f"{what} {p!r} matches no registered check{hint}")


def _split_list(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _campaign_names(requested: list[str], default: list[str] | None = None) -> tuple[list[str], bool]:
    """The campaigns asked for, `all` expanded; the bool: leave out those that do not apply
    to a target's transport (`all` and the profiles)."""
    from .profiles import ALL, expand
    from .runner import campaigns

    known = list(campaigns())
    asked = list(dict.fromkeys(_split_list(requested)))
    names, wants_all = expand(asked or default or ["conformance"])
    for n in names:
        if n not in known:
            raise UsageError(f"unknown campaign {n!r} (known: {', '.join(known)}, {ALL})")
    return names, wants_all or (not asked and default is not None)


def _run_started() -> float:
    """When --max-time starts counting: at main() (start-up is part of the run)."""
    return _MAIN_STARTED or time.monotonic()


def _check_report_dir(report_dir: str) -> None:
    """Find out now, not after the run, that the reports cannot be written, without creating
    the directory yet (a run that tests nothing leaves no report directory behind)."""
    path = Path(report_dir)
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        why = "not a directory" if probe.exists() and not probe.is_dir() else "permission denied"
        raise UsageError(f"cannot create the report directory {report_dir}: {why} ({probe})")


def _run_kwargs(seed: int | None) -> tuple[dict[str, Any], bool]:
    """Forward --seed when the runner accepts it (else it is only recorded in the report)."""
    from . import runner

    if seed is None:
        return {}, True
    params = inspect.signature(runner.run_target).parameters
    if "seed" in params:
        return {"seed": seed}, True
    return {}, False


def _target_error_line(target: Target, error: str, many: bool) -> str:
    key = target.url if target.transport != "stdio" else (target.command or [""])[0]
    msg = error if key and key in error else f"{target.describe()}: {error}"
    return f"target {target.name!r}: {msg}" if many else msg


# --------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace, argv: list[str], command: list[str]) -> int:
    from . import runner
    from .report import parse_formats, write_reports
    from .report.build import build_report
    from .report.console import Progress, print_summary
    from .report.markdown import append_step_summary, render_markdown

    settings, _source = load_settings(args.config)
    formats = parse_formats(args.format or settings.formats)
    from .profiles import PROFILES, activate

    profile = PROFILES[args.profile] if args.profile else None
    activate(profile)  # what the profile leaves out (profiles.py), read where the campaigns decide
    names, applicable_only = _campaign_names(args.campaign, list(profile.campaigns) if profile else None)
    max_time = args.max_time if args.max_time is not None else (profile.max_time if profile else None)
    from .profiles import tool_seconds

    tool_seconds(getattr(args, "tool_time", None), profile)  # FuzzSettings' default here and in --jobs workers
    load_checks([*settings.plugins, *args.plugin])
    only = _split_list(args.check) or settings.checks
    skip = list(settings.skip_checks) + _split_list(args.skip_check)
    if only:
        _check_patterns(only, "--check" if args.check else "checks (config)")
    targets = resolve_targets(args, settings, command)
    for t in targets:
        if t.bearer_env and not os.environ.get(t.bearer_env):
            raise UsageError(f"--bearer-env {t.bearer_env}: that environment variable is not set (target {t.name!r})")
    fail_on = Severity(args.fail_on or settings.fail_on)
    gate_plan = _gate_plan(args, settings)
    seed = args.seed if args.seed is not None else settings.seed
    report_dir = args.report_dir or settings.report_dir
    extra, seed_forwarded = _run_kwargs(seed)
    if args.corpus:
        extra["corpus_dir"] = args.corpus
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    max_examples = args.max_examples if args.max_examples is not None else (profile.max_examples if profile else None)
    if max_examples is not None:
        from .campaigns.fuzz import FuzzSettings

        extra["fuzz_settings"] = FuzzSettings(max_examples=max_examples, **(profile.fuzz if profile else {}))
    if applicable_only:
        extra["applicable_only"] = True
    from .cli_nightly import apply_run_options  # --shard, --shard-rotation, --database

    apply_run_options(args, names, extra)
    _check_report_dir(report_dir)

    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.monotonic()
    from .budget import RunState

    state = RunState(max_time=max_time, started=_run_started())
    with Progress(quiet=args.quiet, state=state) as progress:
        if not seed_forwarded and any(n in ("fuzz", "stateful") for n in names):
            progress.log(f"note: --seed {seed} is recorded in the report but this engine does not forward it to the campaigns yet")
        budget_note = f"; time budget {max_time:g}s" if max_time else ""
        progress(f"testing {', '.join(f'{t.name} ({t.describe()})' for t in targets)}; campaigns: {', '.join(names)}{budget_note}")
        try:
            outcomes = runner.run(targets, names, only=only or None, skip=skip, progress=progress, state=state, jobs=args.jobs, **extra)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("mcpcheck.transport."):
                kind = exc.name.rsplit(".", 1)[-1]
                where = ", ".join(t.url or t.name for t in targets if t.transport != "stdio")
                raise UsageError(f"cannot test {where}: the {kind} transport is not available in this mcpcheck installation ({exc})") from exc
            raise
        except ValueError as exc:
            if str(exc).startswith("unknown campaign"):
                raise UsageError(str(exc)) from exc
            raise
        if state.cuts and max_time is not None and state.expired:
            progress.log(f"time budget of {max_time:g}s used up after {state.elapsed():.0f}s; cut: " + "; ".join(state.cuts))
        elif state.cuts:
            progress.log("cut to keep the run bounded (per-tool shares and caps): " + "; ".join(state.cuts))
    many = len(targets) > 1
    if all(o.result.error and not o.result.eras for o in outcomes):  # no era detected: nothing was tested
        # nothing could be tested: one line per target on stderr, exit 2, and no report directory
        for t, o in zip(targets, outcomes):
            print(f"{PROG}: error: {_target_error_line(t, o.result.error or '', many)}", file=sys.stderr)
        return 2
    report = build_report(
        outcomes,
        command=[PROG, *redact(argv)],
        names=names,
        fail_on=fail_on,
        started=started,
        duration=time.monotonic() - t0,
        seed=seed,
    )
    try:
        report = _apply_gate(report, gate_plan)
        written = write_reports(report, report_dir, formats)
    except OSError as exc:
        raise UsageError(f"cannot write the reports to {report_dir}: {exc.strerror or exc}") from exc
    try:
        append_step_summary(report, render_markdown(report))
    except OSError as exc:
        print(f"{PROG}: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}", file=sys.stderr)
    print_summary(report, written, quiet=args.quiet)
    for t, o in zip(targets, outcomes):
        if o.result.error:
            print(f"{PROG}: error: {_target_error_line(t, o.result.error, many)}", file=sys.stderr)
    return report.exit_code


def cmd_load(args: argparse.Namespace, argv: list[str], command: list[str]) -> int:
    from .load import cli as load_cli

    settings, _source = load_settings(args.config)
    targets = resolve_targets(args, settings, command)
    fail_on = Severity(args.fail_on or "medium")
    if args.report_dir is None:
        args.report_dir = settings.report_dir
    return load_cli.cmd_load(args, targets, argv=redact(argv[1:]), fail_on=fail_on, quiet=args.quiet)


def cmd_monitor(args: argparse.Namespace, command: list[str]) -> int:
    from .monitor import cli as monitor_cli

    settings, _source = load_settings(args.config)
    return monitor_cli.cmd_monitor(args, resolve_targets(args, settings, command))


def cmd_workflow(args: argparse.Namespace) -> int:
    from .workflow import cli as workflow_cli

    settings, _source = load_settings(args.config)
    return workflow_cli.cmd_workflow(args, dict(settings.targets), report_dir=args.report_dir)


def cmd_list_checks(args: argparse.Namespace) -> int:
    if args.format == "markdown" and not args.rules:
        raise UsageError("list-checks --format markdown needs --rules")
    settings, _source = load_settings(args.config)
    load_checks([*settings.plugins, *args.plugin])
    if args.rules:
        return _list_rules(args)
    wanted = _campaign_names(args.campaign)[0] if args.campaign else None
    specs = sorted((s for s in REGISTRY.values() if wanted is None or s.campaign in wanted), key=lambda s: (s.campaign, s.id))
    origin = {c.id: (c.origin, c.scope) for c in REGISTRY.checks()}
    if args.format == "json":
        rows = [
            {
                "id": s.id,
                "scope": origin[s.id][1],
                "origin": origin[s.id][0],
                "category": s.category,
                "severity": s.severity.value,
                "title": s.title,
                "rule": s.rule,
                "level": s.level,
                "revisions": s.revisions,
                "campaign": s.campaign,
                "description": s.description,
            }
            for s in specs
        ]
        print(json.dumps(rows, indent=2))
        return 0
    header = ("ID", "CAMPAIGN", "SCOPE", "CATEGORY", "SEVERITY", "RULE", "LEVEL", "REVISIONS", "FROM", "TITLE")
    rows_t = [(s.id, s.campaign, origin[s.id][1], s.category, s.severity.value, s.rule or "-", s.level or "-", s.revisions, origin[s.id][0], s.title) for s in specs]
    widths = [max(len(r[i]) for r in [header, *rows_t]) for i in range(len(header) - 1)]
    for r in [header, *rows_t]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print(f"\n{len(specs)} checks")
    return 0


def _list_rules(args: argparse.Namespace) -> int:
    """`list-checks --rules`: every spec rule with the checks citing it, or why none does."""
    from . import rules

    wanted = _campaign_names(args.campaign) if args.campaign else None
    rows = rules.coverage((s.id, s.rule) for s in REGISTRY.values() if wanted is None or s.campaign in wanted)
    if args.format == "json":
        print(json.dumps({"rules": [c.to_dict() for c in rows], "summary": rules.summary(rows)}, indent=2))
        return 0
    if args.format == "markdown":
        sys.stdout.write(rules.render_markdown(rows))
        return 0
    header = ("RULE", "LEVEL", "REVISIONS", "CHECKS / WHY NONE")
    table = []
    for c in rows:
        r = c.rule
        what = ", ".join(c.checks) if c.checks else ("(open) " if r.open else "") + (r.why or "NO CHECK AND NO REASON")
        table.append((r.id, r.level, r.revisions, what))
    widths = [max(len(t[i]) for t in [header, *table]) for i in range(len(header) - 1)]
    for t in [header, *table]:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)) + "  " + t[-1])
    print("\n" + rules.summary(rows))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .report.json_report import render_schema_doc, schema_json

    sys.stdout.write(render_schema_doc() if args.format == "markdown" else schema_json())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .report import UnknownFormat, render
    from .report.model import RunReport

    path = Path(args.report)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {args.report}: {exc.strerror or exc}") from exc
    try:
        report = RunReport.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "document"
        raise UsageError(f"{args.report} is not a mcpcheck report.json: {where}: {err['msg']}") from exc
    load_checks()  # the SARIF rules are described by the registry (built-ins and installed plugins)
    try:
        out = render(report, args.format, directory=path.parent)
    except UnknownFormat as exc:
        raise UsageError(str(exc)) from exc
    if args.output:
        try:
            Path(args.output).write_text(out, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(out)
    return 0


# --------------------------------------------------------------------------- entry point


def expand_aliases(argv: list[str]) -> list[str]:
    """`mcpcheck fuzz ...` = `run --campaign fuzz --campaign stateful ...`;
    `mcpcheck replay [DIR] ...` = `run --campaign replay [--corpus DIR] ...`."""
    if argv[:1] == ["fuzz"]:
        return ["run", "--campaign", "fuzz", "--campaign", "stateful", *argv[1:]]
    if argv[:1] == ["replay"]:
        rest = argv[1:]
        if rest and not rest[0].startswith("-"):
            return ["run", "--campaign", "replay", "--corpus", rest[0], *rest[1:]]
        return ["run", "--campaign", "replay", *rest]
    return argv


_MAIN_STARTED: float | None = None  # --max-time counts from main(): start-up is part of the run


def main(argv: Sequence[str] | None = None) -> int:
    global _MAIN_STARTED
    _MAIN_STARTED = time.monotonic()
    argv = expand_aliases(list(sys.argv[1:] if argv is None else argv))
    from .report import UnknownFormat
    from .transport.base import TransportError

    try:
        head, command = _split_argv(argv)
        parser = build_parser()
        try:
            args, extras = parser.parse_known_args(head)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        if extras:
            hint = ""
            if args.cmd == "run" and (args.command or not extras[0].startswith("-")):
                hint = "; put the server command after `--`"
            raise UsageError(f"{PROG} {args.cmd}: error: unrecognized arguments: {' '.join(extras)} (see '{PROG} {args.cmd} --help'{hint})")
        if args.cmd == "run":
            cmd = list(args.command) + list(command or [])
            if command is not None and not command:
                raise UsageError("nothing after `--`: give the server command to run")
            return cmd_run(args, argv, cmd)
        if args.cmd in ("load", "monitor"):
            cmd = list(args.command) + list(command or [])
            if command is not None and not command:
                raise UsageError("nothing after `--`: give the server command to run")
            return cmd_load(args, argv, cmd) if args.cmd == "load" else cmd_monitor(args, cmd)
        if command is not None:
            raise UsageError("`--` is only used by `mcpcheck run`, `load` and `monitor` (to pass the server command)")
        if args.cmd == "workflow":
            return cmd_workflow(args)
        if args.cmd == "list-checks":
            return cmd_list_checks(args)
        if args.cmd == "schema":
            return cmd_schema(args)
        if args.cmd == "report":
            return cmd_report(args)
        if args.cmd == "corpus":
            from .cli_nightly import cmd_corpus

            return cmd_corpus(args)
        if args.cmd in ("diff", "baseline"):
            from .cli_gate import cmd_baseline, cmd_diff

            return cmd_diff(args) if args.cmd == "diff" else cmd_baseline(args)
        raise UsageError(f"unknown command {args.cmd!r}")
    except UsageError as exc:
        msg = str(exc)
        _error(msg if msg.startswith(PROG) else f"{PROG}: error: {msg}")
        return 2
    except (ConfigError, TransportError, UnknownFormat) as exc:
        _error(f"{PROG}: error: {_one_line(str(exc))}")
        return 2
    except KeyboardInterrupt:
        _error(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:  # `mcpcheck list-checks | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error(line: str) -> None:
    print(_one_line(line), file=sys.stderr, flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

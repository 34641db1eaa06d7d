"""Shared fixture runs for the report-view tests (test_sarif, test_html_report, test_gate,
test_baseline_diff): one real `mcpcheck run` against a few lines of raw JSON-RPC, made once per
test session, plus RunReports built through `runner.build_report` for the edge cases.

The server handshakes, lists one tool whose schema says `level` is 0..10, and
- answers an unknown method with a success result (errors.unknown_method, low), and
- never checks the upper bound of `level` (fuzz.invalid_input_rejected, medium; a corpus/ entry;
  the constraint table shows `maximum` NOT enforced; the lower bound is checked),
so `--check errors.unknown_method --check fuzz.invalid_input_rejected` gives two deterministic
findings in a few seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import os
import shutil
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from mcpcheck import cli
from mcpcheck.findings import Evidence, Finding, Severity
from mcpcheck.report.model import CheckResult, RunReport, TargetResult, ToolConstraints
from mcpcheck.report.build import build_report
from mcpcheck.runner import TargetOutcome

ALL_FORMATS = "json,markdown,junit,sarif,html"
REV = "2025-11-25"
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

SERVER = textwrap.dedent(
    """
    import json, sys
    TOOLS = [{"name": "set_volume", "description": "Set the volume (0..10).",
              "inputSchema": {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 10}},
                              "required": ["level"], "additionalProperties": False}}]

    def send(obj):
        sys.stdout.write(json.dumps(obj) + "\\n")
        sys.stdout.flush()

    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
            continue
        m, rid = msg["method"], msg["id"]
        if m == "initialize":
            result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                      "serverInfo": {"name": "tiny-tools", "version": "0.1"}}
        elif m == "tools/list":
            result = {"tools": TOOLS}
        elif m == "tools/call":
            params = msg.get("params") or {}
            args = params.get("arguments")
            level = args.get("level") if isinstance(args, dict) else None
            if params.get("name") != "set_volume" or not isinstance(level, int) or isinstance(level, bool) or set(args) != {"level"} or level < 0:
                send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "invalid arguments"}})
                continue
            result = {"content": [{"type": "text", "text": "volume %d" % level}], "isError": False}  # no upper-bound check
        else:
            result = {}  # the defect: even an unknown method "succeeds"
        send({"jsonrpc": "2.0", "id": rid, "result": result})
    """
)
CHECKS = ["--check", "errors.unknown_method", "--check", "fuzz.invalid_input_rejected"]


@contextlib.contextmanager
def in_dir(path: Path):
    old = Path.cwd()
    saved = os.environ.pop("GITHUB_STEP_SUMMARY", None)
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)
        if saved is not None:
            os.environ["GITHUB_STEP_SUMMARY"] = saved


def server_cmd(where: Path) -> list[str]:
    path = where / "tiny_tools_server.py"
    if not path.exists():
        path.write_text(SERVER)
    return [sys.executable, str(path)]


def mcpcheck(workdir: Path, *argv: str) -> tuple[int, str, str]:
    """`mcpcheck ARGV` in-process, in `workdir`; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with in_dir(workdir), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_tiny(workdir: Path, *extra: str, campaigns=("conformance", "fuzz"), checks=CHECKS, formats=ALL_FORMATS) -> tuple[int, Path, str, str]:
    """A real run against the tiny server; returns (exit code, report dir, stdout, stderr)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = server_cmd(workdir)
    camp = [a for c in campaigns for a in ("--campaign", c)]
    code, out, err = mcpcheck(
        workdir, "run", "-q", *camp, *checks, "--protocol", REV, "--timeout", "5", "--seed", "1", "--corpus", "corpus",
        "--format", formats, "--report-dir", str(workdir / "out"), *extra, "--", *cmd,
    )
    return code, workdir / "out", out, err


@dataclass
class RealRun:
    code: int
    dir: Path
    workdir: Path
    stdout: str
    stderr: str

    @property
    def report(self) -> RunReport:
        return RunReport.model_validate_json((self.dir / "report.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def real_run() -> RealRun:
    """One real run with every view, shared by the test modules of this session (read only)."""
    work = Path(tempfile.mkdtemp(prefix="mcpcheck-views-"))
    code, out_dir, out, err = run_tiny(work)
    return RealRun(code, out_dir, work, out, err)


def cleanup() -> None:  # pragma: no cover - best effort at interpreter exit
    if real_run.cache_info().currsize:
        shutil.rmtree(real_run().workdir, ignore_errors=True)


import atexit  # noqa: E402

atexit.register(cleanup)


# --------------------------------------------------------------------------- synthetic reports


def finding(check: str, severity: str, detail: str, *, category: str = "protocol.jsonrpc_shape", target: str = "srv", tool: str | None = None, **kw) -> Finding:
    import hashlib

    digest = hashlib.sha1(f"{check}|{target}|{detail}".encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return Finding(
        id=f"{check}:{digest}", check=check, category=category, severity=Severity(severity),
        title=f"title of {check}", detail=detail, target=target, revision=REV, rule="J4", spec_level="MUST", tool=tool,
        evidence=[Evidence(seq=1, direction="in", channel="stdout", raw='{"jsonrpc":"2.0","id":1,"result":{}}')],
        reproduce=f"mcpcheck run --check {check} -- python server.py", **kw,
    )


def check(id: str, status: str, *, category: str = "protocol.jsonrpc_shape", target: str = "srv", severity: str = "high") -> CheckResult:
    return CheckResult(id=id, category=category, severity=Severity(severity), title=f"title of {id}", rule="J4", target=target, revision=REV, status=status, count=1)


def synthetic(findings=(), checks=None, *, unreachable=False, fail_on="high", constraints=(), notes=(), corpus=()) -> RunReport:
    findings = list(findings)
    if checks is None:
        checks = [check(f.check, "failed", category=f.category, target=f.target) for f in findings]
        checks.append(check("jsonrpc.response_shape", "passed"))
    result = TargetResult(
        name="srv", transport="stdio", description="python server.py", eras=[REV], server_info={"name": "demo", "version": "1.0"},
        tools=["set_volume"], constraints=list(constraints), notes=list(notes), corpus=list(corpus),
    )
    outcomes = [TargetOutcome(result=result, findings=findings, checks=list(checks))]
    if unreachable:
        outcomes.append(TargetOutcome(result=TargetResult(name="down", transport="http", description="http http://127.0.0.1:9/mcp", error="cannot reach http://127.0.0.1:9/mcp: connection refused")))
    return build_report(
        outcomes, command=["mcpcheck", "run", "--", "python", "server.py"], names=["conformance"], fail_on=Severity(fail_on),
        started=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), duration=2.0, seed=None,
    )


def volume_constraints() -> list[ToolConstraints]:
    return [
        ToolConstraints(tool="set_volume", engine="hypothesis-jsonschema", calls=40, enforced={"type": True, "maximum": False}),
        ToolConstraints(tool="wipe", skipped="wipe is annotated destructiveHint"),
    ]

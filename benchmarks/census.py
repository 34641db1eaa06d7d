"""Census of mcpcheck's verdicts on real third-party MCP servers (issue 12): prints a table.

Runs every campaign that applies (conformance, fuzz, stateful, envelope, security; http-security
for Streamable HTTP) through mcpcheck's own CLI, as a new user would (default timeout and safety
settings, a small --max-examples), against each server below, and writes each server's reports
under .census/reports/<server>/ (git-ignored). Then prints, per server, the wall time, exit code,
gate verdict, findings by severity, state left behind in the server's scratch data, and whether
a dummy secret-looking variable of mcpcheck's own environment was copied into the reports; and
per finding of low or above, how tests/thirdparty/census_expectations.yaml judges it (expected =
verified true, false / debatable = a known false alarm with its root cause, UNJUDGED = new).

Servers (installed on first use; nothing here reaches beyond 127.0.0.1):
  npm  (tests/thirdparty/package.json, `npm ci` as the test-suite does): server-everything over
       stdio and Streamable HTTP (forced onto 127.0.0.1), server-memory, server-filesystem,
       server-sequential-thinking
  PyPI (.census/venv-mcp2): mcp-server-time, mcp-server-git, mcp-server-fetch
  PyPI (.census/venv-mcp1, needs mcp<2): mcp-server-sqlite, mcp-server-calculator
State-changing servers get scratch data in a fresh temporary directory (memory file, allowed
directory, git repository, sqlite database), removed after the run.

Usage: python benchmarks/census.py [--max-examples 5] [--only NAME ...] [--out .census/reports]
       (tests/thirdparty/test_census.py imports run_server() and compare())
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

import servers  # noqa: E402  (tests/servers.py: npm install, loopback preload, HTTP serving)

CENSUS = ROOT / ".census"
DEFAULT_OUT = CENSUS / "reports"
EXPECTATIONS = ROOT / "tests" / "thirdparty" / "census_expectations.yaml"
NPM = servers.NODE_MODULES / "@modelcontextprotocol"

# PyPI servers, pinned; mcp-server-sqlite and -calculator import APIs that mcp 2 removed.
VENVS = {
    "venv-mcp2": ["mcp-server-time==2026.10.19", "mcp-server-git==2026.10.19", "mcp-server-fetch==2026.10.24"],
    "venv-mcp1": ["mcp<2", "mcp-server-sqlite==2025.4.25", "mcp-server-calculator==0.2.1"],
}

STDIO_CAMPAIGNS = ["conformance", "fuzz", "stateful", "envelope", "security"]
HTTP_CAMPAIGNS = [*STDIO_CAMPAIGNS, "http-security"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]
# planted in mcpcheck's own environment (and so in every server's): a report that contains it
# copied a secret-looking value of the machine running mcpcheck (issue 12, class 8)
DUMMY_SECRET_VAR = "CENSUS_DUMMY_API_KEY"


# ------------------------------------------------------------------------------------------
# installation
# ------------------------------------------------------------------------------------------


def ensure_venv(name: str) -> Path:
    """.census/<name> with its pinned packages (created on first use); returns its bin/ folder."""
    venv = CENSUS / name
    stamp = venv / "census-installed.txt"
    want = "\n".join(VENVS[name])
    if not (stamp.is_file() and stamp.read_text() == want):
        CENSUS.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *VENVS[name]], check=True, timeout=900)
        stamp.write_text(want)
    return venv / "bin"


def node_cmd(package: str, *args: str) -> list[str]:
    servers.ensure_npm_servers()
    return [servers._node(), "--require", str(servers.LOOPBACK), str(NPM / package / "dist" / "index.js"), *args]


# ------------------------------------------------------------------------------------------
# the servers
# ------------------------------------------------------------------------------------------


@dataclass
class Launch:
    """How mcpcheck reaches one server: a stdio command (+ env) or a --url."""

    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    name: str
    transport: str  # stdio | http
    start: Callable[[Path], contextlib.AbstractContextManager[Launch]]
    state: Callable[[Path], dict[str, Any]] = lambda scratch: {}
    note: str = ""

    @property
    def campaigns(self) -> list[str]:
        return HTTP_CAMPAIGNS if self.transport == "http" else STDIO_CAMPAIGNS


def _stdio(make: Callable[[Path], Launch]) -> Callable[[Path], contextlib.AbstractContextManager[Launch]]:
    @contextlib.contextmanager
    def start(scratch: Path) -> Iterator[Launch]:
        yield make(scratch)

    return start


@contextlib.contextmanager
def _everything_http(scratch: Path) -> Iterator[Launch]:
    with servers.everything_http() as url:
        yield Launch(url=str(url))


def _memory(scratch: Path) -> Launch:
    return Launch(node_cmd("server-memory"), env={"MEMORY_FILE_PATH": str(scratch / "memory.jsonl")})


def _memory_state(scratch: Path) -> dict[str, Any]:
    path = scratch / "memory.jsonl"
    # split on "\n" only: JSON.stringify leaves U+2028 and friends unescaped, str.splitlines() splits there
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").split("\n") if line.strip()] if path.exists() else []
    kinds: Counter = Counter()
    for line in lines:
        try:
            kinds[json.loads(line).get("type", "?")] += 1
        except ValueError:
            kinds["unparsable line"] += 1
    plural = {"entity": "entities"}
    return {"memory.jsonl lines": len(lines), **{plural.get(k, f"{k}s"): n for k, n in sorted(kinds.items())}}


def _filesystem(scratch: Path) -> Launch:
    allowed = scratch / "allowed"
    if not allowed.exists():
        allowed.mkdir()
        (allowed / "notes.txt").write_text("census seed file\n")
        (allowed / "sub").mkdir()
        (allowed / "sub" / "inner.txt").write_text("inner\n")
    return Launch(node_cmd("server-filesystem", str(allowed)))


def _tree_state(scratch: Path) -> dict[str, Any]:
    allowed = scratch / "allowed"
    entries = list(allowed.rglob("*")) if allowed.exists() else []
    return {
        "dirs": sum(p.is_dir() for p in entries),
        "files": sum(p.is_file() for p in entries),
        "seed files changed": sum(
            1 for rel, text in (("notes.txt", "census seed file\n"), ("sub/inner.txt", "inner\n"))
            if not (allowed / rel).is_file() or (allowed / rel).read_text(errors="replace") != text
        ),
    }


def _git(scratch: Path) -> Launch:
    repo = scratch / "repo"
    if not repo.exists():
        repo.mkdir()
        git = ["git", "-C", str(repo), "-c", "user.name=census", "-c", "user.email=census@example.invalid"]
        subprocess.run([*git[:3], "init", "-q", "-b", "main"], check=True)
        (repo / "README.md").write_text("census scratch repository\n")
        subprocess.run([*git, "add", "README.md"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "seed"], check=True)
    return Launch([str(ensure_venv("venv-mcp2") / "mcp-server-git"), "--repository", str(repo)])


def _git_state(scratch: Path) -> dict[str, Any]:
    repo = scratch / "repo"

    def out(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()

    return {
        "commits": int(out("rev-list", "--all", "--count") or 0),
        "branches": len(out("branch", "--list").splitlines()),
        "HEAD": out("rev-parse", "--abbrev-ref", "HEAD"),
        "status lines": len(out("status", "--porcelain").splitlines()),
    }


def _sqlite(scratch: Path) -> Launch:
    return Launch([str(ensure_venv("venv-mcp1") / "mcp-server-sqlite"), "--db-path", str(scratch / "test.db")])


def _sqlite_state(scratch: Path) -> dict[str, Any]:
    db = scratch / "test.db"
    if not db.exists():
        return {"tables": 0}
    with contextlib.closing(sqlite3.connect(db)) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        rows = sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables)
    return {"tables": len(tables), "rows": rows}


SERVERS: dict[str, Server] = {
    s.name: s
    for s in [
        Server("everything-stdio", "stdio", _stdio(lambda d: Launch(node_cmd("server-everything", "stdio")))),
        Server("everything-http", "http", _everything_http),
        Server("memory", "stdio", _stdio(_memory), _memory_state),
        Server("filesystem", "stdio", _stdio(_filesystem), _tree_state),
        Server("sequential-thinking", "stdio", _stdio(lambda d: Launch(node_cmd("server-sequential-thinking")))),
        Server("time", "stdio", _stdio(lambda d: Launch([str(ensure_venv("venv-mcp2") / "python"), "-m", "mcp_server_time", "--local-timezone", "UTC"]))),
        Server("git", "stdio", _stdio(_git), _git_state),
        Server("fetch", "stdio", _stdio(lambda d: Launch([str(ensure_venv("venv-mcp2") / "mcp-server-fetch")])), note="default settings: loopback is refused"),
        Server("sqlite", "stdio", _stdio(_sqlite), _sqlite_state),
        Server("calculator", "stdio", _stdio(lambda d: Launch([str(ensure_venv("venv-mcp1") / "mcp-server-calculator")]))),
    ]
}


# ------------------------------------------------------------------------------------------
# running one server
# ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    server: str
    transport: str
    wall_s: float
    exit_code: int | None
    report: dict[str, Any] | None
    report_dir: Path
    state_before: dict[str, Any] = field(default_factory=dict)
    state_after: dict[str, Any] = field(default_factory=dict)
    secret_copies: dict[str, int] = field(default_factory=dict)  # report file -> copies of the dummy secret
    error: str | None = None

    def findings(self, floor: str = "low") -> list[dict[str, Any]]:
        if not self.report:
            return []
        lo = SEVERITIES.index(floor)
        return [f for f in self.report.get("findings", []) if SEVERITIES.index(f["severity"]) >= lo]


def mcpcheck_cmd() -> list[str]:
    return [sys.executable, "-c", "import sys; from mcpcheck.cli import main; sys.exit(main())"]


def run_server(name: str, out: Path = DEFAULT_OUT, max_examples: int = 5, timeout_s: float = 900) -> Outcome:
    """Run every applicable campaign against one server through the CLI; reports go to out/<name>/."""
    server = SERVERS[name]
    report_dir = (out / name).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    for old in report_dir.glob("report.*"):
        old.unlink()
    dummy = f"census-dummy-{secrets.token_hex(12)}"
    # a fixed measurement: the nightly profile's example counts must not leak into it
    env = {k: v for k, v in os.environ.items() if k not in ("HYPOTHESIS_PROFILE", "MCPCHECK_MAX_EXAMPLES", "MCPCHECK_CORPUS")}
    env.update({DUMMY_SECRET_VAR: dummy, "PYTHONUNBUFFERED": "1"})
    with tempfile.TemporaryDirectory(prefix=f"mcpcheck-census-{name}-") as tmp:
        scratch = Path(tmp)
        t0 = time.monotonic()
        exit_code: int | None = None
        error = None
        before: dict[str, Any] = {}
        old_env = os.environ.get(DUMMY_SECRET_VAR)
        os.environ[DUMMY_SECRET_VAR] = dummy  # HTTP servers started here inherit it as well
        try:
            with server.start(scratch) as launch:
                before = server.state(scratch)
                cmd = [*mcpcheck_cmd(), "run", "--name", name]
                for c in server.campaigns:
                    cmd += ["--campaign", c]
                cmd += ["--max-examples", str(max_examples), "--report-dir", str(report_dir), "--format", "json,markdown,html"]
                cmd += ["--corpus", str(scratch / "corpus")]
                if launch.url:
                    cmd += ["--url", launch.url]
                for k, v in launch.env.items():
                    cmd += ["--env", f"{k}={v}"]
                if launch.command:
                    cmd += ["--", *launch.command]
                with open(report_dir / "census.log", "w") as log:
                    log.write(" ".join(cmd) + "\n")
                    log.flush()
                    proc = subprocess.run(cmd, cwd=scratch, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s)
                exit_code = proc.returncode
        except subprocess.TimeoutExpired:
            error = f"mcpcheck did not finish within {timeout_s:.0f} s"
        except Exception as exc:  # a server that cannot be installed or started
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if old_env is None:
                os.environ.pop(DUMMY_SECRET_VAR, None)
            else:
                os.environ[DUMMY_SECRET_VAR] = old_env
        wall = time.monotonic() - t0
        try:
            after = server.state(scratch)
        except Exception as exc:  # the census's own bookkeeping must not lose the run
            after = {"state unreadable": f"{type(exc).__name__}: {exc}"}
    report_path = report_dir / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    copies = {p.name: p.read_text(errors="replace").count(dummy) for p in sorted(report_dir.glob("report.*"))}
    if report is None and error is None:
        error = f"no report.json (exit {exit_code}); see {report_dir / 'census.log'}"
    return Outcome(name, server.transport, round(wall, 1), exit_code, report, report_dir, before, after, {k: v for k, v in copies.items() if v}, error)


# ------------------------------------------------------------------------------------------
# expectations
# ------------------------------------------------------------------------------------------


def load_expectations(path: Path = EXPECTATIONS) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class Comparison:
    """How one server's findings of low or above compare with its hand-verified expectations."""

    missing: list[dict[str, Any]]  # expected (true) findings that were not reported
    unexpected: list[dict[str, Any]]  # findings nobody judged (or a known one at a new severity)
    known_false: list[tuple[dict[str, Any], dict[str, Any]]]  # (finding, known_false entry) still reported
    judged: list[tuple[dict[str, Any], str]]  # every finding with its judgement label

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected


def _matches(entry: dict[str, Any], f: dict[str, Any]) -> bool:
    """Same check, and the same tool (`tool`, or one of `tools`; null = not about a tool)."""
    tools = entry["tools"] if "tools" in entry else [entry.get("tool")]
    return entry["check"] == f["check"] and f.get("tool") in tools


def compare(findings: list[dict[str, Any]], server: dict[str, Any] | None) -> Comparison:
    """Match findings (report.json dicts, low or above) against one server's expectations.

    expected entries match on (check, tool, severity); a known_false entry matches (check, tool)
    at its reported `severity` (still wrong) or at `should_be` (fixed: accepted as correct; a
    `should_be` of null means the finding should not be reported at low or above at all).
    Several findings may match one entry (the same check in two eras, or for two inputs)."""
    server = server or {}
    expected = server.get("expected") or []
    known = server.get("known_false") or []
    seen_expected: set[int] = set()
    unexpected, still_false, judged = [], [], []
    for f in findings:
        hit = next((i for i, e in enumerate(expected) if _matches(e, f) and e["severity"] == f["severity"]), None)
        if hit is not None:
            seen_expected.add(hit)
            judged.append((f, "true"))
            continue
        same = [e for e in known if _matches(e, f)]
        k = next((e for e in same if e["severity"] == f["severity"]), None)
        if k is not None:
            still_false.append((f, k))
            judged.append((f, k["verdict"]))
        elif any(f["severity"] == e.get("should_be") for e in same):
            judged.append((f, "fixed"))
        else:
            unexpected.append(f)
            judged.append((f, "UNJUDGED"))
    missing = [e for i, e in enumerate(expected) if i not in seen_expected]
    return Comparison(missing, unexpected, still_false, judged)


# ------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------


def _levels(report: dict[str, Any]) -> str:
    counts = Counter(f["severity"] for f in report.get("findings", []))
    return " ".join(f"{counts[s]}{s[0].upper()}" for s in reversed(SEVERITIES) if counts[s]) or "-"


def summary_rows(outcomes: list[Outcome]) -> list[list[str]]:
    rows = []
    for o in outcomes:
        r = o.report or {}
        gate = r.get("gate") or {}
        verdict = f"{gate.get('status', '?')} {gate.get('score', '?')}" if gate else "-"
        state = "" if o.state_before == o.state_after else f"{o.state_before} -> {o.state_after}"
        rows.append([
            o.server, o.transport, f"{o.wall_s:.0f}", str(o.exit_code), verdict, _levels(r),
            str(len(r.get("observations", []))), ", ".join(f"{k}:{v}" for k, v in o.secret_copies.items()) or "0",
            o.error or state or "unchanged",
        ])
    return rows


def finding_rows(outcomes: list[Outcome], expectations: dict[str, Any]) -> list[list[str]]:
    rows = []
    for o in outcomes:
        found = o.findings("low")
        cmp = compare(found, (expectations.get("servers") or {}).get(o.server))
        groups: dict[tuple, list[str]] = {}
        for f, label in cmp.judged:
            k = (f["check"], f.get("tool") or "-", f["severity"], f.get("spec_level") or "-", label)
            groups.setdefault(k, []).append(f.get("revision") or "-")
        for (check, tool, sev, level, label), revs in sorted(groups.items(), key=lambda kv: (-SEVERITIES.index(kv[0][2]), kv[0])):
            rows.append([o.server, o.transport, check, tool, sev, level, str(len(revs)), label])
        for e in cmp.missing:
            rows.append([o.server, o.transport, e["check"], e.get("tool") or "-", e["severity"], "-", "0", "MISSING"])
    return rows


def table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="servers: " + ", ".join(SERVERS))
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this server (repeatable)")
    ap.add_argument("--max-examples", type=int, default=5, help="mcpcheck --max-examples per server (default 5)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default .census/reports)")
    ap.add_argument("--table-only", action="store_true", help="do not run; print the table from the reports in --out")
    args = ap.parse_args(argv)
    bad = [n for n in args.only if n not in SERVERS]
    if bad:
        print(f"census: unknown server {bad[0]!r} (known: {', '.join(SERVERS)})", file=sys.stderr)
        return 2
    names = args.only or list(SERVERS)
    outcomes = []
    for name in names:
        if args.table_only:
            o = load_outcome(name, args.out)
        else:
            print(f"census: {name} ...", file=sys.stderr, flush=True)
            o = run_server(name, args.out, args.max_examples)
            (args.out / name / "census.json").write_text(json.dumps({
                "wall_s": o.wall_s, "exit_code": o.exit_code, "state_before": o.state_before,
                "state_after": o.state_after, "secret_copies": o.secret_copies, "error": o.error}, indent=1))
        outcomes.append(o)
    exp = load_expectations() if EXPECTATIONS.exists() else {}
    print(table(summary_rows(outcomes), ["server", "transport", "wall s", "exit", "gate", "findings", "obs", "dummy secret copies", "scratch state (before -> after)"]))
    print()
    rows = finding_rows(outcomes, exp)
    print(table(rows, ["server", "transport", "check", "tool", "severity", "level", "n", "judged"]))
    totals: Counter = Counter()
    for r in rows:
        totals[r[7]] += int(r[6]) if r[7] != "MISSING" else 1
    print()
    print(f"findings of low or above: {sum(v for k, v in totals.items() if k != 'MISSING')} ("
          + ", ".join(f"{n} {k}" for k, n in totals.most_common()) + f"); wall time {sum(o.wall_s for o in outcomes):.0f} s")
    return 0


def load_outcome(name: str, out: Path) -> Outcome:
    d = out / name
    meta = json.loads((d / "census.json").read_text()) if (d / "census.json").exists() else {}
    report = json.loads((d / "report.json").read_text()) if (d / "report.json").exists() else None
    return Outcome(name, SERVERS[name].transport, meta.get("wall_s", 0.0), meta.get("exit_code"), report, d,
                   meta.get("state_before", {}), meta.get("state_after", {}), meta.get("secret_copies", {}), meta.get("error"))


if __name__ == "__main__":
    sys.exit(main())

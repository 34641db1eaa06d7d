"""`--jobs N` (mcpcheck/jobs.py): work units in worker processes, merged in a fixed order.

Through the real CLI and real fixture servers: `--jobs 2` finds what `--jobs 1` finds (same
finding ids and severities, same corpus files) for a given seed on a server with seeded bugs; a
target whose config says `jobs = 1` has every server started by one process; `--max-time` holds
with workers on a server that sleeps in every tool; a bad `--jobs` is one line and exit 2. The
merge of the units' results is checked on real result objects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpcheck import cli, jobs
from mcpcheck.config import make_target
from mcpcheck.findings import Finding, Severity
from mcpcheck.results import CheckResult, TargetResult
from mcpcheck.runner import TargetOutcome
from mcpcheck.sharding import Shard
from servers import FIXTURES, ROOT, clean_stdio_cmd

BUGGY = [sys.executable, str(FIXTURES / "buggy_tools_server.py")]
TOOLS = ["lookup", "echo", "set_volume", "redeem_coupon"]  # a leak, a constraint not enforced, an idempotency bug
BUDGET = FIXTURES / "budget_server.py"
PID_LOG = FIXTURES / "pid_log_proxy.py"
ALLOWANCE = 15.0  # as tests/test_run_budget.py: start-up, the last request's timeout, shutdown


def mcpcheck(*args: str, cwd: Path, timeout: float = 400) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    env = {**os.environ, "TMPDIR": str(cwd / "tmp")}
    env.pop("MCPCHECK_JOBS", None)  # the suite's default (1) must not hide what --jobs does
    proc = subprocess.run([sys.executable, "-m", "mcpcheck.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.monotonic() - t0


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "tmp").mkdir()  # the stdio servers' temporary working directories go here
    return tmp_path


def report(path: Path) -> dict:
    return json.loads((path / "report.json").read_text())


def notes(rep: dict) -> list[str]:
    return [n for t in rep["targets"] for n in t["notes"]]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


# --------------------------------------------------------------------------- the same result


def test_jobs_2_finds_what_jobs_1_finds_with_the_same_seed(work):
    """Seeded bugs (buggy_tools_server.py): the findings (stable id, severity) and the corpus
    files of a --jobs 2 run are those of the --jobs 1 run with the same seed, a replay of the
    (empty) corpus included."""
    (work / "mcpcheck.toml").write_text(
        f"[targets.buggy]\ncommand = {_toml_list(BUGGY)}\nprotocol = \"2025-11-25\"\ntimeout = 5\n\n"
        f"[targets.buggy.safety]\nonly_tools = {_toml_list(TOOLS)}\n"
    )
    runs = {}
    for n in (1, 2):
        proc, _ = mcpcheck(
            "run", "--campaign", "conformance", "--campaign", "replay", "--campaign", "fuzz", "--seed", "1", "--max-examples", "6", "--jobs", str(n),
            "--corpus", str(work / f"corpus{n}"), "--report-dir", str(work / f"report{n}"), "--quiet", cwd=work,
        )
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        runs[n] = report(work / f"report{n}")
    one, two = runs[1], runs[2]
    ran = [n for n in notes(two) if n.startswith("jobs: ")]
    assert ran and "worker process" in ran[0] and "fuzz 1/2" in ran[0] and "fuzz 2/2" in ran[0], notes(two)  # one part per job
    assert not [n for n in notes(one) if n.startswith("jobs: ")], notes(one)
    found = {(f["id"], f["check"], f["severity"]) for f in one["findings"]}
    assert {"fuzz.no_internal_leak", "fuzz.invalid_input_rejected"} <= {c for _i, c, _s in found}, found
    assert {(f["id"], f["check"], f["severity"]) for f in two["findings"]} == found
    # replay judges the corpus as it was when the run began (empty), not what the fuzz parts of
    # the same --jobs run saved meanwhile (the replay unit runs last there)
    assert not [f["detail"] for r in (one, two) for f in r["findings"] if f["detail"].startswith("[replay")]
    files = {n: sorted(p.relative_to(work / f"corpus{n}").as_posix() for p in (work / f"corpus{n}").rglob("*.json")) for n in (1, 2)}
    assert files[1] and files[1] == files[2]
    for name in files[1]:  # the same minimal inputs, not only the same names
        a, b = (json.loads((work / f"corpus{n}" / name).read_text()) for n in (1, 2))
        assert a["arguments"] == b["arguments"], name
    # the per-tool table adds up the parts: every fuzzed tool once, in the listed order
    assert [c["tool"] for c in two["targets"][0]["constraints"]] == [c["tool"] for c in one["targets"][0]["constraints"]]
    assert not list((work / "tmp").iterdir())  # every server's temporary directory removed


# --------------------------------------------------------------------------- jobs = 1


def _parents(log: Path) -> set[str]:
    return {line.split()[0] for line in log.read_text().splitlines() if line.strip()}


def test_a_target_with_jobs_1_in_its_config_runs_one_campaign_after_another(work):
    """Every server of a `jobs = 1` target is started by the one mcpcheck process (no worker), and
    the report says why; the same target without it has its servers started by two workers."""
    for name, extra in (("serial", "jobs = 1\n"), ("parallel", "")):
        log = work / f"{name}.log"
        cmd = [sys.executable, str(PID_LOG), str(log), "--", *clean_stdio_cmd()]
        (work / f"{name}.toml").write_text(f"[targets.{name}]\ncommand = {_toml_list(cmd)}\nprotocol = \"2025-11-25\"\n{extra}")
        proc, _ = mcpcheck(
            "run", "--config", str(work / f"{name}.toml"), "--campaign", "conformance", "--campaign", "envelope", "--max-examples", "3",
            "--jobs", "2", "--report-dir", str(work / name), "--quiet", cwd=work,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        said = [n for n in notes(report(work / name)) if n.startswith("jobs: ")]
        if name == "serial":
            assert len(_parents(log)) == 1, log.read_text()
            assert said == [f"jobs: target serial has jobs = 1 in its config: its campaigns ran one after another"], said
        else:
            assert len(_parents(log)) == 3, log.read_text()  # the safety plan (the CLI), then conformance and envelope: one worker each
            assert said and "2 worker process(es)" in said[0], said


def test_jobs_in_a_target_config_is_checked():
    with pytest.raises(Exception, match="jobs"):
        make_target(name="x", command=["true"], jobs=0)


# --------------------------------------------------------------------------- --max-time


def test_max_time_holds_with_workers_on_a_server_that_sleeps_in_every_tool(work):
    max_time = 20
    proc, wall = mcpcheck("run", "--campaign", "all", "--jobs", "2", "--max-time", str(max_time), "--timeout", "2", "--corpus", str(work / "corpus"), "--", sys.executable, str(BUDGET), "sleepy", cwd=work)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert wall <= max_time + ALLOWANCE, wall
    rep = report(work / "mcpcheck-report")
    assert rep["targets"][0]["eras"], rep["targets"][0]
    assert any(n.startswith("jobs: ") and "worker process" in n for n in notes(rep)), notes(rep)
    if wall >= max_time:  # the budget ran out: the report says what was cut
        assert [n for n in notes(rep) if n.startswith("time budget:")], notes(rep)
    assert not list((work / "tmp").iterdir())  # every server's temporary directory removed


def test_a_worker_past_its_time_is_ended_with_its_servers_and_their_directories(tmp_path, monkeypatch):
    """The parent ends a worker that has not answered GRACE seconds after the deadline. GRACE is
    set to -4 here, so the workers are ended 4 s before it, while every unit waits on a tool
    that sleeps 30 s: each is ended, the report says so, and no server or directory is left."""
    from mcpcheck import runner

    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # the workers' servers' directories
    monkeypatch.setattr(jobs, "GRACE", -4.0)
    log = tmp_path / "pids.log"
    t = make_target(name="sleepy", command=[sys.executable, str(PID_LOG), str(log), "--", sys.executable, str(BUDGET), "sleepy"], timeout=30)
    runner.load_all_checks()
    t0 = time.monotonic()
    (out,) = runner.run([t], ["fuzz", "security"], max_time=12, jobs=2)
    assert time.monotonic() - t0 <= 12 + ALLOWANCE
    ended = [n for n in out.result.notes if "was ended: its results are missing" in n]
    assert ended, out.result.notes
    said = [n for n in out.result.notes if n.startswith("jobs: ")]
    assert said and "worker process(es)" in said[0], said  # (an ended worker is started again for the next unit)
    servers = [int(line.split()[1]) for line in log.read_text().splitlines()]
    for pid in servers:  # every server the workers started is gone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}/status").exists() else ""
        assert "zombie" in status, f"server {pid} still runs"
    assert not list((tmp_path / "tmp").iterdir())


# --------------------------------------------------------------------------- usage


@pytest.mark.parametrize("value, why", [("0", "must be at least 1"), ("two", "not a whole number"), ("-3", "must be at least 1")])
def test_a_bad_jobs_value_is_one_line_and_exit_2(value, why, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["run", f"--jobs={value}", "--", *clean_stdio_cmd()])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--jobs" in err and why in err, err
    assert not (tmp_path / "mcpcheck-report").exists()


# --------------------------------------------------------------------------- the plan and the merge


def test_the_plan_splits_fuzz_into_parts_and_keeps_a_jobs_1_target_whole():
    a = make_target(name="a", command=["x"])
    b = make_target(name="b", command=["y"], jobs=1)
    units, said = jobs.plan([a, b], ["conformance", "fuzz", "stateful"], 2, {})
    assert [(u.target.name, u.label) for u in units] == [
        ("a", "conformance"), ("a", "fuzz 1/2"), ("a", "fuzz 2/2"), ("a", "stateful"),
        ("b", "conformance, fuzz, stateful"),
    ]
    # the fuzz parts split by tool: every property of a tool in one part (its per-tool cap holds)
    assert all(u.part.by_tool for u in units if u.part is not None)
    # once the parent has listed the tools, they are dealt out in listing order
    dealt = jobs._detected(units, a, ["2026-07-28", "2025-11-25"], ["t1", "t2", "t3"])
    parts = [u.part for u in dealt if u.part is not None]
    assert [[t for t in ("t1", "t2", "t3") if p.owns("a", t, prop)] for p in parts for prop in ("valid",)] == [["t1", "t3"], ["t2"]]
    assert all(p.owns("a", "t2", prop) for p in parts[1:] for prop in ("valid", "invalid", "idempotency", "read-only"))
    # and conformance is one unit per era, the eras given to every unit of the target
    assert [u.label for u in dealt if u.target is a][:2] == ["conformance [2026-07-28]", "conformance [2025-11-25]"]
    assert all(u.eras == ("2026-07-28", "2025-11-25") for u in dealt if u.target is a)
    assert said == {"b": ["jobs: target b has jobs = 1 in its config: its campaigns ran one after another"]}
    # with --shard the fuzz campaign is already one machine's share: it is not split again
    from mcpcheck.campaigns.fuzz import FuzzSettings

    units, _ = jobs.plan([a], ["fuzz"], 2, {"fuzz_settings": FuzzSettings(shard=Shard(1, 3))})
    assert [u.label for u in units] == ["fuzz"]


def _finding(check: str, detail: str, severity: Severity = Severity.high, revision: str = "2025-11-25") -> Finding:
    return Finding(id=f"id-{check}", check=check, category="tool", severity=severity, title=check, target="t", revision=revision, detail=detail)


def _check(cid: str, status: str, count: int, reason: str | None = None) -> CheckResult:
    return CheckResult(id=cid, category="tool", severity=Severity.high, title=cid, target="t", revision="2025-11-25", status=status, count=count, reason=reason)


def test_the_merge_is_in_unit_order_and_combines_findings_and_the_ledger():
    t = make_target(name="t", command=["x"])
    units = [jobs.Unit(0, t, ["conformance"]), jobs.Unit(1, t, ["security"])]

    def outcome(eras, notes, findings, checks):
        r = TargetResult(name="t", transport="stdio", description="x", eras=eras, notes=notes)
        return TargetOutcome(result=r, findings=findings, checks=checks)

    first = outcome(["2025-11-25", "2025-06-18"], ["from conformance"], [_finding("a.b", "one")], [_check("a.b", "failed", 2), _check("c.d", "skipped", 0, "why")])
    second = outcome(["2025-11-25"], ["from security"], [_finding("a.b", "two"), _finding("e.f", "x")], [_check("a.b", "passed", 3), _check("c.d", "passed", 1)])
    merged = jobs.merge(t, units, [first, second], ["safety: plan"], ["conformance", "security"], {}, 1.0)
    assert merged.result.eras == ["2025-11-25", "2025-06-18"]  # the first unit that detected them
    assert merged.result.notes == ["safety: plan", "from conformance", "from security"]
    assert [(f.check, f.detail, f.instances) for f in merged.findings] == [("a.b", "one", ["two"]), ("e.f", "x", [])]
    ledger = {c.id: (c.status, c.count, c.reason) for c in merged.checks}
    assert ledger == {"a.b": ("failed", 5, None), "c.d": ("passed", 1, None)}
    # completion order never matters: the same units in the other order merge the other way round
    again = jobs.merge(t, units[::-1], [second, first], ["safety: plan"], ["conformance", "security"], {}, 1.0)
    assert again.result.notes == ["safety: plan", "from security", "from conformance"]


def test_jobs_resolves_to_the_cores_unless_told(monkeypatch):
    monkeypatch.delenv("MCPCHECK_JOBS", raising=False)
    assert jobs.resolve(None) == jobs.cores() >= 1
    monkeypatch.setenv("MCPCHECK_JOBS", "3")
    assert jobs.resolve(None) == 3 and jobs.resolve(1) == 1
    with pytest.raises(ValueError):
        jobs.resolve(0)


def test_replay_in_a_jobs_run_judges_the_corpus_as_it_was_when_the_run_began(work):
    """A --jobs run records the corpus as it was when it began (corpus.record_at_start, named in
    MCPCHECK_CORPUS_AT_START for the workers): its replay unit, scheduled last, must not replay
    what the run's other units (envelope, security: they save from their workers) saved meanwhile
    as findings of their own. Here: an entry saved after the record is not replayed; without the
    record it is."""
    from mcpcheck.corpus import AT_START_ENV, record_at_start

    server = [sys.executable, str(ROOT / "tests" / "rawservers" / "envelope_wrong_code.py")]
    saved, corpus = work / "saved", work / "corpus"
    proc, _ = mcpcheck("run", "--campaign", "envelope", "--seed", "1", "--max-examples", "5", "--jobs", "1", "--corpus", str(saved), "--quiet", "--", *server, cwd=work)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    entries = list(saved.rglob("*.json"))
    assert entries, "the envelope campaign saved its failure"
    corpus.mkdir()
    record_at_start([corpus], work / "at_start.json")
    recorded = os.environ.pop(AT_START_ENV)
    for e in entries:  # saved after the run began
        (corpus / e.parent.name).mkdir(exist_ok=True)
        (corpus / e.parent.name / e.name).write_bytes(e.read_bytes())

    def replay(env: dict[str, str]) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "mcpcheck.cli", "run", "--campaign", "replay", "--jobs", "1", "--corpus", str(corpus), "--report-dir", str(work / "r"), "--quiet", "--", *server],
            cwd=work, capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(work / "tmp"), **env},
        )
        assert out.returncode in (0, 1), out.stderr[-3000:]
        return report(work / "r")

    later = replay({AT_START_ENV: recorded})
    assert not [f for f in later["findings"] if f["detail"].startswith("[replay")], later["findings"]
    assert any(n.startswith("replay: no corpus entries") for n in notes(later)), notes(later)
    plain = replay({})
    assert [f for f in plain["findings"] if f["detail"].startswith("[replay")], plain["findings"]

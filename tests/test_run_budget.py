"""Every run bounded, and the first errors a newcomer meets, through the real CLI.

Fixture servers (tests/fixtures/budget_server.py, official SDK; tests/rawservers/scripted.py,
hand-written JSON-RPC) that would make an unbounded run loop, list forever, sleep or never answer
each give a report inside --max-time (plus a small allowance for start-up and shutdown: a bound,
not a speed target). Every newcomer error is one line on stderr, exit 2, and leaves no report
directory and no temporary directory behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mcpcheck.config import load_settings
from servers import FIXTURES, ROOT, free_port

RAW = ROOT / "tests" / "rawservers" / "scripted.py"
BUDGET = FIXTURES / "budget_server.py"
ALLOWANCE = 15.0  # start-up of the CLI, the last request's own timeout, closing the server


def mcpcheck(*args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mcpcheck.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "TMPDIR": str(cwd / "tmp"), **(env or {})},
    )
    return proc, time.monotonic() - t0


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "tmp").mkdir()  # the stdio servers' temporary working directories go here
    return tmp_path


def report(work: Path) -> dict:
    return json.loads((work / "mcpcheck-report" / "report.json").read_text())


def notes(rep: dict) -> list[str]:
    return [n for t in rep["targets"] for n in t["notes"]]


# --------------------------------------------------------------------------- bounded runs


@pytest.mark.parametrize(
    "name, command, max_time",
    [
        ("cycling cursor", [sys.executable, str(BUDGET), "cycle"], 25),
        ("200 tools", [sys.executable, str(BUDGET), "many"], 25),
        ("sleeps in every tool", [sys.executable, str(BUDGET), "sleepy"], 20),
        ("never answers after the handshake", [sys.executable, str(RAW), "mute"], 20),
    ],
)
def test_hostile_server_gives_a_report_inside_max_time(work, name, command, max_time):
    proc, wall = mcpcheck("run", "--campaign", "all", "--max-time", str(max_time), "--timeout", "2", "--corpus", str(work / "corpus"), "--", *command, cwd=work)
    assert proc.returncode in (0, 1), proc.stderr
    assert wall <= max_time + ALLOWANCE, (name, wall)
    rep = report(work)
    assert rep["targets"][0]["eras"], rep["targets"][0]
    cut = [n for n in notes(rep) if n.startswith("time budget:")]
    if wall >= max_time:  # the budget ran out: the report says what was cut
        assert cut, notes(rep)
    assert not list((work / "tmp").iterdir())  # every server's temporary directory removed
    assert "PLEASE REPORT THIS" not in proc.stdout and "Falsifying" not in proc.stdout
    if name == "cycling cursor":
        findings = {(f["check"], f["detail"]) for f in rep["findings"]}
        assert any(c == "list.pagination" and "came back again" in d for c, d in findings), findings
        assert rep["targets"][0]["tools"] == ["a", "b"]  # de-duplicated by name
    if name == "200 tools":
        assert len(rep["targets"][0]["tools"]) == 200


def test_readme_tox_snippet_runs_the_quick_profile_and_replay(work):
    """The `[testenv:conformance]` / `[testenv:replay]` the README shows users, against a fixture
    server standing in for theirs (my_server.py = tests/fixtures/clean_server.py): the snippet's
    commands, run as tox would run them in that project (mcpcheck and python from the env)."""
    import configparser
    import shlex
    import shutil

    text = (ROOT / "README.md").read_text()
    ini = re.search(r"## In your project: tox.*?```ini\n(.*?)```", text, re.S).group(1)
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(ini)
    assert set(cfg.sections()) == {"testenv:conformance", "testenv:replay"}
    shutil.copy(FIXTURES / "clean_server.py", work / "my_server.py")
    walls = {}
    for env in ("testenv:conformance", "testenv:replay"):
        argv = shlex.split(cfg[env]["commands"])
        assert argv[0] == "mcpcheck" and "python" in argv
        argv = [sys.executable, "-m", "mcpcheck.cli", *argv[1:]]
        argv[argv.index("python")] = sys.executable
        t0 = time.monotonic()
        proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(work / "tmp")})
        walls[env] = time.monotonic() - t0
        assert proc.returncode == 0, (env, proc.stdout[-2000:], proc.stderr[-2000:])
    rep = json.loads((work / "mcpcheck-report" / "report.json").read_text())
    assert rep["campaigns"] == ["conformance", "fuzz"] and rep["summary"]["checks_run"] > 20
    assert walls["testenv:conformance"] <= 60 + ALLOWANCE  # the quick profile's default --max-time
    assert json.loads((work / "mcpcheck-replay" / "report.json").read_text())["campaigns"] == ["replay"]


def test_progress_never_silent_for_more_than_5_seconds(work):
    """In CI (no terminal) a line comes at least every 5 s, even while one tool call sleeps."""
    proc, _ = mcpcheck("run", "--campaign", "fuzz", "--max-time", "14", "--timeout", "4", "--corpus", str(work / "corpus"), "--", sys.executable, str(BUDGET), "sleepy", cwd=work)
    stamps = [time.strptime(m, "%H:%M:%S") for m in re.findall(r"^\[(\d\d:\d\d:\d\d)\]", proc.stderr, re.M)]
    seconds = [s.tm_hour * 3600 + s.tm_min * 60 + s.tm_sec for s in stamps]
    assert len(seconds) >= 3, proc.stderr
    gaps = [b - a for a, b in zip(seconds, seconds[1:])]
    assert max(gaps) <= 5, (gaps, proc.stderr)
    assert any("left of --max-time 14s" in line for line in proc.stderr.splitlines()), proc.stderr


def test_help_lists_every_campaign_and_profile(work):
    proc, _ = mcpcheck("run", "--help", cwd=work)
    text = " ".join(proc.stdout.split())
    for name in ("conformance", "fuzz", "stateful", "envelope", "security", "http-security", "replay", "all", "quick", "full", "nightly", "--max-time"):
        assert name in text, name


def test_campaign_all_leaves_out_http_security_for_stdio(work):
    # --check httpsec: had the campaign run on stdio, its checks would be listed (as skipped);
    # two examples and a 2 s timeout keep the other campaigns short (they are not judged here)
    proc, _ = mcpcheck("run", "--campaign", "all", "--check", "httpsec", "--max-examples", "2", "--timeout", "2", "--max-time", "60", "--corpus", str(work / "corpus"), "--", sys.executable, str(BUDGET), "cycle", cwd=work)
    rep = report(work)
    assert not [n for n in notes(rep) if n.startswith("time budget:")], notes(rep)  # every campaign had its turn
    assert rep["campaigns"][:2] == ["conformance", "replay"] and "http-security" in rep["campaigns"]
    assert not any(c["id"].startswith("httpsec.") for c in rep["checks"])  # not run at all on stdio


# --------------------------------------------------------------------------- newcomer errors


def _no_debris(work: Path) -> None:
    assert not (work / "mcpcheck-report").exists()
    assert not list((work / "tmp").iterdir())


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mcpcheck: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return errors[0]


def test_command_that_does_not_exist(work):
    proc, _ = mcpcheck("run", "-q", "--", "nosuchcmd-mcpcheck", cwd=work)
    assert "cannot start server command 'nosuchcmd-mcpcheck'" in _one_error_line(proc)
    _no_debris(work)


def test_server_that_prints_garbage_and_exits(work):
    proc, _ = mcpcheck("run", "-q", "--", sys.executable, str(RAW), "garbage", cwd=work)
    line = _one_error_line(proc)
    assert "the server exited with code 3" in line
    assert "Welcome to my server v1.2" in line and "config file missing" in line  # first stdout and stderr lines
    _no_debris(work)


def test_server_that_echoes_our_requests(work):
    proc, _ = mcpcheck("run", "-q", "--", "cat", cwd=work)
    assert "answered with our own request" in _one_error_line(proc)
    _no_debris(work)


def test_silent_server_message_and_wait_agree(work):
    proc, wall = mcpcheck("run", "-q", "--timeout", "2", "--", sys.executable, str(RAW), "hang", cwd=work, env={"MCPCHECK_STARTUP_TIMEOUT": "6"})
    line = _one_error_line(proc)
    said = float(re.search(r"no answer to initialize within (\d+)s", line).group(1))
    assert said == 6
    assert said <= wall <= said + ALLOWANCE  # one wait, the one the message names (not two or three)
    _no_debris(work)


def test_silent_server_inside_max_time(work):
    proc, wall = mcpcheck("run", "-q", "--max-time", "5", "--", sys.executable, str(RAW), "hang", cwd=work)
    assert "within --max-time 5s" in _one_error_line(proc)
    assert wall <= 5 + ALLOWANCE
    _no_debris(work)


def test_url_where_nothing_listens(work):
    url = f"http://127.0.0.1:{free_port()}/mcp"
    proc, _ = mcpcheck("run", "-q", "--timeout", "2", "--url", url, cwd=work)
    assert f"cannot reach {url}" in _one_error_line(proc)
    _no_debris(work)


def test_readme_config_example_works_in_mcpcheck_toml_and_pyproject(tmp_path):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Configuration.*?```toml\n(.*?)```", text, re.S).group(1)
    for name in ("mcpcheck.toml", "pyproject.toml"):
        d = tmp_path / name.split(".")[0]
        d.mkdir()
        (d / name).write_text(block)
        settings, _ = load_settings(cwd=d)
        assert set(settings.targets) >= {"time", "api"} and settings.gate.enabled


def fuzz_oneslow(work: Path, *options: str) -> tuple[subprocess.CompletedProcess, float, dict, dict[str, int]]:
    """The fuzz campaign on budget_server.py `oneslow` (`crawl` 2 s per call, three fast tools):
    the run, its wall time, its report and the calls per tool; every fast tool was fuzzed."""
    proc, wall = mcpcheck(
        "run", "--campaign", "fuzz", *options, "--timeout", "5", "--corpus", str(work / "corpus"),
        "--", sys.executable, str(BUDGET), "oneslow", cwd=work, env={"MCPCHECK_MAX_STRING_BYTES": "65536"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    rep = report(work)
    calls = {c["tool"]: c["calls"] for c in rep["targets"][0]["constraints"]}
    for fast in ("fast_a", "fast_b", "fast_c"):
        assert calls.get(fast, 0) > 0, (fast, calls, notes(rep))
    return proc, wall, rep, calls


def test_a_slow_tool_gets_its_own_share_and_the_fast_tools_still_run(work):
    """Issue 14, item 3: budget_server.py `oneslow` lists `crawl` (2 s per call) first. Its 25
    valid examples alone would take 50 s of the 30 s budget; with a bounded share per tool it
    stops at its share with a note naming it, its calls and the share, and every fast tool is
    still fuzzed (calls in the report's constraint table)."""
    proc, wall, rep, calls = fuzz_oneslow(work, "--max-time", "30")
    assert wall <= 30 + ALLOWANCE, wall
    share = [n for n in notes(rep) if n.startswith("time budget: fuzz: crawl stopped at its share")]
    assert share, notes(rep)
    m = re.search(r"share of the time budget \(([\d.]+)s.*after (\d+) calls", share[0])
    assert m and float(m.group(1)) < 30 and int(m.group(2)) == calls["crawl"] > 0, (share, calls)


def test_a_request_cut_by_max_time_is_not_judged_afterwards():
    """A tools/call in flight when --max-time runs out is abandoned (budget.OutOfTime). What still
    comes for it (its progress notifications, its late answer: tests/fixtures/progress_server.py
    `crunch` reports progress every 0.2 s) stays in the WireLog but is not handed to the checks,
    which would otherwise call it a response to an id never sent (jsonrpc.unsolicited_response)
    and progress for a token no request carried (progress.notifications): false alarms in every
    cut run."""
    import asyncio

    from mcpcheck import budget
    from mcpcheck.session import Session
    from mcpcheck.transport.stdio import StdioTransport

    async def go():
        async with Session(StdioTransport([sys.executable, str(FIXTURES / "progress_server.py")]), timeout=10) as s:
            await s.initialize("2025-11-25")
            await s.request("tools/call", {"name": "stall", "arguments": {"seconds": 0}}, timeout=30)  # warm-up (lazy imports)
            with budget.use(budget.RunState(max_time=1.0)) as state:
                state.started = __import__("time").monotonic()
                with pytest.raises(budget.OutOfTime):
                    await s.request("tools/call", {"name": "crunch", "arguments": {"seconds": 2.0}}, progress=True)
            await asyncio.sleep(2.0)  # its progress and its answer arrive meanwhile
            return s

    s = asyncio.run(go())
    came = [e for e in s.wirelog.entries if e.direction == "in" and e.channel == "stdout" and isinstance(e.parsed, dict)]
    assert any(e.parsed.get("method") == "notifications/progress" for e in came), "no progress arrived: the test proves nothing"
    assert any(e.parsed.get("id") is not None and "result" in e.parsed and e.parsed.get("id") not in {x.request.get("id") for x in s.exchanges} for e in came), "the late answer did not arrive"
    assert s.unmatched == []
    assert not [e for e in s.notifications if e.parsed.get("method") == "notifications/progress"]


def test_a_call_that_keeps_reporting_progress_is_abandoned_at_its_tools_share():
    """session.ABANDON_AT (set by the fuzz campaign to a tool's share + one timeout): a call that
    keeps reporting progress (progress_server.py `crunch`, 4 s of work, progress every 0.2 s,
    which would be answered within the 2 s timeout's progress cap) is abandoned like a --max-time
    cut (budget.OutOfTime, not a timed-out exchange) once that point passes, and is not judged."""
    import asyncio
    import time as _time

    from mcpcheck import budget
    from mcpcheck.session import ABANDON_AT, Session
    from mcpcheck.transport.stdio import StdioTransport

    async def go():
        async with Session(StdioTransport([sys.executable, str(FIXTURES / "progress_server.py")]), timeout=2) as s:
            await s.initialize("2025-11-25")
            await s.request("tools/call", {"name": "stall", "arguments": {"seconds": 0}}, timeout=30)  # warm-up (lazy imports)
            token = ABANDON_AT.set(_time.monotonic() + 1.0)
            try:
                with pytest.raises(budget.OutOfTime):
                    await s.request("tools/call", {"name": "crunch", "arguments": {"seconds": 4.0}}, progress=True)
            finally:
                ABANDON_AT.reset(token)
            again = await s.request("tools/call", {"name": "crunch", "arguments": {"seconds": 3.0}}, progress=True)
            return s, again

    s, again = asyncio.run(go())
    assert again.ok and not again.timed_out, again  # without the abandon point the same call is answered
    assert [ex.request["params"]["arguments"]["seconds"] for ex in s.exchanges if ex.method == "tools/call"] == [0, 3.0]  # the abandoned one is not judged


def test_a_slow_tool_stops_at_the_per_tool_cap_without_max_time(work):
    """Issue 14, item 3, without --max-time: `--tool-time 4` caps `crawl` (2 s per call, 25
    valid examples = 50 s) at about 4 s per protocol era, with a note naming the cap, its calls
    and the parts it cut, and every fast tool is still fuzzed. The run's own length stays bounded."""
    proc, wall, rep, calls = fuzz_oneslow(work, "--tool-time", "4", "--protocol", "2025-11-25")
    capped = [n for n in notes(rep) if re.match(r"time budget: fuzz: crawl (stopped at|kept within) the per-tool cap \(4s", n)]
    assert capped, notes(rep)
    # each part of the tool (valid, invalid, strings inputs) gets an even part of the 4 s: the
    # valid inputs (2 s each) stop at theirs; invalid inputs, rejected at once, still run
    m = re.search(r"after (\d+) calls \(cut: ([^)]*)\)", capped[0])
    assert m and int(m.group(1)) == calls["crawl"] > 0 and "valid inputs" in m.group(2), (capped, calls)
    assert "cut to keep the run bounded" in proc.stderr, proc.stderr[-2000:]
    assert wall < 50, wall


def test_the_string_ladder_skips_a_size_its_answers_say_would_pass_the_cap(work):
    """budget_server.py `bytewise`: `measure` takes 1 s per MiB. Under `--tool-time 6` its 1 MiB
    string is answered in about 1 s, so the 8 MiB one (about 8 s) would pass what is left of the
    tool's cap: it is not sent, and a note says so with the rate it was judged by."""
    proc, wall = mcpcheck(
        "run", "--campaign", "fuzz", "--tool-time", "6", "--timeout", "20", "--protocol", "2025-11-25", "--corpus", str(work / "corpus"),
        "--", sys.executable, str(BUDGET), "bytewise", cwd=work,
    )
    assert proc.returncode in (0, 1), proc.stderr
    said = [n for n in notes(report(work)) if n.startswith("time budget: fuzz: measure: strings of 8 MiB and more not tried in /text")]
    assert said and re.search(r"\(1 MiB in [\d.]+s\) one would take about (\d+)s", said[0]), notes(report(work))
    assert int(re.search(r"about (\d+)s", said[0]).group(1)) >= 6, said
    assert wall < 40, wall


def test_ladder_estimate_is_the_line_through_the_two_largest_answered_sizes():
    from mcpcheck.campaigns.fuzz import ladder_estimate

    assert ladder_estimate([(1024, 0.01)], 65536) is None  # one point: no rate yet
    assert ladder_estimate([(1 << 10, 0.002), (1 << 20, 1.002)], 8 << 20) == pytest.approx(8.0, rel=0.01)
    # a flat or noisy-downward ladder never predicts less than the largest size took
    assert ladder_estimate([(1 << 16, 0.5), (1 << 20, 0.4)], 8 << 20) == 0.4


def test_per_tool_cap_defaults_follow_the_profile(monkeypatch):
    """--tool-time, else MCPCHECK_TOOL_SECONDS, else the profile's (nightly: none), else 20 s;
    the fuzz campaign's settings of this process (and of --jobs workers) take it as default."""
    from mcpcheck.campaigns.fuzz import FuzzSettings
    from mcpcheck.profiles import DEFAULT_TOOL_SECONDS, PROFILES, tool_seconds

    monkeypatch.delenv("MCPCHECK_TOOL_SECONDS", raising=False)
    assert tool_seconds(None, None) == DEFAULT_TOOL_SECONDS == FuzzSettings().tool_seconds
    monkeypatch.delenv("MCPCHECK_TOOL_SECONDS")
    assert tool_seconds(None, PROFILES["nightly"]) is None and FuzzSettings().tool_seconds is None
    monkeypatch.delenv("MCPCHECK_TOOL_SECONDS")
    assert tool_seconds(None, PROFILES["quick"]) == 10 == FuzzSettings().tool_seconds
    assert tool_seconds(7.5, PROFILES["nightly"]) == 7.5 == FuzzSettings().tool_seconds
    assert tool_seconds(None, PROFILES["full"]) == 7.5  # the environment (a parent's choice) wins over a profile


def test_lone_surrogate_wait_is_short_unless_the_tool_is_slow_by_nature():
    from mcpcheck.campaigns.fuzz import SURROGATE_WAIT, surrogate_wait

    assert surrogate_wait(10, []) == SURROGATE_WAIT
    assert surrogate_wait(10, [0.01, 0.2]) == SURROGATE_WAIT
    assert surrogate_wait(10, [1.5]) == 7.5
    assert surrogate_wait(10, [4.0]) == 10  # never more than --timeout
    assert surrogate_wait(2, []) == 2

"""User-written checks: loaded from --plugin, the config and entry points (test_packaging.py);
listed with their origin; their findings in the reports; broken plugins and raising checks are
one clear line each and never stop the run. Real CLI processes against the official-SDK fixture
tests/fixtures/terse_server.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import mcpcheck
from servers import FIXTURES

TERSE = [sys.executable, str(FIXTURES / "terse_server.py")]

GOOD = '''
import mcpcheck

@mcpcheck.check("acme.tool_count", category="tool.schema", severity="low", title="At most one tool", scope="listing")
def tool_count(ctx, listing):
    if len(listing.tools) > 1:
        yield mcpcheck.Violation(f"{len(listing.tools)} tools", key="count")


@mcpcheck.check("acme.every_error_has_data", category="protocol.error_codes", severity="info", title="Errors carry data", scope="exchange")
def every_error_has_data(ctx, ex):
    if ex.error is not None and "data" not in ex.error:
        yield mcpcheck.Violation(f"{ex.method}: error without data", ex.evidence(), key=ex.method)
'''

RAISES = '''
import mcpcheck

@mcpcheck.check("acme.buggy", category="tool.schema", severity="low", title="A check with a bug", scope="listing")
def buggy(ctx, listing):
    return 1 / 0
'''

BAD_META = '''
import mcpcheck

@mcpcheck.check("acme.bad", category="no.such.category", severity="low", title="x", scope="listing")
def bad(ctx, listing):
    return []
'''


def write(tmp: Path, name: str, body: str) -> None:
    (tmp / f"{name}.py").write_text(textwrap.dedent(body))


def mcpcheck_cli(tmp: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    return subprocess.run([sys.executable, "-m", "mcpcheck.cli", *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)


def test_list_checks_shows_plugin_checks_with_their_origin(tmp_path):
    write(tmp_path, "acme_checks", GOOD)
    out = mcpcheck_cli(tmp_path, "list-checks", "--format", "json", "--plugin", "acme_checks")
    assert out.returncode == 0, out.stderr
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows["acme.tool_count"]["origin"] == "acme_checks" and rows["acme.tool_count"]["scope"] == "listing"
    assert rows["fuzz.no_crash"]["origin"] == "mcpcheck" and rows["fuzz.no_crash"]["scope"] == "tool_call"
    table = mcpcheck_cli(tmp_path, "list-checks", "--plugin", "acme_checks").stdout
    assert any(line.startswith("acme.tool_count") and "acme_checks" in line for line in table.splitlines())


def test_plugin_findings_reach_every_report_and_a_raising_check_is_an_error_entry(tmp_path):
    write(tmp_path, "acme_checks", GOOD)
    write(tmp_path, "acme_buggy", RAISES)
    (tmp_path / "mcpcheck.toml").write_text('plugins = ["acme_buggy"]\n')  # one from the config, one from --plugin
    # the plugins' checks and the built-in jsonrpc.* ones (listing walk and active probes) after the
    # raising check: enough to show the run goes on, without the whole campaign (~30 s)
    out = mcpcheck_cli(tmp_path, "run", "--quiet", "--fail-on", "critical", "--check", "acme", "--check", "jsonrpc", "--format", "json,junit,sarif", "--report-dir", "r", "--plugin", "acme_checks", "--", *TERSE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert [line for line in out.stderr.splitlines() if "acme.buggy" in line] == [
        "mcpcheck: check 'acme.buggy' (from acme_buggy) raised ZeroDivisionError: division by zero; reported as an error, the run goes on"
    ]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert {f["check"] for f in report["findings"]} >= {"acme.tool_count"}
    status = {(c["id"], c["status"]) for c in report["checks"] if c["id"].startswith("acme.")}
    assert ("acme.buggy", "error") in status and ("acme.tool_count", "failed") in status
    assert any(c["origin"] == "acme_buggy" for c in report["checks"] if c["id"] == "acme.buggy")
    # built-in checks still ran
    assert any(c["id"] == "jsonrpc.response_shape" and c["status"] == "passed" for c in report["checks"])
    assert len({c["id"] for c in report["checks"] if c["id"].startswith("jsonrpc.") and c["status"] == "passed"}) >= 5
    junit = ET.parse(tmp_path / "r" / next(p.name for p in (tmp_path / "r").glob("*.xml"))).getroot()
    assert any(c.find("error") is not None for c in junit.iter("testcase") if c.get("name", "").startswith("acme.buggy"))
    sarif = json.loads(next((tmp_path / "r").glob("*.sarif")).read_text())
    assert any(r["ruleId"] == "acme.tool_count" for r in sarif["runs"][0]["results"])


@pytest.mark.parametrize(
    "body, says",
    [
        ("import no_such_module_anywhere\n", "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
        (BAD_META, "check 'acme.bad': unknown category 'no.such.category'"),
    ],
    ids=["import-error", "bad-metadata"],
)
def test_a_broken_plugin_is_one_line_and_the_run_goes_on(tmp_path, body, says):
    write(tmp_path, "acme_broken", body)
    out = mcpcheck_cli(tmp_path, "run", "--quiet", "--fail-on", "critical", "--report-dir", "r", "--plugin", "acme_broken", "--check", "jsonrpc.response_shape", "--", *TERSE)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if "acme_broken" in line]
    assert len(lines) == 1 and lines[0].startswith("mcpcheck: plugin 'acme_broken' not loaded: ") and says in lines[0], out.stderr
    assert (tmp_path / "r" / "report.json").exists()


def test_a_plugin_id_that_clashes_with_a_builtin_is_refused(tmp_path):
    write(tmp_path, "acme_clash", GOOD.replace("acme.tool_count", "jsonrpc.response_shape"))
    out = mcpcheck_cli(tmp_path, "list-checks", "--format", "json", "--plugin", "acme_clash")
    assert out.returncode == 0
    assert "mcpcheck: plugin 'acme_clash' not loaded: CheckDefinitionError: check 'jsonrpc.response_shape' registered twice" in out.stderr
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows["jsonrpc.response_shape"]["origin"] == "mcpcheck" and "acme.every_error_has_data" not in rows


def test_programmatic_run_with_a_plugin(tmp_path, monkeypatch):
    write(tmp_path, "acme_prog", GOOD.replace("acme.", "acmeprog."))
    monkeypatch.syspath_prepend(str(tmp_path))
    report = mcpcheck.run(TERSE, campaigns=["conformance"], plugins=["acme_prog"], checks=["acmeprog", "jsonrpc.response_shape"])
    assert isinstance(report, mcpcheck.RunReport)
    assert {(f.check, f.severity) for f in report.findings} == {("acmeprog.tool_count", mcpcheck.Severity.low)}


def test_public_api_is_exactly_all():
    """Everything a user needs is a name of `mcpcheck.__all__`; each one exists."""
    for name in mcpcheck.__all__:
        assert hasattr(mcpcheck, name), name
    assert {"check", "Skip", "Violation", "Finding", "Severity", "run", "strategies", "valid", "invalid", "injected"} <= set(mcpcheck.__all__)
    contexts = {"ExchangeContext", "LogContext", "ToolCallContext", "ListingContext", "SessionContext", "RunContext"}
    assert contexts <= set(mcpcheck.__all__) and len(contexts) == len(mcpcheck.SCOPES)


def test_check_metadata_is_validated_at_definition():
    from mcpcheck.registry import CheckDefinitionError

    with pytest.raises(CheckDefinitionError, match="unknown scope"):
        mcpcheck.check("t.x", category="tool.schema", severity="low", title="x", scope="everywhere")
    with pytest.raises(CheckDefinitionError, match="takes an async"):
        mcpcheck.check("t.y", category="tool.schema", severity="low", title="x", scope="session")(lambda ctx: [])
    with pytest.raises(CheckDefinitionError, match="takes 2 argument"):
        mcpcheck.check("t.z", category="tool.schema", severity="low", title="x", scope="exchange")(lambda ex: [])


def test_every_registered_check_is_a_function_with_its_scope_signature():
    """No metadata-only registration is left: every check id is one decorated function."""
    import inspect

    from mcpcheck import runner
    from mcpcheck.registry import REGISTRY, SCOPES

    runner.load_all_checks()
    assert len(REGISTRY) > 100
    for c in REGISTRY.checks():
        assert c.scope in SCOPES, c.id
        want = 1 if c.scope == "session" else 2
        assert len(inspect.signature(c.fn).parameters) == want, c.id


def test_a_plugin_module_of_one_run_stays_out_of_the_next(tmp_path, monkeypatch):
    """`mcpcheck.run(plugins=[...])` loads the module into this process; a later run that does
    not name it must not judge with its checks (the pytest workers of this suite run many files)."""
    write(tmp_path, "acme_once", GOOD.replace("acme.", "acmeonce."))
    monkeypatch.syspath_prepend(str(tmp_path))
    first = mcpcheck.run(TERSE, campaigns=["conformance"], plugins=["acme_once"], checks=["acmeonce", "jsonrpc.response_shape"])
    assert "acmeonce.tool_count" in {f.check for f in first.findings}
    # the same selection, which names the module's checks, but not the module: they stay out
    # (a selection of every check, the whole campaign, proved the same in ~30 s)
    second = mcpcheck.run(TERSE, campaigns=["conformance"], checks=["acmeonce", "jsonrpc.response_shape"])
    assert "jsonrpc.response_shape" in {c.id for c in second.checks}
    assert not [f for f in second.findings if f.check.startswith("acmeonce.")]
    assert not [c for c in second.checks if c.id.startswith("acmeonce.")]
    # the runner itself (what the CLI, the pytest plugin and the tests call) leaves them out too
    from mcpcheck import runner
    from mcpcheck.config import make_target

    (third,) = runner.run([make_target(name="terse", command=TERSE)], ["conformance"], only=["acmeonce", "jsonrpc.response_shape"])
    assert "jsonrpc.response_shape" in {c.id for c in third.checks}
    assert not [f for f in third.findings if f.check.startswith("acmeonce.")]
    assert not [c for c in third.checks if c.id.startswith("acmeonce.")]


LANE = '''
import asyncio, json, os, time
import mcpcheck

LOG = os.environ["ACME_LANE_LOG"]


def mark(what):
    with open(LOG, "a") as f:
        f.write(json.dumps([what, time.monotonic()]) + "\\n")


@mcpcheck.check("acmelane.on_live_session", category="protocol.lifecycle", severity="low", title="x", scope="session")
async def on_live_session(ctx):
    mark("live start")
    await ctx.session.request("ping")
    await asyncio.sleep(1.0)
    mark("live end")
    yield mcpcheck.Violation("live", key="live")


@mcpcheck.check("acmelane.own_process", category="protocol.lifecycle", severity="low", title="y", scope="session", isolated=True)
async def own_process(ctx):
    mark("isolated start")
    await asyncio.sleep(0.2)
    mark("isolated end")
    yield mcpcheck.Violation("isolated", key="isolated")
'''


def test_isolated_probes_run_beside_the_others_and_are_recorded_in_order(tmp_path, monkeypatch):
    """`@check(..., isolated=True)`: a probe on sessions of its own starts at the beginning of its
    era, beside the probes on the live session (its waits overlap theirs), and its findings are
    recorded like any other's; a target with `jobs = 1` (it cannot take parallel sessions) runs
    it in line."""
    from mcpcheck.config import make_target

    write(tmp_path, "acme_lane", LANE)
    log = tmp_path / "lane.log"
    monkeypatch.setenv("ACME_LANE_LOG", str(log))
    monkeypatch.syspath_prepend(str(tmp_path))

    def marks_of(target) -> dict:
        log.write_text("")
        report = mcpcheck.run(target, campaigns=["conformance"], plugins=["acme_lane"], checks=["acmelane"])
        assert sorted(f.check for f in report.findings) == ["acmelane.on_live_session", "acmelane.own_process"]
        return dict(tuple(json.loads(line)) for line in log.read_text().splitlines())

    marks = marks_of(TERSE)
    assert marks["isolated start"] < marks["live end"], marks  # it did not wait for the live-session probe
    marks = marks_of(make_target(name="terse", command=TERSE, jobs=1))
    assert marks["isolated start"] > marks["live end"], marks

    from mcpcheck.registry import CheckDefinitionError

    with pytest.raises(CheckDefinitionError, match="only a 'session' check can be isolated"):
        mcpcheck.check("acmelane.bad", category="tool.schema", severity="low", title="z", scope="listing", isolated=True)(lambda ctx, listing: [])

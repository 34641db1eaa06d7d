"""End to end: the installed `mcpcheck` console script against real MCP servers.

* tests/fixtures/clean_server.py (the official SDK's MCPServer over stdio): every era, must be clean;
* the same SDK app over Streamable HTTP (tests/servers.py `clean_http`);
* the PyPI `mcp-server-time` (test extra), a third-party server.

Each test skips until the fixture it needs exists (tests/servers.py and the fixtures are written
by the fixture work). The assertions are about the CLI's contract (exit code agrees with the
report, the three views agree with each other, the summary names what was tested), not about a
third-party server's particular bugs.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcpcheck.report.model import RunReport

try:  # the fixture work's helpers (command lines, HTTP servers on free ports)
    import servers
except ImportError:
    servers = None

ROOT = Path(__file__).resolve().parent.parent
CLEAN = ROOT / "tests" / "fixtures" / "clean_server.py"
EXE = Path(sys.executable).parent / "mcpcheck"
needs_clean = pytest.mark.skipif(not CLEAN.exists(), reason="tests/fixtures/clean_server.py not written yet")


def clean_cmd() -> list[str]:
    pytest.importorskip("mcp")
    if servers is not None and hasattr(servers, "clean_stdio_cmd"):
        return list(servers.clean_stdio_cmd())
    return [sys.executable, str(CLEAN)]


def mcpcheck(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    head = [str(EXE)] if EXE.exists() else [sys.executable, "-c", "import sys; from mcpcheck.cli import main; sys.exit(main())"]
    return subprocess.run([*head, *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def load(cwd: Path, report_dir: str = "mcpcheck-report") -> tuple[RunReport, str, ET.Element]:
    d = cwd / report_dir
    report = RunReport.model_validate_json((d / "report.json").read_text(encoding="utf-8"))
    return report, (d / "report.md").read_text(encoding="utf-8"), ET.parse(d / "junit.xml").getroot()


def assert_views_agree(report: RunReport, md: str, junit: ET.Element) -> None:
    assert int(junit.get("tests")) == len(report.checks) + report.summary.targets_unreachable
    assert int(junit.get("skipped")) == report.summary.checks_skipped
    failing_checks = {(f.target, f.check, f.revision) for f in report.findings}
    assert int(junit.get("failures")) == len(failing_checks)
    for f in report.findings:
        assert f.id in md
    for o in report.observations:
        assert o.check in md.split("## Observations")[1]


@needs_clean
def test_clean_fixture_every_era_passes_at_fail_on_low(tmp_path):
    cmd = clean_cmd()
    proc = mcpcheck("run", "--fail-on", "low", "--timeout", "15", "--", *cmd, cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    report, md, junit = load(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report.exit_code == 0 and report.findings == []
    assert report.command == ["mcpcheck", "run", "--fail-on", "low", "--timeout", "15", "--", *cmd]
    [target] = report.targets
    assert target.error is None
    assert set(target.eras) == {"2026-07-28", "2025-11-25"}, "the SDK server is dual-era: both eras are tested"
    assert {c.revision for c in report.checks} == set(target.eras)
    # the campaign really judged the server (this run is also the clean fixture's conformance proof,
    # formerly a second full run in test_conformance_fixtures.py)
    ran = {c.id for c in report.checks if c.status != "skipped"}
    assert {"jsonrpc.response_shape", "list.pagination", "tools.input_schema", "concurrency.burst", "stdio.stdout_pollution"} <= ran, sorted(ran)
    assert junit.get("failures") == "0" and junit.get("errors") == "0"
    assert "**PASS**" in md
    assert_views_agree(report, md, junit)
    # the summary on stdout: eras, counts, where the reports are, what the exit code means
    assert f"eras tested: {', '.join(target.eras)}" in proc.stdout
    assert "reports: mcpcheck-report/report.json, mcpcheck-report/report.md, mcpcheck-report/junit.xml" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1] == "PASS: exit code 0: no finding at or above low"
    # CI (not a TTY): progress is plain timestamped lines on stderr
    assert any("detecting protocol eras" in line for line in proc.stderr.splitlines())
    # re-rendered from the saved JSON: the same views
    again = mcpcheck("report", "mcpcheck-report/report.json", "--format", "markdown", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == md
    again = mcpcheck("report", "mcpcheck-report/report.json", "--format", "junit", cwd=tmp_path)
    assert again.stdout == (tmp_path / "mcpcheck-report" / "junit.xml").read_text(encoding="utf-8")


@pytest.mark.skipif(servers is None or not hasattr(servers, "clean_http"), reason="tests/servers.py clean_http not available")
def test_clean_sdk_over_streamable_http(tmp_path):
    pytest.importorskip("mcp")
    with servers.clean_http() as url:
        proc = mcpcheck("run", "--url", url, "--timeout", "5", "--check", "http", "--check", "lifecycle.ping", "--report-dir", "r", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    report, md, junit = load(tmp_path, "r")
    assert proc.returncode == report.exit_code == 0, proc.stdout + proc.stderr
    [target] = report.targets
    assert target.transport == "http" and target.description.endswith(url) and target.error is None
    assert any(c.id.startswith("http.") and c.status == "passed" for c in report.checks)
    assert_views_agree(report, md, junit)


def test_third_party_time_server(tmp_path):
    pytest.importorskip("mcp_server_time")
    if servers is not None and hasattr(servers, "time_stdio_cmd"):
        cmd = list(servers.time_stdio_cmd())
    else:
        cmd = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
    checks = ["--check", "tools", "--check", "list", "--check", "schema"]  # the listing probes: quick
    proc = mcpcheck("run", "--protocol", "2025-11-25", "--timeout", "5", *checks, "--", *cmd, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report, md, junit = load(tmp_path)
    assert report.exit_code == proc.returncode
    [target] = report.targets
    assert target.error is None and target.eras == ["2025-11-25"]
    assert (target.server_info or {}).get("name") == "mcp-time"
    assert {"get_current_time", "convert_time"} <= set(target.tools)
    assert_views_agree(report, md, junit)
    assert proc.stdout.rstrip().splitlines()[-1].startswith(("PASS: exit code 0", "FAIL: exit code 1"))

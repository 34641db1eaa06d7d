"""The mcpcheck command line: usage errors exit 2 with one clear line (never a traceback),
list-checks / schema / report, and the exit code driven by --fail-on against a real process.

The server used here is a few lines of raw JSON-RPC written into tmp_path: it handshakes
properly and answers an unknown method with a success result (errors.unknown_method, severity
low: J8 words no keyword), so one check on one era gives a deterministic finding in well under a second.
"""

import json
import socket
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcpcheck import cli
from mcpcheck.registry import REGISTRY
from mcpcheck.report.model import RunReport


MCPCHECK = Path(sys.executable).parent / "mcpcheck"

SERVER = textwrap.dedent(
    """
    import json, sys
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
            continue
        if msg["method"] == "initialize":
            result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {},
                      "serverInfo": {"name": "tiny", "version": "0.1"}}
        else:
            result = {}  # the defect: even an unknown method "succeeds"
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}) + "\\n")
        sys.stdout.flush()
    """
)
ONE_CHECK = ["--protocol", "2025-11-25", "--check", "errors.unknown_method", "--timeout", "3"]


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "tiny_server.py"
    path.write_text(SERVER)
    return [sys.executable, str(path)]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Every CLI call runs in an empty directory: no config discovered, reports land in tmp."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return work


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("mcpcheck: error:")]
    assert len(lines) == 1, err
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- usage errors: exit 2, one line


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "--bogus"], "mcpcheck run: error: unrecognized arguments: --bogus"),
        (["run", "python", "-m", "srv"], "put the server command after `--`"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "--campaign", "nope", "--", "true"], "mcpcheck: error: unknown campaign 'nope' (known: conformance"),
        (["run", "--protocol", "2024-01-01", "--", "true"], "argument --protocol: invalid choice: '2024-01-01'"),
        (["run", "--fail-on", "severe", "--", "true"], "argument --fail-on: invalid choice: 'severe'"),
        (["run", "--timeout", "0", "--", "true"], "argument --timeout: must be greater than 0"),
        (["run", "--format", "json,pdf", "--", "true"], "unknown report format 'pdf' (supported: json, markdown, junit, sarif, html)"),
        (["run", "--check", "jsonrcp.id_echo", "--", "true"], "--check 'jsonrcp.id_echo' matches no registered check"),
        (["run", "--header", "nocolon", "--url", "http://127.0.0.1:9/mcp"], "argument --header: expected K:V, got 'nocolon'"),
        (["run", "--url", "ftp://example.org"], "--url must be an http:// or https:// URL"),
        (["run", "--url", "http://127.0.0.1:9/mcp", "--", "true"], "either a server command after `--` or --url"),
        (["run", "--env", "A=1", "--url", "http://127.0.0.1:9/mcp"], "--env only applies to stdio servers"),
        (["run", "--bearer-env", "MCPCHECK_TEST_UNSET_TOKEN", "--url", "http://127.0.0.1:9/mcp"], "MCPCHECK_TEST_UNSET_TOKEN: that environment variable is not set"),
        (["run"], "no target: give a server command after `--`"),
        (["run", "--"], "nothing after `--`"),
        (["list-checks", "--campaign", "nope"], "unknown campaign 'nope'"),
        (["schema", "--", "x"], "`--` is only used by `mcpcheck run`"),
        (["run", "--report-dir", "/dev/null/reports", "--", "true"], "cannot create the report directory /dev/null/reports"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(capsys, argv, expected):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1, err  # exactly one line on stderr
    assert expected in err, err
    assert "Traceback" not in err and out == ""


def test_stdio_command_not_found(capsys):
    code, out, err = run_cli(capsys, "run", "--quiet", "--", "nosuchcmd-mcpcheck")
    assert code == 2
    assert err.splitlines() == [
        "mcpcheck: error: cannot start server command 'nosuchcmd-mcpcheck': [Errno 2] No such file or directory: 'nosuchcmd-mcpcheck'"
    ]
    # nothing could be tested: no report directory is left behind, and nothing on stdout
    assert not Path("mcpcheck-report").exists() and out == ""


def test_stdio_command_not_found_with_progress_still_one_error_line(capsys):
    code, out, err = run_cli(capsys, "run", "--", "nosuchcmd-mcpcheck")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("mcpcheck: error: cannot start server command 'nosuchcmd-mcpcheck'")
    assert err.rstrip("\n").splitlines()[-1] == line


def test_unreachable_url_on_a_free_port(capsys):
    port = free_port()
    code, out, err = run_cli(capsys, "run", "--quiet", "--timeout", "2", "--url", f"http://127.0.0.1:{port}/mcp")
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("mcpcheck: error: ") and f"127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_config_typo_names_the_key(capsys, in_tmp):
    (in_tmp / "mcpcheck.toml").write_text('fial_on = "high"\n')
    code, out, err = run_cli(capsys, "run", "--", "true")
    assert code == 2
    assert err.count("\n") == 1
    assert "mcpcheck.toml: unknown key 'fial_on'" in err and err.startswith("mcpcheck: error: ")


def test_config_target_typo_names_the_key(capsys, in_tmp):
    (in_tmp / "pyproject.toml").write_text('[tool.mcpcheck.targets.srv]\ncomand = "python server.py"\n')
    code, out, err = run_cli(capsys, "run")
    assert code == 2 and err.count("\n") == 1
    assert "[tool.mcpcheck]: unknown key 'targets.srv.comand'" in err


def test_bad_toml_and_missing_config(capsys, in_tmp):
    (in_tmp / "mcpcheck.toml").write_text("fail_on = \n")
    code, _, err = run_cli(capsys, "run", "--", "true")
    assert code == 2 and "not valid TOML" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "run", "--config", "nowhere.toml", "--", "true")
    assert code == 2 and err == "mcpcheck: error: config file not found: nowhere.toml\n"


def test_unknown_config_target(capsys, in_tmp):
    (in_tmp / "mcpcheck.toml").write_text('[targets.a]\ncommand = "true"\n[targets.b]\ncommand = "true"\n')
    code, _, err = run_cli(capsys, "run", "--target", "c")
    assert code == 2 and err == "mcpcheck: error: unknown target 'c' (configured: a, b)\n"


def test_console_script_never_prints_a_traceback(tmp_path):
    exe = str(MCPCHECK) if MCPCHECK.exists() else None
    argv = [exe] if exe else [sys.executable, "-c", "import sys; from mcpcheck.cli import main; sys.exit(main())"]
    proc = subprocess.run([*argv, "run", "--quiet", "--", "nosuchcmd-mcpcheck"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("mcpcheck: error: cannot start server command 'nosuchcmd-mcpcheck'")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- list-checks, schema, help


def test_help(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "list-checks" in out and "Exit codes" in out
    code, out, _ = run_cli(capsys, "run", "--help")
    assert code == 0
    for opt in ("-- COMMAND ARGS...", "--url URL", "--target NAME", "--campaign", "--check", "--skip-check", "--protocol",
                "--timeout", "--fail-on", "--report-dir", "--format", "--seed", "--env", "--quiet", "--allow-destructive"):
        assert opt in out, opt


def test_list_checks_table_lists_every_registered_check(capsys):
    cli.load_checks()
    code, out, _ = run_cli(capsys, "list-checks")
    assert code == 0
    for spec in REGISTRY.values():
        row = next(line for line in out.splitlines() if line.startswith(spec.id + " "))
        assert spec.category in row and spec.severity.value in row and (spec.rule or "-") in row
    assert out.rstrip().endswith(f"{len(REGISTRY)} checks")


def test_list_checks_json_and_campaign_filter(capsys):
    cli.load_checks()
    code, out, _ = run_cli(capsys, "list-checks", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {r["id"] for r in rows} == set(REGISTRY)
    row = next(r for r in rows if r["id"] == "jsonrpc.id_echo")
    assert row["severity"] == REGISTRY["jsonrpc.id_echo"].severity.value
    assert set(row) >= {"id", "category", "severity", "rule", "level", "revisions", "campaign", "title"}
    code, out, _ = run_cli(capsys, "list-checks", "--format", "json", "--campaign", "fuzz")
    fuzz = json.loads(out)
    assert fuzz and all(r["campaign"] == "fuzz" for r in fuzz)


def test_schema_prints_the_report_json_schema(capsys):
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    assert json.loads(out) == RunReport.model_json_schema()
    code, out, _ = run_cli(capsys, "schema", "--format", "markdown")
    assert code == 0 and out.startswith("# mcpcheck report schema")


# --------------------------------------------------------------------------- real runs: exit code by --fail-on


def test_fail_on_drives_the_exit_code(capsys, server):
    code, out, err = run_cli(capsys, "run", *ONE_CHECK, "--fail-on", "low", "--", *server)
    assert code == 1, err
    assert "FAIL: exit code 1: 1 finding at or above low" in out
    assert "errors.unknown_method" in out and "2025-11-25" in out and "tiny 0.1" in out

    code, out, err = run_cli(capsys, "run", *ONE_CHECK, "--fail-on", "high", "--report-dir", "high", "--", *server)
    assert code == 0, err
    assert "PASS: exit code 0: no finding at or above high (1 below it)" in out
    report = RunReport.model_validate_json(Path("high/report.json").read_text())
    assert report.exit_code == 0 and report.fail_on.value == "high"
    assert [f.check for f in report.findings] == ["errors.unknown_method"]
    assert report.command == ["mcpcheck", "run", *ONE_CHECK, "--fail-on", "high", "--report-dir", "high", "--", *server]
    assert sorted(p.name for p in Path("high").iterdir()) == ["junit.xml", "report.json", "report.md"]
    junit = ET.parse("high/junit.xml").getroot()
    assert junit.get("failures") == "1" and junit.find(".//failure").get("type") == "low"


def test_fail_on_from_config_and_the_flag_wins(capsys, server, in_tmp):
    (in_tmp / "mcpcheck.toml").write_text('fail_on = "low"\nformats = ["json"]\nreport_dir = "out"\n')
    code, out, err = run_cli(capsys, "run", "--quiet", *ONE_CHECK, "--", *server)
    assert code == 1 and out == "FAIL: exit code 1: 1 finding at or above low\n"
    assert err == ""  # --quiet: no progress
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["report.json"]
    code, out, _ = run_cli(capsys, "run", "--quiet", "--fail-on", "critical", *ONE_CHECK, "--", *server)
    assert code == 0


def test_named_targets_from_config(capsys, server, in_tmp):
    cmd = " ".join(f"'{c}'" for c in server)
    (in_tmp / "mcpcheck.toml").write_text(
        f'fail_on = "low"\n[targets.tiny]\ncommand = "{cmd}"\ntimeout = 3\n[targets.gone]\ncommand = "nosuchcmd-mcpcheck"\n'
    )
    code, out, err = run_cli(capsys, "run", "--target", "tiny", *ONE_CHECK)
    assert code == 1 and "tiny (stdio:" in out
    # no --target: every configured target; one that cannot start makes it exit 2, named on stderr
    code, out, err = run_cli(capsys, "run", *ONE_CHECK)
    assert code == 2
    assert one_error_line(err).startswith("mcpcheck: error: target 'gone': cannot start server command 'nosuchcmd-mcpcheck'")
    report = RunReport.model_validate_json(Path("mcpcheck-report/report.json").read_text())
    assert [t.name for t in report.targets] == ["tiny", "gone"]
    assert [f.target for f in report.findings] == ["tiny"]


def test_progress_lines_are_timestamped_on_stderr_when_not_a_tty(capsys, server):
    code, out, err = run_cli(capsys, "run", *ONE_CHECK, "--", *server)
    assert code == 0
    lines = err.splitlines()
    assert lines and all(line[0] == "[" and line[9:11] == "] " for line in lines), err
    assert any("errors.unknown_method" in line for line in lines), err  # progress names the check being judged


def test_step_summary_and_report_rerender(capsys, server, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, _, _ = run_cli(capsys, "run", "--quiet", "--format", "json", *ONE_CHECK, "--", *server)
    assert code == 0
    assert "# mcpcheck report" in summary.read_text() and "errors.unknown_method" in summary.read_text()
    saved = Path("mcpcheck-report/report.json")
    report = RunReport.model_validate_json(saved.read_text())
    finding_id = report.findings[0].id

    code, out, _ = run_cli(capsys, "report", str(saved), "--format", "markdown")
    assert code == 0 and finding_id in out and out.startswith("# mcpcheck report")
    code, out, _ = run_cli(capsys, "report", str(saved), "--format", "junit")
    root = ET.fromstring(out.encode())
    assert int(root.get("tests")) == len(report.checks) and root.get("failures") == "1"
    code, _, _ = run_cli(capsys, "report", str(saved), "--format", "junit", "-o", "re.xml")
    assert code == 0 and ET.parse("re.xml").getroot().tag == "testsuites"

    Path("bad.json").write_text('{"schema_version": "1"}')
    code, out, err = run_cli(capsys, "report", "bad.json")
    assert code == 2 and err.startswith("mcpcheck: error: bad.json is not a mcpcheck report.json") and err.count("\n") == 1
    code, out, err = run_cli(capsys, "report", str(saved), "--format", "pdf")
    assert code == 2 and "unknown report format 'pdf'" in err


# --------------------------------------------------------------------------- helpers


def test_secrets_are_masked_in_the_recorded_command():
    argv = ["run", "--header", "Authorization:Bearer s3cret", "--header=X-Api-Key:k", "--header", "Accept:json",
            "--env", "API_TOKEN=t", "--url", "http://h/mcp"]
    assert cli.redact(argv) == ["run", "--header", "Authorization:***", "--header=X-Api-Key:***", "--header", "Accept:json",
                                "--env", "API_TOKEN=***", "--url", "http://h/mcp"]
    assert cli.redact(["run", "--", "srv", "--header", "Authorization:x"])[-1] == "Authorization:x"  # the server's own argv


@pytest.mark.parametrize(
    "command, name",
    [
        (["python", "-m", "mcp_server_time", "--local-timezone", "UTC"], "mcp_server_time"),
        ([sys.executable, "tests/fixtures/clean_server.py"], "clean_server"),
        (["npx", "-y", "@modelcontextprotocol/server-everything"], "server-everything"),
        (["npx", "-y", "@modelcontextprotocol/server-memory@1.2.3"], "server-memory"),
        (["uvx", "mcp-server-fetch"], "mcp-server-fetch"),
        (["/usr/local/bin/my-server", "--port", "1"], "my-server"),
        (["node", "dist/index.js"], "index"),
        (["node", "--require", "loopback.cjs", "srv/server-everything.js", "stdio"], "server-everything"),
        (["uvx", "--from", "mcp-server-git==1.0", "mcp-server-git"], "mcp-server-git"),
    ],
)
def test_target_names_derived_from_the_command(command, name):
    assert cli._command_name(command) == name


# --------------------------------------------------------------------------- progress display


def test_progress_plain_lines_and_log_do_not_deadlock():
    import io

    from mcpcheck.report.console import Progress

    buf = io.StringIO()
    with Progress(stream=buf, tty=False) as p:
        p("step one")
        p.log("a note")
    lines = buf.getvalue().splitlines()
    assert [line[11:] for line in lines] == ["step one", "a note"]
    quiet = io.StringIO()
    with Progress(stream=quiet, tty=False, quiet=True) as p:
        p("nothing")
        p.log("nothing")
    assert quiet.getvalue() == "" and p.steps == 1


def test_progress_live_status_on_a_terminal():
    import io

    from mcpcheck.report.console import Progress

    buf = io.StringIO()
    with Progress(stream=buf, tty=True) as p:
        p("probing [2025-11-25]: listings")  # rich markup in a step must not be interpreted
        p.log("kept line")
    out = buf.getvalue()
    assert "kept line" in out and "\x1b[" in out  # drawn with terminal control codes


# --------------------------------------------------------------------------- target resolution


def _targets(argv, settings=None):
    from mcpcheck.config import Settings

    head, command = cli._split_argv(argv)
    args = cli.build_parser().parse_args(head)
    return cli.resolve_targets(args, settings or Settings(), list(args.command) + list(command or []))


def test_command_line_options_reach_the_target():
    [t] = _targets(["run", "--timeout", "2.5", "--protocol", "2025-06-18", "--env", "A=1=2", "--allow-destructive", "--", "srv", "--flag"])
    assert (t.transport, t.command, t.timeout, t.protocol, t.env, t.safety.allow_destructive) == (
        "stdio", ["srv", "--flag"], 2.5, "2025-06-18", {"A": "1=2"}, True)
    [u] = _targets(["run", "--url", "http://127.0.0.1:3001/sse", "--transport", "sse", "--header", "X-A: b", "--bearer-env", "TOK", "--name", "api"])
    assert (u.name, u.transport, u.url, u.headers, u.bearer_env, u.safety.allow_destructive) == (
        "api", "sse", "http://127.0.0.1:3001/sse", {"X-A": "b"}, "TOK", False)
    assert u.cli_args() == ["--url", "http://127.0.0.1:3001/sse", "--transport", "sse", "--header", "X-A:b", "--bearer-env", "TOK"]


def test_config_targets_keep_their_settings_unless_overridden():
    from mcpcheck.config import Settings

    settings = Settings.model_validate({
        "targets": {
            "a": {"command": "srv --x", "timeout": 4, "env": {"K": "1"}, "safety": {"dangerous_tools": ["rm"]}},
            "b": {"transport": "http", "url": "http://127.0.0.1:1/mcp", "headers": {"H": "1"}},
        }
    })
    a, b = _targets(["run"], settings)
    assert (a.name, a.command, a.timeout, a.env, a.protocol) == ("a", ["srv", "--x"], 4, {"K": "1"}, None)
    [a2] = _targets(["run", "--target", "a", "--timeout", "1", "--env", "L=2", "--allow-destructive"], settings)
    assert (a2.timeout, a2.env, a2.safety.allow_destructive, a2.safety.dangerous_tools) == (1, {"K": "1", "L": "2"}, True, ["rm"])
    [b2] = _targets(["run", "--target", "b", "--header", "J:2"], settings)
    assert b2.headers == {"H": "1", "J": "2"}
    with pytest.raises(cli.UsageError, match="only apply to HTTP targets"):
        _targets(["run", "--target", "a", "--header", "J:2"], settings)


def test_fuzz_and_replay_shortcuts_expand_to_run():
    assert cli.expand_aliases(["fuzz", "--seed", "3", "--", "srv"]) == ["run", "--campaign", "fuzz", "--campaign", "stateful", "--seed", "3", "--", "srv"]
    assert cli.expand_aliases(["replay", "corpus/srv", "--", "srv"]) == ["run", "--campaign", "replay", "--corpus", "corpus/srv", "--", "srv"]
    assert cli.expand_aliases(["replay", "--quiet", "--", "srv"]) == ["run", "--campaign", "replay", "--quiet", "--", "srv"]
    assert cli.expand_aliases(["run", "--", "fuzz"]) == ["run", "--", "fuzz"]


def test_replay_shortcut_against_a_real_server_with_a_corpus_dir(capsys, server, tmp_path):
    corpus = tmp_path / "my-corpus"
    code, out, err = run_cli(capsys, "replay", str(corpus), "--quiet", "--protocol", "2025-11-25", "--timeout", "5", "--", *server)
    assert code == 0, err
    report = RunReport.model_validate_json(Path("mcpcheck-report/report.json").read_text())
    assert report.campaigns == ["replay"]
    assert report.command[:6] == ["mcpcheck", "run", "--campaign", "replay", "--corpus", str(corpus)]  # recorded expanded
    assert report.targets[0].notes == ["replay: no corpus entries for target 'tiny_server'"]

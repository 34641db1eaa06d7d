"""The pytest plugin, the way a user runs it: a separate `pytest --mcpcheck` process against a
real server, one item per check. The broken fixture answers unknown methods with a success
result, so exactly the errors.unknown_method item must fail, with evidence and a reproduce
command in the failure text, and the run must exit 1."""

import re
import shlex
import subprocess
import sys
import textwrap

from servers import broken_stdio_cmd, clean_stdio_cmd


def pytest_run(tmp_path, *args, files=None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-rfs", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )


def test_one_item_per_check_and_the_broken_one_fails(tmp_path):
    cmd = shlex.join(broken_stdio_cmd("unknown_method_ok"))
    proc = pytest_run(tmp_path, "--mcpcheck", "--mcpcheck-target", cmd, "--mcpcheck-fail-on", "medium", "-k", "errors or jsonrpc")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    failed = re.findall(r"^FAILED (\S+)", out, flags=re.M)
    assert [f.lstrip(":") for f in failed] == ["mcpcheck::cmd1::errors.unknown_method"], out
    assert "reproduce: mcpcheck run" in out and '"result"' in out  # evidence from the wire
    passed = int(re.search(r"(\d+) passed", out).group(1))
    assert passed >= 5  # the jsonrpc.* checks held


def test_clean_server_passes_and_the_fixture_returns_the_report(tmp_path):
    cmd = clean_stdio_cmd()
    proc = pytest_run(tmp_path, "-q", files={"test_mine.py": f"""
        def test_my_server(mcpcheck_run):
            report = mcpcheck_run({cmd!r}, fail_on="low")
            assert report.exit_code == 0, [f.detail for f in report.findings]
            assert report.targets[0].tools and report.summary.checks_passed > 20
    """})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_no_targets_is_a_usage_error(tmp_path):
    proc = pytest_run(tmp_path, "--mcpcheck")
    assert proc.returncode == 4 and "mcpcheck: no targets" in proc.stderr


def test_own_given_tests_with_our_strategies_through_the_client_fixture(tmp_path):
    cmd = shlex.join(clean_stdio_cmd())
    proc = pytest_run(tmp_path, "-q", "--mcpcheck-target", cmd, files={"test_props.py": """
        from hypothesis import given, settings
        import strategies

        def test_add_is_commutative(mcp_client):
            schema = mcp_client.tool("add")["inputSchema"]

            @settings(max_examples=15, deadline=None)
            @given(strategies.valid(schema))
            def check(args):
                forward = mcp_client.call_tool("add", args)
                backward = mcp_client.call_tool("add", {**args, "a": args["b"], "b": args["a"]})
                assert forward.ok and not forward.result.get("isError"), forward.result
                assert forward.result["content"] == backward.result["content"]

            check()

        def test_invalid_inputs_are_refused(mcp_client):
            schema = mcp_client.tool("add")["inputSchema"]

            @settings(max_examples=10, deadline=None)
            @given(strategies.invalid(schema))
            def check(case):
                ex = mcp_client.call_tool("add", case.value)
                assert not ex.ok or ex.result.get("isError"), (case.constraint, case.value)

            check()
    """})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout

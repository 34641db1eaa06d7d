"""The pytest plugin, the way a user runs it: a separate `pytest --mcpcheck` process against a
real server, one item per check and, for the checks judged per tool call, one per (check, tool).
The broken fixture answers unknown methods with a success result, so exactly the
errors.unknown_method item must fail, with evidence and a reproduce command in the failure text,
and the run must exit 1. The buggy and vulnerable fixtures fail exactly the items of the tools
that carry the bug; the clean fixture's destructive tool is never called, its items are skipped."""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap

from mcpcheck.registry import REGISTRY
from mcpcheck.runner import load_all_checks
from servers import FIXTURES, broken_stdio_cmd, clean_stdio_cmd

load_all_checks()
FUZZ_CHECKS = sorted(s.id for s in REGISTRY.values() if s.campaign == "fuzz")
CLEAN_TOOLS = ["echo", "add", "get_item", "list_items", "create_item", "place_order", "delete_item", "slow_echo"]
FAST = {"MCPCHECK_MAX_EXAMPLES": "5"}


def pytest_run(tmp_path, *args, files=None, env=None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-rfs", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, env={**os.environ, **(env or {})},
    )


def outcomes(out):
    """item name (without the mcpcheck:: prefix) -> PASSED / FAILED / SKIPPED, from `pytest -v`."""
    return dict(re.findall(r"^(?:::)?mcpcheck::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", out, flags=re.M))


def failure_section(out, title):
    """The text pytest prints under `____ mcpcheck TITLE ____`."""
    m = re.search(r"^_+ mcpcheck " + re.escape(title) + r" _+\n(.*?)(?=^_{3,} |^=+ )", out, flags=re.M | re.S)
    assert m, f"no failure section for {title}:\n{out}"
    return m.group(1)


def test_one_item_per_check_and_the_broken_one_fails(tmp_path):
    cmd = shlex.join(broken_stdio_cmd("unknown_method_ok"))
    proc = pytest_run(tmp_path, "--mcpcheck", "--mcpcheck-target", cmd, "--mcpcheck-fail-on", "low", "-k", "errors or jsonrpc")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    failed = re.findall(r"^FAILED (\S+)", out, flags=re.M)
    assert [f.lstrip(":") for f in failed] == ["mcpcheck::cmd1::errors.unknown_method"], out
    assert "reproduce: mcpcheck run" in out and '"result"' in out  # evidence from the wire
    passed = int(re.search(r"(\d+) passed", out).group(1))
    assert passed >= 5  # the jsonrpc.* checks held


def test_a_finding_below_fail_on_is_xfail_with_its_text_never_passed(tmp_path):
    # the same low errors.unknown_method finding `mcpcheck run` reports, at the default fail-on (high)
    cmd = shlex.join(broken_stdio_cmd("unknown_method_ok"))
    proc = pytest_run(tmp_path, "-v", "-rx", "--mcpcheck", "--mcpcheck-target", cmd, "-k", "errors")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr  # below the bar: the session does not fail
    got = outcomes(out)
    assert "cmd1::errors.unknown_method" not in {k for k, v in got.items() if v == "PASSED"}, out
    assert re.search(r"^XFAIL \S*mcpcheck::cmd1::errors\.unknown_method - \[low\] errors\.unknown_method: .+below --mcpcheck-fail-on high", out, flags=re.M), out
    assert re.search(r"\b1 xfailed\b", out), out
    assert any(v == "PASSED" for v in got.values()), out  # the errors.* checks that held still pass


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
        from mcpcheck import strategies

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


def test_fuzz_items_per_tool_fail_only_for_the_tool_with_the_bug(tmp_path):
    """One fuzz run against the buggy fixture (a config target named "buggy"): lookup leaks a
    traceback, set_volume executes out-of-range input, echo is clean. Each [tool] item carries only
    its own tool's findings."""
    cmd = [sys.executable, str(FIXTURES / "buggy_tools_server.py")]
    proc = pytest_run(
        tmp_path, "-v", "--mcpcheck", "--mcpcheck-campaign", "fuzz", "--mcpcheck-fail-on", "medium",
        "-k", "[lookup] or [echo] or [set_volume]",
        files={"mcpcheck.toml": f"[targets.buggy]\ncommand = {json.dumps(cmd)}\n"}, env=FAST,
    )
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    got = outcomes(out)
    assert set(got) == {f"buggy::{c}[{t}]" for c in FUZZ_CHECKS for t in ("lookup", "echo", "set_volume")}, out
    assert got["buggy::fuzz.no_internal_leak[lookup]"] == "FAILED"
    assert got["buggy::fuzz.no_internal_leak[echo]"] == "PASSED"
    assert got["buggy::fuzz.invalid_input_rejected[set_volume]"] == "FAILED"
    assert got["buggy::fuzz.invalid_input_rejected[lookup]"] == "PASSED"
    assert sorted(n for n, o in got.items() if o == "FAILED") == [
        "buggy::fuzz.invalid_input_rejected[set_volume]", "buggy::fuzz.no_internal_leak[lookup]",
    ]
    leak = failure_section(out, "buggy: fuzz.no_internal_leak [lookup]")
    assert "tool 'lookup' returned a stack trace" in leak and "Traceback" in leak and "reproduce: mcpcheck run" in leak
    assert "set_volume" not in leak
    assert "lookup" not in failure_section(out, "buggy: fuzz.invalid_input_rejected [set_volume]")


def test_k_selects_one_tool_and_the_campaign_calls_only_that_tool(tmp_path):
    """`-k add` keeps the items of tool add, one per fuzz check, and the fuzz campaign calls add
    and nothing else (a stdin proxy logs every tools/call)."""
    log = tmp_path / "calls.log"
    cmd = shlex.join([sys.executable, str(FIXTURES / "call_log_proxy.py"), str(log), "--", *clean_stdio_cmd()])
    proc = pytest_run(tmp_path, "-v", "--mcpcheck", "--mcpcheck-campaign", "fuzz", "--mcpcheck-target", cmd, "-k", "add", env=FAST)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    total = len(FUZZ_CHECKS) * (1 + len(CLEAN_TOOLS))  # per check: TARGET::CHECK + one [TOOL] item per tool
    assert f"collected {total} items / {total - len(FUZZ_CHECKS)} deselected / {len(FUZZ_CHECKS)} selected" in out, out
    got = outcomes(out)
    assert set(got) == {f"cmd1::{c}[add]" for c in FUZZ_CHECKS}, out
    for check in ("no_crash", "no_hang", "valid_input_accepted", "invalid_input_rejected", "structured_output", "no_internal_leak", "stdout_clean"):
        assert got[f"cmd1::fuzz.{check}[add]"] == "PASSED", out
    assert "FAILED" not in got.values()  # the annotation checks (idempotent, read-only) skip: add has no such hint
    calls = log.read_text().split()
    assert calls and set(calls) == {"add"}, calls


def test_destructive_tool_items_are_skipped_with_the_reason(tmp_path):
    """delete_item is annotated destructiveHint: its items exist (so the report shows it) and are
    skipped with the reason, without starting a campaign."""
    log = tmp_path / "calls.log"
    cmd = shlex.join([sys.executable, str(FIXTURES / "call_log_proxy.py"), str(log), "--", *clean_stdio_cmd()])
    proc = pytest_run(tmp_path, "-v", "--mcpcheck", "--mcpcheck-campaign", "fuzz", "--mcpcheck-target", cmd, "-k", "delete_item")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    got = outcomes(out)
    assert got == {f"cmd1::{c}[delete_item]": "SKIPPED" for c in FUZZ_CHECKS}, out
    assert re.search(rf"^SKIPPED \[{len(FUZZ_CHECKS)}\] .*: not called: delete_item is annotated destructiveHint", out, flags=re.M), out
    assert not log.exists() or not log.read_text().strip()


def test_findings_about_no_listed_tool_fail_the_per_check_item(tmp_path):
    """The security campaign's probes are per tool too. Against the vulnerable fixture the
    path-traversal hit through read_note fails [read_note] only; the hit through the resource
    template notes:// (no tool) fails the plain `cmd1::security.path_traversal` item, and the
    prompt `welcome`'s template injection fails `cmd1::security.template_injection`."""
    cmd = shlex.join([sys.executable, str(FIXTURES / "vuln_server.py")])
    proc = pytest_run(tmp_path, "-v", "--mcpcheck", "--mcpcheck-campaign", "security", "--mcpcheck-target", cmd, "-k", "path_traversal or template_injection")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    got = outcomes(out)
    assert sorted(n for n, o in got.items() if o == "FAILED") == [
        "cmd1::security.path_traversal", "cmd1::security.path_traversal[read_note]",
        "cmd1::security.template_injection", "cmd1::security.template_injection[render_greeting]",
    ], out
    assert got["cmd1::security.path_traversal[echo]"] == got["cmd1::security.template_injection[echo]"] == "PASSED"
    no_tool = failure_section(out, "cmd1: security.path_traversal")
    assert "resource template 'notes://{name}'" in no_tool and "read_note" not in no_tool
    assert "prompt 'welcome'" in failure_section(out, "cmd1: security.template_injection")
    # the static listing checks stay one item per check
    listing = pytest_run(tmp_path, "--collect-only", "-q", "--mcpcheck", "--mcpcheck-campaign", "security", "--mcpcheck-target", cmd, "-k", "poisoning")
    assert re.findall(r"mcpcheck::(\S+)", listing.stdout) == ["cmd1::security.tool_poisoning"], listing.stdout


def test_unlistable_target_gets_one_item_per_check_that_fails_with_the_error(tmp_path):
    """A target that exits at once cannot be listed at collection: collection still succeeds with
    a warning, each fuzz check gets one item, and each fails with the reason."""
    cmd = shlex.join([sys.executable, "-c", "import sys; sys.exit(3)"])
    proc = pytest_run(tmp_path, "-v", "--mcpcheck", "--mcpcheck-campaign", "fuzz", "--mcpcheck-target", cmd)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert outcomes(out) == {f"cmd1::{c}": "FAILED" for c in FUZZ_CHECKS}, out
    assert "could not list the tools of cmd1 at collection" in out
    assert "target cmd1 could not be tested" in out and "exited with code 3" in out

"""No silent damage to user data (conformance/safety.py, README "Safety").

Real runs of the official-SDK clean fixture behind tests/fixtures/call_log_proxy.py, which logs
the name of every tools/call the server really received:
- before any call, mcpcheck prints which tools that can change state it will call, and where;
- `--read-only` calls only readOnlyHint tools (and says why each other one is not called, in
  the report too);
- the destructive-name heuristics a security engineer expects (git_checkout, git_reset,
  *_commit, push, send, publish, delete, drop, kill, camelCase names) and the ones that stay
  callable (reads, creates, edits)."""

import json
import os
import subprocess
import sys

import pytest

from mcpcheck.config import Safety
from mcpcheck.safety import looks_destructive, may_call, plan
from servers import FIXTURES, clean_stdio_cmd

READ_ONLY_CLEAN = {"get_item", "list_items", "place_order", "slow_echo"}  # the clean fixture's readOnlyHint tools


@pytest.mark.parametrize("name", [
    "git_checkout", "git_reset", "git_commit", "git_push", "git_rebase", "git_merge", "repo_commit", "send_email",
    "publish_package", "delete_entities", "drop_table", "kill_process", "deleteItem", "sendMessage", "rm", "revoke_token",
    "deploy", "transfer_funds", "stop_server",
])
def test_destructive_names(name):
    assert looks_destructive({"name": name}), name
    assert "looks destructive" in may_call({"name": name}, Safety())


@pytest.mark.parametrize("name", [
    "git_status", "git_log", "git_diff", "git_add", "git_show", "read_file", "write_file", "create_entities",
    "list_tables", "read_query", "get_current_time", "fetch", "echo", "get_post", "get_email", "sequentialthinking",
])
def test_not_destructive_names(name):
    assert looks_destructive({"name": name}) is None, name


def test_read_only_policy_and_plan():
    tools = [
        {"name": "get", "annotations": {"readOnlyHint": True}},
        {"name": "create"},
        {"name": "wipe_all"},
        {"name": "allowed_reset", "annotations": {"readOnlyHint": False}},
    ]
    p = plan(tools, Safety(allow_tools=["allowed_reset"]))
    assert (p.read_only, p.state_changing, list(p.skipped)) == (["get"], ["create", "allowed_reset"], ["wipe_all"])
    ro = plan(tools, Safety(read_only=True, allow_destructive=True, allow_tools=["allowed_reset"]))  # --read-only wins
    assert (ro.read_only, ro.state_changing) == (["get"], [])
    assert ro.skipped["create"] == "create is not annotated readOnlyHint (--read-only calls only read-only tools)"
    assert p.lines("srv")[0].startswith("safety: will call 2 tool(s) that can change state (no readOnlyHint) on srv: create, allowed_reset")


def _run(tmp_path, *flags):
    log = tmp_path / "calls.log"
    cmd = [sys.executable, "-m", "mcpcheck.cli", "run", "--campaign", "security", "--check", "security.data_exposure",
           "--format", "json", "--report-dir", "out", *flags, "--",
           sys.executable, str(FIXTURES / "call_log_proxy.py"), str(log), "--", *clean_stdio_cmd()]
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    called = set(log.read_text().split()) if log.exists() else set()
    return proc, called, json.loads((tmp_path / "out" / "report.json").read_text())


def test_run_announces_state_changing_tools_before_calling_them(tmp_path):
    proc, called, report = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    announce = [line for line in proc.stderr.splitlines() if "safety: will call" in line]
    assert len(announce) == 1, proc.stderr
    changing = called - READ_ONLY_CLEAN
    assert "create_item" in changing and "delete_item" not in called
    for tool in changing:  # every state-changing tool that was called had been announced, with where
        assert tool in announce[0], (tool, announce[0])
    assert "fresh temporary working directory" in announce[0]
    assert proc.stderr.index("safety: will call") < proc.stderr.index("security probes")  # before any call
    notes = report["targets"][0]["notes"]
    assert any(n.startswith("safety: will call") for n in notes)
    assert any(n.startswith("safety: not calling delete_item: delete_item is annotated destructiveHint") for n in notes)


def test_read_only_calls_only_read_only_tools(tmp_path):
    proc, called, report = _run(tmp_path, "--read-only")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert called and called <= READ_ONLY_CLEAN, called
    assert "safety: will call" not in proc.stderr
    notes = report["targets"][0]["notes"]
    assert any(n == "safety: not calling create_item: create_item is not annotated readOnlyHint (--read-only calls only read-only tools)" for n in notes), notes

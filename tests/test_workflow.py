"""Workflows over two real servers: @modelcontextprotocol/server-memory (npm) and the key-value
fixture (official Python SDK). The clean pair passes; a broken key-value server fails with a
step-level message; a strategy-driven workflow is property-tested and shrinks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcpcheck.campaigns.context import CampaignContext
from mcpcheck.config import ConfigError, make_target
from mcpcheck.workflow import load_workflow_file, parse_workflows, property_test, run_workflow_sync
from mcpcheck.workflow.campaign import run_workflow_files
from mcpcheck.report.model import TargetResult

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
MEMORY_BIN = ROOT / "tests" / "thirdparty" / "node_modules" / ".bin" / "mcp-server-memory"

@pytest.fixture
def npm_servers():
    """Install the pinned npm servers on first use (a fresh clone has none yet); skip only when
    npm itself is missing."""
    from servers import NpmUnavailable, ensure_npm_servers

    try:
        ensure_npm_servers()
    except NpmUnavailable as exc:
        pytest.skip(str(exc))
    assert MEMORY_BIN.exists(), MEMORY_BIN


needs_memory = pytest.mark.usefixtures("npm_servers")


def workflow_doc(tmp: Path, kv_flags: list[str] | None = None, memory_file: str = "memory.jsonl") -> dict:
    return {
        "name": "remember-and-store",
        "targets": {
            "memory": {"command": [str(MEMORY_BIN)], "env": {"MEMORY_FILE_PATH": str(tmp / memory_file)}},
            "kv": {"command": [sys.executable, str(FIX / "load_kv_server.py"), *(kv_flags or [])]},
        },
        "vars": {"kind": "person"},
        "steps": [
            {   # missing key -> isError -> recovery step stores it, the step is retried
                "id": "greeting", "target": "kv", "tool": "get", "args": {"key": "greeting"},
                "on_error": {"tool": "put", "args": {"key": "greeting", "value": "HELLO"}},
                "expect": [{"equals": {"path": "$.structuredContent.value", "value": "HELLO"}}],
            },
            {
                "id": "create", "target": "memory", "tool": "create_entities",
                "args": {"entities": [{"name": {"$draw": {"type": "string", "pattern": "^[a-z]{3,10}$"}},
                                       "entityType": "${vars.kind}", "observations": ["made by mcpcheck"]}]},
                "expect": [
                    {"schema": {"type": "object", "required": ["entities"], "properties": {"entities": {"type": "array", "minItems": 1}}}},
                    {"jsonpath": {"path": "$.structuredContent.entities[*].name", "count": 1, "matches": "^[a-z]+$"}},
                ],
            },
            {
                "id": "store", "target": "kv", "tool": "put",
                "args": {"key": "${steps.create.structuredContent.entities[0].name}",
                         "value": "${steps.create.structuredContent.entities[0].entityType}"},
                "expect": [{"jsonpath": {"path": "$.structuredContent.version", "exists": True}}],
            },
            {
                "id": "read", "target": "memory", "tool": "open_nodes",
                "args": {"names": ["${steps.create.structuredContent.entities[0].name}"]},
                "expect": [{"equals": {"path": "$.structuredContent.entities[0].entityType", "value": "${vars.kind}"}},
                           {"contains": {"path": "$.text", "value": "made by mcpcheck"}}],
            },
            {
                "id": "fetch", "target": "kv", "tool": "get", "args": {"key": "${steps.store.structuredContent.key}"},
                "expect": [{"equals": {"path": "$.structuredContent.value", "value": "${steps.read.structuredContent.entities[0].entityType}"}}],
            },
        ],
        "consistency": [
            {"name": "kv holds what memory holds", "left": "${steps.read.structuredContent.entities[0].entityType}",
             "right": "${steps.fetch.structuredContent.value}"},
            {"name": "the key is listed", "left": ["${steps.store.structuredContent.key}"], "right": "${steps.create.structuredContent.entities[*].name}", "op": "subset"},
        ],
    }


def write(tmp: Path, doc: dict, name: str = "pair.workflow.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def test_workflow_file_errors_are_one_clear_line(tmp_path):
    doc = workflow_doc(tmp_path)
    doc["steps"][1]["expect"][0]["shcema"] = {}
    with pytest.raises(ConfigError, match=r"steps\.1\.expect\.0\.shcema"):
        parse_workflows(doc, "x.yaml")
    doc = workflow_doc(tmp_path)
    doc["steps"][2]["target"] = "nope"
    with pytest.raises(ConfigError, match="unknown target 'nope'"):
        parse_workflows(doc, "x.yaml")


@needs_memory
def test_multi_server_workflow_passes_with_recovery_and_consistency(tmp_path):
    (wf,) = load_workflow_file(write(tmp_path, workflow_doc(tmp_path)))
    res = run_workflow_sync(wf)
    assert res.passed, res.failure
    status = {s.id: s.status for s in res.steps}
    assert status == {"greeting": "recovered", "create": "passed", "store": "passed", "read": "passed", "fetch": "passed"}
    assert "put" in res.steps[0].recovery and res.steps[0].recovery.endswith("ok")
    name = res.draws["create.entities[0].name"]
    assert res.steps[2].args == {"key": name, "value": "person"}  # context passed between servers
    assert all(c["passed"] for c in res.consistency)


@needs_memory
def test_broken_variant_fails_with_a_step_level_message(tmp_path):
    path = write(tmp_path, workflow_doc(tmp_path, ["--lossy"]))
    (out,) = run_workflow_files([path])
    assert not out.passed
    assert out.failure.startswith("workflow 'remember-and-store' step 'fetch' (kv: tools/call get): expectation 1 "
                                  "(equals $.structuredContent.value): expected 'person', got 'PERSON'"), out.failure
    assert [s.status for s in out.result.steps][-1] == "failed"
    # as a campaign: the failure is a finding naming the step, with wire evidence
    ctx = CampaignContext(target=make_target(name="kv", command=[sys.executable, str(FIX / "load_kv_server.py")]), campaign="workflow")
    ctx.judge_run("workflow", out)  # every workflow check of the registry (mcpcheck.workflow.campaign)
    (f,) = ctx.findings
    assert f.check == "workflow.step" and "step 'fetch'" in f.detail and f.evidence and f.tool == "get"


def test_strategy_driven_workflow_is_property_tested_and_shrinks(tmp_path):
    doc = {
        "name": "kv-roundtrip",
        "targets": {"kv": {"command": [sys.executable, str(FIX / "load_kv_server.py"), "--truncate", "5"]}},
        "steps": [
            {"id": "put", "tool": "put", "args": {"key": "k", "value": {"$draw": {"type": "string", "pattern": "^[a-z]{1,12}$"}}}},
            {"id": "get", "tool": "get", "args": {"key": "k"},
             "expect": [{"equals": {"path": "$.structuredContent.value", "value": "${draws.put.value}"}}]},
        ],
    }
    (wf,) = parse_workflows(doc)
    assert wf.uses_strategies
    res = property_test(wf, max_examples=40, seed=1)
    assert not res.passed
    assert res.minimal == {"put.value": "aaaaaa"}, res.minimal  # shrunk: the shortest value that gets truncated
    assert "step 'get' (kv: tools/call get): expectation 1" in res.failure and "got 'aaaaa'" in res.failure
    # the same workflow against an honest server holds for every example
    doc["targets"]["kv"]["command"] = [sys.executable, str(FIX / "load_kv_server.py")]
    (ok,) = parse_workflows(doc)
    good = property_test(ok, max_examples=10, seed=1)
    assert good.passed and good.examples == 10


@needs_memory
def test_workflows_run_as_pytest_items(tmp_path):
    write(tmp_path, workflow_doc(tmp_path), "good.workflow.yaml")
    write(tmp_path, workflow_doc(tmp_path, ["--lossy"], "bad.jsonl") | {"name": "lossy-pair"}, "bad.workflow.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "mcpcheck.workflow.pytest_plugin", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "workflow 'lossy-pair' step 'fetch' (kv: tools/call get)" in out
    assert "steps: greeting=recovered, create=passed, store=passed, read=passed, fetch=failed" in out


def test_workflow_campaign_binds_the_run_target(tmp_path):
    doc = {
        "name": "kv-basic",
        "targets": {"target": "kv"},  # the campaign's own target
        "steps": [{"id": "p", "tool": "put", "args": {"key": "a", "value": "x"}},
                  {"id": "g", "tool": "get", "args": {"key": "a"}, "expect": [{"equals": {"path": "$.json.value", "value": "x"}}]}],
    }
    path = write(tmp_path, doc, "basic.workflow.yaml")
    import asyncio

    from mcpcheck.workflow.campaign import run_workflow

    from mcpcheck.registry import REGISTRY, check

    seen = []

    @check("test.workflow_outcome_seen", category="workflow.step", severity="low", scope="run", campaign="workflow",
           title="a plugin's run check gets every workflow outcome")
    def seen_check(ctx, outcome):
        seen.append(outcome.workflow.name)
        return []

    ctx = CampaignContext(target=make_target(name="kv", command=[sys.executable, str(FIX / "load_kv_server.py")]), campaign="workflow")
    ctx.workflow_files = [str(path)]
    try:
        outs = asyncio.run(run_workflow(ctx, TargetResult(name="kv", transport="stdio", description="kv")))
    finally:
        REGISTRY.remove("test.workflow_outcome_seen")
    assert outs[0].passed, outs[0].failure
    assert seen == ["kv-basic"] and ctx.ledger[("test.workflow_outcome_seen", None)].status == "passed"
    assert ctx.ledger[("workflow.step", None)].status == "passed"
    # run once, no consistency assertions: the other two judged nothing and say why
    prop, cons = ctx.ledger[("workflow.property", None)], ctx.ledger[("workflow.consistency", None)]
    assert prop.status == "skipped" and "not property-tested" in prop.reason
    assert cons.status == "skipped" and "no consistency assertions" in cons.reason
    assert json.loads(json.dumps(outs[0].to_dict()))["run"]["steps"][1]["status"] == "passed"


def test_workflow_command_prints_steps_and_exit_codes(tmp_path):
    from mcpcheck.workflow.cli import main

    doc = {"name": "kv-cli", "targets": {"kv": {"command": [sys.executable, str(FIX / "load_kv_server.py"), "--lossy"]}},
           "steps": [{"id": "p", "tool": "put", "args": {"key": "a", "value": "x"}},
                     {"id": "g", "tool": "get", "args": {"key": "a"}, "expect": [{"equals": {"path": "$.structuredContent.value", "value": "x"}}]}]}
    path = write(tmp_path, doc, "cli.workflow.yaml")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([str(path), "--report-dir", str(tmp_path / "out")])
    assert code == 1
    text = buf.getvalue()
    assert "FAIL kv-cli" in text and "failed    g" in text and "expected 'x', got 'X'" in text
    saved = json.loads((tmp_path / "out" / "workflows.json").read_text())
    assert saved[0]["passed"] is False and saved[0]["run"]["steps"][0]["status"] == "passed"
    assert main([str(tmp_path / "missing.yaml")]) == 2

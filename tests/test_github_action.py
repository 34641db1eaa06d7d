"""The composite GitHub Action (action.yml): its shell steps run here, in bash, with the inputs
passed the way the runner passes them (environment variables), against the tiny test server.
The `uses:` steps (setup-python, upload-sarif, upload-artifact) are GitHub's and are only checked
for their wiring. docs/github-actions.md shows the same commands in a plain workflow."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcpcheck.report.model import RunReport

import report_views as rv

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="no bash")


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def expand(value: str, inputs: dict[str, str], extra: dict[str, str]) -> str:
    """`${{ inputs.x }}` / `${{ github.action_path }}` as the runner would substitute them."""

    def sub(m: re.Match) -> str:
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        return extra.get(expr, "")  # steps.*.outputs: given by the test through extra_env

    return re.sub(r"\$\{\{(.*?)\}\}", sub, value)


def run_step(name: str, workdir: Path, overrides: dict[str, str], *, extra_env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    s = step(name)
    inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    inputs.update(overrides)
    out = workdir / "github_output"
    out.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # python, mcpcheck
    env["GITHUB_OUTPUT"] = str(out)
    env.update({k: expand(str(v), inputs, {"github.action_path": str(ROOT)}) for k, v in (s.get("env") or {}).items()})
    env.update(extra_env or {})
    proc = subprocess.run([BASH, "-e", "-c", s["run"]], cwd=workdir, env=env, capture_output=True, text=True, timeout=180)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return proc, outputs


def test_action_wiring():
    assert ACTION["runs"]["using"] == "composite"
    uses = [s["uses"] for s in ACTION["runs"]["steps"] if "uses" in s]
    assert uses == ["actions/setup-python@v5", "github/codeql-action/upload-sarif@v3", "actions/upload-artifact@v4"]
    for s in ACTION["runs"]["steps"]:
        if "run" in s:
            assert s["shell"] == "bash"
            assert "${{" not in s["run"], f"step {s['name']!r}: inputs must reach the script through env only"
    sarif = step("Upload SARIF to code scanning")
    assert sarif["with"]["sarif_file"] == "${{ steps.run.outputs.sarif }}" and "always()" in sarif["if"]
    assert set(ACTION["outputs"]) == {"exit-code", "status", "score", "report-dir"}


@needs_bash
def test_install_step_installs_this_checkout(tmp_path):
    # pip is real; --dry-run/--no-index keep it offline and leave the environment as it is
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(
        f'#!/bin/sh\nif [ "$1 $2 $3" = "-m pip install" ]; then shift 3; exec "{sys.executable}" -m pip install --dry-run --no-deps --no-build-isolation --no-index "$@"; fi\nexec "{sys.executable}" "$@"\n'
    )
    (shim / "python").chmod(0o755)
    proc, _ = run_step("Install mcpcheck", tmp_path, {}, extra_env={"PATH": f"{shim}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^mcpcheck \S+$", proc.stdout, re.M)


@needs_bash
def test_run_step_against_a_real_server(tmp_path):
    cmd = rv.server_cmd(tmp_path)
    args = "--check errors.unknown_method --protocol 2025-11-25 --timeout 5 -q"
    proc, outputs = run_step("Run mcpcheck", tmp_path, {"command": " ".join(cmd), "args": args, "gate": "true", "fail-on": "medium"})
    assert proc.returncode == 0, proc.stderr  # the step records the code; the Verdict step fails the job
    assert outputs["exit-code"] == "0" and outputs["status"] == "READY" and outputs["score"] == "98.0"
    report_dir = tmp_path / outputs["report-dir"]
    assert sorted(p.name for p in report_dir.iterdir()) == ["junit.xml", "mcpcheck.sarif", "report.html", "report.json", "report.md"]
    assert outputs["sarif"] == "mcpcheck-report/mcpcheck.sarif"
    report = RunReport.model_validate_json((report_dir / "report.json").read_text())
    assert report.command[-len(cmd):] == cmd and "--gate" in report.command
    # without the gate, --fail-on low fails; a bad gate value is refused before running
    proc, outputs = run_step("Run mcpcheck", tmp_path, {"command": " ".join(cmd), "args": args, "gate": "false", "fail-on": "low"})
    assert proc.returncode == 0 and outputs["exit-code"] == "1" and outputs["status"] == "NOT READY"  # the verdict is the exit code
    proc, outputs = run_step("Run mcpcheck", tmp_path, {"command": " ".join(cmd), "gate": "maybe"})
    assert proc.returncode == 2 and "input gate must be true, false or empty" in proc.stdout
    # the verdict step turns the recorded code into the job's result
    for code in ("0", "1"):
        verdict, _ = run_step("Verdict", tmp_path, {}, extra_env={"MCPCHECK_EXIT_CODE": code})
        assert verdict.returncode == int(code)

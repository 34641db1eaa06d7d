"""One import root, proved on installed copies: a wheel in a fresh venv, the editable install,
the console script and the pytest plugin; and the example plugin installed from examples/ into
that venv reports its finding in report.json, SARIF and JUnit.

The fresh venv installs mcpcheck's wheel with its dependencies from the configured package
index (about a minute); the example plugin goes in with --no-build-isolation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from servers import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
TERSE = str(FIXTURES / "terse_server.py")


def sh(*cmd: str, cwd: Path, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pkg")
    wheels = tmp / "wheels"
    built = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT), cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("mcpcheck-*.whl")
    env_dir = tmp / "venv"
    assert sh(sys.executable, "-m", "venv", str(env_dir), cwd=tmp).returncode == 0
    py = env_dir / "bin" / "python"
    inst = sh(str(py), "-m", "pip", "install", "-q", str(wheel), cwd=tmp, timeout=900)
    assert inst.returncode == 0, inst.stderr[-3000:]
    ex = sh(str(py), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", str(ROOT / "examples" / "short-descriptions"), cwd=tmp)
    if ex.returncode != 0:  # --no-build-isolation needs setuptools in the venv
        sh(str(py), "-m", "pip", "install", "-q", "setuptools", cwd=tmp)
        ex = sh(str(py), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", str(ROOT / "examples" / "short-descriptions"), cwd=tmp)
    assert ex.returncode == 0, ex.stderr[-3000:]
    return env_dir


def test_wheel_installs_one_import_root(venv, tmp_path):
    py = str(venv / "bin" / "python")
    code = "import mcpcheck, mcpcheck.strategies, mcpcheck.cli; print(mcpcheck.__file__); print(sorted(mcpcheck.__all__)[:3])"
    out = sh(py, "-c", code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "site-packages/mcpcheck/__init__.py" in out.stdout
    for name in ("conformance", "strategies"):
        gone = sh(py, "-c", f"import {name}", cwd=tmp_path)
        assert gone.returncode != 0 and "No module named" in gone.stderr, f"{name} importable from the wheel"


def test_console_script_and_pytest_plugin_from_the_wheel(venv, tmp_path):
    out = sh(str(venv / "bin" / "mcpcheck"), "list-checks", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {r["id"]: r for r in json.loads(out.stdout)}
    assert rows["jsonrpc.response_shape"]["origin"] == "mcpcheck"
    assert rows["example.short_description"]["origin"].startswith("mcpcheck-short-descriptions")
    plugin = sh(str(venv / "bin" / "python"), "-m", "pytest", "--help", cwd=tmp_path)
    assert "--mcpcheck-target" in plugin.stdout, plugin.stderr


def test_example_plugin_finding_in_every_view(venv, tmp_path):
    """The README's way: installed next to mcpcheck, the example's finding reaches report.json,
    SARIF and JUnit (the server is the official-SDK fixture, run by this test's Python). `--check`
    selects the plugin's check by its id (a listing check: the era detection and the listing walk
    are the whole run; the full conformance campaign proved nothing more here, in ~50 s)."""
    out = sh(str(venv / "bin" / "mcpcheck"), "run", "--quiet", "--fail-on", "critical", "--check", "example.short_description", "--format", "json,sarif,junit",
             "--report-dir", str(tmp_path / "r"), "--", sys.executable, TERSE, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    mine = [(f["check"], f["tool"], f["severity"], f["category"]) for f in report["findings"] if f["check"] == "example.short_description"]
    assert sorted(set(mine)) == [("example.short_description", "add", "low", "tool.schema")]
    sarif = json.loads(next((tmp_path / "r").glob("*.sarif")).read_text())
    run = sarif["runs"][0]
    assert "example.short_description" in {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert any(r["ruleId"] == "example.short_description" for r in run["results"])
    junit = ET.parse(next((tmp_path / "r").glob("*.xml"))).getroot()
    cases = [c for c in junit.iter("testcase") if c.get("name", "").startswith("example.short_description")]
    assert cases and any(c.find("failure") is not None for c in cases)


def test_editable_install_has_one_root_too(tmp_path):
    """This checkout's own .venv is the editable install (README command 2)."""
    for name, ok in (("mcpcheck.strategies", True), ("conformance", False), ("strategies", False)):
        out = sh(sys.executable, "-c", f"import {name}", cwd=tmp_path)
        assert (out.returncode == 0) == ok, (name, out.stderr)


def _packages(folder: Path, root: str) -> set[str]:
    out = set()
    for init in folder.rglob("__init__.py"):
        rel = init.parent.relative_to(folder)
        out.add(root if rel == Path(".") else root + "." + ".".join(rel.parts))
    return out


def test_every_package_folder_is_in_the_wheel_list():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert listed == _packages(ROOT / "conformance", "mcpcheck") | _packages(ROOT / "strategies", "mcpcheck.strategies")

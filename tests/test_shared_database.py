"""MCPCHECK_HYPOTHESIS_DB: nightly machines share Hypothesis' example database as a cache. A real
fuzz run against the seeded-bug server writes into it and a second run replays from it, without
the randomness a database needs (derandomize must be off) escaping as a traceback."""

import json
import shlex
import sys
from pathlib import Path

from mcpcheck import cli
from mcpcheck.report.model import RunReport

BUGGY = [sys.executable, str(Path(__file__).resolve().parent / "fixtures" / "buggy_tools_server.py")]


def test_fuzz_runs_fill_and_reuse_a_shared_directory_database(tmp_path, monkeypatch, capsys):
    db = tmp_path / "hypothesis-db"
    monkeypatch.setenv("MCPCHECK_HYPOTHESIS_DB", f"dir:{db}")
    monkeypatch.chdir(tmp_path)
    # one tool of the seeded-bug server is enough (ratio: its b=0 answer breaks its outputSchema,
    # found and shrunk in a second); the others' hangs and crashes only add minutes
    command = " ".join(shlex.quote(c) for c in BUGGY)
    (tmp_path / "mcpcheck.toml").write_text(f"[targets.buggy]\ncommand = {json.dumps(command)}\n\n[targets.buggy.safety]\nonly_tools = [\"ratio\"]\n")
    argv = ["run", "--campaign", "fuzz", "--quiet", "--max-examples", "3", "--protocol", "2025-11-25", "--timeout", "5", "--corpus", str(tmp_path / "corpus")]
    assert cli.main(argv) == 1
    stored = {p for p in db.rglob("*") if p.is_file()}
    assert stored, "the campaign wrote nothing into the shared database"
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    report = RunReport.model_validate_json((tmp_path / "mcpcheck-report" / "report.json").read_text())
    assert report.findings and report.targets[0].error is None
    assert {f.check for f in report.findings} == {"fuzz.structured_output"}  # only ratio was called: the target config was used


def test_a_bad_database_setting_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MCPCHECK_HYPOTHESIS_DB", "ftp://nowhere")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["fuzz", "--quiet", "--max-examples", "2", "--protocol", "2025-11-25", "--", *BUGGY])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("mcpcheck: error: MCPCHECK_HYPOTHESIS_DB='ftp://nowhere'") and err.count("\n") == 1

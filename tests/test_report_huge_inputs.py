"""A crash on a 1-8 MiB string (the fuzz campaign's `strings` probes) keeps the whole string in
its corpus entry, while every report view shows a bounded preview that names that entry
(report.build.bounded_inputs). Real server: tests/fixtures/limits_server.py (official SDK),
whose `summarize` dies past 512 KiB and whose `ingest` dies once 1 MiB is held."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.report import write_reports
from mcpcheck.report.build import LONG_INPUT, build_report
from servers import FIXTURES

LIMITS = str(FIXTURES / "limits_server.py")


def test_huge_crash_inputs_are_previewed_in_reports_and_kept_whole_in_the_corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = FuzzSettings(max_examples=2, modes=("strings",), write_corpus=True, corpus_dir="corpus")
    target = make_target(name="limits", command=[sys.executable, LIMITS], timeout=5)
    outcomes = runner.run([target], ["fuzz"], fuzz_settings=cfg, only=["fuzz.resource_limits"], corpus_dir="corpus")
    assert outcomes[0].result.error is None, outcomes[0].result.error
    big = [f for f in outcomes[0].findings if f.check == "fuzz.resource_limits" and f.tool == "summarize"]
    assert big and big[0].severity > Severity.info, [(f.check, f.tool, f.detail) for f in outcomes[0].findings]
    whole = big[0].input  # the runner's finding keeps the whole input
    size = max(len(v) for v in whole.values() if isinstance(v, str))
    assert size >= 1024 * 1024

    report = build_report(outcomes, command=["mcpcheck", "run"], names=["fuzz"], fail_on=Severity.high,
                          started=dt.datetime.now(dt.timezone.utc), duration=1.0)
    written = write_reports(report, tmp_path / "out", ["json", "markdown", "html", "junit", "sarif"])
    for path in written:
        assert path.stat().st_size < 200_000, (path.name, path.stat().st_size)  # not megabytes per finding

    shown = next(f for f in report.findings if f.id == big[0].id).input
    text = next(v for v in shown.values() if isinstance(v, str) and "bytes;" in v)
    assert len(text) < LONG_INPUT and f"({size} bytes; full input in " in text, text[:400]
    file = text.rsplit("full input in ", 1)[1].rstrip(")")
    assert file in {c.file for c in report.targets[0].corpus}
    stored = json.loads(Path(file).read_text(encoding="utf-8"))
    assert stored["arguments"] == whole  # every byte is in the corpus entry
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert f"{size} bytes; full input in {file}" in md

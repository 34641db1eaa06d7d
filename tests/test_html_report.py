"""HTML view: one self-contained page opened in a real headless Chromium (Debian's `chromium`);
the finding count, verdict and tables are read back from the rendered DOM. Also: every view of
the same real run agrees (JSON, Markdown, JUnit, SARIF, HTML)."""

import base64
import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcpcheck.report import write_reports
from mcpcheck.report.html import render_html
from mcpcheck.report.model import CorpusRef

import report_views as rv

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium on this machine (apt-get install chromium)")
# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#08c"/></svg>'


def dump_dom(path: Path) -> str:
    """The DOM Chromium built from the file (what a person would see), as HTML text."""
    with tempfile.TemporaryDirectory(prefix="mcpcheck-chromium-") as profile:
        proc = subprocess.run(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", path.resolve().as_uri()],
            capture_output=True, text=True, timeout=90,
        )
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def attr(dom: str, name: str) -> list[str]:
    return re.findall(rf'{name}="([^"]*)"', dom)


def self_contained(page: str) -> None:
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r'\b(src|href)="(?!#|data:)', page), "every asset inline, every link in-page"


@needs_browser
def test_real_run_page_in_chromium():
    run = rv.real_run()
    report = run.report
    page = (run.dir / "report.html").read_text(encoding="utf-8")
    self_contained(page)
    dom = dump_dom(run.dir / "report.html")
    assert attr(dom, "data-findings-count") == [str(len(report.findings))] == ["2"]
    assert attr(dom, "data-status") == [report.gate.status] and attr(dom, "data-score") == [f"{report.gate.score:g}"]
    assert sorted(attr(dom, "data-finding-id")) == sorted(f.id for f in report.findings)
    # executive summary first, then findings
    assert dom.index('id="summary"') < dom.index('id="targets"') < dom.index('id="findings"')
    assert "What to fix first" in dom and "Top findings" in dom
    # the constraint table of the real fuzz run: `maximum` is not enforced by set_volume
    table = dom.split('id="constraints"')[1].split("</section>")[0]
    row = next(r for r in table.split("<tr>") if "<code>maximum</code>" in r)
    assert "set_volume" in row and "NOT enforced" in row
    assert "<code>type</code>" in table
    # the corpus entry written by the fuzz campaign
    [entry] = report.targets[0].corpus
    assert entry.check == "fuzz.invalid_input_rejected" and Path(run.workdir, entry.file).is_file()
    assert attr(dom, "data-corpus-count") == ["1"] and entry.file in dom


@needs_browser
def test_charts_suppressed_and_hostile_text_in_chromium(tmp_path):
    charts = tmp_path / "out" / "load" / "srv"
    charts.mkdir(parents=True)
    (charts / "latency_over_time.svg").write_text(SVG)
    (charts / "latency_over_time.png").write_bytes(PNG)  # the SVG is preferred
    (charts / "server_resources.png").write_bytes(PNG)
    hostile = rv.finding("jsonrpc.response_shape", "high", '<script>alert(1)</script> <img src="http://evil/x"> \x00\ud800')
    perf = rv.finding("load.slo", "high", "p99 820 ms > 500 ms", category="performance.latency")
    report = rv.synthetic(
        [hostile, perf], constraints=rv.volume_constraints(), notes=["load: figures and charts in mcpcheck-report/load/srv"],
        corpus=[CorpusRef(file="corpus/srv/fuzz.invalid_input_rejected-0123.json", check="fuzz.invalid_input_rejected", tool="set_volume", mode="invalid", first_seen="2026-01-01", status="still failing")],
    )
    [path] = write_reports(report, tmp_path / "out", ["html"])
    page = path.read_text(encoding="utf-8")
    self_contained(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "\\x00" in page and "\\ud800" in page
    dom = dump_dom(path)
    assert "<script" not in dom  # the server's text stayed text
    imgs = re.findall(r"<img\b[^>]*>", dom)
    assert len(imgs) == 2 and all('src="data:' in i for i in imgs)
    assert attr(dom, "data-findings-count") == ["2"] and attr(dom, "data-status") == ["NOT READY"]
    # a blocker, named with its check: by the --fail-on policy (default) or, with --gate, as an SLO breach
    assert "finding (at or above --fail-on high): load.slo" in dom or "performance SLO breach: load.slo" in dom
    assert attr(dom, "data-chart") == ["latency_over_time", "server_resources"]
    srcs = [re.search(r'src="([^"]*)"', i).group(1) for i in imgs]
    assert srcs[0].startswith("data:image/svg+xml;base64,") and base64.b64decode(srcs[0].split(",", 1)[1]).decode() == SVG
    assert srcs[1].startswith("data:image/png;base64,")
    table = dom.split('id="constraints"')[1].split("</section>")[0]
    assert "1 of 2 constraints enforced" in table and "not called: wipe is annotated destructiveHint" in table
    assert "still failing" in dom.split('id="corpus"')[1]
    # `mcpcheck report report.json --format html` finds the charts beside the saved report
    write_reports(report, tmp_path / "out", ["json"])
    code, out, err = rv.mcpcheck(tmp_path, "report", str(tmp_path / "out" / "report.json"), "--format", "html")
    assert code == 0, err
    assert out == page


def test_constraint_table_from_notes_of_an_older_report_and_no_optional_sections():
    notes = ["fuzz: add [hypothesis-jsonschema] 50 calls; constraints: maximum=NOT enforced, type=enforced"]
    page = render_html(rv.synthetic([], notes=notes))
    table = page.split('id="constraints"')[1].split("</section>")[0]
    assert "1 of 2 constraints enforced" in table and "<code>add</code>" in table
    bare = render_html(rv.synthetic([]))
    for section in ('id="constraints"', 'id="load"', 'id="corpus"', 'id="suppressed"'):
        assert section not in bare
    assert 'data-findings-count="0"' in bare and 'data-status="READY"' in bare
    self_contained(bare)


def test_every_view_of_the_real_run_agrees():
    run = rv.real_run()
    report = run.report
    assert run.code == report.exit_code
    names = sorted(p.name for p in run.dir.iterdir())
    assert names == ["junit.xml", "mcpcheck.sarif", "report.html", "report.json", "report.md"]
    md = (run.dir / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# mcpcheck report") and md.index("## Executive summary") < md.index("## Findings")
    assert f"**{report.gate.status}**" in md and "What to fix first:" in md
    assert all(f.id in md for f in report.findings)
    assert "## Constraint enforcement (fuzz)" in md and "NOT enforced" in md and "## Corpus entries" in md
    root = ET.fromstring((run.dir / "junit.xml").read_bytes())
    assert int(root.get("tests")) == len(report.checks)
    assert int(root.get("failures")) == len({(f.target, f.check, f.revision) for f in report.findings})
    sarif = json.loads((run.dir / "mcpcheck.sarif").read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == len(report.findings)
    assert f'data-findings-count="{len(report.findings)}"' in (run.dir / "report.html").read_text(encoding="utf-8")
    # console: the executive summary first, the verdict last (here with -q only the verdict)
    assert run.stdout.strip().startswith(("PASS:", "FAIL:"))

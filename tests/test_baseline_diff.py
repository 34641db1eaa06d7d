"""Baselines (accepted findings with a reason and an optional expiry), `mcpcheck diff`, and
`mcpcheck run --fail-on-new`: on synthetic reports and on real runs of the tiny server."""

import datetime as dt
import json

import pytest

from mcpcheck.baseline import Baseline, BaselineError, Suppression, apply_baseline, diff_reports, load_baseline
from mcpcheck.gate import finalize
from mcpcheck.report.model import RunReport

import report_views as rv

TODAY = dt.date(2026, 6, 1)


def findings():
    return [
        rv.finding("errors.unknown_method", "medium", "unknown method succeeded"),
        rv.finding("fuzz.invalid_input_rejected", "medium", "level 11 accepted", category="tool.input_validation", tool="set_volume"),
        rv.finding("fuzz.invalid_input_rejected", "medium", "level 12 accepted", category="tool.input_validation", tool="other"),
        rv.finding("sec.canary", "critical", "canary created", category="security.command_injection", tool="run"),
    ]


def test_suppress_by_id_by_check_target_tool_and_expiry():
    fs = findings()
    baseline = Baseline(
        file="mcpcheck-baseline.toml",
        suppress=[
            Suppression(id=fs[0].id, reason="upstream SDK, #12"),
            Suppression(check="fuzz.*", target="srv", tool="set_volume", reason="range checks next sprint", expires=dt.date(2026, 12, 31)),
            Suppression(check="sec.canary", reason="was accepted once", expires=dt.date(2026, 1, 1)),  # expired
            Suppression(check="nothing.matches", reason="stale"),
        ],
    )
    kept, obs, suppressed, status = apply_baseline(fs, [], baseline, today=TODAY)
    assert [f.id for f in kept] == [fs[2].id, fs[3].id]  # other tool; expired entry no longer suppresses
    assert [(s.finding.id, s.reason, s.expires) for s in suppressed] == [
        (fs[0].id, "upstream SDK, #12", None),
        (fs[1].id, "range checks next sprint", "2026-12-31"),
    ]
    assert suppressed[1].entry == "check=fuzz.* target=srv tool=set_volume"
    assert status.suppressed == 2
    assert status.expired == ["check=sec.canary expired 2026-01-01 (was accepted once)"]
    assert status.unused == ["check=nothing.matches"]


def test_suppressed_findings_leave_the_exit_code_and_the_gate():
    fs = findings()
    report = rv.synthetic(fs[:2], fail_on="medium")
    assert report.exit_code == 1
    baseline = Baseline(file="b.toml", suppress=[Suppression(check="*", reason="all accepted")])
    done = finalize(report, baseline=baseline, enabled=True)
    assert done.findings == [] and len(done.suppressed) == 2
    assert done.exit_code == 0 and done.gate.status == "READY" and done.gate.score == 100.0
    assert done.summary.findings_by_severity["medium"] == 0
    again = RunReport.model_validate_json(done.model_dump_json())  # round-trips
    assert again.suppressed[0].finding.id == fs[0].id
    # JUnit: no failure, but the accepted findings are shown with the baseline's reason
    import xml.etree.ElementTree as ET

    from mcpcheck.report.junit import render_junit

    root = ET.fromstring(render_junit(done).encode())
    assert root.get("failures") == "0"
    shown = " ".join(e.text or "" for e in root.iter("system-out"))
    assert shown.count("[suppressed by the baseline: all accepted]") == 2


def test_baseline_files_toml_json_and_errors(tmp_path):
    toml = tmp_path / "mcpcheck-baseline.toml"
    toml.write_text('[[suppress]]\nid = "a:1"\nreason = "ok"\nexpires = 2027-01-31\n\n[[suppress]]\ncheck = "x.*"\ntarget = "srv"\nreason = "fine"\n')
    b = load_baseline(toml)
    assert [s.describe() for s in b.suppress] == ["id=a:1", "check=x.* target=srv"] and b.suppress[0].expires == dt.date(2027, 1, 31)
    js = tmp_path / "baseline.json"
    js.write_text(json.dumps({"suppress": [{"id": "a:1", "reason": "ok", "expires": "2027-01-31"}]}))
    assert load_baseline(js).suppress[0].expires == dt.date(2027, 1, 31)
    for text, message in [
        ('[[suppress]]\nid = "a:1"\n', "suppress.0.reason: Field required"),
        ('[[suppress]]\nreason = "why"\n', "an entry needs `id`, `check` or `category`"),
        ('[[suppress]]\nid = "a"\nreason = "r"\nexpire = 2027-01-01\n', "suppress.0.expire: Extra inputs are not permitted"),
        ("[[suppress]\n", "not valid TOML"),
    ]:
        toml.write_text(text)
        with pytest.raises(BaselineError, match=message.replace("`", "`").replace(".", r"\.")):
            load_baseline(toml)


def test_diff_new_fixed_unchanged_by_stable_id():
    fs = findings()
    old = rv.synthetic(fs[:2])
    new = rv.synthetic([fs[1], fs[2]])
    d = diff_reports(old, new, "old.json")
    assert (d.new, d.fixed, d.unchanged) == ([fs[2].id], [fs[0].id], [fs[1].id])
    # a finding suppressed in NEW is neither new nor fixed
    suppressed = finalize(new, baseline=Baseline(suppress=[Suppression(id=fs[2].id, reason="ok")]))
    d = diff_reports(old, suppressed, "old.json")
    assert (d.new, d.fixed, d.unchanged) == ([], [fs[0].id], [fs[1].id])


def test_cli_diff_and_fail_on_new_and_baseline_on_real_runs(tmp_path):
    run = rv.real_run()  # errors.unknown_method (low) + fuzz.invalid_input_rejected (medium)
    old_report = run.dir / "report.json"
    ids = {f.check: f.id for f in run.report.findings}
    assert set(ids) == {"errors.unknown_method", "fuzz.invalid_input_rejected"}

    # an earlier report with only the protocol finding: the fuzz finding is new
    older = tmp_path / "older.json"
    r = run.report
    older.write_text(r.model_copy(update={"findings": [f for f in r.findings if f.check == "errors.unknown_method"]}).model_dump_json())
    code, out, err = rv.mcpcheck(tmp_path, "diff", str(older), str(old_report))
    assert code == 1, err
    assert out.splitlines()[0] == f"{older} -> {old_report}: 1 new, 0 fixed, 1 unchanged"
    assert f"  {ids['fuzz.invalid_input_rejected']}  medium" in out
    code, out, _ = rv.mcpcheck(tmp_path, "diff", str(old_report), str(older), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["new"] == [] and data["fixed"] == [ids["fuzz.invalid_input_rejected"]]
    code, out, _ = rv.mcpcheck(tmp_path, "diff", str(older), str(old_report), "--format", "markdown")
    assert code == 1 and "**1 new**" in out and "## Fixed (0)" in out
    code, _, err = rv.mcpcheck(tmp_path, "diff", str(tmp_path / "missing.json"), str(old_report))
    assert code == 2 and err.startswith("mcpcheck: error: cannot read")

    # --fail-on-new: the same server again gates on nothing new (exit 0 even at --fail-on low)
    conf = ("conformance",)
    one = ["--check", "errors.unknown_method"]
    code, out_dir, out, err = rv.run_tiny(tmp_path / "again", "--fail-on", "low", "--fail-on-new", str(old_report), campaigns=conf, checks=one, formats="json,markdown")
    again = RunReport.model_validate_json((out_dir / "report.json").read_text())
    assert code == again.exit_code == 0, err
    assert again.diff.new == [] and again.diff.unchanged == [ids["errors.unknown_method"]]
    assert again.diff.fixed == [ids["fuzz.invalid_input_rejected"]]  # not run this time
    assert again.gate.scope == "new"
    # against a report without it, the same finding is new: exit 1
    empty = tmp_path / "empty.json"
    empty.write_text(r.model_copy(update={"findings": [], "suppressed": []}).model_dump_json())
    code, *_ = rv.run_tiny(tmp_path / "again2", "--fail-on", "low", "--fail-on-new", str(empty), campaigns=conf, checks=one, formats="json")
    assert code == 1

    # mcpcheck baseline REPORT -> a committed file; the next run suppresses everything in it
    work = tmp_path / "with-baseline"
    work.mkdir()
    code, _, err = rv.mcpcheck(work, "baseline", str(old_report), "-o", "mcpcheck-baseline.toml", "--reason", "known", "--expires", "2099-12-31")
    assert code == 0, err
    text = (work / "mcpcheck-baseline.toml").read_text()
    assert text.count("[[suppress]]") == 2 and 'reason = "known"' in text and "expires = 2099-12-31" in text
    code, out_dir, out, err = rv.run_tiny(work, "--fail-on", "low", campaigns=conf, checks=one, formats="json,markdown,sarif,html")
    rep = RunReport.model_validate_json((out_dir / "report.json").read_text())
    assert code == rep.exit_code == 0, err  # discovered ./mcpcheck-baseline.toml
    assert rep.findings == [] and [s.finding.id for s in rep.suppressed] == [ids["errors.unknown_method"]]
    assert rep.baseline.file == "mcpcheck-baseline.toml" and rep.baseline.unused == [f"id={ids['fuzz.invalid_input_rejected']}"]
    md = (out_dir / "report.md").read_text()
    assert "## Baseline and changes" in md and "accepted until 2099-12-31: known" in md
    assert 'data-suppressed-count="1"' in (out_dir / "report.html").read_text()
    # --no-baseline: back to exit 1; a broken baseline: exit 2 before anything runs
    code, *_ = rv.run_tiny(work, "--fail-on", "low", "--no-baseline", campaigns=conf, checks=one, formats="json")
    assert code == 1
    (work / "bad.toml").write_text("[[suppress]]\nid = 'x'\n")
    code, _, _, err = rv.run_tiny(work, "--baseline", "bad.toml", campaigns=conf, checks=one, formats="json")
    assert code == 2 and err.strip() == "mcpcheck: error: baseline bad.toml: suppress.0.reason: Field required"

"""One finding per root cause across protocol eras (issue 12, class 6): runner.merge_eras joins the
findings one check files with the same violation key about the same tool in two eras, even when
each era's wire answer reads differently (mcp-server-time / -git in the census: prompts/get of an
unknown prompt is answered code 0 in 2025-11-25 and -32603 in 2026-07-28, one cause: MCPServer
raises a plain error). The real servers are covered by tests/test_thirdparty.py and the census."""

from __future__ import annotations

from mcpcheck.findings import CheckSpec, Severity, Violation
from mcpcheck.runner import merge_eras

SPEC = CheckSpec("prompts.unknown", "protocol.error_codes", Severity.low, "An unknown prompt name is answered -32602")


def _f(detail: str, revision: str, key: str | None = "code"):
    return SPEC.finding(Violation(detail, key=key), target="time", revision=revision)


def test_one_cause_in_two_eras_is_one_finding_naming_the_other_eras_answer():
    first = _f("prompts/get of unknown prompt 'x': error code -32603, expected -32602", "2026-07-28")
    other = _f("prompts/get of unknown prompt 'x': error code 0, expected -32602", "2025-11-25")
    (merged,) = merge_eras([first, other])
    assert merged.id == first.id and merged.revision == "2026-07-28"  # the first era's stable id kept
    assert merged.instances == ["also in 2025-11-25: prompts/get of unknown prompt 'x': error code 0, expected -32602"]
    assert "_cause" not in merged.model_dump()  # the grouping key is not part of the report


def test_different_causes_stay_apart():
    a = _f("answered with a success result", "2026-07-28", key="success")
    b = _f("error code 0, expected -32602", "2025-11-25", key="code")
    assert len(merge_eras([a, b])) == 2
    same_era = [_f("error code 0, expected -32602", "2025-11-25"), _f("error code 1, expected -32602", "2025-11-25", key="other")]
    assert len(merge_eras(same_era)) == 2


def test_identical_detail_in_two_eras_keeps_the_plain_note():
    a, b = _f("no answer", "2026-07-28", key=None), _f("no answer", "2025-11-25", key=None)
    (merged,) = merge_eras([a, b])
    assert merged.instances == ["also in 2025-11-25"]


def test_a_merged_finding_fails_its_check_in_every_era_in_every_view():
    """The check ran in both eras and failed in both; the merged finding speaks for both: the
    console/markdown count and the report's summary agree (mcp-server-time's README run printed
    '3 failed' above a summary of 1 failed before)."""
    from mcpcheck.findings import Severity as S
    from mcpcheck.report.markdown import check_status
    from mcpcheck.report.model import RunReport, judged, summarize
    from mcpcheck.results import CheckResult

    (merged,) = merge_eras([_f("error code -32603, expected -32602", "2026-07-28"), _f("error code 0, expected -32602", "2025-11-25")])
    assert judged([merged]) == {("time", "prompts.unknown", "2026-07-28"), ("time", "prompts.unknown", "2025-11-25")}
    checks = [
        CheckResult(id="prompts.unknown", category="protocol.error_codes", severity=S.low, title="t", target="time", revision=era, status="failed", count=1)
        for era in ("2026-07-28", "2025-11-25")
    ]
    s = summarize([], checks, [merged], [])
    assert (s.checks_failed, s.checks_observed) == (2, 0)
    report = RunReport.model_construct(findings=[merged], observations=[], checks=checks)
    assert [check_status(c, report) for c in checks] == ["failed", "failed"]

"""Verdicts of the security campaign that users must be able to trust (issue 12, classes 3 and 6),
against real SDK servers:

- a path the operator gave the server (its configured directory, and our own input resolved
  under it) is no leak; a real, unrelated host path is, once per target, listing every tool;
- one leaked canary is one finding, whichever campaigns saw it (fuzz and security);
- over Streamable HTTP the GET stream is read (2026-07-28: a subscriptions/listen stream), so
  an announced change of a tool definition is a note, while a silent one stays a high rug pull.
"""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.findings import Severity

from servers import FIXTURES, _serve_on_free_port

PATHS = FIXTURES / "paths_server.py"


def _lines(outcome) -> str:
    return "\n".join(f"{f.check} {f.tool} {f.severity.value}: {f.detail[:200]}" for f in outcome.findings)


def _exposure_run(tmp_path, monkeypatch, *extra: str, only=("security.data_exposure",)):
    monkeypatch.chdir(tmp_path)  # mcpcheck's cwd holds the allowed directory, as in `... --root ./allowed`
    root = tmp_path / "allowed"
    target = make_target(name="paths", command=[sys.executable, str(PATHS), "--root", str(root), *extra], timeout=10.0)
    outcome = runner.run([target], ["security"], only=list(only))[0]
    assert outcome.result.error is None, outcome.result.error
    return outcome, root


def test_the_configured_directory_in_refusals_is_no_leak(tmp_path, monkeypatch):
    outcome, root = _exposure_run(tmp_path, monkeypatch)
    assert outcome.findings == [], _lines(outcome)
    assert [c.status for c in outcome.checks if c.id == "security.data_exposure"] == ["passed"]


def test_our_relative_traversal_input_resolved_under_the_configured_directory_is_no_leak(tmp_path, monkeypatch):
    """The census's server-filesystem shape: the planted canary folder, the server's working
    directory and mcpcheck's cwd are siblings, so the relative traversal probe is
    '../mcpcheck-plant-x/canary-secret.txt'; the server resolves it against its allowed directory
    (<cwd>/allowed) and refuses '<cwd>/mcpcheck-plant-x/canary-secret.txt', a path under mcpcheck's
    cwd that is only the operator's directory plus our own input: no leak (was a low finding)."""
    import tempfile

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # plant folder and server workdir beside `work`
    # path_traversal selected too: it plants the canary file the relative probe points at
    outcome, root = _exposure_run(work, monkeypatch, only=("security.data_exposure", "security.path_traversal"))
    assert outcome.findings == [], _lines(outcome)
    assert [c.status for c in outcome.checks if c.id == "security.data_exposure"] == ["passed"]


def test_an_unrelated_host_path_is_one_finding_that_lists_every_tool(tmp_path, monkeypatch):
    outcome, root = _exposure_run(tmp_path, monkeypatch, "--leak")
    found = [f for f in outcome.findings if f.check == "security.data_exposure"]
    assert len(found) == 1, _lines(outcome)
    f = found[0]
    assert f.severity == Severity.low and "json/decoder.py" in f.detail
    assert str(root) not in f.detail.split("leaks")[1]  # the proof is the unrelated path, not the configured one
    tools = {f.tool} | {t for t in ("allowed", "read_doc") if any(f"tool {t!r}" in line for line in f.instances)}
    assert tools == {"allowed", "read_doc"}, (f.tool, f.instances)


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_leaked_canary_is_one_finding_across_fuzz_and_security(tmp_path, monkeypatch, jobs):
    """jobs=2: fuzz and security run in different worker processes and jobs.merge folds the fuzz
    leak into the security finding (the census saw two critical findings for server-everything's
    get-env once the CLI's --jobs default became the number of cores)."""
    monkeypatch.chdir(tmp_path)
    target = make_target(name="env", command=[sys.executable, str(FIXTURES / "env_leak_server.py")], timeout=10.0)
    outcome = runner.run(
        [target], ["fuzz", "security"], only=["fuzz.no_internal_leak", "security.data_exposure"],
        fuzz_settings=FuzzSettings(max_examples=3, write_corpus=False), jobs=jobs,
    )[0]
    assert outcome.result.error is None, outcome.result.error
    found = [f for f in outcome.findings if f.tool == "get_env"]
    assert len(found) == 1, _lines(outcome)
    f = found[0]
    assert (f.check, f.severity) == ("security.data_exposure", Severity.critical) and "canary secret" in f.detail
    assert any(line.startswith("also found by fuzz.no_internal_leak") for line in f.instances), f.instances
    assert not [x for x in outcome.findings if x.check == "fuzz.no_internal_leak"], _lines(outcome)
    fuzz = [c for c in outcome.checks if c.id == "fuzz.no_internal_leak"]
    assert fuzz and all(c.status == "skipped" and "security.data_exposure" in (c.reason or "") for c in fuzz), fuzz


# ------------------------------------------------------------------ rug pulls over Streamable HTTP


def _rug_run(tmp_path, monkeypatch, mode: str, protocol: str | None):
    monkeypatch.chdir(tmp_path)
    cmd = lambda port: [sys.executable, str(FIXTURES / "rug_http_server.py"), "--port", str(port), "--mode", mode]  # noqa: E731
    with _serve_on_free_port(cmd) as url:
        target = make_target(name=f"rug-{mode}", transport="http", url=str(url), timeout=10.0, protocol=protocol)
        outcome = runner.run([target], ["security"], only=["security.rug_pull", "security.data_exposure"])[0]  # data_exposure: the probes call the tools
    assert outcome.result.error is None, outcome.result.error
    return outcome


def test_an_announced_change_on_the_get_stream_is_no_rug_pull(tmp_path, monkeypatch):
    outcome = _rug_run(tmp_path, monkeypatch, "announced", "2025-11-25")
    assert outcome.findings == [], _lines(outcome)
    assert any("announced by notifications/tools/list_changed" in n for n in outcome.result.notes), outcome.result.notes
    assert [c.status for c in outcome.checks if c.id == "security.rug_pull"] == ["passed"]


def test_a_silent_change_over_http_is_still_a_high_rug_pull(tmp_path, monkeypatch):
    outcome = _rug_run(tmp_path, monkeypatch, "silent", "2025-11-25")
    found = [f for f in outcome.findings if f.check == "security.rug_pull"]
    assert found and all(f.severity == Severity.high for f in found), _lines(outcome)
    assert "tool 'lookup' changed" in found[0].detail and "forward the conversation" in found[0].detail
    assert "may have been missed" not in found[0].detail  # the GET stream was read: no announcement came


def test_a_silent_change_in_2026_07_28_is_a_high_rug_pull_once_listened_for(tmp_path, monkeypatch):
    """2026-07-28 servers announce list changes only on a subscriptions/listen stream: the
    security campaign opens one (the SDK server acknowledges toolsListChanged), so a change
    without an announcement is judged as in the handshake era."""
    outcome = _rug_run(tmp_path, monkeypatch, "silent", "2026-07-28")
    found = [f for f in outcome.findings if f.check == "security.rug_pull"]
    assert found and all(f.severity == Severity.high for f in found), _lines(outcome)
    assert "tool 'lookup' changed" in found[0].detail and "may have been missed" not in found[0].detail


def test_an_announced_change_in_2026_07_28_on_the_listen_stream_is_no_rug_pull(tmp_path, monkeypatch):
    outcome = _rug_run(tmp_path, monkeypatch, "announced", "2026-07-28")
    assert outcome.findings == [], _lines(outcome)
    assert any("announced by notifications/tools/list_changed" in n for n in outcome.result.notes), outcome.result.notes
    assert [c.status for c in outcome.checks if c.id == "security.rug_pull"] == ["passed"]


# ------------------------------------------------------------------ 2026-07-28 rug pulls over stdio (hand-written server)

STATELESS_RUG = FIXTURES.parent / "rawservers" / "stateless_rug.py"


def _stateless_rug(tmp_path, monkeypatch, mode: str):
    monkeypatch.chdir(tmp_path)
    target = make_target(name=f"stateless-rug-{mode}", command=[sys.executable, str(STATELESS_RUG), mode], timeout=10.0)
    outcome = runner.run([target], ["security"], only=["security.rug_pull", "security.data_exposure"])[0]
    assert outcome.result.error is None, outcome.result.error
    assert outcome.result.eras == ["2026-07-28"]
    return outcome


def test_2026_07_28_listen_stream_announced_change_is_a_note(tmp_path, monkeypatch):
    outcome = _stateless_rug(tmp_path, monkeypatch, "announced")
    assert [f for f in outcome.findings if f.check == "security.rug_pull"] == [], _lines(outcome)
    assert any("announced by notifications/tools/list_changed" in n for n in outcome.result.notes), outcome.result.notes


def test_2026_07_28_unannounced_change_is_high_when_listening(tmp_path, monkeypatch):
    outcome = _stateless_rug(tmp_path, monkeypatch, "silent")
    found = [f for f in outcome.findings if f.check == "security.rug_pull"]
    assert found and all(f.severity == Severity.high for f in found), _lines(outcome)
    assert "forward the conversation" in found[0].detail and "may have been missed" not in found[0].detail


def test_2026_07_28_change_is_low_with_the_reason_when_listen_is_refused(tmp_path, monkeypatch):
    outcome = _stateless_rug(tmp_path, monkeypatch, "refused")
    found = [f for f in outcome.findings if f.check == "security.rug_pull"]
    assert found and all(f.severity == Severity.low for f in found), _lines(outcome)
    assert "subscriptions/listen was refused" in found[0].detail and "may have been missed" in found[0].detail

"""The envelope campaign (session-level JSON-RPC fuzzer) against real servers, its corpus entries
and their replay, and its pure checks."""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.envelope_fuzz import summarize_notes
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.checks import envelope as E
from mcpcheck.config import make_target
from mcpcheck.corpus import CorpusEntry, envelope_arguments, envelope_message, load_entries, save_entry
from mcpcheck.findings import CATEGORIES, Severity
from mcpcheck.registry import REGISTRY
from servers import TESTS, clean_stdio_cmd, everything_stdio_cmd, npm_available

# 2 messages per kind and era; never into ./corpus (the corpus tests below write to tmp dirs)
CFG = FuzzSettings(max_examples=10, write_corpus=False)
FATAL = {"envelope.survives", "envelope.responsive", "envelope.stdout_clean", "envelope.notification_silent", "envelope.error_shape"}
CRASH = [sys.executable, str(TESTS / "rawservers" / "envelope_crash.py")]
SMALLEST_CRASH = '{"jsonrpc":"2.0","id":{},"method":"ping"}'


def run_envelope(name: str, cmd: list[str], cfg: FuzzSettings = CFG):
    out = runner.run([make_target(name=name, command=cmd, timeout=5)], ["envelope"], fuzz_settings=cfg)[0]
    assert out.result.error is None, out.result.error
    return out


def run_replay(name: str, cmd: list[str], corpus):
    out = runner.run([make_target(name=name, command=cmd, timeout=5)], ["replay"], corpus_dir=str(corpus))[0]
    assert out.result.error is None, out.result.error
    return out


def test_registered_with_taxonomy_categories():
    runner.load_all_checks()
    assert "envelope" in runner.campaigns()
    ids = {k for k, v in REGISTRY.items() if v.campaign == "envelope"}
    assert {"envelope.parse_error", "envelope.invalid_request", "envelope.survives"} <= ids
    assert all(REGISTRY[i].category in CATEGORIES for i in ids)
    assert REGISTRY["envelope.survives"].severity == Severity.critical
    assert REGISTRY["envelope.notification_silent"].level == "MUST NOT"


def test_clean_sdk_server_survives_everything():
    """What the official SDK (mcp 2.3.0) does, recorded: it never crashes, hangs or pollutes stdout and
    never answers a notification; it answers unknown methods with -32601, and it stays SILENT on
    unparseable lines and invalid requests (info observations: JSON-RPC would answer -32700/-32600)
    and on `params: []` for a real method (low: a request with a readable id is owed an answer)."""
    out = run_envelope("clean_server", clean_stdio_cmd())
    assert not [f for f in out.findings if f.check in FATAL], [f.detail for f in out.findings if f.check in FATAL]
    assert not [f for f in out.findings if f.severity >= Severity.medium]
    status = {c.id: c.status for c in out.checks}
    for check in ("envelope.survives", "envelope.responsive", "envelope.stdout_clean", "envelope.notification_silent"):
        assert status[check] == "passed", (check, status)
    tally = summarize_notes(out.result.notes)
    assert tally.get("unknown_method:-32601")
    assert tally.get("not_json:silent") and not tally.get("not_json:-32700")
    silent = {f.check for f in out.findings if f.severity == Severity.info}
    assert {"envelope.parse_error", "envelope.invalid_request"} <= silent
    low = [f for f in out.findings if f.severity == Severity.low]
    assert all(f.check == "envelope.invalid_params" for f in low), [f.detail for f in low]


def test_raw_server_crash_is_found_shrunk_and_the_run_goes_on(tmp_path):
    out = run_envelope("envelope_crash", CRASH, FuzzSettings(max_examples=10, write_corpus=False, corpus_dir=str(tmp_path)))
    assert not list(tmp_path.iterdir())  # write_corpus=False: no entry
    crash = [f for f in out.findings if f.check == "envelope.survives"]
    assert len(crash) == 1 and crash[0].severity == Severity.critical
    assert crash[0].input == SMALLEST_CRASH  # the smallest crashing message
    assert "exited with code 1" in crash[0].detail and "TypeError" in crash[0].detail
    tally = summarize_notes(out.result.notes)
    # kinds after bad_id_type ran against the restarted server and were answered by the book
    assert tally.get("params_not_object:-32602") and tally.get("unknown_method:-32601") and tally.get("not_json:-32700")
    assert [f.check for f in out.findings if f.severity > Severity.info] == ["envelope.survives"]


def test_crash_becomes_a_corpus_entry_that_replays(tmp_path):
    """The shrunk crash is written as an `envelope` entry (one per non-info finding); replay sends the
    raw line again: STILL FAILING on the crashing server, fixed on a well-behaved one stored under
    the same target name (the corpus folder is the target's name)."""
    corpus = tmp_path / "corpus"
    out = run_envelope("envelope_target", CRASH, FuzzSettings(max_examples=10, seed=11, corpus_dir=str(corpus)))
    failing = [f for f in out.findings if f.severity > Severity.info]
    entries = load_entries(corpus, "envelope_target")
    assert len(entries) == len(failing) == 1, [p.name for p, _ in entries]
    path, entry = entries[0]
    assert path.name.startswith("envelope.survives-") and path.parent.name == "envelope_target"
    assert (entry.mode, entry.tool, entry.check, entry.seed) == ("envelope", "*", "envelope.survives", 11)
    assert entry.revision in out.result.eras and entry.evidence
    assert entry.arguments["kind"] == "bad_id_type" and entry.arguments["encoding"] == "utf-8"
    assert envelope_message(entry.arguments) == SMALLEST_CRASH.encode()

    again = run_replay("envelope_target", CRASH, corpus)
    assert [n for n in again.result.notes if n.startswith("replay: ")] == [f"replay: {path.name}: STILL FAILING"]
    crash = [f for f in again.findings if f.severity > Severity.info]
    assert [f.check for f in crash] == ["envelope.survives"]
    assert crash[0].detail.startswith(f"[replay {path.name}] the bad_id_type message") and "exited with code 1" in crash[0].detail

    fixed = run_replay("envelope_target", clean_stdio_cmd(), corpus)
    assert not [f for f in fixed.findings if f.severity > Severity.info], [f.detail for f in fixed.findings]
    assert f"replay: {path.name}: fixed" in fixed.result.notes


def test_invalid_utf8_entry_is_stored_as_base64_and_replays(tmp_path):
    """A line that is not UTF-8 goes into the entry as base64 and comes back byte for byte; the raw
    server answers it by the book (-32700), so the replay reports it fixed."""
    data = b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"mcpcheck":"a\xff\xed\xa0\x80z"}}'
    args = envelope_arguments("invalid_utf8", data, "-32700", 5, frozenset({-32700}))
    assert args["encoding"] == "base64" and envelope_message(args) == data
    entry = CorpusEntry(target="raw", tool="*", arguments=args, mode="envelope", check="envelope.parse_error", revision="2025-11-25")
    path = save_entry(entry, tmp_path)
    (_, loaded), = load_entries(tmp_path, "raw")
    assert envelope_message(loaded.arguments) == data and loaded == entry
    out = run_replay("raw", CRASH, tmp_path)
    assert f"replay: {path.name}: fixed" in out.result.notes, out.result.notes
    assert not out.findings, [f.detail for f in out.findings]


def test_envelope_arguments_keep_text_readable_and_a_mebibyte_exact(tmp_path):
    text = '{"jsonrpc":"2.0","id":1,"method":"x","params":{"s":"é\u0000"}}'.encode()
    assert envelope_arguments("not_json", text, "-32700", None, ())["message"] == text.decode()
    big = b'{"jsonrpc":"2.0","id":1,"method":"mcpcheck/huge","params":{"blob":"' + b"A" * 1_048_000 + b'\x80"}}'
    args = envelope_arguments("huge_message", big, "-32601", 1, {-32601, -32600, -32700})
    assert args["acceptable_codes"] == [-32700, -32601, -32600]
    path = save_entry(CorpusEntry(target="t", tool="*", arguments=args, mode="envelope", check="envelope.method_not_found"), tmp_path)
    assert envelope_message(CorpusEntry.model_validate_json(path.read_text()).arguments) == big


@pytest.mark.thirdparty
@pytest.mark.skipif(not npm_available(), reason="node/npm not available")
def test_server_everything():
    out = run_envelope("everything", everything_stdio_cmd())
    assert not [f for f in out.findings if f.check in FATAL], [f.detail for f in out.findings if f.check in FATAL]
    assert summarize_notes(out.result.notes).get("unknown_method:-32601")


# ---------------------------------------------------------------- pure checks


def reply(obj):
    from mcpcheck.wirelog import WireLog

    return WireLog().record("in", "stdout", __import__("json").dumps(obj))


def judge(kind, expect, codes, rid, replies):
    return [(s.id, (v.severity or s.severity).value) for s, v in E.check_reply(kind, expect, frozenset(codes), rid, b"x", None, replies)]


def verdicts(kind, expect, codes, rid, replies):
    return [v for _s, v in E.check_reply(kind, expect, frozenset(codes), rid, b"x", None, replies)]


def test_check_reply_levels():
    """Severity follows the level of the rule each verdict breaks, and the finding prints it."""
    ok = reply({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
    assert judge("not_json", "-32700", {-32700}, None, [ok]) == []
    assert judge("not_json", "-32700", {-32700}, None, []) == [("envelope.parse_error", "info")]
    assert judge("unknown_method", "-32601", {-32601}, 3, []) == [("envelope.method_not_found", "low")]
    executed = reply({"jsonrpc": "2.0", "id": None, "result": {}})
    assert judge("bad_id_type", "-32600", {-32600}, None, [executed]) == [("envelope.invalid_request", "medium")]  # J2 MUST
    assert [v.level for v in verdicts("bad_id_type", "-32600", {-32600}, None, [executed])] == ["MUST"]
    lenient = reply({"jsonrpc": "2.0", "id": 2, "result": {}})
    assert judge("wrong_jsonrpc_version", "-32600", {-32600, -32700}, 2, [lenient]) == [("envelope.invalid_request", "low")]  # J6: JSON-RPC
    wrong = reply({"jsonrpc": "2.0", "id": 3, "error": {"code": -32603, "message": "x"}})
    assert judge("unknown_method", "-32601", {-32601}, 3, [wrong]) == [("envelope.method_not_found", "low")]
    bad = reply({"jsonrpc": "2.0", "id": 4, "error": {"code": "x"}})
    assert ("envelope.error_shape", "high") in judge("unknown_method", "-32601", {-32601}, 3, [bad])
    assert judge("unknown_notification", "no-response", set(), None, [ok]) == [("envelope.notification_silent", "high")]
    assert judge("batch", "error-or-ignore", {-32600}, None, []) == []
    # J12: after 2025-03-26 the reaction to a batch is unspecified: an executed batch is an observation
    batch = verdicts("batch", "error-or-ignore", {-32600}, None, [reply([{"jsonrpc": "2.0", "id": 1, "result": {}}])])
    assert [(v.severity, v.level) for v in batch] == [(Severity.info, "-")]


def test_wrong_codes_share_one_finding_id_and_unknown_methods_are_owned_by_errors_unknown_method():
    """One wrong code for several malformed messages is one root cause: the violations share a key
    (so CampaignContext.record files one finding listing the others as instances); a wrong code for
    an unknown method is filed under errors.unknown_method, which owns that cause."""
    runner.load_all_checks()
    minus32603 = lambda rid: reply({"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": "x"}})
    found = [v for kind in ("scalar_json", "empty_object", "missing_method") for v in verdicts(kind, "-32600", {-32600, -32700}, None, [minus32603(None)])]
    assert {(v.key, v.owner) for v in found} == {("code/-32603", "jsonrpc.invalid_request")} and len(found) == 3
    (v,) = verdicts("unknown_method", "-32601", {-32601}, 3, [minus32603(3)])
    assert (v.owner, v.key, v.level) == ("errors.unknown_method", "code", "-") and v.owner in REGISTRY
    # J6: -32700 for an invalid request (and -32600 for unparseable input) is no finding
    assert judge("scalar_json", "-32600", {-32600, -32700}, None, [reply({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})]) == []




WRONG_CODE = [sys.executable, str(TESTS / "rawservers" / "envelope_wrong_code.py")]


def test_one_wrong_code_for_many_malformed_messages_is_one_finding_with_instances():
    """The same wrong code (-32603) for every JSON message that is not a valid request: one finding,
    filed under jsonrpc.invalid_request (the conformance check that owns that cause), listing the
    other messages as instances and reproduced by the envelope check that found it; nothing else
    of low or above (the J6 kinds answered -32700 would pass too)."""
    out = run_envelope("wrong_code", WRONG_CODE)
    above = [f for f in out.findings if f.severity > Severity.info]
    assert [f.check for f in above] == ["jsonrpc.invalid_request"], [(f.check, f.detail) for f in above]
    (f,) = above
    assert f.severity == Severity.low and f.spec_level == "JSON-RPC" and "error code -32603" in f.detail
    assert "--campaign envelope --check envelope.invalid_request" in f.reproduce
    kinds = {k for k in ("scalar_json", "wrong_jsonrpc_version", "missing_method", "method_wrong_type", "bad_id_type", "empty_object") if any(i.startswith(k + " ") for i in [f.detail, *f.instances])}
    assert len(kinds) >= 4, (f.detail, f.instances)
    assert all("error code -32603" in i for i in f.instances)


def test_wrong_code_for_unknown_methods_has_one_owner():
    """mcp 1.x answers unknown methods -32602: the conformance probe and the envelope's unknown and
    huge methods see one root cause, filed once under errors.unknown_method (low: J8 has no
    keyword), the envelope's messages among its instances; envelope.method_not_found files none."""
    out = runner.run([make_target(name="unknown_32602", command=[*WRONG_CODE, "-32602"], timeout=5)], ["conformance", "envelope"], fuzz_settings=CFG)[0]
    assert out.result.error is None, out.result.error
    owned = [f for f in out.findings if f.check in ("errors.unknown_method", "envelope.method_not_found") and f.severity > Severity.info]
    assert [f.check for f in owned] == ["errors.unknown_method"], [(f.check, f.detail) for f in owned]
    (f,) = owned
    assert f.severity == Severity.low and f.spec_level == "-"
    assert any("unknown_method message" in i or "huge_message message" in i for i in f.instances), f.instances
    status = {c.id: c.status for c in out.checks}
    assert status["envelope.method_not_found"] == "passed"


def test_the_wait_after_the_probe_follows_the_probes_round_trip():
    from mcpcheck.session import LATE_GRACE, LATE_GRACE_MIN, late_answer_grace

    assert late_answer_grace(0.0005) == LATE_GRACE_MIN  # a fast server: 10 ms, not 50
    assert late_answer_grace(0.004) == pytest.approx(0.02)
    assert late_answer_grace(0.5) == LATE_GRACE == late_answer_grace(None)  # a slow one, or no measure: the full wait

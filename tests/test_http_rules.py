"""The HTTP transport rules (probes: conformance/campaigns/http_rules.py; pure judgements:
conformance/checks/http.py, http_sessions.py, http_stateless.py) against real servers: the
official SDK's Streamable HTTP app must come out clean (or with exactly the SDK deviation we
verified by hand), and each deliberately broken variant must trip exactly its check. The
broken variants are the SDK app behind a small ASGI middleware (one defect each), all served
by one uvicorn process (tests/http_server_for_transport_tests.py --catalog); the shared fixture
set (tests/servers.py: clean_http, broken_http) is checked the same way."""

from __future__ import annotations

import pytest
import servers

from mcpcheck import runner
from mcpcheck.campaigns import http_rules as R
from mcpcheck.checks import http as C
from mcpcheck.checks import http_sessions as CS
from mcpcheck.checks import http_stateless as CH
from mcpcheck.config import make_target
from mcpcheck.findings import Severity, run_check
from mcpcheck.registry import REGISTRY
from mcpcheck.transport.http import RawHttp
from mcpcheck.wirelog import WireLog

from http_server_for_transport_tests import catalog_url


def http_only(url: str, *, only=("http",)):
    return runner.run([make_target(name="t", transport="http", url=url, timeout=5.0)], ["conformance"], only=list(only))[0]


def http_findings(outcome) -> set[tuple[str, str | None, str]]:
    """(check, era, severity) of every http.* finding; a finding seen in several eras is one
    finding that names the others among its instances ("also in ERA"): each era is counted."""
    out = set()
    for f in outcome.findings:
        if f.check.startswith("http."):
            out.add((f.check, f.revision, f.severity.value))
            out |= {(f.check, i.removeprefix("also in ").split(":")[0], f.severity.value) for i in f.instances if i.startswith("also in ")}
    return out


def statuses(outcome) -> dict[tuple[str, str | None], str]:
    return {(c.id, c.revision): c.status for c in outcome.checks if c.id.startswith("http.")}


SESSION_IDS = ("http.session_required", "http.session_unknown", "http.session_terminated", "http.session_id_charset", "http.session_id_entropy")
# (http.stateless_param_headers needs a tool with x-mcp-header annotations: tests/test_http_streams.py)
STATELESS_IDS = tuple(k for k in REGISTRY if k.startswith("http.stateless_") and k != "http.stateless_param_headers")


# --------------------------------------------------------------------------- clean servers


@pytest.mark.parametrize("name", ["clean", "clean-json"])
def test_sdk_session_server_is_clean(name):
    out = http_only(catalog_url(name))
    assert out.result.error is None and out.result.eras == ["2026-07-28", "2025-11-25"]
    assert http_findings(out) == set()
    st = statuses(out)
    for cid in (*SESSION_IDS, "http.protocol_version_header", "http.origin_rejected", "http.notification_202", "http.response_content_type", "http.accept_handling"):
        assert st[(cid, "2025-11-25")] == "passed", cid
    # a JSON-response server sends no SSE stream in the handshake era: nothing to judge
    assert st[("http.sse_strict", "2025-11-25")] == ("skipped" if name == "clean-json" else "passed")
    for cid in STATELESS_IDS:
        want = "skipped" if cid == "http.stateless_get_delete_405" else "passed"  # dual-era: GET/DELETE are legacy's
        assert st[(cid, "2026-07-28")] == want, cid
        assert st[(cid, "2025-11-25")] == "skipped"


def test_modern_only_server_is_clean_and_gets_the_405_checks():
    out = http_only(catalog_url("modern-only"))
    assert out.result.eras == ["2026-07-28"]
    assert http_findings(out) == set()
    st = statuses(out)
    assert all(st[(cid, "2026-07-28")] == "passed" for cid in STATELESS_IDS)


@pytest.mark.parametrize("name", ["stateless", "stateless-json"])
def test_sdk_handshake_stateless_mode_serves_a_header_body_version_mismatch(name):
    """Verified by hand (see the SDK's streamable_http_manager TODO(L49), 'header-only
    era-routing'): with stateless_http=True a POST whose MCP-Protocol-Version says 2025-11-25
    while its _meta says 2026-07-28 is executed under legacy rules (HTTP 200, a result). The
    2026-07-28 spec serves any request carrying modern _meta by the modern rules, where a
    header/body mismatch MUST be refused with 400 + -32020. Everything else is clean; a missing
    header is allowed here because the server serves 2025-03-26 clients."""
    out = http_only(catalog_url(name))
    assert http_findings(out) == {("http.stateless_version_header", "2026-07-28", "medium")}
    (f,) = [f for f in out.findings if f.check.startswith("http.")]
    assert "2025-11-25" in f.detail and f.evidence[0].http["headers"]["mcp-protocol-version"] == "2025-11-25"
    # sessions are optional: the handshake-era stateless server issues none, so those skip
    assert statuses(out)[("http.session_unknown", "2025-11-25")] == "skipped"


def test_full_conformance_campaign_against_the_sdk_has_no_http_findings():
    """The HTTP probes run in the whole campaign (incl. malformed requests, notifications,
    bursts); the `log` checks judge every session it opened."""
    out = runner.run([make_target(name="sdk", transport="http", url=catalog_url("clean"), timeout=10.0)], ["conformance"])[0]
    assert out.result.error is None
    assert http_findings(out) == set(), [(f.check, f.detail) for f in out.findings]
    assert not [f for f in out.findings if f.check in ("robustness.no_hang", "robustness.no_crash")], [(f.check, f.detail) for f in out.findings]
    st = statuses(out)
    assert st[("http.notification_202", "2025-11-25")] == "passed"
    # one verdict per session: the era's session, the throwaway one, the version-negotiation ones
    assert next(c for c in out.checks if c.id == "http.response_content_type" and c.revision == "2025-11-25").count >= 3


# --------------------------------------------------------------------------- each check fires

H, S = "2025-11-25", "2026-07-28"
FIRES = {
    "no_origin_check": {("http.origin_rejected", S, "high"), ("http.origin_rejected", H, "high")},
    "notification_200": {("http.notification_202", S, "high"), ("http.notification_202", H, "high")},
    "text_plain": {("http.response_content_type", S, "high"), ("http.response_content_type", H, "high"), ("http.accept_handling", S, "info"), ("http.accept_handling", H, "info")},
    "ignore_session": {("http.session_required", H, "medium"), ("http.session_unknown", H, "medium"), ("http.session_terminated", H, "high")},
    "delete_noop": {("http.session_terminated", H, "high")},
    # server-everything's shape: every id it does not hold (never issued or DELETEd) gets 400: one cause,
    # one http.session_terminated finding (MUST 404) listing both requests, no second session_unknown finding
    "unknown_session_400": {("http.session_terminated", H, "medium")},
    "bogus_protocol_header_ok": {("http.protocol_version_header", H, "high")},
    "bad_session_id": {("http.session_id_charset", H, "high")},
    "short_session_id": {("http.session_id_entropy", H, "low")},
    "get_200": {("http.stateless_get_delete_405", S, "medium")},
    "no_header_check": {("http.stateless_version_header", S, "high"), ("http.stateless_routing_headers", S, "high"), ("http.stateless_header_encoding", S, "high")},
    "mint_session": {("http.stateless_no_session", S, "medium")},
    "unknown_method_200": {("http.stateless_unknown_method_404", S, "medium")},
    "any_version": {("http.stateless_unsupported_version_400", S, "high")},
    "bad_sse": {("http.sse_strict", S, "high"), ("http.sse_strict", H, "high")},
}


def test_one_refusal_for_every_unknown_session_id_is_one_finding():
    """A never-issued id and a DELETEd one both refused 400 (server-everything's express wrapper):
    one http.session_terminated finding whose evidence holds both requests; session_unknown files
    nothing of its own (issue 12: one finding per root cause)."""
    out = http_only(catalog_url("unknown_session_400"))
    found = [f for f in out.findings if f.check in ("http.session_terminated", "http.session_unknown")]
    assert [(f.check, f.severity.value) for f in found] == [("http.session_terminated", "medium")], [(f.check, f.detail) for f in found]
    assert "never issued" in found[0].detail
    notes = [e.note for e in found[0].evidence]
    assert "reuse a DELETEd session id" in notes and "unknown Mcp-Session-Id" in notes, notes


@pytest.mark.parametrize("defect", sorted(FIRES))
def test_each_defect_trips_exactly_its_check(defect):
    out = http_only(catalog_url(defect))
    assert out.result.error is None
    assert http_findings(out) == FIRES[defect], [(f.check, f.revision, f.detail) for f in out.findings]
    for f in out.findings:
        assert f.evidence, f.check  # every finding shows the wire
        assert f.reproduce and "--check" in f.reproduce


def test_no_header_check_details():
    out = http_only(catalog_url("no_header_check"), only=("http.stateless_version_header", "http.stateless_routing_headers"))
    details = sorted(f.detail.split(":")[0] for f in out.findings)
    assert details == sorted(
        [
            "MCP-Protocol-Version header differing from _meta (unknown version)",
            "request without MCP-Protocol-Version",
            "request without Mcp-Method",
            "Mcp-Method differing in case from the body's method",
            "Mcp-Name naming something else than the body",
            "resources/read without Mcp-Name",
        ]
    )


def test_every_http_check_is_covered():
    fired = {c for s in FIRES.values() for c, _, _ in s}
    ids = {k for k in REGISTRY if k.startswith("http.")}
    # header-name case cannot be broken behind an ASGI server (names arrive lower-cased):
    # its pure check is unit-tested below instead. http.get_stream (H1) is proved by the
    # get_not_found defect in tests/test_rule_checks.py (registered only when rule_probes is loaded);
    # the stream probes (H6, H7) by the hand-written defects of tests/test_http_streams.py, and
    # the Mcp-Param-* probe (HS9) by its SDK fixture there.
    proved_elsewhere = {"http.get_stream", "http.get_stream_routing", "http.resumption", "http.stateless_param_headers"}
    assert ids - fired - proved_elsewhere == {R.stateless_header_name_case.id}


# --------------------------------------------------------------------------- pure checks


def _raw(status, *, body="", messages=(), headers=None, log=None) -> RawHttp:
    log = log or WireLog()
    out = log.record("out", "http", "{}", http={"method": "POST", "url": "u", "headers": {}})
    inn = log.record("in", "http", body, parsed=None, http={"method": "POST", "url": "u", "status": status, "headers": headers or {}, "request_seq": out.seq})
    return RawHttp(method="POST", url="u", status=status, headers=headers or {}, body=body, messages=list(messages), entries=[out, inn])


def test_origin_levels_by_revision():
    assert run_check(C.check_origin, _raw(403), S) == []
    assert run_check(C.check_origin, _raw(400), "2025-06-18") == []  # before 2025-11-25 any 4xx will do
    (v,) = run_check(C.check_origin, _raw(400), "2025-11-25")
    assert v.severity == Severity.medium
    (v,) = run_check(C.check_origin, _raw(200, messages=[{"jsonrpc": "2.0", "id": 1, "result": {}}]), "2025-03-26")
    assert v.severity is None  # the check's own severity: high


def test_notification_refusal_is_allowed_and_202_body_is_not():
    log = WireLog()
    sent = log.record("out", "http", '{"jsonrpc":"2.0","method":"notifications/x"}')
    assert run_check(C.check_notification_ack, sent, _raw(400, body='{"jsonrpc":"2.0","error":{"code":-32600,"message":"no"}}')) == []
    assert run_check(C.check_notification_ack, sent, _raw(202)) == []
    assert len(run_check(C.check_notification_ack, sent, _raw(202, body="ok"))) == 1
    assert len(run_check(C.check_notification_ack, sent, _raw(200))) == 1


def test_content_type_rule_only_judges_served_requests():
    log = WireLog()
    req = log.record("out", "http", '{"jsonrpc":"2.0","id":1,"method":"ping"}', http={"method": "POST", "url": "u", "headers": {}})
    log.record("in", "http", "nope", http={"method": "POST", "url": "u", "status": 403, "headers": {"content-type": "text/plain"}, "request_seq": req.seq})
    nid = log.record("out", "http", '{"jsonrpc":"2.0","id":null,"method":"ping"}', http={"method": "POST", "url": "u", "headers": {}})
    log.record("in", "http", "", parsed=None, http={"method": "POST", "url": "u", "status": 202, "headers": {}, "request_seq": nid.seq})
    assert run_check(C.check_content_types, C.http_pairs(log)) == []  # refusals and invalid ids are not H4's business
    req2 = log.record("out", "http", '{"jsonrpc":"2.0","id":2,"method":"ping"}', http={"method": "POST", "url": "u", "headers": {}})
    log.record("in", "http", "", parsed=None, http={"method": "POST", "url": "u", "status": 202, "headers": {}, "request_seq": req2.seq})
    (v,) = run_check(C.check_content_types, C.http_pairs(log))
    assert "'ping' was answered HTTP 202" in v.detail


def test_sse_grading():
    log = WireLog()
    info = {"method": "POST", "url": "u", "status": 200, "headers": {}}
    log.record("in", "sse", "", parsed=None, http={**info, "sse": {"event": "message", "id": "1"}})  # priming
    log.record("in", "sse", '{"jsonrpc":"2.0","id":1,"result":{}}', http={**info, "sse": {"event": "message"}})
    assert run_check(C.check_sse, log.entries, True) == []
    log.record("in", "sse", '{"jsonrpc":"2.0","id":5,"method":"sampling/createMessage"}', http={**info, "sse": {"event": "message"}})
    log.record("in", "sse", '{"jsonrpc":"2.0","method":"x"}', http={**info, "sse": {"event": "ping", "problems": ["an unknown field 'foo' (ignored by clients)"]}})
    log.record("in", "event", "SSE: the stream ended in the middle of an event (data not followed by a blank line); clients discard such an event", http=info, note="sse-problem")
    got = {(v.key.split(":")[0], v.severity) for v in run_check(C.check_sse, log.entries, True)}
    assert got == {("request", None), ("type", Severity.low), ("field", Severity.low), ("cut-data", None)}
    # the handshake era may send requests on a POST stream
    assert "request" not in {v.key for v in run_check(C.check_sse, log.entries, False)}


def test_header_name_case_check():
    ok = _raw(200, messages=[{"jsonrpc": "2.0", "id": 1, "result": {}}])
    refused = _raw(400, messages=[{"jsonrpc": "2.0", "id": 1, "error": {"code": -32020, "message": "missing"}}])
    assert run_check(CH.check_header_case, [("in lower case", ok), ("in upper case", ok)]) == []
    (v,) = run_check(CH.check_header_case, [("in lower case", ok), ("in upper case", refused)])
    assert "upper case" in v.detail


def test_missing_version_header_is_allowed_for_servers_of_old_clients():
    served = _raw(200, messages=[{"jsonrpc": "2.0", "id": 1, "result": {}}])
    refused = _raw(400, messages=[{"jsonrpc": "2.0", "id": 1, "error": {"code": -32020, "message": "m"}}])
    unsupported = _raw(400, messages=[{"jsonrpc": "2.0", "id": 1, "error": {"code": -32022, "message": "m"}}])
    assert run_check(CH.check_version_header, served, refused, None, missing_allowed=True) == []
    assert run_check(CH.check_version_header, refused, unsupported, None, missing_allowed=False) == []  # -32022 is fine for a mismatch
    (v,) = run_check(CH.check_version_header, served, refused, None, missing_allowed=False)
    assert "without MCP-Protocol-Version" in v.detail


def test_session_id_entropy():
    assert CS.session_id_bits("f00108cb0c5a499aaa475069d68c221e") == 128
    assert CS.session_id_bits("4b3e1f0c-6a0d-4f3e-9d1e-2a7b9c8d7e6f") == 128
    assert run_check(CS.check_session_id_entropy, ["12"], []) != []
    assert run_check(CS.check_session_id_entropy, ["f00108cb0c5a499aaa475069d68c221e", "f00108cb0c5a499aaa475069d68c221e"], [])[0].key == "reused"


def test_accept_observations_are_info_only():
    served_sse = _raw(200, headers={"content-type": "text/event-stream"})
    (v,) = run_check(C.check_accept, [("Accept: application/json only", ("application/json",), served_sse), ("no Accept header", None, _raw(406))])
    assert v.severity == Severity.info
    assert run_check(C.check_accept, [("Accept: text/event-stream only", ("text/event-stream",), _raw(406))]) == []


# --------------------------------------------------------------------------- the shared fixtures (tests/servers.py)


@pytest.mark.parametrize("stateless,json_response", [(False, False), (False, True)])
def test_shared_clean_http_fixture_is_clean(stateless, json_response):
    with servers.clean_http(stateless=stateless, json_response=json_response) as url:
        out = http_only(url)
    assert out.result.error is None and http_findings(out) == set(), [(f.check, f.detail) for f in out.findings]


SHARED_FIRES = {
    "none": set(),
    "no_origin_check": {("http.origin_rejected", S, "high"), ("http.origin_rejected", H, "high")},
    "notification_200": {("http.notification_202", S, "high"), ("http.notification_202", H, "high")},
    "text_plain": {("http.response_content_type", S, "high"), ("http.response_content_type", H, "high"), ("http.accept_handling", S, "info"), ("http.accept_handling", H, "info")},
    "ignore_session": {("http.session_required", H, "medium"), ("http.session_unknown", H, "medium")},
    "bogus_protocol_header_ok": {("http.protocol_version_header", H, "high")},
}


@pytest.mark.parametrize("defect", sorted(SHARED_FIRES))
def test_shared_broken_http_fixture_trips_its_check(defect):
    """tests/fixtures/broken_http.py (the other fixture set). Its ignore_session serves missing
    and never-issued ids but leaves a DELETEd one alone, so session_terminated stays quiet."""
    with servers.broken_http(defect) as url:
        out = http_only(url)
    assert out.result.error is None
    assert http_findings(out) == SHARED_FIRES[defect], [(f.check, f.revision, f.detail) for f in out.findings]


# --------------------------------------------------------------------------- a server nobody here wrote


@pytest.mark.thirdparty
def test_server_everything_streamable_http():
    """TS SDK 1.32 server-everything, checked by hand: CORS `*` and no DNS-rebinding
    protection (a hostile Origin is served); its express wrapper answers an unknown session id
    and a DELETEd one with 400 "No valid session ID" instead of 404."""
    try:
        cm = servers.everything_http()
        url = cm.__enter__()
    except servers.NpmUnavailable as exc:
        pytest.skip(str(exc))
    try:
        out = http_only(url)
    finally:
        cm.__exit__(None, None, None)
    assert out.result.eras == ["2025-11-25"]
    assert http_findings(out) == {
        ("http.origin_rejected", H, "high"),
        # replays another stream's events (tests/test_thirdparty.py), among them a priming event as
        # `data: {}`: one cause, so no second http.sse_strict finding for that `{}`
        ("http.resumption", H, "medium"),
        ("http.session_terminated", H, "medium"),  # with the never-issued id's 400 (one cause, one finding)
    }

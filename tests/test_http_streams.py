"""GET-stream routing (H6) and resumption (H7): conformance/campaigns/http_streams.py against a
hand-written Streamable HTTP server with one defect each (tests/rawservers/streams_http.py; the SDK
allows one GET stream per session and its event store is correct by construction, so it cannot
express these defects) and the official SDK with an event store as the correct twin
(tests/fixtures/resumable_http.py)."""

from __future__ import annotations

import sys

import pytest
import servers

from mcpcheck import runner
from mcpcheck.campaigns import http_streams as HS
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.transport.http import RawHttp
from mcpcheck.wirelog import WireLog

IDS = ["http.get_stream_routing", "http.resumption"]
H = "2025-11-25"


def streams_http(defect: str):
    script = servers.TESTS / "rawservers" / "streams_http.py"
    return servers._serve_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port), "--defect", defect])


def resumable_http():
    return servers._serve_on_free_port(lambda port: [sys.executable, str(servers.FIXTURES / "resumable_http.py"), "--port", str(port)])


def run(url: str):
    return runner.run([make_target(name="t", transport="http", url=url, timeout=5.0)], ["conformance"], only=IDS)[0]


def verdicts(out) -> dict[tuple[str, str | None], str]:
    return {(c.id, c.revision): c.status for c in out.checks}


def low_or_above(out) -> list[tuple[str, str]]:
    return [(f.check, f.detail) for f in out.findings if f.severity >= Severity.low]


@pytest.mark.parametrize(
    "defect, check",
    [("broadcast", "http.get_stream_routing"), ("response_on_get", "http.get_stream_routing"), ("shared_event_ids", "http.resumption"), ("replay_all", "http.resumption")],
)
def test_each_stream_defect_is_caught_by_its_check(defect, check):
    with streams_http(defect) as url:
        out = run(url)
    assert out.result.eras == [H]
    assert [(f.check, f.revision) for f in out.findings] == [(check, H)], low_or_above(out)
    (f,) = out.findings
    assert f.severity == (Severity.high if check == "http.get_stream_routing" else Severity.medium)
    assert f.evidence  # the copies / the replayed event


def test_the_correct_hand_written_server_passes_both():
    with streams_http("none") as url:
        out = run(url)
    assert low_or_above(out) == []
    assert verdicts(out) == {("http.get_stream_routing", H): "passed", ("http.resumption", H): "passed"}


def test_the_sdk_with_an_event_store_passes_and_2026_is_skipped():
    with resumable_http() as url:
        out = run(url)
    assert low_or_above(out) == []
    v = verdicts(out)
    assert v[("http.get_stream_routing", H)] == "passed" and v[("http.resumption", H)] == "passed"
    assert v[("http.resumption", "2026-07-28")] == "skipped"


def test_the_sdk_without_an_event_store_is_not_judged_on_resumption():
    with servers.clean_http() as url:
        out = run(url)
    assert low_or_above(out) == []
    assert verdicts(out)[("http.resumption", H)] == "skipped"
    assert verdicts(out)[("http.get_stream_routing", H)] == "passed"


# --------------------------------------------------------------------------- pure judgements


def _stream(log: WireLog, verb: str, messages: list[tuple[float, str | None, dict]]) -> RawHttp:
    out = log.record("out", "http", "", http={"method": verb, "url": "u", "headers": {}})
    raw = RawHttp(method=verb, url="u", status=200, headers={"content-type": "text/event-stream"}, sse=True, entries=[out])
    for t, eid, msg in messages:
        e = log.record("in", "sse", __import__("json").dumps(msg), http={"method": verb, "status": 200, "request_seq": out.seq, "sse": {"event": "message", **({"id": eid} if eid else {})}})
        e.t = t
        raw.entries.append(e)
        raw.messages.append(msg)
    return raw


def test_identical_messages_far_apart_are_two_messages_not_a_broadcast():
    log = WireLog()
    tick = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "tick"}}
    a = _stream(log, "GET", [(1.0, None, tick)])
    b = _stream(log, "GET", [(3.5, None, tick)])
    assert list(HS.judge_routing([HS.Stream("GET stream 1", a, True), HS.Stream("GET stream 2", b, True)])) == []
    c = _stream(log, "GET", [(1.2, None, tick)])
    (v,) = HS.judge_routing([HS.Stream("GET stream 1", a, True), HS.Stream("GET stream 2", c, True)])
    assert "2 streams" in v.detail


def test_replaying_the_resumed_streams_own_later_events_is_fine():
    log = WireLog()
    pong = {"jsonrpc": "2.0", "id": 2, "result": {}}
    listed = {"jsonrpc": "2.0", "id": 3, "result": {"tools": []}}
    a = _stream(log, "POST", [(0.1, "a1", {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": "x"}}), (0.2, "a2", pong)])
    b = _stream(log, "POST", [(0.3, "b1", listed)])
    ok = _stream(log, "GET", [(0.5, "a2", pong)])
    assert list(HS.judge_resumption(a, b, ok, "a1")) == []
    old = _stream(log, "GET", [(0.5, "a1", a.messages[0])])
    assert [v.key for v in HS.judge_resumption(a, b, old, "a1")] == ["replayed-old"]
    dup = _stream(log, "POST", [(0.3, "a2", listed)])
    assert [v.key for v in HS.judge_resumption(a, dup, None, "a1")] == ["duplicate-id"]

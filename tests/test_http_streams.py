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


def test_a_replayed_priming_event_of_another_stream_is_the_resumption_finding_only():
    """server-everything's shape (census, issue 12 class 6): Last-Event-ID replays every later event
    of the session, the other stream's priming event as `data: {}`. One cause: one http.resumption
    finding; http.sse_strict does not report the replayed `{}` a second time (at high)."""
    with streams_http("replay_all_primed") as url:
        out = runner.run([make_target(name="t", transport="http", url=url, timeout=5.0)], ["conformance"], only=[*IDS, "http.sse_strict"])[0]
    assert [(f.check, f.revision, f.severity) for f in out.findings] == [("http.resumption", H, Severity.medium)], low_or_above(out)
    assert verdicts(out)[("http.sse_strict", H)] == "passed"


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
    # the same log line on two POST streams is two messages, one about each request
    p1, p2 = _stream(log, "POST", [(1.0, None, tick)]), _stream(log, "POST", [(1.1, None, tick)])
    assert list(HS.judge_routing([HS.Stream("POST ping", p1, False), HS.Stream("POST tools/list", p2, False)])) == []


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


# --------------------------------------------------------------------------- HS9: Mcp-Param-* headers

from mcpcheck.checks import param_headers as PH  # noqa: E402

HS9 = ["http.stateless_param_headers", "tools.x_mcp_header"]
S = "2026-07-28"


def param_header_server(defect: str):
    script = servers.FIXTURES / "param_header_server.py"
    return servers._serve_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port), "--defect", defect])


@pytest.mark.parametrize("defect, check", [("none", None), ("ignore_headers", "http.stateless_param_headers"), ("bad_annotations", "tools.x_mcp_header")])
def test_param_header_fixtures(defect, check):
    with param_header_server(defect) as url:
        out = runner.run([make_target(name="t", transport="http", url=url, timeout=5.0)], ["conformance"], only=HS9)[0]
    assert out.result.eras == [S, H]
    v = verdicts(out)
    assert v[("http.stateless_param_headers", H)] == v[("tools.x_mcp_header", H)] == "skipped"  # 2026-07-28 rules
    got = sorted({(f.check, f.revision, f.severity.value) for f in out.findings})
    if check is None:
        assert got == [] and v[("http.stateless_param_headers", S)] == v[("tools.x_mcp_header", S)] == "passed"
    elif check == "http.stateless_param_headers":
        assert got == [(check, S, "high")]
        assert sorted(f.detail.split(" was ")[0] for f in out.findings) == [
            "tools/call with Mcp-Param-Region differing from the body's 'region' argument",
            "tools/call with Mcp-Param-Region missing while the body's 'region' argument is present",
        ]
    else:
        assert got == [(check, S, "medium")]
        (f,) = out.findings
        assert "broken" in f.detail and "not an HTTP token" in f.detail and "number" in f.detail


def test_the_annotation_lint():
    ok = {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer", "x-mcp-header": "N"}}}
    assert PH.annotation_problems(ok) == []
    assert PH.param_headers(ok, {"region": "eu", "n": 3}) == {"Mcp-Param-Region": "eu", "Mcp-Param-N": "3"}
    assert PH.param_headers(ok, {"region": None}) == {}
    dup = {"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "boolean", "x-mcp-header": "x"}}}
    assert [p for p in PH.annotation_problems(dup) if "repeats" in p]
    nested = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}}}
    (p,) = PH.annotation_problems(nested)
    assert "only properties reachable" in p
    assert PH.annotation_problems({"type": "object", "x-mcp-header": "Root"})
    deep = {"type": "object", "properties": {"o": {"type": "object", "properties": {"k": {"type": "string", "x-mcp-header": "K"}}}}}
    assert PH.annotation_problems(deep) == [] and PH.param_headers(deep, {"o": {"k": "v"}}) == {"Mcp-Param-K": "v"}


def test_mcpcheck_mirrors_annotated_arguments_as_a_conforming_client():
    """Once tools/list has been seen, a 2026-07-28 tools/call of an annotated tool carries its
    Mcp-Param-* headers, so a server that validates them (the SDK) serves the call."""
    import asyncio

    from mcpcheck.connect import list_tools, open_session

    async def call(url: str):
        s = await open_session(make_target(name="t", transport="http", url=url, timeout=5.0), S)
        try:
            await list_tools(s)
            ex = await s.request("tools/call", {"name": "lookup", "arguments": {"region": "eu", "city": "Oslo"}})
            sent = next(e for e in reversed(s.wirelog.entries) if e.direction == "out" and (e.parsed or {}).get("method") == "tools/call")
            return ex, sent.http["headers"]
        finally:
            await s.close()

    with param_header_server("none") as url:
        ex, headers = asyncio.run(call(url))
    assert headers.get("mcp-param-region") == "eu"
    assert ex.ok and ex.error is None and not (ex.result or {}).get("isError"), ex.response

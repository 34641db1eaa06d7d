"""HTTP transports against real servers on 127.0.0.1: the official SDK's Streamable HTTP app
(tests/http_server_for_transport_tests.py, every mode in one uvicorn process) and, for the
legacy 2024-11-05 HTTP+SSE transport, @modelcontextprotocol/server-everything in `sse` mode.
Nothing here mocks a server; the SSE parser and header codec also get pure unit tests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpcheck.session import Session
from mcpcheck.transport.base import TransportError
from mcpcheck.transport.http import (
    RawHttp,
    StreamableHttpTransport,
    decode_header_value,
    encode_header_value,
    merge_headers,
)
from mcpcheck.transport.sse import LegacySseTransport
from mcpcheck.transport.sse_parse import SseParser, parse_sse

from http_server_for_transport_tests import catalog_url, free_port, wait_for_port

HERE = Path(__file__).parent
TIMEOUT = 5.0


def run(coro):
    return asyncio.run(coro)


def session(name: str, **kw) -> Session:
    return Session(StreamableHttpTransport(catalog_url(name), timeout=TIMEOUT, **kw), timeout=TIMEOUT)


def out_headers(s: Session, method: str) -> list[dict]:
    return [
        (e.http or {}).get("headers") or {}
        for e in s.wirelog.entries
        if e.direction == "out" and e.channel == "http" and isinstance(e.parsed, dict) and e.parsed.get("method") == method
    ]


# --------------------------------------------------------------------------- SSE parser (pure)


def test_sse_parser_line_endings_comments_priming_retry():
    events, problems = parse_sse(
        "\ufeff: keep-alive\r\n\r\nid: 7\r\ndata:\r\n\r\nretry: 250\n\nevent: message\rdata: {\"a\":1}\r\r"
        "data: one\ndata: two\n\n"
    )
    assert problems == []
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        ("message", "", "7", None),  # priming event: id + empty data
        ("message", "", None, 250),  # bare retry
        ("message", '{"a":1}', None, None),  # CR-only line endings
        ("message", "one\ntwo", None, None),  # multi-line data
    ]
    assert [e.is_priming for e in events] == [True, True, False, False]


def test_sse_parser_chunk_boundaries_anywhere():
    text = 'event: message\r\ndata: {"jsonrpc":"2.0","id":1,"result":{"x":"\u20ac"}}\r\n\r\n'.encode()
    for size in (1, 2, 3, 7):
        p = SseParser()
        events = []
        for i in range(0, len(text), size):
            events += p.feed(text[i : i + size])
        events += p.close()
        assert [e.data for e in events] == ['{"jsonrpc":"2.0","id":1,"result":{"x":"\u20ac"}}'], size
        assert p.problems == []


def test_sse_parser_notes_what_lenient_parsers_swallow():
    events, problems = parse_sse(b"foo: bar\ndata: 1\n\nretry: soon\n\ndata: \xff\n\ndata: cut")
    assert events[0].problems == ["an unknown field 'foo' (ignored by clients)"]
    assert "retry field that is not an integer" in events[1].problems[0]
    assert any("not valid UTF-8" in p for p in problems)
    assert any("middle of an event (data" in p for p in problems)
    assert len(events) == 3  # the cut-off event is discarded, as a browser would


def test_header_value_codec():
    assert encode_header_value("tools/call") == "tools/call"
    assert encode_header_value("a b") == "a b"  # inner space is a legal field value
    for value in ("outil-\u00e9", " padded ", "line1\nline2", "=?base64?literal?="):
        enc = encode_header_value(value)
        assert enc.startswith("=?base64?") and enc.endswith("?=")
        assert decode_header_value(enc) == value
    assert encode_header_value("Hello, \u4e16\u754c") == "=?base64?SGVsbG8sIOS4lueVjA==?="  # the spec's own example
    assert decode_header_value("=?base64?%%?=") is None
    assert merge_headers({"Accept": "x", "mcp-session-id": "1"}, {"ACCEPT": "y", "Mcp-Session-Id": None}) == {"ACCEPT": "y"}


# --------------------------------------------------------------------------- Streamable HTTP, session era


@pytest.mark.parametrize("name,channel", [("clean", "sse"), ("clean-json", "http")])
def test_session_era_initialize_list_call(name, channel):
    async def go():
        async with session(name) as s:
            init = await s.initialize()
            listed = await s.request("tools/list", {})
            called = await s.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
            return s, init, listed, called

    s, init, listed, called = run(go())
    t = s.transport
    assert init.ok and t.negotiated == "2025-11-25"
    assert t.session_id and init.http["headers"]["mcp-session-id"] == t.session_id
    assert {x["name"] for x in listed.result["tools"]} >= {"add", "echo", "slow"}
    assert called.result["structuredContent"] == {"result": 5}
    assert called.response_entry.channel == channel and called.http["status"] == 200
    # the initialize POST carries neither session nor version; every later one carries both
    (h_init,) = out_headers(s, "initialize")
    assert "mcp-session-id" not in h_init and "mcp-protocol-version" not in h_init
    assert h_init["accept"] == "application/json, text/event-stream" and h_init["content-type"] == "application/json"
    for method in ("notifications/initialized", "tools/list", "tools/call"):
        (h,) = out_headers(s, method)
        assert h["mcp-session-id"] == t.session_id and h["mcp-protocol-version"] == "2025-11-25"
        assert "mcp-method" not in h
    # the initialized notification: 202, empty body, recorded against its POST
    (ack,) = [e for e in s.wirelog.entries if e.direction == "in" and (e.http or {}).get("status") == 202]
    assert ack.raw == "" and s.wirelog.entries[ack.http["request_seq"]].parsed["method"] == "notifications/initialized"
    # close() ended the session with DELETE
    assert t.delete_status == 200 and t.session_terminated


def test_sse_stream_carries_progress_before_the_response():
    async def go():
        async with session("clean") as s:
            await s.initialize()
            return await s.request("tools/call", {"name": "slow", "arguments": {"ms": 100}, "_meta": {"progressToken": "p1"}})

    ex = run(go())
    assert ex.ok and ex.response_entry.channel == "sse"
    assert [e.parsed["method"] for e in ex.extra] == ["notifications/progress"]
    assert ex.extra[0].http["request_seq"] == ex.request_entry.seq


def test_ten_concurrent_requests_overlap_and_correlate():
    async def go():
        async with session("clean") as s:
            await s.initialize()
            t0 = time.monotonic()
            exs = await asyncio.gather(
                *(s.request("tools/call", {"name": "slow", "arguments": {"ms": 300 + i}}) for i in range(10))
            )
            return exs, time.monotonic() - t0

    exs, took = run(go())
    assert [ex.result["structuredContent"]["result"] for ex in exs] == [f"slept {300 + i}" for i in range(10)]
    assert took < 2.5  # they overlapped (one after the other would take over 3 s)


def test_deleted_session_id_is_refused_afterwards():
    async def go():
        async with session("clean") as s:
            await s.initialize()
            sid = s.transport.session_id
        probe = StreamableHttpTransport(catalog_url("clean"), timeout=TIMEOUT)
        await probe.start()
        raw = await probe.http(
            "POST",
            body=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
            headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"},
        )
        await probe.close()
        return s, raw

    s, raw = run(go())
    assert s.transport.delete_status == 200
    assert raw.status == 404 and isinstance(raw, RawHttp)
    assert raw.entries[0].http["headers"]["mcp-session-id"] == s.transport.session_id


def test_post_without_a_response_ends_the_wait_at_once():
    """A 500 text/plain page for a request: recorded, never invented into a message, and the
    session stops waiting immediately (transport error, not a 5 s timeout)."""

    async def go():
        async with session("call-500") as s:
            await s.initialize()
            t0 = time.monotonic()
            ex = await s.request("tools/call", {"name": "explode", "arguments": {}})
            took = time.monotonic() - t0
            after = await s.request("ping", {})
            return s, ex, took, after

    s, ex, took, after = run(go())
    assert took < 2.5 and not ex.timed_out and ex.response is None  # the session timeout is 5 s
    assert "HTTP 500" in ex.transport_error and "Internal Server Error" in ex.transport_error
    assert ex.http["status"] == 500 and ex.response_entry.raw == "Internal Server Error"
    assert ex.response_entry.parse_error is not None  # recorded as the non-JSON body it is
    assert after.ok  # one bad POST does not end the transport


# --------------------------------------------------------------------------- Streamable HTTP, stateless era


@pytest.mark.parametrize("name", ["stateless", "stateless-json", "clean", "modern-only"])
def test_stateless_era_headers_and_calls(name):
    async def go():
        async with session(name) as s:
            disc = await s.discover()
            listed = await s.request("tools/list", {})
            called = await s.request("tools/call", {"name": "echo", "arguments": {"text": "hi"}})
            read = await s.request("resources/read", {"uri": "mem://greeting"})
            # a non-ASCII name travels base64-encoded; the SDK decodes it, finds no such tool,
            # and answers isError (not -32020 HeaderMismatch)
            unknown = await s.request("tools/call", {"name": "outil-\u00e9", "arguments": {}})
            return s, disc, listed, called, read, unknown

    s, disc, listed, called, read, unknown = run(go())
    assert s.stateless and s.transport.stateless
    assert "2026-07-28" in disc.result["supportedVersions"]
    assert listed.ok and called.result["structuredContent"] == {"result": "hi"}
    assert read.result["contents"][0]["text"] == "hello"
    assert unknown.ok and unknown.result["isError"] is True
    (h,) = out_headers(s, "tools/list")
    assert h["mcp-protocol-version"] == "2026-07-28" and h["mcp-method"] == "tools/list" and "mcp-name" not in h
    names = [x.get("mcp-name") for x in out_headers(s, "tools/call")]
    assert names == ["echo", "=?base64?b3V0aWwtw6k=?="]
    assert out_headers(s, "resources/read")[0]["mcp-name"] == "mem://greeting"
    assert not any("mcp-session-id" in x for m in ("tools/list", "tools/call") for x in out_headers(s, m))
    assert s.transport.session_id is None and s.transport.delete_status is None  # nothing to DELETE


def test_header_mirrors_a_deliberately_odd_meta_version():
    """The version header mirrors the body's _meta, so an unsupported version reaches the
    server's version check (-32022) instead of tripping the header check (-32020)."""

    async def go():
        async with session("stateless-json") as s:
            await s.discover()
            msg = s.build_request("tools/list", {})
            msg["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "1900-01-01"
            return await s.request("tools/list", message=msg)

    ex = run(go())
    assert ex.error_code == -32022 and ex.http["status"] == 400
    assert ex.request_entry.http["headers"]["mcp-protocol-version"] == "1900-01-01"


def test_raw_helper_bounds_an_open_get_stream():
    """The SDK's handshake-era stateless mode answers GET with a stream that never ends: the
    raw helper stops after its window and says so in the WireLog."""

    async def go():
        t = StreamableHttpTransport(catalog_url("stateless"), timeout=TIMEOUT)
        await t.start()
        t0 = time.monotonic()
        raw = await t.http("GET", window=0.5)
        took = time.monotonic() - t0
        post = await t.http("POST", body=b'{"jsonrpc":"2.0","id":9,"method":"ping"}', session=False)
        trunc = await t.send_raw(b'{"jsonrpc":"2.0","id":10,', note="truncated JSON")
        await asyncio.sleep(0.3)
        await t.close()
        return t, raw, took, post, trunc

    t, raw, took, post, trunc = run(go())
    assert raw.status == 200 and raw.sse and raw.error is None and took < 2.0
    assert any(e.note == "sse-closed" and "stopped reading" in e.raw for e in raw.entries)
    assert post.status == 200 and post.response == {"jsonrpc": "2.0", "id": 9, "result": {}}
    assert post.entries[0].direction == "out" and post.entries[1].http["request_seq"] == post.entries[0].seq
    (answer,) = [e for e in t.wirelog.entries if (e.http or {}).get("request_seq") == trunc.seq]
    assert answer.http["status"] == 400 and answer.parsed["error"]["code"] == -32700
    assert t.incoming.qsize() >= 1  # send_raw answers go to the session like any other message


def test_unreachable_endpoint_is_one_clear_line(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def go():
        with pytest.raises(TransportError) as exc:
            await StreamableHttpTransport(url, timeout=2).start()
        return str(exc.value)

    assert run(go()) == f"cannot reach {url}: connection refused"
    cli = subprocess.run(
        [sys.executable, "-c", "import sys; from mcpcheck.cli import main; sys.exit(main())", "run", "--url", url, "--transport", "http", "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 2, cli.stderr
    assert f"cannot reach {url}: connection refused" in cli.stderr


def test_server_going_away_ends_the_transport():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "http_server_for_transport_tests.py"), str(port), "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)

        async def go():
            s = Session(StreamableHttpTransport(f"http://127.0.0.1:{port}/mcp", timeout=TIMEOUT), timeout=TIMEOUT)
            await s.start()
            await s.initialize()
            proc.kill()
            proc.wait()
            ex = await s.request("tools/list", {})
            await s.close()
            return s, ex

        s, ex = run(go())
    finally:
        if proc.poll() is None:
            proc.kill()
    assert ex.transport_error and not ex.timed_out
    assert not s.alive and "connection refused" in s.transport.closed_reason


# --------------------------------------------------------------------------- legacy HTTP+SSE (2024-11-05)

@pytest.fixture(scope="module")
def everything_sse():
    """server-everything in legacy `sse` mode via the shared tests/servers.py (base URL, no /sse)."""
    import servers

    try:
        cm = servers.everything_sse()
        url = cm.__enter__()
    except servers.NpmUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield url[: -len("/sse")]
    finally:
        cm.__exit__(None, None, None)


@pytest.mark.thirdparty
def test_legacy_sse_against_server_everything(everything_sse):
    async def go():
        s = Session(LegacySseTransport(everything_sse + "/sse", timeout=TIMEOUT), timeout=TIMEOUT)
        async with s:
            init = await s.initialize("2024-11-05")
            listed = await s.request("tools/list", {})
            sums = await asyncio.gather(*(s.request("tools/call", {"name": "get-sum", "arguments": {"a": i, "b": 1}}) for i in range(10)))
            return s, init, listed, sums

    s, init, listed, sums = run(go())
    t = s.transport
    assert t.endpoint.startswith(everything_sse + "/message?sessionId=")  # relative URI resolved
    assert init.ok and init.result["protocolVersion"] == "2024-11-05"
    assert "echo" in {x["name"] for x in listed.result["tools"]}
    assert [ex.result["content"][0]["text"] for ex in sums] == [f"The sum of {i} and 1 is {i + 1}." for i in range(10)]
    assert listed.response_entry.channel == "sse" and listed.response_entry.http["method"] == "GET"
    endpoint_event = s.wirelog.entries[1]
    assert endpoint_event.note == "endpoint event" and endpoint_event.http["sse"]["event"] == "endpoint"
    posts = [e for e in s.wirelog.entries if e.direction == "in" and e.channel == "http"]
    assert posts and all(e.http["status"] == 202 for e in posts)
    assert not t.alive  # closed


@pytest.mark.thirdparty
def test_legacy_sse_refuses_a_stream_without_endpoint_event(everything_sse):
    async def go(url):
        with pytest.raises(TransportError) as exc:
            await LegacySseTransport(url, timeout=3).start()
        return str(exc.value)

    assert "answered HTTP 404" in run(go(everything_sse + "/message"))
    assert run(go(f"http://127.0.0.1:{free_port()}/sse")).endswith("connection refused")
    # a Streamable HTTP endpoint is not an HTTP+SSE server: one line that says what to try
    err = run(go(catalog_url("clean")))
    assert "answered HTTP 400" in err and "--transport http" in err


def test_optional_get_stream_is_opened_only_on_request_and_closed_cleanly():
    async def go(open_get):
        s = session("clean", open_get_stream=open_get)
        async with s:
            await s.initialize()
            await asyncio.sleep(0.3)
            ex = await s.request("tools/list", {})
        gets = [e for e in s.wirelog.entries if (e.http or {}).get("method") == "GET"]
        return ex, gets

    ex, gets = run(go(False))
    assert ex.ok and gets == []
    t0 = time.monotonic()
    ex, gets = run(go(True))
    assert ex.ok and time.monotonic() - t0 < 3
    assert gets[0].direction == "out" and gets[0].http["headers"]["mcp-session-id"]
    assert any(e.direction == "in" and e.http.get("status") == 200 for e in gets)

"""The fixture servers behave as designed, checked with raw JSON-RPC (subprocess pipes / httpx), no SDK client
and no mcpcheck code: if one of these fails, mcpcheck's own tests against the fixtures mean nothing."""

from __future__ import annotations

import ast
import json
import os
import socket
from pathlib import Path

import httpx
import pytest

import servers
from fixtures.rawrpc import StdioPeer, Timeout, modern_meta

START = 60.0  # generous first-response timeout: the SDK imports in ~1 s idle, much longer on a loaded box
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "smoke", "version": "0"}},
}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def _defects_in(path: Path) -> list[str]:
    """The DEFECTS dict keys of a fixture module, read without importing it (importing the SDK
    server would configure the root logger of the test process)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "DEFECTS":
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"no DEFECTS in {path}")


def _sse_or_json(resp: httpx.Response) -> dict:
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in resp.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return json.loads(data[-1])
    return resp.json()


def _listen_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket in LISTEN state on `port` (from /proc/net/tcp{,6})."""
    found = set()
    for name, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr_hex)
            if v6:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                found.add(socket.inet_ntop(socket.AF_INET6, words))
            else:
                found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
    return found


# ---------------------------------------------------------------------------------- bookkeeping


def test_defect_names_agree_with_the_fixture_modules():
    assert _defects_in(servers.FIXTURES / "broken_proxy.py") == ["none", *servers.BROKEN_STDIO_DEFECTS]
    assert _defects_in(servers.FIXTURES / "broken_http.py") == ["none", *servers.BROKEN_HTTP_DEFECTS]


# ---------------------------------------------------------------------------------- clean stdio


def test_clean_server_stdio_surface_and_hygiene():
    with StdioPeer(servers.clean_stdio_cmd()) as p:
        init = p.request("initialize", INIT["params"], timeout=START)["result"]
        assert init["protocolVersion"] == "2025-11-25"
        assert init["serverInfo"]["version"]
        assert {"tools", "resources", "prompts", "completions"} <= set(init["capabilities"])
        p.notify("notifications/initialized")

        tools = {t["name"]: t for t in p.request("tools/list")["result"]["tools"]}
        assert {"echo", "add", "get_item", "create_item", "place_order", "delete_item"} <= set(tools)
        assert tools["add"]["outputSchema"]["properties"]["result"]["type"] == "integer"
        assert tools["get_item"]["annotations"] == {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False}
        assert tools["delete_item"]["annotations"]["destructiveHint"] is True
        lines = tools["place_order"]["inputSchema"]["properties"]["lines"]
        assert lines["minItems"] == 1 and lines["maxItems"] == 10

        added = p.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})["result"]
        assert added["structuredContent"] == {"result": 5} and added["isError"] is False
        created = p.request("tools/call", {"name": "create_item", "arguments": {"name": "smoke"}})["result"]
        item_id = created["structuredContent"]["id"]
        got = p.request("tools/call", {"name": "get_item", "arguments": {"id": item_id}})["result"]
        assert got["structuredContent"]["name"] == "smoke"
        deleted = p.request("tools/call", {"name": "delete_item", "arguments": {"id": item_id}})["result"]
        assert deleted["structuredContent"] == {"id": item_id, "deleted": True}
        bad = p.request("tools/call", {"name": "place_order", "arguments": {"customer": "Bob", "lines": []}})["result"]
        assert bad["isError"] is True  # constraints are enforced

        assert p.request("resources/read", {"uri": "mem://readme"})["result"]["contents"][0]["text"]
        assert p.request("prompts/get", {"name": "summarize_item"})["error"]["code"] == -32602
        assert p.request("completion/complete", {
            "ref": {"type": "ref/prompt", "name": "summarize_item"}, "argument": {"name": "style", "value": "sh"},
        })["result"]["completion"]["values"] == ["short"]
        assert p.request("mcpcheck/nope")["error"]["code"] == -32601
        assert p.request("ping")["result"] == {}
    assert p.proc.returncode == 0  # exits on stdin EOF
    for line in p.raw:  # nothing but one JSON-RPC object per line
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert len(p.stderr) < 2000, bytes(p.stderr)[:2000]


def test_clean_server_stdio_modern_era():
    with StdioPeer(servers.clean_stdio_cmd()) as p:
        disc = p.request("server/discover", {"_meta": modern_meta()}, timeout=START)["result"]
        assert "2026-07-28" in disc["supportedVersions"] and disc["resultType"] == "complete"
        listed = p.request("tools/list", {"_meta": modern_meta()})["result"]
        assert listed["resultType"] == "complete" and "ttlMs" in listed and listed["tools"]


# ---------------------------------------------------------------------------------- broken stdio


def test_proxy_none_is_a_transparent_passthrough():
    with StdioPeer(servers.broken_stdio_cmd("none")) as p:
        assert p.request("initialize", INIT["params"], id=7, timeout=START)["id"] == 7
        p.notify("notifications/initialized")
        assert p.request("tools/list")["result"]["tools"]
        assert p.drain(0.3) == []
    assert p.proc.returncode == 0


def test_proxy_string_ids():
    with StdioPeer(servers.broken_stdio_cmd("string_ids")) as p:
        p.send(INIT)
        first = p.recv(START)
        assert first["id"] == "1" and "result" in first
        p.send({"jsonrpc": "2.0", "id": "s", "method": "ping"})
        assert p.recv(10)["id"] == "s"


def test_proxy_banner():
    with StdioPeer(servers.broken_stdio_cmd("banner")) as p:
        assert p.recv(START).startswith("***")  # before anything was asked
        p.send(INIT)
        assert p.recv(START)["id"] == 1
        p.send(TOOLS_LIST)
        assert p.recv(10)["id"] == 2
        assert isinstance(p.recv(10), str)  # a banner after every tools/list


def test_proxy_cursor_loop():
    with StdioPeer(servers.broken_stdio_cmd("cursor_loop")) as p:
        p.request("initialize", INIT["params"], timeout=START)
        assert p.request("tools/list")["result"]["nextCursor"] == "again"
        assert p.request("tools/list", {"cursor": "again"})["result"]["nextCursor"] == "again"


def test_proxy_hang_on_ping():
    with StdioPeer(servers.broken_stdio_cmd("hang_on_ping")) as p:
        p.request("initialize", INIT["params"], timeout=START)
        assert p.request("tools/list", timeout=10)["result"]["tools"]  # the child is up and fast
        with pytest.raises(Timeout):
            p.request("ping", timeout=1.5)
        assert "result" in p.request("tools/list", timeout=10)  # only ping hangs


def test_proxy_crash_on_garbage():
    with StdioPeer(servers.broken_stdio_cmd("crash_on_garbage")) as p:
        p.request("initialize", INIT["params"], timeout=START)
        p.send_line("this is not json")
        assert p.proc.wait(10) == 3


# ---------------------------------------------------------------------------------- HTTP


def test_clean_http_rejects_hostile_origin_and_the_broken_one_does_not():
    with servers.clean_http() as url, httpx.Client(timeout=30) as c:
        r = c.post(url, json=INIT, headers=ACCEPT)
        assert r.status_code == 200 and r.headers.get("mcp-session-id")
        assert _sse_or_json(r)["result"]["protocolVersion"] == "2025-11-25"
        evil = c.post(url, json=INIT, headers={**ACCEPT, "Origin": "http://evil.example"})
        assert evil.status_code == 403  # the SDK's own DNS-rebinding protection (on by default for 127.0.0.1)
        ok = c.post(url, json=INIT, headers={**ACCEPT, "Origin": f"http://127.0.0.1:{url.port}"})
        assert ok.status_code == 200
    with servers.broken_http("no_origin_check") as url, httpx.Client(timeout=30) as c:
        evil = c.post(url, json=INIT, headers={**ACCEPT, "Origin": "http://evil.example"})
        assert evil.status_code == 200
        assert _sse_or_json(evil)["result"]["serverInfo"]["name"] == "mcpcheck-clean-fixture"


def test_serve_http_stops_the_whole_process_group():
    with servers.clean_http(json_response=True) as url:
        proc, port = url.proc, url.port
        assert _listen_addresses(port) == {"127.0.0.1"}
    assert proc.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


# ---------------------------------------------------------------------------------- third party


@pytest.fixture(scope="module")
def npm_servers():
    if not servers.npm_available():
        pytest.skip("Node.js / npm not available")
    return servers.ensure_npm_servers()


@pytest.mark.thirdparty
def test_everything_http_listens_on_loopback_only(npm_servers):
    with servers.everything_http() as url, httpx.Client(timeout=30) as c:
        assert url.endswith("/mcp")
        assert _listen_addresses(url.port) == {"127.0.0.1"}, "loopback.cjs must keep it off other interfaces"
        r = c.post(url, json=INIT, headers=ACCEPT)
        assert r.status_code == 200 and r.headers.get("mcp-session-id")
        assert _sse_or_json(r)["result"]["serverInfo"]["name"] == "mcp-servers/everything"


@pytest.mark.thirdparty
def test_everything_sse_endpoint_event(npm_servers):
    with servers.everything_sse() as url, httpx.Client(timeout=30) as c:
        assert _listen_addresses(url.port) == {"127.0.0.1"}
        with c.stream("GET", url, headers={"Accept": "text/event-stream"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "event: endpoint"
            assert next(lines).startswith("data: /message?sessionId=")


@pytest.mark.thirdparty
def test_memory_server_writes_only_to_a_temp_dir(npm_servers):
    before = set(Path(servers.THIRDPARTY).rglob("memory*.json*"))
    with StdioPeer(servers.memory_stdio_cmd()) as p:
        p.request("initialize", INIT["params"], timeout=START)
        p.request("tools/call", {"name": "create_entities", "arguments": {
            "entities": [{"name": "smoke", "entityType": "test", "observations": ["x"]}]}})
        graph = p.request("tools/call", {"name": "read_graph", "arguments": {}})["result"]
        assert "smoke" in json.dumps(graph)
    assert set(Path(servers.THIRDPARTY).rglob("memory*.json*")) == before


def test_time_server_starts_in_utc():
    pytest.importorskip("mcp_server_time")
    with StdioPeer(servers.time_stdio_cmd()) as p:
        p.request("initialize", INIT["params"], timeout=START)
        tools = {t["name"] for t in p.request("tools/list")["result"]["tools"]}
        assert tools == {"get_current_time", "convert_time"}
        schema = next(t for t in p.request("tools/list")["result"]["tools"] if t["name"] == "get_current_time")
        assert "UTC" in json.dumps(schema)  # --local-timezone UTC is the default it advertises

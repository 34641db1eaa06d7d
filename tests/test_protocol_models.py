"""conformance/protocol: real-world samples (no false alarms), rule-by-rule rejections, what
differs per revision, classify, `_meta` keys, robustness (never raises), SDK cross-check.

Needs nothing outside the repository (the spec-schema comparisons live in
test_protocol_spec_examples.py and skip without ../shared)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any

import pytest

from mcpcheck.protocol import (
    HANDSHAKE_REVISIONS,
    LATEST,
    REVISIONS,
    STATELESS_REVISIONS,
    Violation,
    classify,
    era,
    is_stateless,
    known_methods,
    known_notifications,
    known_server_requests,
    meta_key_violations,
    normalize,
    result_advisories,
    validate_error,
    validate_message,
    validate_result,
)
from mcpcheck.protocol import revisions as revs
from mcpcheck.protocol.crosscheck import sdk_result_problems
from mcpcheck.protocol.scalars import is_base64
from mcpcheck.protocol.violations import pointer

R1, R2, R3, R4, R5 = revs.R1, revs.R2, revs.R3, revs.R4, revs.R5
TINY_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()
SERVER_INFO_META = {"io.modelcontextprotocol/serverInfo": {"name": "fixture", "version": "1.2.3"}}


def rules(violations: list[Violation]) -> set[str | None]:
    return {v.rule for v in violations}


def paths(violations: list[Violation]) -> set[str]:
    return {v.path for v in violations}


# =========================================================================== real-world samples

#: Shaped like what the official Python SDK (mcp 2.3.0, MCPServer) answers, recorded from a
#: fixture server in handshake mode and trimmed by hand.
PY_SDK_HANDSHAKE: dict[str, Any] = {
    "initialize": {
        "capabilities": {
            "prompts": {"listChanged": False},
            "resources": {"listChanged": False, "subscribe": False},
            "tools": {"listChanged": False},
        },
        "instructions": "test fixture",
        "protocolVersion": "2025-06-18",
        "serverInfo": {"name": "fixture", "version": "1.2.3"},
    },
    "ping": {},
    "tools/list": {
        "tools": [
            {
                "annotations": {"openWorldHint": False, "readOnlyHint": True, "title": "Add"},
                "description": "Add two integers.",
                "inputSchema": {
                    "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
                    "required": ["a", "b"],
                    "type": "object",
                    "title": "addArguments",
                },
                "name": "add",
                "outputSchema": {
                    "properties": {"result": {"title": "Result", "type": "integer"}},
                    "required": ["result"],
                    "type": "object",
                    "title": "addOutput",
                },
            },
            {
                "description": "Price an order",
                "inputSchema": {
                    "$defs": {
                        "Item": {
                            "properties": {
                                "sku": {"pattern": "^[A-Z]{3}-[0-9]{3}$", "title": "Sku", "type": "string"},
                                "qty": {"maximum": 99, "minimum": 1, "title": "Qty", "type": "integer"},
                            },
                            "required": ["sku", "qty"],
                            "title": "Item",
                            "type": "object",
                        }
                    },
                    "properties": {
                        "items": {"items": {"$ref": "#/$defs/Item"}, "title": "Items", "type": "array"},
                        "express": {"default": False, "title": "Express", "type": "boolean"},
                        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"},
                    },
                    "required": ["items"],
                    "type": "object",
                    "title": "orderArguments",
                },
                "name": "order",
            },
        ]
    },
    "tools/call": [
        {
            "content": [{"text": '{\n  "temperature": 21.5,\n  "conditions": "sunny"\n}', "type": "text"}],
            "isError": False,
            "structuredContent": {"temperature": 21.5, "conditions": "sunny"},
        },
        {
            "content": [
                {"text": "hi", "type": "text"},
                {"data": "iVBORw==", "mimeType": "image/png", "type": "image"},
                {"data": "UklGRg==", "mimeType": "audio/wav", "type": "audio"},
                {"mimeType": "text/plain", "name": "x.txt", "type": "resource_link", "uri": "file:///x.txt"},
                {"resource": {"mimeType": "text/plain", "text": "abc", "uri": "mem://a"}, "type": "resource"},
            ],
            "isError": False,
        },
        {"content": [{"text": "Error executing tool boom", "type": "text"}], "isError": True},
        {"content": [{"text": "Unknown tool: nope", "type": "text"}], "isError": True},
    ],
    "resources/list": {
        "resources": [
            {"description": "", "mimeType": "text/plain", "name": "greeting", "uri": "mem://greeting"},
            {"description": "", "mimeType": "application/octet-stream", "name": "binres", "uri": "mem://bin"},
        ]
    },
    "resources/templates/list": {
        "resourceTemplates": [{"description": "", "mimeType": "text/plain", "name": "item", "uriTemplate": "mem://item/{id}"}]
    },
    "resources/read": [
        {"contents": [{"mimeType": "text/plain", "text": "hello", "uri": "mem://greeting"}]},
        {"contents": [{"blob": "AAEC", "mimeType": "application/octet-stream", "uri": "mem://bin"}]},
    ],
    "prompts/list": {"prompts": [{"arguments": [{"name": "code", "required": True}], "description": "Review code", "name": "review"}]},
    "prompts/get": {
        "description": "Review code",
        "messages": [{"content": {"text": "Please review:\nx=1", "type": "text"}, "role": "user"}],
    },
    "completion/complete": {"completion": {"values": ["python", "pytorch"], "total": 2, "hasMore": False}},
    "logging/setLevel": {},
}


def _modern(result: dict, *, cacheable: bool) -> dict:
    out = {**copy.deepcopy(result), "resultType": "complete", "_meta": SERVER_INFO_META}
    if cacheable:
        out.update(ttlMs=0, cacheScope="private")
    return out


#: The same server answering 2026-07-28 requests (resultType, ttlMs/cacheScope, serverInfo).
PY_SDK_MODERN: dict[str, Any] = {
    "server/discover": {
        "cacheScope": "private",
        "capabilities": {
            "prompts": {"listChanged": True},
            "resources": {"listChanged": True, "subscribe": True},
            "tools": {"listChanged": True},
        },
        "instructions": "test fixture",
        "resultType": "complete",
        "supportedVersions": ["2026-07-28"],
        "ttlMs": 0,
        "_meta": SERVER_INFO_META,
    },
    **{
        method: (
            [_modern(r, cacheable=method in ("resources/read",)) for r in value]
            if isinstance(value, list)
            else _modern(value, cacheable=method.endswith("/list"))
        )
        for method, value in PY_SDK_HANDSHAKE.items()
        if method not in ("initialize", "ping", "logging/setLevel")
    },
}

#: Shaped like @modelcontextprotocol/server-everything (TypeScript SDK, zod-to-json-schema).
EVERYTHING: dict[str, Any] = {
    "initialize": {
        "protocolVersion": "2025-06-18",
        "capabilities": {
            "prompts": {},
            "resources": {"subscribe": True},
            "tools": {},
            "logging": {},
            "completions": {},
        },
        "serverInfo": {"name": "example-servers/everything", "title": "Everything Example Server", "version": "1.0.0"},
        "instructions": "Testing and demonstration server for MCP protocol features.",
    },
    "tools/list": {
        "tools": [
            {
                "name": "echo",
                "description": "Echoes back the input",
                "inputSchema": {
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "Message to echo"}},
                    "required": ["message"],
                    "additionalProperties": False,
                    "$schema": "http://json-schema.org/draft-07/schema#",
                },
            },
            {
                "name": "getTinyImage",
                "description": "Returns the MCP_TINY_IMAGE",
                "inputSchema": {
                    "type": "object",
                    "properties": {},
                    "additionalProperties": False,
                    "$schema": "http://json-schema.org/draft-07/schema#",
                },
                "annotations": {"title": "Tiny image", "readOnlyHint": True, "openWorldHint": False},
            },
            {
                "name": "getWeather",
                "title": "Weather",
                "description": "Returns structured weather data",
                "inputSchema": {
                    "type": "object",
                    "properties": {"location": {"type": "string", "minLength": 1}},
                    "required": ["location"],
                    "additionalProperties": False,
                    "$schema": "http://json-schema.org/draft-07/schema#",
                },
                "outputSchema": {
                    "type": "object",
                    "properties": {
                        "temperature": {"type": "number"},
                        "conditions": {"type": "string"},
                        "humidity": {"type": "number"},
                    },
                    "required": ["temperature", "conditions", "humidity"],
                    "additionalProperties": False,
                    "$schema": "http://json-schema.org/draft-07/schema#",
                },
                "annotations": {"destructiveHint": False, "idempotentHint": True},
            },
        ],
        "nextCursor": "eyJwYWdlIjoxfQ==",
    },
    "tools/call": [
        {"content": [{"type": "text", "text": "Echo: hello"}]},
        {
            "content": [
                {"type": "text", "text": "This is a tiny image:"},
                {"type": "image", "data": TINY_PNG, "mimeType": "image/png"},
                {"type": "text", "text": "The image above is the MCP tiny image."},
            ]
        },
        {
            "content": [
                {"type": "text", "text": "Error: something went wrong", "annotations": {"priority": 1.0, "audience": ["user", "assistant"]}},
                {"type": "image", "data": TINY_PNG, "mimeType": "image/png", "annotations": {"priority": 0.5, "audience": ["user"]}},
            ]
        },
        {
            "content": [
                {"type": "text", "text": "Returning resource reference for Resource 2:"},
                {
                    "type": "resource",
                    "resource": {"uri": "test://static/resource/2", "mimeType": "application/octet-stream", "blob": "UmVzb3VyY2UgMg=="},
                },
            ]
        },
        {
            "content": [
                {"type": "text", "text": "Here are 2 resource links:"},
                {
                    "type": "resource_link",
                    "uri": "test://static/resource/1",
                    "name": "Resource 1",
                    "description": "Resource 1: plaintext resource",
                    "mimeType": "text/plain",
                },
                {"type": "resource_link", "uri": "test://static/resource/2", "name": "Resource 2", "mimeType": "application/octet-stream"},
            ]
        },
        {
            "content": [{"type": "text", "text": '{"temperature":22.5,"conditions":"Stormy","humidity":82}'}],
            "structuredContent": {"temperature": 22.5, "conditions": "Stormy", "humidity": 82},
        },
        {"content": [{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]},
        {"content": [{"type": "text", "text": "Tool failed: unknown location"}], "isError": True},
    ],
    "resources/list": {
        "resources": [
            {"uri": "test://static/resource/1", "name": "Resource 1", "mimeType": "text/plain"},
            {"uri": "test://static/resource/2", "name": "Resource 2", "mimeType": "application/octet-stream"},
        ],
        "nextCursor": "MTA=",
    },
    "resources/templates/list": {
        "resourceTemplates": [
            {"uriTemplate": "test://static/resource/{id}", "name": "Static Resource", "description": "A static resource with a numeric ID"}
        ]
    },
    "resources/read": [
        {"contents": [{"uri": "test://static/resource/1", "name": "Resource 1", "mimeType": "text/plain", "text": "Resource 1: This is a plaintext resource"}]},
        {"contents": [{"uri": "test://static/resource/2", "name": "Resource 2", "mimeType": "application/octet-stream", "blob": "UmVzb3VyY2UgMjogVGhpcyBpcyBhIGJhc2U2NCBibG9i"}]},
    ],
    "prompts/list": {
        "prompts": [
            {"name": "simple_prompt", "description": "A prompt without arguments"},
            {
                "name": "complex_prompt",
                "description": "A prompt with arguments",
                "arguments": [
                    {"name": "temperature", "description": "Temperature setting", "required": True},
                    {"name": "style", "description": "Output style", "required": False},
                ],
            },
        ]
    },
    "prompts/get": [
        {
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "This is a complex prompt with arguments: temperature=0.7"}},
                {"role": "assistant", "content": {"type": "text", "text": "I understand. You've provided a complex prompt."}},
                {"role": "user", "content": {"type": "image", "data": TINY_PNG, "mimeType": "image/png"}},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "This prompt includes Resource 3."}},
                {
                    "role": "user",
                    "content": {"type": "resource", "resource": {"uri": "test://static/resource/3", "mimeType": "text/plain", "text": "Resource 3"}},
                },
            ]
        },
    ],
    "completion/complete": {"completion": {"values": ["1", "10", "100"], "hasMore": False, "total": 3}},
    "resources/subscribe": {},
    "ping": {},
}

#: Messages a handshake-era server pushes or asks (server-everything and the Python SDK).
PUSHED_HANDSHAKE = [
    {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "logger": "everything", "data": "Info-level message"}},
    {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "error", "data": {"error": "Connection failed", "port": 5432}}},
    {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1, "total": 5, "progressToken": 3}},
    {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 2.5, "total": 5.0, "progressToken": "t-1", "message": "halfway"}},
    {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "test://static/resource/1"}},
    {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"},
    {"jsonrpc": "2.0", "method": "notifications/resources/list_changed", "params": {}},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "timeout"}},
    {"jsonrpc": "2.0", "id": 0, "method": "ping"},
    {"jsonrpc": "2.0", "id": 1, "method": "roots/list", "params": {}},
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "sampling/createMessage",
        "params": {
            "messages": [{"role": "user", "content": {"type": "text", "text": "Resource sampleLLM context: hi"}}],
            "systemPrompt": "You are a helpful test server.",
            "maxTokens": 100,
            "temperature": 0.7,
            "includeContext": "thisServer",
        },
    },
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "elicitation/create",
        "params": {
            "message": "Please provide inputs for the following fields:",
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "name": {"title": "Full Name", "type": "string", "description": "Your full, legal name"},
                    "check": {"title": "Agree to terms", "type": "boolean", "default": False},
                    "email": {"title": "Email", "type": "string", "format": "email"},
                    "integer": {"title": "Integer", "type": "integer", "minimum": 1, "maximum": 100},
                    "color": {"title": "Colour", "type": "string", "enum": ["red", "green"], "enumNames": ["Red", "Green"]},
                },
                "required": ["name"],
            },
        },
    },
    {"jsonrpc": "2.0", "id": 9, "result": {}},
    {"jsonrpc": "2.0", "id": "abc", "error": {"code": -32601, "message": "Method not found", "data": "foo/bar"}},
    {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}},
    {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}},
]

PUSHED_MODERN = [
    {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "warning", "data": "careful"}},
    {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 0.25, "progressToken": "p"}},
    {
        "jsonrpc": "2.0",
        "method": "notifications/subscriptions/acknowledged",
        "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": 12}, "notifications": {"toolsListChanged": True}},
    },
    {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": 12}}},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 12, "reason": "server shutting down"}},
    {"jsonrpc": "2.0", "id": 4, "result": {"resultType": "complete", "_meta": {"io.modelcontextprotocol/subscriptionId": 12}}},
    {
        "jsonrpc": "2.0",
        "id": 5,
        "error": {"code": -32022, "message": "Unsupported protocol version", "data": {"supported": ["2026-07-28", "2025-11-25"], "requested": "1900-01-01"}},
    },
    {"jsonrpc": "2.0", "id": 6, "error": {"code": -32021, "message": "Needs elicitation", "data": {"requiredCapabilities": {"elicitation": {}}}}},
    {"jsonrpc": "2.0", "id": 7, "error": {"code": -32020, "message": "Header mismatch"}},
]


def _samples(table: dict[str, Any]):
    for method, value in table.items():
        for index, result in enumerate(value if isinstance(value, list) else [value]):
            yield method, index, result


REAL_WORLD = [
    *[(rev, "python-sdk", m, i, r) for rev in HANDSHAKE_REVISIONS for m, i, r in _samples(PY_SDK_HANDSHAKE)],
    *[(R5, "python-sdk", m, i, r) for m, i, r in _samples(PY_SDK_MODERN)],
    *[(rev, "everything", m, i, r) for rev in HANDSHAKE_REVISIONS for m, i, r in _samples(EVERYTHING)],
]


@pytest.mark.parametrize("revision,server,method,index,result", REAL_WORLD, ids=lambda v: str(v) if not isinstance(v, dict) else "r")
def test_real_world_results_have_no_violations(revision, server, method, index, result):
    assert validate_result(method, revision, result) == []
    assert result_advisories(method, revision, result) == []
    response = {"jsonrpc": "2.0", "id": index, "result": result}
    assert classify(response) == "response"
    assert validate_message(response, revision) == []
    assert meta_key_violations(result.get("_meta", {}), revision) == []


@pytest.mark.parametrize("revision", HANDSHAKE_REVISIONS)
@pytest.mark.parametrize("message", PUSHED_HANDSHAKE, ids=lambda m: m.get("method") or str(m.get("id")))
def test_real_world_pushed_messages_have_no_violations(message, revision):
    if message.get("method") == "elicitation/create" and revision < R3:
        pytest.skip("elicitation appeared in 2025-06-18")
    assert validate_message(message, revision) == []
    assert classify(message) != "invalid"


@pytest.mark.parametrize("message", PUSHED_MODERN, ids=lambda m: m.get("method") or str(m.get("id")))
def test_real_world_modern_pushed_messages_have_no_violations(message):
    assert validate_message(message, R5) == []


def test_sdk_crosscheck_agrees_on_real_world_samples():
    pytest.importorskip("mcp_types")
    checked = 0
    for revision, _, method, _, result in REAL_WORLD:
        problems = sdk_result_problems(method, revision, result)
        if problems is None:
            continue
        assert problems == [], (revision, method, problems)
        checked += 1
    assert checked > 50


def test_sdk_crosscheck_rejects_what_we_reject():
    pytest.importorskip("mcp_types")
    broken = [
        ("tools/list", R3, {"tools": [{"name": "x"}]}),
        ("tools/list", R5, {"tools": [], "resultType": "complete"}),
        ("tools/call", R4, {"isError": False}),
        ("initialize", R4, {"protocolVersion": R4, "capabilities": {}}),
    ]
    for method, revision, result in broken:
        assert validate_result(method, revision, result), (method, revision)
        assert sdk_result_problems(method, revision, result), (method, revision)
    assert sdk_result_problems("no/such", R3, {}) is None


def test_crosscheck_without_sdk_returns_none(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mcp_types", None)
    assert sdk_result_problems("tools/list", R3, {"tools": []}) is None


# =========================================================================== rejections

TOOL = {"name": "t", "inputSchema": {"type": "object"}}


def listing(revision: str, **extra: Any) -> dict:
    out: dict[str, Any] = {"tools": [TOOL]}
    if revision == R5:
        out.update(resultType="complete", ttlMs=1000, cacheScope="public")
    out.update(extra)
    return {k: v for k, v in out.items() if v is not DROP}


DROP = object()


@pytest.mark.parametrize(
    "method,revision,result,path,rule",
    [
        ("tools/list", R3, {"tools": [{"inputSchema": {"type": "object"}}]}, "/tools/0/name", "T2"),
        ("tools/list", R3, {"tools": [{"name": "t", "inputSchema": None}]}, "/tools/0/inputSchema", "T3"),
        ("tools/list", R3, {"tools": [{"name": "t"}]}, "/tools/0/inputSchema", "T3"),
        ("tools/list", R4, {"tools": [{"name": "t", "inputSchema": {"type": "array"}}]}, "/tools/0/inputSchema/type", "T3"),
        ("tools/list", R3, {"tools": [{**TOOL, "annotations": {"destructiveHint": "no"}}]}, "/tools/0/annotations/destructiveHint", "T13"),
        ("tools/list", R3, {"tools": [{**TOOL, "outputSchema": {"type": "array"}}]}, "/tools/0/outputSchema/type", "T12"),
        ("tools/list", R5, listing(R5, resultType=DROP), "/resultType", "J14"),
        ("tools/list", R5, listing(R5, resultType=1), "/resultType", "J14"),
        ("tools/list", R5, listing(R5, ttlMs=DROP), "/ttlMs", "CA1"),
        ("tools/list", R5, listing(R5, ttlMs=-5), "/ttlMs", "CA1"),
        ("tools/list", R5, listing(R5, ttlMs=True), "/ttlMs", "CA1"),
        ("tools/list", R5, listing(R5, cacheScope="Public"), "/cacheScope", "CA1"),
        ("tools/list", R3, {"tools": [TOOL], "nextCursor": 2}, "/nextCursor", "PG1"),
        ("tools/call", R3, {"content": [{"type": "text", "text": "x"}], "isError": "true"}, "/isError", "T15"),
        ("tools/call", R3, {"content": [{"type": "image", "data": "@@", "mimeType": "image/png"}]}, "/content/0/data", "T15"),
        ("tools/call", R3, {"content": [{"type": "audio", "data": WAV}]}, "/content/0/mimeType", "T15"),
        ("tools/call", R3, {"content": [{"type": "Text", "text": "x"}]}, "/content/0", "T15"),
        ("tools/call", R3, {"content": "hello"}, "/content", "T15"),
        ("tools/call", R4, {"content": [], "structuredContent": "42"}, "/structuredContent", "T12"),
        ("tools/call", R5, {"content": []}, "/resultType", "J14"),
        ("tools/call", R5, {"resultType": "input_required"}, "", "M3"),
        ("tools/call", R5, {"resultType": "input_required", "inputRequests": {"a": {"method": "tools/call"}}}, "/inputRequests/a", "M3"),
        ("tools/list", R5, {"resultType": "input_required", "requestState": "s"}, "/resultType", "M3"),
        ("resources/read", R3, {"contents": [{"uri": "a://b"}]}, "/contents/0", "RS3"),
        ("resources/read", R3, {"contents": [{"uri": "a://b", "blob": "not base64"}]}, "/contents/0/blob", "RS3"),
        ("resources/read", R5, {"resultType": "complete", "contents": [], "cacheScope": "everyone"}, "/cacheScope", "CA1"),
        ("resources/list", R3, {"resources": [{"uri": "a://b"}]}, "/resources/0/name", "RS2"),
        ("prompts/get", R3, {"messages": [{"role": "system", "content": {"type": "text", "text": "x"}}]}, "/messages/0/role", "P1"),
        ("prompts/get", R3, {"messages": [{"role": "user", "content": {"type": "image", "data": "x y", "mimeType": "image/png"}}]}, "/messages/0/content/data", "T15"),
        ("completion/complete", R3, {"completion": {"values": ["x"] * 101}}, "/completion/values", "C1"),
        ("completion/complete", R1, {"completion": {"values": [1]}}, "/completion/values/0", "C1"),
        ("initialize", R3, {"protocolVersion": R3, "capabilities": {}, "serverInfo": {"name": "s"}}, "/serverInfo/version", "L1"),
        ("initialize", R3, {"protocolVersion": R3, "serverInfo": {"name": "s", "version": "1"}}, "/capabilities", "L1"),
        ("server/discover", R5, {"resultType": "complete", "supportedVersions": R5, "capabilities": {}, "ttlMs": 0, "cacheScope": "public"}, "/supportedVersions", "V2"),
        (
            "server/discover",
            R5,
            {"resultType": "complete", "supportedVersions": [R5], "capabilities": {"extensions": {"tasks": {}}}, "ttlMs": 0, "cacheScope": "public"},
            "/capabilities/extensions/tasks",
            "V5",
        ),
        ("subscriptions/listen", R5, {"resultType": "complete"}, "/_meta", "SB3"),
        ("tasks/get", R4, {"taskId": "t", "status": "running", "createdAt": "x", "lastUpdatedAt": "x", "ttl": None}, "/status", "TK1"),
    ],
)
def test_rejections(method, revision, result, path, rule):
    violations = validate_result(method, revision, result)
    assert (path, rule) in {(v.path, v.rule) for v in violations}, [str(v) for v in violations]
    for v in violations:
        assert v.level == "MUST" and v.revision == revision and v.message.endswith(".")


def test_messages_name_the_field_and_the_problem():
    [v] = validate_result("tools/list", R3, {"tools": [{"name": "t", "inputSchema": None}]})
    assert v.path == "/tools/0/inputSchema"
    assert v.message == "result.tools[0].inputSchema must be an object, got null."
    [v] = validate_result("tools/call", R3, {"content": [], "isError": "true"})
    assert v.message == 'result.isError must be a boolean, got string "true".'


def test_extras_never_mask_type_errors():
    result = {"tools": [{**TOOL, "name": 5, "nameX": "ok", "x": {"y": 1}}], "extra": None}
    assert paths(validate_result("tools/list", R3, result)) == {"/tools/0/name"}


def test_explicit_null_is_not_omission():
    assert validate_result("tools/list", R3, {"tools": [{**TOOL, "description": None}]})
    assert validate_result("tools/list", R3, {"tools": [TOOL], "nextCursor": None})
    assert validate_result("tools/list", R3, {"tools": [TOOL]}) == []


def test_strict_scalars():
    assert validate_result("tools/call", R3, {"content": [], "isError": 0})
    assert validate_result("completion/complete", R3, {"completion": {"values": [], "total": "3"}})
    assert validate_result("completion/complete", R3, {"completion": {"values": [], "total": True}})
    # JSON Schema "integer": an integral float is an integer for payload fields...
    assert validate_result("completion/complete", R3, {"completion": {"values": [], "total": 3.0}}) == []
    assert validate_result("tools/list", R5, listing(R5, ttlMs=60000.0)) == []
    # ...but not for error codes and ids
    assert rules(validate_error({"code": -32601.0, "message": "x"}, R3)) == {"J5"}
    assert rules(validate_message({"jsonrpc": "2.0", "id": 1.0, "result": {}}, R3)) == {"J4"}


def test_base64():
    for good in ["", "AAEC", "iVBORw==", TINY_PNG, "QUJD\nREVG\n"]:
        assert is_base64(good), good
    for bad in ["AAE", "A===", "iVBORw=", "data:image/png;base64,AAEC", "not base64", "-_-_", 5, None]:
        assert not is_base64(bad), bad


def test_result_must_be_an_object():
    [v] = validate_result("tools/list", R3, [])
    assert (v.path, v.rule) == ("", "J1")
    assert validate_result("ping", R3, None)


# =========================================================================== per revision


def test_resulttype_only_from_r5():
    ok = {"tools": [TOOL]}
    for revision in HANDSHAKE_REVISIONS:
        assert validate_result("tools/list", revision, ok) == []
        # unknown extension field before R5: never type-checked
        assert validate_result("tools/list", revision, {**ok, "resultType": 5, "ttlMs": "x"}) == []
    assert rules(validate_result("tools/list", R5, ok)) == {"J14", "CA1"}


def test_fields_newer_than_the_revision_are_not_checked():
    tool = {**TOOL, "title": 1, "outputSchema": "x", "icons": "x", "execution": 1}
    assert validate_result("tools/list", R1, {"tools": [tool]}) == []
    assert paths(validate_result("tools/list", R3, {"tools": [tool]})) == {"/tools/0/title", "/tools/0/outputSchema"}
    assert paths(validate_result("tools/list", R4, {"tools": [tool]})) == {
        "/tools/0/title",
        "/tools/0/outputSchema",
        "/tools/0/icons",
        "/tools/0/execution",
    }
    # execution existed only in 2025-11-25
    assert "/tools/0/execution" not in paths(validate_result("tools/list", R5, listing(R5, tools=[tool])))
    # tool annotations appeared in 2025-03-26
    bad = {"tools": [{**TOOL, "annotations": {"readOnlyHint": "yes"}}]}
    assert validate_result("tools/list", R1, bad) == []
    assert validate_result("tools/list", R2, bad)


def test_structured_content_and_output_schema_per_revision():
    arr = {"content": [], "structuredContent": [1, 2]}
    assert validate_result("tools/call", R2, arr) == []  # not defined before R3
    assert validate_result("tools/call", R3, arr)
    assert validate_result("tools/call", R4, arr)
    assert validate_result("tools/call", R5, {**arr, "resultType": "complete"}) == []
    loose = {"tools": [{**TOOL, "outputSchema": {"type": "array", "items": {}}}]}
    assert validate_result("tools/list", R4, loose)
    assert validate_result("tools/list", R5, listing(R5, **loose)) == []


def test_handshake_only_and_stateless_only_methods():
    assert "initialize" in known_methods(R3) and "initialize" not in known_methods(R5)
    assert "server/discover" in known_methods(R5) and "server/discover" not in known_methods(R4)
    assert "tasks/get" in known_methods(R4) and "tasks/get" not in known_methods(R5)
    assert validate_result("initialize", R5, {"nonsense": True}) == []
    assert validate_result("server/discover", R4, 5) == []
    assert "notifications/subscriptions/acknowledged" in known_notifications(R5)
    assert "notifications/elicitation/complete" in known_notifications(R4)
    assert known_server_requests(R5) == ()
    assert "elicitation/create" in known_server_requests(R3) and "elicitation/create" not in known_server_requests(R2)


def test_r4_task_results():
    task = {"taskId": "t1", "status": "working", "createdAt": "2025-11-25T00:00:00Z", "lastUpdatedAt": "2025-11-25T00:00:00Z", "ttl": 60000}
    assert validate_result("tools/call", R4, {"task": task}) == []
    assert validate_result("tools/call", R4, {"task": {**task, "ttl": "1h"}})
    assert validate_result("tasks/get", R4, {**task, "pollInterval": 500}) == []
    assert validate_result("tasks/list", R4, {"tasks": [task], "nextCursor": "n"}) == []
    assert validate_message({"jsonrpc": "2.0", "method": "notifications/tasks/status", "params": task}, R4) == []


def test_r5_input_required():
    ok = {"resultType": "input_required", "requestState": "opaque"}
    for method in ("tools/call", "prompts/get", "resources/read"):
        assert validate_result(method, R5, ok) == []
    ask = {
        "resultType": "input_required",
        "inputRequests": {
            "who": {"method": "elicitation/create", "params": {"message": "name?", "requestedSchema": {"type": "object", "properties": {"n": {"type": "string"}}}}},
            "url": {"method": "elicitation/create", "params": {"mode": "url", "message": "log in", "url": "https://x"}},
            "llm": {"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 10}},
            "roots": {"method": "roots/list"},
        },
    }
    assert validate_result("tools/call", R5, ask) == []
    bad = copy.deepcopy(ask)
    bad["inputRequests"]["llm"]["params"]["maxTokens"] = "10"
    assert paths(validate_result("tools/call", R5, bad)) == {"/inputRequests/llm/params/maxTokens"}


def test_r5_extension_result_types_are_lenient():
    assert validate_result("tools/call", R5, {"resultType": "task", "task": {"id": 1}}) == []
    assert validate_result("tools/call", R5, {"resultType": "task", "_meta": []})


def test_cancelled_request_id_per_revision():
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"reason": "x"}}
    assert rules(validate_message(note, R3)) == {"CN1"}
    assert validate_message(note, R4) == []
    assert rules(validate_message(note, R5)) == {"CN1"}


def test_error_data_per_revision():
    unsupported = {"code": -32022, "message": "Unsupported protocol version"}
    assert validate_error(unsupported, R4) == []
    [v] = validate_error(unsupported, R5)
    assert (v.path, v.rule) == ("/data", "V1")
    assert paths(validate_error({**unsupported, "data": {"supported": "2026-07-28"}}, R5)) == {"/data/supported", "/data/requested"}
    missing_cap = {"code": -32021, "message": "x", "data": {"requiredCapabilities": []}}
    assert paths(validate_error(missing_cap, R5)) == {"/data/requiredCapabilities"}
    url = {"code": -32042, "message": "x", "data": {"elicitations": [{"mode": "url", "message": "m", "url": "https://x", "elicitationId": "e"}]}}
    assert validate_error(url, R4) == []
    assert paths(validate_error({**url, "data": {}}, R4)) == {"/data/elicitations"}


def test_r5_result_advisories():
    read = {"resultType": "complete", "contents": [{"uri": "a://b", "text": "x"}]}
    advisories = result_advisories("resources/read", R5, read)
    assert {(v.path, v.rule, v.level) for v in advisories} == {
        ("/_meta", "J16", "SHOULD"),
        ("/ttlMs", "CA1", "SHOULD"),
        ("/cacheScope", "CA1", "SHOULD"),
    }
    assert validate_result("resources/read", R5, read) == []  # advisories are not a verdict
    assert result_advisories("resources/read", R4, {"contents": []}) == []


def test_legacy_revisions_use_r3_shapes_minus_newer_fields():
    assert normalize(R1) == R1 and revs.is_legacy(R2) and not revs.is_legacy(R3)
    bad_progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1, "message": 5}}
    assert validate_message(bad_progress, R1) == []  # progress message appeared in 2025-03-26
    assert validate_message(bad_progress, R2)
    assert validate_result("tools/list", R2, {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}) == []


# =========================================================================== envelopes


@pytest.mark.parametrize(
    "message,kind",
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "id": "a", "method": "ping", "params": {}}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "x"}}, "error"),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "x"}}, "error"),
        ({"jsonrpc": "2.0", "error": {"code": -32700, "message": "x"}}, "error"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1.5, "result": {}}, "invalid"),
        ({"jsonrpc": "2.0", "id": None, "result": {}}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {}}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1}, "invalid"),
        ({"jsonrpc": "1.0", "id": 1, "result": {}}, "invalid"),
        ({"id": 1, "result": {}}, "invalid"),
        ({"jsonrpc": "2.0", "method": 5}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "error": "boom"}, "invalid"),
        ([{"jsonrpc": "2.0", "method": "x"}], "invalid"),
        ("{}", "invalid"),
        (None, "invalid"),
    ],
)
def test_classify(message, kind):
    assert classify(message) == kind


@pytest.mark.parametrize(
    "message,path,rule",
    [
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "/id", "J2"),
        ({"jsonrpc": "2.0", "id": False, "method": "ping"}, "/id", "J2"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "x"}}, "", "J4"),
        ({"jsonrpc": "2.0", "id": [1], "result": {}}, "/id", "J4"),
        ({"jsonrpc": "2.0", "result": {}}, "/id", "J4"),
        ({"jsonrpc": "2.0", "id": 1, "result": "ok"}, "/result", "J1"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": "1", "message": "x"}}, "/error/code", "J5"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": 1}}, "/error/message", "J5"),
        ({"jsonrpc": "2.0", "id": 1, "error": "boom"}, "/error", "J5"),
        ({"jsonrpc": "2.1", "method": "notifications/initialized"}, "/jsonrpc", "J1"),
        ({"method": "notifications/initialized"}, "/jsonrpc", "J1"),
        ({"jsonrpc": "2.0", "method": "notifications/message", "params": ["info", "x"]}, "/params", "J1"),
        ({"jsonrpc": "2.0", "id": 1}, "", "J1"),
        ({"jsonrpc": "2.0", "method": "x", "result": {}}, "", "J1"),
        ({"jsonrpc": "2.0", "method": "notifications/message"}, "/params", "LG1"),
        ({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "verbose", "data": 1}}, "/params/level", "LG1"),
        ({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1.5, "progress": 1}}, "/params/progressToken", "PR1"),
        ({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {}}, "/params/uri", "RS6"),
        ({"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage", "params": {"messages": [], "maxTokens": "many"}}, "/params/maxTokens", "M1"),
        ({"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage"}, "/params", "M1"),
        ({"jsonrpc": "2.0", "id": 1, "method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"type": "array", "properties": {}}}}, "/params/requestedSchema/type", "M1"),
    ],
)
def test_message_violations(message, path, rule):
    violations = validate_message(message, R3)
    assert (path, rule) in {(v.path, v.rule) for v in violations}, [str(v) for v in violations]


def test_r5_server_must_not_send_requests():
    [v] = validate_message({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}, R5)
    assert (v.path, v.rule) == ("", "M3")
    assert validate_message({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}, R4) == []


def test_r5_results_need_result_type_at_envelope_level():
    assert rules(validate_message({"jsonrpc": "2.0", "id": 1, "result": {}}, R5)) == {"J14"}
    assert validate_message({"jsonrpc": "2.0", "id": 1, "result": {}}, R4) == []
    bad_info = {"jsonrpc": "2.0", "id": 1, "result": {"resultType": "complete", "_meta": {"io.modelcontextprotocol/serverInfo": {"name": 1, "version": "1"}}}}
    [v] = validate_message(bad_info, R5)
    assert v.path == "/result/_meta/io.modelcontextprotocol~1serverInfo/name" and v.rule == "J16"


def test_batches():
    note = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    assert validate_message([note, note], R2) == []
    assert rules(validate_message([note], R3)) == {"J12"}
    assert {v.path for v in validate_message([note, {"jsonrpc": "2.0", "id": None, "method": "x"}], R2)} == {"/1/id"}
    assert rules(validate_message([], R2)) == {"J1"}


def test_client_direction_checks_r5_request_meta():
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {revs.META_PROTOCOL_VERSION: R5}}}
    [v] = validate_message(request, R5, direction="client->server")
    assert v.rule == "J15" and v.path == "/params/_meta/io.modelcontextprotocol~1clientCapabilities"
    request["params"]["_meta"][revs.META_CLIENT_CAPABILITIES] = {}
    assert validate_message(request, R5, direction="client->server") == []
    assert validate_message({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, R3, direction="client->server") == []
    with pytest.raises(ValueError):
        validate_message(request, R5, direction="sideways")  # type: ignore[arg-type]


def test_error_objects():
    assert validate_error({"code": -32601, "message": "Method not found"}, R3) == []
    assert validate_error({"code": 42, "message": "app error", "data": None}, R5) == []
    assert paths(validate_error({"code": "x", "message": 1}, R3)) == {"/code", "/message"}
    assert paths(validate_error({"code": True, "message": "x"}, R3)) == {"/code"}
    assert paths(validate_error([], R3)) == {""}
    # unknown revision: generic J5 only
    assert paths(validate_error({"code": -32022, "message": "x"}, "1999-01-01")) == set()
    assert paths(validate_error({"code": 1.5, "message": "x"}, None)) == {"/code"}


# =========================================================================== _meta keys


@pytest.mark.parametrize(
    "key,ok",
    [
        ("progressToken", True),
        ("com.example/key", True),
        ("io.modelcontextprotocol/serverInfo", True),
        ("a/", True),
        ("", True),
        ("x", True),
        ("my-key_v1.2", True),
        ("ui/resourceUri", True),
        ("openai/outputTemplate", True),
        ("traceparent", True),
        ("_fastmcp", False),
        ("key-", False),
        ("-key", False),
        ("a/b/c", False),
        ("9ex.com/k", False),
        ("ex-.com/k", False),
        ("ex..com/k", False),
        ("/k", False),
        ("com.example/has space", False),
        ("ünïcode", False),
    ],
)
def test_meta_key_syntax(key, ok):
    violations = meta_key_violations({key: 1}, R3)
    assert (violations == []) is ok, violations
    if not ok:
        [v] = violations
        assert v.rule == "J13" and v.path == pointer([key])


def test_meta_keys_not_checked_before_r3_or_on_non_objects():
    assert meta_key_violations({"_bad": 1}, R2) == []
    assert meta_key_violations({"_bad": 1}) != []
    assert meta_key_violations(None, R5) == []
    assert meta_key_violations({1: 2}, R5) == []


# =========================================================================== robustness

def _json_strategy():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8)
    keys = st.sampled_from(["type", "text", "content", "tools", "name", "inputSchema", "resultType", "_meta", "id", "code", "data", "x"]) | st.text(max_size=4)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=20)


def test_never_raises_on_arbitrary_json(caplog):
    """Also asserts that no internal error was swallowed (the guard logs a warning)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    methods = sorted({m for r in REVISIONS for m in known_methods(r)} | {"nope"})
    revision_choices = [*REVISIONS, "draft", "1999-01-01", None, 5]

    @settings(max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(methods), st.sampled_from(revision_choices), _json_strategy())
    def check(method, revision, value):
        for v in (
            validate_result(method, revision, value)
            + validate_error(value, revision)
            + validate_message(value, revision)
            + validate_message({"jsonrpc": "2.0", "id": 1, "result": value}, revision)
            + validate_message({"jsonrpc": "2.0", "method": method, "params": value}, revision)
            + result_advisories(method, revision, value)
            + meta_key_violations(value, revision if isinstance(revision, str) else None)
        ):
            assert isinstance(v, Violation) and isinstance(v.message, str) and (v.path == "" or v.path.startswith("/"))
        classify(value)

    with caplog.at_level("WARNING", logger="mcpcheck.protocol"):
        check()
    assert [r for r in caplog.records if r.name.startswith("mcpcheck.protocol")] == []


def test_unknown_method_and_revision_give_nothing():
    assert validate_result("x/y", R5, {"anything": 1}) == []
    assert validate_result("tools/list", "2099-01-01", {"tools": "no"}) == []
    assert validate_result("tools/list", None, {"tools": "no"}) == []  # type: ignore[arg-type]
    assert validate_result("tools/list", "draft", {"tools": []}) != []  # draft == latest
    # an unknown revision still gets the JSON-RPC envelope rules
    assert rules(validate_message({"jsonrpc": "2.0", "id": None, "method": "x"}, "2099-01-01")) == {"J2"}
    assert known_methods("2099-01-01") == ()


def test_internal_failure_is_swallowed(monkeypatch):
    from mcpcheck.protocol import validate as V

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(V, "_run", boom)
    assert validate_result("tools/list", R3, {"tools": []}) == []
    assert validate_message({"jsonrpc": "2.0", "id": 1, "result": {}}, R3) == []


# =========================================================================== small API


def test_revision_helpers():
    assert REVISIONS == tuple(sorted(REVISIONS)) and LATEST == R5 == REVISIONS[-1]
    assert HANDSHAKE_REVISIONS == (R1, R2, R3, R4) and STATELESS_REVISIONS == (R5,)
    assert is_stateless(R5) and not is_stateless(R4) and not is_stateless("nope")
    assert era(R1) == "handshake" and era(R5) == "stateless" and era("draft") == "stateless" and era(None) == "unknown"
    assert revs.since(R4) == {R4, R5} and revs.until(R2) == {R1, R2}
    assert revs.error_code_name(-32022) == "UnsupportedProtocolVersion" and revs.error_code_name(True) is None
    assert revs.RESERVED_RANGE[0] == -32099 and revs.RESERVED_RANGE[-1] == -32020
    for code in (-32700, -32600, -32601, -32602, -32603, -32002, -32042, -32020, -32021, -32022):
        assert revs.error_code_name(code)
    assert revs.META_SUBSCRIPTION_ID == "io.modelcontextprotocol/subscriptionId"


def test_violation_is_frozen_and_printable():
    v = Violation("/a~1b", "x must be a string.", R3, "J1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.path = "/"  # type: ignore[misc]
    assert str(v) == "/a~1b: x must be a string. [J1]"
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert json.dumps(dataclasses.asdict(v))

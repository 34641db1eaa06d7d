"""HTTP-level fuzzing of a Streamable HTTP endpoint with schemathesis (4.x Python API).

`build_openapi()` turns what a session learned (endpoint path, era, the tools mcpcheck may call
and their inputSchemas) into an OpenAPI 3.1 document: POST <path> with one JSON-RPC body per
known method (initialize, ping, tools/list, a tools/call per callable tool whose
`params.arguments` schema is the tool's inputSchema, notifications/initialized), GET <path> (the
SSE stream) and DELETE <path> (session end), with the Accept / Mcp-Session-Id /
MCP-Protocol-Version headers as parameters. Only real MCP MUSTs are encoded: every 4xx is a
documented refusal (MCP lets servers refuse malformed input with any 4xx, or with HTTP 200 and a
JSON-RPC error), 200 JSON bodies must be JSON-RPC responses.

`run_schemathesis()` loads it with `schemathesis.openapi.from_dict`, draws cases with
`operation.as_strategy()` (positive and negative generation) under Hypothesis with a bounded
number of examples, a per-request timeout and a total time budget, sends each with
`case.call()` (the session's headers injected: session id, protocol version, routing headers,
the user's Authorization), and judges the response with schemathesis' own checks one at a time
(`not_a_server_error`, `status_code_conformance`, `content_type_conformance`,
`response_schema_conformance`). Every request and response is recorded in a WireLog; each
failure comes back as a `StFailure` carrying the recorded entries, the case's body and a curl
command (Authorization redacted). Tools that may not be called are never in the document, and a
negative case that happens to name one is dropped before it is sent.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..wirelog import WireEntry, WireLog

SECRET = ("authorization", "cookie", "proxy-authorization", "x-api-key")
ST_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")


# --------------------------------------------------------------------------- the document


def _tool_schema(name: str, schema: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The tool's inputSchema with its $defs moved into components/schemas (refs rewritten)."""
    s = copy.deepcopy(schema) if isinstance(schema, dict) else {"type": "object"}
    s.pop("$schema", None)
    s.pop("$id", None)
    defs = s.pop("$defs", None) or {}
    defs.update(s.pop("definitions", None) or {})
    prefix = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)
    blob, defs_blob = json.dumps(s), json.dumps(defs)
    for old in ("#/$defs/", "#/definitions/"):
        blob = blob.replace(f'"{old}', f'"#/components/schemas/tool_{prefix}__')
        defs_blob = defs_blob.replace(f'"{old}', f'"#/components/schemas/tool_{prefix}__')
    for k, v in json.loads(defs_blob).items():
        components[f"tool_{prefix}__{k}"] = v
    out = json.loads(blob)
    if not isinstance(out, dict) or out.get("type") not in (None, "object"):
        return {"type": "object"}
    out.setdefault("type", "object")
    return out


def _request(method: str, params: dict[str, Any] | None, *, required_params: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "jsonrpc": {"const": "2.0"},
        "id": {"$ref": "#/components/schemas/Id"},
        "method": {"const": method},
    }
    req = ["jsonrpc", "id", "method"]
    if params is not None:
        props["params"] = params
        if required_params:
            req.append("params")
    return {"type": "object", "required": req, "properties": props}


def build_openapi(
    path: str,
    tools: list[dict[str, Any]],
    *,
    revision: str,
    stateless: bool,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An OpenAPI 3.1 document for one MCP endpoint (`tools`: the callable ones only)."""
    components: dict[str, Any] = {
        "Id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "Response": {
            "type": "object",
            "required": ["jsonrpc"],
            "properties": {
                "jsonrpc": {"const": "2.0"},
                "id": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
                "result": {"type": "object"},
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                },
            },
            "oneOf": [{"required": ["result"]}, {"required": ["error"]}],
        },
    }

    def params(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        p = {"type": "object", "properties": dict(props), "required": list(required)}
        if stateless and meta is not None:
            p["properties"]["_meta"] = {
                "type": "object",
                "required": list(meta),
                "properties": {k: {"const": v} for k, v in meta.items()},
            }
            p["required"].append("_meta")
        return p

    bodies: dict[str, dict[str, Any]] = {}
    if stateless:
        bodies["ServerDiscover"] = _request("server/discover", params({}, []), required_params=True)
    else:
        bodies["Initialize"] = _request(
            "initialize",
            params(
                {
                    "protocolVersion": {"type": "string", "enum": [revision]},
                    "capabilities": {"type": "object"},
                    "clientInfo": {
                        "type": "object",
                        "required": ["name", "version"],
                        "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
                    },
                },
                ["protocolVersion", "capabilities", "clientInfo"],
            ),
            required_params=True,
        )
        bodies["Ping"] = _request("ping", None, required_params=False)
        bodies["Initialized"] = {
            "type": "object",
            "required": ["jsonrpc", "method"],
            "properties": {"jsonrpc": {"const": "2.0"}, "method": {"const": "notifications/initialized"}},
        }
    bodies["ToolsList"] = _request("tools/list", params({"cursor": {"type": "string"}}, []), required_params=stateless)
    for i, tool in enumerate(tools):
        name = tool.get("name")
        if not isinstance(name, str):
            continue
        args = _tool_schema(name, tool.get("inputSchema"), components)
        bodies[f"ToolsCall{i}"] = _request(
            "tools/call",
            params({"name": {"const": name}, "arguments": args}, ["name", "arguments"]),
            required_params=True,
        )
    for k, v in bodies.items():
        components[k] = v

    accept_post = {"name": "Accept", "in": "header", "required": True, "schema": {"type": "string", "enum": ["application/json, text/event-stream"]}}
    refusal = {"description": "refused (MCP lets a server refuse malformed input with any 4xx)"}
    sse_event = {"type": "object"}  # event data is judged strictly by http.sse_strict, not here
    post_parameters = [accept_post]
    if not stateless:
        post_parameters.append(
            {"name": "MCP-Protocol-Version", "in": "header", "required": False, "schema": {"type": "string", "enum": [revision]}}
        )
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "MCP Streamable HTTP endpoint (JSON-RPC 2.0), generated by mcpcheck", "version": revision},
        "paths": {
            path: {
                "post": {
                    "operationId": "rpc",
                    "parameters": post_parameters,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"oneOf": [{"$ref": f"#/components/schemas/{k}"} for k in bodies]}}},
                    },
                    "responses": {
                        "200": {
                            "description": "a JSON-RPC response (one JSON object) or an SSE stream",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Response"}},
                                "text/event-stream": {"schema": sse_event},
                            },
                        },
                        "202": {"description": "notification accepted"},
                        "4XX": refusal,
                    },
                },
                "get": {
                    "operationId": "stream",
                    "parameters": [
                        {"name": "Accept", "in": "header", "required": True, "schema": {"type": "string", "enum": ["text/event-stream"]}},
                        {"name": "Mcp-Session-Id", "in": "header", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {"description": "SSE stream", "content": {"text/event-stream": {"schema": sse_event}}},
                        "4XX": refusal,
                    },
                },
                "delete": {
                    "operationId": "terminate",
                    "parameters": [{"name": "Mcp-Session-Id", "in": "header", "required": False, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "terminated"},
                        "202": {"description": "terminated"},
                        "204": {"description": "terminated"},
                        "4XX": refusal,
                    },
                },
            }
        },
        "components": {"schemas": components},
    }
    return doc


# --------------------------------------------------------------------------- running it


@dataclass
class StFailure:
    check: str  # the schemathesis check that failed
    title: str
    message: str
    method: str
    status: int | None
    body: Any  # the case's request body (the reproducing input)
    mode: str  # positive / negative
    entries: list[WireEntry]
    curl: str
    key: str


@dataclass
class StRun:
    cases: int = 0
    errors: int = 0  # requests that got no HTTP answer (timeouts, connection errors)
    skipped_unsafe: int = 0
    failures: list[StFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


def _safe_headers(headers: Any) -> dict[str, str]:
    out = {}
    for k, v in dict(headers or {}).items():
        out[str(k).lower()] = "<redacted>" if str(k).lower() in SECRET else str(v)
    return out


def _body_bytes(case: Any) -> bytes:
    from schemathesis.core import NOT_SET

    body = getattr(case, "body", NOT_SET)
    if body is NOT_SET:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    try:
        return json.dumps(body).encode()
    except (TypeError, ValueError):
        return repr(body).encode()


def run_schemathesis(
    doc: dict[str, Any],
    base_url: str,
    *,
    inject: Callable[[str, Any], dict[str, str]],
    forbidden_tools: set[str],
    wirelog: WireLog,
    max_examples: int = 25,
    budget: float = 30.0,
    request_timeout: float = 5.0,
    seed: int | None = 0,
    stop: threading.Event | None = None,
) -> StRun:
    """Run schemathesis-generated cases against `base_url` (scheme://host:port; the document's
    path is appended) -- synchronous: call it on a worker thread. `inject(method, body)` gives the headers to add to a case (session, auth, routing)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import load_all_checks, not_a_server_error
    from schemathesis.core import NOT_SET
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    load_all_checks()
    checks = {
        "not_a_server_error": not_a_server_error,
        "status_code_conformance": status_code_conformance,
        "content_type_conformance": content_type_conformance,
        "response_schema_conformance": response_schema_conformance,
    }
    run = StRun()
    t0 = time.monotonic()
    deadline = t0 + budget
    schema = schemathesis.openapi.from_dict(doc)
    seen: set[str] = set()
    lock = threading.Lock()

    from hypothesis.reporting import with_reporter

    from .. import budget as run_budget

    def quiet(text: object) -> None:
        line = " ".join(str(text).split())
        if line and not line.startswith(("Falsifying", "Failing test case", "Trying example", "drive(", "case=", ")")):
            run.notes.append(f"schemathesis: hypothesis: {line[:300]}")

    def over() -> bool:
        return time.monotonic() > deadline or run_budget.current().expired or bool(stop and stop.is_set())

    def one(case: Any, mode: str) -> None:
        if over():
            return
        method = case.method.upper()
        body = case.body if getattr(case, "body", NOT_SET) is not NOT_SET else None
        if isinstance(body, dict) and body.get("method") == "tools/call":
            p = body.get("params")
            # a negative case may carry any JSON as the name (a dict is not hashable): only a
            # string can name an unsafe tool
            name = p.get("name") if isinstance(p, dict) else None
            if isinstance(name, str) and name in forbidden_tools:
                run.skipped_unsafe += 1
                return
        extra = inject(method, body)
        url = base_url.rstrip("/") + case.formatted_path
        sent_headers = {**dict(case.headers or {}), **extra}
        out = wirelog.record(
            "out",
            "http",
            _body_bytes(case),
            http={"method": method, "url": url, "headers": _safe_headers(sent_headers)},
            note=f"schemathesis {mode} case",
        )
        run.cases += 1
        try:
            response = case.call(base_url=base_url, headers=extra, timeout=request_timeout)
        except Exception as exc:  # timeouts, refused connections: no HTTP verdict
            run.errors += 1
            wirelog.record("in", "event", f"{method} {url}: no HTTP answer ({type(exc).__name__}: {str(exc)[:200]})", http={"method": method, "url": url, "request_seq": out.seq})
            return
        ct = response.headers.get("content-type")
        ct = ct[0] if isinstance(ct, list) and ct else ct
        headers = {k.lower(): (v[0] if isinstance(v, list) and len(v) == 1 else ", ".join(v) if isinstance(v, list) else v) for k, v in response.headers.items()}
        entry = wirelog.record(
            "in",
            "http",
            response.content[:4000],
            http={"method": method, "url": url, "status": response.status_code, "headers": _safe_headers(headers), "request_seq": out.seq},
        )
        run.statuses[str(response.status_code)] = run.statuses.get(str(response.status_code), 0) + 1
        for name, fn in checks.items():
            try:
                case.validate_response(response, checks=[fn], headers=extra)
            except (FailureGroup, Failure, AssertionError) as exc:
                fails = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
                for f in fails:
                    title = getattr(f, "title", None) or type(f).__name__
                    key = f"{name}|{method}|{response.status_code}|{title}"
                    if name == "content_type_conformance":
                        key += f"|{ct}"
                    with lock:
                        if key in seen:
                            continue
                        seen.add(key)
                    curl_headers = {k: ("<token>" if k.lower() in SECRET else v) for k, v in extra.items()}
                    try:
                        curl = case.as_curl_command(headers=curl_headers, base_url=base_url)
                    except Exception:  # pragma: no cover - curl is a convenience
                        curl = ""
                    run.failures.append(
                        StFailure(
                            check=name,
                            title=str(title),
                            message=str(getattr(f, "message", "") or f)[:600],
                            method=method,
                            status=response.status_code,
                            body=body,
                            mode=mode,
                            entries=[out, entry],
                            curl=curl,
                            key=key,
                        )
                    )
            except Exception as exc:  # a check that cannot judge this response
                run.notes.append(f"schemathesis check {name} could not judge a {method} response: {type(exc).__name__}: {str(exc)[:160]}")

    plan = [("POST", max_examples), ("DELETE", max(3, max_examples // 5)), ("GET", max(3, max_examples // 5))]
    for method, n in plan:
        for mode_name, mode in (("positive", GenerationMode.POSITIVE), ("negative", GenerationMode.NEGATIVE)):
            if over():
                run.notes.append(f"schemathesis: time budget of {budget:g}s used up; stopped before {method} {mode_name}")
                break
            try:
                op = next(o.ok() for o in schema.get_all_operations() if o.ok().method.upper() == method)
                strategy = op.as_strategy(generation_mode=mode)
            except Exception as exc:
                run.notes.append(f"schemathesis could not build {method} {mode_name} cases: {type(exc).__name__}: {str(exc)[:200]}")
                continue

            hsettings = settings(
                max_examples=n,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            def make(mode_label: str) -> Callable[[Any], None]:
                def drive(case: Any) -> None:
                    one(case, mode_label)

                return drive

            drive = hsettings(given(strategy)(make(mode_name)))

            if seed is not None:
                drive = hseed(seed)(drive)
            try:
                with with_reporter(quiet):  # Hypothesis' own lines ("Failing test case", warnings): not on stdout
                    drive()
            except Exception as exc:
                run.notes.append(f"schemathesis {method} {mode_name} generation stopped: {type(exc).__name__}: {str(exc)[:200]}")
    run.elapsed = time.monotonic() - t0
    return run

"""The conformance campaign: spec rules that need no generated inputs (spec-digest §1-4).

Probes do the I/O; the pure checks in conformance/checks judge what was recorded. Each era the
server speaks (2026-07-28 stateless, handshake) gets its own fresh session and its own run.
A server that dies mid-run is a finding; it is restarted and the run goes on.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from .. import budget
from ..checks import jsonrpc as J
from ..checks import lifecycle as L
from ..checks import listing as T
from ..checks import schema as S
from ..connect import STARTUP_TIMEOUT, detect, open_session
from ..findings import Violation
from ..pages import walk
from ..report.model import TargetResult
from ..safety import may_call
from ..session import (
    HANDSHAKE_VERSIONS,
    META_CAPS,
    META_CLIENT,
    META_VERSION,
    Exchange,
    Session,
    id_key,
)
from ..transport.base import TransportError
from .context import CampaignContext

MAX_PAGES = 50
MAX_ITEMS_PROBED = 25
BURST = 20
QUIET = 0.5


@dataclass
class EraState:
    """What one era's run learned, shared by its probes."""

    capabilities: dict[str, Any] = field(default_factory=dict)
    listed: dict[str, Exchange] = field(default_factory=dict)  # first page per list method
    tools: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)  # every session of this era, for the final checks


async def run_conformance(ctx: CampaignContext, result: TargetResult) -> None:
    target = ctx.target
    ctx.progress(f"{target.name}: detecting protocol eras")
    probe, session = await detect(target)
    eras = probe.eras()
    result.eras = eras
    for i, era in enumerate(eras):
        if i > 0:
            session = await open_session(target, era)
        ctx.revision, ctx.session = era, session
        state = EraState(capabilities=session.server_capabilities, sessions=[session])
        src = session.discover_result if session.stateless else session.initialize_result
        if result.server_info is None and isinstance(src, dict):
            info = src.get("serverInfo")
            if not isinstance(info, dict):
                meta = src.get("_meta") if isinstance(src.get("_meta"), dict) else {}
                info = meta.get("io.modelcontextprotocol/serverInfo")
            result.server_info = info if isinstance(info, dict) else None
            result.capabilities = state.capabilities
        try:
            everything = ctx.selects_all
            run_state = budget.current()
            run_state.doing(f"{target.name} [{era}]: probes", planned=len(PROBES))
            for name, fn, feeds in PROBES:
                run_state.tick()
                if fn.__name__ in ("probe_version_negotiation", "probe_ping") and ctx.s.stateless:
                    continue
                if fn.__name__ in STATELESS_ONLY and not ctx.s.stateless:
                    continue
                if not everything and not any(ctx.wants(spec) for spec in feeds):
                    continue
                ctx.progress(f"{target.name} [{era}]: {name}")
                try:
                    await fn(ctx, state)
                except TransportError:
                    pass  # judged below as a crash
                if not ctx.s.alive:
                    await _crashed(ctx, state, name)
            if ctx.target.transport == "http":
                from .http_rules import HTTP_PROBES

                for fn in HTTP_PROBES:
                    ctx.progress(f"{target.name} [{era}]: {fn.__name__}")
                    await fn(ctx)
        finally:
            for s in state.sessions:
                await s.close()
                _final_checks(ctx, s, state)
        result.tools = sorted({str(t.get("name")) for t in state.tools} | set(result.tools))
        result.resources = max(result.resources, len(state.resources))
        result.prompts = max(result.prompts, len(state.prompts))


async def _crashed(ctx: CampaignContext, state: EraState, during: str) -> None:
    s = ctx.s
    log = s.wirelog
    sent = [e for e in log.entries if e.direction == "out" and e.channel in ("stdin", "http")][-2:]
    gone = [e for e in log.entries if e.channel == "event"][-1:]
    stderr = log.stderr_text(1500)
    detail = f"the server went away during '{during}': {s.transport.closed_reason}"
    if stderr.strip():
        detail += f"\nlast stderr:\n{stderr.strip()}"
    last_input = sent[-1].parsed if sent else None
    ctx.fail(J.CRASH, Violation(detail, [*sent, *gone], input=last_input, key=during))
    ctx.progress(f"{ctx.target.name}: server died during {during}; restarting")
    fresh = await open_session(ctx.target, ctx.revision or "")
    state.sessions.append(fresh)
    ctx.session = fresh


def _final_checks(ctx: CampaignContext, s: Session, state: EraState) -> None:
    """Checks over everything one session recorded."""
    rev = ctx.revision or ""
    sent_ids = {id_key(ex.request.get("id")) for ex in s.exchanges if isinstance(ex.request, dict) and "id" in ex.request}
    for ex in s.exchanges:
        if not isinstance(ex.request, dict) or "id" not in ex.request:
            continue
        deliberate = ex.malformed
        ctx.check(J.RESPONSE_SHAPE, J.check_response_shape, ex)
        if not deliberate:
            ctx.check(J.ID_ECHO, J.check_id_echo, ex)
            ctx.check(J.NO_HANG, J.check_no_hang, ex)
        if ex.response is not None and not deliberate:
            ctx.check(S.RESULT_SCHEMA, S.check_result, ex, rev)
            ctx.check(S.RESULT_SCHEMA, S.check_error_object, ex, rev)
            ctx.check(S.META_KEYS, S.check_meta_keys, ex)
            if s.stateless:
                ctx.check(T.RESERVED_CODES, T.check_reserved_code, ex)
                if ex.ok:
                    ctx.check(L.SERVER_INFO_META, L.check_server_info_meta, ex)
    ctx.check(J.UNSOLICITED, J.check_unsolicited, s.unmatched, sent_ids)
    incoming = [e for e in s.wirelog.entries if e.direction == "in"]
    ctx.check(S.NOTIFICATION_SCHEMA, S.check_incoming, incoming, rev)
    ctx.check(L.SERVER_REQUESTS, L.check_server_requests, s.server_requests, s.capabilities, s.stateless)
    ctx.check(L.NOTIFICATION_DISCIPLINE, L.check_notifications, s.notifications, state.capabilities, s.stateless)
    if ctx.target.transport == "stdio":
        ctx.check(J.STDOUT, J.check_stdout_lines, s.wirelog.entries)
    if not any(k[0] == J.CRASH.id for k in ctx.ledger):
        ctx.passed(J.CRASH)


# --------------------------------------------------------------------------- probes


async def probe_version_negotiation(ctx: CampaignContext, state: EraState) -> None:
    """L2: fresh processes/sessions, one initialize each, two at a time (five server processes
    starting at once on a small CI machine would turn slow start-up into false timeouts)."""
    if not ctx.wants(L.VERSION_NEGOTIATION):
        return
    asks = [*HANDSHAKE_VERSIONS[:3], "1900-01-01", "not-a-version"]
    gate = asyncio.Semaphore(2)

    async def one(version: str) -> tuple[str, Exchange | None, Session | None]:
        async with gate:
            try:
                s = await open_session(ctx.target, version, handshake=False)
            except TransportError:
                return version, None, None
            s.timeout = max(s.timeout, STARTUP_TIMEOUT)  # a fresh process: allow for start-up
            try:
                ex = await s.initialize(version, send_initialized=False)
            except BaseException:
                await s.close()
                raise
            return version, ex, s

    outcomes = await asyncio.gather(*(one(v) for v in asks), return_exceptions=True)
    stopped = [o for o in outcomes if isinstance(o, BaseException)]
    if stopped:  # the time budget ran out mid-way: close what was opened, then stop
        for o in outcomes:
            if isinstance(o, tuple) and o[2] is not None:
                await o[2].close()
        raise stopped[0]
    answered = {ex.result.get("protocolVersion") for _, ex, _ in outcomes if ex is not None and ex.ok and isinstance(ex.result, dict)}
    for version, ex, s in outcomes:
        if ex is None or s is None:
            continue
        ctx.check(L.VERSION_NEGOTIATION, L.check_negotiated, ex, version, answered)
        state.sessions.append(s)


async def probe_ping(ctx: CampaignContext, state: EraState) -> None:
    ex = await ctx.s.request("ping")
    ctx.check(L.PING, L.check_ping, ex)


async def probe_stateless_envelope(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    method = "tools/list" if "tools" in state.capabilities else "server/discover"

    def without(*drop: str, version: str | None = None) -> dict[str, Any]:
        meta = s.envelope_meta()
        if version is not None:
            meta[META_VERSION] = version
        for k in drop:
            meta.pop(k, None)
        return s.build_request(method, {"_meta": meta}, meta=False)

    ex = await s.request(method, message=without(version="1900-01-01"))
    ctx.check(L.UNSUPPORTED_VERSION, L.check_unsupported_version, ex, "1900-01-01")
    for key, label in ((META_VERSION, "protocolVersion"), (META_CAPS, "clientCapabilities")):
        ex = await s.request(method, message=without(key))
        ctx.check(L.MISSING_META, L.check_envelope_rejected, ex, label)
    ex = await s.request(method, message=without(META_CLIENT))
    ctx.check(L.CLIENT_INFO_OPTIONAL, L.check_client_info_optional, ex)
    if s.discover_result is not None:
        disc = next((e for e in s.exchanges if e.method == "server/discover" and e.ok), None)
        if disc is not None:
            ctx.check(L.DISCOVER, L.check_discover, disc)


async def _walk(ctx: CampaignContext, method: str, key: str) -> list[dict[str, Any]]:
    """Follow nextCursor to the end through the one walker (pages.walk), with its loop and
    page-count limits, and judge the pages (T2/PG1). An empty-string cursor is a cursor here."""
    w = await walk(ctx.s, method, key, max_pages=MAX_PAGES, empty_cursor_ends=False)
    ctx.check(T.PAGINATION, T.check_pages, method, w.pages, key, w.loop, w.limit_hit)
    return w.items


async def probe_listings(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    for cap, method, key in (
        ("tools", "tools/list", "tools"),
        ("resources", "resources/list", "resources"),
        ("resources", "resources/templates/list", "resourceTemplates"),
        ("prompts", "prompts/list", "prompts"),
    ):
        if cap in state.capabilities:
            mark = len(s.exchanges)
            items = await _walk(ctx, method, key)
            state.listed[method] = s.exchanges[mark]
            if key == "tools":
                state.tools = items
            elif key == "resources":
                state.resources = items
            elif key == "prompts":
                state.prompts = items
        elif method != "resources/templates/list":
            ex = await s.request(method, {})
            state.listed[method] = ex
            if s.stateless:
                ctx.check(L.CAPS_UNADVERTISED, L.check_unadvertised_code, ex, cap)
    ctx.check(L.CAPS_TRUTHFUL, L.check_capability_truth, state.capabilities, state.listed, s.stateless)
    if s.stateless and not any(c in state.capabilities for c in ("tools", "resources", "prompts")):
        ctx.skip(L.CAPS_UNADVERTISED, "no capability to compare against")


async def probe_tools(ctx: CampaignContext, state: EraState) -> None:
    if "tools" not in state.capabilities:
        for spec in (T.TOOL_NAMES, T.INPUT_SCHEMA, T.OUTPUT_SCHEMA, T.UNKNOWN_TOOL, T.BAD_ARGUMENTS_SHAPE, T.BAD_CURSOR):
            ctx.skip(spec, "the server does not advertise tools")
        return
    ev = state.listed["tools/list"].evidence()
    ctx.check(T.TOOL_NAMES, T.check_tool_names, state.tools, ev)
    for tool in state.tools:
        ctx.check(T.INPUT_SCHEMA, T.check_input_schema, tool, ctx.revision, ev)
        if (ctx.revision or "") >= "2025-06-18":
            ctx.check(T.OUTPUT_SCHEMA, T.check_output_schema, tool, ctx.revision, ev)
        ctx.check(T.ANNOTATIONS, T.check_annotations, tool, ev)
    s = ctx.s
    ex = await s.request("tools/list", {"cursor": "mcpcheck-invalid-cursor-\u00ff%"})
    ctx.check(T.BAD_CURSOR, T.check_bad_cursor, ex)
    name = "mcpcheck_no_such_tool_4f1c"  # fixed: finding ids must be stable run to run
    ex = await s.request("tools/call", {"name": name, "arguments": {}})
    ctx.check(T.UNKNOWN_TOOL, T.check_expected_error, ex, f"tools/call of unknown tool {name!r}", -32602, success_severity=None)
    safe = _safe_tool(ctx, state)
    if safe is None:
        ctx.skip(T.BAD_ARGUMENTS_SHAPE, "no tool that is safe to call (all destructive or excluded)")
        return
    ex = await s.request("tools/call", {"name": safe, "arguments": ["mcpcheck"]})
    ctx.check(T.BAD_ARGUMENTS_SHAPE, T.check_arguments_rejected, ex, f"tools/call {safe!r} with arguments as an array")


def _safe_tool(ctx: CampaignContext, state: EraState) -> str | None:
    return next((t["name"] for t in state.tools if may_call(t, ctx.target.safety) is None), None)


async def probe_resources(ctx: CampaignContext, state: EraState) -> None:
    if "resources" not in state.capabilities:
        ctx.skip(T.RESOURCE_READ, "the server does not advertise resources")
        ctx.skip(T.UNKNOWN_RESOURCE, "the server does not advertise resources")
        return
    s = ctx.s
    for res in state.resources[:MAX_ITEMS_PROBED]:
        uri = res.get("uri")
        if isinstance(uri, str):
            ex = await s.request("resources/read", {"uri": uri})
            ctx.check(T.RESOURCE_READ, T.check_read, ex, uri)
    if not state.resources:
        ctx.skip(T.RESOURCE_READ, "the server lists no resources")
    scheme = "mcpcheck"
    first = next((r.get("uri") for r in state.resources if isinstance(r.get("uri"), str)), None)
    if first and "://" in first:
        scheme = first.split("://", 1)[0]
    uri = f"{scheme}://mcpcheck-no-such-resource-4f1c"  # fixed: stable finding ids
    ex = await s.request("resources/read", {"uri": uri})
    ctx.check(T.UNKNOWN_RESOURCE, T.check_unknown_resource, ex, uri, s.stateless)


async def probe_prompts(ctx: CampaignContext, state: EraState) -> None:
    if "prompts" not in state.capabilities:
        for spec in (T.PROMPT_GET, T.PROMPT_MISSING_ARG, T.UNKNOWN_PROMPT):
            ctx.skip(spec, "the server does not advertise prompts")
        return
    s = ctx.s
    with_required = None
    for p in state.prompts[:MAX_ITEMS_PROBED]:
        name = p.get("name")
        if not isinstance(name, str):
            continue
        args = p.get("arguments") if isinstance(p.get("arguments"), list) else []
        required = [a.get("name") for a in args if isinstance(a, dict) and a.get("required") and isinstance(a.get("name"), str)]
        if required and with_required is None:
            with_required = (name, required)
        values = {a: await _argument_value(ctx, state, name, a) for a in required}
        ex = await s.request("prompts/get", {"name": name, "arguments": values})
        ctx.check(T.PROMPT_GET, T.check_prompt_get, ex, name, bool(required))
    if not state.prompts:
        ctx.skip(T.PROMPT_GET, "the server lists no prompts")
    if with_required is not None:
        name, required = with_required
        ex = await s.request("prompts/get", {"name": name, "arguments": {}})
        ctx.check(T.PROMPT_MISSING_ARG, T.check_expected_error, ex, f"prompts/get {name!r} without its required argument(s) {required}", -32602)
    else:
        ctx.skip(T.PROMPT_MISSING_ARG, "no prompt has a required argument")
    bogus = "mcpcheck_no_such_prompt_4f1c"  # fixed: stable finding ids
    ex = await s.request("prompts/get", {"name": bogus, "arguments": {}})
    ctx.check(T.UNKNOWN_PROMPT, T.check_expected_error, ex, f"prompts/get of unknown prompt {bogus!r}", -32602)


async def _argument_value(ctx: CampaignContext, state: EraState, prompt: str, argument: str) -> str:
    """A value for a required prompt argument: the server's own first completion if it offers
    completions, else a placeholder."""
    if "completions" in state.capabilities:
        ex = await ctx.s.request(
            "completion/complete",
            {"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": argument, "value": ""}},
        )
        comp = ex.result.get("completion") if ex.ok and isinstance(ex.result, dict) else None
        values = comp.get("values") if isinstance(comp, dict) else None
        if isinstance(values, list) and values and isinstance(values[0], str):
            return values[0]
    return "mcpcheck"


async def probe_completion(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    if "completions" not in state.capabilities:
        if s.stateless:
            ex = await s.request("completion/complete", {"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "x", "value": ""}})
            ctx.check(L.CAPS_UNADVERTISED, L.check_unadvertised_code, ex, "completions")
        ctx.skip(T.COMPLETION, "the server does not advertise completions")
        return
    target = None
    for p in state.prompts:
        args = p.get("arguments") if isinstance(p.get("arguments"), list) else []
        if args and isinstance(args[0], dict) and isinstance(args[0].get("name"), str):
            target = {"ref": {"type": "ref/prompt", "name": p.get("name")}, "argument": {"name": args[0]["name"], "value": ""}}
            break
    if target is None:
        ctx.skip(T.COMPLETION, "no prompt argument to complete")
        return
    ex = await s.request("completion/complete", target)
    ctx.check(T.COMPLETION, T.check_completion, ex)


async def probe_error_codes(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    ex = await s.request("mcpcheck/no-such-method", {})
    ctx.check(T.UNKNOWN_METHOD, T.check_expected_error, ex, "unknown method mcpcheck/no-such-method", -32601)


async def probe_notifications(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    sent = []
    for method, params in (
        ("notifications/mcpcheck_unknown", {}),
        ("notifications/cancelled", {"requestId": 987654321, "reason": "mcpcheck: cancelling an id that was never sent"}),
    ):
        sent.append((await s.notify(method, params)).request_entry)
    replies = await s.quiet_period(QUIET)
    for entry in sent:
        ctx.check(J.NOTIFICATION_NO_REPLY, J.check_notification_silence, entry, replies)


async def probe_malformed(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    short = min(1.5, ctx.target.timeout)
    null_id = s.build_request("tools/list", {}) | {"id": None}
    bad_method = s.build_request("tools/list", {})
    bad_method["method"] = 12345
    ex_null, ex_bad = await asyncio.gather(
        s.request("?", message=null_id, timeout=short, malformed=True),
        s.request("?", message=bad_method, timeout=short, malformed=True),
    )
    ctx.check(J.NULL_ID, J.check_null_id, ex_null)
    ctx.check(J.INVALID_REQUEST, J.check_rejected, ex_bad, "request whose method is a number", (-32600,))
    if ctx.target.transport != "stdio":
        return  # raw HTTP bodies are probed by the HTTP rules
    await s.send_raw(b'{"jsonrpc": "2.0", "id": 424242, "method": "tools/list"', note="truncated JSON")
    await s.quiet_period(QUIET)
    if s.alive:
        after = await s.request("tools/list" if "tools" in state.capabilities else ("server/discover" if s.stateless else "ping"), {})
        if after.answered:
            ctx.passed(J.GARBAGE)
        else:
            ctx.fail(J.GARBAGE, Violation("after a line of truncated JSON the server stopped answering", after.evidence()))
    else:
        ctx.fail(J.GARBAGE, Violation("a line of truncated JSON killed the server", s.wirelog.entries[-3:]))
        return
    if (ctx.revision or "") >= "2025-06-18":
        batch = [s.build_request("tools/list", {}), s.build_request("tools/list", {})]
        sent = await s.send_raw(json.dumps(batch).encode(), note="JSON-RPC batch")
        replies = await s.quiet_period(QUIET * 2)
        ctx.check(J.BATCH, J.check_batch_reply, replies, sent)


async def probe_burst(ctx: CampaignContext, state: EraState) -> None:
    s = ctx.s
    known = "tools/list" if "tools" in state.capabilities else ("server/discover" if s.stateless else "ping")
    kinds = ["known" if i % 2 == 0 else "unknown" for i in range(BURST)]
    methods = [known if k == "known" else f"mcpcheck/burst-unknown-{i}" for i, k in enumerate(kinds)]
    exchanges = await asyncio.gather(*(s.request(m, {}) for m in methods))
    ctx.check(T.CONCURRENCY, T.check_burst, list(zip(kinds, exchanges)))


STATELESS_ONLY = {"probe_stateless_envelope"}

# Which checks each probe feeds: a probe none of whose checks is selected is not run at all,
# so `--check list.pagination` costs one listing walk, not a whole campaign.
PROBES = [
    ("version negotiation", probe_version_negotiation, [L.VERSION_NEGOTIATION]),
    ("ping", probe_ping, [L.PING]),
    ("stateless envelope", probe_stateless_envelope, [L.UNSUPPORTED_VERSION, L.MISSING_META, L.CLIENT_INFO_OPTIONAL, L.DISCOVER]),
    ("listings", probe_listings, [T.PAGINATION, L.CAPS_TRUTHFUL, L.CAPS_UNADVERTISED, T.TOOL_NAMES, T.INPUT_SCHEMA, T.OUTPUT_SCHEMA, T.ANNOTATIONS, T.RESOURCE_READ, T.PROMPT_GET, T.PROMPT_MISSING_ARG, T.UNKNOWN_PROMPT, T.COMPLETION, T.BAD_CURSOR, T.UNKNOWN_TOOL, T.BAD_ARGUMENTS_SHAPE, T.UNKNOWN_RESOURCE]),
    ("tools", probe_tools, [T.TOOL_NAMES, T.INPUT_SCHEMA, T.OUTPUT_SCHEMA, T.ANNOTATIONS, T.BAD_CURSOR, T.UNKNOWN_TOOL, T.BAD_ARGUMENTS_SHAPE]),
    ("resources", probe_resources, [T.RESOURCE_READ, T.UNKNOWN_RESOURCE]),
    ("prompts", probe_prompts, [T.PROMPT_GET, T.PROMPT_MISSING_ARG, T.UNKNOWN_PROMPT]),
    ("completion", probe_completion, [T.COMPLETION, L.CAPS_UNADVERTISED]),
    ("error codes", probe_error_codes, [T.UNKNOWN_METHOD]),
    ("notifications", probe_notifications, [J.NOTIFICATION_NO_REPLY]),
    ("malformed messages", probe_malformed, [J.NULL_ID, J.INVALID_REQUEST, J.GARBAGE, J.BATCH, J.CRASH]),
    ("concurrency burst", probe_burst, [T.CONCURRENCY, J.ID_ECHO]),
]
# Checks judged over everything a session recorded: every probe feeds them; when only they are
# selected, the listings probe (the widest variety of messages) is the one that runs.
EVERY_PROBE = [J.RESPONSE_SHAPE, J.ID_ECHO, J.NO_HANG, J.UNSOLICITED, J.STDOUT, J.CRASH, S.RESULT_SCHEMA, S.NOTIFICATION_SCHEMA, S.META_KEYS, L.SERVER_REQUESTS, L.NOTIFICATION_DISCIPLINE, L.SERVER_INFO_META, T.RESERVED_CODES]
PROBES[3][2].extend(EVERY_PROBE)

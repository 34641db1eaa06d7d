"""The conformance campaign: spec rules that need no generated inputs (spec-digest §1-4).

Each era the server speaks (2026-07-28 stateless, handshake) gets its own fresh session and its
own run. Per era the campaign walks the server's lists when a selected check judges them (the
`listing` checks; the `exchange` and `log` checks, which the walk feeds) and hands the Listing to
`ctx.judge_listing`, then runs every selected `session` check of campaign "conformance" in
registration order (`ctx.run_probes`): the active checks below, then the HTTP rules' checks
(campaigns/http_rules.py, imported at the end of this module so that they register after these).

An active check does only the I/O its own verdict needs; checks that judge one exchange share it
through `ctx.once` (the listing walk, the malformed-request pair), so `--check list.invalid_cursor`
costs one request, not a campaign. A server that dies during a check is a finding (the `log`
check robustness.no_crash); it is restarted and the next check goes on.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator

from ..checks import jsonrpc as J
from ..checks import lifecycle as L
from ..checks import listing as T
from ..checks import schema  # noqa: F401 - registers the schema.* exchange checks the runner judges
from ..connect import STARTUP_TIMEOUT, detect, open_session
from ..findings import Severity, Violation
from ..registry import REGISTRY, Check, Listing, SessionContext, Skip, check
from ..results import TargetResult
from ..pages import walk
from ..safety import may_call
from ..session import HANDSHAKE_VERSIONS, META_CAPS, META_CLIENT, META_VERSION, Exchange, Session
from ..transport.base import TransportError
from .context import CampaignContext

MAX_PAGES = 50
MAX_ITEMS_PROBED = 25
BURST = 20
QUIET = 0.5
LISTING = "conformance.listing"  # memo key of the era's listing walk


@dataclass
class EraState:
    """What one era's checks share besides the session memo (`SessionContext.state`)."""

    sessions: list[Session] = field(default_factory=list)  # every session the era opened; closed when it ends


async def run_conformance(ctx: CampaignContext, result: TargetResult) -> None:
    target = ctx.target
    session = None
    if ctx.era_only is not None and ctx.known_eras:  # a --jobs unit: one era, already detected
        eras = list(ctx.known_eras)
    else:
        ctx.progress(f"{target.name}: detecting protocol eras")
        probe, session = await detect(target)
        eras = probe.eras()
    result.eras = eras
    for i, era in ctx.eras_here(eras):
        ctx.revision = era  # before the era's session opens: the runner files its recording under it
        if session is None or i > 0:
            session = await open_session(target, era)
        ctx.session = session
        state = EraState(sessions=[session])
        memo: dict[str, Any] = {}
        src = session.discover_result if session.stateless else session.initialize_result
        if result.server_info is None and isinstance(src, dict):
            info = src.get("serverInfo")
            if not isinstance(info, dict):
                meta = src.get("_meta") if isinstance(src.get("_meta"), dict) else {}
                info = meta.get("io.modelcontextprotocol/serverInfo")
            result.server_info = info if isinstance(info, dict) else None
            result.capabilities = session.server_capabilities
        try:
            if _walk_up_front(ctx):
                ctx.progress(f"{target.name} [{era}]: listings")
                try:
                    ctx.judge_listing(await listing_of(ctx.session_context(state, memo)), campaign="conformance")
                except TransportError:
                    pass  # judged by robustness.no_crash
                if not ctx.s.alive:
                    await _crashed(ctx, state, "the listing walk")
            await ctx.run_probes("conformance", state, memo, after=functools.partial(_restart_if_dead, ctx, state))
            if ctx.target.transport == "http":
                for fn in http_rules.HTTP_PROBES:
                    ctx.progress(f"{target.name} [{era}]: {fn.__name__}")
                    await fn(ctx)
        finally:
            # what the era's walk listed goes into the result even when --max-time cut the era
            # after the walk (budget.OutOfTime): a slow server's report still names its tools
            listing = memo.get(LISTING)
            if isinstance(listing, Listing):
                result.tools = sorted({str(t.get("name")) for t in listing.tools} | set(result.tools))
                result.resources = max(result.resources, len(listing.resources))
                result.prompts = max(result.prompts, len(listing.prompts))
            for s in state.sessions:
                await s.close()  # the runner judges every session (exchange and log checks)


def _walk_up_front(ctx: CampaignContext) -> bool:
    """Walk the lists before the active checks when a selected check judges the walk: a `listing`
    check, or an `exchange` / `log` check (the walk shows them the widest variety of answers, so
    `--check jsonrpc.response_shape` alone still has something to judge)."""
    judged = [*REGISTRY.for_scope("listing", "conformance"), *REGISTRY.for_scope("exchange"), *REGISTRY.for_scope("log")]
    return any(ctx.wants(c.spec) for c in judged)


async def _restart_if_dead(ctx: CampaignContext, state: EraState, c: Check) -> None:
    if not ctx.s.alive:
        await _crashed(ctx, state, c.id)


async def _crashed(ctx: CampaignContext, state: EraState, during: str) -> None:
    """The server went away: the `log` check robustness.no_crash judges it from the session's
    recording; the campaign restarts the server and goes on."""
    ctx.progress(f"{ctx.target.name}: server died during {during}; restarting")
    fresh = await open_session(ctx.target, ctx.revision or "")
    state.sessions.append(fresh)
    ctx.session = fresh


# --------------------------------------------------------------------------- the listing walk


async def walk_listing(s: Session, capabilities: dict[str, Any]) -> Listing:
    """Every list the server advertises, walked to its end; tools/list, resources/list and
    prompts/list are called once even when not advertised (stop "unadvertised"), so that
    capabilities.advertised_work can see a method served without its capability."""
    listing = Listing()
    for cap, method in (("tools", "tools/list"), ("resources", "resources/list"), ("resources", "resources/templates/list"), ("prompts", "prompts/list")):
        if cap in capabilities:
            listing.pages[method], items, listing.stop[method] = await _walk(s, method, T.LIST_KEYS[method])
            if method == "tools/list":
                listing.tools = items
            elif method == "resources/list":
                listing.resources = items
            elif method == "resources/templates/list":
                listing.templates = items
            else:
                listing.prompts = items
        elif method != "resources/templates/list":
            listing.pages[method] = [await s.request(method, {})]
            listing.stop[method] = "unadvertised"
    return listing


async def _walk(s: Session, method: str, key: str) -> tuple[list[Exchange], list[dict[str, Any]], str]:
    """Follow nextCursor through the one walker (pages.walk): at most MAX_PAGES pages, stopping
    on a cursor that comes back (T2/PG1). An empty-string cursor is a cursor here. Returns the
    pages, the items and why it stopped (see listing.WALKED)."""
    w = await walk(s, method, key, max_pages=MAX_PAGES, empty_cursor_ends=False)
    return w.pages, w.items, w.stop


async def listing_of(ctx: SessionContext) -> Listing:
    """The era's listing: walked once per era by whichever check (or the campaign) asks first."""
    return await ctx.once(LISTING, lambda: walk_listing(ctx.session, ctx.capabilities))


def _advertised(ctx: SessionContext, cap: str) -> None:
    if cap not in ctx.capabilities:
        raise Skip(f"the server does not advertise {cap}")


def _known_method(ctx: SessionContext) -> str:
    """A request every server of this era must serve."""
    return "tools/list" if "tools" in ctx.capabilities else ("server/discover" if ctx.stateless else "ping")


# --------------------------------------------------------------------------- lifecycle (§2)


@check(
    "lifecycle.version_negotiation",
    category="protocol.version_negotiation",
    severity="high",
    title="initialize answers with a protocol revision the server really supports",
    scope="session",
    rule="L2",
    level="MUST",
    revisions="..2025-11-25",
    description="A supported requested version is echoed; an unknown one is answered (successfully) with another real revision.",
    isolated=True,
)
async def version_negotiation(ctx: SessionContext) -> AsyncIterator[Violation]:
    """L2: fresh processes/sessions, one initialize each, two at a time (five server processes
    starting at once on a small CI machine would turn slow start-up into false timeouts)."""
    if ctx.stateless:
        raise Skip("a handshake-era rule (this era is stateless)")
    asks = [*HANDSHAKE_VERSIONS[:3], "1900-01-01", "not-a-version"]
    gate = asyncio.Semaphore(2)

    async def one(version: str) -> tuple[str, Exchange | None, Session | None]:
        async with gate:
            try:
                s = await open_session(ctx.config, version, handshake=False)
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
    judged = False
    for version, ex, s in outcomes:
        if ex is None or s is None:
            continue
        ctx.state.sessions.append(s)  # closed (and judged by the runner) when the era ends
        judged = True
        for v in L.check_negotiated(ex, version, answered):
            yield v
    if not judged:
        raise Skip("no fresh server process could be started to ask")


@check(
    "lifecycle.ping",
    category="protocol.lifecycle",
    severity="medium",
    title="ping is answered promptly with an empty result",
    scope="session",
    rule="L5",
    level="MUST",
    revisions="..2025-11-25",
)
async def ping(ctx: SessionContext) -> Iterator[Violation]:
    if ctx.stateless:
        raise Skip("a handshake-era rule (this era is stateless)")
    return L.check_ping(await ctx.session.request("ping"))


def _envelope(ctx: SessionContext, *drop: str, version: str | None = None) -> dict[str, Any]:
    """A stateless request whose _meta envelope lacks `drop` (or declares `version`)."""
    if not ctx.stateless:
        raise Skip(f"a 2026-07-28 rule (this era is {ctx.revision})")
    s = ctx.session
    meta = s.envelope_meta()
    if version is not None:
        meta[META_VERSION] = version
    for k in drop:
        meta.pop(k, None)
    method = "tools/list" if "tools" in ctx.capabilities else "server/discover"
    return s.build_request(method, {"_meta": meta}, meta=False)


@check(
    "stateless.unsupported_version",
    category="protocol.version_negotiation",
    severity="high",
    title="An unsupported protocolVersion in _meta gets -32022 with supported[] and requested",
    scope="session",
    rule="V1/J10",
    level="MUST",
    revisions="2026-07-28",
)
async def unsupported_version(ctx: SessionContext) -> Iterator[Violation]:
    msg = _envelope(ctx, version="1900-01-01")
    return L.check_unsupported_version(await ctx.session.request(msg["method"], message=msg), "1900-01-01")


@check(
    "stateless.envelope_required",
    category="protocol.version_negotiation",
    severity="high",
    title="Requests without the _meta protocolVersion / clientCapabilities are rejected with -32602",
    scope="session",
    rule="J15",
    level="MUST",
    revisions="2026-07-28",
)
async def envelope_required(ctx: SessionContext) -> AsyncIterator[Violation]:
    for key, label in ((META_VERSION, "protocolVersion"), (META_CAPS, "clientCapabilities")):
        msg = _envelope(ctx, key)
        for v in L.check_envelope_rejected(await ctx.session.request(msg["method"], message=msg), label):
            yield v


@check(
    "stateless.client_info_optional",
    category="protocol.version_negotiation",
    severity="medium",
    title="clientInfo in _meta is optional",
    scope="session",
    rule="J15",
    level="MUST NOT",
    description="A server MUST NOT require clientInfo in _meta (J15; conformance cites spec PR #3002).",
    revisions="2026-07-28",
)
async def client_info_optional(ctx: SessionContext) -> Iterator[Violation]:
    msg = _envelope(ctx, META_CLIENT)
    return L.check_client_info_optional(await ctx.session.request(msg["method"], message=msg))


@check(
    "stateless.discover",
    category="protocol.lifecycle",
    severity="high",
    title="server/discover lists 2026-07-28 among supportedVersions",
    scope="session",
    rule="V2",
    level="MUST",
    revisions="2026-07-28",
)
async def discover(ctx: SessionContext) -> Iterator[Violation]:
    """Judges the server/discover that opened this session (no I/O of its own)."""
    if not ctx.stateless:
        raise Skip(f"a 2026-07-28 rule (this era is {ctx.revision})")
    disc = next((e for e in ctx.session.exchanges if e.method == "server/discover" and e.ok), None)
    if ctx.session.discover_result is None or disc is None:
        raise Skip("this session has no successful server/discover")
    return L.check_discover(disc)


# --------------------------------------------------------------------------- tools, resources, prompts (§3)


@check(
    "list.invalid_cursor",
    category="protocol.error_codes",
    severity="low",
    title="An invalid cursor is answered with -32602",
    scope="session",
    rule="PG1",
    level="SHOULD",
)
async def invalid_cursor(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "tools")
    return T.check_bad_cursor(await ctx.session.request("tools/list", {"cursor": "mcpcheck-invalid-cursor-\u00ff%"}))


@check(
    "tools.unknown",
    category="protocol.error_codes",
    severity="low",
    title="Calling an unknown tool is a JSON-RPC error (-32602), never a success",
    scope="session",
    rule="T9",
    level="-",
    description="T9 words no keyword (the spec's examples use -32602): low at most.",
)
async def unknown_tool(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "tools")
    name = "mcpcheck_no_such_tool_4f1c"  # fixed: finding ids must be stable run to run
    ex = await ctx.session.request("tools/call", {"name": name, "arguments": {}})
    return T.check_expected_error(ex, f"tools/call of unknown tool {name!r}", -32602, success_severity=None)


@check(
    "tools.arguments_shape",
    category="tool.input_validation",
    severity="low",
    title="tools/call with non-object arguments is rejected",
    scope="session",
    rule="T9",
    level="-",
)
async def arguments_shape(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "tools")
    listing = await listing_of(ctx)
    safe = next((t["name"] for t in listing.tools if may_call(t, ctx.config.safety) is None), None)
    if safe is None:
        raise Skip("no tool that is safe to call (all destructive or excluded)")
    ex = await ctx.session.request("tools/call", {"name": safe, "arguments": ["mcpcheck"]})
    return T.check_arguments_rejected(ex, f"tools/call {safe!r} with arguments as an array")


@check(
    "resources.read",
    category="protocol.schema",
    severity="low",
    title="Every listed resource can be read and returns its contents",
    scope="session",
    rule="RS3",
    level="-",
    description=(
        "RS3 words no keyword: a listed resource that cannot be read (or reads empty, or a blob that is not base64) is "
        "low. A result that breaks the schema is schema.results'."
    ),
)
async def resource_read(ctx: SessionContext) -> AsyncIterator[Violation]:
    _advertised(ctx, "resources")
    listing = await listing_of(ctx)
    if not listing.resources:
        raise Skip("the server lists no resources")
    judged = False
    for res in listing.resources[:MAX_ITEMS_PROBED]:
        uri = res.get("uri")
        if isinstance(uri, str):
            judged = True
            for v in T.check_read(await ctx.session.request("resources/read", {"uri": uri}), uri):
                yield v
    if not judged:
        raise Skip("no listed resource has a uri")


@check(
    "resources.unknown_uri",
    category="protocol.error_codes",
    severity="medium",
    title="Reading an unknown URI is an error (-32002 before 2026-07-28, -32602 after), never empty contents",
    scope="session",
    rule="RS4/J9",
    level="SHOULD",
    description=(
        "RS4 is a SHOULD before 2026-07-28 (empty contents medium, another code low) and a MUST in 2026-07-28 (empty "
        "contents high, another code medium); each finding prints the level of its era."
    ),
)
async def unknown_resource(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "resources")
    listing = await listing_of(ctx)
    scheme = "mcpcheck"
    first = next((r.get("uri") for r in listing.resources if isinstance(r.get("uri"), str)), None)
    if first and "://" in first:
        scheme = first.split("://", 1)[0]
    uri = f"{scheme}://mcpcheck-no-such-resource-4f1c"  # fixed: stable finding ids
    ex = await ctx.session.request("resources/read", {"uri": uri})
    return [_at_level_of_era(v, ctx.stateless) for v in T.check_unknown_resource(ex, uri, ctx.stateless)]


def _at_level_of_era(v: Violation, stateless: bool) -> Violation:
    """RS4 is a MUST in 2026-07-28: a wrong code there is medium, not the SHOULD era's low."""
    if stateless and v.severity != Severity.info:
        v.level = "MUST"
        if v.severity is None or v.severity < Severity.medium:
            v.severity = Severity.medium
    return v


def _required_arguments(prompt: dict[str, Any]) -> list[str]:
    args = prompt.get("arguments") if isinstance(prompt.get("arguments"), list) else []
    return [a.get("name") for a in args if isinstance(a, dict) and a.get("required") and isinstance(a.get("name"), str)]


async def _argument_value(ctx: SessionContext, prompt: str, argument: str) -> str:
    """A value for a required prompt argument: the server's own first completion if it offers
    completions, else a placeholder."""
    if "completions" in ctx.capabilities:
        ex = await ctx.session.request(
            "completion/complete",
            {"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": argument, "value": ""}},
        )
        comp = ex.result.get("completion") if ex.ok and isinstance(ex.result, dict) else None
        values = comp.get("values") if isinstance(comp, dict) else None
        if isinstance(values, list) and values and isinstance(values[0], str):
            return values[0]
    return "mcpcheck"


@check(
    "prompts.get",
    category="protocol.schema",
    severity="high",
    title="Every listed prompt can be fetched with its required arguments",
    scope="session",
    rule="P1",
    level="MUST",
)
async def prompt_get(ctx: SessionContext) -> AsyncIterator[Violation]:
    _advertised(ctx, "prompts")
    listing = await listing_of(ctx)
    if not listing.prompts:
        raise Skip("the server lists no prompts")
    judged = False
    for p in listing.prompts[:MAX_ITEMS_PROBED]:
        name = p.get("name")
        if not isinstance(name, str):
            continue
        required = _required_arguments(p)
        values = {a: await _argument_value(ctx, name, a) for a in required}
        ex = await ctx.session.request("prompts/get", {"name": name, "arguments": values})
        judged = True
        for v in T.check_prompt_get(ex, name, bool(required)):
            yield v
    if not judged:
        raise Skip("no listed prompt has a name")


@check(
    "prompts.missing_argument",
    category="protocol.error_codes",
    severity="low",
    title="A prompt fetched without a required argument is answered -32602",
    scope="session",
    rule="P2",
    level="SHOULD",
)
async def prompt_missing_argument(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "prompts")
    listing = await listing_of(ctx)
    found = next(((p["name"], req) for p in listing.prompts[:MAX_ITEMS_PROBED] if isinstance(p.get("name"), str) and (req := _required_arguments(p))), None)
    if found is None:
        raise Skip("no prompt has a required argument")
    name, required = found
    ex = await ctx.session.request("prompts/get", {"name": name, "arguments": {}})
    return T.check_expected_error(ex, f"prompts/get {name!r} without its required argument(s) {required}", -32602)


@check(
    "prompts.unknown",
    category="protocol.error_codes",
    severity="low",
    title="An unknown prompt name is answered -32602",
    scope="session",
    rule="P2",
    level="SHOULD",
)
async def unknown_prompt(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "prompts")
    bogus = "mcpcheck_no_such_prompt_4f1c"  # fixed: stable finding ids
    ex = await ctx.session.request("prompts/get", {"name": bogus, "arguments": {}})
    return T.check_expected_error(ex, f"prompts/get of unknown prompt {bogus!r}", -32602)


@check(
    "capabilities.unadvertised_rejected",
    category="protocol.capabilities",
    severity="medium",
    title="Methods of capabilities the server did not advertise answer -32601",
    scope="session",
    rule="J8/V2",
    level="MUST",
    revisions="2026-07-28",
)
async def unadvertised_rejected(ctx: SessionContext) -> AsyncIterator[Violation]:
    """The list methods of unadvertised capabilities (called once by the listing walk) and
    completion/complete when completions are not advertised."""
    if not ctx.stateless:
        raise Skip(f"a 2026-07-28 rule (this era is {ctx.revision})")
    listing = await listing_of(ctx)
    judged = False
    for cap, method in L.CAPABILITY_METHODS.items():
        if listing.stop.get(method) == "unadvertised" and listing.pages.get(method):
            judged = True
            for v in L.check_unadvertised_code(listing.pages[method][0], cap):
                yield v
    if "completions" not in ctx.capabilities:
        judged = True
        ex = await ctx.session.request("completion/complete", {"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "x", "value": ""}})
        for v in L.check_unadvertised_code(ex, "completions"):
            yield v
    if not judged:
        raise Skip("the server advertises tools, resources, prompts and completions: nothing unadvertised to call")


@check(
    "completion.complete",
    category="protocol.schema",
    severity="medium",
    title="completion/complete returns at most 100 string values",
    scope="session",
    rule="C1",
    level="MUST",
    revisions="2025-03-26..",
)
async def completion(ctx: SessionContext) -> Iterator[Violation]:
    _advertised(ctx, "completions")
    listing = await listing_of(ctx)
    target = None
    for p in listing.prompts:
        args = p.get("arguments") if isinstance(p.get("arguments"), list) else []
        if args and isinstance(args[0], dict) and isinstance(args[0].get("name"), str):
            target = {"ref": {"type": "ref/prompt", "name": p.get("name")}, "argument": {"name": args[0]["name"], "value": ""}}
            break
    if target is None:
        raise Skip("no prompt argument to complete")
    return T.check_completion(await ctx.session.request("completion/complete", target))


# --------------------------------------------------------------------------- JSON-RPC (§1)


@check(
    "errors.unknown_method",
    category="protocol.error_codes",
    severity="low",
    title="An unknown method is answered -32601",
    scope="session",
    rule="J8",
    level="-",
    description=(
        "J8 words no keyword (JSON-RPC's standard codes): low at most. Owns the cause \"an unknown method gets the wrong "
        "code\": the envelope campaign's unknown and huge methods answered with a wrong code are instances of this finding."
    ),
)
async def unknown_method(ctx: SessionContext) -> Iterator[Violation]:
    ex = await ctx.session.request("mcpcheck/no-such-method", {})
    return T.check_expected_error(ex, "unknown method mcpcheck/no-such-method", -32601)


@check(
    "jsonrpc.notification_no_reply",
    category="protocol.notification_response",
    severity="high",
    title="Notifications are never answered",
    scope="session",
    rule="J7",
    level="MUST NOT",
)
async def notification_no_reply(ctx: SessionContext) -> AsyncIterator[Violation]:
    s = ctx.session
    sent = []
    for method, params in (
        ("notifications/mcpcheck_unknown", {}),
        ("notifications/cancelled", {"requestId": 987654321, "reason": "mcpcheck: cancelling an id that was never sent"}),
    ):
        sent.append((await s.notify(method, params)).request_entry)
    replies = await s.settle(QUIET)
    for entry in sent:
        for v in J.check_notification_silence(entry, replies):
            yield v


async def _malformed(ctx: SessionContext) -> tuple[Exchange, Exchange]:
    """A request with id null and one whose method is a number, sent together (shared by the
    two checks that judge them)."""

    async def send() -> tuple[Exchange, Exchange]:
        s = ctx.session
        short = min(1.5, ctx.config.timeout)
        null_id = s.build_request("tools/list", {}) | {"id": None}
        bad_method = s.build_request("tools/list", {})
        bad_method["method"] = 12345
        ex_null, ex_bad = await asyncio.gather(
            s.request("?", message=null_id, timeout=short, malformed=True),
            s.request("?", message=bad_method, timeout=short, malformed=True),
        )
        return ex_null, ex_bad

    return await ctx.once("conformance.malformed", send)


@check(
    "jsonrpc.null_id_rejected",
    category="protocol.jsonrpc_shape",
    severity="medium",
    title="A request with id null is rejected, not executed",
    scope="session",
    rule="J2",
    level="MUST",
    description="MCP forbids null ids; a server must not treat such a message as a valid request.",
)
async def null_id_rejected(ctx: SessionContext) -> Iterator[Violation]:
    ex_null, _ = await _malformed(ctx)
    return J.check_null_id(ex_null)


@check(
    "jsonrpc.invalid_request",
    category="protocol.jsonrpc_shape",
    severity="low",
    title="Malformed requests get an error, never a result",
    scope="session",
    rule="J6",
    level="JSON-RPC",
    description=(
        "J6 (a JSON-RPC 2.0 convention MCP repeats without a keyword): -32600 or -32700 (either passes), never a result; "
        "low at most. Owns the cause \"invalid requests get the wrong code\": the envelope campaign's invalid requests "
        "answered with the same wrong code are instances of this finding."
    ),
)
async def invalid_request(ctx: SessionContext) -> Iterator[Violation]:
    _, ex_bad = await _malformed(ctx)
    return J.check_rejected(ex_bad, "request whose method is a number", (-32600,))


def _stdio_only(ctx: SessionContext) -> None:
    if ctx.transport != "stdio":
        raise Skip("a stdio rule (raw HTTP bodies are probed by the HTTP rules)")


@check(
    "stdio.survives_garbage",
    category="protocol.crash",
    severity="high",
    title="The server keeps serving after a line that is not JSON",
    scope="session",
    rule="T11/S5",
    level="MUST",
)
async def survives_garbage(ctx: SessionContext) -> AsyncIterator[Violation]:
    _stdio_only(ctx)
    s = ctx.session
    await s.send_raw(b'{"jsonrpc": "2.0", "id": 424242, "method": "tools/list"', note="truncated JSON")
    await s.settle(QUIET)
    if not s.alive:
        yield Violation("a line of truncated JSON killed the server", s.wirelog.entries[-3:])
        return
    after = await s.request(_known_method(ctx), {})
    if not after.answered:
        yield Violation("after a line of truncated JSON the server stopped answering", after.evidence())


@check(
    "jsonrpc.batch_rejected",
    category="protocol.jsonrpc_shape",
    severity="info",
    title="How the server treats a JSON-RPC batch after 2025-06-18 (removed; the reaction is unspecified: an observation)",
    scope="session",
    rule="J12",
    level="-",
    revisions="2025-06-18..",
)
async def batch_rejected(ctx: SessionContext) -> Iterator[Violation]:
    _stdio_only(ctx)
    if (ctx.revision or "") < "2025-06-18":
        raise Skip(f"batches were removed in 2025-06-18 (this era is {ctx.revision})")
    s = ctx.session
    batch = [s.build_request("tools/list", {}), s.build_request("tools/list", {})]
    sent = await s.send_raw(json.dumps(batch).encode(), note="JSON-RPC batch")
    replies = await s.settle(QUIET * 2)
    return J.check_batch_reply(replies, sent)


@check(
    "concurrency.burst",
    category="protocol.concurrency",
    severity="high",
    title="A burst of concurrent requests is answered with the right ids and the right results",
    scope="session",
    rule="J4",
    level="MUST",
)
async def burst(ctx: SessionContext) -> Iterator[Violation]:
    known = _known_method(ctx)
    kinds = ["known" if i % 2 == 0 else "unknown" for i in range(BURST)]
    methods = [known if k == "known" else f"mcpcheck/burst-unknown-{i}" for i, k in enumerate(kinds)]
    exchanges = await asyncio.gather(*(ctx.session.request(m, {}) for m in methods))
    return T.check_burst(list(zip(kinds, exchanges)))


# The HTTP rules' session checks run after the ones above (registration order is run order).
from . import http_rules  # noqa: E402,F401

"""Streamable HTTP transport rules (spec-digest §4.2 H1-H9, §4.3 HS1-HS8): the probes.

Each rule a probe drives is one `session` check of the conformance campaign, run once per era on
the era's live session, in the order they are registered here. They apply to `--transport http`
targets only (anything else is skipped with "not a Streamable HTTP target"). A probe does its I/O
through the transport's raw door (`StreamableHttpTransport.http`), which records request and
response in the session's WireLog; the pure judgements live in mcpcheck.checks.http (Origin,
notifications, Accept), mcpcheck.checks.http_sessions (session ids, MCP-Protocol-Version) and
mcpcheck.checks.http_stateless (2026-07-28 rules). Checks of one era that need the same I/O share
it through `ctx.once`. The rules judged over the whole recording of every HTTP session
(http.response_content_type, http.sse_strict, http.session_id_charset) are `log` checks in those
modules.

Everything the spec allows passes: a dual-era server's legacy answers, 4xx for a notification
it does not accept, a server that issues no session id, DELETE answered 405.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator

from ..checks.http import EVIL_ORIGIN, check_accept, check_notification_ack, check_origin, http_pairs, notification_posts, require_http
from ..checks.http_sessions import (
    check_protocol_header,
    check_session_id_entropy,
    check_session_required,
    check_session_terminated,
    check_session_unknown,
)
from ..checks.http_stateless import (
    check_405,
    check_header_case,
    check_header_encoding,
    check_no_session_minted,
    check_routing_headers,
    check_stale_session_ignored,
    check_unknown_method,
    check_unsupported_version,
    check_version_header,
)
from ..findings import Severity, Violation
from ..registry import REGISTRY, SessionContext, Skip, check
from ..session import HANDSHAKE_VERSIONS, META_VERSION, Session
from ..transport.base import TransportError
from ..transport.http import JSON, SSE, RawHttp, StreamableHttpTransport
from .context import CampaignContext

PROBE_TIMEOUT = 5.0  # seconds per raw probe request (a server that never answers costs little)


# =========================================================================== helpers


def _http(ctx: SessionContext) -> tuple[Session, StreamableHttpTransport]:
    """The era's session and its Streamable HTTP transport, or Skip."""
    require_http(ctx.transport)
    s = ctx.session
    t = s.transport if s is not None else None
    if not isinstance(t, StreamableHttpTransport):
        raise Skip("not a Streamable HTTP target")
    return s, t


def _body(s: Session, method: str, params: dict[str, Any] | None = None, **kw: Any) -> bytes:
    return json.dumps(s.build_request(method, params if params is not None else {}, **kw)).encode()


def _safe_method(s: Session) -> str:
    return "server/discover" if s.stateless else "ping"


async def _raw(t: StreamableHttpTransport, method: str = "POST", **kw: Any) -> RawHttp:
    kw.setdefault("timeout", min(t.timeout, PROBE_TIMEOUT) + 1.0)
    return await t.http(method, **kw)


def _handshake(ctx: SessionContext) -> tuple[Session, StreamableHttpTransport]:
    """For the session rules (H8): the era's session, or Skip in the stateless era."""
    s, t = _http(ctx)
    if s.stateless:
        raise Skip("2026-07-28 has no sessions")
    return s, t


def _issued(ctx: SessionContext) -> tuple[Session, StreamableHttpTransport, str]:
    """The era's session and the session id it was issued, or Skip."""
    s, t = _handshake(ctx)
    if t.session_id is None:
        raise Skip("the server issued no Mcp-Session-Id (sessions are optional)")
    return s, t, t.session_id


def _init_evidence(s: Session) -> list[Any]:
    init = next((ex for ex in s.exchanges if ex.method == "initialize" and ex.ok), None)
    return init.evidence() if init else []


def _stateless(ctx: SessionContext) -> tuple[Session, StreamableHttpTransport]:
    s, t = _http(ctx)
    if not s.stateless:
        raise Skip(f"2026-07-28 rule (this era is {ctx.revision})")
    return s, t


# =========================================================================== Origin, notifications


@check(
    "http.origin_rejected",
    category="security.origin",
    severity="high",
    title="A hostile Origin header is refused (403 from 2025-11-25 on)",
    scope="session",
    rule="H2/HS2",
    level="MUST",
    revisions="all",
    description="POST with `Origin: http://evil.example`: DNS-rebinding protection must refuse it; 2025-11-25 and "
    "later require exactly 403, earlier revisions any 4xx.",
)
async def origin_rejected(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _http(ctx)
    raw = await _raw(t, body=_body(s, _safe_method(s)), headers={"Origin": EVIL_ORIGIN}, note="hostile Origin")
    return check_origin(raw, ctx.revision)


@check(
    "http.notification_202",
    category="transport.http",
    severity="high",
    title="POSTed notifications and responses are answered 202 with no body (or a 4xx when refused)",
    scope="session",
    rule="H3/HS3",
    level="MUST",
    revisions="2025-03-26..",
)
async def notification_202(ctx: SessionContext) -> AsyncIterator[Violation]:
    """Sends one notification, then judges every notification/response POST the session
    recorded (initialized, the campaign's own notifications, the probe)."""
    s, t = _http(ctx)
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/mcpcheck_probe"}
    if s.stateless:
        msg["params"] = {"_meta": s.envelope_meta()}
    await _raw(t, body=json.dumps(msg).encode(), note="notification probe")
    judged = 0
    for out, raw in notification_posts(s.wirelog):
        judged += raw.status is not None and not raw.error
        for v in check_notification_ack(out, raw):
            yield v
    if not judged:
        raise Skip("no notification POST was answered")


# =========================================================================== sessions (H8, H9)


@check(
    "http.session_required",
    category="transport.session",
    severity="medium",
    title="Requests without Mcp-Session-Id are refused with 400 once a session id was issued",
    scope="session",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
)
async def session_required(ctx: SessionContext) -> Iterator[Violation]:
    s, t, _sid = _issued(ctx)
    raw = await _raw(t, body=_body(s, "ping"), headers={"Mcp-Session-Id": None}, note="request without Mcp-Session-Id")
    return check_session_required(raw)


@check(
    "http.session_unknown",
    category="transport.session",
    severity="medium",
    title="A session id the server never issued gets 404",
    scope="session",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
    description=(
        "H8's MUST 404 is for terminated or expired sessions; for an id the server never issued the spec says nothing "
        "binding, so this is judged as a SHOULD: served (ids not validated) medium, refused with another 4xx low. "
        "When a DELETEd session's id gets the same refusal, that is one cause (the server refuses every id it does not "
        "hold with that status): one http.session_terminated finding (MUST 404) lists both requests."
    ),
)
async def session_unknown(ctx: SessionContext) -> Iterator[Violation]:
    s, t, _sid = _issued(ctx)
    bogus = "mcpcheck-" + secrets.token_hex(16)
    raw = await _raw(t, body=_body(s, "ping"), headers={"Mcp-Session-Id": bogus}, note="unknown Mcp-Session-Id")
    ctx.memo[UNKNOWN_SESSION] = raw
    found = list(check_session_unknown(raw))
    if found and all(v.key == "status" for v in found):
        other: Throwaway = await ctx.once("http.throwaway", lambda: throwaway_session(s, t, ctx.revision))
        if same_refusal(other, raw):
            return iter([one_refusal(other, raw)])
    return iter(found)


UNKNOWN_SESSION = "http.unknown_session"  # memo key: the raw answer to a never-issued session id
TERMINATED = "http.session_terminated"


def same_refusal(other: "Throwaway", unknown: RawHttp | None) -> bool:
    """A DELETEd session's id and a never-issued one were refused with the same non-404 4xx status."""
    after = other.after
    return (
        unknown is not None and after is not None and other.delete is not None and not other.skip
        and not unknown.error and not after.error and unknown.status is not None
        and unknown.status == after.status and not after.ok and after.status != 404
    )


def one_refusal(other: "Throwaway", unknown: RawHttp) -> Violation:
    """One cause seen by http.session_unknown and http.session_terminated: every session id the server
    does not hold gets one non-404 status. Filed under session_terminated (the MUST), whichever check
    saw it first, with the same detail and key, so the two make one finding."""
    return Violation(
        f"after DELETE, the old session id was refused with HTTP {other.after.status}, and so was a session id the server "
        f"never issued: it answers {other.after.status} to every id it does not hold; a terminated session MUST answer 404 "
        "(clients re-initialize only on 404)",
        [*other.delete.entries, *other.after.entries, *unknown.entries],
        severity=Severity.medium,
        key="status",
        owner=TERMINATED,
    )


@dataclass
class Throwaway:
    """A second session opened, DELETEd and reused (http.session_terminated and
    http.session_id_entropy share it). `skip`: why session_terminated has no verdict."""

    sid: str | None = None
    delete: RawHttp | None = None
    after: RawHttp | None = None
    skip: str | None = None


async def throwaway_session(s: Session, t: StreamableHttpTransport, revision: str | None) -> Throwaway:
    """DELETE a throwaway second session (the main one stays usable), then reuse its id."""
    t2 = StreamableHttpTransport(t.url, headers=t.user_headers, timeout=t.timeout)
    s2 = Session(t2, timeout=min(s.timeout, PROBE_TIMEOUT + 1))
    try:
        await s2.start()
        ex = await s2.initialize(revision or HANDSHAKE_VERSIONS[0])
        sid = t2.session_id
        if not ex.ok or sid is None:
            return Throwaway(skip="a second session could not be opened: " + (ex.transport_error or str(ex.response)[:120]))
        delete = await _raw(t2, "DELETE", note="end the throwaway session")
        if delete.status == 405:
            t2.session_terminated = True
            return Throwaway(sid, delete, skip="DELETE answered 405: the server does not let clients end sessions (allowed)")
        after = None
        if delete.ok:
            t2.session_terminated = True
            after = await _raw(t2, body=_body(s2, "ping"), headers={"Mcp-Session-Id": sid}, note="reuse a DELETEd session id")
        return Throwaway(sid, delete, after)
    except Exception as exc:  # never let the throwaway session break the campaign
        return Throwaway(skip=f"throwaway session failed: {exc}")
    finally:
        await s2.close()


@check(
    "http.session_terminated",
    category="transport.session",
    severity="high",
    title="After DELETE, the old session id gets 404",
    scope="session",
    rule="H8",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
    description="Checked on a throwaway second session; DELETE answered 405 (termination not offered) is allowed.",
)
async def session_terminated(ctx: SessionContext) -> Iterator[Violation]:
    s, t, _sid = _issued(ctx)
    other: Throwaway = await ctx.once("http.throwaway", lambda: throwaway_session(s, t, ctx.revision))
    if other.skip or other.delete is None:
        raise Skip(other.skip or "no DELETE was sent")
    unknown = ctx.memo.get(UNKNOWN_SESSION)
    if same_refusal(other, unknown):  # one cause with http.session_unknown's probe: one finding
        return iter([one_refusal(other, unknown)])
    return check_session_terminated(other.delete, other.after)


@check(
    "http.session_id_entropy",
    category="transport.session",
    severity="low",
    title="Session ids look unguessable (at least ~64 bits)",
    scope="session",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
)
async def session_id_entropy(ctx: SessionContext) -> Iterator[Violation]:
    s, t, sid = _issued(ctx)
    other: Throwaway = await ctx.once("http.throwaway", lambda: throwaway_session(s, t, ctx.revision))
    sids = [sid, *([other.sid] if other.sid else [])]
    return check_session_id_entropy(sids, _init_evidence(s))


@check(
    "http.protocol_version_header",
    category="transport.http",
    severity="high",
    title="An invalid MCP-Protocol-Version header is refused with 400",
    scope="session",
    rule="H9",
    level="MUST",
    revisions="2025-06-18..2025-11-25",
)
async def protocol_version_header(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _http(ctx)
    if s.stateless:
        raise Skip("2026-07-28 version header rules are checked by http.stateless_version_header (HS5)")
    if (ctx.revision or "") < "2025-06-18":
        raise Skip(f"MCP-Protocol-Version is defined from 2025-06-18 on (negotiated {ctx.revision})")
    bogus = "1999-01-01"
    raw = await _raw(t, body=_body(s, "ping"), headers={"MCP-Protocol-Version": bogus}, note="bogus MCP-Protocol-Version")
    return check_protocol_header(raw, bogus)


# =========================================================================== 2026-07-28 (HS1, HS5-HS8)


@dataclass
class LegacySupport:
    legacy: bool  # the server speaks the handshake era too
    pre_0618: bool  # ... and serves pre-2025-06-18 clients (which send no MCP-Protocol-Version)


async def legacy_support(s: Session, t: StreamableHttpTransport) -> LegacySupport:
    """For a server found in the stateless era: a raw initialize offering 2025-03-26 (its
    session, if any, is DELETEd)."""
    versions = (s.discover_result or {}).get("supportedVersions")
    listed = [v for v in versions if isinstance(v, str)] if isinstance(versions, list) else []
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": s.next_id(),
            "method": "initialize",
            "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": s.client_info},
        }
    ).encode()
    raw = await _raw(t, body=body, session=False, note="does this server also speak the handshake era?")
    result = raw.response.get("result") if raw.response and isinstance(raw.response.get("result"), dict) else None
    got = result.get("protocolVersion") if result else None
    sid = raw.headers.get("mcp-session-id")
    if sid:
        hdrs = {"Mcp-Session-Id": sid}
        if isinstance(got, str):
            hdrs["MCP-Protocol-Version"] = got
        await _raw(t, "DELETE", session=False, headers=hdrs, note="end the handshake-era probe session")
    legacy = isinstance(got, str) or any(v in HANDSHAKE_VERSIONS for v in listed)
    pre_0618 = got in ("2025-03-26", "2024-11-05") or any(v in ("2025-03-26", "2024-11-05") for v in listed)
    return LegacySupport(legacy, pre_0618)


async def _legacy(ctx: SessionContext, s: Session, t: StreamableHttpTransport) -> LegacySupport:
    return await ctx.once("http.legacy_support", lambda: legacy_support(s, t))


@dataclass
class NamedTarget:
    """A side-effect-free request that carries Mcp-Name."""

    method: str
    params: dict[str, Any]
    name: str
    unknown: bool  # the name is a made-up one (a tool that does not exist)


async def named_target(s: Session) -> NamedTarget | None:
    """Prefers reading a listed resource, then a prompt without required arguments, then
    calling a tool that does not exist (never a real tool)."""
    caps = s.server_capabilities
    if "resources" in caps:
        ex = await s.request("resources/list", {})
        items = (ex.result or {}).get("resources") if ex.ok and isinstance(ex.result, dict) else None
        for r in items or []:
            if isinstance(r, dict) and isinstance(r.get("uri"), str):
                return NamedTarget("resources/read", {"uri": r["uri"]}, r["uri"], False)
    if "prompts" in caps:
        ex = await s.request("prompts/list", {})
        items = (ex.result or {}).get("prompts") if ex.ok and isinstance(ex.result, dict) else None
        for p in items or []:
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            args = p.get("arguments") if isinstance(p.get("arguments"), list) else []
            if not any(isinstance(a, dict) and a.get("required") for a in args):
                return NamedTarget("prompts/get", {"name": p["name"], "arguments": {}}, p["name"], False)
    if "tools" in caps:
        name = f"mcpcheck_no_such_tool_{secrets.token_hex(3)}"
        return NamedTarget("tools/call", {"name": name, "arguments": {}}, name, True)
    return None


async def _named(ctx: SessionContext, s: Session) -> NamedTarget | None:
    return await ctx.once("http.named_target", lambda: named_target(s))


@check(
    "http.stateless_get_delete_405",
    category="transport.http",
    severity="medium",
    title="A 2026-07-28-only server answers GET and DELETE with 405",
    scope="session",
    rule="HS1",
    level="SHOULD",
    revisions="2026-07-28",
)
async def stateless_get_delete_405(ctx: SessionContext) -> AsyncIterator[Violation]:
    s, t = _stateless(ctx)
    if (await _legacy(ctx, s, t)).legacy:
        raise Skip("dual-era server: GET and DELETE belong to its handshake-era transport")
    get = await _raw(t, "GET", window=1.0, note="GET on a 2026-07-28 endpoint")
    delete = await _raw(t, "DELETE", note="DELETE on a 2026-07-28 endpoint")
    for v in [*check_405(get, "GET"), *check_405(delete, "DELETE")]:
        yield v


@check(
    "http.stateless_no_session",
    category="transport.session",
    severity="medium",
    title="No Mcp-Session-Id is minted or echoed for 2026-07-28 requests",
    scope="session",
    rule="HS1",
    level="SHOULD NOT",
    revisions="2026-07-28",
)
async def stateless_no_session(ctx: SessionContext) -> AsyncIterator[Violation]:
    """A leftover session id is ignored; no response of this session carries one."""
    s, t = _stateless(ctx)
    legacy = (await _legacy(ctx, s, t)).legacy
    raw = await _raw(t, body=_body(s, "server/discover"), headers={"Mcp-Session-Id": "mcpcheck-stale-" + secrets.token_hex(8)}, note="leftover Mcp-Session-Id")
    for v in [*check_stale_session_ignored(raw, not legacy), *check_no_session_minted(http_pairs(s.wirelog))]:
        yield v


@check(
    "http.stateless_version_header",
    category="transport.http",
    severity="high",
    title="A missing or mismatched MCP-Protocol-Version header is refused: 400 + -32020",
    scope="session",
    rule="HS5",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_version_header(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    support = await _legacy(ctx, s, t)
    safe = "server/discover"
    missing = await _raw(t, body=_body(s, safe), headers={"MCP-Protocol-Version": None}, note="no MCP-Protocol-Version")
    mismatch = await _raw(t, body=_body(s, safe), headers={"MCP-Protocol-Version": "2099-12-31"}, note="MCP-Protocol-Version differs from _meta")
    legacy_mismatch = None
    if support.legacy:
        method = "tools/list" if "tools" in s.server_capabilities else safe
        legacy_mismatch = await _raw(t, body=_body(s, method), headers={"MCP-Protocol-Version": "2025-11-25"}, note="legacy MCP-Protocol-Version with 2026-07-28 _meta")
    return check_version_header(missing, mismatch, legacy_mismatch, missing_allowed=support.pre_0618)


@check(
    "http.stateless_routing_headers",
    category="transport.http",
    severity="high",
    title="A missing or mismatched Mcp-Method / Mcp-Name header is refused: 400 + -32020",
    scope="session",
    rule="HS7",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_routing_headers(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    safe = "server/discover"
    named = await _named(ctx, s)
    cases = [
        ("request without Mcp-Method", await _raw(t, body=_body(s, safe), headers={"Mcp-Method": None}, note="no Mcp-Method")),
        ("Mcp-Method differing in case from the body's method", await _raw(t, body=_body(s, safe), headers={"Mcp-Method": safe.upper()}, note="Mcp-Method value case")),
    ]
    if named is not None:
        cases.append(("Mcp-Name naming something else than the body", await _raw(t, body=_body(s, named.method, named.params), headers={"Mcp-Name": "mcpcheck-other-name"}, note="mismatched Mcp-Name")))
        cases.append((f"{named.method} without Mcp-Name", await _raw(t, body=_body(s, named.method, named.params), headers={"Mcp-Name": None}, note="no Mcp-Name")))
    return check_routing_headers(cases, lookup_first_ok=bool(named and named.unknown))


@check(
    "http.stateless_header_name_case",
    category="transport.http",
    severity="high",
    title="MCP header names are matched case-insensitively",
    scope="session",
    rule="HS7",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_header_name_case(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    cases = []
    for spelling, fold in (("in lower case", str.lower), ("in upper case", str.upper)):
        body = _body(s, "server/discover")
        proto = t.protocol_headers(json.loads(body))
        overrides: dict[str, str | None] = {k: None for k in proto}
        overrides.update({fold(k): v for k, v in proto.items()})
        cases.append((spelling, await _raw(t, body=body, headers=overrides, note=f"MCP header names {spelling}")))
    return check_header_case(cases)


@check(
    "http.stateless_header_encoding",
    category="transport.http",
    severity="high",
    title="Base64-sentinel Mcp-Name values are decoded before comparing; malformed ones are refused",
    scope="session",
    rule="HS8",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_header_encoding(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    named = await _named(ctx, s)
    if named is None:
        raise Skip("no tools, prompts or resources to address with Mcp-Name")
    sentinel = "=?base64?" + base64.b64encode(named.name.encode()).decode() + "?="
    encoded = await _raw(t, body=_body(s, named.method, named.params), headers={"Mcp-Name": sentinel}, note="Mcp-Name in base64 sentinel form")
    malformed = await _raw(t, body=_body(s, named.method, named.params), headers={"Mcp-Name": "=?base64?%%not-base64%%?="}, note="malformed base64 sentinel")
    return check_header_encoding(encoded, malformed)


@check(
    "http.stateless_unknown_method_404",
    category="transport.http",
    severity="high",
    title="An unknown method is answered 404 + -32601",
    scope="session",
    rule="HS6",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_unknown_method_404(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    method = f"mcpcheck/no-such-method-{secrets.token_hex(3)}"
    raw = await _raw(t, body=_body(s, method), note="unknown method")
    return check_unknown_method(raw, method)


@check(
    "http.stateless_unsupported_version_400",
    category="transport.http",
    severity="high",
    title="An unsupported protocol version is answered 400 + -32022",
    scope="session",
    rule="HS6",
    level="MUST",
    revisions="2026-07-28",
)
async def stateless_unsupported_version_400(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _stateless(ctx)
    version = "1900-01-01"
    msg = s.build_request("server/discover", {})
    msg["params"]["_meta"][META_VERSION] = version
    raw = await _raw(t, body=json.dumps(msg).encode(), note="unsupported _meta version")  # header mirrors _meta
    return check_unsupported_version(raw, version)


# =========================================================================== Accept / Content-Type


@check(
    "http.accept_handling",
    category="transport.http",
    severity="info",
    title="How the server treats a bad Accept or Content-Type (406/415 are SDK conventions, not spec)",
    scope="session",
    rule="§6.8",
    level="-",
    revisions="2025-03-26..",
)
async def accept_handling(ctx: SessionContext) -> Iterator[Violation]:
    s, t = _http(ctx)
    m = _safe_method(s)
    cases = [
        ("Accept: application/json only", (JSON,), await _raw(t, body=_body(s, m), headers={"Accept": JSON}, note="Accept: application/json only")),
        ("Accept: text/event-stream only", (SSE,), await _raw(t, body=_body(s, m), headers={"Accept": SSE}, note="Accept: text/event-stream only")),
        ("no Accept header", None, await _raw(t, body=_body(s, m), headers={"Accept": None}, note="no Accept header")),
        ("Content-Type: text/plain", None, await _raw(t, body=_body(s, m), headers={"Content-Type": "text/plain"}, note="Content-Type: text/plain")),
    ]
    return check_accept(cases)


# =========================================================================== compatibility


async def run_http_probes(ctx: CampaignContext) -> None:
    """MIGRATION SHIM until the conformance campaign runs `ctx.run_probes("conformance", ...)`:
    every selected session check registered in this module, in registration order, on the era's
    live session, unless this era already has its verdict (run_probes ran it). A probe whose
    server went away stops with a note (the campaign judges the crash itself)."""
    memo: dict[str, Any] = {}
    for c in REGISTRY.for_scope("session", "conformance"):
        if c.fn.__module__ != __name__ or not ctx.wants(c.spec) or (c.id, ctx.revision) in ctx.ledger:
            continue
        ctx.progress(f"{ctx.target.name} [{ctx.revision}]: {c.id}")
        try:
            await ctx.run_probe(c, ctx.session_context(None, memo))
        except TransportError as exc:
            ctx.notes.append(f"http rules: {c.id} stopped: {exc}")


HTTP_PROBES = [run_http_probes]

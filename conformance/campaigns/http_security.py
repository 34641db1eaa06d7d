"""The `http-security` campaign: authorization, session-id predictability, rate limiting and
schemathesis HTTP-level fuzzing of a Streamable HTTP endpoint (GitHub issue 4, part 2).

Every check is one `session` check of campaign "http-security"; `run_http_security` runs the
selected ones in the order they are registered here. Probes do raw I/O through a
`StreamableHttpTransport` of the campaign's own (its `http()` door records every request and
response in a WireLog, Authorization redacted), handed to them in `ctx.state` (`Probing`); checks
that need the same I/O (the unauthenticated requests, the metadata discovery, the schemathesis
run) share it through `ctx.once`. The pure judgements live in mcpcheck.checks.http_auth and
mcpcheck.checks.http_sessions. stdio and legacy SSE targets get every check skipped ("HTTP
transport only"). Nothing here calls a tool that conformance/safety.py forbids, and every
request goes to the target's own URL or to a protected-resource-metadata URL on a loopback
address.

Checks (see docs/http-security.md):
    httpsec.auth_status               info: whether the server requires a token (observation)
    httpsec.auth_challenge            401 carries `WWW-Authenticate: Bearer ... resource_metadata=` (A3/A4)
    httpsec.resource_metadata         RFC 9728 metadata served, JSON, `resource` + `authorization_servers` (A2)
    httpsec.unauthenticated_refused   no method or path served without a token (A2/A5)
    httpsec.invalid_token_rejected    bogus / malformed / expired / wrong-audience tokens refused everywhere (A5)
    httpsec.query_token_refused       a valid token in ?access_token= is not accepted (A7)
    httpsec.authorization_server_2025 a 2025-03-26-only server is its own OAuth authorization server:
                                      401, RFC 8414 metadata or /authorize + /token at the base URL (A1)
    httpsec.insufficient_scope        with a second, lower-scope token (low_scope_bearer_env): what it may
                                      not do gets 403 with a Bearer error="insufficient_scope" challenge (A8)
    httpsec.session_id_predictable    >= 8 sampled session ids: counters, timestamps, low entropy (H8)
    httpsec.rate_limit                info: a bounded burst, whether 429 / Retry-After appear
    httpsec.fuzz_server_error         schemathesis not_a_server_error
    httpsec.fuzz_status_code          schemathesis status_code_conformance
    httpsec.fuzz_content_type         schemathesis content_type_conformance
    httpsec.fuzz_response_schema      schemathesis response_schema_conformance
Info-level findings (auth_status, rate_limit, a missing scope= in an insufficient_scope challenge)
are observations: a check with nothing else is passed.
Session ids of the sessions this campaign opens through mcpcheck's Session (the fuzz session)
are judged by the `log` check http.session_id_charset like every other HTTP session's.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

from .. import budget
from ..checks.http_auth import check_challenge, check_query_token, check_resource_metadata, check_tokens_refused, parse_challenges
from ..checks.http_sessions import check_session_predictability
from ..connect import detect, list_tools, make_transport, open_session
from ..findings import Severity, Violation
from ..registry import REGISTRY, Check, SessionContext, Skip, check
from ..results import TargetResult
from ..safety import may_call
from ..session import HANDSHAKE_LATEST, HANDSHAKE_VERSIONS, LATEST, META_CAPS, META_CLIENT, META_VERSION
from ..transport.base import TransportError
from ..transport.http import RawHttp, StreamableHttpTransport
from ..wirelog import WireEntry, WireLog
from .context import CampaignContext
from .http_openapi import StFailure, StRun, build_openapi, run_schemathesis
from .http_rules import PROBE_TIMEOUT

CAMPAIGN = "http-security"
NO_TOKEN_GIVEN = "the server requires a token and none was given (--bearer-env)"


@dataclass
class HttpSecuritySettings:
    session_samples: int = 8
    burst: int = 200  # requests in the rate-limit burst
    burst_seconds: float = 5.0  # ... sent within at most this long
    burst_concurrency: int = 8
    max_examples: int = 25  # schemathesis examples per operation and generation mode (POST; fewer for GET/DELETE)
    fuzz_budget: float = 30.0  # seconds for the whole schemathesis run
    fuzz_request_timeout: float = 5.0
    seed: int | None = 0


# =========================================================================== observations


def describe_burst(statuses: dict[str, int], sent: int, elapsed: float, first_429: RawHttp | None, method: str) -> Violation:
    counts = ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items()))
    if first_429 is not None:
        ra = first_429.headers.get("retry-after")
        text = (
            f"rate limiting observed: {sent} {method!r} requests in {elapsed:.1f}s got {counts}; the first 429 "
            + (f"carried Retry-After: {ra}" if ra else "carried no Retry-After header")
        )
        ev = first_429.entries
    else:
        text = f"no rate limiting observed: {sent} {method!r} requests in {elapsed:.1f}s got {counts} (no 429, no Retry-After)"
        ev = []
    return Violation(text, ev, severity=Severity.info, key="burst")


def st_violation(f: StFailure) -> Violation:
    status = f"HTTP {f.status}" if f.status is not None else "no status"
    detail = f"schemathesis {f.check} failed on a {f.mode} {f.method} case ({status}): {f.title}"
    msg = " ".join(f.message.split())
    if msg:
        detail += f" -- {msg[:300]}"
    if f.curl:
        detail += f"\nreproduce: {f.curl[:1500]}"
    return Violation(detail, f.entries, input=f.body, key=f.key)



# =========================================================================== probe inputs


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _b64(d: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")


def _jwt(payload: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'mcpcheck'})}.{_b64(payload)}.{base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip('=')}"


def bad_tokens(endpoint: str, issuer: str | None) -> list[tuple[str, str]]:
    """(kind, Authorization header value) for tokens no server may accept."""
    now = int(time.time())
    iss = issuer or "https://auth.mcpcheck.invalid"
    return [
        ("random bogus token", f"Bearer mcpcheck-bogus-{secrets.token_hex(16)}"),
        ("malformed token", "Bearer !!not a token!! \"'<>"),
        ("expired JWT", "Bearer " + _jwt({"iss": iss, "aud": endpoint, "sub": "mcpcheck", "iat": now - 7200, "exp": now - 3600, "scope": "mcp"})),
        ("wrong-audience JWT", "Bearer " + _jwt({"iss": iss, "aud": "https://other-resource.mcpcheck.invalid/mcp", "sub": "mcpcheck", "iat": now, "exp": now + 3600, "scope": "mcp"})),
        ("unsigned alg=none JWT", "Bearer " + f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'iss': iss, 'aud': endpoint, 'sub': 'mcpcheck', 'exp': now + 3600})}."),
        ("empty Bearer", "Bearer "),
    ]


def _msg(method: str, params: dict[str, Any] | None = None, *, rid: bool = True) -> dict[str, Any]:
    m: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if rid:
        m["id"] = secrets.randbelow(1_000_000) + 1
    if params is not None:
        m["params"] = params
    return m


def _modern(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    p = dict(params or {})
    p["_meta"] = {META_VERSION: LATEST, META_CAPS: {}, META_CLIENT: {"name": "mcpcheck", "version": "0.1.0"}}
    return _msg(method, p)


def _modern_headers(msg: dict[str, Any]) -> dict[str, str | None]:
    h: dict[str, str | None] = {"MCP-Protocol-Version": LATEST, "Mcp-Method": msg["method"]}
    params = msg.get("params") or {}
    for key in ("name", "uri"):
        if isinstance(params.get(key), str):
            h["Mcp-Name"] = params[key]
    return h


INIT_PARAMS = {"protocolVersion": HANDSHAKE_LATEST, "capabilities": {}, "clientInfo": {"name": "mcpcheck", "version": "0.1.0"}}


def method_probes(session: tuple[str, str] | None) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str | None]]]:
    """(label, HTTP verb, JSON-RPC message or None, extra headers) for every MCP method mcpcheck
    knows, in both eras, plus GET and DELETE. `session`: (session id, version) of a session opened
    with a valid token, so a request that gets past authentication can be served."""
    sh: dict[str, str | None] = {"Mcp-Session-Id": session[0], "MCP-Protocol-Version": session[1]} if session else {}
    unknown_tool = f"mcpcheck_no_such_tool_{secrets.token_hex(3)}"
    legacy = [
        ("initialize", INIT_PARAMS, {}),
        ("ping", None, sh),
        ("tools/list", {}, sh),
        ("tools/call", {"name": unknown_tool, "arguments": {}}, sh),
        ("resources/list", {}, sh),
        ("resources/templates/list", {}, sh),
        ("resources/read", {"uri": "mcpcheck://nothing"}, sh),
        ("prompts/list", {}, sh),
        ("prompts/get", {"name": "mcpcheck-no-such-prompt"}, sh),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a", "value": ""}}, sh),
        ("logging/setLevel", {"level": "error"}, sh),
    ]
    out: list[tuple[str, str, dict[str, Any] | None, dict[str, str | None]]] = []
    for method, params, hdrs in legacy:
        out.append((f"POST {method}", "POST", _msg(method, params), dict(hdrs)))
    out.append(("POST notifications/initialized", "POST", _msg("notifications/initialized", rid=False), dict(sh)))
    for method, params in (("server/discover", {}), ("tools/list", {}), ("tools/call", {"name": unknown_tool, "arguments": {}}), ("resources/list", {}), ("prompts/list", {})):
        m = _modern(method, params)
        out.append((f"POST {method} (2026-07-28)", "POST", m, _modern_headers(m)))
    out.append(("GET (SSE stream)", "GET", None, dict(sh)))
    out.append(("DELETE (session end)", "DELETE", None, {"Mcp-Session-Id": f"mcpcheck-{secrets.token_hex(8)}"}))
    return out


class Prober:
    def __init__(self, ctx: CampaignContext, t: StreamableHttpTransport) -> None:
        self.ctx, self.t = ctx, t

    async def send(self, verb: str, msg: dict[str, Any] | None, headers: dict[str, str | None], *, note: str, url: str | None = None) -> RawHttp:
        budget.current().check()  # --max-time: stop at this probe
        body = json.dumps(msg).encode() if msg is not None else None
        window = 1.0 if verb == "GET" else None
        return await self.t.http(verb, body=body, headers=headers, session=False, url=url, window=window, timeout=PROBE_TIMEOUT, note=note)


async def _open_handshake(t: StreamableHttpTransport, p: Prober) -> tuple[str, str] | None:
    """A raw initialize with the user's headers; returns (session id, version) or None."""
    raw = await p.send("POST", _msg("initialize", INIT_PARAMS), {}, note="initialize with the user's credentials")
    result = raw.response.get("result") if raw.response and isinstance(raw.response.get("result"), dict) else None
    sid = raw.headers.get("mcp-session-id")
    if result is None or not sid:
        return None
    version = result.get("protocolVersion") if isinstance(result.get("protocolVersion"), str) else HANDSHAKE_LATEST
    await p.send("POST", _msg("notifications/initialized", rid=False), {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version}, note="initialized")
    return sid, version


async def _close_handshake(p: Prober, sess: tuple[str, str] | None) -> None:
    if sess:
        await p.send("DELETE", None, {"Mcp-Session-Id": sess[0], "MCP-Protocol-Version": sess[1]}, note="end the probe session")



# =========================================================================== what the checks share


@dataclass
class Probing:
    """`ctx.state` of every http-security check: the campaign's raw prober and settings.

    `file_under(revision)`: the revision this check's verdict is filed under (the campaign
    resets it to None before each check: auth and rate limiting are revision-agnostic; the
    session sample and the fuzz run name the era they probed). `cleanup`: what the campaign
    runs once every check is done (sessions a shared probe left open)."""

    campaign: CampaignContext
    prober: Prober
    cfg: HttpSecuritySettings
    has_token: bool
    low_token: str | None = None  # the target's second, lower-scope token (low_scope_bearer_env)
    cleanup: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def file_under(self, revision: str | None) -> None:
        self.campaign.revision = revision

    def note(self, text: str) -> None:
        self.campaign.notes.append(text)


def _probing(ctx: SessionContext) -> Probing:
    if ctx.transport != "http" or not isinstance(ctx.state, Probing):
        raise Skip("HTTP transport only")
    return ctx.state


@dataclass
class Auth:
    """The unauthenticated initialize and server/discover, and what they say."""

    init: RawHttp
    disc: RawHttp
    requires: bool  # the server requires authorization


async def _auth(ctx: SessionContext) -> Auth:
    st = _probing(ctx)

    async def make() -> Auth:
        p = st.prober
        noauth = {"Authorization": None}
        init = await p.send("POST", _msg("initialize", INIT_PARAMS), noauth, note="unauthenticated initialize")
        disc_msg = _modern("server/discover")
        disc = await p.send("POST", disc_msg, {**noauth, **_modern_headers(disc_msg)}, note="unauthenticated server/discover")
        # a session the unauthenticated initialize may have opened: end it
        if init.headers.get("mcp-session-id") and init.ok:
            await p.send("DELETE", None, {**noauth, "Mcp-Session-Id": init.headers["mcp-session-id"]}, note="end the unauthenticated session")
        answered = [r for r in (init, disc) if r.status is not None]
        if not answered:
            raise TransportError(f"the endpoint gave no HTTP answer: {init.error or disc.error}")
        requires = any(r.status == 401 for r in answered) or (
            all(r.status == 403 for r in answered) and any("bearer" in (r.headers.get("www-authenticate") or "").lower() for r in answered)
        )
        return Auth(init, disc, requires)

    return await ctx.once("httpsec.auth", make)


async def _requires_auth(ctx: SessionContext) -> Auth:
    """For the authorization checks: Skip when the server requires none."""
    a = await _auth(ctx)
    if not a.requires:
        raise Skip("the server does not require authorization")
    return a


async def _usable(ctx: SessionContext) -> Probing:
    """For the checks that need to be served: Skip when a token is required and none was given."""
    st = _probing(ctx)
    if (await _auth(ctx)).requires and not st.has_token:
        raise Skip(NO_TOKEN_GIVEN)
    return st


@dataclass
class Newest:
    """The newest revision the server negotiates with the user's token (None: unknown)."""

    version: str | None
    raw: RawHttp | None = None


async def _newest(ctx: SessionContext) -> Newest:
    """With a token: server/discover for 2026-07-28, else an initialize offering the newest
    handshake revision (its session is DELETEd). Without a token: unknown."""
    st = _probing(ctx)

    async def make() -> Newest:
        if not st.has_token:
            return Newest(None)
        p = st.prober
        disc_msg = _modern("server/discover")
        disc = await p.send("POST", disc_msg, _modern_headers(disc_msg), note="which revisions? (server/discover with the token)")
        if disc.has_result:
            return Newest(LATEST, disc)
        raw = await p.send("POST", _msg("initialize", INIT_PARAMS), {}, note="which revisions? (initialize with the token)")
        result = raw.response.get("result") if raw.response and isinstance(raw.response.get("result"), dict) else None
        version = result.get("protocolVersion") if result and isinstance(result.get("protocolVersion"), str) else None
        sid = raw.headers.get("mcp-session-id")
        if sid:
            await p.send("DELETE", None, {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version or HANDSHAKE_LATEST}, note="end the version probe session")
        return Newest(version, raw)

    return await ctx.once("httpsec.newest", make)


async def _not_2025_03_26_only(ctx: SessionContext) -> None:
    """For the 2025-06-18-on discovery rules (A2-A4): Skip a server whose newest revision is
    2025-03-26, where the server is its own authorization server instead (A1)."""
    if (await _newest(ctx)).version == "2025-03-26":
        raise Skip("the server's newest revision is 2025-03-26: it is its own authorization server there (judged by httpsec.authorization_server_2025, A1)")


@dataclass
class Discovery:
    """Where the protected-resource metadata is announced and what was fetched."""

    refusals: list[RawHttp]  # the unauthenticated requests refused with 401/403
    meta_url: str | None  # resource_metadata from the Bearer challenge
    wellknown_ok: bool  # metadata served at a well-known URL
    prm: RawHttp | None  # the metadata fetched (None: nothing fetched)
    where: str  # where mcpcheck looked, for the finding
    issuer: str | None  # the first authorization server the metadata names


async def _discovery(ctx: SessionContext) -> Discovery:
    a = await _requires_auth(ctx)
    st = _probing(ctx)

    async def make() -> Discovery:
        p, t = st.prober, st.prober.t
        refusals = [r for r in (a.init, a.disc) if r.status in (401, 403)]
        meta_url = None
        for r in refusals:
            for scheme, params in parse_challenges(r.headers.get("www-authenticate") or ""):
                if scheme == "bearer" and params.get("resource_metadata"):
                    meta_url = params["resource_metadata"]
                    break
            if meta_url:
                break
        parts = urlsplit(t.url)
        path = parts.path.rstrip("/")
        wellknown = [urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-protected-resource" + path, "", ""))]
        if path:
            wellknown.append(urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-protected-resource", "", "")))
        prm: RawHttp | None = None
        wellknown_ok = False
        for url in wellknown:
            raw = await p.send("GET", None, {"Accept": "application/json", "Authorization": None}, url=url, note="well-known protected-resource metadata")
            if raw.status == 200:
                wellknown_ok = True
                prm = prm or raw
                break
        where = "no resource_metadata in the 401 challenge and nothing at " + " or ".join(wellknown)
        if meta_url:
            if _loopback(meta_url):
                prm = await p.send("GET", None, {"Accept": "application/json", "Authorization": None}, url=meta_url, note="resource_metadata from the 401 challenge")
            else:
                st.note(f"http-security: resource_metadata {meta_url} is not on a loopback address; mcpcheck does not fetch it")
                prm = prm if wellknown_ok else None
                where = f"resource_metadata {meta_url} is off this machine (not fetched)"
        issuer = None
        try:
            doc = json.loads(prm.body) if prm is not None and prm.status == 200 else {}
            issuer = (doc.get("authorization_servers") or [None])[0] if isinstance(doc, dict) else None
        except (ValueError, AttributeError, IndexError, TypeError):
            issuer = None
        return Discovery(refusals, meta_url, wellknown_ok, prm, where, issuer if isinstance(issuer, str) else None)

    return await ctx.once("httpsec.discovery", make)


async def _method_probes(ctx: SessionContext) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str | None]]]:
    """Every method and verb (method_probes), carrying a session opened with the valid token
    when there is one (closed when the campaign ends)."""
    st = _probing(ctx)

    async def make() -> list[tuple[str, str, dict[str, Any] | None, dict[str, str | None]]]:
        sess = await _open_handshake(st.prober.t, st.prober) if st.has_token else None
        if sess:
            st.cleanup.append(lambda: _close_handshake(st.prober, sess))
        return method_probes(sess)

    return await ctx.once("httpsec.method_probes", make)


# =========================================================================== authorization


@check(
    "httpsec.auth_status",
    category="security.auth",
    severity="info",
    title="Whether the server requires authorization",
    scope="session",
    rule="A2",
    level="-",
    revisions="2025-06-18..",
    campaign=CAMPAIGN,
    description="An unauthenticated initialize / server/discover: 401 means the server is an OAuth resource server; "
    "anything else is recorded as an observation (local servers SHOULD authenticate, H2).",
)
async def auth_status(ctx: SessionContext) -> AsyncIterator[Violation]:
    a = await _auth(ctx)
    if not a.requires:
        yield Violation(
            f"the server requires no authorization: an initialize without any token was answered {a.init.summary()}, "
            f"server/discover {a.disc.summary()} (fine for a local development server; a server reachable by others "
            "SHOULD authenticate)",
            [*a.init.entries[:2], *a.disc.entries[:2]],
            severity=Severity.info,
            key="open",
        )


@check(
    "httpsec.auth_challenge",
    category="security.auth",
    severity="high",
    title="401 responses carry a Bearer challenge pointing at protected-resource metadata",
    scope="session",
    rule="A3/A4",
    level="MUST",
    revisions="2025-06-18..",
    campaign=CAMPAIGN,
)
async def auth_challenge(ctx: SessionContext) -> Iterator[Violation]:
    d = await _discovery(ctx)
    await _not_2025_03_26_only(ctx)
    return check_challenge(d.refusals, d.wellknown_ok)


@check(
    "httpsec.resource_metadata",
    category="security.auth",
    severity="high",
    title="Protected-resource metadata (RFC 9728) is served and well-formed",
    scope="session",
    rule="A2/A4",
    level="MUST",
    revisions="2025-06-18..",
    campaign=CAMPAIGN,
)
async def resource_metadata(ctx: SessionContext) -> Iterator[Violation]:
    d = await _discovery(ctx)
    await _not_2025_03_26_only(ctx)
    if d.prm is None and d.meta_url and not _loopback(d.meta_url):
        raise Skip(d.where)
    return check_resource_metadata(d.prm, _probing(ctx).prober.t.url, d.where)


@check(
    "httpsec.unauthenticated_refused",
    category="security.auth",
    severity="critical",
    title="No MCP method or HTTP verb is served without a token on a server that requires one",
    scope="session",
    rule="A2/A5",
    level="MUST",
    revisions="2025-03-26..",
    campaign=CAMPAIGN,
)
async def unauthenticated_refused(ctx: SessionContext) -> Iterator[Violation]:
    await _requires_auth(ctx)
    p = _probing(ctx).prober
    no_token: list[tuple[str, str, RawHttp]] = []
    for label, verb, msg, hdrs in await _method_probes(ctx):
        raw = await p.send(verb, msg, {**hdrs, "Authorization": None}, note=f"{label} without a token")
        no_token.append(("no token", label, raw))
    return check_tokens_refused(no_token, what="no token")


@check(
    "httpsec.invalid_token_rejected",
    category="security.auth",
    severity="critical",
    title="Bogus, malformed, expired and wrong-audience tokens are refused (401/403) on every method and path",
    scope="session",
    rule="A5",
    level="MUST",
    revisions="2025-03-26..",
    campaign=CAMPAIGN,
)
async def invalid_token_rejected(ctx: SessionContext) -> Iterator[Violation]:
    d = await _discovery(ctx)
    p = _probing(ctx).prober
    probes = await _method_probes(ctx)
    bad: list[tuple[str, str, RawHttp]] = []
    for kind, value in bad_tokens(p.t.url, d.issuer):
        for label, verb, msg, hdrs in probes:
            raw = await p.send(verb, msg, {**hdrs, "Authorization": value}, note=f"{label} with a {kind}")
            bad.append((kind, label, raw))
    return check_tokens_refused(bad, what="an invalid token")


@check(
    "httpsec.query_token_refused",
    category="security.auth",
    severity="high",
    title="A token passed in the query string (?access_token=) is not accepted",
    scope="session",
    rule="A7",
    level="MUST",
    revisions="2025-06-18..",
    campaign=CAMPAIGN,
)
async def query_token_refused(ctx: SessionContext) -> Iterator[Violation]:
    await _requires_auth(ctx)
    st = _probing(ctx)
    p, t = st.prober, st.prober.t
    if not st.has_token:
        raise Skip("needs a valid token (--bearer-env or an Authorization header)")
    token = next((v for k, v in t.user_headers.items() if k.lower() == "authorization"), "")
    value = token.split(None, 1)[1] if token.lower().startswith("bearer ") and " " in token else ""
    if not value:
        raise Skip("the supplied Authorization header is not a Bearer token")
    qs = urlsplit(t.url)
    url = urlunsplit((qs.scheme, qs.netloc, qs.path, (qs.query + "&" if qs.query else "") + "access_token=" + value, ""))
    raw = await p.send("POST", _msg("initialize", INIT_PARAMS), {"Authorization": None}, url=url, note="valid token in the query string only")
    for e in raw.entries:  # never keep the token in the report
        if e.http and isinstance(e.http.get("url"), str):
            e.http["url"] = e.http["url"].replace(value, "<token>")
    if raw.ok and raw.headers.get("mcp-session-id"):
        await p.send("DELETE", None, {"Mcp-Session-Id": raw.headers["mcp-session-id"]}, note="end the query-token session")
    return check_query_token(raw)


AS_METADATA = "/.well-known/oauth-authorization-server"


def judge_own_authorization_server(unauth: list[RawHttp], meta: RawHttp | None, endpoints: dict[str, RawHttp]) -> Iterator[Violation]:
    """A1 (2025-03-26): 401 when authorization is required; RFC 8414 metadata at the authorization
    base URL (SHOULD) naming authorization and token endpoints, else /authorize and /token there
    (clients MUST fall back to them). An endpoint counts as present unless it answered 404/410 or
    nothing."""
    for raw in unauth:
        if raw.status is not None and raw.status != 401:
            yield Violation(
                f"a request without a token to a server that requires one was answered HTTP {raw.status}: 2025-03-26 servers "
                "MUST answer 401 Unauthorized when authorization is required and not yet proven",
                raw.entries[:2],
                key="not-401",
            )
            break
    doc = None
    if meta is not None and meta.status == 200:
        try:
            doc = json.loads(meta.body)
        except ValueError:
            doc = None
    if isinstance(doc, dict) and isinstance(doc.get("authorization_endpoint"), str) and isinstance(doc.get("token_endpoint"), str):
        return
    present = {path: r for path, r in endpoints.items() if r.status is not None and r.status not in (404, 410)}
    ev = [*(meta.entries[:2] if meta is not None else []), *(e for r in endpoints.values() for e in r.entries[:2])]
    got = (f"HTTP {meta.status}" if meta is not None and meta.status is not None else (meta.error if meta is not None else "not fetched"))
    if "/authorize" in present and "/token" in present:
        missing = "" if "/register" in present else " (/register is missing too: no dynamic client registration, a SHOULD)"
        yield Violation(
            f"no RFC 8414 authorization-server metadata at {AS_METADATA} ({got}); the default /authorize and /token "
            f"endpoints answer, so 2025-03-26 clients can still authorize{missing}",
            ev,
            severity=Severity.low,
            level="SHOULD",
            key="no-metadata",
        )
        return
    absent = ", ".join(p for p in ("/authorize", "/token", "/register") if p not in present)
    yield Violation(
        f"the server requires authorization and speaks only 2025-03-26, where it is its own OAuth authorization server, but it "
        f"serves no RFC 8414 metadata at {AS_METADATA} ({got}) and not the default endpoints ({absent} answered 404 or "
        "nothing): a 2025-03-26 client has no way to obtain a token",
        ev,
        key="no-authorization-server",
    )


@check(
    "httpsec.authorization_server_2025",
    category="security.auth",
    severity="high",
    title="2025-03-26: a server requiring authorization is its own OAuth authorization server (401, metadata or default endpoints)",
    scope="session",
    rule="A1",
    level="MUST",
    revisions="2025-03-26",
    campaign=CAMPAIGN,
    description="Judged only on a server whose newest revision is 2025-03-26 (learned with the user's token): a server that "
    "also speaks 2025-06-18 or later follows the resource-server model there (A2-A4). The endpoints are probed without "
    "parameters (GET /authorize, GET /token, GET /register): nothing is registered or issued.",
)
async def authorization_server_2025(ctx: SessionContext) -> Iterator[Violation]:
    a = await _requires_auth(ctx)
    st = _probing(ctx)
    if not st.has_token:
        raise Skip("needs a valid token to learn the server's revisions (--bearer-env or an Authorization header)")
    newest = await _newest(ctx)
    if newest.version != "2025-03-26":
        raise Skip(f"the server's newest revision is {newest.version or 'unknown'}, not 2025-03-26 (A1 binds 2025-03-26-only servers)")
    st.file_under("2025-03-26")
    p, t = st.prober, st.prober.t
    parts = urlsplit(t.url)
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    noauth = {"Accept": "application/json", "Authorization": None}
    meta = await p.send("GET", None, noauth, url=base + AS_METADATA, note="RFC 8414 authorization-server metadata (A1)")
    endpoints: dict[str, RawHttp] = {}
    if meta.status != 200:
        for path in ("/authorize", "/token", "/register"):
            endpoints[path] = await p.send("GET", None, noauth, url=base + path, note=f"default {path} endpoint (A1)")
    return judge_own_authorization_server([a.init], meta, endpoints)


def judge_insufficient_scope(answers: list[tuple[str, RawHttp, RawHttp | None]], revision: str | None) -> Iterator[Violation]:
    """(request, answer with the lower-scope token, answer with the full token). A refusal of the
    valid lower-scope token for lack of scope is 403 (2025-06-18 on, MUST); from 2025-11-25 it
    SHOULD carry `WWW-Authenticate: Bearer error="insufficient_scope"` (scope= listing what is
    needed: an observation when missing). A 401 for it is judged only where the server itself
    says insufficient_scope, or where the full token was served the same request."""
    for label, low, full in answers:
        challenges = parse_challenges(low.headers.get("www-authenticate") or "")
        bearer = next((p for scheme, p in challenges if scheme == "bearer"), None)
        says_scope = bool(bearer) and bearer.get("error") == "insufficient_scope"
        if low.status == 401 and (says_scope or (full is not None and full.ok)):
            why = 'its own challenge says error="insufficient_scope"' if says_scope else "the full token was served the same request"
            yield Violation(
                f"{label} with a valid token that lacks a scope was answered 401 ({why}): a token with insufficient scope "
                "MUST be answered 403 Forbidden (401 tells the client its token is invalid and sends it to re-authenticate)",
                [*low.entries[:2], *(full.entries[:2] if full is not None else [])],
                key="401",
            )
        elif low.status == 403 and (revision or "") >= "2025-11-25":
            if not says_scope:
                got = f"WWW-Authenticate: {low.headers['www-authenticate']!r}" if low.headers.get("www-authenticate") else "no WWW-Authenticate header"
                yield Violation(
                    f"{label} with a lower-scope token was answered 403 with {got}: from 2025-11-25 it SHOULD carry "
                    'WWW-Authenticate: Bearer error="insufficient_scope", scope="...", resource_metadata="..." so the client '
                    "can ask for the scopes it needs",
                    low.entries[:2],
                    severity=Severity.low,
                    level="SHOULD",
                    key="challenge",
                )
            elif not bearer.get("scope"):
                yield Violation(
                    f'{label}: the 403 insufficient_scope challenge names no scope="..." (2025-11-25 lists the scopes needed there)',
                    low.entries[:2],
                    severity=Severity.info,
                    key="scope-param",
                )


@check(
    "httpsec.insufficient_scope",
    category="security.auth",
    severity="medium",
    title="A valid token lacking a required scope is refused 403 with an insufficient_scope challenge",
    scope="session",
    rule="A8",
    level="MUST",
    revisions="2025-06-18..",
    campaign=CAMPAIGN,
    description="Needs a second valid token with fewer scopes (target setting low_scope_bearer_env). The same requests "
    "(initialize, the lists, calls of up to 3 tools the safety policy allows) are sent with each token; what the "
    "lower-scope token may not do is judged.",
)
async def insufficient_scope(ctx: SessionContext) -> Iterator[Violation]:
    await _requires_auth(ctx)
    st = _probing(ctx)
    if not st.low_token:
        raise Skip("needs a second, valid token with fewer scopes (target setting low_scope_bearer_env): which request needs "
                   "which scope is the server's policy, and only the user's authorization server can mint such a token")
    if not st.has_token:
        raise Skip(NO_TOKEN_GIVEN)
    p = st.prober
    low_auth = {"Authorization": f"Bearer {st.low_token}"}
    full = await _open_handshake(p.t, p)
    if full:
        st.cleanup.append(lambda: _close_handshake(p, full))
    version = full[1] if full else HANDSHAKE_LATEST
    st.file_under(version if version in HANDSHAKE_VERSIONS else None)
    answers: list[tuple[str, RawHttp, RawHttp | None]] = []
    init = await p.send("POST", _msg("initialize", INIT_PARAMS), low_auth, note="initialize with the lower-scope token")
    answers.append(("initialize", init, None))
    sid = init.headers.get("mcp-session-id") if init.ok else None
    if init.ok:
        result = init.response.get("result") if init.response and isinstance(init.response.get("result"), dict) else {}
        version = result.get("protocolVersion") if isinstance(result.get("protocolVersion"), str) else version
        caps = result.get("capabilities") if isinstance(result.get("capabilities"), dict) else {}
        low_h = {**low_auth, **({"Mcp-Session-Id": sid} if sid else {}), "MCP-Protocol-Version": version}
        full_h = {"Mcp-Session-Id": full[0], "MCP-Protocol-Version": full[1]} if full else None
        await p.send("POST", _msg("notifications/initialized", rid=False), low_h, note="initialized (lower-scope token)")
        requests: list[tuple[str, dict[str, Any]]] = [(m, {}) for m, cap in (("tools/list", "tools"), ("resources/list", "resources"), ("prompts/list", "prompts")) if cap in caps]
        if "tools" in caps and full_h is not None:
            listed = await p.send("POST", _msg("tools/list", {}), full_h, note="tools/list with the full token")
            tools = (listed.response or {}).get("result", {}).get("tools") if listed.has_result else None
            from .tool_probes import valid_inputs  # here: keeps the campaign modules' registration order

            for tool in [x for x in tools or [] if isinstance(x, dict) and may_call(x, st.campaign.target.safety) is None][:3]:
                try:
                    args = (await valid_inputs(tool.get("inputSchema") or {"type": "object"}, version, 0))[0]
                except Exception:  # noqa: BLE001 - no valid arguments: this tool is not probed
                    continue
                requests.append(("tools/call", {"name": tool["name"], "arguments": args}))
        for method, params in requests:
            label = f"{method} {params['name']!r}" if method == "tools/call" else method
            low = await p.send("POST", _msg(method, params), low_h, note=f"{label} with the lower-scope token")
            ref = await p.send("POST", _msg(method, params), full_h, note=f"{label} with the full token") if full_h is not None else None
            answers.append((label, low, ref))
        if sid:
            await p.send("DELETE", None, {**low_auth, "Mcp-Session-Id": sid, "MCP-Protocol-Version": version}, note="end the lower-scope session")
    if not any(low.status in (401, 403) for _l, low, _f in answers):
        raise Skip("the lower-scope token was refused nothing mcpcheck asked (the server requires no scope it lacks for these requests)")
    return judge_insufficient_scope(answers, version)


# =========================================================================== session ids


@check(
    "httpsec.session_id_predictable",
    category="transport.session",
    severity="medium",
    title="Session ids sampled over several sessions are unpredictable (no counter, timestamp or small varying part)",
    scope="session",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
    campaign=CAMPAIGN,
)
async def session_id_predictable(ctx: SessionContext) -> Iterator[Violation]:
    st = await _usable(ctx)
    p = st.prober
    sids: list[str] = []
    evidence: list[WireEntry] = []
    version = None
    for _ in range(max(st.cfg.session_samples, 8)):
        raw = await p.send("POST", _msg("initialize", INIT_PARAMS), {}, note="initialize (session-id sample)")
        result = raw.response.get("result") if raw.response and isinstance(raw.response.get("result"), dict) else None
        sid = raw.headers.get("mcp-session-id")
        if result is None:
            break
        version = result.get("protocolVersion") if isinstance(result.get("protocolVersion"), str) else version
        if not sid:
            break
        sids.append(sid)
        evidence.extend(raw.entries[:2])
        await p.send("DELETE", None, {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version or HANDSHAKE_LATEST}, note="end the sample session")
    st.file_under(version if version in HANDSHAKE_VERSIONS else None)
    if len(sids) < 2:
        raise Skip("the server issued no Mcp-Session-Id (sessions are optional)" if version else "initialize did not succeed (no handshake-era session to sample)")
    return check_session_predictability(sids, evidence[-6:])


# =========================================================================== rate limiting


@check(
    "httpsec.rate_limit",
    category="transport.http",
    severity="info",
    title="Rate limiting observed under a short bounded burst (informational)",
    scope="session",
    rule="T11",
    level="-",
    revisions="all",
    campaign=CAMPAIGN,
)
async def rate_limit(ctx: SessionContext) -> list[Violation]:
    st = _probing(ctx)
    p, cfg = st.prober, st.cfg
    sess = await _open_handshake(p.t, p)
    if sess:
        method, msg_for, hdrs = "ping", (lambda: _msg("ping")), {"Mcp-Session-Id": sess[0], "MCP-Protocol-Version": sess[1]}
    else:
        m = _modern("server/discover")
        method, msg_for, hdrs = "server/discover", (lambda: _modern("server/discover")), _modern_headers(m)
    statuses: dict[str, int] = {}
    first_429: RawHttp | None = None
    sent = 0
    t0 = time.monotonic()
    sem = asyncio.Semaphore(cfg.burst_concurrency)

    async def one() -> None:
        nonlocal sent, first_429
        async with sem:
            if time.monotonic() - t0 > cfg.burst_seconds:
                return
            sent += 1
            raw = await p.send("POST", msg_for(), dict(hdrs), note="rate-limit burst")
            key = str(raw.status) if raw.status is not None else "no answer"
            statuses[key] = statuses.get(key, 0) + 1
            if raw.status == 429 and first_429 is None:
                first_429 = raw

    await asyncio.gather(*(one() for _ in range(cfg.burst)))
    elapsed = time.monotonic() - t0
    await _close_handshake(p, sess)
    return [describe_burst(statuses, sent, elapsed, first_429, method)]


# =========================================================================== schemathesis


@dataclass
class Fuzzing:
    """One schemathesis run, shared by the four fuzz checks."""

    run: StRun | None = None
    era: str | None = None
    skip: str | None = None


async def _fuzz(ctx: SessionContext) -> Fuzzing:
    st = await _usable(ctx)

    async def make() -> Fuzzing:
        target, cfg = st.campaign.target, st.cfg
        try:
            probe, session = await detect(target)
        except TransportError as exc:
            return Fuzzing(skip=f"no MCP session could be opened ({str(exc)[:160]})")
        eras = probe.eras()
        era = next((e for e in eras if e in HANDSHAKE_VERSIONS), eras[0])
        if session.revision != era:
            await session.close()
            session = await open_session(target, era)
        try:
            tools = await list_tools(session) if "tools" in session.server_capabilities else []
            callable_tools = [x for x in tools if may_call(x, target.safety) is None]
            forbidden = {str(x.get("name")) for x in tools if may_call(x, target.safety) is not None}
            parts = urlsplit(target.url or "")
            origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
            path = parts.path or "/"
            stateless = session.stateless
            meta = {META_VERSION: LATEST, META_CAPS: {}} if stateless else None
            doc = build_openapi(path, callable_tools, revision=era, stateless=stateless, meta=meta)
            t = session.transport
            user = dict(getattr(t, "user_headers", {}) or {})
            sid = getattr(t, "session_id", None)

            def inject(method: str, body: Any) -> dict[str, str]:
                h = dict(user)
                if method == "POST":
                    if stateless:
                        if isinstance(body, dict) and isinstance(body.get("method"), str):
                            h.update({k: v for k, v in _modern_headers(body).items() if v is not None})
                        else:
                            h["MCP-Protocol-Version"] = LATEST
                    elif sid:
                        h["Mcp-Session-Id"] = sid
                        h["MCP-Protocol-Version"] = era
                return h

            run = await asyncio.to_thread(
                run_schemathesis,
                doc,
                origin,
                inject=inject,
                forbidden_tools=forbidden,
                wirelog=WireLog(),
                max_examples=cfg.max_examples,
                budget=cfg.fuzz_budget,
                request_timeout=cfg.fuzz_request_timeout,
                seed=cfg.seed,
            )
        finally:
            await session.close()
        st.note(
            f"http-security: schemathesis sent {run.cases} cases in {run.elapsed:.1f}s ({run.errors} without an HTTP answer, "
            f"{run.skipped_unsafe} dropped for naming an unsafe tool; statuses {dict(sorted(run.statuses.items()))}; "
            f"{len(callable_tools)} tool(s) in the document, excluded: {sorted(forbidden) or 'none'})"
        )
        for n in run.notes[:5]:
            if "Unsatisfiable" not in n:
                st.note(n)
        return Fuzzing(run, era)

    return await ctx.once("httpsec.fuzz", make)


async def _fuzz_failures(ctx: SessionContext, st_check: str, *, but_5xx: bool = False) -> list[Violation]:
    """The failures schemathesis' check `st_check` reported, filed under the fuzzed era.
    `but_5xx`: leave out 5xx answers (httpsec.fuzz_server_error reports each of them once)."""
    f = await _fuzz(ctx)
    if f.skip or f.run is None:
        raise Skip(f.skip or "schemathesis did not run")
    _probing(ctx).file_under(f.era)
    if not f.run.cases:
        raise Skip("schemathesis generated no case")
    return [st_violation(x) for x in f.run.failures if x.check == st_check and not (but_5xx and (x.status or 0) >= 500)]


@check(
    "httpsec.fuzz_server_error",
    category="transport.http",
    severity="high",
    title="HTTP-level fuzzing (schemathesis): no request is answered with a 5xx",
    scope="session",
    rule="T11",
    level="MUST",
    revisions="all",
    campaign=CAMPAIGN,
)
async def fuzz_server_error(ctx: SessionContext) -> list[Violation]:
    return await _fuzz_failures(ctx, "not_a_server_error")


@check(
    "httpsec.fuzz_status_code",
    category="transport.http",
    severity="medium",
    title="HTTP-level fuzzing (schemathesis): every status is one MCP allows (200/202 or a 4xx refusal)",
    scope="session",
    rule="H3/H4",
    level="MUST",
    revisions="all",
    campaign=CAMPAIGN,
)
async def fuzz_status_code(ctx: SessionContext) -> list[Violation]:
    return await _fuzz_failures(ctx, "status_code_conformance", but_5xx=True)


@check(
    "httpsec.fuzz_content_type",
    category="transport.http",
    severity="medium",
    title="HTTP-level fuzzing (schemathesis): 2xx responses carry a documented Content-Type",
    scope="session",
    rule="H4",
    level="MUST",
    revisions="all",
    campaign=CAMPAIGN,
)
async def fuzz_content_type(ctx: SessionContext) -> list[Violation]:
    return await _fuzz_failures(ctx, "content_type_conformance")


@check(
    "httpsec.fuzz_response_schema",
    category="transport.http",
    severity="medium",
    title="HTTP-level fuzzing (schemathesis): 200 JSON bodies are JSON-RPC responses",
    scope="session",
    rule="J4",
    level="MUST",
    revisions="all",
    campaign=CAMPAIGN,
)
async def fuzz_response_schema(ctx: SessionContext) -> list[Violation]:
    return await _fuzz_failures(ctx, "response_schema_conformance")


# =========================================================================== the campaign


def _observation(ctx: CampaignContext, c: Check) -> None:
    """An info-level check records observations: its findings leave it passed."""
    run = ctx.ledger.get((c.id, ctx.revision))
    if run is not None and run.status == "failed" and all(f.severity <= Severity.info for f in ctx.findings if f.check == c.id):
        run.status = "passed"


async def run_http_security(ctx: CampaignContext, result: TargetResult, cfg: HttpSecuritySettings | None = None) -> None:
    """Every selected check of this campaign, in registration order, against one raw transport."""
    cfg = cfg or getattr(ctx, "http_security_settings", None) or HttpSecuritySettings()
    target = ctx.target
    state: Probing | None = None
    t: StreamableHttpTransport | None = None
    if target.transport == "http":
        t = make_transport(target)
        assert isinstance(t, StreamableHttpTransport)
        await t.start()
        low = os.environ.get(target.low_scope_bearer_env) if target.low_scope_bearer_env else None
        state = Probing(ctx, Prober(ctx, t), cfg, has_token=any(k.lower() == "authorization" for k in t.user_headers), low_token=low or None)
    memo: dict[str, Any] = {}
    try:
        for c in REGISTRY.for_scope("session", CAMPAIGN):
            if not ctx.wants(c.spec):
                continue
            ctx.revision = None
            ctx.progress(f"{target.name}: {c.id}")
            await ctx.run_probe(c, ctx.session_context(state, memo))
            _observation(ctx, c)  # only observations (info): passed
    finally:
        try:
            for close in state.cleanup if state else []:
                await close()
        finally:
            if t is not None:
                await t.close()
            ctx.revision = None

"""The `http-security` campaign: authorization, session-id predictability, rate limiting and
schemathesis HTTP-level fuzzing of a Streamable HTTP endpoint (GitHub issue 4, part 2).

Probes do raw I/O through a `StreamableHttpTransport` of their own (its `http()` door records
every request and response in a WireLog, Authorization redacted); pure `check_*` functions judge
the recordings and yield `Violation`s whose evidence is those entries. stdio and legacy SSE
targets get every check skipped ("HTTP transport only"). Nothing here calls a tool that
conformance/safety.py forbids, and every request goes to the target's own URL or to a
protected-resource-metadata URL on a loopback address.

Checks (see docs/http-security.md):
    httpsec.auth_status               info: whether the server requires a token (observation)
    httpsec.auth_challenge            401 carries `WWW-Authenticate: Bearer ... resource_metadata=` (A3/A4)
    httpsec.resource_metadata         RFC 9728 metadata served, JSON, `resource` + `authorization_servers` (A2)
    httpsec.invalid_token_rejected    bogus / malformed / expired / wrong-audience tokens refused everywhere (A5)
    httpsec.unauthenticated_refused   no method or path served without a token (A2/A5)
    httpsec.query_token_refused       a valid token in ?access_token= is not accepted (A7)
    httpsec.session_id_predictable    >= 8 sampled session ids: counters, timestamps, low entropy (H8)
    httpsec.rate_limit                info: a bounded burst, whether 429 / Retry-After appear
    httpsec.fuzz_server_error         schemathesis not_a_server_error
    httpsec.fuzz_status_code          schemathesis status_code_conformance
    httpsec.fuzz_content_type         schemathesis content_type_conformance
    httpsec.fuzz_response_schema      schemathesis response_schema_conformance
Sampled session ids are also judged by http.session_id_charset (visible ASCII, H8).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

from ..config import Target
from .. import budget
from ..connect import detect, list_tools, make_transport, open_session
from ..findings import Severity, Violation, register
from ..report.model import TargetResult
from ..safety import may_call
from ..session import HANDSHAKE_LATEST, HANDSHAKE_VERSIONS, LATEST, META_CAPS, META_CLIENT, META_VERSION, Session
from ..transport.base import TransportError
from ..transport.http import RawHttp, StreamableHttpTransport
from ..wirelog import WireEntry, WireLog
from . import http_rules as R
from .context import CampaignContext
from .http_openapi import ST_CHECKS, StFailure, StRun, build_openapi, run_schemathesis
from .session_ids import analyze

CAMPAIGN = "http-security"


def _reg(id: str, category: str, severity: str, title: str, **kw: Any):
    return register(id, category, severity, title, campaign=CAMPAIGN, **kw)


AUTH_STATUS = _reg(
    "httpsec.auth_status", "security.auth", "info", "Whether the server requires authorization",
    rule="A2", level="-", revisions="2025-06-18..",
    description="An unauthenticated initialize / server/discover: 401 means the server is an OAuth resource server; "
    "anything else is recorded as an observation (local servers SHOULD authenticate, H2).",
)
AUTH_CHALLENGE = _reg(
    "httpsec.auth_challenge", "security.auth", "high",
    "401 responses carry a Bearer challenge pointing at protected-resource metadata",
    rule="A3/A4", level="MUST", revisions="2025-06-18..",
)
PRM = _reg(
    "httpsec.resource_metadata", "security.auth", "high",
    "Protected-resource metadata (RFC 9728) is served and well-formed",
    rule="A2/A4", level="MUST", revisions="2025-06-18..",
)
BAD_TOKENS = _reg(
    "httpsec.invalid_token_rejected", "security.auth", "critical",
    "Bogus, malformed, expired and wrong-audience tokens are refused (401/403) on every method and path",
    rule="A5", level="MUST", revisions="2025-03-26..",
)
NO_TOKEN = _reg(
    "httpsec.unauthenticated_refused", "security.auth", "critical",
    "No MCP method or HTTP verb is served without a token on a server that requires one",
    rule="A2/A5", level="MUST", revisions="2025-03-26..",
)
QUERY_TOKEN = _reg(
    "httpsec.query_token_refused", "security.auth", "high",
    "A token passed in the query string (?access_token=) is not accepted",
    rule="A7", level="MUST", revisions="2025-06-18..",
)
SESSION_PREDICTABLE = _reg(
    "httpsec.session_id_predictable", "transport.session", "medium",
    "Session ids sampled over several sessions are unpredictable (no counter, timestamp or small varying part)",
    rule="H8", level="SHOULD", revisions="2025-03-26..2025-11-25",
)
RATE_LIMIT = _reg(
    "httpsec.rate_limit", "transport.http", "info",
    "Rate limiting observed under a short bounded burst (informational)",
    rule="T11", level="-", revisions="all",
)
ST_SERVER_ERROR = _reg(
    "httpsec.fuzz_server_error", "transport.http", "high",
    "HTTP-level fuzzing (schemathesis): no request is answered with a 5xx",
    rule="T11", level="MUST", revisions="all",
)
ST_STATUS = _reg(
    "httpsec.fuzz_status_code", "transport.http", "low",
    "HTTP-level fuzzing (schemathesis): every status is one MCP allows (200/202 or a 4xx refusal)",
    rule="H3/H4", level="MUST", revisions="all",
)
ST_CONTENT_TYPE = _reg(
    "httpsec.fuzz_content_type", "transport.http", "medium",
    "HTTP-level fuzzing (schemathesis): 2xx responses carry a documented Content-Type",
    rule="H4", level="MUST", revisions="all",
)
ST_SCHEMA = _reg(
    "httpsec.fuzz_response_schema", "transport.http", "medium",
    "HTTP-level fuzzing (schemathesis): 200 JSON bodies are JSON-RPC responses",
    rule="J4", level="MUST", revisions="all",
)
ST_SPECS = {
    "not_a_server_error": ST_SERVER_ERROR,
    "status_code_conformance": ST_STATUS,
    "content_type_conformance": ST_CONTENT_TYPE,
    "response_schema_conformance": ST_SCHEMA,
}
ALL = (AUTH_STATUS, AUTH_CHALLENGE, PRM, BAD_TOKENS, NO_TOKEN, QUERY_TOKEN, SESSION_PREDICTABLE, RATE_LIMIT, *ST_SPECS.values())
AUTH_CHECKS = (AUTH_CHALLENGE, PRM, BAD_TOKENS, NO_TOKEN, QUERY_TOKEN)


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


# =========================================================================== pure checks

_CHALLENGE_ITEM = re.compile(r"""\s*,?\s*([A-Za-z0-9!#$%&'*+\-.^_`|~]+)(\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?""")


def parse_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """`WWW-Authenticate` -> [(scheme lower-case, {param: value})] (RFC 9110 §11.6.1, lenient:
    a bare token starts a challenge, `name=value` pairs belong to the last one)."""
    out: list[tuple[str, dict[str, str]]] = []
    for m in _CHALLENGE_ITEM.finditer(header or ""):
        name = m.group(1)
        if m.group(2) is None:
            out.append((name.lower(), {}))
        elif out:
            out[-1][1].setdefault(name.lower(), m.group(3) if m.group(3) is not None else (m.group(4) or ""))
    return out


def check_challenge(raws: list[RawHttp], wellknown_ok: bool) -> Iterator[Violation]:
    """A3 (2025-06-18): the 401 carries `WWW-Authenticate: Bearer ... resource_metadata="..."`;
    A4 (2025-11-25 on): either that, or metadata at the well-known URL. RFC 9110/6750: a 401
    MUST carry a WWW-Authenticate challenge at all."""
    for raw in raws:
        if raw.status != 401:
            continue
        header = raw.headers.get("www-authenticate")
        what = f"{raw.method} answered 401"
        if not header:
            yield Violation(
                f"{what} without a WWW-Authenticate header: a 401 MUST carry a challenge (RFC 9110 §11.6.1), and MCP clients "
                "find the protected-resource metadata through its resource_metadata parameter"
                + ("" if wellknown_ok else "; no metadata at the well-known URLs either, so clients cannot discover the authorization server"),
                raw.entries,
                severity=Severity.high,
                key="no-header",
            )
            return
        bearer = [p for s, p in parse_challenges(header) if s == "bearer"]
        if not bearer:
            yield Violation(f"{what} with `WWW-Authenticate: {header[:160]}`: no Bearer challenge", raw.entries, key="no-bearer")
            return
        if "resource_metadata" not in bearer[0]:
            yield Violation(
                f"{what} with `WWW-Authenticate: {header[:160]}`: no resource_metadata parameter (2025-06-18 MUST; 2025-11-25 "
                "accepts the well-known URL instead" + (", which this server serves)" if wellknown_ok else ", which this server does not serve either)"),
                raw.entries,
                severity=Severity.low if wellknown_ok else Severity.high,
                key="no-resource-metadata",
            )
            return


def check_resource_metadata(raw: RawHttp | None, endpoint: str, where: str) -> Iterator[Violation]:
    if raw is None:
        yield Violation(f"no protected-resource metadata could be fetched ({where})", [], key="missing")
        return
    if raw.error or raw.status is None:
        yield Violation(f"protected-resource metadata at {raw.url} was not served: {raw.error}", raw.entries, key="unreachable")
        return
    if raw.status != 200:
        yield Violation(f"protected-resource metadata at {raw.url} answered HTTP {raw.status} ({raw.summary()})", raw.entries, key=f"status-{raw.status}")
        return
    try:
        doc = json.loads(raw.body)
    except ValueError:
        yield Violation(f"protected-resource metadata at {raw.url} is not JSON: {raw.body[:120]!r}", raw.entries, key="not-json")
        return
    if not isinstance(doc, dict):
        yield Violation(f"protected-resource metadata at {raw.url} is not a JSON object", raw.entries, key="not-object")
        return
    resource = doc.get("resource")
    if not isinstance(resource, str) or not resource:
        yield Violation(f"protected-resource metadata at {raw.url} has no `resource` (RFC 9728 §2 REQUIRED)", raw.entries, key="no-resource")
    elif _norm(resource) != _norm(endpoint):
        yield Violation(
            f"protected-resource metadata names resource {resource!r}, not this MCP endpoint {endpoint!r}; clients bind tokens "
            "to the resource (RFC 8707) and RFC 9728 §3.3 requires the value to match the resource the client asked about",
            raw.entries,
            severity=Severity.medium,
            key="resource-mismatch",
        )
    servers = doc.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not all(isinstance(s, str) and s for s in servers):
        yield Violation(
            f"protected-resource metadata at {raw.url} lists no `authorization_servers` (MCP requires at least one): {json.dumps(servers)[:120]}",
            raw.entries,
            key="no-authorization-servers",
        )


def _norm(url: str) -> str:
    p = urlsplit(url)
    port = p.port or (443 if p.scheme == "https" else 80)
    return f"{p.scheme.lower()}://{(p.hostname or '').lower()}:{port}{p.path.rstrip('/') or ''}"


def _refused(raw: RawHttp) -> bool:
    return raw.status in (401, 403)


def check_tokens_refused(probes: list[tuple[str, str, RawHttp]], *, what: str) -> Iterator[Violation]:
    """probes: (token kind, request label, answer). Every request must be refused with 401/403.
    One violation per request label (naming every token kind that got through)."""
    by_label: dict[str, list[tuple[str, RawHttp]]] = {}
    for kind, label, raw in probes:
        if raw.status is None or _refused(raw):
            continue
        by_label.setdefault(label, []).append((kind, raw))
    for label, hits in by_label.items():
        served = [h for h in hits if h[1].ok]
        worst = served[0] if served else hits[0]
        kinds = ", ".join(sorted({k for k, _ in hits}))
        raw = worst[1]
        if served:
            detail = f"{label} with {what} ({kinds}) was served: {raw.summary()}; it MUST be refused with 401"
            sev = None
        else:
            detail = (
                f"{label} with {what} ({kinds}) got past authentication: answered {raw.summary()} instead of 401 "
                "(the request reached the MCP layer)"
            )
            sev = Severity.high
        yield Violation(detail, raw.entries, severity=sev, key=label)


def check_query_token(raw: RawHttp) -> Iterator[Violation]:
    if raw.status is None or _refused(raw):
        return
    yield Violation(
        f"a request carrying the valid token only as ?access_token=<token> was answered {raw.summary()}; tokens MUST "
        "only be accepted in the Authorization header (query strings end up in logs and Referer headers)",
        raw.entries,
        severity=None if raw.ok else Severity.medium,
        key="query",
    )


def check_session_predictability(sids: list[str], evidence: list[WireEntry]) -> Iterator[Violation]:
    a = analyze(sids)
    shown = ", ".join(repr(s[:40]) for s in sids[:4])
    for key, text in a.problems:
        sev = Severity.high if key in ("counter", "reused", "timestamp") else None
        yield Violation(
            f"{text}; sampled {len(sids)} ids ({shown}, ...). Session ids SHOULD be cryptographically random: a guessable id "
            "lets another client hijack a session (spec: Security Best Practices, session hijacking)",
            evidence,
            severity=sev,
            key=key,
        )


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


# =========================================================================== probes


def _observe(ctx: CampaignContext, spec: Any, v: Violation) -> None:
    """Record an info-level observation without marking the check failed."""
    ctx.fail(spec, v)
    run = ctx.ledger.get((spec.id, ctx.revision))
    if run is not None:
        run.status = "passed"


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
        return await self.t.http(verb, body=body, headers=headers, session=False, url=url, window=window, timeout=R.PROBE_TIMEOUT, note=note)


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


async def probe_auth(ctx: CampaignContext, p: Prober, has_token: bool) -> bool:
    """Returns whether the server requires authorization."""
    t = p.t
    ctx.revision = None
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
    if not requires:
        _observe(
            ctx,
            AUTH_STATUS,
            Violation(
                f"the server requires no authorization: an initialize without any token was answered {init.summary()}, "
                f"server/discover {disc.summary()} (fine for a local development server; a server reachable by others "
                "SHOULD authenticate)",
                [*init.entries[:2], *disc.entries[:2]],
                severity=Severity.info,
                key="open",
            ),
        )
        for spec in AUTH_CHECKS:
            ctx.skip(spec, "the server does not require authorization")
        return False
    ctx.passed(AUTH_STATUS)
    unauth_401 = [r for r in answered if r.status in (401, 403)]

    # ---- discovery: WWW-Authenticate resource_metadata, then the well-known URLs
    meta_url = None
    for r in unauth_401:
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
            ctx.notes.append(f"http-security: resource_metadata {meta_url} is not on a loopback address; mcpcheck does not fetch it")
            prm = prm if wellknown_ok else None
            where = f"resource_metadata {meta_url} is off this machine (not fetched)"
    ctx.check(AUTH_CHALLENGE, check_challenge, unauth_401, wellknown_ok)
    if prm is None and meta_url and not _loopback(meta_url):
        ctx.skip(PRM, where)
    else:
        ctx.check(PRM, check_resource_metadata, prm, t.url, where)
    issuer = None
    try:
        doc = json.loads(prm.body) if prm is not None and prm.status == 200 else {}
        issuer = (doc.get("authorization_servers") or [None])[0] if isinstance(doc, dict) else None
    except (ValueError, AttributeError, IndexError, TypeError):
        issuer = None

    # ---- every method and verb: without a token, and with tokens no server may accept
    sess = await _open_handshake(t, p) if has_token else None
    probes = method_probes(sess)
    no_token: list[tuple[str, str, RawHttp]] = []
    for label, verb, msg, hdrs in probes:
        raw = await p.send(verb, msg, {**hdrs, "Authorization": None}, note=f"{label} without a token")
        no_token.append(("no token", label, raw))
    ctx.check(NO_TOKEN, check_tokens_refused, no_token, what="no token")
    bad: list[tuple[str, str, RawHttp]] = []
    for kind, value in bad_tokens(t.url, issuer if isinstance(issuer, str) else None):
        for label, verb, msg, hdrs in probes:
            raw = await p.send(verb, msg, {**hdrs, "Authorization": value}, note=f"{label} with a {kind}")
            bad.append((kind, label, raw))
    ctx.check(BAD_TOKENS, check_tokens_refused, bad, what="an invalid token")

    if has_token:
        token = next((v for k, v in t.user_headers.items() if k.lower() == "authorization"), "")
        value = token.split(None, 1)[1] if token.lower().startswith("bearer ") and " " in token else ""
        if value:
            qs = urlsplit(t.url)
            url = urlunsplit((qs.scheme, qs.netloc, qs.path, (qs.query + "&" if qs.query else "") + "access_token=" + value, ""))
            raw = await p.send("POST", _msg("initialize", INIT_PARAMS), {"Authorization": None}, url=url, note="valid token in the query string only")
            for e in raw.entries:  # never keep the token in the report
                if e.http and isinstance(e.http.get("url"), str):
                    e.http["url"] = e.http["url"].replace(value, "<token>")
            ctx.check(QUERY_TOKEN, check_query_token, raw)
            if raw.ok and raw.headers.get("mcp-session-id"):
                await p.send("DELETE", None, {"Mcp-Session-Id": raw.headers["mcp-session-id"]}, note="end the query-token session")
        else:
            ctx.skip(QUERY_TOKEN, "the supplied Authorization header is not a Bearer token")
    else:
        ctx.skip(QUERY_TOKEN, "needs a valid token (--bearer-env or an Authorization header)")
    await _close_handshake(p, sess)
    return True


async def probe_sessions(ctx: CampaignContext, p: Prober, n: int) -> None:
    sids: list[str] = []
    evidence: list[WireEntry] = []
    version = None
    for _ in range(n):
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
    ctx.revision = version if version in HANDSHAKE_VERSIONS else None
    if len(sids) < 2:
        reason = "the server issued no Mcp-Session-Id (sessions are optional)" if version else "initialize did not succeed (no handshake-era session to sample)"
        ctx.skip(SESSION_PREDICTABLE, reason)
        return
    ctx.check(SESSION_PREDICTABLE, check_session_predictability, sids, evidence[-6:])
    for i, sid in enumerate(sids):
        ctx.check(R.SESSION_ID_CHARSET, R.check_session_id_charset, sid, evidence[2 * i : 2 * i + 2])


async def probe_rate_limit(ctx: CampaignContext, p: Prober, cfg: HttpSecuritySettings) -> None:
    ctx.revision = None
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
    _observe(ctx, RATE_LIMIT, describe_burst(statuses, sent, elapsed, first_429, method))
    await _close_handshake(p, sess)


async def probe_fuzz(ctx: CampaignContext, target: Target, cfg: HttpSecuritySettings, wirelog: WireLog) -> StRun | None:
    specs = list(ST_SPECS.values())
    if not any(ctx.wants(s) for s in specs):
        return None
    try:
        probe, session = await detect(target)
    except TransportError as exc:
        for s in specs:
            ctx.skip(s, f"no MCP session could be opened ({str(exc)[:160]})")
        return None
    eras = probe.eras()
    era = next((e for e in eras if e in HANDSHAKE_VERSIONS), eras[0])
    if session.revision != era:
        await session.close()
        session = await open_session(target, era)
    ctx.revision = era
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
            wirelog=wirelog,
            max_examples=cfg.max_examples,
            budget=cfg.fuzz_budget,
            request_timeout=cfg.fuzz_request_timeout,
            seed=cfg.seed,
        )
    finally:
        await session.close()
    for f in run.failures:
        spec = ST_SPECS.get(f.check)
        if f.check == "status_code_conformance" and (f.status or 0) >= 500:
            continue  # the same response is reported once, by httpsec.fuzz_server_error
        if spec is not None:
            ctx.fail(spec, st_violation(f))
    for s in specs:
        if run.cases:
            ctx.passed(s)
        else:
            ctx.skip(s, "schemathesis generated no case")
    ctx.notes.append(
        f"http-security: schemathesis sent {run.cases} cases in {run.elapsed:.1f}s ({run.errors} without an HTTP answer, "
        f"{run.skipped_unsafe} dropped for naming an unsafe tool; statuses {dict(sorted(run.statuses.items()))}; "
        f"{len(callable_tools)} tool(s) in the document, excluded: {sorted(forbidden) or 'none'})"
    )
    ctx.notes.extend(n for n in run.notes[:5] if "Unsatisfiable" not in n)
    return run


async def run_http_security(ctx: CampaignContext, result: TargetResult, cfg: HttpSecuritySettings | None = None) -> None:
    cfg = cfg or getattr(ctx, "http_security_settings", None) or HttpSecuritySettings()
    target = ctx.target
    if target.transport != "http":
        ctx.revision = None
        for spec in (*ALL, R.SESSION_ID_CHARSET):
            if spec.campaign == CAMPAIGN:
                ctx.skip(spec, "HTTP transport only")
        return
    t = make_transport(target)
    assert isinstance(t, StreamableHttpTransport)
    p = Prober(ctx, t)
    await t.start()
    try:
        has_token = any(k.lower() == "authorization" for k in t.user_headers)
        ctx.progress(f"{target.name}: http-security: authorization")
        requires = await probe_auth(ctx, p, has_token)
        usable = not requires or has_token
        if ctx.wants(SESSION_PREDICTABLE) or ctx.wants(R.SESSION_ID_CHARSET):
            if usable:
                ctx.progress(f"{target.name}: http-security: session ids")
                await probe_sessions(ctx, p, max(cfg.session_samples, 8))
            else:
                ctx.skip(SESSION_PREDICTABLE, "the server requires a token and none was given (--bearer-env)")
        if ctx.wants(RATE_LIMIT):
            ctx.progress(f"{target.name}: http-security: rate limiting")
            await probe_rate_limit(ctx, p, cfg)
    finally:
        await t.close()
    if usable:
        ctx.progress(f"{target.name}: http-security: schemathesis HTTP-level fuzzing")
        await probe_fuzz(ctx, target, cfg, WireLog())
    else:
        for s in ST_SPECS.values():
            ctx.skip(s, "the server requires a token and none was given (--bearer-env)")
    ctx.revision = None

"""Lifecycle, version negotiation and capability discipline (spec-digest §2, L/V/M rules).

Pure judgements: the exchange, log and listing checks here judge what sessions recorded; the
`check_*` helpers also judge the exchanges the conformance campaign's active checks make
(mcpcheck.campaigns.conformance: version negotiation, ping, the stateless envelope).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..findings import Severity, Violation
from ..registry import ExchangeContext, Listing, ListingContext, LogContext, SessionLog, Skip, check
from ..session import KNOWN_VERSIONS, LATEST, META_VERSION, Exchange
from ..wirelog import WireEntry

CAPABILITY_METHODS = {"tools": "tools/list", "resources": "resources/list", "prompts": "prompts/list"}


def check_negotiated(ex: Exchange, requested: str, supported_hint: Iterable[str] = ()) -> Iterator[Violation]:
    if ex.response is None:
        return  # a hang or crash is judged by their own checks
    if "error" in ex.response:
        if requested in KNOWN_VERSIONS and requested in supported_hint:
            yield Violation(f"initialize with supported version {requested} was refused: {ex.error}", ex.evidence(), key=f"refused/{requested}")
        elif requested not in KNOWN_VERSIONS:
            yield Violation(
                f"initialize with unknown version {requested!r} answered with an error instead of a supported version "
                "(common, but the lifecycle text asks for a successful reply)",
                ex.evidence(),
                severity=Severity.info,
                key=f"error/{requested}",
            )
        return
    got = ex.result.get("protocolVersion") if isinstance(ex.result, dict) else None
    if not isinstance(got, str) or got not in KNOWN_VERSIONS:
        yield Violation(f"initialize with {requested!r} was answered with protocolVersion {got!r}, not a real revision", ex.evidence(), path="/result/protocolVersion", key=f"bogus/{requested}")
        return
    if requested in supported_hint and got != requested:
        yield Violation(f"the server supports {requested} (it negotiated it elsewhere) but answered {got} when asked for it", ex.evidence(), path="/result/protocolVersion", key=f"noecho/{requested}")


def check_ping(ex: Exchange) -> Iterator[Violation]:
    if ex.response is None:
        return
    if not ex.ok:
        yield Violation(f"ping answered with an error: {ex.error}", ex.evidence(), key="error")
    elif ex.result not in ({},) and not (isinstance(ex.result, dict) and set(ex.result) <= {"_meta"}):
        yield Violation(f"ping result is {ex.result!r}, expected an empty object", ex.evidence(), severity=Severity.low, key="nonempty")


def check_unsupported_version(ex: Exchange, requested: str) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok:
        yield Violation(f"a request declaring protocolVersion {requested!r} was served instead of rejected with -32022", ex.evidence(), key="served")
        return
    if ex.error_code != -32022:
        yield Violation(f"unsupported protocolVersion answered with code {ex.error_code!r}, expected -32022", ex.evidence(), path="/error/code", key="code")
        return
    data = (ex.error or {}).get("data")
    if not isinstance(data, dict) or not isinstance(data.get("supported"), list) or not data.get("supported"):
        yield Violation("-32022 error lacks data.supported (a non-empty list of versions)", ex.evidence(), path="/error/data/supported", key="supported")
    elif data.get("requested") != requested:
        yield Violation(f"-32022 error data.requested is {data.get('requested')!r}, expected {requested!r}", ex.evidence(), path="/error/data/requested", severity=Severity.medium, key="requested")


def check_envelope_rejected(ex: Exchange, dropped: str) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok:
        yield Violation(f"a request whose _meta lacks {dropped} was served instead of rejected with -32602", ex.evidence(), key=f"served/{dropped}")
    elif ex.error_code != -32602:
        yield Violation(f"a request whose _meta lacks {dropped} got code {ex.error_code!r}, expected -32602", ex.evidence(), severity=Severity.low, key=f"code/{dropped}")


def check_client_info_optional(ex: Exchange) -> Iterator[Violation]:
    if ex.response is not None and not ex.ok:
        yield Violation(f"a request without clientInfo in _meta was refused: {ex.error}", ex.evidence(), key="refused")


@check(
    "stateless.server_info_meta",
    category="protocol.schema",
    severity="low",
    title="Results carry io.modelcontextprotocol/serverInfo in _meta",
    scope="exchange",
    rule="J16",
    level="SHOULD",
    revisions="2026-07-28",
)
def server_info_meta(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if not ctx.stateless or ctx.deliberate or not ex.ok:
        raise Skip("judged on successful answers in the stateless era")
    return check_server_info_meta(ex)


def check_server_info_meta(ex: Exchange) -> Iterator[Violation]:
    if not ex.ok or not isinstance(ex.result, dict):
        return
    meta = ex.result.get("_meta")
    info = meta.get("io.modelcontextprotocol/serverInfo") if isinstance(meta, dict) else None
    if not isinstance(info, dict) or "name" not in info or "version" not in info:
        yield Violation(f"{ex.method} result has no _meta io.modelcontextprotocol/serverInfo {{name, version}}", ex.evidence(), path="/result/_meta", key=ex.method)


def check_discover(ex: Exchange) -> Iterator[Violation]:
    if not ex.ok:
        return
    versions = ex.result.get("supportedVersions") if isinstance(ex.result, dict) else None
    if not isinstance(versions, list) or LATEST not in versions:
        yield Violation(f"server/discover supportedVersions is {versions!r}; it was called with {LATEST}", ex.evidence(), path="/result/supportedVersions")


@check(
    "capabilities.advertised_work",
    category="protocol.capabilities",
    severity="high",
    title="Every advertised capability's list method works",
    scope="listing",
    rule="T1/RS1/P1/V2",
    level="MUST",
)
def advertised_work(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    listed = {m: listing.pages[m][0] for m in CAPABILITY_METHODS.values() if listing.pages.get(m)}
    if not listed:
        raise Skip("no list method was called")
    return check_capability_truth(ctx.capabilities, listed, ctx.stateless)


def check_capability_truth(capabilities: dict[str, Any], listed: dict[str, Exchange], stateless: bool) -> Iterator[Violation]:
    for cap, method in CAPABILITY_METHODS.items():
        ex = listed.get(method)
        if ex is None or ex.response is None:
            continue
        if cap in capabilities and not ex.ok:
            yield Violation(f"the server advertises '{cap}' but {method} failed: {ex.error}", ex.evidence(), key=f"adv/{cap}")
        if cap not in capabilities and ex.ok:
            sev = Severity.medium if stateless else Severity.info
            yield Violation(f"{method} works although the server did not advertise '{cap}'", ex.evidence(), severity=sev, key=f"unadv/{cap}")


def check_unadvertised_code(ex: Exchange, cap: str) -> Iterator[Violation]:
    if ex.response is None or ex.ok:
        return  # served-anyway is reported by check_capability_truth
    if ex.error_code != -32601:
        yield Violation(f"{ex.method} without the '{cap}' capability answered {ex.error_code!r}, expected -32601", ex.evidence(), key=cap)


@check(
    "capabilities.server_requests",
    category="protocol.capabilities",
    severity="high",
    title="No sampling / elicitation / roots requests to a client that declared none",
    scope="log",
    rule="L3/M1/S3/M3",
    level="MUST",
)
def server_requests(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    return check_server_requests(log.server_requests, log.client_capabilities, ctx.stateless)


def check_server_requests(requests: Iterable[WireEntry], declared: dict[str, Any], stateless: bool) -> Iterator[Violation]:
    for e in requests:
        msg = e.parsed if isinstance(e.parsed, dict) else {}
        method = msg.get("method")
        if stateless:
            yield Violation(f"the server sent a JSON-RPC request ({method}) in the stateless era, where servers never send requests", [e], key=f"r5/{method}")
            continue
        need = {"sampling/createMessage": "sampling", "elicitation/create": "elicitation", "roots/list": "roots"}.get(str(method))
        if need and need not in declared:
            yield Violation(f"the server sent {method} although the client did not declare '{need}'", [e], key=str(method))


@check(
    "capabilities.notifications",
    category="protocol.capabilities",
    severity="medium",
    title="No list_changed or log notifications without the matching capability",
    scope="log",
    rule="T14/LG1/L3/LG3",
    level="MUST",
)
def notification_discipline(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    return check_notifications(log.notifications, ctx.capabilities, ctx.stateless)


def check_notifications(notes: Iterable[WireEntry], capabilities: dict[str, Any], stateless: bool, meta_level_sent: bool = False) -> Iterator[Violation]:
    for e in notes:
        msg = e.parsed if isinstance(e.parsed, dict) else {}
        method = str(msg.get("method"))
        if method.endswith("/list_changed") and method.startswith("notifications/"):
            cap = method.split("/")[1]
            if not (capabilities.get(cap) or {}).get("listChanged"):
                yield Violation(f"{method} sent without the '{cap}.listChanged' capability", [e], key=method)
        elif method == "notifications/message":
            if "logging" not in capabilities:
                yield Violation("notifications/message (log) sent without the 'logging' capability", [e], key="log")
            elif stateless and not meta_level_sent:
                yield Violation("log notification for a request that did not ask for a logLevel", [e], key="log-r5")


def meta_version_of(ex: Exchange) -> str | None:
    params = ex.request.get("params") if isinstance(ex.request, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get(META_VERSION) if isinstance(meta, dict) else None

"""Streamable HTTP transport rules (spec-digest §4.2 H1-H9, §4.3 HS1-HS8), as probes + pure checks.

The conformance campaign calls every probe in `HTTP_PROBES` once per era when the target is
`--transport http`, after the era's session is established. Probes do the I/O through the
transport's raw door (`StreamableHttpTransport.http`), which records request and response in
the session's WireLog; the pure `check_*` functions below judge those recordings (`RawHttp`
objects and WireLog entries) and yield `Violation`s whose evidence is the recorded entries.

Severity policy: a MUST that is plainly broken (a hostile Origin served, a request served on a
terminated session, a header mismatch executed) is high; when the server refused as it should
but with the wrong status or error code, the deviation is medium; SHOULD-level deviations are
medium or low; SDK conventions (406/415 for Accept/Content-Type) are info at most. Everything the
spec allows passes: a dual-era server's legacy answers, 4xx for a notification it does not
accept, a server that issues no session id, DELETE answered 405.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import secrets
from typing import Any, Awaitable, Callable, Iterable, Iterator

from ..findings import Severity, Violation
from ..registry import register
from ..session import HANDSHAKE_VERSIONS, META_VERSION, Session
from ..transport.base import TransportError
from ..transport.http import JSON, SSE, RawHttp, StreamableHttpTransport, media_type
from ..wirelog import WireEntry, WireLog
from .context import CampaignContext

EVIL_ORIGIN = "http://evil.example"
PROBE_TIMEOUT = 5.0  # seconds per raw probe request (a server that never answers costs little)
MODERN = "2026-07-28"

ORIGIN = register(
    "http.origin_rejected",
    "security.origin",
    "high",
    "A hostile Origin header is refused (403 from 2025-11-25 on)",
    rule="H2/HS2",
    level="MUST",
    revisions="all",
    description="POST with `Origin: http://evil.example`: DNS-rebinding protection must refuse it; 2025-11-25 and "
    "later require exactly 403, earlier revisions any 4xx.",
)
NOTIFICATION_ACK = register(
    "http.notification_202",
    "transport.http",
    "high",
    "POSTed notifications and responses are answered 202 with no body (or a 4xx when refused)",
    rule="H3/HS3",
    level="MUST",
    revisions="2025-03-26..",
)
CONTENT_TYPE = register(
    "http.response_content_type",
    "transport.http",
    "high",
    "Every request is answered with Content-Type application/json or text/event-stream",
    rule="H4/HS3",
    level="MUST",
    revisions="2025-03-26..",
)
SSE_STRICT = register(
    "http.sse_strict",
    "transport.http",
    "high",
    "SSE responses parse strictly and every event's data is a JSON-RPC message",
    rule="H5/HS4",
    level="MUST",
    revisions="2025-03-26..",
    description="Comments, priming events (id + empty data) and retry are fine; non-JSON data, invalid UTF-8, an "
    "event cut off by the end of the stream, and (2026-07-28) server requests on a response stream are not.",
)
SESSION_REQUIRED = register(
    "http.session_required",
    "transport.session",
    "medium",
    "Requests without Mcp-Session-Id are refused with 400 once a session id was issued",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
)
SESSION_UNKNOWN = register(
    "http.session_unknown",
    "transport.session",
    "high",
    "A session id the server never issued gets 404",
    rule="H8",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
)
SESSION_TERMINATED = register(
    "http.session_terminated",
    "transport.session",
    "high",
    "After DELETE, the old session id gets 404",
    rule="H8",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
    description="Checked on a throwaway second session; DELETE answered 405 (termination not offered) is allowed.",
)
SESSION_ID_CHARSET = register(
    "http.session_id_charset",
    "transport.session",
    "high",
    "Session ids contain only visible ASCII (0x21-0x7E)",
    rule="H8",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
)
SESSION_ID_ENTROPY = register(
    "http.session_id_entropy",
    "transport.session",
    "low",
    "Session ids look unguessable (at least ~64 bits)",
    rule="H8",
    level="SHOULD",
    revisions="2025-03-26..2025-11-25",
)
PROTOCOL_HEADER = register(
    "http.protocol_version_header",
    "transport.http",
    "high",
    "An invalid MCP-Protocol-Version header is refused with 400",
    rule="H9",
    level="MUST",
    revisions="2025-06-18..2025-11-25",
)
STATELESS_GET_DELETE = register(
    "http.stateless_get_delete_405",
    "transport.http",
    "medium",
    "A 2026-07-28-only server answers GET and DELETE with 405",
    rule="HS1",
    level="SHOULD",
    revisions="2026-07-28",
)
STATELESS_NO_SESSION = register(
    "http.stateless_no_session",
    "transport.session",
    "medium",
    "No Mcp-Session-Id is minted or echoed for 2026-07-28 requests",
    rule="HS1",
    level="SHOULD NOT",
    revisions="2026-07-28",
)
STATELESS_VERSION_HEADER = register(
    "http.stateless_version_header",
    "transport.http",
    "high",
    "A missing or mismatched MCP-Protocol-Version header is refused: 400 + -32020",
    rule="HS5",
    level="MUST",
    revisions="2026-07-28",
)
STATELESS_ROUTING_HEADERS = register(
    "http.stateless_routing_headers",
    "transport.http",
    "high",
    "A missing or mismatched Mcp-Method / Mcp-Name header is refused: 400 + -32020",
    rule="HS7",
    level="MUST",
    revisions="2026-07-28",
)
STATELESS_HEADER_CASE = register(
    "http.stateless_header_name_case",
    "transport.http",
    "high",
    "MCP header names are matched case-insensitively",
    rule="HS7",
    level="MUST",
    revisions="2026-07-28",
)
STATELESS_HEADER_ENCODING = register(
    "http.stateless_header_encoding",
    "transport.http",
    "high",
    "Base64-sentinel Mcp-Name values are decoded before comparing; malformed ones are refused",
    rule="HS8",
    level="MUST",
    revisions="2026-07-28",
)
STATELESS_UNKNOWN_METHOD = register(
    "http.stateless_unknown_method_404",
    "transport.http",
    "high",
    "An unknown method is answered 404 + -32601",
    rule="HS6",
    level="MUST",
    revisions="2026-07-28",
)
STATELESS_UNSUPPORTED_VERSION = register(
    "http.stateless_unsupported_version_400",
    "transport.http",
    "high",
    "An unsupported protocol version is answered 400 + -32022",
    rule="HS6",
    level="MUST",
    revisions="2026-07-28",
)
ACCEPT = register(
    "http.accept_handling",
    "transport.http",
    "info",
    "How the server treats a bad Accept or Content-Type (406/415 are SDK conventions, not spec)",
    rule="§6.8",
    level="-",
    revisions="2025-03-26..",
)

SESSION_CHECKS = (SESSION_REQUIRED, SESSION_UNKNOWN, SESSION_TERMINATED, SESSION_ID_CHARSET, SESSION_ID_ENTROPY)
STATELESS_CHECKS = (
    STATELESS_GET_DELETE,
    STATELESS_NO_SESSION,
    STATELESS_VERSION_HEADER,
    STATELESS_ROUTING_HEADERS,
    STATELESS_HEADER_CASE,
    STATELESS_HEADER_ENCODING,
    STATELESS_UNKNOWN_METHOD,
    STATELESS_UNSUPPORTED_VERSION,
)


# =========================================================================== pure checks


def _is_4xx(raw: RawHttp) -> bool:
    return raw.status is not None and 400 <= raw.status < 500


def check_origin(raw: RawHttp, revision: str | None) -> Iterator[Violation]:
    if raw.error or raw.status is None:
        return  # no verdict without an HTTP answer
    if raw.status == 403:
        return
    ev = raw.entries
    if raw.ok:
        yield Violation(
            f"a request with `Origin: {EVIL_ORIGIN}` was served ({raw.summary()}): the server does not validate Origin, "
            "so a web page can drive it through DNS rebinding",
            ev,
            key="accepted",
        )
    elif _is_4xx(raw):
        if (revision or "") >= "2025-11-25":
            yield Violation(
                f"a hostile Origin was refused with HTTP {raw.status}; from 2025-11-25 on it MUST be 403 Forbidden",
                ev,
                severity=Severity.medium,
                key="status",
            )
    else:
        yield Violation(
            f"a hostile Origin was answered HTTP {raw.status} ({raw.summary()}), not refused with "
            + ("403" if (revision or "") >= "2025-11-25" else "a 4xx"),
            ev,
            severity=Severity.medium,
            key="status",
        )


def check_notification_ack(sent: WireEntry, raw: RawHttp) -> Iterator[Violation]:
    """H3/HS3: an accepted notification/response: 202, no body; refused: any 4xx/5xx."""
    if raw.error or raw.status is None:
        return
    msg = sent.parsed if isinstance(sent.parsed, dict) else {}
    what = f"notification {msg.get('method')!r}" if "method" in msg else "a POSTed JSON-RPC response"
    if raw.status >= 400:
        return  # "cannot accept" -> an HTTP error status is allowed (MAY carry an id-less error)
    body = raw.body if not raw.sse else (raw.body or f"<SSE stream, {raw.sse_events} events>")
    if raw.status == 202:
        if body.strip():
            yield Violation(f"{what} was answered 202 with a body ({body[:120]!r}); 202 MUST have no body", raw.entries, key=f"{raw.status}/body")
        return
    yield Violation(
        f"{what} was answered HTTP {raw.status} ({raw.headers.get('content-type') or 'no Content-Type'}"
        + (f", body {body[:80]!r}" if body.strip() else ", empty body")
        + "); an accepted notification or response MUST get 202 Accepted with no body",
        raw.entries,
        key=f"{raw.status}",
    )


def _valid_request(msg: Any) -> bool:
    if not isinstance(msg, dict) or not isinstance(msg.get("method"), str) or "id" not in msg:
        return False
    rid = msg["id"]
    return isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool))


def http_pairs(log: WireLog | Iterable[WireEntry]) -> list[tuple[WireEntry, list[WireEntry]]]:
    """Each outgoing HTTP request entry with the entries recorded for its response (linked by
    the `request_seq` the transport puts in every response entry's http dict)."""
    entries = log.entries if isinstance(log, WireLog) else list(log)
    outs: dict[int, tuple[WireEntry, list[WireEntry]]] = {}
    order: list[int] = []
    for e in entries:
        if e.direction == "out" and e.channel == "http" and e.http:
            outs[e.seq] = (e, [])
            order.append(e.seq)
        elif e.direction == "in" and e.http and isinstance(e.http.get("request_seq"), int):
            item = outs.get(e.http["request_seq"])
            if item is not None:
                item[1].append(e)
    return [outs[s] for s in order]


def _status_of(responses: list[WireEntry]) -> tuple[int | None, str]:
    for e in responses:
        st = (e.http or {}).get("status")
        if isinstance(st, int):
            ct = ((e.http or {}).get("headers") or {}).get("content-type", "")
            return st, ct
    return None, ""


def check_content_types(pairs: list[tuple[WireEntry, list[WireEntry]]]) -> Iterator[Violation]:
    """H4/HS3: a POSTed request that the server answers with 2xx gets JSON or SSE.
    Error statuses are HTTP-level refusals and may carry any body."""
    for out, responses in pairs:
        if (out.http or {}).get("method") != "POST" or not _valid_request(out.parsed):
            continue
        status, ct = _status_of(responses)
        if status is None or not 200 <= status < 300:
            continue
        mt = media_type(ct)
        if mt in (JSON, SSE):
            continue
        method = out.parsed.get("method")
        if status == 202 or not mt:
            body = next((e.raw for e in responses if e.channel == "http"), "")
            detail = f"request {method!r} was answered HTTP {status} with " + (f"no Content-Type and body {body[:80]!r}" if body else "no body")
        else:
            detail = f"request {method!r} was answered HTTP {status} with Content-Type {ct!r}"
        yield Violation(
            detail + "; a request MUST be answered with application/json (one JSON object) or text/event-stream",
            [out, *responses[:3]],
            key=f"{status}/{mt}",
        )


def check_sse(entries: Iterable[WireEntry], stateless: bool) -> Iterator[Violation]:
    """H5/HS4 over every recorded SSE event and SSE stream problem."""
    for e in entries:
        http = e.http or {}
        if e.channel == "sse" and e.direction == "in":
            if http.get("method") == "GET" and e.note == "endpoint event":
                continue  # legacy HTTP+SSE endpoint event: its data is a URI
            sse = http.get("sse") or {}
            for problem in sse.get("problems") or []:
                yield Violation(f"SSE event with {problem}", [e], severity=Severity.low, key=f"field:{problem[:40]}")
            if not e.raw.strip():
                continue  # priming / keep-alive
            if e.parse_error is not None:
                yield Violation(f"SSE event data is not JSON ({e.parse_error}): {e.raw[:120]!r}", [e], key="not-json")
                continue
            msg = e.parsed
            if isinstance(msg, list):
                continue  # a batch (2025-03-26) is judged by the JSON-RPC checks
            if not isinstance(msg, dict) or not any(k in msg for k in ("method", "result", "error")):
                yield Violation(f"SSE event data is JSON but not a JSON-RPC message: {e.raw[:120]!r}", [e], key="not-jsonrpc")
                continue
            event_type = sse.get("event", "message")
            if event_type != "message":
                yield Violation(
                    f"a JSON-RPC message was sent as SSE event type {event_type!r}; clients only read `message` events",
                    [e],
                    severity=Severity.low,
                    key=f"type:{event_type}",
                )
            if stateless and http.get("method") == "POST" and "method" in msg and msg.get("id") is not None:
                yield Violation(
                    f"the server sent a JSON-RPC request ({msg.get('method')!r}) on a 2026-07-28 response stream; it MUST NOT "
                    "(server-to-client input travels in an InputRequiredResult)",
                    [e],
                    key="request",
                )
        elif e.channel == "event" and e.note == "sse-problem":
            text = e.raw
            if "UTF-8" in text:
                yield Violation(text, [e], key="utf8")
            elif "middle of an event (data" in text:
                yield Violation(text + " (that message is lost for a conforming client)", [e], key="cut-data")
            else:
                yield Violation(text, [e], severity=Severity.low, key=text[:60])


def check_session_id_charset(sid: str, evidence: list[WireEntry]) -> Iterator[Violation]:
    bad = sorted({c for c in sid if not 0x21 <= ord(c) <= 0x7E})
    if not sid:
        yield Violation("the server issued an empty Mcp-Session-Id", evidence, key="empty")
    elif bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
        yield Violation(f"Mcp-Session-Id {sid[:60]!r} contains characters outside visible ASCII 0x21-0x7E ({shown})", evidence, key="charset")


def session_id_bits(sid: str) -> float:
    """A rough upper bound on the entropy of an id from its length and alphabet."""
    if not sid:
        return 0.0
    chars = set(sid)
    core = set(sid.replace("-", ""))
    if core <= set("0123456789"):
        alphabet = 10
    elif core <= set("0123456789abcdef") or core <= set("0123456789ABCDEF"):
        alphabet = 16
    elif core <= set("0123456789abcdefghijklmnopqrstuvwxyz") or core <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        alphabet = 36
    elif core <= set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        alphabet = 62
    else:
        alphabet = max(64, len(chars))
    return len(sid.replace("-", "")) * math.log2(alphabet)


def check_session_id_entropy(sids: list[str], evidence: list[WireEntry]) -> Iterator[Violation]:
    for sid in sids:
        bits = session_id_bits(sid)
        if bits < 64:
            yield Violation(
                f"Mcp-Session-Id {sid[:60]!r} carries at most ~{bits:.0f} bits; session ids SHOULD be cryptographically "
                "random (a UUID or 128 random bits)",
                evidence,
                key="short",
            )
            return
    if len(sids) >= 2 and len(set(sids)) < len(sids):
        yield Violation(f"two sessions were given the same id {sids[0][:60]!r}", evidence, key="reused")


def check_session_required(raw: RawHttp) -> Iterator[Violation]:
    if raw.error or raw.status is None or raw.status == 400:
        return
    if raw.ok:
        yield Violation(
            f"a request without Mcp-Session-Id was served ({raw.summary()}) although the server issued a session id; "
            "it SHOULD be refused with 400 Bad Request",
            raw.entries,
            key="served",
        )
    else:
        yield Violation(
            f"a request without Mcp-Session-Id was refused with HTTP {raw.status}; the spec asks for 400 Bad Request",
            raw.entries,
            severity=Severity.low,
            key="status",
        )


def check_session_unknown(raw: RawHttp) -> Iterator[Violation]:
    if raw.error or raw.status is None or raw.status == 404:
        return
    if raw.ok:
        yield Violation(
            f"a request carrying a session id the server never issued was served ({raw.summary()}): session ids are not "
            "validated (expected 404 Not Found, which tells clients to re-initialize)",
            raw.entries,
            key="served",
        )
    else:
        yield Violation(
            f"an unknown session id was refused with HTTP {raw.status}, not 404 Not Found (clients re-initialize only on 404)",
            raw.entries,
            severity=Severity.low,
            key="status",
        )


def check_session_terminated(delete: RawHttp, after: RawHttp | None) -> Iterator[Violation]:
    if delete.error or delete.status is None:
        return
    if not delete.ok:
        yield Violation(
            f"DELETE of a live session was answered HTTP {delete.status} ({delete.summary()}); expected 2xx, or 405 when the "
            "server does not let clients end sessions",
            delete.entries,
            severity=Severity.low,
            key="delete-status",
        )
        return
    if after is None or after.error or after.status is None or after.status == 404:
        return
    if after.ok:
        yield Violation(
            f"after DELETE answered {delete.status}, the same session id was still served ({after.summary()}); a terminated "
            "session MUST answer 404 Not Found",
            [*delete.entries, *after.entries],
            key="served",
        )
    else:
        yield Violation(
            f"after DELETE, the old session id was refused with HTTP {after.status}; a terminated session MUST answer 404",
            [*delete.entries, *after.entries],
            severity=Severity.medium,
            key="status",
        )


def check_protocol_header(raw: RawHttp, bogus: str) -> Iterator[Violation]:
    if raw.error or raw.status is None or raw.status == 400:
        return
    if raw.ok:
        yield Violation(
            f"a request with `MCP-Protocol-Version: {bogus}` was served ({raw.summary()}); an invalid or unsupported version "
            "header MUST be refused with 400 Bad Request",
            raw.entries,
            key="served",
        )
    else:
        yield Violation(
            f"`MCP-Protocol-Version: {bogus}` was refused with HTTP {raw.status}; the spec requires 400 Bad Request",
            raw.entries,
            severity=Severity.medium,
            key="status",
        )


def check_405(raw: RawHttp, verb: str) -> Iterator[Violation]:
    if raw.error and raw.status is None:
        return
    if raw.status == 405:
        return
    what = raw.summary()
    yield Violation(
        f"{verb} on the MCP endpoint was answered {what}; a server speaking only 2026-07-28 SHOULD answer 405 Method Not Allowed",
        raw.entries,
        key=f"{verb}/{raw.status}",
    )


def check_no_session_minted(pairs: list[tuple[WireEntry, list[WireEntry]]]) -> Iterator[Violation]:
    """HS1: responses to 2026-07-28 requests carry no Mcp-Session-Id."""
    for out, responses in pairs:
        hdrs = (out.http or {}).get("headers") or {}
        if hdrs.get("mcp-protocol-version") != MODERN:
            continue
        for e in responses:
            sid = (((e.http or {}).get("headers")) or {}).get("mcp-session-id")
            if sid:
                echoed = hdrs.get("mcp-session-id") == sid
                yield Violation(
                    f"a 2026-07-28 request was answered with Mcp-Session-Id {sid[:60]!r}"
                    + (" (echoing the one it sent)" if echoed else "")
                    + "; 2026-07-28 has no sessions: servers do not mint or echo session ids",
                    [out, e],
                    key="echoed" if echoed else "minted",
                )
                return


def check_stale_session_ignored(raw: RawHttp, modern_only: bool) -> Iterator[Violation]:
    if raw.error or raw.status is None:
        return
    if raw.headers.get("mcp-session-id"):
        return  # judged by check_no_session_minted over the same entries
    if not raw.ok and modern_only:
        yield Violation(
            f"a 2026-07-28 request carrying a leftover Mcp-Session-Id was refused ({raw.summary()}); the header SHOULD be ignored",
            raw.entries,
            severity=Severity.low,
            key="refused",
        )


def _modern_rejection(raw: RawHttp, what: str, status: int, codes: tuple[int, ...], *, served_severity: Severity | None = None) -> Iterator[Violation]:
    """The request MUST be refused with `status` and one of `codes`."""
    if raw.error or raw.status is None:
        return
    code = raw.error_code
    if raw.status == status and code in codes:
        return
    want = f"{status} + {' or '.join(map(str, codes))}"
    if raw.ok and raw.has_result:
        yield Violation(f"{what}: served ({raw.summary()}); expected {want}", raw.entries, severity=served_severity, key=f"{what}/served")
    else:
        yield Violation(f"{what}: answered {raw.summary()}; expected {want}", raw.entries, severity=Severity.medium, key=f"{what}/wrong")


def check_version_header(missing: RawHttp | None, mismatch: RawHttp, legacy_mismatch: RawHttp | None, *, missing_allowed: bool) -> Iterator[Violation]:
    """HS5. `missing_allowed`: the server serves pre-2025-06-18 clients, so it MAY read a request
    without the header as 2025-03-26 (anything goes)."""
    if missing is not None and not missing_allowed:
        yield from _modern_rejection(missing, "request without MCP-Protocol-Version", 400, (-32020,))
    # Precedence between header mismatch and unsupported version is unspecified (spec-digest §6.5).
    yield from _modern_rejection(mismatch, "MCP-Protocol-Version header differing from _meta (unknown version)", 400, (-32020, -32022))
    if legacy_mismatch is not None and not legacy_mismatch.error and legacy_mismatch.ok and legacy_mismatch.has_result:
        yield Violation(
            "a request whose MCP-Protocol-Version header says 2025-11-25 while its _meta says 2026-07-28 was served "
            f"({legacy_mismatch.summary()}); a request carrying 2026-07-28 _meta is served by 2026-07-28 rules, where a header/body "
            "mismatch MUST be refused with 400 + -32020 (a gateway routing on the header and the server executing the body disagree)",
            legacy_mismatch.entries,
            severity=Severity.medium,
            key="legacy-header",
        )


def check_routing_headers(cases: list[tuple[str, RawHttp]], *, lookup_first_ok: bool = False) -> Iterator[Violation]:
    """HS7: each case MUST be refused with 400 + -32020. `lookup_first_ok`: the Mcp-Name cases
    name an unknown tool, so a not-found refusal might just mean the server looked the tool
    up first (ambiguous order): low instead of medium."""
    for what, raw in cases:
        if raw.error or raw.status is None:
            continue
        if raw.status == 400 and raw.error_code == -32020:
            continue
        if raw.ok and (raw.has_result or raw.response is None):
            yield Violation(f"{what}: served ({raw.summary()}); expected 400 + -32020 (HeaderMismatch)", raw.entries, key=f"{what}/served")
        elif lookup_first_ok and "Mcp-Name" in what and raw.error_code in (-32602, -32002):
            yield Violation(
                f"{what}: refused as not found ({raw.summary()}) before the Mcp-Name header was checked; expected 400 + -32020",
                raw.entries,
                severity=Severity.low,
                key=f"{what}/lookup",
            )
        else:
            yield Violation(f"{what}: answered {raw.summary()}; expected 400 + -32020 (HeaderMismatch)", raw.entries, severity=Severity.medium, key=f"{what}/wrong")


def check_header_case(cases: list[tuple[str, RawHttp]]) -> Iterator[Violation]:
    for spelling, raw in cases:
        if raw.error or raw.status is None or raw.ok:
            continue
        yield Violation(
            f"a valid request whose MCP header names were spelled {spelling} was refused ({raw.summary()}); header names "
            "MUST be compared case-insensitively",
            raw.entries,
            key=spelling,
        )


def check_header_encoding(encoded: RawHttp | None, malformed: RawHttp | None) -> Iterator[Violation]:
    if encoded is not None and not encoded.error and encoded.status is not None:
        if encoded.status == 400 and encoded.error_code == -32020:
            yield Violation(
                f"an Mcp-Name sent in the `=?base64?...?=` form was refused as a mismatch ({encoded.summary()}); servers MUST "
                "decode the sentinel before comparing",
                encoded.entries,
                key="not-decoded",
            )
    if malformed is not None and not malformed.error and malformed.status is not None:
        if not (malformed.status == 400 and malformed.error_code == -32020):
            served = malformed.ok and malformed.has_result
            yield Violation(
                f"an Mcp-Name with a malformed base64 sentinel was {'served' if served else 'answered'} ({malformed.summary()}); "
                "expected 400 + -32020",
                malformed.entries,
                severity=None if served else Severity.medium,
                key="malformed",
            )


def check_unknown_method(raw: RawHttp, method: str) -> Iterator[Violation]:
    yield from _modern_rejection(raw, f"unknown method {method!r}", 404, (-32601,))


def check_unsupported_version(raw: RawHttp, version: str) -> Iterator[Violation]:
    yield from _modern_rejection(raw, f"_meta protocol version {version!r}", 400, (-32022,))


def check_accept(cases: list[tuple[str, tuple[str, ...] | None, RawHttp]]) -> Iterator[Violation]:
    """Observations only (info): what happens with an Accept or Content-Type a conforming
    client would not send. 406/415/400 or serving anyway are both fine."""
    notes = []
    ev: list[WireEntry] = []
    for what, accepts, raw in cases:
        if raw.error:
            notes.append(f"{what}: {raw.error}")
        elif raw.status is not None and raw.status >= 500:
            notes.append(f"{what}: HTTP {raw.status}")
        elif raw.ok and accepts is not None and raw.content_type and raw.content_type not in accepts:
            notes.append(f"{what}: answered {raw.content_type}, which the client did not accept")
        else:
            continue
        ev.extend(raw.entries[:2])
    if notes:
        yield Violation("; ".join(notes), ev[:8], severity=Severity.info, key="|".join(notes)[:200])


# =========================================================================== probes


def _transport(ctx: CampaignContext) -> StreamableHttpTransport | None:
    s = ctx.session
    t = s.transport if s is not None else None
    return t if isinstance(t, StreamableHttpTransport) else None


def _body(s: Session, method: str, params: dict[str, Any] | None = None, **kw: Any) -> bytes:
    return json.dumps(s.build_request(method, params if params is not None else {}, **kw)).encode()


def _safe_method(s: Session) -> str:
    return "server/discover" if s.stateless else "ping"


async def _raw(t: StreamableHttpTransport, method: str = "POST", **kw: Any) -> RawHttp:
    kw.setdefault("timeout", min(t.timeout, PROBE_TIMEOUT) + 1.0)
    return await t.http(method, **kw)


async def probe_origin(ctx: CampaignContext) -> None:
    t = _transport(ctx)
    if t is None or not ctx.wants(ORIGIN):
        return
    s = ctx.s
    raw = await _raw(t, body=_body(s, _safe_method(s)), headers={"Origin": EVIL_ORIGIN}, note="hostile Origin")
    ctx.check(ORIGIN, check_origin, raw, ctx.revision)


async def probe_notifications(ctx: CampaignContext) -> None:
    t = _transport(ctx)
    if t is None or not ctx.wants(NOTIFICATION_ACK):
        return
    s = ctx.s
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/mcpcheck_probe"}
    if s.stateless:
        msg["params"] = {"_meta": s.envelope_meta()}
    await _raw(t, body=json.dumps(msg).encode(), note="notification probe")
    # Judge every notification/response POST recorded in this session (initialized, the
    # campaign's own notifications, the probe above).
    judged = 0
    for out, responses in http_pairs(s.wirelog):
        m = out.parsed
        if (out.http or {}).get("method") != "POST" or not isinstance(m, dict):
            continue
        if "id" in m and "method" in m:
            continue  # a request
        if "method" not in m and not ("result" in m or "error" in m):
            continue  # not a message at all
        raw = _raw_from(out, responses)
        judged += 1
        ctx.check(NOTIFICATION_ACK, check_notification_ack, out, raw)
    if not judged:
        ctx.skip(NOTIFICATION_ACK, "no notification POST was answered")


def _raw_from(out: WireEntry, responses: list[WireEntry]) -> RawHttp:
    """Rebuild a RawHttp view from recorded entries (for traffic the session sent)."""
    raw = RawHttp(method=(out.http or {}).get("method", "POST"), url=(out.http or {}).get("url", ""), entries=[out, *responses])
    bodies = []
    for e in responses:
        http = e.http or {}
        if raw.status is None and isinstance(http.get("status"), int):
            raw.status = http["status"]
            raw.headers = dict(http.get("headers") or {})
        if e.channel == "event" and raw.status is None:
            raw.error = e.raw
        if e.channel in ("http", "sse") and e.raw:
            bodies.append(e.raw)
            if e.channel == "sse":
                raw.sse = True
                raw.sse_events += 1
            if e.parse_error is None and e.parsed is not None:
                raw.messages.extend(e.parsed if isinstance(e.parsed, list) else [e.parsed])
    raw.body = "\n".join(bodies)
    return raw


async def probe_session(ctx: CampaignContext) -> None:
    t = _transport(ctx)
    if t is None:
        return
    s = ctx.s
    if s.stateless:
        for spec in SESSION_CHECKS:
            ctx.skip(spec, "2026-07-28 has no sessions")
        ctx.skip(PROTOCOL_HEADER, "2026-07-28 version header rules are checked by http.stateless_version_header (HS5)")
        return
    init = next((ex for ex in s.exchanges if ex.method == "initialize" and ex.ok), None)
    init_ev = init.evidence() if init else []
    sid = t.session_id
    if sid is None:
        for spec in SESSION_CHECKS:
            ctx.skip(spec, "the server issued no Mcp-Session-Id (sessions are optional)")
    else:
        ctx.check(SESSION_ID_CHARSET, check_session_id_charset, sid, init_ev)
        if ctx.wants(SESSION_REQUIRED):
            raw = await _raw(t, body=_body(s, "ping"), headers={"Mcp-Session-Id": None}, note="request without Mcp-Session-Id")
            ctx.check(SESSION_REQUIRED, check_session_required, raw)
        if ctx.wants(SESSION_UNKNOWN):
            bogus = "mcpcheck-" + secrets.token_hex(16)
            raw = await _raw(t, body=_body(s, "ping"), headers={"Mcp-Session-Id": bogus}, note="unknown Mcp-Session-Id")
            ctx.check(SESSION_UNKNOWN, check_session_unknown, raw)
        sids = [sid]
        if ctx.wants(SESSION_TERMINATED) or ctx.wants(SESSION_ID_ENTROPY):
            other = await _probe_delete(ctx, t)
            if other:
                sids.append(other)
        ctx.check(SESSION_ID_ENTROPY, check_session_id_entropy, sids, init_ev)
    if not ctx.wants(PROTOCOL_HEADER):
        return
    if (ctx.revision or "") < "2025-06-18":
        ctx.skip(PROTOCOL_HEADER, f"MCP-Protocol-Version is defined from 2025-06-18 on (negotiated {ctx.revision})")
        return
    bogus = "1999-01-01"
    raw = await _raw(t, body=_body(s, "ping"), headers={"MCP-Protocol-Version": bogus}, note="bogus MCP-Protocol-Version")
    ctx.check(PROTOCOL_HEADER, check_protocol_header, raw, bogus)


async def _probe_delete(ctx: CampaignContext, t: StreamableHttpTransport) -> str | None:
    """DELETE a throwaway second session (the main one stays usable), then reuse its id.
    Returns the throwaway session's id."""
    t2 = StreamableHttpTransport(t.url, headers=t.user_headers, timeout=t.timeout, wirelog=t.wirelog)
    s2 = Session(t2, timeout=min(ctx.s.timeout, PROBE_TIMEOUT + 1))
    try:
        await s2.start()
        ex = await s2.initialize(ctx.revision or HANDSHAKE_VERSIONS[0])
        sid = t2.session_id
        if not ex.ok or sid is None:
            ctx.skip(SESSION_TERMINATED, "a second session could not be opened: " + (ex.transport_error or str(ex.response)[:120]))
            return None
        if not ctx.wants(SESSION_TERMINATED):
            return sid
        delete = await _raw(t2, "DELETE", note="end the throwaway session")
        if delete.status == 405:
            t2.session_terminated = True
            ctx.skip(SESSION_TERMINATED, "DELETE answered 405: the server does not let clients end sessions (allowed)")
            return sid
        after = None
        if delete.ok:
            t2.session_terminated = True
            after = await _raw(t2, body=_body(s2, "ping"), headers={"Mcp-Session-Id": sid}, note="reuse a DELETEd session id")
        ctx.check(SESSION_TERMINATED, check_session_terminated, delete, after)
        return sid
    except Exception as exc:  # never let the throwaway session break the campaign
        ctx.skip(SESSION_TERMINATED, f"throwaway session failed: {exc}")
        return None
    finally:
        await s2.close()


async def _legacy_support(ctx: CampaignContext, t: StreamableHttpTransport) -> tuple[bool, bool]:
    """(speaks the handshake era at all, serves pre-2025-06-18 clients) for a server found in
    the stateless era: a raw initialize offering 2025-03-26 (its session, if any, is DELETEd)."""
    s = ctx.s
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
    return legacy, pre_0618


async def probe_stateless(ctx: CampaignContext) -> None:
    t = _transport(ctx)
    if t is None:
        return
    s = ctx.s
    if not s.stateless:
        for spec in STATELESS_CHECKS:
            ctx.skip(spec, f"2026-07-28 rule (this era is {ctx.revision})")
        return
    if not any(ctx.wants(spec) for spec in STATELESS_CHECKS):
        return
    legacy, pre_0618 = await _legacy_support(ctx, t)
    safe = "server/discover"

    if ctx.wants(STATELESS_GET_DELETE):
        if legacy:
            ctx.skip(STATELESS_GET_DELETE, "dual-era server: GET and DELETE belong to its handshake-era transport")
        else:
            get = await _raw(t, "GET", window=1.0, note="GET on a 2026-07-28 endpoint")
            delete = await _raw(t, "DELETE", note="DELETE on a 2026-07-28 endpoint")
            ctx.check(STATELESS_GET_DELETE, check_405, get, "GET")
            ctx.check(STATELESS_GET_DELETE, check_405, delete, "DELETE")

    if ctx.wants(STATELESS_NO_SESSION):
        raw = await _raw(t, body=_body(s, safe), headers={"Mcp-Session-Id": "mcpcheck-stale-" + secrets.token_hex(8)}, note="leftover Mcp-Session-Id")
        ctx.check(STATELESS_NO_SESSION, check_stale_session_ignored, raw, not legacy)
        ctx.check(STATELESS_NO_SESSION, check_no_session_minted, http_pairs(s.wirelog))

    if ctx.wants(STATELESS_VERSION_HEADER):
        missing = await _raw(t, body=_body(s, safe), headers={"MCP-Protocol-Version": None}, note="no MCP-Protocol-Version")
        mismatch = await _raw(t, body=_body(s, safe), headers={"MCP-Protocol-Version": "2099-12-31"}, note="MCP-Protocol-Version differs from _meta")
        legacy_mismatch = None
        if legacy:
            legacy_mismatch = await _raw(t, body=_body(s, "tools/list" if "tools" in s.server_capabilities else safe), headers={"MCP-Protocol-Version": "2025-11-25"}, note="legacy MCP-Protocol-Version with 2026-07-28 _meta")
        ctx.check(STATELESS_VERSION_HEADER, check_version_header, missing, mismatch, legacy_mismatch, missing_allowed=pre_0618)

    named = await _named_target(ctx) if (ctx.wants(STATELESS_ROUTING_HEADERS) or ctx.wants(STATELESS_HEADER_ENCODING)) else None

    if ctx.wants(STATELESS_ROUTING_HEADERS):
        cases = [
            ("request without Mcp-Method", await _raw(t, body=_body(s, safe), headers={"Mcp-Method": None}, note="no Mcp-Method")),
            ("Mcp-Method differing in case from the body's method", await _raw(t, body=_body(s, safe), headers={"Mcp-Method": safe.upper()}, note="Mcp-Method value case")),
        ]
        if named is not None:
            method, params, _real, unknown = named
            cases.append(("Mcp-Name naming something else than the body", await _raw(t, body=_body(s, method, params), headers={"Mcp-Name": "mcpcheck-other-name"}, note="mismatched Mcp-Name")))
            cases.append((f"{method} without Mcp-Name", await _raw(t, body=_body(s, method, params), headers={"Mcp-Name": None}, note="no Mcp-Name")))
        ctx.check(STATELESS_ROUTING_HEADERS, check_routing_headers, cases, lookup_first_ok=bool(named and named[3]))

    if ctx.wants(STATELESS_HEADER_CASE):
        cases = []
        for spelling, fold in (("in lower case", str.lower), ("in upper case", str.upper)):
            body = _body(s, safe)
            proto = t.protocol_headers(json.loads(body))
            overrides: dict[str, str | None] = {k: None for k in proto}
            overrides.update({fold(k): v for k, v in proto.items()})
            cases.append((spelling, await _raw(t, body=body, headers=overrides, note=f"MCP header names {spelling}")))
        ctx.check(STATELESS_HEADER_CASE, check_header_case, cases)

    if ctx.wants(STATELESS_HEADER_ENCODING):
        if named is None:
            ctx.skip(STATELESS_HEADER_ENCODING, "no tools, prompts or resources to address with Mcp-Name")
        else:
            method, params, real, _unknown = named
            sentinel = "=?base64?" + base64.b64encode(real.encode()).decode() + "?="
            encoded = await _raw(t, body=_body(s, method, params), headers={"Mcp-Name": sentinel}, note="Mcp-Name in base64 sentinel form")
            malformed = await _raw(t, body=_body(s, method, params), headers={"Mcp-Name": "=?base64?%%not-base64%%?="}, note="malformed base64 sentinel")
            ctx.check(STATELESS_HEADER_ENCODING, check_header_encoding, encoded, malformed)

    if ctx.wants(STATELESS_UNKNOWN_METHOD):
        method = f"mcpcheck/no-such-method-{secrets.token_hex(3)}"
        raw = await _raw(t, body=_body(s, method), note="unknown method")
        ctx.check(STATELESS_UNKNOWN_METHOD, check_unknown_method, raw, method)

    if ctx.wants(STATELESS_UNSUPPORTED_VERSION):
        version = "1900-01-01"
        msg = s.build_request(safe, {})
        msg["params"]["_meta"][META_VERSION] = version
        raw = await _raw(t, body=json.dumps(msg).encode(), note="unsupported _meta version")  # header mirrors _meta
        ctx.check(STATELESS_UNSUPPORTED_VERSION, check_unsupported_version, raw, version)


async def _named_target(ctx: CampaignContext) -> tuple[str, dict[str, Any], str, bool] | None:
    """A side-effect-free request that carries Mcp-Name: (method, params, the name, whether the
    name is a made-up unknown one). Prefers reading a listed resource, then a prompt without
    required arguments, then calling a tool that does not exist (never a real tool)."""
    s = ctx.s
    caps = s.server_capabilities
    if "resources" in caps:
        ex = await s.request("resources/list", {})
        items = (ex.result or {}).get("resources") if ex.ok and isinstance(ex.result, dict) else None
        for r in items or []:
            if isinstance(r, dict) and isinstance(r.get("uri"), str):
                return "resources/read", {"uri": r["uri"]}, r["uri"], False
    if "prompts" in caps:
        ex = await s.request("prompts/list", {})
        items = (ex.result or {}).get("prompts") if ex.ok and isinstance(ex.result, dict) else None
        for p in items or []:
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            args = p.get("arguments") if isinstance(p.get("arguments"), list) else []
            if not any(isinstance(a, dict) and a.get("required") for a in args):
                return "prompts/get", {"name": p["name"], "arguments": {}}, p["name"], False
    if "tools" in caps:
        name = f"mcpcheck_no_such_tool_{secrets.token_hex(3)}"
        return "tools/call", {"name": name, "arguments": {}}, name, True
    return None


async def probe_accept(ctx: CampaignContext) -> None:
    t = _transport(ctx)
    if t is None or not ctx.wants(ACCEPT):
        return
    s = ctx.s
    m = _safe_method(s)
    cases = [
        ("Accept: application/json only", (JSON,), await _raw(t, body=_body(s, m), headers={"Accept": JSON}, note="Accept: application/json only")),
        ("Accept: text/event-stream only", (SSE,), await _raw(t, body=_body(s, m), headers={"Accept": SSE}, note="Accept: text/event-stream only")),
        ("no Accept header", None, await _raw(t, body=_body(s, m), headers={"Accept": None}, note="no Accept header")),
        ("Content-Type: text/plain", None, await _raw(t, body=_body(s, m), headers={"Content-Type": "text/plain"}, note="Content-Type: text/plain")),
    ]
    ctx.check(ACCEPT, check_accept, cases)


async def probe_recorded(ctx: CampaignContext) -> None:
    """Judged over everything this era's session recorded (run last)."""
    t = _transport(ctx)
    if t is None:
        return
    s = ctx.s
    ctx.check(CONTENT_TYPE, check_content_types, http_pairs(s.wirelog))
    ctx.check(SSE_STRICT, check_sse, s.wirelog.entries, s.stateless)


def _guarded(fn: Callable[[CampaignContext], Awaitable[None]]) -> Callable[[CampaignContext], Awaitable[None]]:
    """A probe whose server went away stops quietly (the campaign judges the crash itself)."""

    @functools.wraps(fn)
    async def probe(ctx: CampaignContext) -> None:
        try:
            await fn(ctx)
        except TransportError as exc:
            ctx.notes.append(f"http rules: {fn.__name__} stopped: {exc}")

    return probe


HTTP_PROBES = [_guarded(p) for p in (probe_origin, probe_notifications, probe_session, probe_stateless, probe_accept, probe_recorded)]

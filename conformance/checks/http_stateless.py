"""2026-07-28 (stateless) Streamable HTTP rules as pure judgements (spec-digest §4.3 HS1, HS5-HS8).

The probes in mcpcheck.campaigns.http_rules send the requests (GET/DELETE, a leftover session
id, missing or mismatched MCP-Protocol-Version / Mcp-Method / Mcp-Name headers, header names in
another case, base64-sentinel names, an unknown method, an unsupported version); these functions
judge the recorded answers.
"""

from __future__ import annotations

from typing import Iterator

from ..findings import Severity, Violation
from ..transport.http import RawHttp
from ..wirelog import WireEntry

MODERN = "2026-07-28"


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

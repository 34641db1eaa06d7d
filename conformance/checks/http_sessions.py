"""Session-id rules of the Streamable HTTP transport as pure judgements (spec-digest §4.2 H8, H9).

`check_session_*` judge the answers the probes of mcpcheck.campaigns.http_rules recorded (a
request without the id, with an id never issued, with a DELETEd id, with a bogus
MCP-Protocol-Version); `session_id_bits` / `check_session_id_entropy` judge one or two ids;
`check_session_predictability` judges a sample of ids (mcpcheck.checks.session_ids.analyze), as
the http-security campaign takes it. `http.session_id_charset` is judged here over every HTTP
session of every campaign (scope `log`): each id a handshake-era initialize was answered with.
"""

from __future__ import annotations

import math
from typing import Iterator

from ..findings import Severity, Violation
from ..registry import LogContext, SessionLog, Skip, check
from ..transport.http import RawHttp
from ..wirelog import WireEntry
from .http import require_http
from .session_ids import analyze


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



def check_session_predictability(sids: list[str], evidence: list[WireEntry]) -> Iterator[Violation]:
    """A sample of ids from several sessions: counters, timestamps, reuse, low entropy."""
    a = analyze(sids)
    shown = ", ".join(repr(s[:40]) for s in sids[:4])
    for key, text in a.problems:
        guessable = key in ("counter", "reused", "timestamp")
        yield Violation(
            f"{text}; sampled {len(sids)} ids ({shown}, ...). Session ids SHOULD be cryptographically random: a guessable id "
            "lets another client hijack a session (spec: Security Best Practices, session hijacking)",
            evidence,
            # "MCP servers MUST use secure, non-deterministic session IDs" (security best practices)
            severity=Severity.high if guessable else None,
            level="MUST" if guessable else None,
            key=key,
        )


# =========================================================================== over every HTTP session


@check(
    "http.session_id_charset",
    category="transport.session",
    severity="high",
    title="Session ids contain only visible ASCII (0x21-0x7E)",
    scope="log",
    rule="H8",
    level="MUST",
    revisions="2025-03-26..2025-11-25",
)
def session_id_charset(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    require_http(ctx.transport)
    if ctx.stateless:
        raise Skip("2026-07-28 has no sessions")
    issued = [
        (sid, ex.evidence())
        for ex in log.exchanges
        if ex.method == "initialize" and ex.ok and isinstance(sid := ((ex.http or {}).get("headers") or {}).get("mcp-session-id"), str)
    ]
    if not issued:
        raise Skip("the server issued no Mcp-Session-Id (sessions are optional)")
    for sid, evidence in issued:
        yield from check_session_id_charset(sid, evidence)

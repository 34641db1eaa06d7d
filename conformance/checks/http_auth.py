"""Authorization rules for a Streamable HTTP endpoint as pure judgements (spec-digest A2-A7).

The probes of the http-security campaign (mcpcheck.campaigns.http_security) send the requests:
unauthenticated ones, bogus / malformed / expired / wrong-audience tokens on every method and
verb, a valid token in the query string, the protected-resource metadata fetch (RFC 9728). The
functions here judge the recorded answers (`RawHttp`) and yield `Violation`s whose evidence is
the recorded entries (Authorization redacted by the transport).
"""

from __future__ import annotations

import json
import re
from typing import Iterator
from urllib.parse import urlsplit

from ..findings import Severity, Violation
from ..transport.http import RawHttp

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
    elif norm_url(resource) != norm_url(endpoint):
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


def norm_url(url: str) -> str:
    """scheme://host:port/path, lower-cased, default port filled in, no trailing slash."""
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

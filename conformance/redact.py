"""Keep secrets out of every report: mask secret-looking values, keep mcpcheck's own canaries.

A server under test can hand back anything it can read, the whole environment of the machine
running mcpcheck included (a real `get-env` tool did). Reports are uploaded as CI artifacts and
pasted into issues, so nothing that reaches a Finding or a TargetResult may carry a secret beyond
the proof. `Evidence`, `Finding` and `TargetResult` (conformance/findings.py, report/model.py)
pass their text through `mask_tree` when they are built, so every view (JSON, Markdown, HTML,
SARIF, JUnit, the console, the pytest plugin) only ever sees masked text.

What counts as secret-looking (each match becomes `***`):

1. a value given to a secret-looking name: `NAME=value`, `"NAME": "value"`, `NAME: value`,
   `'NAME': 'value'`, also inside JSON escaped in JSON (`\\"NAME\\": \\"value\\"`), where NAME has a
   part such as TOKEN, SECRET, PASSWORD, PASSWD, PWD, PASSPHRASE, CREDENTIAL(S), AUTH,
   AUTHORIZATION, COOKIE, BEARER, APIKEY, or ends in an API/ACCESS/SECRET/PRIVATE/CLIENT/... KEY
   (`API_KEY`, `apiKey`, `AWS_SECRET_ACCESS_KEY`, `OPENAI_API_KEY`); `Bearer <token>`;
2. known token shapes, from the regex detectors of Yelp's detect-secrets (AWS, GitHub, GitLab,
   Slack, Stripe, JWT, npm, PyPI, SendGrid, Twilio, OpenAI, ... and user:password@ in URLs),
   plus PEM private key blocks;
3. the actual values of mcpcheck's own environment variables with secret-looking names (so a
   leaked `GITHUB_TOKEN` is masked even where it appears without its name), and the values
   registered with `remember` (a target's secret headers, `--env` values, the `--bearer-env`
   token).

Kept visible: mcpcheck's canaries (`MCPCHK_SECRET_<hex>`, planted in the server's environment as
MCPCHECK_CANARY_SECRET; `MCPCHECK_PLANTED_<hex>`, the planted file's token; `MCPCHK_<hex>` probe
tokens): they are the proof of a leak and secret to nobody.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

MASK = "***"
CANARY = re.compile(r"MCPCHK_SECRET_[0-9a-f]{8,}|MCPCHECK_PLANTED_[0-9a-f]{8,}|MCPCHK_[0-9a-f]{8,}")
MIN_ENV_VALUE = 8  # shorter values of secret-named variables are not replaced everywhere (too common)

_SECRET_PARTS = {
    "token", "secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase", "credential",
    "credentials", "auth", "authorization", "cookie", "cookies", "bearer", "apikey", "privatekey",
    "accesskey", "secretkey", "clientsecret",
}  # fmt: skip
_KEY_OWNERS = {"api", "access", "secret", "private", "client", "signing", "encryption", "master", "license", "app", "service", "account", "subscription", "storage", "auth", "session", "x"}

# a last name part saying the value describes the secret rather than being it
_NOT_A_VALUE = {
    "url", "uri", "urls", "endpoint", "endpoints", "server", "servers", "type", "types", "method", "methods",
    "scheme", "schemes", "mode", "header", "required", "enabled", "supported", "path", "file", "dir", "env",
    "length", "len", "count", "limit", "name", "names", "id", "ids", "expires", "expiry", "ttl", "format",
}  # fmt: skip


def secret_name(name: str) -> bool:
    """True for names whose values are secrets: GITHUB_TOKEN, api_key, apiKey, DB_PASSWORD,
    Authorization, X-API-Key, AWS_SECRET_ACCESS_KEY. Not: key, sort_key, max_tokens, author."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    parts = [p for p in re.split(r"[^a-z0-9]+", snake) if p]
    if parts and parts[-1] in _NOT_A_VALUE:  # token_endpoint, authorization_url, password_file, token_type
        return False
    if any(p in _SECRET_PARTS for p in parts):
        return True
    return any(p == "key" and i > 0 and parts[i - 1] in _KEY_OWNERS for i, p in enumerate(parts))


# name, optional closing quote of the name (plain or backslash-escaped), separator, value
_NAME = r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,80})"
_ASSIGN = re.compile(
    _NAME
    + r"(?P<nq>\\*[\"'])?[ \t]*(?P<sep>=|:)[ \t]*"
    + r"(?:(?P<q>\\*[\"'])(?P<qv>(?:(?!(?P=q)).){1,4000}?)(?P=q)"  # quoted value, up to the same quote
    + r"|(?P<v>[^\s\"'\\,;&{}\[\]()<>]{1,4000}))",  # bare value, up to a delimiter
)
_BEARER = re.compile(r"\b(?:Bearer|Basic)\s+(?P<v>[A-Za-z0-9._~+/=\-]{8,})")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)", re.S)
_LITERALS = {"null", "none", "true", "false", "undefined", ""}


@functools.lru_cache(maxsize=1)
def _shapes() -> tuple[re.Pattern[str], ...]:
    """The token-shape regexes of detect-secrets' regex-based detectors (not the entropy, keyword
    or public-IP ones: those flag lines, they do not delimit a secret)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    skip = {"IPPublicDetector", "PrivateKeyDetector", "KeywordDetector"}
    out: list[re.Pattern[str]] = []
    for cls in get_mapping_from_secret_type_to_class().values():
        if not issubclass(cls, RegexBasedDetector) or cls.__name__ in skip:
            continue
        try:
            out.extend(p for p in cls().denylist if isinstance(p, re.Pattern))
        except Exception:  # noqa: BLE001 - a detector that cannot be built is left out
            continue
    return tuple(out)


_remembered: set[str] = set()


def remember(value: str | None) -> None:
    """Mask this exact value wherever it appears (a header, `--env` or bearer token value)."""
    if isinstance(value, str) and len(value) >= MIN_ENV_VALUE and not CANARY.fullmatch(value):
        _remembered.add(value)


def _env_values() -> list[str]:
    values = {v for k, v in os.environ.items() if secret_name(k) and len(v) >= MIN_ENV_VALUE and not CANARY.fullmatch(v)}
    return sorted(values | _remembered, key=len, reverse=True)  # longest first: a value inside another


def _masked(value: str) -> str:
    """The value with everything but mcpcheck's canaries replaced by MASK."""
    if value.strip().lower() in _LITERALS or value in (MASK, "<redacted>"):  # already masked (transport.http)
        return value
    keep = [m.group(0) for m in CANARY.finditer(value)]
    return " ".join(keep) if keep else MASK


def mask_text(text: str) -> str:
    """`text` with every secret-looking value (module docstring) replaced by `***`."""
    if not text or not isinstance(text, str):
        return text
    for value in _env_values():
        if value in text:
            text = text.replace(value, MASK)
    text = _PEM.sub(MASK, text)
    for pattern in _shapes():
        text = pattern.sub(_shape_sub, text)
    text = _BEARER.sub(lambda m: m.group(0)[: m.start("v") - m.start()] + _masked(m.group("v")), text)
    return _ASSIGN.sub(_assign_sub, text)


def _shape_sub(m: re.Match[str]) -> str:
    whole = m.group(0)
    if CANARY.search(whole):
        return whole
    # a pattern that captures the secret itself (user:PASSWORD@, "...key": "VALUE") masks that
    # group; a pattern whose group is only a prefix (ghp|gho|...) masks the whole match
    for i in range(len(m.groups()), 0, -1):
        g = m.group(i)
        if g and len(g) >= 6:
            a, b = m.start(i) - m.start(), m.end(i) - m.start()
            return whole[:a] + MASK + whole[b:]
    lead = len(whole) - len(whole.lstrip(_DELIMS))  # keep the delimiters some patterns match around the token
    trail = len(whole.rstrip(_DELIMS))
    return whole[:lead] + MASK + whole[trail:]


_DELIMS = " \t\r\n=:\"'\\"


def _assign_sub(m: re.Match[str]) -> str:
    if not secret_name(m.group("name")):
        return m.group(0)
    group = "qv" if m.group("qv") is not None else "v"
    value = m.group(group)
    if m.group("sep") == ":" and m.group("nq") is None and m.group("q") is None and value.startswith("//"):
        return m.group(0)  # a URL scheme (`auth://`), not an assignment
    if value in ("Bearer", "Basic"):  # `Authorization: Bearer ***`: _BEARER masked the token already
        return m.group(0)
    a, b = m.start(group) - m.start(), m.end(group) - m.start()
    whole = m.group(0)
    return whole[:a] + _masked(value) + whole[b:]


def mask_tree(value: Any) -> Any:
    """`mask_text` over every string of a JSON-like tree; a value under a secret-looking key is
    masked whole (`{"api_key": "x"}` -> `{"api_key": "***"}`)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and secret_name(k) and isinstance(v, str):
                out[k] = _masked(v)
            else:
                out[k] = mask_tree(v)
        return out
    if isinstance(value, list):
        return [mask_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_tree(v) for v in value)
    return value

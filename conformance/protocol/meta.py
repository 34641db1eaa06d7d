"""`_meta` key naming rules (J13, R3 and later).

A key is an optional prefix and a name:

- prefix: dot-separated labels followed by "/"; each label starts with a letter, ends with a
  letter or digit, and has only letters, digits and hyphens in between;
- name: empty, or starts and ends with a letter or digit, with letters, digits, "-", "_" and
  "." in between.

Prefixes whose second label is `modelcontextprotocol` or `mcp` are reserved for MCP (R5 wording;
e.g. `io.modelcontextprotocol/`). Using a reserved prefix is not reported: official extensions
use such keys and the set is open, so flagging unknown ones would blame correct servers.
R5 also allows the W3C trace-context keys (traceparent, tracestate, baggage), which satisfy the
syntax anyway.
"""

from __future__ import annotations

import re
from typing import Any

from .revisions import OTEL_META_KEYS, R3, normalize
from .violations import Violation, pointer

_LABEL = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_NAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?")


def split_key(key: str) -> tuple[str | None, str]:
    """(prefix without the trailing "/", name); prefix None when the key has no "/"."""
    if "/" not in key:
        return None, key
    prefix, _, name = key.partition("/")
    return prefix, name


def key_problem(key: str, *, require_prefix: bool = False) -> str | None:
    """Why `key` breaks the `_meta` naming rules, or None when it follows them."""
    prefix, name = split_key(key)
    if prefix is None:
        if require_prefix:
            return "has no reverse-DNS prefix (e.g. 'com.example/')"
    else:
        labels = prefix.split(".")
        for label in labels:
            if not _LABEL.fullmatch(label):
                shown = label or "(empty)"
                return (
                    f"has an invalid prefix label {shown!r}: labels start with a letter, end with a "
                    "letter or digit and contain only letters, digits and hyphens"
                )
    if not _NAME.fullmatch(name):
        if "/" in name:
            return "has more than one '/' (only the prefix ends with '/')"
        return (
            f"has an invalid name {name!r}: a name starts and ends with a letter or digit and "
            "contains only letters, digits, '-', '_' and '.'"
        )
    return None


def meta_key_violations(meta: Any, revision: str | None = None) -> list[Violation]:
    """J13 violations among the keys of one `_meta` object. Paths are relative to the object
    ("/bad key"). Revisions before 2025-06-18 had no naming rule: nothing is reported for them.
    A `revision` mcpcheck does not know is checked by the 2025-06-18+ rule. Never raises."""
    try:
        rev = normalize(revision) if revision is not None else None
        if rev is not None and rev < R3:
            return []
        if not isinstance(meta, dict):
            return []
        out = []
        for key in meta:
            if not isinstance(key, str) or key in OTEL_META_KEYS:
                continue
            reason = key_problem(key)
            if reason:
                out.append(Violation(pointer([key]), f"_meta key {key!r} {reason}.", rev or revision, "J13"))
        return out
    except Exception:  # pragma: no cover - defensive: the public API never raises
        return []

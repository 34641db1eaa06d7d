"""JSON Pointer (RFC 6901) helpers and the canonical JSON text used as a cache key.

Every label this package hands out (where a mutation landed, where a payload was injected) is a
JSON Pointer into the *instance*, because that is what a report reader can look up in the
arguments that were sent. Internally paths are token tuples; ``WILDCARD`` stands for "any array
index" in a *pattern* (a constraint on ``items`` applies to every element).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence


class _Wildcard:
    """Singleton standing for "any array index" inside a path pattern."""

    _instance: "_Wildcard | None" = None

    def __new__(cls) -> "_Wildcard":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "*"

    def __reduce__(self) -> str:
        return "WILDCARD"


WILDCARD = _Wildcard()

Token = str | int | _Wildcard


def canonical_json(value: Any) -> str:
    """Stable text for a JSON value: sorted keys, no whitespace.

    Used as the cache key for built strategies (building one costs 0.3-0.8 s), so two dicts
    that differ only in key order share one entry.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def escape(token: Token) -> str:
    if token is WILDCARD:
        return "*"
    return str(token).replace("~", "~0").replace("/", "~1")


def to_pointer(tokens: Iterable[Token]) -> str:
    """("a", 0, "b/c") -> "/a/0/b~1c"; () -> "" (the whole document)."""
    return "".join("/" + escape(t) for t in tokens)


def from_pointer(pointer: str) -> tuple[str, ...]:
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/"))


def matches(pattern: Sequence[Token], concrete: Sequence[str | int]) -> bool:
    """Does a concrete instance path match a pattern (WILDCARD matches any int index)?"""
    if len(pattern) != len(concrete):
        return False
    for p, c in zip(pattern, concrete):
        if p is WILDCARD:
            if not isinstance(c, int) or isinstance(c, bool):
                return False
        elif p != c:
            return False
    return True


def get(document: Any, tokens: Sequence[str | int]) -> Any:
    """Value at a concrete path; KeyError/IndexError/TypeError if it is not there."""
    cur = document
    for t in tokens:
        if isinstance(cur, list):
            cur = cur[int(t)]
        elif isinstance(cur, dict):
            cur = cur[t]
        else:
            raise TypeError(f"cannot descend into {type(cur).__name__} with {t!r}")
    return cur


def resolve_schema_pointer(root: Any, fragment: str) -> Any:
    """Resolve a local "$ref" fragment ("/$defs/x", already without '#') in a schema."""
    cur = root
    for raw in from_pointer(fragment):
        if isinstance(cur, list):
            cur = cur[int(raw)]
        elif isinstance(cur, dict):
            cur = cur[raw]
        else:
            raise KeyError(fragment)
    return cur

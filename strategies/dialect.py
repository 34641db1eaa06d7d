"""Which JSON Schema dialect a tool's ``inputSchema`` is judged in, and the offline validator.

MCP 2025-11-25 made JSON Schema 2020-12 the default dialect for schemas without ``$schema``;
before that the spec was silent and draft-07 was the de-facto default (spec-digest T4). An
explicit ``$schema`` always wins. An unknown ``$schema`` is an error (the spec asks for a
graceful error on unsupported dialects) rather than jsonschema's silent fallback.

The validator is the *oracle* for every generated value, so it must be the real thing:
``jsonschema`` with our format checkers (formats.py) and a ``referencing`` registry that refuses
to retrieve anything. jsonschema's default registry still fetches remote ``$ref``s over the
network (with a DeprecationWarning); mcpcheck must never do that (spec-digest T5).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import NoSuchResource

from .errors import UnsupportedDialect
from .formats import format_checker
from .pointers import canonical_json

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DRAFT_07 = "http://json-schema.org/draft-07/schema"

# The first protocol revision whose default dialect is 2020-12.
FIRST_2020_12_REVISION = "2025-11-25"

_KNOWN: dict[str, type] = {
    "json-schema.org/draft-03/schema": jsonschema.Draft3Validator,
    "json-schema.org/draft-04/schema": jsonschema.Draft4Validator,
    "json-schema.org/draft-06/schema": jsonschema.Draft6Validator,
    "json-schema.org/draft-07/schema": jsonschema.Draft7Validator,
    "json-schema.org/draft/2019-09/schema": jsonschema.Draft201909Validator,
    "json-schema.org/draft/2020-12/schema": jsonschema.Draft202012Validator,
}

LEGACY_REF_DIALECTS = (
    jsonschema.Draft3Validator,
    jsonschema.Draft4Validator,
    jsonschema.Draft6Validator,
    jsonschema.Draft7Validator,
)


def _refuse(uri: str) -> Any:
    raise NoSuchResource(ref=uri)


# Offline: only the bundled meta-schemas resolve; every other remote URI is refused.
OFFLINE_REGISTRY: Registry = Registry(retrieve=_refuse)  # type: ignore[call-arg]


def default_dialect(revision: str | None) -> str:
    """Meta-schema URI used when a schema has no ``$schema``.

    ``None`` (unknown) and non-date revisions such as "draft" count as "newest": 2020-12.
    Revisions are ISO dates, so string comparison orders them.
    """
    if revision is None or not revision[:4].isdigit():
        return DRAFT_2020_12
    return DRAFT_2020_12 if revision >= FIRST_2020_12_REVISION else DRAFT_07


def _normalise(uri: str) -> str:
    uri = uri.strip().rstrip("#")
    for prefix in ("https://", "http://"):
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return uri


def validator_for(schema: Any, revision: str | None = None) -> type:
    """The jsonschema validator class for a tool schema (``$schema`` first, then the revision)."""
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    if declared is None:
        return _KNOWN[_normalise(default_dialect(revision))]
    if not isinstance(declared, str) or _normalise(declared) not in _KNOWN:
        raise UnsupportedDialect(f"unsupported JSON Schema dialect $schema={declared!r}")
    return _KNOWN[_normalise(declared)]


def is_legacy_dialect(cls: type) -> bool:
    """Draft <= 07: siblings of ``$ref`` are ignored and ``items`` may be a tuple."""
    return cls in LEGACY_REF_DIALECTS


@lru_cache(maxsize=1024)
def _cached_validator(text: str, cls_name: str, formats: bool) -> Any:
    cls = getattr(jsonschema, cls_name)
    checker = format_checker(cls.FORMAT_CHECKER) if formats else None
    return cls(json.loads(text), registry=OFFLINE_REGISTRY, format_checker=checker)


def make_validator(schema: Any, revision: str | None = None, *, formats: bool = True) -> Any:
    """A (cached) validator instance. ``formats=True`` asserts ``format`` (stricter, safer)."""
    cls = validator_for(schema, revision)
    return _cached_validator(canonical_json(schema), cls.__name__, formats)


def errors(schema: Any, instance: Any, revision: str | None = None, *, formats: bool = True) -> list[ValidationError]:
    """All validation errors, deepest-first within each error's ``context``.

    Raises if the schema itself cannot be evaluated (an unresolvable ``$ref``, a regex Python
    cannot compile): an oracle that cannot decide must not pretend.
    """
    return list(make_validator(schema, revision, formats=formats).iter_errors(instance))


def is_valid(schema: Any, instance: Any, revision: str | None = None, *, formats: bool = True) -> bool:
    """True iff ``instance`` is valid. A schema we cannot evaluate yields False (cannot vouch)."""
    try:
        return bool(make_validator(schema, revision, formats=formats).is_valid(instance))
    except Exception:  # noqa: BLE001 - unresolvable $ref, bad regex, RecursionError: not provably valid
        return False


def verdict(schema: Any, instance: Any, revision: str | None = None, *, formats: bool = True) -> bool | None:
    """Tri-state check used by the oracles: True valid, False invalid, None undecidable."""
    try:
        return bool(make_validator(schema, revision, formats=formats).is_valid(instance))
    except Exception:  # noqa: BLE001
        return None


__all__ = [
    "DRAFT_07",
    "DRAFT_2020_12",
    "OFFLINE_REGISTRY",
    "ValidationError",
    "default_dialect",
    "errors",
    "is_legacy_dialect",
    "is_valid",
    "make_validator",
    "validator_for",
    "verdict",
]

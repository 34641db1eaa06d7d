"""`Violation`: one thing a server sent that the spec does not allow, and the conversion from
pydantic validation errors to violations (JSON-pointer path + one human sentence)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from pydantic import ValidationError

Level = Literal["MUST", "SHOULD"]

#: Prefix of the tags of our callable discriminators; such loc entries are not JSON keys.
TAG = "\x00"


@dataclass(frozen=True)
class Violation:
    """`path` is a JSON pointer (RFC 6901) relative to the validated object ("" = the object
    itself), `rule` a spec-digest rule id when one applies. `level` "MUST" is a validation
    failure; "SHOULD" marks advisories, which only the `*_advisories` functions return."""

    path: str
    message: str
    revision: str | None
    rule: str | None = None
    level: Level = "MUST"

    def __str__(self) -> str:
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.path or '/'}: {self.message}{rule}"


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer for `parts` ("" for no parts)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _pretty(parts: list[str | int], root: str) -> str:
    out = root
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.isidentifier() or p.replace("$", "").isidentifier():
            out += f".{p}" if out else p
        else:
            out += f"[{json.dumps(p)}]"
    return out or root


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe_value(value: Any, limit: int = 40) -> str:
    kind = _json_kind(value)
    if kind in ("object", "array", "null"):
        return kind
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{kind} {text}"


_TYPE_WORDS = {
    "string_type": "a string",
    "elicit_params_type": "an object",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _problem(err: dict[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "is required but missing"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, got {describe_value(value)}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, got {describe_value(value)}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx.get('ge')}, got {describe_value(value)}"
    if kind == "less_than_equal":
        return f"must be <= {ctx.get('le')}, got {describe_value(value)}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
    msg = str(err.get("msg") or kind)
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg


def from_validation_error(
    exc: ValidationError,
    revision: str | None,
    *,
    root: str = "result",
    prefix: tuple[str | int, ...] = (),
    rule_for=None,
) -> list[Violation]:
    """One Violation per pydantic error. `rule_for(parts)` attributes a rule id."""
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        parts = [*prefix, *(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(TAG)))]
        path = pointer(parts)
        message = f"{_pretty(parts, root)} {_problem(err)}."
        if (path, message) in seen:
            continue
        seen.add((path, message))
        out.append(Violation(path, message, revision, rule_for(parts) if rule_for else None))
    return out

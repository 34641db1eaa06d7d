"""Scalar wire types with JSON (not Python) semantics.

- `RequestId`: a JSON string or integer; never null, a boolean or a float (J2, J4). `1.0` is
  refused although JSON Schema's "integer" accepts it: ids are echoed and compared, and the
  brief for mcpcheck asks for integer literals here and for `error.code`.
- `JsonInt`: JSON Schema "integer": an int, or a float with no fractional part (`300000.0`);
  never a boolean or a numeric string. Used for payload integers (ttlMs, size, total, ...).
- `JsonNumber`: int or float, never a boolean or a string.
- `Base64`: a string that decodes as RFC 4648 base64 (standard alphabet, padded; ASCII
  whitespace such as MIME line breaks is tolerated). The schemas mark `data`/`blob` with
  `format: byte`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, StrictBool, StrictStr
from pydantic_core import PydanticCustomError

from .violations import describe_value

__all__ = [
    "Base64",
    "JsonInt",
    "JsonNumber",
    "LoggingLevel",
    "NonNegativeInt",
    "ProgressToken",
    "RequestId",
    "Role",
    "StrictBool",
    "StrictStr",
    "UNSET",
    "UnitInterval",
    "is_base64",
    "is_request_id",
]

#: Default for optional fields. The annotation stays non-optional on purpose: an omitted field
#: is fine, an explicit JSON `null` is validated against the annotation and refused, as the
#: spec schemas do (`description?: string` does not allow null).
UNSET: Any = None


def is_request_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _request_id(value: Any) -> Any:
    if is_request_id(value):
        return value
    raise PydanticCustomError(
        "request_id", "must be a string or an integer, got {got}", {"got": _kind(value)}
    )


def _kind(value: Any) -> str:
    return describe_value(value)


def _json_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise PydanticCustomError("int_type", "Input should be a valid integer")


def _non_negative_int(value: Any) -> int:
    number = _json_int(value)
    if number < 0:
        raise PydanticCustomError("greater_than_equal", "Input should be >= 0", {"ge": 0})
    return number


def _json_number(value: Any) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("float_type", "Input should be a valid number")


def _unit_interval(value: Any) -> float | int:
    number = _json_number(value)
    if number < 0:
        raise PydanticCustomError("greater_than_equal", "Input should be >= 0", {"ge": 0})
    if number > 1:
        raise PydanticCustomError("less_than_equal", "Input should be <= 1", {"le": 1})
    return number


_B64_ALPHABET = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_WHITESPACE = re.compile(r"[ \t\r\n]+")


def is_base64(value: object) -> bool:
    """RFC 4648 base64 (standard alphabet, correct padding); ASCII whitespace is ignored."""
    if not isinstance(value, str):
        return False
    compact = _WHITESPACE.sub("", value)
    if len(compact) % 4 or not _B64_ALPHABET.fullmatch(compact):
        return False
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _base64(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if not is_base64(value):
        raise PydanticCustomError(
            "base64", "must be base64-encoded (RFC 4648), got {got}", {"got": _kind(value)}
        )
    return value


RequestId = Annotated[Any, PlainValidator(_request_id)]
ProgressToken = RequestId
JsonInt = Annotated[int, PlainValidator(_json_int)]
NonNegativeInt = Annotated[int, PlainValidator(_non_negative_int)]
JsonNumber = Annotated[float, PlainValidator(_json_number)]
UnitInterval = Annotated[float, PlainValidator(_unit_interval)]
Base64 = Annotated[str, PlainValidator(_base64)]

Role = Literal["user", "assistant"]
LoggingLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

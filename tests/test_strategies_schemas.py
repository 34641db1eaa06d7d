"""Realistic tool schemas shared by the tests/test_strategies_*.py files (plus sanity checks).

Imported by the sibling test modules as ``test_strategies_schemas`` (pytest puts tests/ on
sys.path in its default import mode).
"""

from __future__ import annotations

import datetime
import enum
from typing import Literal, Optional

import jsonschema
import pytest
from pydantic import BaseModel, Field


class Priority(str, enum.Enum):
    low = "low"
    normal = "normal"
    high = "high"


class Contact(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    email: Optional[str] = Field(default=None, pattern=r"^[a-z0-9.]+@[a-z0-9]+\.[a-z]{2,}$")


class CreateTicket(BaseModel):
    """What a FastMCP/MCPServer tool with these parameters publishes as inputSchema."""

    title: str = Field(max_length=80, description="Short summary")
    count: int = Field(ge=0, le=10)
    priority: Priority = Priority.normal
    contact: Contact
    tags: list[list[str]] = Field(default_factory=list, max_length=5)
    due: Optional[datetime.datetime] = None
    ratio: Optional[float] = Field(default=None, gt=0, lt=1)
    mode: Literal["fast", "safe"] = "safe"


# pydantic output: $defs/$ref, anyOf-null optionals, enum, pattern, list[list[str]], date-time
PYDANTIC = CreateTicket.model_json_schema()

# hand-written 2020-12: prefixItems, unevaluatedProperties, dependentRequired, recursive $ref
HAND_2020 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "items": False, "minItems": 2},
        "tree": {"$ref": "#/$defs/node"},
        "id": {"type": "string", "format": "uuid"},
        "unit": {"enum": ["m", "km"]},
        "scale": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
    "required": ["point", "tree"],
    "dependentRequired": {"unit": ["scale"]},
    "unevaluatedProperties": False,
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "maxLength": 12},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 3},
            },
            "required": ["label"],
            "additionalProperties": False,
        }
    },
}

# draft-07 with $schema and definitions; "$ref" siblings are ignored in this dialect
DRAFT7 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "definitions": {
        "count": {"type": "integer", "minimum": 1, "maximum": 100},
        "path": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "properties": {
        "path": {"$ref": "#/definitions/path"},
        "limit": {"$ref": "#/definitions/count"},
        "recursive": {"type": "boolean"},
        "exclude": {"type": "array", "items": {"$ref": "#/definitions/path"}, "uniqueItems": True},
    },
    "required": ["path"],
    "additionalProperties": False,
}

EMPTY = {"type": "object"}

# server-everything "echo" and a "get-sum"-style tool
ECHO = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "Message to echo"}},
    "required": ["message"],
}
GET_SUM = {
    "type": "object",
    "properties": {
        "a": {"type": "number", "description": "First number"},
        "b": {"type": "number", "description": "Second number"},
    },
    "required": ["a", "b"],
}

# one of each breakable constraint, for label checks
BOUNDED = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "s": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "color": {"enum": ["red", "green"]},
        "k": {"const": "v"},
        "when": {"type": "string", "format": "date"},
        "xs": {"type": "array", "items": {"type": "integer", "multipleOf": 3}, "minItems": 1, "maxItems": 4},
        "url": {"type": "string", "format": "uri"},
    },
    "required": ["n"],
    "additionalProperties": False,
}

ALL = {
    "pydantic": PYDANTIC,
    "hand_2020": HAND_2020,
    "draft7": DRAFT7,
    "empty": EMPTY,
    "echo": ECHO,
    "get_sum": GET_SUM,
    "bounded": BOUNDED,
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_schema_is_valid_in_its_dialect(name: str) -> None:
    schema = ALL[name]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)


def test_pydantic_schema_has_the_features_the_tests_rely_on() -> None:
    text = str(PYDANTIC)
    assert "$defs" in PYDANTIC and "$ref" in text and "anyOf" in text and "date-time" in text
    assert PYDANTIC["properties"]["tags"]["items"]["type"] == "array"

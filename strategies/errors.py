"""Exceptions: a schema we refuse to generate for says *why*, so reports never skip silently."""

from __future__ import annotations


class UnsupportedSchema(ValueError):
    """No strategy can be built for this schema (the message says why)."""


class UnsupportedDialect(UnsupportedSchema):
    """``$schema`` names a dialect the validator does not know (spec: error gracefully)."""


class UnresolvableRef(UnsupportedSchema):
    """A ``$ref`` that is remote (never fetched: offline by design) or points nowhere."""

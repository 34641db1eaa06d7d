"""Cross-check against the official SDK's wire types (`mcp_types`), never our verdict.

`mcp_types.methods.validate_server_result(method, version, data)` validates per *era* (every
handshake revision against the 2025-11-25 types), ignores unknown fields and coerces some
types, so it is more lenient than mcpcheck's models. It is useful to spot disagreements in
tests and debugging. `mcp` is only a test dependency: the import is lazy and its absence is
reported as `None`.
"""

from __future__ import annotations

from typing import Any


def sdk_result_problems(method: str, revision: str, result: Any) -> list[str] | None:
    """Problems the SDK finds in `result`: [] when it accepts it, a list of "loc: message"
    strings when it rejects it, None when mcp_types is missing or does not know
    (method, revision). Never raises."""
    try:
        from mcp_types import methods
    except Exception:
        return None
    try:
        methods.validate_server_result(method, revision, result)
    except KeyError:
        return None  # (method, revision) unknown to the SDK
    except Exception as exc:  # pydantic.ValidationError or a TypeError on non-mapping data
        errors = getattr(exc, "errors", None)
        if callable(errors):
            try:
                return [f"{'/'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors()]
            except Exception:
                pass
        return [str(exc) or type(exc).__name__]
    return []

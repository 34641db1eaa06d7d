"""Which tools mcpcheck may call. Safety by default: never a tool annotated destructive (or listed
as dangerous in the config) unless the user opted in with `allow_destructive`."""

from __future__ import annotations

from typing import Any

from .config import Safety


def may_call(tool: dict[str, Any], safety: Safety) -> str | None:
    """None if the tool may be called, else the reason it may not."""
    name = tool.get("name")
    if not isinstance(name, str):
        return "the tool has no name"
    if name in safety.dangerous_tools:
        return f"{name} is listed in dangerous_tools"
    if safety.only_tools is not None and name not in safety.only_tools:
        return f"{name} is not in only_tools"
    ann = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    if ann.get("destructiveHint") is True and ann.get("readOnlyHint") is not True and not safety.allow_destructive:
        return f"{name} is annotated destructiveHint (use --allow-destructive to call it)"
    return None

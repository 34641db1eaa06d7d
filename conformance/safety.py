"""Which tools mcpcheck may call.

Safety by default: never a tool annotated `destructiveHint: true`, or one whose name or
description says it deletes/destroys things, or one listed in `dangerous_tools`, unless the user
opted in (`--allow-destructive`, or the tool is in `allow_tools`). Every skipped tool is reported
with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from .config import Safety

DESTRUCTIVE_WORDS = re.compile(
    r"(?:^|[\s_\-./])(delete|deletes|deleting|remove|removes|erase|erases|destroy|destroys|wipe|wipes|"
    r"drop|drops|truncate|truncates|purge|purges|kill|kills|terminate|terminates|shutdown|"
    r"overwrite|overwrites|uninstall|format|reset)(?=$|[\s_\-./,;:])",
    re.IGNORECASE,
)


def looks_destructive(tool: dict[str, Any]) -> str | None:
    """The word that makes the tool look destructive, from its name or first sentence."""
    name = str(tool.get("name") or "")
    if m := DESTRUCTIVE_WORDS.search(name):
        return m.group(1)
    desc = str(tool.get("description") or "").split(".")[0]
    if m := DESTRUCTIVE_WORDS.search(desc):
        return m.group(1)
    return None


def may_call(tool: dict[str, Any], safety: Safety) -> str | None:
    """None if the tool may be called, else the reason it may not."""
    name = tool.get("name")
    if not isinstance(name, str):
        return "the tool has no name"
    if name in safety.dangerous_tools:
        return f"{name} is listed in dangerous_tools"
    if safety.only_tools is not None and name not in safety.only_tools:
        return f"{name} is not in only_tools"
    if safety.allow_destructive or name in safety.allow_tools:
        return None
    ann = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    if ann.get("readOnlyHint") is True:
        return None
    if ann.get("destructiveHint") is True:
        return f"{name} is annotated destructiveHint (opt in with --allow-destructive or allow_tools)"
    if ann.get("destructiveHint") is not False and (word := looks_destructive(tool)):
        return f"{name} looks destructive ('{word}' in its name or description; opt in with --allow-destructive or allow_tools)"
    return None

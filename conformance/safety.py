"""Which tools mcpcheck may call, and what it tells the user before calling them.

Safety by default: never a tool annotated `destructiveHint: true`, or one whose name or first
sentence says it destroys data, rewrites history, stops processes or acts on the outside world
(`DESTRUCTIVE_WORDS`), or one listed in `dangerous_tools`, unless the user opted in
(`--allow-destructive`, or the tool is in `allow_tools`). With `--read-only` (`read_only`), only
tools annotated `readOnlyHint: true` are called, whatever else is allowed: for targets that hold
real data. Every skipped tool is reported with the reason; `plan` lists, before a run, the
tools that will be called although they can change state (no readOnlyHint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .config import Safety

# Words a security engineer reads as "this call can do damage that a test must not risk":
#   destroys data:         delete remove rm rmdir unlink erase destroy wipe drop truncate purge
#                          overwrite format uninstall revoke clear
#   rewrites history:      reset revert rebase checkout commit push merge (git and the like)
#   stops things:          kill terminate shutdown reboot restart stop
#   acts on the world:     send publish deploy transfer pay charge refund (`send_email`, `publish_post`)
# (a tool that only creates or edits is state-changing, not destructive: `plan` names it, and
# `--read-only` leaves it out)
DESTRUCTIVE_WORDS = re.compile(
    r"(?:^|[\s_\-./:])("
    r"delete|deletes|deleting|remove|removes|rm|rmdir|unlink|erase|erases|destroy|destroys|wipe|wipes|"
    r"drop|drops|truncate|truncates|purge|purges|overwrite|overwrites|format|uninstall|revoke|revokes|clear|"
    r"reset|revert|reverts|rebase|checkout|commit|commits|push|pushes|merge|merges|"
    r"kill|kills|terminate|terminates|shutdown|reboot|restart|stop|"
    r"send|sends|publish|publishes|deploy|deploys|transfer|transfers|pay|charge|refund"
    r")(?=$|[\s_\-./,;:])",
    re.IGNORECASE,
)


def _words(text: str) -> str:
    """camelCase and PascalCase split into words (`deleteItem` -> `delete Item`), so names in any
    style meet the word boundaries of DESTRUCTIVE_WORDS."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)


def looks_destructive(tool: dict[str, Any]) -> str | None:
    """The word that makes the tool look destructive, from its name or first sentence."""
    name = str(tool.get("name") or "")
    if m := DESTRUCTIVE_WORDS.search(_words(name)):
        return m.group(1).lower()
    desc = str(tool.get("description") or "").split(".")[0]
    if m := DESTRUCTIVE_WORDS.search(_words(desc)):
        return m.group(1).lower()
    return None


def _annotations(tool: dict[str, Any]) -> dict[str, Any]:
    return tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}


def is_read_only(tool: dict[str, Any]) -> bool:
    return _annotations(tool).get("readOnlyHint") is True


def may_call(tool: dict[str, Any], safety: Safety) -> str | None:
    """None if the tool may be called, else the reason it may not."""
    name = tool.get("name")
    if not isinstance(name, str):
        return "the tool has no name"
    if name in safety.dangerous_tools:
        return f"{name} is listed in dangerous_tools"
    if safety.only_tools is not None and name not in safety.only_tools:
        return f"{name} is not in only_tools"
    if getattr(safety, "read_only", False) and not is_read_only(tool):
        return f"{name} is not annotated readOnlyHint (--read-only calls only read-only tools)"
    if safety.allow_destructive or name in safety.allow_tools:
        return None
    ann = _annotations(tool)
    if ann.get("readOnlyHint") is True:
        return None
    if ann.get("destructiveHint") is True:
        return f"{name} is annotated destructiveHint (opt in with --allow-destructive or allow_tools)"
    if ann.get("destructiveHint") is not False and (word := looks_destructive(tool)):
        return f"{name} looks destructive ('{word}' in its name or description; opt in with --allow-destructive or allow_tools)"
    return None


@dataclass
class Plan:
    """What a run will do with a target's tools."""

    read_only: list[str] = field(default_factory=list)  # annotated readOnlyHint, will be called
    state_changing: list[str] = field(default_factory=list)  # no readOnlyHint, will be called
    skipped: dict[str, str] = field(default_factory=dict)  # not called: why

    def lines(self, where: str) -> list[str]:
        """The announcement printed before the run (and kept in the report's notes)."""
        out = []
        if self.state_changing:
            out.append(
                f"safety: will call {len(self.state_changing)} tool(s) that can change state (no readOnlyHint) on {where}: "
                + ", ".join(self.state_changing) + " (--read-only calls only readOnlyHint tools)"
            )
        out += [f"safety: not calling {name}: {why}" for name, why in self.skipped.items()]
        return out


def callable_tools(tools: list[Any], safety: Safety) -> list[dict[str, Any]]:
    """The listed tools mcpcheck may call (may_call), read-only ones first (a probe that needs
    one call takes the first: the least likely to change anything)."""
    ok = [t for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str) and may_call(t, safety) is None]
    return sorted(ok, key=lambda t: not is_read_only(t))


def plan(tools: list[dict[str, Any]], safety: Safety) -> Plan:
    p = Plan()
    for tool in tools:
        name = tool.get("name")
        why = may_call(tool, safety)
        if why is not None:
            p.skipped[str(name)] = why
        elif is_read_only(tool):
            p.read_only.append(str(name))
        else:
            p.state_changing.append(str(name))
    return p

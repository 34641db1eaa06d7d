"""Replay corpus/ entries: each stored minimal failure is run again and judged again.

A tool-call entry is called again with its stored arguments; a `stateful` entry's steps run again,
in order, on a freshly started server (stateful.replay_sequence); an `envelope` entry's raw line is
sent again (envelope_fuzz.replay_envelope); an `injected` entry is re-judged by the security oracle
that found it. A failure that still reproduces is a finding again (same check, same evidence shape);
one that no longer does is reported as fixed in the target's notes. Nothing new is generated.

Replay follows the target's safety policy like every other campaign (safety.may_call): an entry
that would call a tool the policy forbids (--read-only: any tool not annotated readOnlyHint; a
destructive tool without --allow-destructive; only_tools / dangerous_tools) is not replayed, with
a note naming the entry and the reason.
"""

from __future__ import annotations

import binascii
import json
import os
from pathlib import Path
from typing import Any

from ..checks import tools as TC
from ..connect import detect, list_tools, open_session
from ..corpus import CorpusEntry, at_start, envelope_message, load_entries
from ..findings import CheckSpec, Severity, Violation
from ..registry import REGISTRY
from ..results import TargetResult
from ..safety import may_call
from .context import CampaignContext
from .engine import call_of, grouped, judge_call
from .envelope_fuzz import replay_envelope
from .security import replay_injected
from .stateful import replay_sequence, step_tools

CORPUS_DIR = "corpus"


async def run_replay(ctx: CampaignContext, result: TargetResult) -> None:
    root = getattr(ctx, "corpus_dir", None) or os.environ.get("MCPCHECK_CORPUS") or CORPUS_DIR
    entries = at_start(root, load_entries(root, ctx.target.name))  # not what this run's other --jobs units just saved
    if not entries:
        ctx.notes.append(f"replay: no corpus entries for target {ctx.target.name!r}")
        return
    probe, session = await detect(ctx.target)
    eras = probe.eras()
    ctx.revision, ctx.session = eras[0], session
    tools = {t.get("name"): t for t in await list_tools(session)}
    try:
        for path, entry in entries:
            if REGISTRY.get(entry.check) is None:
                ctx.notes.append(f"replay: {path.name}: unknown check {entry.check!r}")
                continue
            await _replay_entry(ctx, path, entry, tools, eras)
    finally:
        await ctx.s.close()


def entry_tools(entry: CorpusEntry) -> set[str]:
    """The tools replaying an entry would call: a stateful entry's steps, a tool-call entry's
    tool (and a fuzz.read_only entry's observer), the tools/call an envelope line carries."""
    if entry.mode == "stateful":
        steps = entry.arguments.get("steps") if isinstance(entry.arguments, dict) else None
        return step_tools(steps) if isinstance(steps, list) else set()
    if entry.mode == "envelope":
        try:
            msg = json.loads(envelope_message(entry.arguments)) if isinstance(entry.arguments, dict) else None
        except (ValueError, UnicodeDecodeError, binascii.Error, KeyError):
            return set()
        msgs = msg if isinstance(msg, list) else [msg]
        return {str(m["params"].get("name")) for m in msgs if isinstance(m, dict) and m.get("method") == "tools/call" and isinstance(m.get("params"), dict)}
    observer = (entry.oracle or {}).get("observer")
    return {entry.tool} | ({observer} if isinstance(observer, str) else set())


def refused(ctx: CampaignContext, entry: CorpusEntry, tools: dict) -> str | None:
    """Why the target's safety policy (--read-only, destructive tools, only/dangerous_tools: the
    one every campaign follows, safety.may_call) forbids replaying the entry, else None."""
    for name in sorted(entry_tools(entry)):
        why = may_call(tools.get(name) or {"name": name}, ctx.target.safety)
        if why is not None:
            return why
    return None


async def _replay_entry(ctx: CampaignContext, path: Path, entry: CorpusEntry, tools: dict, eras: list[str]) -> None:
    why = refused(ctx, entry, tools)
    if why is not None:
        ctx.notes.append(f"replay: {path.name}: not replayed: {why}")
        return
    # the era the entry was found in when the server still speaks it (stateful, envelope), else the newest
    era = entry.revision if entry.mode in ("stateful", "envelope") and entry.revision in eras else eras[0]
    if entry.mode == "stateful":
        steps = entry.arguments.get("steps") if isinstance(entry.arguments, dict) else None
        if not isinstance(steps, list):
            ctx.notes.append(f"replay: {path.name}: a stateful entry without a list of steps; nothing to replay")
            return
        missing = sorted(step_tools(steps) - set(tools)) if tools else []
        if missing:
            ctx.notes.append(f"replay: {path.name}: tool(s) {', '.join(map(repr, missing))} not offered by this server; nothing to replay")
            return
        await _session_in(ctx, era, fresh=True)  # the sequence built its state from a clean start
        _verdict(ctx, path, await replay_sequence(ctx, path.name, steps, tools), {"steps": steps})
        return
    await _session_in(ctx, era)  # every entry gets a live server (an earlier one may have killed it)
    if entry.mode == "envelope":
        _verdict(ctx, path, await replay_envelope(ctx, entry))
        return
    if tools and entry.tool not in tools:
        ctx.notes.append(f"replay: {path.name}: tool {entry.tool!r} is not offered by this server; nothing to replay")
        return
    if entry.mode == "injected":  # security hits: re-judged by the oracle that found them
        spec, violations = await replay_injected(ctx, entry)
        _verdict(ctx, path, [(spec, violations)], count_info=True)
        return
    _verdict(ctx, path, await replay_call(ctx, path.name, entry, tools))


async def _session_in(ctx: CampaignContext, era: str, *, fresh: bool = False) -> None:
    """Make ctx.s a live session speaking `era` (a new server process when `fresh`)."""
    if fresh or not ctx.s.alive or ctx.revision != era:
        await ctx.s.close()
        ctx.revision = era
        ctx.session = await open_session(ctx.target, era or "")


def _verdict(ctx: CampaignContext, path: Path, pairs: list[tuple[CheckSpec, list[Violation]]], input: Any = None, count_info: bool = False) -> None:
    """Record every (check, violations) pair, details prefixed `[replay FILE]`, and note the verdict:
    STILL FAILING when any violation above info came back, else fixed."""
    failing = False
    for spec, found in pairs:
        for v in found:
            v.detail = f"[replay {path.name}] {v.detail}"
            if input is not None:
                v.input = input
        ctx.record(spec, found)
        failing = failing or any(count_info or (v.severity or spec.severity) > Severity.info for v in found)
    ctx.notes.append(f"replay: {path.name}: {'STILL FAILING' if failing else 'fixed'}")


async def replay_call(ctx: CampaignContext, name: str, entry: CorpusEntry, tools: dict) -> list[tuple[CheckSpec, list[Violation]]]:
    """Call the entry's tool with its stored arguments once (twice for fuzz.idempotent) and judge
    the answer with every `tool_call` check of the registry, each under its own check.
    A fuzz.read_only entry also calls its observer (read-only tool) before and after."""
    oracle = entry.oracle or {}
    if entry.check == TC.read_only.id and isinstance(oracle.get("observer"), str):
        observer, o_args = oracle["observer"], oracle.get("observer_arguments")
        before = await ctx.s.request("tools/call", {"name": observer, "arguments": o_args})
        ex = await ctx.s.request("tools/call", {"name": entry.tool, "arguments": entry.arguments})
        found = ctx.judge_call(call_of(ctx, tools, entry.tool, entry.arguments, ex, "valid"))
        after = await ctx.s.request("tools/call", {"name": observer, "arguments": o_args})
        if before.answered and after.answered:
            found += ctx.judge_call(call_of(ctx, tools, entry.tool, entry.arguments, ex, "observed", observer=observer, observer_arguments=o_args, before=before, after=after))
        return grouped(found)
    return await judge_call(ctx, name, entry.tool, entry.arguments, tools, mode=entry.mode, constraint=entry.constraint, twice=entry.check == TC.idempotent.id)



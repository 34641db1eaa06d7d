"""Replay corpus/ entries: each stored minimal failure is called again and judged again.

A failure that still reproduces is a finding again (same check, same evidence shape); one that
no longer does is reported as fixed in the target's notes. Nothing new is generated.
"""

from __future__ import annotations

import os

from ..checks import jsonrpc as J
from ..checks import tools as TC
from ..connect import detect, open_session
from ..corpus import CorpusEntry, load_entries
from ..findings import REGISTRY, CheckSpec, Severity, Violation, run_check
from ..report.model import TargetResult
from .context import CampaignContext

CORPUS_DIR = "corpus"


async def run_replay(ctx: CampaignContext, result: TargetResult) -> None:
    entries = load_entries(getattr(ctx, "corpus_dir", None) or os.environ.get("MCPCHECK_CORPUS") or CORPUS_DIR, ctx.target.name)
    if not entries:
        ctx.notes.append(f"replay: no corpus entries for target {ctx.target.name!r}")
        return
    probe, session = await detect(ctx.target)
    ctx.revision, ctx.session = probe.eras()[0], session
    tools = {}
    ex = await session.request("tools/list", {})
    if ex.ok and isinstance(ex.result, dict):
        tools = {t.get("name"): t for t in ex.result.get("tools") or [] if isinstance(t, dict)}
    try:
        for path, entry in entries:
            spec = REGISTRY.get(entry.check)
            if spec is None:
                ctx.notes.append(f"replay: {path.name}: unknown check {entry.check!r}")
                continue
            if not ctx.s.alive:  # an earlier entry killed the server: every entry gets a live one
                ctx.session = await open_session(ctx.target, ctx.revision or "")
            if entry.mode == "stateful":
                ctx.notes.append(f"replay: {path.name}: a stateful sequence; replayed by the stateful campaign, not here")
                continue
            if tools and entry.tool not in tools:
                ctx.notes.append(f"replay: {path.name}: tool {entry.tool!r} is not offered by this server; nothing to replay")
                continue
            if entry.mode == "injected":  # security hits: re-judged by the oracle that found them
                from .security import replay_injected

                spec, violations = await replay_injected(ctx, entry)
                for v in violations:
                    v.detail = f"[replay {path.name}] {v.detail}"
                ctx.record(spec, violations)
                ctx.notes.append(f"replay: {path.name}: {'STILL FAILING' if violations else 'fixed'}")
                continue
            violations = []
            for spec, found in await replay_call(ctx, path.name, entry, tools):
                for v in found:
                    v.detail = f"[replay {path.name}] {v.detail}"
                ctx.record(spec, found)
                violations += [v for v in found if (v.severity or spec.severity) > Severity.info]
            ctx.notes.append(f"replay: {path.name}: {'STILL FAILING' if violations else 'fixed'}")
    finally:
        await ctx.s.close()


async def replay_call(ctx: CampaignContext, name: str, entry: CorpusEntry, tools: dict) -> list[tuple[CheckSpec, list[Violation]]]:
    """Call the entry's tool with its stored arguments once (twice for fuzz.idempotent) and judge
    the answer with every per-call check the fuzz campaign applies, each under its own check."""
    args = entry.arguments
    ex = await ctx.s.request("tools/call", {"name": entry.tool, "arguments": args})
    if ex.transport_error or not ctx.s.alive:
        why = ctx.s.transport.closed_reason or ex.transport_error
        return [(TC.FUZZ_NO_CRASH, [Violation(f"replaying {name} killed the server: {why}", ex.evidence(), tool=entry.tool, input=args, key=f"{entry.tool}/crash")])]
    if ex.timed_out:
        return [(TC.FUZZ_NO_HANG, [Violation(f"replaying {name}: no answer within {ctx.target.timeout:g}s", ex.evidence(), tool=entry.tool, input=args, key=f"{entry.tool}/hang")])]
    pairs: list[tuple[CheckSpec, list[Violation]]] = []
    if entry.mode == "invalid":
        pairs.append((TC.INVALID_REJECTED, run_check(TC.check_invalid_rejected, ex, entry.tool, args, entry.constraint or "?", "", False)))
    else:
        out = (tools.get(entry.tool) or {}).get("outputSchema")
        pairs.append((TC.VALID_ACCEPTED, run_check(TC.check_valid_accepted, ex, entry.tool, args)))
        pairs.append((TC.OUTPUT_CONFORMS, run_check(TC.check_structured_output, ex, entry.tool, out, ctx.revision, args)))
    if ctx.target.transport == "stdio" and ex.request_entry is not None:
        log = ctx.s.wirelog
        end = ex.response_entry.seq if ex.response_entry is not None else len(log.entries) - 1
        lines = [e for e in log.entries[ex.request_entry.seq + 1 : end + 1] if e.channel == "stdout"]
        junk = run_check(J.check_stdout_lines, lines)
        pairs.append((TC.FUZZ_STDOUT, [Violation(f"tools/call {entry.tool!r} polluted stdout: {v.detail}", [ex.request_entry, *v.evidence], tool=entry.tool, input=args, key=f"{entry.tool}/stdout") for v in junk]))
    pairs.append((TC.NO_LEAK, run_check(TC.check_no_leak, ex, entry.tool, args, [])))
    if entry.check == TC.IDEMPOTENT.id:
        again = await ctx.s.request("tools/call", {"name": entry.tool, "arguments": args})
        if again.answered:
            pairs.append((TC.IDEMPOTENT, run_check(TC.check_idempotent, ex, again, entry.tool, args)))
    return pairs

"""Replay corpus/ entries: each stored minimal failure is called again and judged again.

A failure that still reproduces is a finding again (same check, same evidence shape); one that
no longer does is reported as fixed in the target's notes. Nothing new is generated.
"""

from __future__ import annotations

from ..checks import tools as TC
from ..connect import detect
from ..corpus import load_entries
from ..findings import REGISTRY, Violation, run_check
from ..report.model import TargetResult
from .context import CampaignContext

CORPUS_DIR = "corpus"


async def run_replay(ctx: CampaignContext, result: TargetResult) -> None:
    entries = load_entries(getattr(ctx, "corpus_dir", CORPUS_DIR), ctx.target.name)
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
            ex = await ctx.s.request("tools/call", {"name": entry.tool, "arguments": entry.arguments})
            if ex.transport_error or not ctx.s.alive:
                violations = [Violation(f"replaying {path.name} killed the server", ex.evidence(), tool=entry.tool, input=entry.arguments)]
                spec = TC.FUZZ_NO_CRASH
            elif ex.timed_out:
                violations = [Violation(f"replaying {path.name}: no answer within the timeout", ex.evidence(), tool=entry.tool, input=entry.arguments)]
                spec = TC.FUZZ_NO_HANG
            elif entry.mode == "invalid":
                violations = run_check(TC.check_invalid_rejected, ex, entry.tool, entry.arguments, entry.constraint or "?", "", False)
            else:
                out = (tools.get(entry.tool) or {}).get("outputSchema")
                violations = run_check(TC.check_valid_accepted, ex, entry.tool, entry.arguments)
                violations += run_check(TC.check_structured_output, ex, entry.tool, out, ctx.revision, entry.arguments)
            for v in violations:
                v.detail = f"[replay {path.name}] {v.detail}"
            ctx.record(spec, violations)
            ctx.notes.append(f"replay: {path.name}: {'STILL FAILING' if violations else 'fixed'}")
    finally:
        await ctx.s.close()

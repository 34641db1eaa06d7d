"""Run campaigns against targets and assemble the canonical report.

I/O lives in the campaigns; this module only sequences them, catches a target that cannot be
reached (exit code 2 with one clear line), and derives the report and the exit code.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .campaigns.context import CampaignContext
from .config import Target
from .findings import Finding, Severity
from .registry import REGISTRY
from .report.model import CheckResult, CorpusRef, RunReport, TargetResult, ToolConstraints, split, summarize
from .session import RECORDING, Session
from .sharding import WHOLE_TARGET, unit_name
from .sharding import note as shard_note
from .transport.base import TransportError

CampaignFn = Callable[[CampaignContext, TargetResult], Awaitable[None]]


def campaigns() -> dict[str, CampaignFn]:
    """Campaigns by name (imported lazily so `mcpcheck list-checks` stays fast)."""
    from .campaigns.conformance import run_conformance
    from .campaigns.envelope_fuzz import run_envelope
    from .campaigns.fuzz import run_fuzz
    from .campaigns.http_security import run_http_security
    from .campaigns.replay import run_replay
    from .campaigns.security import run_security
    from .campaigns.stateful import run_stateful

    return {"conformance": run_conformance, "fuzz": run_fuzz, "stateful": run_stateful, "replay": run_replay, "envelope": run_envelope, "security": run_security, "http-security": run_http_security}


def load_all_checks() -> None:
    """Import every module that registers checks, so REGISTRY is complete."""
    from .campaigns import conformance, envelope_fuzz, fuzz, http_rules, security, stateful  # noqa: F401
    from .campaigns import http_security  # noqa: F401
    from .load import checks as _load_checks  # noqa: F401
    from .workflow import campaign as _workflow_checks  # noqa: F401


def selector(only: list[str] | None, skip: list[str]) -> Callable[[str], bool]:
    def wants(check_id: str) -> bool:
        if any(check_id == s or check_id.startswith(s.rstrip("*").rstrip(".") + ".") for s in skip):
            return False
        if not only:
            return True
        return any(check_id == o or check_id.startswith(o.rstrip("*").rstrip(".") + ".") for o in only)

    return wants


@dataclass
class TargetOutcome:
    result: TargetResult
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)


async def run_target(
    target: Target,
    names: list[str],
    *,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
    seed: int | None = None,
    fuzz_settings: Any = None,
    corpus_dir: str | None = None,
) -> TargetOutcome:
    """Run the named campaigns against one target.

    seed: Hypothesis seed for every generating campaign (fuzz, stateful, envelope); None keeps
    them derandomized (the same inputs on every run). fuzz_settings: a campaigns.fuzz.FuzzSettings
    (example counts, corpus writing); corpus_dir: where fuzz writes and replay reads corpus
    entries (default: MCPCHECK_CORPUS, else ./corpus).
    """
    available = campaigns()
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"unknown campaign(s): {', '.join(unknown)} (known: {', '.join(available)})")
    result = TargetResult(name=target.name, transport=target.transport, description=target.describe())
    ctx = CampaignContext(target=target, selected=selector(only, skip or []), selects_all=not only, progress=progress)
    if seed is not None or fuzz_settings is not None or corpus_dir is not None:
        import dataclasses

        from .campaigns.fuzz import FuzzSettings

        cfg = fuzz_settings if fuzz_settings is not None else FuzzSettings()
        changes: dict[str, Any] = {}
        if seed is not None:
            changes["seed"] = seed
        if corpus_dir is not None:
            changes["corpus_dir"] = str(corpus_dir)
        ctx.fuzz_settings = dataclasses.replace(cfg, **changes)  # type: ignore[attr-defined]
        ctx.corpus_dir = ctx.fuzz_settings.corpus_dir  # type: ignore[attr-defined]
    t0 = time.monotonic()
    shard = getattr(getattr(ctx, "fuzz_settings", None), "shard", None)
    for name in names:
        if shard is not None and name != "fuzz":  # --shard: a campaign not split per tool is one work unit
            here = shard.owns(target.name, WHOLE_TARGET, name)
            ctx.notes.append(shard_note(shard, name, [unit_name(WHOLE_TARGET, name)] if here else [], 1))
            if not here:
                continue
        ctx.campaign = name
        recorded: list[tuple[Session, str | None]] = []  # each session with the era it was opened in
        token = RECORDING.set(lambda s: recorded.append((s, ctx.revision)))
        try:
            await available[name](ctx, result)
        except TransportError as exc:
            result.error = str(exc)
            break
        finally:
            RECORDING.reset(token)
            for s, era in recorded:  # every exchange and log check over every session the campaign had
                ctx.judge_log(s, era)
            tail = _stderr_tail(ctx)
            if tail:
                result.stderr_tail = tail
    result.duration_s = round(time.monotonic() - t0, 3)
    result.notes.extend(ctx.notes)
    result.constraints = constraint_table(getattr(ctx, "fuzz_reports", None) or [])
    if {"fuzz", "stateful", "replay", "envelope"} & set(names):
        result.corpus = corpus_refs(target.name, getattr(ctx, "corpus_dir", "corpus"), result.notes)
    checks = []
    for (check_id, revision), run in sorted(ctx.ledger.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        spec = REGISTRY[check_id]
        checks.append(
            CheckResult(
                id=check_id,
                category=spec.category,
                severity=spec.severity,
                title=spec.title,
                rule=spec.rule,
                target=target.name,
                revision=revision,
                status=run.status,
                reason=run.reason,
                count=run.count,
                origin=REGISTRY.check(check_id).origin if check_id in REGISTRY else "mcpcheck",
            )
        )
    return TargetOutcome(result=result, findings=ctx.findings, checks=checks)


def constraint_table(reports: list) -> list[ToolConstraints]:
    """The fuzz campaign's per-tool ToolReports as the report's structured constraint table."""
    return [
        ToolConstraints(
            tool=str(r.tool), engine=str(getattr(r, "engine", "") or ""), calls=int(getattr(r, "calls", 0) or 0),
            skipped=getattr(r, "skipped", None), enforced=dict(getattr(r, "enforced", {}) or {}),
        )
        for r in reports
    ]


def corpus_refs(target: str, root: str, notes: list[str]) -> list[CorpusRef]:
    """The target's corpus/ entries, with the replay verdict from the notes when replayed."""
    from .corpus import load_entries

    try:
        entries = load_entries(root, target)
    except Exception:  # noqa: BLE001 - a broken corpus file must not cost the run its report
        return []
    verdicts = {}
    for n in notes:
        m = n.removeprefix("replay: ")
        name, sep, verdict = m.rpartition(": ")
        if n.startswith("replay: ") and sep and verdict in ("STILL FAILING", "fixed"):
            verdicts[name] = "still failing" if verdict == "STILL FAILING" else "fixed"
    return [
        CorpusRef(file=str(path), check=e.check, tool=e.tool, mode=e.mode, first_seen=e.first_seen, status=verdicts.get(path.name, "stored"))
        for path, e in entries
    ]


def _stderr_tail(ctx: CampaignContext, lines: int = 20) -> str:
    """The last lines the (most recent) stdio server process wrote to stderr."""
    session = ctx.session
    if session is None:
        return ""
    try:
        text = "".join(e.raw for e in session.wirelog.entries if e.channel == "stderr")
    except AttributeError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def exit_code_for(findings: list[Finding], targets: list[TargetResult], fail_on: Severity) -> int:
    if any(t.error for t in targets):
        return 2
    return 1 if any(f.severity >= fail_on and f.severity > Severity.info for f in findings) else 0


def build_report(
    outcomes: list[TargetOutcome],
    *,
    command: list[str],
    names: list[str],
    fail_on: Severity,
    started: _dt.datetime,
    duration: float,
    seed: int | None = None,
) -> RunReport:
    targets = [o.result for o in outcomes]
    checks = [c for o in outcomes for c in o.checks]
    findings, observations = split([f for o in outcomes for f in o.findings])
    from .gate import evaluate  # the gate's score and verdict are in every report (disabled unless --gate)

    return RunReport(
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(duration, 3),
        command=command,
        campaigns=names,
        seed=seed,
        fail_on=fail_on,
        exit_code=exit_code_for(findings, targets, fail_on),
        targets=targets,
        checks=checks,
        findings=findings,
        observations=observations,
        summary=summarize(targets, checks, findings, observations),
        gate=evaluate(findings, checks, targets),
    )


def run(targets: list[Target], names: list[str], **kw) -> list[TargetOutcome]:
    """Synchronous entry point (CLI, pytest plugin)."""

    async def go() -> list[TargetOutcome]:
        outcomes = [await run_target(t, names, **kw) for t in targets]
        if "security" in names:  # checks that need every target's listing (tool shadowing)
            from .campaigns.security import cross_target

            cross_target(outcomes, selector(kw.get("only"), kw.get("skip") or []))
        return outcomes

    return asyncio.run(go())

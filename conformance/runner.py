"""Run campaigns against targets and assemble the canonical report.

I/O lives in the campaigns; this module only sequences them, catches a target that cannot be
reached (exit code 2 with one clear line), and derives the report and the exit code.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from .campaigns.context import CampaignContext
from .config import Target
from .findings import REGISTRY, Finding, Severity
from .report.model import CheckResult, RunReport, TargetResult, split, summarize
from .transport.base import TransportError

CampaignFn = Callable[[CampaignContext, TargetResult], Awaitable[None]]


def campaigns() -> dict[str, CampaignFn]:
    """Campaigns by name (imported lazily so `mcpcheck list-checks` stays fast)."""
    from .campaigns.conformance import run_conformance
    from .campaigns.fuzz import run_fuzz
    from .campaigns.replay import run_replay
    from .campaigns.stateful import run_stateful

    return {"conformance": run_conformance, "fuzz": run_fuzz, "stateful": run_stateful, "replay": run_replay}


def load_all_checks() -> None:
    """Import every module that registers checks, so REGISTRY is complete."""
    from .campaigns import conformance, fuzz, stateful  # noqa: F401


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
) -> TargetOutcome:
    available = campaigns()
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"unknown campaign(s): {', '.join(unknown)} (known: {', '.join(available)})")
    result = TargetResult(name=target.name, transport=target.transport, description=target.describe())
    ctx = CampaignContext(target=target, selected=selector(only, skip or []), selects_all=not only, progress=progress)
    t0 = time.monotonic()
    for name in names:
        ctx.campaign = name
        try:
            await available[name](ctx, result)
        except TransportError as exc:
            result.error = str(exc)
            break
    result.duration_s = round(time.monotonic() - t0, 3)
    result.notes.extend(ctx.notes)
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
            )
        )
    return TargetOutcome(result=result, findings=ctx.findings, checks=checks)


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
    )


def run(targets: list[Target], names: list[str], **kw) -> list[TargetOutcome]:
    """Synchronous entry point (CLI, pytest plugin)."""

    async def go() -> list[TargetOutcome]:
        return [await run_target(t, names, **kw) for t in targets]

    return asyncio.run(go())

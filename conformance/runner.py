"""Run campaigns against targets and assemble the canonical report.

I/O lives in the campaigns; this module only sequences them, catches a target that cannot be
reached (exit code 2 with one clear line), and derives the report and the exit code.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import sys
import time
from typing import Any, Awaitable, Callable

from . import budget
from .campaigns.context import CampaignContext
from .config import Target
from .findings import Finding, Severity  # noqa: F401 - Finding: part of this module's API
from .registry import REGISTRY
from .results import CheckResult, TargetOutcome, TargetResult, constraint_table, corpus_refs, merge_eras  # noqa: F401 - re-exported
from .session import RECORDING, Session
from .sharding import WHOLE_TARGET, unit_name
from .sharding import note as shard_note
from .transport.base import TransportError

CampaignFn = Callable[[CampaignContext, TargetResult], Awaitable[None]]


def campaigns() -> dict[str, CampaignFn]:
    """Campaigns by name (imported lazily so `mcpcheck list-checks` stays fast)."""
    from .campaigns.conformance import run_conformance
    from .campaigns import rule_probes  # noqa: F401,I001 - after conformance: its probes run after the campaign's own
    from .campaigns import http_streams  # noqa: F401,I001 - GET-stream routing and resumption probes (H6, H7)
    from .campaigns import era_probes  # noqa: F401,I001 - one-era rules (J11 batches, V4/V6 modern-only), after the rule probes
    from .campaigns import tool_probes  # noqa: F401,I001 - tool-calling probes (concurrency, cancellation) run last
    from .campaigns import task_probes  # noqa: F401,I001 - 2025-11-25 tasks (TK1), after the tool probes
    from .campaigns.envelope_fuzz import run_envelope
    from .checks import discipline  # noqa: F401 - registers progress/cancel/request-id/per-request checks
    from .campaigns.fuzz import run_fuzz
    from .campaigns.http_security import run_http_security
    from .campaigns.replay import run_replay
    from .campaigns.security import run_security
    from .campaigns.stateful import run_stateful

    return {"conformance": run_conformance, "fuzz": run_fuzz, "stateful": run_stateful, "replay": run_replay, "envelope": run_envelope, "security": run_security, "http-security": run_http_security}


def load_all_checks() -> None:
    """Import every module that registers checks, so REGISTRY is complete."""
    from .campaigns import conformance, envelope_fuzz, fuzz, http_rules, security, stateful  # noqa: F401
    from .campaigns import http_security, http_streams, rule_probes  # noqa: F401
    from .campaigns import era_probes  # noqa: F401
    from .campaigns import tool_probes  # noqa: F401
    from .campaigns import task_probes  # noqa: F401
    from .checks import discipline  # noqa: F401
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
    applicable_only: bool = False,
    announce: bool = True,
    known_eras: list[str] | None = None,
    era_only: int | None = None,
) -> TargetOutcome:
    """Run the named campaigns against one target.

    seed: Hypothesis seed for every generating campaign (fuzz, stateful, envelope); None keeps
    them derandomized (the same inputs on every run). fuzz_settings: a campaigns.fuzz.FuzzSettings
    (example counts, corpus writing); corpus_dir: where fuzz writes and replay reads corpus
    entries (default: MCPCHECK_CORPUS, else ./corpus). applicable_only: leave out campaigns that
    do not apply to the target's transport (`--campaign all`, profiles). announce: False when
    the safety plan was already said (a --jobs worker: the parent said it once). known_eras: the
    eras the server speaks, already detected (a --jobs worker: the parent detected them once, so
    no campaign probes them again); era_only: the per-era campaigns (conformance, envelope) run
    the era of this index in known_eras only (a --jobs unit: one era's work).

    The run's time budget is budget.current() (runner.run sets it from --max-time): when it is
    used up, the campaign in progress stops at its next step (budget.OutOfTime), the campaigns
    after it do not start, and a note per cut campaign says so; what was judged is kept.
    """
    if budget.current() is budget.UNBOUNDED:  # called on its own (not through run()): its own state
        with budget.use(budget.RunState()):
            return await run_target(
                target, names, only=only, skip=skip, progress=progress, seed=seed,
                fuzz_settings=fuzz_settings, corpus_dir=corpus_dir, applicable_only=applicable_only, announce=announce,
                known_eras=known_eras, era_only=era_only,
            )
    from .campaigns.engine import pin_local_constants

    with pin_local_constants():  # the seed alone decides the inputs (not this process's imports)
        return await _run_target(target, names, only=only, skip=skip, progress=progress, seed=seed, fuzz_settings=fuzz_settings, corpus_dir=corpus_dir, applicable_only=applicable_only, announce=announce,
                                 known_eras=known_eras, era_only=era_only)


async def _run_target(
    target: Target,
    names: list[str],
    *,
    only: list[str] | None,
    skip: list[str] | None,
    progress: Callable[[str], None],
    seed: int | None,
    fuzz_settings: Any,
    corpus_dir: str | None,
    applicable_only: bool,
    announce: bool,
    known_eras: list[str] | None = None,
    era_only: int | None = None,
) -> TargetOutcome:
    from .profiles import applies

    available = campaigns()
    if applicable_only:
        names = [n for n in names if applies(n, target.transport)]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"unknown campaign(s): {', '.join(unknown)} (known: {', '.join(available)})")
    result = TargetResult(name=target.name, transport=target.transport, description=target.describe())
    result.eras = list(known_eras or [])

    def step(message: str) -> None:  # every progress step is also the display's "doing"
        budget.current().doing(message)
        progress(message)

    ctx = CampaignContext(target=target, selected=selector(only, skip or []), selects_all=not only, progress=step, era_only=era_only)
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
    if announce and TOOL_CAMPAIGNS & set(names):
        await announce_tools(target, result, progress)
    state = budget.current()

    def real(since: int = 0) -> int:  # findings, not observations (info)
        return sum(1 for f in ctx.findings[since:] if f.severity > Severity.info)

    state.findings = real
    shard = getattr(getattr(ctx, "fuzz_settings", None), "shard", None)
    for name in names:
        if shard is not None and name != "fuzz":  # --shard: a campaign not split per tool is one work unit
            here = shard.owns(target.name, WHOLE_TARGET, name)
            ctx.notes.append(shard_note(shard, name, [unit_name(WHOLE_TARGET, name)] if here else [], 1))
            if not here:
                continue
        ctx.campaign = name
        state.begin(target.name, name)
        if state.expired:
            _cut(ctx, state, name, "not started")
            continue
        ctx.known_eras = list(result.eras)  # detected by an earlier campaign
        before = len(ctx.findings)
        state.findings = lambda before=before: real(before)
        recorded: list[tuple[Session, str | None]] = []  # each session with the era it was opened in
        token = RECORDING.set(lambda s: recorded.append((s, ctx.revision)))
        try:
            await available[name](ctx, result)
            state.end("done")
        except budget.OutOfTime:
            _cut(ctx, state, name, f"stopped at: {state.current.doing if state.current and state.current.doing else 'its first step'}")
            await _close_quietly(ctx)
            if not result.eras and not ctx.ledger:  # not one answer in the whole budget: not tested
                result.error = f"no answer from the server within --max-time {state.max_time:g}s (the time budget ran out while waiting for its first answer)"
                break
        except TransportError as exc:
            result.error = str(exc)
            state.end("error")
            break
        except Exception as exc:  # Hypothesis wraps an OutOfTime raised mid-draw in its own error
            if not budget.out_of_time(exc):
                raise
            _cut(ctx, state, name, f"stopped at: {state.current.doing if state.current and state.current.doing else 'its first step'}")
            await _close_quietly(ctx)
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
    return TargetOutcome(result=result, findings=merge_eras(ctx.findings), checks=checks, fuzz_reports=list(getattr(ctx, "fuzz_reports", None) or []),
        first_at=dict(ctx.first_at), held_entries=list(ctx.held_entries or []),
    )


# campaigns that call tools with generated or hostile arguments (conformance calls at most one
# tool the safety policy allows, once, with arguments the spec says must be rejected)
TOOL_CAMPAIGNS = {"fuzz", "stateful", "security", "http-security", "replay", "envelope"}


def where(target: Target) -> str:
    """Where a target's tools act: the process and its working directory, or the URL."""
    if target.transport == "stdio":
        cwd = target.cwd or "a fresh temporary working directory"
        return f"{target.name} (stdio: {target.describe()}, in {cwd}; the server's own arguments decide what it can reach)"
    return f"{target.name} ({target.url})"


async def announce_tools(target: Target, result: TargetResult, progress: Callable[[str], None], session: Session | None = None) -> list[dict] | None:
    """Before any tool is called: say which tools that can change state will be called, and
    where, and which are not called and why (safety.plan); kept in the report's notes too. A
    target that cannot be listed here says so in the campaign that follows. Returns the tools
    listed (None: the target could not be listed). `session`: list through this ready session
    (left open) instead of opening one."""
    from .safety import plan

    tools = await _listed(target, session)
    if tools is None:
        return None
    log = getattr(progress, "log", progress)
    lines = plan(tools, target.safety).lines(where(target))
    if not lines:
        lines = ["safety: every tool that will be called is annotated readOnlyHint"] if tools else []
    for line in lines:
        log(line)
    result.notes.extend(lines)
    return tools


async def _listed(target: Target, session: Session | None) -> list[dict] | None:
    """The target's tools: through `session` (left open), else through a session of its own in
    the first era that opens (None: none could be listed)."""
    from .connect import list_tools, open_session
    from .session import HANDSHAKE_LATEST, LATEST

    if session is not None:
        try:
            return await list_tools(session)
        except (TransportError, OSError):
            return None
    for era in [target.protocol] if target.protocol else [HANDSHAKE_LATEST, LATEST]:
        try:
            own = await open_session(target, era)
        except (TransportError, OSError):
            continue
        try:
            return await list_tools(own)
        finally:
            await own.close()
    return None


async def detect_and_announce(target: Target, result: TargetResult, progress: Callable[[str], None], announce: bool) -> tuple[list[str], list[str]] | None:
    """The eras the server speaks (connect.detect: one probe session per era) and, with
    `announce`, its tools' names in listing order, after the safety plan was said (announce_tools,
    through the session detect left ready). None when it speaks none, cannot be started or
    (announce) cannot be listed: the campaigns then say why. A --jobs run does this once, for
    every work unit."""
    from .connect import detect

    try:
        probe, session = await detect(target)
    except (TransportError, OSError):
        return None
    names: list[str] = []
    try:
        if announce:
            tools = await announce_tools(target, result, progress, session=session)
            if tools is None:
                return None
            names = list(dict.fromkeys(str(t.get("name")) for t in tools if isinstance(t, dict)))
    finally:
        await session.close()
    eras = probe.eras()
    return (eras, names) if eras else None


def _cut(ctx: CampaignContext, state: "budget.RunState", name: str, where: str) -> None:
    """A campaign cut by --max-time: one note in the report (and one for the run's summary)."""
    note = f"time budget: --max-time {state.max_time:g}s used up; campaign {name} {where}"
    ctx.notes.append(note)
    state.cut(f"{ctx.target.name}: {name} {where}")
    state.end("cut")


async def _close_quietly(ctx: CampaignContext) -> None:
    """A campaign cut mid-step may leave its session open: close it (it is the campaign's)."""
    s = ctx.session
    if s is not None and getattr(s.transport, "alive", False):
        try:
            await s.close()
        except Exception:  # noqa: BLE001 - closing a server that misbehaves must not cost the report
            pass


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


def run(
    targets: list[Target], names: list[str], *, max_time: float | None = None, state: "budget.RunState | None" = None, jobs: int | None = 1, **kw
) -> list[TargetOutcome]:
    """Synchronous entry point (CLI, pytest plugin). max_time: the whole run's budget in seconds
    (--max-time); state: a budget.RunState the caller watches (the progress display); jobs: how
    many work units run at once in worker processes (--jobs; None: the number of cores; 1: one
    after another in this process, as always). Campaigns of a target whose config says
    `jobs = 1` never run at once; a run with one work unit runs here (mcpcheck/jobs.py)."""
    state = state or budget.RunState(max_time=max_time)
    if max_time is not None:
        state.max_time = max_time
    from . import jobs as _jobs
    from .plugins import inactive

    jobs = _jobs.resolve(jobs)
    off = inactive()  # checks of plugin modules an earlier run in this process named, this one not
    if off:
        kw["skip"] = [*(kw.get("skip") or []), *sorted(off)]

    async def go() -> list[TargetOutcome]:
        with budget.use(state):
            outcomes = None
            if jobs > 1:
                outcomes = await _jobs.run_parallel(targets, names, jobs, state, runner=sys.modules[__name__], **kw)
            if outcomes is None:  # --jobs 1, or nothing to run at once: the sequential run
                for t in targets:
                    from .profiles import applies

                    state.plan(t.name, [n for n in names if not kw.get("applicable_only") or applies(n, t.transport)])
                outcomes = [await run_target(t, names, **kw) for t in targets]
                if jobs > 1:  # what kept it sequential (a target's `jobs = 1`) is said in its notes
                    split = _jobs.plan(targets, names, jobs, kw)[1]
                    for t, o in zip(targets, outcomes):
                        o.result.notes.extend(split.get(t.name, []))
        if "security" in names:  # checks that need every target's listing (tool shadowing)
            from .campaigns.security import cross_target

            cross_target(outcomes, selector(kw.get("only"), kw.get("skip") or []))
        return outcomes

    async def bounded() -> list[TargetOutcome]:
        try:
            return await go()
        finally:  # a server whose start or close the budget cut: ended, its directory removed
            from .transport import stdio

            stdio.kill_all()

    return asyncio.run(bounded())

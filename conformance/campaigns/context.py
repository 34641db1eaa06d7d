"""The state a campaign carries while it drives a target: findings and the checks run.

Campaigns do the I/O and ask the registry (mcpcheck.registry) for the checks of a scope:
`judge_exchange` / `judge_log` (every session of every campaign, run by the runner),
`judge_call` (every tool call), `judge_listing`, `run_probe` (active `session` checks) and
`judge_run`. The context turns violations into Findings and keeps the ledger of which checks
ran, passed, failed or were skipped (and why) for the report. A check that judged nothing stays
"skipped" with the reason; a check that raised is an error entry (`errors`), never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

from .. import budget
from ..config import Target
from ..findings import CheckFn, CheckSpec, Finding, Violation, run_check
from ..registry import (
    REGISTRY,
    Check,
    CheckContext,
    Skip,
    CheckError,
    ExchangeContext,
    Listing,
    ListingContext,
    LogContext,
    RunContext,
    SessionContext,
    SessionLog,
    ToolCall,
    ToolCallContext,
    call_check,
    call_probe,
)
from ..session import Exchange, Session
from ..transport.base import TransportError

Status = Literal["passed", "failed", "skipped", "error"]
MAX_INSTANCES = 25  # further instances listed on one finding


@dataclass
class CheckRun:
    check: str
    status: Status
    revision: str | None = None
    reason: str | None = None  # why skipped
    count: int = 0  # how many times it was evaluated


@dataclass
class CampaignContext:
    target: Target
    session: Session | None = None
    revision: str | None = None
    selected: Callable[[str], bool] = lambda _id: True
    selects_all: bool = True  # False when the user picked checks with --check
    findings: list[Finding] = field(default_factory=list)
    ledger: dict[tuple[str, str | None], CheckRun] = field(default_factory=dict)
    campaign: str = "conformance"
    notes: list[str] = field(default_factory=list)
    progress: Callable[[str], None] = lambda _msg: None
    errors: list[CheckError] = field(default_factory=list)  # checks that raised (plugins, mostly)
    # settings and results handed between the runner and the campaigns (Any: they are defined in
    # the campaigns, which this module must not import)
    fuzz_settings: Any = None  # campaigns.fuzz.FuzzSettings
    corpus_dir: str | None = None
    fuzz_reports: list[Any] = field(default_factory=list)  # campaigns.fuzz.ToolReport per tool
    security_settings: Any = None  # campaigns.security.SecuritySettings
    http_security_settings: Any = None  # campaigns.http_security.HttpSecuritySettings
    load_config: Any = None  # load.config.LoadConfig or a dict
    load_run: Any = None  # load.campaign.LoadRun of the last load campaign
    workflow_files: list[str] = field(default_factory=list)
    workflow_examples: int = 0
    configured_targets: dict[str, Target] = field(default_factory=dict)
    known_eras: list[str] = field(default_factory=list)  # eras an earlier campaign of the run detected
    era_only: int | None = None  # --jobs: the per-era campaigns run the era of this index in the known eras only
    # --jobs (mcpcheck/jobs.py): where the current work stands in a sequential run's order (the
    # fuzz campaign: tool index, property), the position each finding was first recorded at, and
    # the corpus entries a fuzz part holds for the parent to write (None: written at once)
    position: Any = None
    first_at: dict[str, Any] = field(default_factory=dict)
    held_entries: list[Any] | None = None

    def eras_here(self, eras: list[str]) -> list[tuple[int, str]]:
        """(index, era) of the eras a per-era campaign runs here: all of them, or (a --jobs unit,
        era_only) the one of that index."""
        return [(i, e) for i, e in enumerate(eras) if self.era_only is None or i == self.era_only]

    # ------------------------------------------------------------ recording
    def wants(self, spec: CheckSpec) -> bool:
        # asked for every check on every fuzz call: the selector's prefix matching is memoized
        # per check id (and forgotten if the selector is replaced)
        memo = self.__dict__.get("_wants_memo")
        if memo is None or memo[0] is not self.selected:
            memo = self.__dict__["_wants_memo"] = (self.selected, {})
        hit = memo[1].get(spec.id)
        if hit is None:
            hit = memo[1][spec.id] = bool(self.selected(spec.id))
        return hit

    def _run(self, spec: CheckSpec) -> CheckRun:
        key = (spec.id, self.revision)
        run = self.ledger.get(key)
        if run is None:
            run = self.ledger[key] = CheckRun(spec.id, "passed", self.revision)
        return run

    def record(self, spec: CheckSpec, violations: list[Violation], found_by: CheckSpec | None = None) -> list[Finding]:
        owned = [v for v in violations if v.owner and v.owner != spec.id and v.owner in REGISTRY and self.wants(REGISTRY[v.owner])]
        if owned:  # one owner per root cause: filed under the check that owns it (Violation.owner),
            # reproduced by the check that found it
            out = self.record(spec, [v for v in violations if not any(v is o for o in owned)])
            for owner in dict.fromkeys(v.owner for v in owned):
                out += self.record(REGISTRY[owner], [v for v in owned if v.owner == owner], found_by=spec)
            return out
        if not self.wants(spec):
            return []
        run = self._run(spec)
        if run.status == "error":
            return []  # a check that raised once stays an error entry for this era
        if run.status == "skipped":
            run.status, run.reason = "passed", None
        run.count += 1
        out = []
        for v in violations:
            finding = spec.finding(
                v, target=self.target.name, revision=self.revision, reproduce=self.reproduce(found_by or spec, v)
            )
            same = next((f for f in self.findings if f.id == finding.id), None)
            if same is None:
                self.findings.append(finding)
                self.first_at.setdefault(finding.id, self.position)
                out.append(finding)
            elif finding.detail != same.detail and finding.detail not in same.instances and len(same.instances) < MAX_INSTANCES:
                same.instances.append(finding.detail)  # one finding per root cause, every instance listed
        if violations:
            run.status = "failed"
        return out

    def check(self, spec: CheckSpec, fn: CheckFn, *args: Any, **kwargs: Any) -> list[Finding]:
        """Run a pure check and record what it found (no-op when the check is deselected)."""
        if not self.wants(spec):
            return []
        return self.record(spec, run_check(fn, *args, **kwargs))

    def passed(self, spec: CheckSpec) -> None:
        self.record(spec, [])

    def fail(self, spec: CheckSpec, violation: Violation) -> list[Finding]:
        return self.record(spec, [violation])

    def skip(self, spec: CheckSpec, reason: str) -> None:
        if not self.wants(spec):
            return
        key = (spec.id, self.revision)
        if key not in self.ledger:
            self.ledger[key] = CheckRun(spec.id, "skipped", self.revision, reason=reason)

    # ------------------------------------------------------------ the registry, by scope
    def _base(self, cls: type, session: Session | None = None, **extra: Any) -> Any:
        s = session if session is not None else self.session
        return cls(
            target=self.target.name,
            transport=self.target.transport,
            revision=(s.revision if s is not None and s.revision else self.revision),
            campaign=self.campaign,
            stateless=bool(s is not None and s.stateless),
            capabilities=(s.server_capabilities if s is not None else {}),
            **extra,
        )

    def _judge(self, c: Check, *args: Any) -> list[Violation] | None:
        """The check's violations, or None when it judged nothing (skipped, or it raised)."""
        if not self.wants(c.spec):
            return None
        found, err = call_check(c, *args)
        if isinstance(err, Skip):
            self.skip(c.spec, str(err))
            return None
        if err is not None:
            self.error(err)
            return None
        return found

    def _record_judged(self, spec: CheckSpec, found: list[Violation] | None) -> list[Finding]:
        return [] if found is None else self.record(spec, found)

    def error(self, err: CheckError) -> None:
        """A check raised: one entry (and one note) per check, the run goes on."""
        if any(e.check == err.check for e in self.errors):
            return
        self.errors.append(err)
        self.notes.append(f"check error: {err.check} (from {err.origin}) raised {err.error}; its verdicts are missing")
        sys.stderr.write(f"mcpcheck: check {err.check!r} (from {err.origin}) raised {err.error}; reported as an error, the run goes on\n")
        key = (err.check, self.revision)
        self.ledger[key] = CheckRun(err.check, "error", self.revision, reason=f"the check raised {err.error}")

    def judge_exchange(self, ex: Exchange, session: Session | None = None) -> list[Finding]:
        """Every `exchange` check of the registry over one request/response pair."""
        ctx = self._base(ExchangeContext, session, deliberate=bool(ex.malformed))
        out: list[Finding] = []
        for c in REGISTRY.for_scope("exchange"):
            if self.wants(c.spec):
                out += self._record_judged(c.spec, self._judge(c, ctx, ex))
        return out

    def judge_log(self, session: Session, era: str | None = None) -> list[Finding]:
        """Every `exchange` check over each exchange of a (closed) session, then every `log` check
        over its whole recording. Findings are filed under `era` (the era the campaign was in
        when it opened the session); the checks judge by the revision the session negotiated."""
        out: list[Finding] = []
        if not any(ex.answered for ex in session.exchanges) and not any(e.direction == "in" and e.channel != "event" for e in session.wirelog.entries):
            return out  # never got an answer (could not start or connect): nothing to judge
        prev = self.revision
        if era or session.revision:
            self.revision = era or session.revision
        try:
            for ex in session.exchanges:
                if isinstance(ex.request, dict) and "id" in ex.request:
                    out += self.judge_exchange(ex, session)
            log = SessionLog.of(session)
            ctx = self._base(LogContext, session)
            for c in REGISTRY.for_scope("log"):
                if self.wants(c.spec):
                    out += self._record_judged(c.spec, self._judge(c, ctx, log))
        finally:
            self.revision = prev
        return out

    def judge_call(self, call: ToolCall) -> list[tuple[CheckSpec, Violation]]:
        """Every `tool_call` check over one call; returns what they found, unrecorded (the fuzz
        campaign shrinks a failure before it records it). A check that found nothing is marked
        judged."""
        ctx = self._base(ToolCallContext)
        found: list[tuple[CheckSpec, Violation]] = []
        for c in REGISTRY.for_scope("tool_call"):
            if not self.wants(c.spec):
                continue
            vs = self._judge(c, ctx, call)
            if vs == []:
                self.record(c.spec, [])  # judged, and nothing wrong
            elif vs:
                found += [(c.spec, v) for v in vs]
        return found

    def judge_listing(self, listing: Listing, session: Session | None = None, campaign: str | None = None) -> list[Finding]:
        """Every `listing` check (of `campaign` when given) over what one session listed."""
        ctx = self._base(ListingContext, session)
        out: list[Finding] = []
        for c in REGISTRY.for_scope("listing", campaign):
            if self.wants(c.spec):
                out += self._record_judged(c.spec, self._judge(c, ctx, listing))
        return out

    def judge_run(self, campaign: str, result: Any) -> list[Finding]:
        ctx = self._base(RunContext)
        out: list[Finding] = []
        for c in REGISTRY.for_scope("run", campaign):
            if self.wants(c.spec):
                out += self._record_judged(c.spec, self._judge(c, ctx, result))
        return out

    def judge_result(self, campaign: str, result: Any) -> list[tuple[CheckSpec, Violation]]:
        """Every `run` check of `campaign` over one result of a Hypothesis-driven campaign (one
        malformed message, one stateful step). Like judge_call: what they found is returned
        unrecorded (the campaign shrinks a failure first); a check that found nothing is marked
        judged, one that raised Skip is skipped with the reason."""
        ctx = self._base(RunContext)
        found: list[tuple[CheckSpec, Violation]] = []
        for c in REGISTRY.for_scope("run", campaign):
            if not self.wants(c.spec):
                continue
            vs = self._judge(c, ctx, result)
            if vs == []:
                self.record(c.spec, [])  # judged, and nothing wrong
            elif vs:
                found += [(c.spec, v) for v in vs]
        return found

    def session_context(self, state: Any = None, memo: dict[str, Any] | None = None) -> SessionContext:
        """The context an active check of this campaign gets (one memo per session: pass the
        same dict to every check of one session)."""
        ctx = self._base(SessionContext, self.session, config=self.target, state=state, memo=memo if memo is not None else {}, progress=self.progress)
        ctx.session = self.session
        return ctx

    async def run_probes(
        self,
        campaign: str,
        state: Any = None,
        memo: dict[str, Any] | None = None,
        *,
        after: Callable[[Check], Awaitable[None]] | None = None,
    ) -> None:
        """Every selected `session` check of `campaign`, in registration order, on the live session.

        after: awaited after each check (the conformance campaign restarts a server that died
        there); with it, a TransportError a check raised is left to `after` instead of ending
        the campaign."""
        memo = memo if memo is not None else {}
        selected = [c for c in REGISTRY.for_scope("session", campaign) if self.wants(c.spec)]
        run_state = budget.current()
        run_state.doing(f"{self.target.name} [{self.revision}]: {campaign} checks", planned=len(selected))
        left_out = self._profile_leaves_out(selected)
        # a target with `jobs = 1` (it cannot take parallel sessions) runs them in line, as before
        beside = getattr(self.target, "jobs", None) != 1
        lane = _Lane([c for c in selected if c.isolated and c.id not in left_out and beside], lambda: self.session_context(state, memo))
        try:
            for c in selected:
                run_state.tick()
                if c.id in left_out:
                    self.skip(c.spec, left_out[c.id])
                    continue
                if self.wants(c.spec):
                    self.progress(f"{self.target.name} [{self.revision}]: {c.id}")
                    try:
                        if c.id in lane.futures:
                            self._recorded(c, *(await lane.result(c)))
                        else:
                            await self.run_probe(c, self.session_context(state, memo))
                    except TransportError:
                        if after is None:
                            raise
                    if after is not None:
                        await after(c)
        finally:
            await lane.close()

    def _profile_leaves_out(self, selected: list[Check]) -> dict[str, str]:
        """The selected checks the run's profile (`--profile quick`) does not run in this era, with
        the reason; one note per profile says what it left out. Checks the user picked with
        --check always run (explicit options override the profile)."""
        from ..profiles import active

        profile = active()
        if profile is None or not self.selects_all:
            return {}
        eras = self.__dict__.setdefault("_probe_eras", [])
        if self.revision not in eras:
            eras.append(self.revision)
        out = {}
        for c in selected:
            why = profile.skip_reason(c.id, eras.index(self.revision))
            if why is not None:
                out[c.id] = why
        never = [c.id for c in selected if c.id in profile.leave_out]
        if never:
            self.note_once(profile.note(", ".join(never)))
        later = [c for c in out if c not in profile.leave_out]
        if later:
            self.note_once(profile.note(f"in later protocol eras: {', '.join(later)}"))
        return out

    def note_once(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    async def run_probe(self, c: Check, probe_ctx: Any) -> list[Finding]:
        """One active `session` check; its violations are recorded."""
        if not self.wants(c.spec):
            return []
        return self._recorded(c, *(await call_probe(c, probe_ctx)))

    def _recorded(self, c: Check, found: list[Violation], err: Any) -> list[Finding]:
        if isinstance(err, Skip):
            self.skip(c.spec, str(err))
            return []
        if err is not None:
            self.error(err)
            return []
        return self.record(c.spec, found)

    # ------------------------------------------------------------ helpers
    def reproduce(self, spec: CheckSpec, v: Violation) -> str:
        args = ["mcpcheck", "run", "--campaign", spec.campaign, "--check", spec.id]
        if self.revision:
            args += ["--protocol", self.revision]
        return " ".join(shlex.quote(a) for a in args + self.target.cli_args())

    @property
    def s(self) -> Session:
        assert self.session is not None, "probe needs a session"
        return self.session


Probe = Callable[[CampaignContext], Awaitable[None]]


class _Lane:
    """The isolated probes of one era (`@check(..., isolated=True)`: sessions of their own, never
    the live one), run one after another beside the era's other probes, so that their waits
    (fresh server processes, silences they listen for) overlap the rest. One lane, not one task
    each: no more server processes start at once than a probe starts itself. `result(c)` waits
    for a probe's (violations, error) for the caller to record in registration order."""

    def __init__(self, checks: list[Check], make_ctx: Callable[[], Any]) -> None:
        self.checks = checks
        self.futures: dict[str, asyncio.Future] = {}
        self.task: asyncio.Task | None = None
        if checks:
            loop = asyncio.get_running_loop()
            self.futures = {c.id: loop.create_future() for c in checks}
            self.task = asyncio.ensure_future(self._run(make_ctx))

    async def _run(self, make_ctx: Callable[[], Any]) -> None:
        for c in self.checks:
            fut = self.futures[c.id]
            try:
                fut.set_result(await call_probe(c, make_ctx()))
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - the caller re-raises it where the probe sits
                fut.set_exception(exc)

    async def result(self, c: Check) -> tuple[list[Violation], Any]:
        return await self.futures[c.id]

    async def close(self) -> None:
        """The era ends (or stopped): a probe still running is cancelled; nothing is left behind."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.task is not None:
            with contextlib.suppress(BaseException):
                await self.task
        for fut in self.futures.values():
            if fut.done() and not fut.cancelled():
                fut.exception()  # retrieved: no "exception was never retrieved" warning

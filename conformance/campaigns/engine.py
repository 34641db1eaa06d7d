"""The Hypothesis-driven call engine the fuzz, stateful and envelope campaigns share.

`ToolRunner` owns a session on a campaign's own event loop (own_loop.py): it calls tools
(sequentially or one in flight), restarts a dead server, cancels a call it gave up on, and judges
each call with the registry's `tool_call` checks (`judge_call`). The first violation that is not
an observation raises `Failure`, so Hypothesis shrinks the input towards it; `run_property` runs a
property under the shrink budget and records its (shrunk) failure as a Finding and a corpus entry.

Crash and hang verdicts need evidence (issue 12). After a call whose transport failed while the
transport is still up (HTTP: the POST ended without a JSON-RPC response), the runner asks the
server whether it still answers (`Session.check_liveness`: ping, or server/discover); a timed-out
call was asked already by the session in its grace period. What it saw is `ToolCall.ping_answered`.
A server that stopped answering ping is restarted before the next call (stdio: a new process), so
a blocked server never makes the next input look guilty; a server that cannot be reached again
ends the campaign (`TargetGone`) with the failure recorded unshrunk. A failure Hypothesis could
not reproduce on replay (flaky) is recorded as an observation (info), not at full severity.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import json
import time
from typing import Any, Callable

from hypothesis.errors import Flaky, Unsatisfiable

from .. import budget
from ..checks import tools as TC
from ..connect import open_session
from ..corpus import CorpusEntry, save_entry
from ..findings import CheckSpec, Severity, Violation
from ..registry import ToolCall
from ..session import ABANDON_AT, Exchange, Session
from ..transport.base import TransportError
from .context import CampaignContext
from .own_loop import Await


@contextlib.contextmanager
def shrink_budget(seconds: float):
    """Bound Hypothesis' shrink phase. Loose schemas against a slow server can shrink for many
    minutes; Hypothesis stops shrinking after `engine.MAX_SHRINKING_SECONDS` (300 s, read when a
    shrink starts), which is the only bound it has, so it is lowered for the campaign's duration.
    tests/test_strategies_pins.py fails if Hypothesis renames it."""
    from hypothesis.internal.conjecture import engine

    saved = engine.MAX_SHRINKING_SECONDS
    engine.MAX_SHRINKING_SECONDS = max(1.0, min(seconds, budget.current().remaining()))
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = saved


_PINNED: Any = None  # the pool pin_local_constants gives Hypothesis (computed once per process)


@contextlib.contextmanager
def pin_local_constants():
    """Generated inputs depend on the seed alone: not on what the process imported before, nor
    on mcpcheck's own source.

    Hypothesis draws some values from constants in the source of the "local" modules loaded so
    far (hypothesis.internal.conjecture.providers._get_local_constants). From a checkout (an
    editable install) mcpcheck's own modules count as local, so the same seed gave other inputs
    in a process that had imported other modules (a --jobs worker, a campaign after another), and
    any edit of a constant anywhere in mcpcheck changed them. For the campaign's duration the pool
    is pinned EMPTY, which is what an installed mcpcheck (site-packages: not local) always had:
    a checkout generates what users' installs generate. tests/test_strategies_pins.py fails if
    Hypothesis renames what this relies on."""
    global _PINNED
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    saved = providers._get_local_constants
    if getattr(saved, "mcpcheck_pinned", False):  # nested (a campaign in a campaign's run)
        yield
        return
    if _PINNED is None:
        _PINNED = Constants()
    pool = _PINNED

    def pinned() -> Any:
        return pool

    pinned.mcpcheck_pinned = True  # type: ignore[attr-defined]
    providers._get_local_constants = pinned
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


def record_with_entry(ctx: CampaignContext, cfg: Any, spec: Any, v: Violation, **entry: Any) -> None:
    """Record a shrunk failure as a Finding and, the first time that finding is recorded (and
    cfg.write_corpus), as a corpus/ entry: `entry` gives tool, arguments, mode and any other
    CorpusEntry field; target, check, revision, detail, seed and evidence come from here.
    The one corpus writer of the fuzz, stateful and envelope campaigns. A --jobs part of the
    fuzz campaign holds the entry instead (ctx.held_entries): the parent writes, per finding,
    the one a sequential run would have written (mcpcheck/jobs.py)."""
    found = ctx.record(spec, [v])
    if found and cfg.write_corpus:
        e = CorpusEntry(
            target=ctx.target.name,
            check=spec.id,
            revision=ctx.revision,
            detail=v.detail,
            seed=cfg.seed,
            evidence=[e.to_dict(500) for e in v.evidence][:4],
            **entry,
        )
        if ctx.held_entries is not None:
            ctx.held_entries.append((found[0].id, ctx.position, e, str(cfg.corpus_dir)))
        else:
            save_entry(e, cfg.corpus_dir)


_LAST = threading.local()  # the newest Failure of this thread: kept when --max-time cuts a shrink short
FURTHER_CALLS = 2  # identical calls after two answers that differ beyond volatile values (fuzz.idempotent)


# the categories of a dead server: a (shrunk) input blamed for one must kill a fresh server alone
CRASH_CATEGORIES = frozenset({"protocol.crash", "robustness.resource_limits", "robustness.unicode"})


class Failure(AssertionError):
    """A check's violation, raised inside a Hypothesis property so that it shrinks the input."""

    def __init__(self, spec: Any, violation: Violation, oracle: dict[str, Any] | None = None, call: ToolCall | None = None) -> None:
        super().__init__(violation.detail)
        self.spec, self.violation = spec, violation
        self.oracle = oracle  # what replay needs beyond the arguments (CorpusEntry.oracle)
        self.call = call  # the call it judged (replayed alone on a fresh server before a crash is reported)
        self.mode: str | None = None  # the corpus mode when the cause changed it (a unicode crash)
        _LAST.fail = self


def last_failure() -> "Failure | None":
    """The newest failure this thread raised since the last take (then forgotten)."""
    fail = getattr(_LAST, "fail", None)
    _LAST.fail = None
    return fail


@contextlib.contextmanager
def hypothesis_notes(ctx: CampaignContext, campaign: str):
    """Hypothesis' own messages on this thread go into the report's notes, never to stdout:
    its warnings ('has spent more than five minutes working to shrink ...', health checks) as
    notes; the 'Falsifying example' / 'Trying example' lines are dropped (the finding carries
    the minimal input and the reproduce command)."""
    from hypothesis.reporting import with_reporter

    def note(text: object) -> None:
        line = " ".join(str(text).split())
        if not line or line.startswith(("Falsifying", "Trying example", "Steps leading", "state = ", "state.", "Draw ", "You can reproduce", "Highest target", "Explanation:")):
            return
        if "five minutes working to shrink" in line:
            line = f"shrinking stopped at its bound ({getattr(ctx, 'shrink_bound', '')}s; MCPCHECK_SHRINK_SECONDS or --max-time): the failure is reported as far as it was shrunk"
        msg = f"{campaign}: hypothesis: {line[:300]}"
        if msg not in ctx.notes:
            ctx.notes.append(msg)

    with with_reporter(note):
        yield


class ShareUsed(budget.OutOfTime):
    """One tool's share of the campaign's time is used up (ToolRunner.tool_deadline): the tool
    stops, the campaign goes on with the next. An OutOfTime, so every handler that stops a
    property at the run's budget stops it here too; it may arrive wrapped or re-raised as a plain
    OutOfTime, so callers ask `ToolRunner.share_used()` rather than the exception's type."""


class TargetGone(TransportError):
    """The server died or stopped answering and could not be reached again: the campaign stops.
    `failure`: the failure that was being shrunk when it happened (recorded unshrunk)."""

    def __init__(self, reason: str, failure: "Failure | None" = None) -> None:
        super().__init__(reason)
        self.failure = failure


def typical(seconds: list[float]) -> float:
    """How long calls usually take: the median of the last five (0 before the first)."""
    recent = sorted(seconds[-5:])
    return recent[len(recent) // 2] if recent else 0.0


class ToolRunner:
    """Drives Hypothesis on the thread that owns the session's event loop (own_loop.py):
    `self._await(coro)` runs the loop until the coroutine is done."""

    def __init__(self, ctx: CampaignContext, session: Session, env: dict[str, str], secrets: list[str], run: Await) -> None:
        self.ctx, self.session, self.env, self.secrets = ctx, session, env, secrets
        self._await = run
        self.sessions = [session]
        self.unresponsive = False  # the last failed call's liveness ping went unanswered
        self.gone: TargetGone | None = None  # set once the server could not be reached again
        self.last_failure: Failure | None = None  # the last Failure raised (for TargetGone)
        self.first_failure: Failure | None = None  # the first Failure of the running property (before shrinking)
        self.tool_deadline: float | None = None  # time.monotonic() at which the current tool's share ends
        self.tool_share: float | None = None  # seconds: the current tool's share of --max-time, counted from its first call
        self.share_ended = False  # check() ended the current tool's share
        self.tool_cap: float | None = None  # seconds of calls the current tool may take (--tool-time)
        self.spent = 0.0  # seconds the current tool's calls took so far
        self.spent_by: dict[str, float] = {}  # seconds each tool's calls took in its earlier parts (the read-only probe goes on from there)
        self.cap_ended = False  # check() ended the current tool at its cap
        self.part_budget: float | None = None  # seconds of calls the current part of the tool may take
        self.part_spent = 0.0  # seconds the current part's calls took so far
        self.part_ended = False  # check() ended the current part
        self.call_seconds: list[float] = []  # how long the current part's answered calls took
        self.cut_parts: list[str] = []  # the current tool's parts that stopped at their time
        self.listen = False  # restarted sessions also open the list_changed channel (connect.start_listening)

    def check(self) -> None:
        """Before each call and each generated input: the run's --max-time (budget.OutOfTime),
        then the current tool's share of the campaign's time, its cap and its part's (ShareUsed)."""
        budget.current().check()
        if self.tool_deadline is not None and time.monotonic() > self.tool_deadline:
            self.share_ended = True
            raise ShareUsed()
        if self.tool_cap is not None and self.spent >= self.tool_cap:
            self.cap_ended = True
            raise ShareUsed()
        if self.part_budget is not None and self.part_spent + self.typical_call() > self.part_budget:
            # used up, or the next call (as long as this part's calls so far) would take it past:
            # the tool's next part runs (its calls may be quick: invalid inputs rejected at once)
            self.part_ended = True
            raise ShareUsed()

    def part(self, parts_left: int) -> None:
        """The current tool's next part (a mode, its idempotency probe) may take an even part of
        the call time left in the tool's cap (no bound without a cap); its calls are timed afresh."""
        self.call_seconds, self.part_spent, self.part_ended = [], 0.0, False
        self.part_budget = None if self.tool_cap is None else max(0.0, self.tool_cap - self.spent) / max(1, parts_left)

    def part_used(self) -> bool:
        """Did the current part's time (not the tool's share or cap, not the run's budget) run out?"""
        return self.part_ended and not self.share_ended and not self.cap_ended and not budget.current().expired

    def part_left(self) -> float | None:
        """Seconds of calls the current part may still take (None: no bound)."""
        return None if self.part_budget is None else max(0.0, self.part_budget - self.part_spent)

    def typical_call(self) -> float:
        """Seconds the current part's calls usually take (typical(): the median of its last five
        answers): a part stops before a call that would take it past its time."""
        return typical(self.call_seconds)

    def _timed(self, ex: Any) -> Any:
        if isinstance(ex, Exchange) and ex.method == "tools/call" and ex.elapsed is not None:
            self.spent += ex.elapsed
            self.part_spent += ex.elapsed
            if ex.answered:
                self.call_seconds.append(ex.elapsed)
        return ex

    def share(self, seconds: float | None, cap: float | None = None, spent: float = 0.0) -> None:
        """Give the next tool `seconds` of the campaign's time (None: no bound but the run's), and
        at most `cap` seconds of calls (--tool-time: what its calls take, not mcpcheck's own work
        generating inputs), of which its calls already took `spent` (a later part of the same
        tool: the cap is for all its calls). The share's clock starts at its first call, so
        one-off costs before it (Hypothesis warming up, building the tool's strategies) do not
        count against it."""
        self.tool_share, self.tool_deadline, self.share_ended = seconds, None, False
        self.tool_cap, self.spent, self.cap_ended = cap, spent, False
        self.part_budget, self.part_spent, self.part_ended, self.call_seconds, self.cut_parts = None, 0.0, False, [], []
        ABANDON_AT.set(None)

    def _start_share(self) -> None:
        """At the tool's first call: its share starts. A call still waiting one --timeout after
        the share ended (one that keeps reporting progress) is abandoned, never judged."""
        if self.tool_share is not None and self.tool_deadline is None:
            self.tool_deadline = time.monotonic() + self.tool_share
            ABANDON_AT.set(self.tool_deadline + self.ctx.target.timeout)

    def share_used(self) -> bool:
        """Did the current tool's share or cap (not the run's budget) run out?"""
        ended = self.share_ended or self.cap_ended or (self.tool_deadline is not None and time.monotonic() > self.tool_deadline)
        return ended and not budget.current().expired

    def run(self, awaitable: Any) -> Any:
        """Run a coroutine on the campaign's own loop."""
        return self._timed(self._await(awaitable))

    def ready(self) -> None:
        """Before a call: a dead server, or one that stopped answering ping, is restarted (a
        blocked server would make the next input look guilty). Raises TargetGone when that fails."""
        if self.gone is not None:
            _raise_gone(self.gone)
        if self.session.alive and not self.unresponsive:
            return
        try:
            self.restart()
        except TransportError as exc:
            self.gone = TargetGone(f"the server could not be reached again after it {'died' if not self.session.alive else 'stopped answering ping'}: {exc}", self.last_failure)
            _raise_gone(self.gone)
        self.unresponsive = False

    def call(self, name: str, args: Any, *, timeout: float | None = None, progress: bool = True) -> Exchange:
        """One tools/call through the live session; `timeout` (default: the target's) bounds it;
        `progress`: ask for progress notifications (they extend the wait, up to a cap)."""
        # --max-time is checked by the session before every request, and here, outside the
        # properties' own bodies (derandomized inputs are seeded from a property's source);
        # so is the tool's share of the campaign's time
        self.check()
        self._start_share()
        budget.current().tick()
        self.ready()
        return self._timed(self._await(self.session.request("tools/call", {"name": name, "arguments": args}, progress=progress, timeout=timeout)))

    def start_call(self, name: str, args: Any) -> "asyncio.Task[Exchange]":
        """Send a tools/call and return at once; `self.run(task)` collects the answer. One pass
        of the loop writes the request to the server's stdin, so the server works on it while
        the caller does something else (stdio only: other transports need the loop to send)."""
        self.check()
        self._start_share()
        budget.current().tick()
        self.ready()
        loop = asyncio.get_event_loop()
        task = loop.create_task(self.session.request("tools/call", {"name": name, "arguments": args}, progress=True))
        # one pass of the loop (no Task for a sleep(0)): the new task runs up to its first real
        # wait, after the write; a request that still waits to be sent is sent by `run(task)`
        loop.call_soon(loop.stop)
        loop.run_forever()
        return task

    def cancel(self, ex: Exchange) -> None:
        """Tell the server to stop working on a request we gave up on (notifications/cancelled)."""
        rid = ex.request.get("id") if isinstance(ex.request, dict) else None
        if rid is not None and self.session.alive:
            self._await(self.session.notify("notifications/cancelled", {"requestId": rid, "reason": "mcpcheck: timed out"}))

    def restart(self) -> None:
        async def go() -> Session:
            await self.session.close()
            return await open_session(self.ctx.target, self.ctx.revision or "", extra_env=self.env, listen=self.listen)

        self.session = self._await(go())
        self.sessions.append(self.session)
        self.ctx.session = self.session

    # ----------------------------------------------------------------- judging
    def tool_call(self, tool: dict[str, Any], args: Any, ex: Exchange, kind: str = "valid", **extra: Any) -> ToolCall:
        """What the registry's tool_call checks judge about one call of this runner's session.
        A call whose transport failed is followed by a liveness ping (crash evidence)."""
        s = self.session
        if s.alive and (ex.transport_error is not None or ex.ping_answered is False):
            self._await(s.check_liveness(ex))
        if ex.ping_answered is False:
            self.unresponsive = True
        return ToolCall(
            tool=tool, arguments=args, exchange=ex, kind=kind, elapsed=ex.elapsed, secrets=tuple(self.secrets),
            alive=s.alive, closed_reason=s.transport.closed_reason, stderr=s.wirelog.stderr_text(1200) if not s.alive or ex.transport_error else "",
            timeout=ex.timeout or self.ctx.target.timeout, stdout=self._stdout_of(ex), ping_answered=ex.ping_answered, **extra,
        )

    def _stdout_of(self, ex: Exchange) -> list:
        """S1 per call: the stdout lines between the request and its answer are this call's."""
        if self.ctx.target.transport != "stdio" or ex.request_entry is None:
            return []
        log = self.session.wirelog
        end = ex.response_entry.seq if ex.response_entry is not None else len(log.entries) - 1
        return [e for e in log.entries[ex.request_entry.seq + 1 : end + 1] if e.channel == "stdout"]

    def judge(self, call: ToolCall, skip: Callable[[Any, Violation], bool] = lambda _s, _v: False, oracle: dict[str, Any] | None = None) -> None:
        """Every tool_call check over one call: raise Failure for the first violation (Hypothesis
        shrinks towards it); observations (info) are recorded, never shrunk. `skip(spec, v)`
        drops violations the caller already reported. A call we gave up on is cancelled."""
        ex = call.exchange
        if ex.timed_out and not ex.answered and call.alive and ex.transport_error is None:
            self.cancel(ex)
        for spec, v in self.ctx.judge_call(call):
            if skip(spec, v):
                continue
            if v.severity is not None and v.severity.value == "info":
                self.ctx.record(spec, [v])
                continue
            self.last_failure = Failure(spec, v, oracle, call)
            if self.first_failure is None:
                self.first_failure = self.last_failure
            raise self.last_failure

    # ----------------------------------------------------------------- running properties
    def record_failure(self, fail: Failure, mode: str, cfg: Any, constraint: str | None = None, note: str = "") -> None:
        """A shrunk failure becomes a Finding and (once per finding) a corpus/ entry. A crash is
        first replayed alone on a fresh server (confirm_alone)."""
        fail = self.confirm_alone(fail)
        v = fail.violation
        if note:
            v.detail += note
        if v.tool:
            record_with_entry(self.ctx, cfg, fail.spec, v, tool=v.tool, arguments=v.input, mode=fail.mode or mode, constraint=constraint, oracle=fail.oracle)
        else:
            self.ctx.record(fail.spec, [v])

    def run_property(self, prop: Callable[[], None], mode: str, cfg: Any, constraint_of: Callable[[], str | None] = lambda: None) -> str | None:
        """Run a Hypothesis property; record its (shrunk) failure. Returns a note when it could not run."""
        last_failure()
        self.last_failure = self.first_failure = None
        try:
            with shrink_budget(cfg.shrink_seconds):
                prop()
        except Failure as fail:
            self.record_failure(fail, mode, cfg, constraint_of())
        except budget.OutOfTime:
            self.keep_cut_failure(mode, cfg, constraint_of())
            raise
        except TargetGone as gone:
            self._record_gone(gone, mode, cfg, constraint_of())
            raise
        except Flaky as exc:  # the failure did not reproduce on replay (e.g. a hang that came and went)
            if budget.out_of_time(exc):  # not flaky: --max-time stopped a draw half-way
                self.keep_cut_failure(mode, cfg, constraint_of())
                raise budget.OutOfTime() from exc
            inner = [e for e in getattr(exc, "exceptions", ()) if isinstance(e, (Failure, TargetGone))]
            gone = next((e for e in inner if isinstance(e, TargetGone)), None)
            if gone is not None:  # not flaky: the server went away while Hypothesis replayed
                self._record_gone(gone, mode, cfg, constraint_of())
                raise gone
            first = self.first_failure
            if inner and first is not None and first.call is not None and self._crashes_alone(first.spec, first.call, first.call.arguments):
                # shrinking walked towards a threshold (a hang shrinks to a call just past the
                # timeout) where the failure comes and goes; the input that failed first fails
                # again on its own, so it is a finding at full severity, unshrunk
                first.confirmed = True  # type: ignore[attr-defined]
                first.violation.detail += (" (shrinking reached inputs that failed only some of the time; this is the input that failed first, "
                                           "which failed again on its own when replayed)")
                self.record_failure(first, mode, cfg, constraint_of())
            elif inner:
                # an observation, not a finding at full severity: it did not happen again
                fail = inner[0]
                fail.violation.severity = Severity.info
                self.record_failure(fail, mode, cfg, constraint_of(), note=" (flaky: did not reproduce on every replay, so reported as an observation)")
            else:
                return f"{mode}: flaky ({exc})"
        except Unsatisfiable as exc:
            return f"{mode}: could not generate inputs ({exc})"
        return None

    def keep_cut_failure(self, mode: str, cfg: Any, constraint: str | None = None) -> None:
        """--max-time ran out while a failure was being searched for or shrunk: record the
        newest failing input (as far as it was shrunk) rather than lose it."""
        fail = last_failure()
        if fail is not None:
            self.record_failure(fail, mode, cfg, constraint, note=" (shrinking cut short by --max-time)")

    def _record_gone(self, gone: "TargetGone", mode: str, cfg: Any, constraint: str | None) -> None:
        """The failure being shrunk when the server went away for good, recorded unshrunk."""
        fail = gone.failure
        if fail is not None:
            self.record_failure(fail, mode, cfg, constraint, note=f" (not shrunk: {gone})")
            gone.failure = None

    # ----------------------------------------------------------------- a minimal input is a reproduced input
    def confirm_alone(self, fail: Failure) -> Failure:
        """Issue 13, class 6: an input blamed for a crash must crash a FRESH server on its own (stdio:
        a new process; other transports: a new session). If the (shrunk) input does not, the
        original failing input of the property is tried the same way and reported instead, with a
        note; if neither does, the original is reported and the note says the crash needs what was
        sent before it. A crash proven to need the input's odd unicode (the same input without those
        characters does not crash a fresh server) is filed under fuzz.unicode."""
        call = fail.call
        if call is None or fail.spec.category not in CRASH_CATEGORIES or self.gone is not None or getattr(fail, "confirmed", False):
            return fail
        fail.confirmed = True  # type: ignore[attr-defined]
        fresh = "a fresh server" if self.ctx.target.transport == "stdio" else "a fresh session"
        alone = self._crashes_alone(fail.spec, call, call.arguments)
        if alone:
            fail.violation.detail += f" (reproduced alone on {fresh})"
            return self._by_cause(fail, fresh)
        first = self.first_failure
        if (first is not None and first.call is not None and first.call.name == call.name and first.spec.category in CRASH_CATEGORIES
                and _shown(first.call.arguments) != _shown(call.arguments)):
            first.confirmed = True  # type: ignore[attr-defined]
            if self._crashes_alone(first.spec, first.call, first.call.arguments):
                first.violation.detail += (f" (the shrunk input {_shown(call.arguments)} did not crash {fresh} on its own, so this is the "
                                           f"original failing input, which did)")
                return self._by_cause(first, fresh)
            first.violation.detail += (f" (neither this original input nor the shrunk {_shown(call.arguments)} crashes {fresh} on its own: "
                                       "the crash needs what was sent before it)")
            return first
        if alone is None:
            fail.violation.detail += f" (not replayed alone: {fresh} could not be started)"
        else:
            fail.violation.detail += f" (this input does not crash {fresh} on its own: the crash needs what was sent before it)"
        return fail

    def _crashes_alone(self, spec: Any, call: ToolCall, args: Any) -> bool | None:
        """Send `args` as `call` to a fresh server; whether `spec` finds the crash again (None: no
        fresh server could be had)."""
        try:
            self.restart()
            ex = self._await(self.session.request("tools/call", {"name": call.name, "arguments": args}, progress=True))
        except TransportError:
            return None
        again = self.tool_call(call.tool, args, ex, call.kind, constraint=call.constraint, where=call.where, soft=call.soft)
        self.unresponsive = self.unresponsive or not again.alive
        return any(s.id == spec.id for s, _ in self.ctx.judge_call(again))

    def _by_cause(self, fail: Failure, fresh: str) -> Failure:
        """A crash of a generated input that holds odd unicode, and that the same input without it
        does not reproduce on a fresh server, is a unicode crash (fuzz.unicode)."""
        call = fail.call
        odd = TC.odd_unicode(call.arguments) if call is not None and fail.spec.id == TC.no_crash.id else []
        if not odd or not self.ctx.wants(TC.unicode):
            return fail
        plain = _without(call.arguments, odd)
        if self._crashes_alone(fail.spec, call, plain) is not False:
            return fail
        chars = ", ".join(f"U+{ord(c):04X}" for c in odd)
        v = fail.violation
        v.detail += f"; the cause is odd unicode ({chars}): the same input without it does not crash {fresh}"
        v.key = f"{call.name}/crash"
        out = Failure(TC.unicode, v, fail.oracle, call)
        out.mode = "unicode"
        out.confirmed = True  # type: ignore[attr-defined]
        return out

    def keyed(self, prop: Any, tool: str, what: str, cfg: Any) -> Any:
        """One Hypothesis identity per (target, tool, property): the properties of every tool are
        built by the same function, so without this they share one example-database key (a
        failure saved for one tool was replayed on another and deleted as passing) and, when
        derandomized, one sequence of random choices. Then the --seed, if any: set as @seed sets
        it, but without the `database=None` @seed adds, so a seeded shard still saves to and
        replays from the shared database (--database; without one, randomness() gives None)."""
        prop.hypothesis.inner_test._hypothesis_internal_add_digest = f"mcpcheck:{self.ctx.target.name}:{tool}:{what}".encode()
        if cfg.seed is not None:
            prop._hypothesis_internal_use_seed = cfg.seed
        return prop


def _shown(args: Any, limit: int = 120) -> str:
    text = json.dumps(args, ensure_ascii=True, sort_keys=True, default=repr)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} bytes)"


def _without(value: Any, chars: list[str]) -> Any:
    """`value` with each of `chars` in its strings replaced by "a"."""
    if isinstance(value, str):
        for c in chars:
            value = value.replace(c, "a")
        return value
    if isinstance(value, dict):
        return {_without(k, chars): _without(v, chars) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, chars) for v in value]
    return value


def _raise_gone(gone: TargetGone) -> None:
    """One raise site, so Hypothesis sees every replay after the server went away as the same failure."""
    raise gone


# ----------------------------------------------------------------- one call, outside Hypothesis


def call_of(ctx: CampaignContext, tools: dict, tool: str, args: Any, ex: Any, kind: str, **extra: Any) -> ToolCall:
    """A ToolCall of one call made on ctx.s (outside a ToolRunner: replay, stateful replay)."""
    s = ctx.s
    lines = []
    if ctx.target.transport == "stdio" and ex.request_entry is not None:
        log = s.wirelog
        end = ex.response_entry.seq if ex.response_entry is not None else len(log.entries) - 1
        lines = [e for e in log.entries[ex.request_entry.seq + 1 : end + 1] if e.channel == "stdout"]
    return ToolCall(
        tool=tools.get(tool) or {"name": tool}, arguments=args, exchange=ex, kind=kind, elapsed=ex.elapsed,
        alive=s.alive, closed_reason=s.transport.closed_reason, stderr=s.wirelog.stderr_text(1200) if not s.alive else "",
        timeout=ex.timeout or ctx.target.timeout, stdout=lines, ping_answered=ex.ping_answered, **extra,
    )


def grouped(found: list[tuple[CheckSpec, Violation]]) -> list[tuple[CheckSpec, list[Violation]]]:
    out: dict[str, tuple[CheckSpec, list[Violation]]] = {}
    for spec, v in found:
        out.setdefault(spec.id, (spec, []))[1].append(v)
    return list(out.values())


async def judge_call(ctx: CampaignContext, name: str, tool: str, args: Any, tools: dict, *, mode: str = "valid", constraint: str | None = None, twice: bool = False) -> list[tuple[CheckSpec, list[Violation]]]:
    """One tools/call on ctx.s, judged by every `tool_call` check of the registry as a call of
    that mode (and for idempotency when `twice`). Also the judge of each call step of a
    stateful replay. `name` (the corpus file) prefixes crash and hang details."""
    ex = await ctx.s.request("tools/call", {"name": tool, "arguments": args})
    if ex.transport_error is not None and ctx.s.alive:
        await ctx.s.check_liveness(ex)  # a crash needs evidence
    kind = mode if mode in ("invalid", "oversized", "unicode") else "valid"
    found = ctx.judge_call(call_of(ctx, tools, tool, args, ex, kind, constraint=constraint if kind != "valid" else None))
    if twice and ex.answered and ctx.s.alive:
        again = await ctx.s.request("tools/call", {"name": tool, "arguments": args})
        if again.answered:
            further = []
            if ex.ok and again.ok and not TC.volatile_only(ex, again):  # as the fuzz campaign does
                for _ in range(FURTHER_CALLS):
                    more = await ctx.s.request("tools/call", {"name": tool, "arguments": args})
                    if not more.answered:
                        break
                    further.append(more)
            found += ctx.judge_call(call_of(ctx, tools, tool, args, again, "repeat", first=ex, further=tuple(further)))
    for spec, v in found:
        if spec.id in ("fuzz.no_crash", "fuzz.no_hang", "fuzz.slow", "fuzz.resource_limits", "fuzz.unicode"):
            v.detail = f"replaying {name}: {v.detail}"
    return grouped(found)
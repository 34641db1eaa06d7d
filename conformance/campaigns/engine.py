"""The Hypothesis-driven call engine the fuzz, stateful and envelope campaigns share.

`ToolRunner` owns a session on a campaign's own event loop (own_loop.py): it calls tools
(sequentially or one in flight), restarts a dead server, cancels a call it gave up on, and judges
each call with the registry's `tool_call` checks (`judge_call`). The first violation that is not
an observation raises `Failure`, so Hypothesis shrinks the input towards it; `run_property` runs a
property under the shrink budget and records its (shrunk) failure as a Finding and a corpus entry.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Callable

from hypothesis.errors import Flaky, Unsatisfiable

from ..connect import open_session
from ..corpus import CorpusEntry, save_entry
from ..findings import CheckSpec, Violation
from ..registry import ToolCall
from ..session import Exchange, Session
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
    engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = saved


def record_with_entry(ctx: CampaignContext, cfg: Any, spec: Any, v: Violation, **entry: Any) -> None:
    """Record a shrunk failure as a Finding and, the first time that finding is recorded (and
    cfg.write_corpus), as a corpus/ entry: `entry` gives tool, arguments, mode and any other
    CorpusEntry field; target, check, revision, detail, seed and evidence come from here.
    The one corpus writer of the fuzz, stateful and envelope campaigns."""
    if ctx.record(spec, [v]) and cfg.write_corpus:
        save_entry(
            CorpusEntry(
                target=ctx.target.name,
                check=spec.id,
                revision=ctx.revision,
                detail=v.detail,
                seed=cfg.seed,
                evidence=[e.to_dict(500) for e in v.evidence][:4],
                **entry,
            ),
            cfg.corpus_dir,
        )


class Failure(AssertionError):
    """A check's violation, raised inside a Hypothesis property so that it shrinks the input."""

    def __init__(self, spec: Any, violation: Violation, oracle: dict[str, Any] | None = None) -> None:
        super().__init__(violation.detail)
        self.spec, self.violation = spec, violation
        self.oracle = oracle  # what replay needs beyond the arguments (CorpusEntry.oracle)


class ToolRunner:
    """Drives Hypothesis on the thread that owns the session's event loop (own_loop.py):
    `self._await(coro)` runs the loop until the coroutine is done."""

    def __init__(self, ctx: CampaignContext, session: Session, env: dict[str, str], secrets: list[str], run: Await) -> None:
        self.ctx, self.session, self.env, self.secrets = ctx, session, env, secrets
        self._await = run
        self.sessions = [session]

    def run(self, awaitable: Any) -> Any:
        """Run a coroutine on the campaign's own loop."""
        return self._await(awaitable)

    def call(self, name: str, args: Any) -> Exchange:
        if not self.session.alive:
            self.restart()
        return self._await(self.session.request("tools/call", {"name": name, "arguments": args}, progress=True))

    def start_call(self, name: str, args: Any) -> "asyncio.Task[Exchange]":
        """Send a tools/call and return at once; `self.run(task)` collects the answer. One pass
        of the loop writes the request to the server's stdin, so the server works on it while
        the caller does something else (stdio only: other transports need the loop to send)."""
        if not self.session.alive:
            self.restart()
        task = asyncio.get_event_loop().create_task(self.session.request("tools/call", {"name": name, "arguments": args}, progress=True))
        self._await(asyncio.sleep(0))
        return task

    def cancel(self, ex: Exchange) -> None:
        """Tell the server to stop working on a request we gave up on (notifications/cancelled)."""
        rid = ex.request.get("id") if isinstance(ex.request, dict) else None
        if rid is not None and self.session.alive:
            self._await(self.session.notify("notifications/cancelled", {"requestId": rid, "reason": "mcpcheck: timed out"}))

    def restart(self) -> None:
        async def go() -> Session:
            await self.session.close()
            return await open_session(self.ctx.target, self.ctx.revision or "", extra_env=self.env)

        self.session = self._await(go())
        self.sessions.append(self.session)
        self.ctx.session = self.session

    # ----------------------------------------------------------------- judging
    def tool_call(self, tool: dict[str, Any], args: Any, ex: Exchange, kind: str = "valid", **extra: Any) -> ToolCall:
        """What the registry's tool_call checks judge about one call of this runner's session."""
        s = self.session
        return ToolCall(
            tool=tool, arguments=args, exchange=ex, kind=kind, elapsed=ex.elapsed, secrets=tuple(self.secrets),
            alive=s.alive, closed_reason=s.transport.closed_reason, stderr=s.wirelog.stderr_text(1200) if not s.alive or ex.transport_error else "",
            timeout=self.ctx.target.timeout, stdout=self._stdout_of(ex), **extra,
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
        if ex.timed_out and call.alive and ex.transport_error is None:
            self.cancel(ex)
        for spec, v in self.ctx.judge_call(call):
            if skip(spec, v):
                continue
            if v.severity is not None and v.severity.value == "info":
                self.ctx.record(spec, [v])
                continue
            raise Failure(spec, v, oracle)

    # ----------------------------------------------------------------- running properties
    def record_failure(self, fail: Failure, mode: str, cfg: Any, constraint: str | None = None, note: str = "") -> None:
        """A shrunk failure becomes a Finding and (once per finding) a corpus/ entry."""
        v = fail.violation
        if note:
            v.detail += note
        if v.tool:
            record_with_entry(self.ctx, cfg, fail.spec, v, tool=v.tool, arguments=v.input, mode=mode, constraint=constraint, oracle=fail.oracle)
        else:
            self.ctx.record(fail.spec, [v])

    def run_property(self, prop: Callable[[], None], mode: str, cfg: Any, constraint_of: Callable[[], str | None] = lambda: None) -> str | None:
        """Run a Hypothesis property; record its (shrunk) failure. Returns a note when it could not run."""
        try:
            with shrink_budget(cfg.shrink_seconds):
                prop()
        except Failure as fail:
            self.record_failure(fail, mode, cfg, constraint_of())
        except Flaky as exc:  # the failure did not reproduce on replay (e.g. a hang that came and went)
            inner = [e for e in getattr(exc, "exceptions", ()) if isinstance(e, Failure)]
            if inner:
                self.record_failure(inner[0], mode, cfg, constraint_of(), note=" (flaky: did not reproduce on every replay)")
            else:
                return f"{mode}: flaky ({exc})"
        except Unsatisfiable as exc:
            return f"{mode}: could not generate inputs ({exc})"
        return None

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
        timeout=ctx.target.timeout, stdout=lines, **extra,
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
    kind = "invalid" if mode == "invalid" else "valid"
    found = ctx.judge_call(call_of(ctx, tools, tool, args, ex, kind, constraint=constraint if mode == "invalid" else None))
    if twice and ex.answered and ctx.s.alive:
        again = await ctx.s.request("tools/call", {"name": tool, "arguments": args})
        if again.answered:
            found += ctx.judge_call(call_of(ctx, tools, tool, args, again, "repeat", first=ex))
    for spec, v in found:
        if spec.id in ("fuzz.no_crash", "fuzz.no_hang"):
            v.detail = f"replaying {name}: {v.detail}"
    return grouped(found)
"""The load generator: one asyncio loop, our Session, open and closed models.

Open model: calls are started at their intended instants (patterns.arrivals) whatever the state
of earlier calls; latency = completion - intended send time. If more than `max_in_flight` calls
are outstanding, further arrivals are counted as `dropped` (an error) instead of piling up
without bound. Closed model: N client tasks call back to back (optionally with think time);
latency = completion - send.

Inputs come from the pre-generated pool; before the clock starts every pool input is called
once alone (its outcome and unloaded latency), and up to `reference_checks` per tool a second
time: an input that got the same answer twice has a *reference* answer, and any other answer
under load is a mix-up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..config import Target
from ..connect import make_transport
from ..session import Exchange, Session, is_stateless
from ..transport.base import TransportError
from ..transport.stdio import StdioTransport
from ..wirelog import WireEntry, WireLog
from .config import LoadConfig
from .judge import is_load_error, judge, normalize
from .metrics import Recorder
from .patterns import Shape, arrivals
from .pool import Pool, PoolItem

EXAMPLES_KEPT = 20  # per outcome kind, for findings' evidence
TRIM_EXCHANGES = 5000


class BoundedWireLog(WireLog):
    """A WireLog that keeps only the newest `keep` entries (a soak run must not grow without
    bound); sequence numbers stay unique and increasing, and entries that an Exchange still
    references stay alive through that reference."""

    def __init__(self, keep: int = 5000) -> None:
        super().__init__()
        self.keep = keep
        self._count = 0
        self._base = 0

    def record(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        entry = super().record(*args, **kwargs)
        entry.seq = self._count
        self._count += 1
        if len(self.entries) > 2 * self.keep:
            drop = len(self.entries) - self.keep
            del self.entries[:drop]
            self._base += drop
        return entry

    def mark(self) -> int:
        return self._count

    def since(self, mark: int):
        return self.entries[max(0, mark - self._base):]


class CoalescingStdioTransport(StdioTransport):
    """StdioTransport whose writes issued in one event-loop iteration leave in ONE write.

    Under load dozens of requests are sent per loop iteration; one pipe write (a syscall) per
    message was the largest single cost of the generator. Messages are recorded in the WireLog
    exactly as before, in order; only the syscalls are batched. There is no per-message drain:
    the open model's max_in_flight (or the closed model's client count) bounds the buffer.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out: list[bytes] = []
        self._flush_pending = False

    async def _write(self, data: bytes, *, parsed: Any = None, note: str | None = None) -> WireEntry:
        if parsed is None:
            entry = self.wirelog.record("out", "stdin", data, note=note)
        else:
            entry = self.wirelog.record("out", "stdin", data, parsed=parsed, note=note)
        if not self.alive or self.proc is None or self.proc.stdin is None:
            raise TransportError(self.closed_reason or "server not started")
        self._out.append(data)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)
        return entry

    def _flush(self) -> None:
        self._flush_pending = False
        if not self._out or self.proc is None or self.proc.stdin is None:
            return
        data = b"\n".join(self._out) + b"\n"
        self._out.clear()
        try:
            self.proc.stdin.write(data)
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            pass  # the reader sees the process go; pending requests end as transport errors


def load_transport(target: Target):
    if target.transport == "stdio":
        return CoalescingStdioTransport(list(target.command or []), env=dict(target.env), cwd=target.cwd)
    return make_transport(target)


async def open_load_session(target: Target, revision: str, *, keep: int = 5000) -> Session:
    """A ready session (handshake or discover done) whose WireLog is bounded and whose stdio
    writes are coalesced."""
    transport = load_transport(target)
    transport.wirelog = BoundedWireLog(keep)
    session = Session(transport, timeout=target.timeout)
    session.probe_timeouts = False  # load judges its timeouts itself; no grace wait or ping under load
    try:
        await session.start()
    except TransportError:
        await session.close()
        raise
    ex = await (session.discover(revision) if is_stateless(revision) else session.initialize(revision))
    if not ex.ok:
        await session.close()
        what = "server/discover" if is_stateless(revision) else "initialize"
        why = ex.transport_error or ("timed out" if ex.timed_out else f"answered {str(ex.response)[:200]}")
        raise TransportError(f"{what} for {revision} failed: {why}")
    return session


@dataclass
class Example:
    item: PoolItem
    ex: Exchange
    outcome: str
    problem: str | None = None
    latency: float | None = None


@dataclass
class PhaseResult:
    label: str
    seconds: float  # planned length
    sent: int = 0
    dropped: int = 0
    stopped: str | None = None  # why the phase ended early (server gone)
    wall: float = 0.0


@dataclass
class LoadEngine:
    sessions: list[Session]
    pool: Pool
    cfg: LoadConfig
    timeout: float
    validators: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    in_flight: int = 0
    calls: int = 0
    late_ids: set[str] = field(default_factory=set)  # ids of requests that timed out
    dead: str | None = None
    owners: dict[str, PoolItem] = field(default_factory=dict)  # reference answer -> its input

    def __post_init__(self) -> None:
        self._pick = self.pool.picker(self.cfg.seed)
        self._rr = itertools.cycle(self.sessions)

    # ------------------------------------------------------------------ one call
    async def call(self, item: PoolItem) -> Exchange:
        session = next(self._rr) if len(self.sessions) > 1 else self.sessions[0]
        return await session.request("tools/call", {"name": item.tool, "arguments": item.args}, timeout=self.timeout)

    def _keep(self, item: PoolItem, ex: Exchange, outcome: str, problem: str | None, latency: float | None) -> None:
        bucket = self.examples.setdefault(outcome, [])
        if len(bucket) < EXAMPLES_KEPT:
            bucket.append(Example(item, ex, outcome, problem, latency))

    def _after(self, ex: Exchange) -> None:
        self.calls += 1
        if ex.timed_out and isinstance(ex.request, dict):
            from ..session import id_key

            self.late_ids.add(id_key(ex.request.get("id")))
        if ex.transport_error is not None and self.dead is None:
            if not all(s.alive for s in self.sessions):
                self.dead = next((s.transport.closed_reason for s in self.sessions if not s.alive), None) or ex.transport_error
        if self.calls % TRIM_EXCHANGES == 0:
            for s in self.sessions:
                del s.exchanges[:]

    async def _one(self, item: PoolItem, t_int: float, origin: float, recs: list[tuple[Recorder, float]]) -> None:
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        t_send = loop.time()
        try:
            ex = await self.call(item)
        finally:
            self.in_flight -= 1
        t_done = loop.time()
        self._after(ex)
        outcome, problem = judge(ex, item, self.validators.get(item.tool), self.owners)
        load_err = is_load_error(outcome, item)
        latency = t_done - t_int
        for rec, base in recs:
            rec.record(
                tool=item.tool,
                item=item.index,
                offset=t_int - origin + base,
                latency=latency,
                service=t_done - t_send,
                lag=t_send - t_int,
                outcome=outcome,
                load_error=load_err,
            )
        if outcome != "ok":
            self._keep(item, ex, outcome, problem, latency)

    # ------------------------------------------------------------------ calibration
    async def calibrate(self, progress: Callable[[str], None] = lambda _m: None) -> None:
        """Every pool input alone (outcome, unloaded latency); the first `reference_checks` per
        tool twice (a stable answer becomes the reference compared under load)."""
        per_tool: dict[str, int] = {}
        loop = asyncio.get_running_loop()
        for item in self.pool.items:
            if self.dead:
                return
            t0 = loop.time()
            first = await self.call(item)
            item.calib_ms.append((loop.time() - t0) * 1000)
            self._after(first)
            item.calib_outcome, _ = judge(first, item, self.validators.get(item.tool))
            n = per_tool.get(item.tool, 0)
            if n < self.cfg.reference_checks and first.ok and isinstance(first.result, dict):
                per_tool[item.tool] = n + 1
                t0 = loop.time()
                second = await self.call(item)
                item.calib_ms.append((loop.time() - t0) * 1000)
                self._after(second)
                if second.ok and normalize(second.result) == normalize(first.result):
                    item.reference, item.has_reference = normalize(first.result), True
                    item.reference_value = {k: v for k, v in first.result.items() if k != "_meta"}
        self.owners = {}
        for i in self.pool.items:
            if i.has_reference:
                # an answer shared by two inputs proves nothing about who it was meant for
                self.owners[i.reference] = None if i.reference in self.owners else i
        self.owners = {k: v for k, v in self.owners.items() if v is not None}
        refs = sum(1 for i in self.pool.items if i.has_reference)
        progress(f"calibrated {len(self.pool.items)} inputs alone ({refs} with a stable reference answer)")

    # ------------------------------------------------------------------ phases
    async def run_open(self, shape: Shape, label: str, recs: list[tuple[Recorder, float]]) -> PhaseResult:
        loop = asyncio.get_running_loop()
        res = PhaseResult(label, shape.seconds)
        tasks: set[asyncio.Task] = set()
        origin = loop.time() + 0.005
        burst = 0
        cap = self.cfg.max_in_flight
        pick = self._pick
        for off in arrivals(shape, self.cfg.seed):
            if self.dead:
                res.stopped = self.dead
                break
            t_int = origin + off
            delay = t_int - loop.time()
            if delay > 0.0005:
                await asyncio.sleep(delay)
                burst = 0
            else:
                burst += 1
                if burst >= 32:  # behind schedule: still let responses in now and then
                    burst = 0
                    await asyncio.sleep(0)
            item = pick()
            res.sent += 1
            if self.in_flight >= cap:
                res.dropped += 1
                for rec, base in recs:
                    rec.record(tool=item.tool, item=item.index, offset=t_int - origin + base, latency=0.0,
                               service=None, lag=0.0, outcome="dropped", load_error=True)
                continue
            task = loop.create_task(self._one(item, t_int, origin, recs))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(list(tasks), timeout=self.timeout + 5)
        res.wall = loop.time() - origin
        return res

    async def run_closed(self, shape: Shape, label: str, recs: list[tuple[Recorder, float]], think: float = 0.0) -> PhaseResult:
        loop = asyncio.get_running_loop()
        res = PhaseResult(label, shape.seconds)
        origin = loop.time()
        end = origin + shape.seconds
        pick = self._pick

        async def client(i: int) -> None:
            while True:
                now = loop.time()
                if now >= end or self.dead:
                    return
                if i >= shape.clients_at(now - origin):
                    await asyncio.sleep(min(0.05, end - now))
                    continue
                item = pick()
                res.sent += 1
                await self._one(item, loop.time(), origin, recs)
                if think:
                    await asyncio.sleep(think)

        await asyncio.gather(*(client(i) for i in range(shape.max_clients)))
        if self.dead:
            res.stopped = self.dead
        res.wall = loop.time() - origin
        return res

    async def run_phase(self, shape: Shape, label: str, recs: list[tuple[Recorder, float]]) -> PhaseResult:
        if self.cfg.model == "closed":
            return await self.run_closed(shape, label, recs, self.cfg.think_time)
        return await self.run_open(shape, label, recs)

    # ------------------------------------------------------------------ slow inputs
    async def confirm(self, item: PoolItem) -> tuple[float, Exchange]:
        t0 = time.monotonic()
        ex = await self.call(item)
        self._after(ex)
        return (time.monotonic() - t0) * 1000, ex

"""`--jobs N`: work that shares no state runs at once, in worker processes, merged in a fixed order.

Work units (plan): per target, one per campaign; the fuzz campaign in N parts (each part pays its
own server, warm-up and observers: more parts cost more than they even out), split by tool (FuzzSettings.part, a sharding.Shard by_tool: the tools
dealt out in listing order; every property of a tool in the same part, so the process that calls
a tool sees all its calls and its per-tool cap holds for all of them); the campaigns that test
every era in turn (PER_ERA: conformance, envelope) one unit per era. The parent detects the eras
once (runner.detect_and_announce, which also says the safety plan) and gives them to every unit,
so no unit probes them again. A target whose config says `jobs = 1` (a stateful server that cannot
take parallel sessions) is one unit, its campaigns one after another as in a `--jobs 1` run; a
target with `jobs = K` never has more than K units running at once. A run with one unit, or with
`--jobs 1`, is the sequential run in this process (runner.run), unchanged.

Workers are `python -m mcpcheck.jobs_worker` processes, at most N at once, each taking units one at a
time (its imports are paid once). A unit is a fresh runner.run_target over its campaigns with
its own sessions and server processes (each stdio server in its own temporary directory), the
same seed and settings, and the run's deadline. The safety plan is said once, by the parent,
before any tool is called. Workers send each progress step and, every second, what their unit is
doing; the parent's RunState has one activity per unit, so the live display and the CI heartbeat
(a line at least every 5 s) show every unit that is running.

Results come back as data (runner.TargetOutcome) and are merged per target in the fixed unit
order (campaigns as requested, eras newest first, fuzz parts by number), never in completion order: findings with
the same stable id are one finding (their instances joined), the check ledger combines per
(check, revision) (error, then failed, then passed, then skipped; counts add), notes keep unit
order, the fuzz parts' per-tool reports add up. The properties are seeded per (tool, property),
not by what ran before, so findings and corpus are those of a `--jobs 1` run with the same seed;
corpus files are named by their content (corpus.save_entry), so parts never collide.

`--max-time`: every worker has the run's deadline, so each campaign stops at its next step as in
a sequential run; units not started by then are cut as "not started"; a worker still busy GRACE
seconds after the deadline is ended (its server processes and temporary directories too) and the
report says which unit was ended and that its results are missing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pickle
import signal
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from . import budget
from .config import Target
from .findings import Severity
from .sharding import Shard
from .transport.stdio import SERVER_TMPDIR_ENV  # the TMPDIR a worker's servers get back

NO_ANSWER_IN_TIME = "no answer from the server within --max-time"  # runner's error for a unit never answered
GRACE = 10.0  # seconds a worker may overrun the deadline before it is ended
BEAT = 1.0  # seconds between a worker's activity reports
# conformance first (it finds the eras a report needs even when --max-time is short: with fuzz
# parts first, a 20 s budget on a server that sleeps in every tool ended with no era detected),
# then longest first (fewer idle workers at the end); the merge order never depends on it
LONGEST_FIRST = {"conformance": 0, "fuzz": 1, "security": 2, "stateful": 3, "http-security": 4, "envelope": 5, "replay": 6}
PARTS_PER_JOB = 1  # fuzz parts per worker (2 was slower: clean fixture 73 s vs 63 s, server-everything 60-66 s vs 52 s, --jobs 2)
PER_ERA = ("conformance", "envelope")  # campaigns that test every era in turn: one unit per era
LINE_LIMIT = 1 << 28  # a unit's result is one line
WORKER = "mcpcheck.jobs_worker"  # python -m WORKER: the worker process (jobs_worker.py)


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve(jobs: int | None) -> int:
    """--jobs: None means MCPCHECK_JOBS when set, else the number of cores."""
    if jobs is None:
        env = os.environ.get("MCPCHECK_JOBS", "").strip()
        if env.isdigit() and int(env) >= 1:
            return int(env)
        return cores()
    if int(jobs) < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    return int(jobs)


@dataclass
class Unit:
    index: int  # position in the merge order
    target: Target
    campaigns: list[str]
    part: Shard | None = None  # fuzz: this unit's part of the (tool, property) work units
    eras: tuple[str, ...] = ()  # the eras the parent detected (the unit does not probe them again)
    era: int | None = None  # a per-era campaign (PER_ERA): the index of the one era this unit runs

    @property
    def label(self) -> str:
        name = ", ".join(self.campaigns)
        if self.era is not None:
            return f"{name} [{self.eras[self.era]}]"
        return f"{name} {self.part.index}/{self.part.count}" if self.part else name


def plan(targets: list[Target], names: list[str], jobs: int, kw: dict[str, Any]) -> tuple[list[Unit], dict[str, list[str]]]:
    """The work units in merge order, and per target the notes that say how it was split."""
    from .profiles import applies

    units: list[Unit] = []
    notes: dict[str, list[str]] = {}
    sharded = getattr(kw.get("fuzz_settings"), "shard", None) is not None
    for t in targets:
        mine = [n for n in names if not kw.get("applicable_only") or applies(n, t.transport)]
        limit = min(jobs, t.jobs or jobs)
        if limit == 1:
            units.append(Unit(len(units), t, mine))
            if len(mine) > 1 or "fuzz" in mine:
                notes[t.name] = [f"jobs: target {t.name} has jobs = 1 in its config: its campaigns ran one after another"]
            continue
        for n in mine:
            if n == "fuzz" and not sharded:
                k = limit * PARTS_PER_JOB
                units += [Unit(len(units), t, [n], Shard(i, k, by_tool=True)) for i in range(1, k + 1)]
            else:
                units.append(Unit(len(units), t, [n]))
    return units, notes


# --------------------------------------------------------------------------- the parent


async def run_parallel(
    targets: list[Target], names: list[str], jobs: int, state: budget.RunState, *, runner: Any, progress: Callable[[str], None] = lambda _m: None, **kw: Any
) -> list[Any] | None:
    """See _run_parallel. With a replay unit, the corpus as it was when the run began is recorded
    first (corpus.record_at_start): the replay unit judges only that, never what the fuzz units
    of this run save meanwhile (a sequential run replays before it fuzzes)."""
    if "replay" not in names:
        return await _run_parallel(targets, names, jobs, state, runner=runner, progress=progress, **kw)
    import tempfile

    from .corpus import AT_START_ENV, record_at_start

    root = _corpus_root(kw)
    fd, where = tempfile.mkstemp(prefix="mcpcheck-corpus-at-start-", suffix=".json")
    os.close(fd)
    before = os.environ.get(AT_START_ENV)
    try:
        record_at_start([root], where)
        return await _run_parallel(targets, names, jobs, state, runner=runner, progress=progress, **kw)
    finally:
        os.unlink(where)
        if before is None:
            os.environ.pop(AT_START_ENV, None)
        else:
            os.environ[AT_START_ENV] = before


def _corpus_root(kw: dict[str, Any]) -> str:
    """The corpus directory of the run: --corpus, the fuzz settings', MCPCHECK_CORPUS, ./corpus."""
    fs = kw.get("fuzz_settings")
    return kw.get("corpus_dir") or (fs.corpus_dir if fs is not None else None) or os.environ.get("MCPCHECK_CORPUS") or "corpus"


async def _run_parallel(
    targets: list[Target], names: list[str], jobs: int, state: budget.RunState, *, runner: Any, progress: Callable[[str], None] = lambda _m: None, **kw: Any
) -> list[Any] | None:
    """Run the targets' work units in up to `jobs` worker processes; None when there is nothing
    to run at once (one unit) or the run cannot cross a process boundary (settings holding a
    callback): then runner.run runs it sequentially. runner: the mcpcheck.runner module (this
    module sits below it: the runner calls it, it never imports the runner)."""
    from .results import TargetResult

    TOOL_CAMPAIGNS, run_target = runner.TOOL_CAMPAIGNS, runner.run_target
    runner.campaigns()  # the checks a sequential run has: the workers load the same (compared at start)
    units, split_notes = plan(targets, names, jobs, kw)
    if len(units) <= 1:
        return None
    wire = {k: v for k, v in kw.items() if k != "applicable_only"}
    try:
        pickle.dumps(wire)
    except Exception:  # noqa: BLE001 - e.g. FuzzSettings.observe (a test's callback)
        return None
    pool = _Pool(min(jobs, len(units)), state, progress)
    starting = asyncio.ensure_future(pool.start())  # workers import while the safety plan is said
    heads: dict[str, TargetResult] = {}
    try:
        for t in targets:
            head = heads[t.name] = TargetResult(name=t.name, transport=t.transport, description=t.describe())
            mine = {n for u in units if u.target is t for n in u.campaigns}
            if len([u for u in units if u.target is t]) <= 1:  # one unit: it detects the eras itself
                if TOOL_CAMPAIGNS & mine:
                    await runner.announce_tools(t, head, progress)
                continue
            found = await runner.detect_and_announce(t, head, progress, announce=bool(TOOL_CAMPAIGNS & mine))  # once here, not once per unit
            if found is None:
                # not detected or not listed: the campaigns say why (one unit, as in a sequential run)
                units = _whole(units, t)
                continue
            units = _detected(units, t, *found)
        units = [replace(u, index=i) for i, u in enumerate(units)]
        ok = await starting
    except BaseException:
        starting.cancel()
        await pool.close(kill=True)
        raise
    if not ok:  # a worker cannot load the checks this process has: one job, here
        await pool.close()
        outcomes = []
        for t in targets:
            o = await run_target(t, names, progress=progress, announce=False, **kw)
            o.result.notes[:0] = heads[t.name].notes
            o.result.notes.append(f"jobs: ran one campaign after another in this process (--jobs {jobs} asked): a worker process could not load the same checks (checks registered at run time, not by an importable module?)")
            outcomes.append(o)
        return outcomes
    for u in units:
        state.activities.append(budget.Activity(u.target.name, u.label))
    t0 = time.monotonic()
    try:
        done = await pool.run(units, wire)
    except BaseException:  # a campaign raised, or the run was interrupted: end every worker now
        await pool.close(kill=True)
        raise
    await pool.close()
    outcomes = []
    for t in targets:
        mine = [u for u in units if u.target is t]
        parts = [done[u.index] for u in mine]
        for u, p in zip(mine, parts):
            for c in p.cuts:
                state.cut(c)
        span = [p.span for p in parts if p.span]
        took = (max(e for _s, e in span) - min(s for s, _e in span)) if span else time.monotonic() - t0
        workers = len({p.worker for p in parts if p.worker is not None})
        took_each = [f"{u.label} ({p.span[1] - p.span[0]:.1f}s)" if p.span else f"{u.label} (not run)" for u, p in zip(mine, parts)]
        said = [f"jobs: {len(mine)} work unit(s) of this target ran in {workers} worker process(es) (--jobs {jobs}): " + ", ".join(took_each)]
        outcomes.append(merge(t, mine, [p.outcome for p in parts], heads[t.name].notes + split_notes.get(t.name, []) + said, names, kw, took))
    return outcomes


def _detected(units: list[Unit], t: Target, eras: list[str], tools: list[str]) -> list[Unit]:
    """The target's units told what the parent detected: the eras (each per-era campaign's unit,
    conformance and envelope, becomes one unit per era, in era order: the merge order of a
    sequential run, which tests one era after the other) and the tools in listing order (the
    fuzz parts deal them out in turn, an even split even of a few tools)."""
    out: list[Unit] = []
    for u in units:
        if u.target is not t:
            out.append(u)
        elif len(eras) > 1 and u.campaigns[0] in PER_ERA and len(u.campaigns) == 1:
            out += [replace(u, eras=tuple(eras), era=i) for i in range(len(eras))]
        elif u.part is not None and tools:
            out.append(replace(u, eras=tuple(eras), part=replace(u.part, tools=tuple(tools))))
        else:
            out.append(replace(u, eras=tuple(eras)))
    return out


def _whole(units: list[Unit], t: Target) -> list[Unit]:
    """The target's units as one unit, in the place of its first."""
    out: list[Unit] = []
    mine = [u for u in units if u.target is t]
    names = list(dict.fromkeys(n for u in mine for n in u.campaigns))
    for u in units:
        if u.target is not t:
            out.append(u)
        elif u is mine[0]:
            out.append(Unit(u.index, t, names))
    return out


@dataclass
class Done:
    outcome: Any  # runner.TargetOutcome
    cuts: list[str]
    span: tuple[float, float] | None = None
    worker: int | None = None  # the pid of the worker that ran it


class _Worker:
    def __init__(self, pool: "_Pool", n: int) -> None:
        self.pool, self.n = pool, n
        self.proc: asyncio.subprocess.Process | None = None
        self.tail: list[str] = []  # its last stderr lines
        self._err: asyncio.Task | None = None
        self.tmp: str | None = None  # its TMPDIR: its servers' working directories live there

    async def start(self) -> bool:
        import tempfile

        # every temporary directory the worker's servers get is made in one of its own, removed
        # when it ends: one the worker could not remove itself (ended with SIGKILL on a busy
        # machine, GRACE after --max-time) is not left behind
        self.tmp = tempfile.mkdtemp(prefix="mcpcheck-worker-")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", WORKER,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, limit=LINE_LIMIT,
            env={**os.environ, "TMPDIR": self.tmp, SERVER_TMPDIR_ENV: os.environ.get("TMPDIR", "")},
        )
        self._err = asyncio.create_task(self._forward_stderr())
        from .registry import REGISTRY

        from .plugins import inactive

        off = inactive()  # plugin checks of an earlier run in this process: this run leaves them out
        mine = [c for c in REGISTRY.checks() if c.id not in off]
        checks = {(c.id, c.origin) for c in mine}
        # the modules that registered checks, in registration order, so the worker's registry
        # has the same checks in the same order; plugins are loaded as plugins (their origin)
        modules = [(m, plugin) for (m, plugin) in dict.fromkeys((c.fn.__module__, c.origin != "mcpcheck") for c in mine)]
        self.send({"init": {"path": list(sys.path), "modules": modules}})
        msg = await self.read(None)
        return msg is not None and msg.get("t") == "ready" and {tuple(c) for c in msg["checks"]} == checks

    def send(self, obj: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(base64.b64encode(pickle.dumps(obj)) + b"\n")

    async def read(self, timeout: float | None) -> dict | None:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        return json.loads(line) if line else None

    async def _forward_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.tail = [*self.tail[-19:], text]
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    async def end(self, *, kill: bool = False) -> None:
        p = self.proc
        if p is None:
            return
        if p.returncode is None:
            try:
                if kill:  # its handler ends its servers and removes their temporary directories
                    os.killpg(p.pid, signal.SIGTERM)
                else:
                    assert p.stdin is not None
                    p.stdin.close()
                await asyncio.wait_for(p.wait(), 5)
            except (asyncio.TimeoutError, ProcessLookupError, PermissionError, OSError):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                await p.wait()
        if self._err is not None:
            try:
                await asyncio.wait_for(self._err, 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                self._err.cancel()
        self.proc = None
        if self.tmp is not None:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


class _Pool:
    def __init__(self, size: int, state: budget.RunState, progress: Callable[[str], None]) -> None:
        self.size, self.state, self.progress = size, state, progress
        self.workers: list[_Worker] = []

    async def start(self) -> bool:
        self.workers = [_Worker(self, i) for i in range(self.size)]
        ready = await asyncio.gather(*(w.start() for w in self.workers), return_exceptions=True)
        return all(r is True for r in ready)

    async def close(self, *, kill: bool = False) -> None:
        await asyncio.gather(*(w.end(kill=kill) for w in self.workers), return_exceptions=True)

    async def run(self, units: list[Unit], wire: dict[str, Any]) -> dict[int, Done]:
        state = self.state
        queue = sorted(units, key=lambda u: (LONGEST_FIRST.get(u.campaigns[0], 9) if len(u.campaigns) == 1 else -1, u.index))
        running: dict[str, int] = {}  # target -> units running
        done: dict[int, Done] = {}
        more = asyncio.Event()

        def take() -> Unit | None:
            for u in queue:
                if running.get(u.target.name, 0) < (u.target.jobs or self.size):
                    queue.remove(u)
                    running[u.target.name] = running.get(u.target.name, 0) + 1
                    return u
            return None

        async def serve(w: _Worker) -> None:
            while queue:
                u = take()
                if u is None:  # every waiting unit's target is at its limit: wait for one to finish
                    more.clear()
                    await more.wait()
                    continue
                try:
                    done[u.index] = await self.one(w, u, wire)
                finally:
                    running[u.target.name] -= 1
                    more.set()

        await asyncio.gather(*(serve(w) for w in self.workers))
        return done

    async def one(self, w: _Worker, u: Unit, wire: dict[str, Any]) -> Done:
        from .results import TargetOutcome, TargetResult

        state = self.state
        act = next(a for a in state.activities if a.target == u.target.name and a.campaign == u.label and a.state == "waiting")
        empty = TargetOutcome(result=TargetResult(name=u.target.name, transport=u.target.transport, description=u.target.describe()))
        if state.expired:
            act.state = "cut"
            note = f"time budget: --max-time {state.max_time:g}s used up; campaign {u.label} not started"
            empty.result.notes.append(note)
            return Done(empty, [f"{u.target.name}: {u.label} not started"])
        if w.proc is None or w.proc.returncode is not None:  # the last unit's worker was ended
            if not await w.start():
                raise RuntimeError("a --jobs worker could not be started again")
        kw = dict(wire)
        if u.eras:
            kw["known_eras"] = list(u.eras)
        if u.era is not None:
            kw["era_only"] = u.era
        if u.part is not None:
            from .campaigns.fuzz import FuzzSettings

            kw["fuzz_settings"] = replace(kw.get("fuzz_settings") or FuzzSettings(), part=u.part)
        w.send({"unit": {"target": u.target, "names": u.campaigns, "kw": kw, "max_time": state.max_time, "remaining": state.remaining() if state.max_time else None}})
        act.state = "running"
        state.changed.set()
        started = time.monotonic()
        pid = w.proc.pid if w.proc else None
        while True:
            try:
                msg = await w.read(state.remaining() + GRACE if state.max_time else None)
            except asyncio.TimeoutError:
                await w.end(kill=True)
                act.state = "cut"
                note = f"time budget: --max-time {state.max_time:g}s used up; campaign {u.label} did not stop within {GRACE:g}s of it and was ended: its results are missing"
                empty.result.notes.append(note)
                return Done(empty, [f"{u.target.name}: {u.label} ended {GRACE:g}s after the budget"], (started, time.monotonic()), pid)
            if msg is None:  # the worker died
                code = w.proc.returncode if w.proc else None
                await w.end()
                act.state = "error"
                why = " | ".join(w.tail[-3:]) or "no output"
                empty.result.notes.append(f"jobs: the worker running {u.label} exited (code {code}) before it finished: {why}; its results are missing")
                return Done(empty, [], (started, time.monotonic()), pid)
            t = msg.get("t")
            if t == "step":
                self.progress(msg["m"])
            elif t == "log":
                getattr(self.progress, "log", self.progress)(msg["m"])
            elif t == "act":
                act.doing, act.done, act.planned, act.findings = msg["doing"], msg["done"], msg["planned"], msg["findings"]
                state.changed.set()
            elif t == "fail":
                raise RuntimeError(f"{u.target.name}: campaign {u.label} failed in a --jobs worker:\n{msg['error']}")
            elif t == "done":
                data = pickle.loads(base64.b64decode(msg["data"]))
                outcome = data["outcome"]
                states = data["states"] or ["done"]
                act.state = next((s for s in ("error", "cut") if s in states), "done")
                act.findings = sum(1 for f in outcome.findings if f.severity > Severity.info)
                act.doing = data.get("doing") or act.doing
                state.changed.set()
                return Done(outcome, data["cuts"], (started, time.monotonic()), pid)


# --------------------------------------------------------------------------- the merge


def merge(target: Target, units: list[Unit], parts: list[Any], head_notes: list[str], names: list[str], kw: dict[str, Any], took: float) -> Any:
    """One target's units as one TargetOutcome, in the fixed unit order (see the module doc).

    The parts of the fuzz campaign are one campaign of a sequential run: their findings are
    taken in the order that run would have recorded them (tool, then property: the position
    each was first recorded at), and per new finding the corpus entry of its first position is
    written, so report and corpus are those of a --jobs 1 run."""
    from .campaigns.fuzz import merge_reports, tool_notes
    from .corpus import save_entry
    from .results import TargetOutcome, TargetResult, constraint_table, corpus_refs, merge_eras

    result = TargetResult(name=target.name, transport=target.transport, description=target.describe())
    result.notes = list(head_notes)
    findings: list[Any] = []
    by_id: dict[str, Any] = {}
    ledger: dict[tuple[str, str | None], Any] = {}
    tools: set[str] = set()
    group: list[tuple[Unit, Any]] = []  # the fuzz parts seen so far (consecutive units)
    starved: str | None = None  # a unit whose budget ran out before its first answer
    for i, (u, o) in enumerate(zip(units, parts)):
        r = o.result
        if not result.eras and r.eras:
            result.eras = list(r.eras)
        result.server_info = result.server_info if result.server_info is not None else r.server_info
        result.capabilities = result.capabilities if result.capabilities is not None else r.capabilities
        tools |= set(r.tools)
        result.resources, result.prompts = max(result.resources, r.resources), max(result.prompts, r.prompts)
        if result.error is None and r.error:
            if r.error.startswith(NO_ANSWER_IN_TIME):  # moot when another unit got answers (below)
                starved = starved or r.error
            else:
                result.error = r.error
        if r.stderr_tail:
            result.stderr_tail = r.stderr_tail
        _combine_ledger(ledger, o.checks)
        if u.part is None:
            result.notes.extend(r.notes)
            if o.fuzz_reports:
                result.constraints = constraint_table(o.fuzz_reports)
            _add_findings(findings, by_id, o.findings)
            continue
        group.append((u, o))
        if i + 1 < len(units) and units[i + 1].part is not None:
            continue
        # after the last part: one fuzz campaign
        seen_notes: list[str] = []
        for _u, p in group:  # the parts say the same per-tool things (tools not called): once
            for n in p.result.notes:
                if n not in seen_notes:
                    seen_notes.append(n)
        reports = merge_reports([list(p.fuzz_reports) for _u, p in group])
        result.notes.extend(seen_notes + tool_notes(reports))
        result.constraints = constraint_table(reports)
        last = (float("inf"),)
        stream = sorted(
            ((tuple(p.first_at.get(f.id) or last), k, j, f) for k, (_u, p) in enumerate(group) for j, f in enumerate(p.findings)),
            key=lambda x: x[:3],
        )
        new = [f.id for *_k, f in stream if f.id not in by_id]
        held: dict[str, tuple] = {}
        for k, (_u, p) in enumerate(group):
            for j, (fid, pos, entry, root) in enumerate(p.held_entries):
                key = (tuple(pos) if pos is not None else last, k, j)
                if fid in new and (fid not in held or key < held[fid][0]):
                    held[fid] = (key, entry, root)
        for fid in new:
            if fid in held:
                _key, entry, root = held[fid]
                save_entry(entry, root)
        _add_findings(findings, by_id, [f for *_k, f in stream])
        group = []
    result.tools = sorted(tools)
    result.duration_s = round(took, 3)
    if starved is not None and result.error is None and not result.eras and not ledger:
        result.error = starved  # not one unit got an answer: the run did not test the server
    if {"fuzz", "stateful", "replay", "envelope"} & set(n for u in units for n in u.campaigns):
        root = _corpus_root(kw)
        result.corpus = corpus_refs(target.name, str(root), result.notes)
    if "security" in {n for u in units for n in u.campaigns}:
        # one finding per leak across campaigns (security.fold_leaks): fuzz ran in another worker
        from .campaigns.security import fold_leak_findings

        fold_leak_findings(findings, ledger)
    checks = [ledger[k] for k in sorted(ledger, key=lambda k: (k[0], k[1] or ""))]
    return TargetOutcome(result=result, findings=merge_eras(findings), checks=checks)


def _add_findings(findings: list[Any], by_id: dict[str, Any], new: list[Any]) -> None:
    """Findings of the next unit: one per stable id, as CampaignContext.record keeps them."""
    from .campaigns.context import MAX_INSTANCES

    for f in new:
        same = by_id.get(f.id)
        if same is None:
            by_id[f.id] = f
            findings.append(f)
            continue
        for extra in [f.detail, *f.instances]:
            if extra != same.detail and extra not in same.instances and len(same.instances) < MAX_INSTANCES:
                same.instances.append(extra)


def _combine_ledger(ledger: dict[tuple[str, str | None], Any], checks: list[Any]) -> None:
    """Per (check, revision): error, then failed, then passed, then skipped; the counts add."""
    for c in checks:
        key = (c.id, c.revision)
        have = ledger.get(key)
        if have is None:
            ledger[key] = c.model_copy()
            continue
        count = have.count + c.count
        if RANK[c.status] > RANK[have.status]:
            have = ledger[key] = c.model_copy()
        have.count = count


RANK = {"skipped": 0, "passed": 1, "failed": 2, "error": 3}

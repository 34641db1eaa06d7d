"""The per-tool fuzz campaign: Hypothesis drives tools/call with generated arguments.

For every tool mcpcheck may call (see conformance/safety.py) and every input class (valid,
invalid), Hypothesis generates arguments from the tool's inputSchema (strategies/), the call goes
through the real session, and the pure checks in conformance/checks/tools.py judge the answer.
A violation fails the Hypothesis example, Hypothesis shrinks it, and the minimal case becomes a
Finding and a corpus/ entry that `mcpcheck run --campaign replay` re-runs forever after.

Hypothesis is synchronous and the session is asyncio, so the campaign runs on a worker thread
that owns the session's event loop and runs it for each call (own_loop.py): no thread hand-off
per call. Every call keeps its timeout; crashes and stray output are read with the next call.

Under a --max-time each tool gets its own bounded share of the campaign's time (`tool_share`:
what is left, split among the tools still to fuzz, so a fast tool's unused time flows to the
next); and its calls may take at most the per-tool cap in all (`--tool-time`,
FuzzSettings.tool_seconds, the profiles' default: call time, not mcpcheck's own generating, so
one tool whose calls take seconds cannot set the length of a run), split evenly among its parts
(valid, invalid, strings inputs, idempotency). A tool that uses up its share or cap stops with a
note naming it, its calls and the bound; the other tools still run. FuzzSettings' max_sweep, sweep_case_seconds, surrogates, max_string_bytes
and read_only_probe are what the quick profile (profiles.py) turns down, each with a note.
"""

from __future__ import annotations

import copy
import json
import os
import secrets as _secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from .. import budget
from ..checks import jsonrpc as J
from ..checks import tools as TC
from ..connect import list_tools, session_for
from ..results import TargetResult
from ..safety import may_call
from ..session import Exchange
from ..sharding import Shard
from ..sharding import note as shard_note
from ..sharding import unit_name
from . import exampledb
from .context import CampaignContext
from .engine import FURTHER_CALLS, Failure, TargetGone, ToolRunner, hypothesis_notes, last_failure
from .engine import record_with_entry, shrink_budget  # noqa: F401 - part of this module's API
from .own_loop import Await, run_on_own_loop

CANARY_ENV = "MCPCHECK_CANARY_SECRET"


@dataclass
class FuzzSettings:
    # per tool and mode; `tox -e fuzz` raises it through MCPCHECK_MAX_EXAMPLES
    max_examples: int = field(default_factory=lambda: int(os.environ.get("MCPCHECK_MAX_EXAMPLES") or 25))
    # examples per tool for invalid inputs (None: max_examples); mutants cost more to generate
    invalid_examples: int | None = None
    seed: int | None = None
    # "strings": oversized and odd-unicode strings in every string field (fuzz.resource_limits, fuzz.unicode)
    modes: tuple[str, ...] = ("valid", "invalid", "strings")
    write_corpus: bool = True
    # where shrunk failures are written: MCPCHECK_CORPUS, else ./corpus
    corpus_dir: str = field(default_factory=lambda: os.environ.get("MCPCHECK_CORPUS") or "corpus")
    # called as observe(tool, mode, arguments) for every generated input (seed reproducibility tests)
    observe: Callable[[str, str, Any], None] | None = None
    # wall-clock bound on shrinking one failure (Hypothesis' own bound is 300 s)
    shrink_seconds: float = field(default_factory=lambda: float(os.environ.get("MCPCHECK_SHRINK_SECONDS") or 60))
    # shared Hypothesis example database (exampledb.py): --database, else MCPCHECK_HYPOTHESIS_DB
    database: str | None = field(default_factory=lambda: exampledb.configured())
    # --shard I/N: run only this shard's (target, tool, property) work units (mcpcheck/sharding.py)
    shard: Shard | None = None
    # --jobs: this worker's part of the (target, tool, property) work units (the sharding model,
    # within one machine); the parent merges the parts' ToolReports and writes the per-tool notes
    part: Shard | None = None
    # the largest string the "strings" mode sends (sizes grow 1 KiB, 64 KiB, 1 MiB, 8 MiB up to it)
    max_string_bytes: int = field(default_factory=lambda: int(os.environ.get("MCPCHECK_MAX_STRING_BYTES") or 8 * 1024 * 1024))
    # the "strings" mode sends lone surrogates (a server that drops them costs a whole --timeout each)
    surrogates: bool = True
    # constraint-sweep cases per tool (None: MAX_SWEEP); capped below that, one case per constraint
    # kind comes first (the shallowest), so each row of the enforcement table is tried
    max_sweep: int | None = None
    # seconds generating one sweep case may take (None: unbounded); a slower one (a constraint
    # deep in nested arrays) is left to the random search, with a note
    sweep_case_seconds: float | None = None
    # the read-only probe (observer / tool / observer around every read-only tool)
    read_only_probe: bool = True
    # seconds one tool may be fuzzed in one protocol era (None: no cap but the run's --max-time
    # share): a tool whose calls take seconds each gets this much, not the run's length
    # (`--tool-time`, MCPCHECK_TOOL_SECONDS; the CLI's default is the profile's)
    tool_seconds: float | None = field(default_factory=lambda: float(os.environ.get("MCPCHECK_TOOL_SECONDS") or 0) or None)


def example_database(cfg: "FuzzSettings | None" = None):
    """The Hypothesis example database of the campaign: none by default; `--database` or
    MCPCHECK_HYPOTHESIS_DB shares one between nightly machines (campaigns/exampledb.py)."""
    spec = cfg.database if cfg is not None else exampledb.configured()
    return exampledb.open_database(spec)


def randomness(cfg: "FuzzSettings") -> dict[str, Any]:
    """Hypothesis settings for where inputs come from: derandomized (the same inputs every run)
    unless a seed is given, or a shared database is set (Hypothesis needs randomness for one)."""
    db = example_database(cfg)
    return {"database": db, "derandomize": cfg.seed is None and db is None}


def campaign_phases(cfg: "FuzzSettings", *phases: Phase) -> list[Phase]:
    """The given phases, plus `reuse` (replay the database's examples first) when one is set."""
    return [Phase.reuse, *phases] if cfg.database else list(phases)


@dataclass
class ToolReport:
    """Per tool: what was generated and which schema constraints the server enforces."""

    tool: str
    engine: str = ""
    note: str = ""
    calls: int = 0
    skipped: str | None = None
    enforced: dict[str, bool] = field(default_factory=dict)  # constraint -> rejected when violated
    here: bool = True  # False: no work unit of this tool ran in this --jobs part (another part's)


async def run_fuzz(ctx: CampaignContext, result: TargetResult, cfg: FuzzSettings | None = None) -> None:
    await run_on_own_loop(_fuzz_noted, ctx, result, cfg or getattr(ctx, "fuzz_settings", None) or FuzzSettings())


def _fuzz_noted(run: Await, ctx: CampaignContext, result: TargetResult, cfg: FuzzSettings) -> None:
    from mcpcheck.strategies.mutations import stop_check

    ctx.shrink_bound = cfg.shrink_seconds  # type: ignore[attr-defined]
    with hypothesis_notes(ctx, "fuzz"), stop_check(budget.current().check):
        _fuzz(run, ctx, result, cfg)


def _fuzz(run: Await, ctx: CampaignContext, result: TargetResult, cfg: FuzzSettings) -> None:
    """The campaign body, on the thread that owns the session's loop (see own_loop.py)."""
    secret = f"MCPCHK_SECRET_{_secrets.token_hex(8)}"
    env = {CANARY_ENV: secret} if ctx.target.transport == "stdio" else {}
    eras, session = run(session_for(ctx.target, result.eras, extra_env=env))
    if not result.eras:
        result.eras = eras
    era = eras[0]  # fuzz in the newest era the server speaks
    ctx.revision, ctx.session = era, session
    runner = FuzzRunner(ctx, session, env, [secret], run)
    if cfg.part is not None:  # --jobs: the parent writes the corpus entries in a sequential run's order
        ctx.held_entries = []
    reports: list[ToolReport] = []
    ctx.fuzz_reports = reports  # type: ignore[attr-defined]  # filled as it goes: a cut run keeps its table
    ran: list[str] = []  # work units run here (all of them unless --shard)
    planned: list[str] = []

    def mine(tool: str, prop: str) -> bool:
        """Is the work unit (this target, tool, prop) this shard's? Counts it either way."""
        planned.append(unit_name(tool, prop))
        if cfg.shard is not None and not cfg.shard.owns(ctx.target.name, tool, prop):
            return False
        if cfg.part is not None and not cfg.part.owns(ctx.target.name, tool, prop):
            return False
        ran.append(unit_name(tool, prop))
        return True

    try:
        listed = run(list_tools(session))
        _fuzz_tools(ctx, runner, listed, cfg, reports, era, mine, ran)
    finally:
        run(runner.session.close())
        if ctx.target.transport == "stdio" and ctx.wants(TC.stdout_clean) and not any(f.check == TC.stdout_clean.id for f in ctx.findings):
            # stdout junk outside any call (banners, late prints), judged over the whole log with
            # the same rule; per-call junk was judged (and shrunk) per call already
            ctx.record(TC.stdout_clean, list(J.check_stdout_lines([e for s in runner.sessions for e in s.wirelog.entries])))
    result.tools = sorted({r.tool for r in reports} | set(result.tools))
    ctx.fuzz_reports = reports  # type: ignore[attr-defined]
    if cfg.shard is not None:
        ctx.notes.append(shard_note(cfg.shard, "fuzz", ran, len(planned)))
    if cfg.part is not None:  # --jobs: the parent writes the per-tool notes from every part's reports
        for rep in reports:
            rep.here = rep.skipped is not None or any(u.startswith(f"{rep.tool}:") for u in ran)
        return
    ctx.notes.extend(tool_notes(reports))


def tool_notes(reports: list[ToolReport]) -> list[str]:
    """The per-tool lines of the report's notes: calls and the constraint-enforcement table."""
    out = []
    for rep in reports:
        if rep.enforced:
            table = ", ".join(f"{c}={'enforced' if ok else 'NOT enforced'}" for c, ok in sorted(rep.enforced.items()))
            out.append(f"fuzz: {rep.tool} [{rep.engine}] {rep.calls} calls; constraints: {table}")
        elif not rep.skipped:
            out.append(f"fuzz: {rep.tool} [{rep.engine}] {rep.calls} calls" + (f"; {rep.note}" if rep.note else ""))
    return out


def merge_reports(parts: list[list[ToolReport]]) -> list[ToolReport]:
    """The ToolReports of the --jobs parts of one fuzz campaign as one list, in the order the
    tools were listed: per tool the calls add up, a constraint is enforced only if every part
    that tried it saw it enforced, and a tool no part fuzzed (cut by --max-time) is left out."""
    order: list[str] = []
    merged: dict[str, ToolReport] = {}
    for reports in parts:
        for rep in reports:
            if rep.tool not in order:
                order.append(rep.tool)
            if not rep.here:
                continue
            into = merged.get(rep.tool)
            if into is None:
                merged[rep.tool] = copy.deepcopy(rep)
                continue
            into.calls += rep.calls
            into.engine = into.engine or rep.engine
            for piece in (rep.note or "").split("; "):
                if piece and piece not in (into.note or "").split("; "):
                    into.note = (into.note + "; " if into.note else "") + piece
            if into.skipped is None or rep.skipped is None:
                into.skipped = None
            for c, ok in rep.enforced.items():
                into.enforced[c] = into.enforced.get(c, True) and ok
    return [merged[t] for t in order if t in merged]


def _fuzz_tools(ctx: CampaignContext, runner: "FuzzRunner", listed: list[dict[str, Any]], cfg: FuzzSettings, reports: list[ToolReport], era: str, mine: Callable[[str, str], bool], ran: list[str]) -> None:
    """Every tool mcpcheck may call, every mode; then the read-only probe. A server that died or
    stopped answering and cannot be reached again ends the campaign with a note (TargetGone);
    the run's --max-time ends it with a note of what was not fuzzed (budget.OutOfTime)."""
    from mcpcheck.strategies.mutations import stop_check

    state = budget.current()
    # tools this machine (and --jobs part) will call: the shares split the time among them
    callable_ = [may_call(t, ctx.target.safety) is None and _ours(cfg, ctx.target.name, str(t.get("name")), t) for t in listed]
    read_only = [t for t in listed if _is_read_only(t) and may_call(t, ctx.target.safety) is None]
    # the read-only probe's work units (asked once: mine() counts what it is asked)
    probed = {str(t["name"]) for t in read_only if mine(str(t["name"]), "read-only")} if len(read_only) > 1 and cfg.read_only_probe else set()
    try:
        for i, tool in enumerate(listed):
            name = tool.get("name")
            rep = ToolReport(tool=str(name))
            reports.append(rep)
            why = may_call(tool, ctx.target.safety)
            if why is not None:
                rep.skipped = why
                ctx.notes.append(f"fuzz: not calling {name}: {why}")
                continue
            left = max(1, sum(callable_[i:]))
            share = tool_share(state, left)
            runner.share(share, cfg.tool_seconds)

            def stopped() -> None:  # the tool's share or cap cut it (or a part of it): say so
                cut = f" (cut: {', '.join(runner.cut_parts)})" if runner.cut_parts else ""
                if not runner.share_ended and (runner.cap_ended or runner.cut_parts):
                    cap = cfg.tool_seconds
                    how = "stopped at" if runner.cap_ended else "kept within"  # its calls used the cap, or parts were cut before they would
                    ctx.notes.append(f"time budget: fuzz: {name} {how} the per-tool cap ({cap:g}s of calls per protocol era, --tool-time) "
                                     f"after {rep.calls} calls{cut}; the other tools still run")
                    state.cut(f"{ctx.target.name}: fuzz {name} {how} the {cap:g}s per-tool cap after {rep.calls} calls")
                else:
                    ctx.notes.append(f"time budget: fuzz: {name} stopped at its share of the time budget ({share:.1f}s: the time left "
                                     f"split among the {left} tools still to fuzz) after {rep.calls} calls{cut}; the other tools still run")
                    state.cut(f"{ctx.target.name}: fuzz {name} stopped at its {share:.1f}s share after {rep.calls} calls")

            try:
                with stop_check(runner.check):
                    _fuzz_one(ctx, runner, tool, i, len(listed), cfg, rep, era, mine, str(name) in probed)
                if runner.cut_parts:
                    stopped()
                if cfg.shard is not None and not any(u.startswith(f"{name}:") for u in ran):
                    rep.skipped = f"another shard's work (--shard {cfg.shard})"
            except budget.OutOfTime:
                if runner.share_used():  # this tool's share or cap, not the run's budget: the next tool runs
                    stopped()
                    continue
                rest = [str(t.get("name")) for t in listed[i + 1 :] if may_call(t, ctx.target.safety) is None]
                ctx.notes.append(f"time budget: fuzz: {name} cut short" + (f"; not fuzzed: {', '.join(rest)}" if rest else ""))
                raise
            finally:
                runner.spent_by[str(name)] = runner.spent
                runner.share(None)
        if len(read_only) > 1 and not cfg.read_only_probe:
            ctx.skip(TC.read_only, _left_out(ctx, "fuzz: the read-only probe (observer / tool / observer)"))
        elif len(read_only) > 1:
            ours = probed
            if ours:
                ctx.position = (len(listed), 0)  # type: ignore[attr-defined]
                ctx.progress(f"{ctx.target.name} [{era}]: read-only tools change nothing ({len(ours)} tools)")
                runner.read_only(read_only, cfg, {r.tool: r for r in reports}, probe=ours)
        else:
            ctx.skip(TC.read_only, "fewer than two read-only tools that mcpcheck may call (only_tools, dangerous_tools, destructive): nothing to observe one through")
    except TargetGone as gone:
        ctx.notes.append(f"fuzz: stopped: {gone}")


# Hypothesis runs a failing input again: while shrinking (another choice sequence that draws the
# same value) and once more to report it. An input that hung each of the HANG_SENDS times it was
# sent (found, by the search or the property, then confirmed) is not sent again for that tool and
# mode: each send of a hang costs the whole timeout and its grace (20 s at the default
# --timeout), and the answer is known.
HANG_SENDS = 2


MIN_SHARE = 3.0  # seconds: no tool's share is smaller (200 fast tools each still get fuzzed)


def tool_share(state: "budget.RunState", tools_left: int) -> float | None:
    """One tool's share of the fuzz campaign's time: the campaign's part of what is left of the
    run's --max-time (split evenly with the campaigns still waiting to start), split evenly among
    the tools still to fuzz, this one included. Recomputed at every tool, so the time a fast tool
    leaves unused flows to the tools after it. The share is counted from the tool's first call
    (ToolRunner.share) and checked before each call and each generated input, so a tool may
    overrun it by one call (bounded by --timeout). None: the run has no --max-time. (The
    per-tool cap, FuzzSettings.tool_seconds, bounds the time the tool's calls take: ToolRunner.share.)"""
    if state.max_time is None:
        return None
    waiting = sum(1 for a in state.activities if a.state == "waiting")
    campaign = max(0.0, state.remaining()) / (1 + waiting)
    return max(MIN_SHARE, campaign / max(1, tools_left))


def _ours(cfg: FuzzSettings, target: str, tool: str, listed: dict[str, Any]) -> bool:
    """Does this machine (--shard) and this worker (--jobs part) own any work unit of the tool?"""
    props = [*cfg.modes, *(["idempotency"] if _is_idempotent(listed) else [])]
    for split in (cfg.shard, getattr(cfg, "part", None)):
        if split is not None and not any(split.owns(target, tool, p) for p in props):
            return False
    return True


def _left_out(ctx: CampaignContext, what: str) -> str:
    """A note (once) for work the run's settings (the profile's, e.g. quick) leave out; returns it."""
    from ..profiles import active

    profile = active()
    text = profile.note(what) if profile is not None else f"{what} not run (fuzz settings)"
    if text not in ctx.notes:
        ctx.notes.append(text)
    return text


def _fuzz_one(ctx: CampaignContext, runner: "FuzzRunner", tool: dict[str, Any], i: int, n: int, cfg: FuzzSettings, rep: ToolReport, era: str, mine: Callable[[str, str], bool], probed_later: bool = False) -> None:
    """Every mode of the i-th of n listed tools, then its idempotency probe (this machine's work
    units only). probed_later: the read-only probe calls it after every tool, under what is left
    of the same per-tool cap, so its even part is kept for it."""
    state = budget.current()
    name = tool.get("name")
    which = f"tool {i + 1}/{n}"
    parts = [mode for mode in cfg.modes if mine(str(name), mode)]  # --shard: another machine's work units left out
    if _is_idempotent(tool) and mine(str(name), "idempotency"):
        parts.append("idempotency")
    for k, part in enumerate(parts):
        # under a share or cap, each part (mode, idempotency) gets an even part of what is left
        # of the tool's, so one whose calls take seconds (valid inputs of a tool that works for
        # 10 s) leaves time for the others (invalid inputs it rejects at once)
        runner.part(len(parts) - k + int(probed_later))
        try:
            if part == "idempotency":
                ctx.position = (i, len(cfg.modes))  # type: ignore[attr-defined]
                ctx.progress(f"{ctx.target.name} [{era}]: {name} repeats (idempotency; {which})")
                runner.idempotency(tool, cfg, rep)
                continue
            ctx.position = (i, cfg.modes.index(part))  # type: ignore[attr-defined]  # where a sequential run is now (--jobs merges by it)
            ctx.progress(f"{ctx.target.name} [{era}]: fuzzing {name} ({part} inputs; {which})")
            state.doing(state.current.doing if state.current else "", planned=cfg.max_examples if part in ("valid", "strings") or cfg.invalid_examples is None else cfg.invalid_examples)
            if part == "strings":
                runner.edge_strings(tool, cfg, rep)
            else:
                runner.fuzz_tool(tool, part, cfg, rep)
        except budget.OutOfTime:
            if not runner.part_used():
                raise
            runner.cut_parts.append(f"{part} inputs" if part != "idempotency" else part)


class _CaseTooSlow(BaseException):
    """Generating one constraint-sweep case took longer than FuzzSettings.sweep_case_seconds."""


_caused_by = budget.caused_by  # an exception raised from / in the context of a `kind`


def informative_first(targets: list[Any]) -> list[Any]:
    """Sweep targets, most informative first: one per constraint kind (the shallowest, so the
    cheapest to generate, first), then the others, shallowest first. A capped sweep then still
    tries every row of the constraint-enforcement table."""
    def depth(t: Any) -> int:
        return str(getattr(t, "path", "") or "").count("/")

    ordered = sorted(targets, key=depth)  # stable: the schema's order within a depth
    first: dict[str, Any] = {}
    for t in ordered:
        first.setdefault(str(getattr(t, "constraint", "")), t)
    chosen = {id(t) for t in first.values()}
    return list(first.values()) + [t for t in ordered if id(t) not in chosen]


def _is_read_only(tool: dict) -> bool:
    ann = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    return ann.get("readOnlyHint") is True


def _is_idempotent(tool: dict) -> bool:
    ann = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    return ann.get("idempotentHint") is True or _is_read_only(tool)


class FuzzRunner(ToolRunner):
    """The fuzz campaign's properties per tool: valid and invalid inputs (with the constraint
    sweep first), idempotency and read-only probes."""

    def fuzz_tool(self, tool: dict[str, Any], mode: str, cfg: FuzzSettings, rep: ToolReport) -> None:
        last_failure()
        try:
            self._fuzz_tool(tool, mode, cfg, rep)
        except budget.OutOfTime:
            self.keep_cut_failure(mode, cfg)
            raise
        except Exception as exc:  # Hypothesis wraps an OutOfTime raised mid-draw (Flaky...)
            if not budget.out_of_time(exc):
                raise
            self.keep_cut_failure(mode, cfg)
            raise budget.OutOfTime() from exc

    def _fuzz_tool(self, tool: dict[str, Any], mode: str, cfg: FuzzSettings, rep: ToolReport) -> None:
        from mcpcheck import strategies

        name = str(tool["name"])
        schema = _schema(tool)
        rev = self.ctx.revision
        try:
            if mode == "valid":
                plan = strategies.plan_valid(schema, revision=rev)
                rep.engine, rep.note = plan.engine, plan.note
                strat = plan.strategy  # drawn as the arguments themselves (a .map costs 0.2 ms per draw)
            else:
                strat = strategies.invalid(schema, revision=rev)  # drawn as a labelled InvalidCase
        except Exception as exc:  # never silently skip a tool: say why
            self.ctx.notes.append(f"fuzz: {name}: cannot generate {mode} inputs: {exc}")
            rep.note = (rep.note + "; " if rep.note else "") + f"no {mode} inputs: {exc}"
            return
        last: dict[str, Any] = {}
        unenforced: set[str] = set()
        hung: dict[str, tuple[int, Failure]] = {}  # an input that hung: times sent, its failure

        def judge(ex: Exchange, args: Any, case: Any) -> None:
            if mode == "valid":
                self.judge(self.tool_call(tool, args, ex, "valid"))
                return
            if ex.answered:
                rejected = not ex.ok or (isinstance(ex.result, dict) and ex.result.get("isError") is True)
                rep.enforced[case.constraint] = rep.enforced.get(case.constraint, True) and rejected
            call = self.tool_call(tool, args, ex, "invalid", constraint=case.constraint, where=case.path, soft=bool(getattr(case, "soft", False)))
            # a constraint the sweep already reported (with its smallest input) is not reported
            # again: the search looks for other failures
            self.judge(call, skip=lambda spec, v: spec.id == TC.invalid_input_rejected.id and case.constraint in unenforced)

        pipe = _Pipeline(self, name, judge, enabled=_can_pipeline(cfg, self.ctx.target.transport))

        @settings(
            max_examples=cfg.max_examples if mode == "valid" or cfg.invalid_examples is None else cfg.invalid_examples,
            deadline=None,
            **randomness(cfg),
            phases=campaign_phases(cfg, Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(strat)
        def property_(drawn: Any) -> None:
            args, case = (drawn, None) if mode == "valid" else (drawn.value, drawn)
            last["args"], last["case"] = args, case
            if pipe.searching:
                if pipe.feed(args, case) and cfg.observe is not None:
                    cfg.observe(name, mode, args)
                return
            if pipe.known_good(args):
                return  # stage 2 replaying the search: this input already passed
            key = _input_key(args)
            seen = hung.get(key)
            if seen is not None and seen[0] >= HANG_SENDS:
                raise seen[1]  # hung each time it was sent: not a further timeout (see HANG_SENDS)
            if cfg.observe is not None:
                cfg.observe(name, mode, args)
            ex = self.call(name, args)
            rep.calls += 1
            try:
                judge(ex, args, case)
            except Failure as fail:
                pipe.reproduced = True
                if _hung(fail):
                    hung[key] = ((seen[0] if seen else 0) + 1, fail)
                raise

        property_ = self.keyed(property_, name, mode, cfg)
        if mode == "invalid":
            unenforced |= self.sweep_constraints(name, schema, cfg, judge, rep)
        problem = None
        if pipe.enabled:
            try:
                problem = pipe.search(property_)
            finally:  # counted even when the tool's share or the run's budget cuts the search
                rep.calls += pipe.calls
        if problem is None and (not pipe.enabled or pipe.failure is not None):
            # stage 2: the same property, sequential, reaches the failing input and shrinks it
            pipe.searching = False
            if pipe.failure is not None and _hung(pipe.failure[0]):  # the search sent it once
                hung[_input_key(pipe.failure[1])] = (1, pipe.failure[0])
            problem = self.run_property(property_, mode, cfg, lambda: getattr(last.get("case"), "constraint", None))
            if pipe.failure is not None and not pipe.reproduced:
                fail, _args, case = pipe.failure
                self.record_failure(fail, mode, cfg, getattr(case, "constraint", None), note=" (not shrunk: it did not happen again when the search was replayed)")
        if problem:
            rep.note = (rep.note + "; " if rep.note else "") + problem
            self.ctx.notes.append(f"fuzz: {name}: {problem}")

    SWEEP_CANDIDATES = 60  # values looked at per sweep case (strategies.simplest): a deep mutant's stays bounded
    MAX_SWEEP = 40  # constraints swept per tool (a huge schema has hundreds; the search covers the rest)

    def sweep_constraints(self, name: str, schema: dict[str, Any], cfg: FuzzSettings, judge: Callable[[Exchange, Any, Any], None], rep: ToolReport) -> set[str]:
        """Before the random search, break each constraint of the inputSchema once, with the
        smallest input that breaks it (strategies.simplest: already shrunk), so that every row of
        the constraint-enforcement table is tried whatever the example budget, and every
        constraint the server does not enforce is its own finding. Returns those constraints."""
        from mcpcheck import strategies
        from hypothesis.errors import NoSuchExample

        failed: set[str] = set()
        try:
            targets = strategies.mutation_targets(schema, self.ctx.revision)
        except Exception:
            return failed
        cap = self.MAX_SWEEP if cfg.max_sweep is None else min(cfg.max_sweep, self.MAX_SWEEP)
        if len(targets) > cap:
            if cfg.max_sweep is not None:
                targets = informative_first(targets)
                _left_out(self.ctx, f"fuzz: the constraint sweep beyond {cap} cases per tool (one per constraint kind first; the random search covers the rest)")
            else:
                self.ctx.notes.append(f"fuzz: {name}: {len(targets)} breakable constraints; the sweep tried the first {cap}, the random search the rest")
        too_slow: list[str] = []
        for target in targets[:cap]:
            self.check()
            self.first_failure = None  # each swept input stands alone
            try:
                case = self._sweep_case(schema, target, cfg)
            except (NoSuchExample, Unsatisfiable):
                continue
            except _CaseTooSlow:
                too_slow.append(f"{target.constraint} at {target.path or '/'}")
                continue
            if cfg.observe is not None:
                cfg.observe(name, "invalid", case.value)
            ex = self.call(name, case.value)
            rep.calls += 1
            try:
                judge(ex, case.value, case)
            except Failure as fail:
                last_failure()  # recorded here: not again if --max-time cuts what follows
                self.record_failure(fail, "invalid", cfg, case.constraint)
                if fail.spec.id == TC.invalid_input_rejected.id:
                    failed.add(case.constraint)
                else:
                    break  # a crash or a hang: the search and its shrinking take it from here
        if too_slow:
            self.ctx.notes.append(f"fuzz: {name}: {len(too_slow)} sweep case(s) took over {cfg.sweep_case_seconds:g}s to generate and were left to the random search: {', '.join(too_slow)}")
        return failed

    def _sweep_case(self, schema: dict[str, Any], target: Any, cfg: FuzzSettings) -> Any:
        """The smallest input that breaks `target`; raises _CaseTooSlow past cfg.sweep_case_seconds."""
        from mcpcheck import strategies
        from mcpcheck.strategies.mutations import stop_check

        deadline = time.monotonic() + cfg.sweep_case_seconds if cfg.sweep_case_seconds is not None else None

        def check() -> None:
            self.check()
            if deadline is not None and time.monotonic() > deadline:
                raise _CaseTooSlow()

        try:
            with stop_check(check):
                # an edit of one valid instance (two small draws); the whole mutant when that fails
                case = strategies.sweep_case(schema, target, self.ctx.revision, check=check)
                if case is not None:
                    return case
                return strategies.simplest(strategies.invalid(schema, revision=self.ctx.revision, target=target), check=check, max_candidates=self.SWEEP_CANDIDATES)
        except Exception as exc:  # Hypothesis may wrap what a draw raised (e.g. FlakyStrategyDefinition)
            if budget.out_of_time(exc):
                raise budget.OutOfTime() from exc
            if deadline is not None and (time.monotonic() > deadline or _caused_by(exc, _CaseTooSlow)):
                raise _CaseTooSlow() from exc
            raise

    MAX_OBSERVERS = 4
    OBSERVER_SLOW = 0.5  # seconds: a read-only tool slower than this to answer observes nothing
    OBSERVER_WAIT = 2.0  # seconds a would-be observer's first call is waited for (a cold server's first call may be slow)

    def read_only(self, tools: list[dict[str, Any]], cfg: FuzzSettings, reports: dict[str, ToolReport], probe: set[str] | None = None) -> None:
        """Read-only tools change nothing observable through other read-only tools (T13 heuristic).

        Each other read-only tool is an observer with its simplest valid arguments, kept only if
        it answers the same twice in a row (time or randomness would be mistaken for a change).
        Then, per tool, a Hypothesis property calls observer / tool / observer and shrinks any
        difference to the smallest arguments that cause it. Observers are called one at a time
        around the tool, so a change is the tool's doing, not another observer's. `probe`: the
        tools to probe (default all; --shard gives this shard's)."""
        from mcpcheck import strategies

        observers: list[tuple[str, Any]] = []
        for t in tools:
            try:
                args = strategies.simplest(strategies.plan_valid(_schema(t), revision=self.ctx.revision).strategy, check=budget.current().check)
            except Exception:
                continue
            a = self.call(t["name"], args, timeout=self.OBSERVER_WAIT, progress=False)
            if a.timed_out and not a.answered:  # a tool that works for seconds observes nothing: not waited for
                self.cancel(a)
                self.ctx.notes.append(f"fuzz: {t['name']} did not answer within {self.OBSERVER_WAIT:g}s: too slow to observe read-only tools through (each example calls an observer twice)")
                continue
            if a.answered and (a.elapsed or 0.0) > self.OBSERVER_SLOW:  # no second call to learn that
                self.ctx.notes.append(f"fuzz: {t['name']} took {a.elapsed:.1f}s to answer: too slow to observe read-only tools through (each example calls an observer twice)")
                continue
            b = self.call(t["name"], args)
            if not (a.answered and b.answered):
                continue
            if (b.elapsed or 0.0) > self.OBSERVER_SLOW:
                self.ctx.notes.append(f"fuzz: {t['name']} took {b.elapsed:.1f}s to answer: too slow to observe read-only tools through (each example calls an observer twice)")
                continue
            if not list(TC.check_read_only(a, b, str(t["name"]), args, str(t["name"]), args)):
                observers.append((str(t["name"]), args))
            else:
                self.ctx.notes.append(f"fuzz: {t['name']} answers differently twice in a row (time or randomness): not used to observe read-only tools")
        if not observers:
            self.ctx.skip(TC.read_only, "no read-only tool answers the same twice in a row: nothing to observe through")
        state = budget.current()
        todo = [t for t in tools if probe is None or str(t["name"]) in probe]  # --shard: this shard's work units
        for k, tool in enumerate(todo):
            name = str(tool["name"])
            mine = [o for o in observers if o[0] != name][: self.MAX_OBSERVERS]
            if not mine:
                continue
            try:
                plan = strategies.plan_valid(_schema(tool), revision=self.ctx.revision)
            except Exception:
                continue
            # each probed tool is bounded as its fuzzing was: its share of --max-time, the per-tool cap
            share = tool_share(state, len(todo) - k)
            self.share(share, cfg.tool_seconds, spent=self.spent_by.get(name, 0.0))  # one cap for all the tool's calls
            self.part(1)  # the last part: it stops before a call that would take it past the cap
            try:
                problem = self.run_property(self._read_only_property(tool, plan.strategy, mine, cfg, reports.get(name)), "valid", cfg)
            except budget.OutOfTime:
                if not (self.share_used() or self.part_used()):
                    raise
                bound = f"its {share:.1f}s share of --max-time" if self.share_ended or not cfg.tool_seconds else f"the per-tool cap ({cfg.tool_seconds:g}s of calls, --tool-time)"
                self.ctx.notes.append(f"time budget: fuzz: {name}: the read-only probe stopped at {bound}; the other tools still run")
                state.cut(f"{self.ctx.target.name}: fuzz {name} read-only probe stopped at {bound}")
                continue
            finally:
                self.share(None)
            if problem:
                self.ctx.notes.append(f"fuzz: {name}: read-only probe stopped: {problem}")

    def _read_only_property(self, tool: dict[str, Any], strategy: Any, observers: list[tuple[str, Any]], cfg: FuzzSettings, rep: ToolReport | None) -> Callable[[], None]:
        name = str(tool["name"])

        @_probe_settings(cfg)
        @given(strategy)
        def unchanged(args: Any) -> None:
            if cfg.observe is not None:
                cfg.observe(name, "read-only", args)
            for observer, o_args in observers:
                before = self.call(observer, o_args)
                ex = self.call(name, args)
                after = self.call(observer, o_args)
                if rep is not None:
                    rep.calls += 3
                if any(e.transport_error is not None or e.timed_out for e in (before, ex, after)):
                    return  # judged by the crash / hang properties, not here
                call = self.tool_call(tool, args, ex, "observed", observer=observer, observer_arguments=o_args, before=before, after=after)
                self.judge(call, oracle={"observer": observer, "observer_arguments": o_args})

        return self.keyed(unchanged, name, "read-only", cfg)

    MAX_STRING_FIELDS = 4  # string fields per tool the "strings" mode fills
    drops_surrogates = False  # the server left a request with a lone surrogate unanswered (observed once)

    def edge_strings(self, tool: dict[str, Any], cfg: FuzzSettings, rep: ToolReport) -> None:
        """Oversized and odd-unicode strings in every string field (issue 13, class 5). Each field
        of the tool's simplest valid arguments (and each top-level string property) gets strings
        of growing size, stopping at the first that fails (so the finding says at what size the
        server fails and which it still answered), then each odd-unicode payload. Deterministic,
        no Hypothesis: the ladder already is the smallest failing input, and a crash is replayed
        alone on a fresh server before it is reported (ToolRunner.confirm_alone)."""
        from mcpcheck import strategies

        name = str(tool["name"])
        schema = _schema(tool)
        try:
            base = strategies.simplest(strategies.plan_valid(schema, revision=self.ctx.revision).strategy)
        except Exception as exc:
            rep.note = (rep.note + "; " if rep.note else "") + f"no string probe: {exc}"
            return
        fields = string_fields(schema, base)[: self.MAX_STRING_FIELDS]
        if not fields:
            return
        self.first_failure = None  # a crash here is checked against this probe's inputs only
        sizes = [n for n in STRING_SIZES if n <= cfg.max_string_bytes]
        if sizes != list(STRING_SIZES):
            _left_out(self.ctx, f"fuzz: strings larger than {_size_label(sizes[-1] if sizes else cfg.max_string_bytes)}")
        usual: list[float] = []  # how long the smallest oversized string took to answer, per field
        for path in fields:
            where = "/" + "/".join(str(p) for p in path)
            answered: list[str] = []
            took: list[tuple[int, float]] = []  # (size, seconds) of this field's answered sizes
            for size in sizes:
                label = _size_label(size)
                expect = ladder_estimate(took, size)
                left = self.part_left()
                if expect is not None and left is not None and expect > left:
                    self.ctx.notes.append(f"time budget: fuzz: {name}: strings of {label} and more not tried in {where}: at the rate of the sizes it answered "
                                          f"({_size_label(took[-1][0])} in {took[-1][1]:.1f}s) one would take about {expect:.0f}s, more than the {left:.1f}s left of this part of the per-tool cap (--tool-time)")
                    self.cut_parts.append(f"strings of {label}")
                    break
                args = _with_value(base, path, (_FILLER * (size // len(_FILLER) + 1))[:size])
                ex = self.call(name, args)
                rep.calls += 1
                if ex.answered and ex.elapsed is not None:
                    took.append((size, ex.elapsed))
                if size == sizes[0] and ex.answered:
                    usual.append(ex.elapsed)
                try:
                    self.judge(self.tool_call(tool, args, ex, "oversized", constraint=label, where=where))
                except Failure as fail:
                    fail.violation.detail += f" (it answered {', '.join(answered)} in the same field)" if answered else " (the smallest size tried)"
                    self.record_failure(fail, "oversized", cfg, label)
                    return  # one size finding per tool: the next tool still runs
                if not ex.answered:
                    break  # no answer at this size: larger ones say nothing more
                answered.append(label)
        for path in fields:
            where = "/" + "/".join(str(p) for p in path)
            for label, text in ODD_STRINGS:
                if self.drops_surrogates and TC.SURROGATE.search(text):
                    continue  # already observed: each costs a whole timeout
                if not cfg.surrogates and TC.SURROGATE.search(text):
                    _left_out(self.ctx, "fuzz: lone surrogates in string fields (a server that drops them costs a whole --timeout each)")
                    continue
                args = _with_value(base, path, text)
                lone = bool(TC.SURROGATE.search(text))
                ex = self.call(name, args, timeout=surrogate_wait(self.ctx.target.timeout, usual) if lone else None)
                rep.calls += 1
                if not ex.answered and ex.transport_error is None and lone:
                    self.drops_surrogates = True
                try:
                    self.judge(self.tool_call(tool, args, ex, "unicode", constraint=label, where=where))
                except Failure as fail:
                    self.record_failure(fail, "unicode", cfg, label)
                    return

    def idempotency(self, tool: dict[str, Any], cfg: FuzzSettings, rep: ToolReport) -> None:
        """Identical calls of a tool annotated idempotentHint/readOnlyHint answer alike (up to
        volatile values); when two differ, FURTHER_CALLS more tell a side effect (the first
        answer never comes back, the change progresses) from time or randomness."""
        from mcpcheck import strategies

        name = str(tool["name"])
        schema = _schema(tool)
        try:
            plan = strategies.plan_valid(schema, revision=self.ctx.revision)
        except Exception:
            return

        @_probe_settings(cfg)
        @given(plan.strategy)
        def twice(args: Any) -> None:
            if cfg.observe is not None:
                cfg.observe(name, "idempotency", args)
            a = self.call(name, args)
            b = self.call(name, args)
            rep.calls += 2
            for ex in (a, b):
                if ex.transport_error is not None or ex.timed_out:
                    return  # judged by the crash / hang properties, not here
            further: list[Exchange] = []
            if a.ok and b.ok and not TC.volatile_only(a, b):
                # a difference time and randomness do not explain: does the first answer come back?
                for _ in range(FURTHER_CALLS):
                    ex = self.call(name, args)
                    rep.calls += 1
                    if ex.transport_error is not None or ex.timed_out:
                        return
                    further.append(ex)
            self.judge(self.tool_call(tool, args, b, "repeat", first=a, further=tuple(further)))  # shrinks to the smallest arguments

        twice = self.keyed(twice, name, "idempotency", cfg)
        try:
            problem = self.run_property(twice, "valid", cfg)
        except Exception as exc:  # pragma: no cover - generation trouble only
            problem = str(exc)
        if problem:
            self.ctx.notes.append(f"fuzz: {name}: idempotency probe stopped: {problem}")


SURROGATE_WAIT = 3.0  # seconds: the least a lone-surrogate call waits (see surrogate_wait)


def surrogate_wait(timeout: float, usual: list[float]) -> float:
    """How long a call holding a lone surrogate waits for its answer: many servers drop such a
    request (an info finding: RFC 8259 leaves its handling unpredictable), and waiting the whole
    --timeout for each would set the length of the run. So: SURROGATE_WAIT, or five times the
    slowest answer the same tool gave to a small string (a tool that is slow by nature keeps its
    time), never more than --timeout. A wait this bounds only decides the info finding."""
    return min(timeout, max(SURROGATE_WAIT, 5 * max(usual, default=0.0)))


STRING_SIZES = (1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
_FILLER = "mcpcheck oversized string "


def ladder_estimate(took: list[tuple[int, float]], size: int) -> float | None:
    """Seconds the next size of the oversized-string ladder should take: the line through the
    two largest sizes answered so far (a fixed cost plus a cost per byte), never less than the
    largest one took; None before two sizes were answered."""
    if len(took) < 2:
        return None
    (s0, t0), (s1, t1) = took[-2], took[-1]
    per_byte = max(0.0, (t1 - t0) / (s1 - s0)) if s1 != s0 else 0.0
    return max(t1, t1 + per_byte * (size - s1))


# (what it is, the string): each into every string field
ODD_STRINGS = (
    ("a lone high surrogate (U+D800)", "a\ud800b"),
    ("a lone low surrogate (U+DFFF)", "\udfffa"),
    ("NUL (U+0000)", "a\x00b"),
    ("C0 and C1 control characters (U+0001, U+001B, U+0085)", "a\x01\x1b[31m\x85b"),
    ("a bidi override (U+202E)", "abc\u202edef\u202c"),
    ("bidi isolates (U+2066..U+2069)", "\u2066a\u2067b\u2068c\u2069\u2069"),
    ("zero-width characters and a BOM (U+200B, U+200D, U+FEFF)", "\ufeffa\u200bb\u200dc"),
    ("noncharacters (U+FFFE, U+FFFF, U+10FFFF)", "a\ufffe\uffff\U0010ffffb"),
    ("512 combining marks on one letter", "e" + "\u0301" * 512),
)


def _size_label(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} bytes"


def string_fields(schema: dict[str, Any], base: Any) -> list[tuple]:
    """Paths (tuples of keys and indexes) to every string in `base` (a tool's simplest valid
    arguments), then every top-level property the schema types as a string that `base` left out."""
    paths: list[tuple] = []

    def walk(v: Any, path: tuple) -> None:
        if isinstance(v, str):
            paths.append(path)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, (*path, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, (*path, i))

    if not isinstance(base, dict):
        return []
    walk(base, ())
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for key, prop in props.items():
        t = prop.get("type") if isinstance(prop, dict) else None
        if (t == "string" or (isinstance(t, list) and "string" in t)) and (key,) not in paths:
            paths.append((key,))
    return paths


def _with_value(base: Any, path: tuple, value: Any) -> Any:
    """A copy of `base` with `value` at `path`."""
    out = copy.deepcopy(base)
    target = out
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return out


def _can_pipeline(cfg: FuzzSettings, transport: str) -> bool:
    """Stage 2 must draw stage 1's inputs again: true when the run is seeded or derandomized.
    With a shared example database the search is sequential: stage 1 judges each call one example
    late, so an example replayed from the database would look passing to Hypothesis, which then
    deletes it from the database (its `reuse` phase keeps only examples that still fail). Other
    transports than stdio need the loop running to send a request."""
    return transport == "stdio" and not cfg.database and (cfg.seed is not None or randomness(cfg)["derandomize"])


def _input_key(args: Any) -> str:
    return json.dumps(args, sort_keys=True, default=repr)


def _hung(fail: Failure) -> bool:
    """The failure is of a call that got no answer within its timeout and grace."""
    ex = fail.call.exchange if fail.call is not None else None
    return ex is not None and ex.timed_out and not ex.answered


class _Pipeline:
    """Stage 1 of a fuzz property (stdio): search with the server working in parallel.

    Hypothesis draws an input only after the previous example returns, and drawing costs about as
    much as the server's round trip (bench_fuzz). So during the search each example sends its
    call and returns at once; the next example first collects and judges the call in flight.
    The server handles call k while Hypothesis draws input k+1, and never more than one call is
    in flight, so crashes, hangs and stdout lines still belong to exactly one input.

    Hypothesis cannot shrink a failure it learns of one example late. So a failure ends the
    search (later examples only draw), and stage 2 runs the same property (same seed, so the same
    inputs) sequentially: inputs that already passed are not called again, the failing one fails
    for Hypothesis, and Hypothesis shrinks it with real calls. If it does not fail again, the
    search's failure is recorded unshrunk, with a note.
    """

    def __init__(self, runner: "FuzzRunner", tool: str, judge: Callable[[Exchange, Any, Any], None], *, enabled: bool) -> None:
        self.runner, self.tool, self.judge = runner, tool, judge
        self.enabled = enabled  # False: no search stage, the property runs sequentially at once
        self.searching = True
        self.calls = 0
        self.pending: tuple[Any, Any, Any] | None = None  # (task, args, case)
        self.failure: tuple[Failure, Any, Any] | None = None
        self.passed: set[str] = set()
        self.reproduced = False  # stage 2 failed too (and Hypothesis shrank it)

    def feed(self, args: Any, case: Any) -> bool:
        """One search example: judge the call in flight, then send this one. False once failed."""
        self.settle()
        if self.failure is not None:
            return False
        self.pending = (self.runner.start_call(self.tool, args), args, case)
        return True

    def settle(self) -> None:
        if self.pending is None:
            return
        task, args, case = self.pending
        self.pending = None
        ex = self.runner.run(task)
        self.calls += 1
        try:
            self.judge(ex, args, case)
        except Failure as fail:
            self.failure = (fail, args, case)
            return
        self.passed.add(_input_key(args))

    def search(self, prop: Callable[[], None]) -> str | None:
        try:
            prop()
        except Unsatisfiable as exc:
            return f"could not generate inputs ({exc})"
        finally:
            self.settle()
        return None

    def known_good(self, args: Any) -> bool:
        return self.failure is not None and _input_key(args) in self.passed


def _probe_settings(cfg: FuzzSettings) -> settings:
    """Hypothesis settings of the per-tool probes that cost several calls per example
    (idempotency, read-only): a fifth of the campaign's examples, at least 3. No `explain` phase:
    it replays dozens of variations of a shrunk failure, each costing several real calls."""
    return settings(
        max_examples=max(3, cfg.max_examples // 5),
        deadline=None,
        **randomness(cfg),
        phases=campaign_phases(cfg, Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )


def _schema(tool: dict[str, Any]) -> dict[str, Any]:
    return tool["inputSchema"] if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}

"""The per-tool fuzz campaign: Hypothesis drives tools/call with generated arguments.

For every tool mcpcheck may call (see conformance/safety.py) and every input class (valid,
invalid), Hypothesis generates arguments from the tool's inputSchema (strategies/), the call goes
through the real session, and the pure checks in conformance/checks/tools.py judge the answer.
A violation fails the Hypothesis example, Hypothesis shrinks it, and the minimal case becomes a
Finding and a corpus/ entry that `mcpcheck run --campaign replay` re-runs forever after.

Hypothesis is synchronous and the session is asyncio, so each Hypothesis run happens on a worker
thread that hands calls to the event loop (run_coroutine_threadsafe); the loop keeps reading the
transport meanwhile, so timeouts, crashes and stray notifications are still seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets as _secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable

from ..checks import jsonrpc as J
from ..checks import tools as TC
from ..connect import detect, list_tools, open_session
from ..corpus import CorpusEntry, save_entry
from ..findings import Violation, run_check
from ..report.model import TargetResult
from ..safety import may_call
from ..session import Exchange, Session
from .context import CampaignContext

CANARY_ENV = "MCPCHECK_CANARY_SECRET"


@dataclass
class FuzzSettings:
    # per tool and mode; `tox -e fuzz` raises it through MCPCHECK_MAX_EXAMPLES
    max_examples: int = field(default_factory=lambda: int(os.environ.get("MCPCHECK_MAX_EXAMPLES") or 25))
    # examples per tool for invalid inputs (None: max_examples); mutants cost more to generate
    invalid_examples: int | None = None
    seed: int | None = None
    modes: tuple[str, ...] = ("valid", "invalid")
    write_corpus: bool = True
    # where shrunk failures are written: MCPCHECK_CORPUS, else ./corpus
    corpus_dir: str = field(default_factory=lambda: os.environ.get("MCPCHECK_CORPUS") or "corpus")
    # called as observe(tool, mode, arguments) for every generated input (seed reproducibility tests)
    observe: Callable[[str, str, Any], None] | None = None
    # wall-clock bound on shrinking one failure (Hypothesis' own bound is 300 s)
    shrink_seconds: float = field(default_factory=lambda: float(os.environ.get("MCPCHECK_SHRINK_SECONDS") or 60))


def example_database():
    """The Hypothesis example database for campaigns: none by default (the corpus/ JSON files are
    the durable record; Hypothesis' choice sequences go stale when a schema changes). For nightly
    campaigns on several machines, MCPCHECK_HYPOTHESIS_DB shares one as a cache:
    `dir:/shared/path` (DirectoryBasedExampleDatabase, e.g. on a network share) or
    `redis://host:6379` (hypothesis.extra.redis.RedisExampleDatabase; `pip install redis`)."""
    spec = os.environ.get("MCPCHECK_HYPOTHESIS_DB", "").strip()
    if not spec:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase

    if spec.startswith("dir:"):
        return DirectoryBasedExampleDatabase(spec[4:])
    if spec.startswith(("redis://", "rediss://")):
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase

        return RedisExampleDatabase(redis.Redis.from_url(spec))
    from ..config import ConfigError

    raise ConfigError(f"MCPCHECK_HYPOTHESIS_DB={spec!r}: expected dir:PATH or redis://HOST:PORT")


def randomness(cfg: "FuzzSettings") -> dict[str, Any]:
    """Hypothesis settings for where inputs come from: derandomized (the same inputs every run)
    unless a seed is given, or a shared database is set (Hypothesis needs randomness for one)."""
    db = example_database()
    return {"database": db, "derandomize": cfg.seed is None and db is None}


def campaign_phases(*phases: Phase) -> list[Phase]:
    """The given phases, plus `reuse` (replay the database's examples first) when one is set."""
    return [Phase.reuse, *phases] if os.environ.get("MCPCHECK_HYPOTHESIS_DB") else list(phases)


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


@dataclass
class ToolReport:
    """Per tool: what was generated and which schema constraints the server enforces."""

    tool: str
    engine: str = ""
    note: str = ""
    calls: int = 0
    skipped: str | None = None
    enforced: dict[str, bool] = field(default_factory=dict)  # constraint -> rejected when violated


class _Fail(AssertionError):
    def __init__(self, spec, violation: Violation) -> None:
        super().__init__(violation.detail)
        self.spec, self.violation = spec, violation


def _checks_for(mode: str) -> list:
    return [TC.VALID_ACCEPTED] if mode == "valid" else [TC.INVALID_REJECTED]


async def run_fuzz(ctx: CampaignContext, result: TargetResult, cfg: FuzzSettings | None = None) -> None:
    cfg = cfg or getattr(ctx, "fuzz_settings", None) or FuzzSettings()
    secret = f"MCPCHK_SECRET_{_secrets.token_hex(8)}"
    env = {CANARY_ENV: secret} if ctx.target.transport == "stdio" else {}
    probe, session = await detect(ctx.target, extra_env=env)
    if not result.eras:
        result.eras = probe.eras()
    era = probe.eras()[0]  # fuzz in the newest era the server speaks
    ctx.revision, ctx.session = era, session
    listed = await list_tools(session)
    runner = _Runner(ctx, session, env, [secret])
    reports: list[ToolReport] = []
    try:
        for tool in listed:
            name = tool.get("name")
            rep = ToolReport(tool=str(name))
            reports.append(rep)
            why = may_call(tool, ctx.target.safety)
            if why is not None:
                rep.skipped = why
                ctx.notes.append(f"fuzz: not calling {name}: {why}")
                continue
            for mode in cfg.modes:
                ctx.progress(f"{ctx.target.name} [{era}]: fuzzing {name} ({mode} inputs)")
                await asyncio.to_thread(runner.fuzz_tool, tool, mode, cfg, rep)
            if _is_idempotent(tool):
                await asyncio.to_thread(runner.idempotency, tool, cfg, rep)
    finally:
        await runner.session.close()
        if ctx.target.transport == "stdio" and not any(f.check == TC.FUZZ_STDOUT.id for f in ctx.findings):
            # stdout junk outside any call (banners, late prints); per-call junk was judged and shrunk already
            ctx.check(TC.FUZZ_STDOUT, J.check_stdout_lines, [e for s in runner.sessions for e in s.wirelog.entries])
    result.tools = sorted({r.tool for r in reports} | set(result.tools))
    ctx.fuzz_reports = reports  # type: ignore[attr-defined]
    for rep in reports:
        if rep.enforced:
            table = ", ".join(f"{c}={'enforced' if ok else 'NOT enforced'}" for c, ok in sorted(rep.enforced.items()))
            ctx.notes.append(f"fuzz: {rep.tool} [{rep.engine}] {rep.calls} calls; constraints: {table}")
        elif not rep.skipped:
            ctx.notes.append(f"fuzz: {rep.tool} [{rep.engine}] {rep.calls} calls" + (f"; {rep.note}" if rep.note else ""))


def _is_idempotent(tool: dict) -> bool:
    ann = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    return ann.get("idempotentHint") is True or ann.get("readOnlyHint") is True


class _Runner:
    """Runs on a worker thread; talks to the event loop that owns the session."""

    def __init__(self, ctx: CampaignContext, session: Session, env: dict[str, str], secrets: list[str]) -> None:
        self.ctx, self.session, self.env, self.secrets = ctx, session, env, secrets
        self.loop = asyncio.get_running_loop()
        self.sessions = [session]

    def _await(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, name: str, args: Any) -> Exchange:
        if not self.session.alive:
            self.restart()
        return self._await(self.session.request("tools/call", {"name": name, "arguments": args}))

    def restart(self) -> None:
        async def go() -> Session:
            await self.session.close()
            return await open_session(self.ctx.target, self.ctx.revision or "", extra_env=self.env)

        self.session = self._await(go())
        self.sessions.append(self.session)
        self.ctx.session = self.session

    def judge(self, ex: Exchange, name: str, args: Any, extra: Callable[[Exchange], list[tuple[Any, list[Violation]]]]) -> None:
        """Raise _Fail for the first violation so Hypothesis shrinks towards it."""
        if ex.transport_error is not None or not self.session.alive:
            stderr = self.session.wirelog.stderr_text(1200).strip()
            detail = f"tools/call {name!r} killed the server: {self.session.transport.closed_reason or ex.transport_error}"
            if stderr:
                detail += f"\nlast stderr:\n{stderr}"
            raise _Fail(TC.FUZZ_NO_CRASH, Violation(detail, ex.evidence(), tool=name, input=args, key=f"{name}/crash"))
        if ex.timed_out:
            raise _Fail(TC.FUZZ_NO_HANG, Violation(f"tools/call {name!r} got no answer within {self.ctx.target.timeout:g}s", ex.evidence(), tool=name, input=args, key=f"{name}/hang"))
        self._judge_stdout(ex, name, args)
        for spec, violations in extra(ex):
            for v in violations:
                if v.severity is not None and v.severity.value == "info":
                    self.ctx.record(spec, [v])  # an observation: record, don't shrink
                    continue
                raise _Fail(spec, v)
        for v in run_check(TC.check_no_leak, ex, name, args, self.secrets):
            raise _Fail(TC.NO_LEAK, v)  # shrunk like any other failure
        self.ctx.passed(TC.NO_LEAK)

    def _judge_stdout(self, ex: Exchange, name: str, args: Any) -> None:
        """S1 per call: a non-protocol stdout line between the request and its answer is this call's."""
        if self.ctx.target.transport != "stdio" or ex.request_entry is None:
            return
        log = self.session.wirelog
        end = ex.response_entry.seq if ex.response_entry is not None else len(log.entries) - 1
        lines = [e for e in log.entries[ex.request_entry.seq + 1 : end + 1] if e.channel == "stdout"]
        for v in run_check(J.check_stdout_lines, lines):
            raise _Fail(TC.FUZZ_STDOUT, Violation(f"tools/call {name!r} polluted stdout: {v.detail}", [ex.request_entry, *v.evidence], tool=name, input=args, key=f"{name}/stdout"))

    def record_failure(self, fail: _Fail, mode: str, cfg: FuzzSettings, constraint: str | None = None, note: str = "") -> None:
        """A shrunk failure becomes a Finding and (once per finding) a corpus/ entry."""
        v = fail.violation
        if note:
            v.detail += note
        findings = self.ctx.record(fail.spec, [v])
        if cfg.write_corpus and findings and v.tool:
            save_entry(
                CorpusEntry(
                    target=self.ctx.target.name,
                    tool=v.tool,
                    arguments=v.input,
                    mode=mode,
                    check=fail.spec.id,
                    revision=self.ctx.revision,
                    detail=v.detail,
                    constraint=constraint,
                    seed=cfg.seed,
                    evidence=[e.to_dict(500) for e in v.evidence][:4],
                ),
                cfg.corpus_dir,
            )

    def run_property(self, prop: Callable[[], None], mode: str, cfg: FuzzSettings, constraint_of: Callable[[], str | None] = lambda: None) -> str | None:
        """Run a Hypothesis property; record its (shrunk) failure. Returns a note when it could not run."""
        try:
            with shrink_budget(cfg.shrink_seconds):
                prop()
        except _Fail as fail:
            self.record_failure(fail, mode, cfg, constraint_of())
        except Flaky as exc:  # the failure did not reproduce on replay (e.g. a hang that came and went)
            inner = [e for e in getattr(exc, "exceptions", ()) if isinstance(e, _Fail)]
            if inner:
                self.record_failure(inner[0], mode, cfg, constraint_of(), note=" (flaky: did not reproduce on every replay)")
            else:
                return f"{mode}: flaky ({exc})"
        except Unsatisfiable as exc:
            return f"{mode}: could not generate inputs ({exc})"
        return None

    def fuzz_tool(self, tool: dict[str, Any], mode: str, cfg: FuzzSettings, rep: ToolReport) -> None:
        import strategies

        name = str(tool["name"])
        schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
        rev = self.ctx.revision
        try:
            if mode == "valid":
                plan = strategies.plan_valid(schema, revision=rev)
                rep.engine, rep.note = plan.engine, plan.note
                strat = plan.strategy.map(lambda a: (a, None))
            else:
                strat = strategies.invalid(schema, revision=rev).map(lambda c: (c.value, c))
        except Exception as exc:  # never silently skip a tool: say why
            self.ctx.notes.append(f"fuzz: {name}: cannot generate {mode} inputs: {exc}")
            rep.note = (rep.note + "; " if rep.note else "") + f"no {mode} inputs: {exc}"
            return
        out_schema = tool.get("outputSchema")
        last: dict[str, Any] = {}

        def extra(ex: Exchange, args: Any, case: Any) -> list:
            if mode == "valid":
                return [
                    (TC.VALID_ACCEPTED, run_check(TC.check_valid_accepted, ex, name, args)),
                    (TC.OUTPUT_CONFORMS, run_check(TC.check_structured_output, ex, name, out_schema, rev, args)),
                ]
            rejected = not ex.ok or (isinstance(ex.result, dict) and ex.result.get("isError") is True)
            key = case.constraint
            rep.enforced[key] = rep.enforced.get(key, True) and rejected
            return [(TC.INVALID_REJECTED, run_check(TC.check_invalid_rejected, ex, name, args, case.constraint, case.path, getattr(case, "soft", False)))]

        @settings(
            max_examples=cfg.max_examples if mode == "valid" or cfg.invalid_examples is None else cfg.invalid_examples,
            deadline=None,
            **randomness(cfg),
            phases=campaign_phases(Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(st.data())
        def property_(data: st.DataObject) -> None:
            args, case = data.draw(strat, label="arguments")
            last["args"], last["case"] = args, case
            if cfg.observe is not None:
                cfg.observe(name, mode, args)
            ex = self.call(name, args)
            rep.calls += 1
            self.judge(ex, name, args, lambda e: extra(e, args, case))

        if cfg.seed is not None:
            from hypothesis import seed as _seed

            property_ = _seed(cfg.seed)(property_)
        for spec in (*_checks_for(mode), TC.FUZZ_NO_CRASH, TC.FUZZ_NO_HANG):
            self.ctx.passed(spec)
        if mode == "valid":
            self.ctx.passed(TC.OUTPUT_CONFORMS) if isinstance(out_schema, dict) else self.ctx.skip(TC.OUTPUT_CONFORMS, "no tool has an outputSchema")
        problem = self.run_property(property_, mode, cfg, lambda: getattr(last.get("case"), "constraint", None))
        if problem:
            rep.note = (rep.note + "; " if rep.note else "") + problem
            self.ctx.notes.append(f"fuzz: {name}: {problem}")

    def idempotency(self, tool: dict[str, Any], cfg: FuzzSettings, rep: ToolReport) -> None:
        import strategies

        name = str(tool["name"])
        schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
        try:
            plan = strategies.plan_valid(schema, revision=self.ctx.revision)
        except Exception:
            return

        @settings(
            max_examples=max(3, cfg.max_examples // 5),
            deadline=None,
            **randomness(cfg),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
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
            for v in run_check(TC.check_idempotent, a, b, name, args):
                raise _Fail(TC.IDEMPOTENT, v)  # shrink to the smallest arguments that show it
            self.ctx.passed(TC.IDEMPOTENT)

        if cfg.seed is not None:
            from hypothesis import seed as _seed

            twice = _seed(cfg.seed)(twice)
        try:
            problem = self.run_property(twice, "valid", cfg)
        except Exception as exc:  # pragma: no cover - generation trouble only
            problem = str(exc)
        if problem:
            self.ctx.notes.append(f"fuzz: {name}: idempotency probe stopped: {problem}")

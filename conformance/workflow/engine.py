"""Run a workflow: open a session per named target, run the steps in order, pass results forward.

Every failure names the workflow, the step, its target and what it called:

    workflow 'remember' step 'fetch' (kv: tools/call get): expectation 1 (equals $.structuredContent.value):
    expected 'alice', got 'ALICE'

Arguments drawn from strategies (`$draw`, `args_from: strategy`) go through a Drawer: a seeded
one for plain runs, Hypothesis' `data.draw` in property tests (prop.py) so a failing run shrinks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as jp_parse

from ..config import Target
from ..pages import walk
from ..connect import detect
from ..safety import may_call
from ..session import Exchange, Session
from ..transport.base import TransportError
from .model import Call, Consistency, Expect, Step, Workflow

REF = re.compile(r"\$\{([^}]+)\}")
MISSING = object()


class WorkflowError(Exception):
    """A step or a consistency assertion failed; str() is the step-level message."""


class Drawer(Protocol):
    def draw(self, strategy: Any, label: str) -> Any: ...


class SeededDrawer:
    """Plain runs: one value per draw, reproducible for a given seed."""

    def __init__(self, seed: int | None = 0) -> None:
        self.seed = seed
        self.n = 0

    def draw(self, strategy: Any, label: str) -> Any:
        from ..load.pool import draw

        self.n += 1
        values = draw(strategy, 1, None if self.seed is None else self.seed + self.n)
        if not values:
            raise WorkflowError(f"{label}: the strategy produced no value")
        return values[0]


_PATHS: dict[str, Any] = {}


def jsonpath(expr: str) -> Any:
    p = _PATHS.get(expr)
    if p is None:
        text = expr if expr.startswith("$") else "$." + expr
        try:
            p = _PATHS[expr] = jp_parse(text)
        except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises plain Exceptions too
            raise WorkflowError(f"bad JSONPath {expr!r}: {exc}") from exc
    return p


def values_at(doc: Any, expr: str) -> list[Any]:
    return [m.value for m in jsonpath(expr).find(doc)]


def is_multi(expr: str) -> bool:
    """A path with a wildcard, filter, slice or descent always yields a list (even of one)."""
    return any(tok in expr for tok in ("*", "?(", "..", ":"))


def one_or_many(found: list[Any], expr: str) -> Any:
    return found if is_multi(expr) or len(found) != 1 else found[0]


def short(v: Any, n: int = 200) -> str:
    text = json.dumps(v, default=str, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return text if len(text) <= n else text[:n] + "..."


@dataclass
class StepResult:
    id: str
    target: str
    what: str
    status: str = "passed"  # passed | failed | recovered | skipped
    args: Any = None
    message: str | None = None
    duration_ms: float = 0.0
    result: Any = None
    recovery: str | None = None
    evidence: list = field(default_factory=list, repr=False)


@dataclass
class WorkflowResult:
    name: str
    source: str | None
    steps: list[StepResult] = field(default_factory=list)
    consistency: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    draws: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "passed": self.passed,
            "failure": self.failure,
            "draws": self.draws,
            "steps": [{k: v for k, v in s.__dict__.items() if k != "evidence"} for s in self.steps],
            "consistency": self.consistency,
        }


class Sessions:
    """Sessions by target name, opened on first use (newest era the server speaks)."""

    def __init__(self, targets: dict[str, Target]) -> None:
        self.targets = targets
        self.open: dict[str, Session] = {}
        self.tools: dict[str, dict[str, dict[str, Any]]] = {}

    async def get(self, name: str) -> Session:
        s = self.open.get(name)
        if s is not None and s.alive:
            return s
        target = self.targets[name]
        try:
            _probe, s = await detect(target)
        except TransportError as exc:
            raise WorkflowError(f"target {name!r} ({target.describe()}) cannot be reached: {exc}") from exc
        self.open[name] = s
        listed: dict[str, dict[str, Any]] = {}
        pages = await walk(s, "tools/list", "tools", max_pages=20)
        for t in pages.items:
            if isinstance(t.get("name"), str):
                listed[t["name"]] = t
        self.tools[name] = listed
        return s

    async def close(self) -> None:
        for s in self.open.values():
            await s.close()
        self.open.clear()


def resolve_targets(wf: Workflow, configured: dict[str, Target] | None = None, overrides: dict[str, Target] | None = None) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for name, t in wf.targets.items():
        if overrides and name in overrides:
            out[name] = overrides[name]
        elif isinstance(t, Target):
            out[name] = t
        else:
            found = (configured or {}).get(t)
            if found is None:
                known = ", ".join(configured or {}) or "none configured"
                raise WorkflowError(f"workflow {wf.name!r}: target {name!r} names {t!r}, which is not a configured target ({known})")
            out[name] = found
    return out


class Runner:
    def __init__(self, wf: Workflow, sessions: Sessions, drawer: Drawer | None = None) -> None:
        self.wf = wf
        self.sessions = sessions
        self.drawer = drawer or SeededDrawer(0)
        self.ctx: dict[str, Any] = {"steps": {}, "vars": dict(wf.vars), "env": dict(os.environ), "draws": {}}
        self.result = WorkflowResult(wf.name, wf.source)

    # ---------------------------------------------------------------- references
    def ref(self, expr: str) -> Any:
        found = values_at(self.ctx, expr.strip())
        if not found:
            head = expr.strip().split(".")
            hint = ""
            if len(head) >= 2 and head[0] == "steps":
                step = self.ctx["steps"].get(head[1].split("[")[0])
                hint = f" (step {head[1]!r} has not run)" if step is None else f" (step {head[1]!r} has: {', '.join(sorted(step)) if isinstance(step, dict) else type(step).__name__})"
            raise WorkflowError(f"reference ${{{expr}}} matches nothing{hint}")
        return one_or_many(found, expr)

    def resolve(self, value: Any, label: str, revision: str | None = None) -> Any:
        if isinstance(value, str):
            whole = REF.fullmatch(value.strip())
            if whole:
                return self.ref(whole.group(1))
            return REF.sub(lambda m: v if isinstance(v := self.ref(m.group(1)), str) else json.dumps(v, default=str), value)
        if isinstance(value, dict):
            if "$draw" in value and len(value) == 1:
                from ..load.pool import plan_valid

                schema = self.resolve(value["$draw"], label, revision)
                drawn = self.drawer.draw(plan_valid(schema, revision).strategy, label)
                self._note_draw(label, drawn)
                return drawn
            return {k: self.resolve(v, f"{label}.{k}", revision) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, f"{label}[{i}]", revision) for i, v in enumerate(value)]
        return value

    def _note_draw(self, label: str, value: Any) -> None:
        self.result.draws[label] = value
        step, _, rest = label.partition(".")
        self.ctx["draws"].setdefault(step, {})[rest or "args"] = value

    # ---------------------------------------------------------------- calls
    async def call(self, call: Call, step: Step, label: str) -> tuple[Exchange, Any, str]:
        tname = self.wf.target_of(call, step.target)
        session = await self.sessions.get(tname)
        rev = session.revision
        args = self.resolve(call.args, f"{label}", rev)
        if call.tool:
            tool = self.sessions.tools.get(tname, {}).get(call.tool)
            if tool is None:
                raise WorkflowError(f"{tname} does not list a tool named {call.tool!r} (it lists: {', '.join(sorted(self.sessions.tools.get(tname, {}))) or 'none'})")
            why = may_call(tool, self.sessions.targets[tname].safety)
            if why is not None:
                raise WorkflowError(f"not calling it: {why}")
            if call.args_from == "strategy":
                from ..load.pool import plan_valid

                schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
                drawn = self.drawer.draw(plan_valid(schema, rev).strategy, label)
                self._note_draw(label, drawn)
                args = {**(drawn if isinstance(drawn, dict) else {}), **args}
            ex = await session.request("tools/call", {"name": call.tool, "arguments": args}, timeout=step.timeout)
        elif call.resource:
            uri = self.resolve(call.resource, f"{label}.uri", rev)
            ex = await session.request("resources/read", {"uri": uri}, timeout=step.timeout)
        else:
            ex = await session.request("prompts/get", {"name": call.prompt, "arguments": args}, timeout=step.timeout)
        return ex, args, tname

    @staticmethod
    def view(ex: Exchange) -> dict[str, Any]:
        """What `${steps.<id>...}` and expectations see."""
        out: dict[str, Any] = {}
        if isinstance(ex.result, dict):
            out.update(ex.result)
        if ex.error is not None:
            out["error"] = ex.error
        texts = [b.get("text") for b in out.get("content") or [] if isinstance(b, dict) and isinstance(b.get("text"), str)]
        texts += [c.get("text") for c in out.get("contents") or [] if isinstance(c, dict) and isinstance(c.get("text"), str)]
        out["text"] = "\n".join(texts)
        try:
            out["json"] = json.loads(out["text"]) if out["text"] else None
        except ValueError:
            out["json"] = None
        return out

    @staticmethod
    def failed_call(ex: Exchange, kind: str) -> str | None:
        if ex.transport_error:
            return f"transport error: {ex.transport_error}"
        if ex.timed_out:
            return "no answer (timed out)"
        if ex.error is not None:
            return f"JSON-RPC error {short(ex.error)}"
        if kind == "tool" and isinstance(ex.result, dict) and ex.result.get("isError") is True:
            return f"isError result: {short(Runner.view(ex)['text'], 300)}"
        return None

    # ---------------------------------------------------------------- expectations
    def check(self, exp: Expect, view: dict[str, Any], label: str) -> str | None:
        if exp.schema_ is not None:
            from mcpcheck.strategies.dialect import make_validator

            where = exp.path or "$.structuredContent"
            found = values_at(view, where)
            if not found:
                return f"nothing at {where}"
            errs = sorted(make_validator(self.resolve(exp.schema_, label), None).iter_errors(found[0]), key=lambda e: list(e.absolute_path))
            if errs:
                e = errs[0]
                at = "/".join(str(p) for p in e.absolute_path) or "(root)"
                return f"{where} does not match the schema at {at}: {e.message}"
            return None
        spec = getattr(exp, exp.kind)
        path = spec["path"]
        found = values_at(view, path)
        if exp.kind == "jsonpath":
            want_exists = spec.get("exists", True)
            if want_exists and not found:
                return f"nothing at {path}"
            if not want_exists and found:
                return f"expected nothing at {path}, found {short(found)}"
            if "count" in spec and len(found) != spec["count"]:
                return f"expected {spec['count']} match(es) at {path}, found {len(found)}: {short(found)}"
            if "matches" in spec:
                bad = [v for v in found if not (isinstance(v, str) and re.search(spec["matches"], v))]
                if bad:
                    return f"{path}: {short(bad[0])} does not match /{spec['matches']}/"
            return None
        expected = self.resolve(spec["value"], label)
        if not found:
            return f"nothing at {path} (expected {short(expected)})"
        got = one_or_many(found, path)
        if exp.kind == "equals":
            return None if got == expected else f"expected {short(expected)}, got {short(got)}"
        return None if contains(got, expected) else f"{short(got)} does not contain {short(expected)}"

    # ---------------------------------------------------------------- run
    async def run_step(self, step: Step) -> StepResult:
        tname = self.wf.target_of(step)
        sr = StepResult(step.id, tname, step.what)
        self.result.steps.append(sr)
        t0 = time.monotonic()
        where = f"workflow {self.wf.name!r} step {step.id!r} ({tname}: {step.what})"
        try:
            ex, args, _ = await self.call(step, step, step.id)
            sr.args = args
            problem = self.failed_call(ex, step.kind)
            if problem and step.on_error is not None and not step.expect_error:
                rec = step.on_error
                rex, _rargs, rt = await self.call(rec, step, f"{step.id}.on_error")
                rproblem = self.failed_call(rex, rec.kind)
                sr.recovery = f"{rt}: {rec.what}: " + (f"failed too ({rproblem})" if rproblem else "ok")
                if rproblem is None and rec.retry:
                    ex, args, _ = await self.call(step, step, step.id)
                    sr.args = args
                    problem = self.failed_call(ex, step.kind)
                    if problem is None:
                        sr.status = "recovered"
            sr.evidence = ex.evidence()
            view = self.view(ex)
            sr.result = {k: v for k, v in view.items() if k not in ("json",)}
            self.ctx["steps"][step.id] = view
            if step.expect_error:
                if problem is None:
                    raise WorkflowError("expected an error, but the call succeeded: " + short(sr.result, 300))
            elif problem is not None:
                raise WorkflowError(problem + (f"; recovery {sr.recovery}" if sr.recovery else ""))
            for i, exp in enumerate(step.expect, 1):
                why = self.check(exp, view, f"{step.id}.expect[{i}]")
                if why is not None:
                    raise WorkflowError(f"expectation {i} ({exp.describe()}): {why}")
        except WorkflowError as exc:
            sr.status, sr.message = "failed", f"{where}: {exc}"
        except TransportError as exc:
            sr.status, sr.message = "failed", f"{where}: transport error: {exc}"
        sr.duration_ms = round((time.monotonic() - t0) * 1000, 2)
        return sr

    def check_consistency(self, c: Consistency) -> dict[str, Any]:
        row: dict[str, Any] = {"name": c.name, "op": c.op, "passed": False}
        try:
            left, right = self.resolve(c.left, f"consistency.{c.name}"), self.resolve(c.right, f"consistency.{c.name}")
            row.update(left=left, right=right)
            ok = {
                "equals": lambda: left == right,
                "contains": lambda: contains(left, right),
                "subset": lambda: isinstance(left, list) and isinstance(right, list) and all(x in right for x in left),
                "set_equal": lambda: isinstance(left, list) and isinstance(right, list) and all(x in right for x in left) and all(x in left for x in right),
            }[c.op]()
            row["passed"] = ok
            if not ok:
                row["message"] = f"workflow {self.wf.name!r} consistency {c.name!r}: {c.op} failed: left {short(left)} vs right {short(right)}"
        except WorkflowError as exc:
            row["message"] = f"workflow {self.wf.name!r} consistency {c.name!r}: {exc}"
        self.result.consistency.append(row)
        return row

    async def run(self) -> WorkflowResult:
        pending = list(self.wf.consistency)
        for step in self.wf.steps:
            sr = await self.run_step(step)
            if sr.status == "failed":
                self.result.failure = sr.message
                for rest in self.wf.steps[len(self.result.steps):]:
                    self.result.steps.append(StepResult(rest.id, self.wf.target_of(rest), rest.what, "skipped"))
                return self.result
            for c in [c for c in pending if c.after == step.id]:
                pending.remove(c)
                row = self.check_consistency(c)
                if not row["passed"]:
                    self.result.failure = row["message"]
                    return self.result
        for c in pending:
            row = self.check_consistency(c)
            if not row["passed"] and self.result.failure is None:
                self.result.failure = row["message"]
        return self.result


def contains(got: Any, expected: Any) -> bool:
    if isinstance(got, str):
        return isinstance(expected, str) and expected in got
    if isinstance(got, list):
        if isinstance(expected, list):
            return all(e in got for e in expected)
        return expected in got or any(isinstance(g, (dict, list)) and contains(g, expected) for g in got)
    if isinstance(got, dict):
        return isinstance(expected, dict) and all(k in got and (got[k] == v or contains(got[k], v)) for k, v in expected.items())
    return got == expected


async def run_workflow_async(
    wf: Workflow,
    *,
    configured: dict[str, Target] | None = None,
    overrides: dict[str, Target] | None = None,
    drawer: Drawer | None = None,
    sessions: Sessions | None = None,
) -> WorkflowResult:
    """Run one workflow once. Sessions passed in are reused (and left open)."""
    own = sessions is None
    sessions = sessions or Sessions(resolve_targets(wf, configured, overrides))
    try:
        return await Runner(wf, sessions, drawer).run()
    finally:
        if own:
            await sessions.close()


def run_workflow_sync(wf: Workflow, **kw: Any) -> WorkflowResult:
    return asyncio.run(run_workflow_async(wf, **kw))

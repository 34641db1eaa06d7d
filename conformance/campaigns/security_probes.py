"""The active probes of the security campaign: payloads into every position that can carry one.

For every tool mcpcheck may call (conformance/safety.py), every string position of its
inputSchema that can hold a payload while the arguments stay valid (strategies.injection_points),
a bounded, deterministic list of probes per family (shell, sql, path, template, ssrf;
conformance/security/probes.py) goes through the real session; the same probes go into
resource-template variables (resources/read) and prompt arguments (prompts/get). The oracles
(conformance/security/detect.py) only accept proof. Every answer is also searched for leaks
(the canary secret, stack traces, host paths).

`probe_all` does this I/O once per run and returns what each family (and "exposure") proved;
the campaign's checks (campaigns/security.py, one per family) share it through `ctx.once`.
Nothing here records a finding: the checks yield the violations, and write each first proof of
a tool to corpus/ (`Proof.oracle` is what replay needs to judge it again).
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from mcpcheck import strategies
from mcpcheck.strategies.injected import put_text, slots_for
from mcpcheck.strategies.payloads import TimedTemplate, make_canary, timed_templates

from ..config import Target
from ..connect import missed_announcements, open_session
from ..findings import Severity, Violation
from ..registry import Listing
from ..pages import walk
from ..safety import may_call
from ..security import detect as D
from ..security import timing as T
from ..security.canary_server import CanaryFile, CanaryServer
from ..security.probes import FAMILIES, URLISH, Probe, interleave, probes_for
from ..session import Exchange, Session
from ..wirelog import WireEntry
from .fuzz import CANARY_ENV

METHOD = {"tool": "tools/call", "template": "resources/read", "prompt": "prompts/get"}


@dataclass
class SecuritySettings:
    """Bounds of the active probes (no CLI/config: set `ctx.security_settings` to change them)."""

    max_calls_per_tool: int = 48  # baseline calls included
    max_points_per_tool: int = 3  # string positions probed per tool
    max_calls_per_template: int = 24  # resources/read calls per resource template
    max_calls_per_prompt: int = 24  # prompts/get calls per prompt
    families: tuple[str, ...] = FAMILIES
    ssrf_grace: float = 0.0  # seconds to wait for a fetch after each SSRF probe (late ones: final_grace)
    final_grace: float = 1.0  # one last wait for late (asynchronous) fetches
    write_corpus: bool = True
    corpus_dir: str = field(default_factory=lambda: os.environ.get("MCPCHECK_CORPUS") or "corpus")  # as fuzz: MCPCHECK_CORPUS, else ./corpus
    # blind, time-based shell/SQL probes (conformance/security/timing.py has the decision rule)
    timing: bool = True
    timing_delays: tuple[float, float] = (1.0, 2.0)  # requested delays (s); SQLite: rows worth this much local work
    timing_trials: int = 2  # trials at each delay, interleaved low/high; every one must be delayed
    timing_baseline_calls: int = 5  # calls with a harmless value that measure the tool's own latency
    timing_margin: float = 0.5  # seconds a delayed answer must exceed the baseline max by (at least)
    timing_budget: float = 20.0  # seconds of timing probes per tool, at most


# -------------------------------------------------------------------- what the checks share


@dataclass
class SecurityRun:
    """The security campaign on one target, as its checks see it (`ctx.state`): settings, the
    canary secret, the live session (restarted when a probe killed the server), the listings
    made before any call, and the canaries the active probes set up."""

    target: Target
    revision: str | None
    cfg: SecuritySettings
    env: dict[str, str]
    secret: str | None
    session: Session
    notes: list[str]
    wants: Callable[[Any], bool] = lambda _spec: True  # is this check selected (--check / --skip-check)
    progress: Callable[[str], None] = lambda _m: None
    on_session: Callable[[Session], None] = lambda _s: None  # a restart's new session
    sessions: list[Session] = field(default_factory=list)
    calls: int = 0  # every request of the run (listings included)
    called: list[str] = field(default_factory=list)  # the tools the run called, in first-call order
    first: Listing | None = None  # the first listing (before any call)
    second: Listing | None = None  # the next one, made right after it
    probed: bool = False  # the active probes ran (so a listing after them is due)
    planted: CanaryFile | None = None
    canary: CanaryServer | None = None
    _after: Listing | None = None

    async def request(self, method: str, params: dict[str, Any], timeout: float | None = None) -> Exchange:
        if not self.session.alive:
            self.notes.append(f"security: the server went away ({self.session.transport.closed_reason}); restarted it")
            self.session = await open_session(self.target, self.revision or "", extra_env=self.env, listen=True)
            self.sessions.append(self.session)
            self.on_session(self.session)
        self.calls += 1
        if method == "tools/call" and isinstance(params.get("name"), str) and params["name"] not in self.called:
            self.called.append(params["name"])
        return await self.session.request(method, params, timeout=timeout)

    def allowed_paths(self) -> list[str]:
        """Paths the operator gave the server (command line, environment, working directory of
        every server process of the run) and the folder of our own planted canary file, with
        anything under them: naming them is no leak."""
        t = self.target
        out: list[str] = []
        for s in self.sessions:
            cwd = t.cwd or getattr(s.transport, "workdir", None)
            out += [p for p in D.operator_paths(t.command, t.env, cwd) if p not in out]
        if self.planted is not None:  # our own canary file, named back when a probe sent its (relative) path
            out += [str(self.planted.folder), os.path.realpath(self.planted.folder)]
        return out

    def unwatched(self) -> dict[str, str]:
        """Per kind of definition (tool, prompt, resource, template): why a list_changed the
        server sent may not have reached mcpcheck during the run (connect.missed_announcements:
        the HTTP GET stream, or in 2026-07-28 the subscriptions/listen stream, was not read)."""
        return missed_announcements(self.sessions)

    async def listing(self) -> Listing:
        """Everything the server lists (each list walked to its end) and its instructions."""
        caps = self.session.server_capabilities
        src = self.session.discover_result if self.session.stateless else self.session.initialize_result
        instructions = (src or {}).get("instructions")
        out = Listing(instructions=instructions if isinstance(instructions, str) else None)
        for method, key, cap, attr in (
            ("tools/list", "tools", "tools", "tools"),
            ("prompts/list", "prompts", "prompts", "prompts"),
            ("resources/list", "resources", "resources", "resources"),
            ("resources/templates/list", "resourceTemplates", "resources", "templates"),
        ):
            if cap in caps:
                setattr(out, attr, await self._walk(out, method, key))
        return out

    async def _walk(self, out: Listing, method: str, key: str) -> list[dict[str, Any]]:
        """One list through the one pagination walker (page bound; a cursor that repeats ends it)."""
        w = await walk(self.request, method, key)
        out.pages.setdefault(method, []).extend(w.pages)
        out.stop[method] = w.stop
        return w.items

    async def after_listing(self) -> Listing:
        """The listing made after the active probes' calls (once per run)."""
        if self._after is None:
            self._after = await self.listing()
        return self._after

    def notified(self) -> set[str]:
        """The notification methods the server sent in any session of the run."""
        return {n.parsed.get("method") for s in self.sessions for n in s.notifications if isinstance(n.parsed, dict)}

    async def close(self) -> None:
        for s in self.sessions:
            await s.close()
        if self.canary is not None:
            self.canary.stop()
        if self.planted is not None:
            self.planted.remove()


@dataclass
class Proof:
    """One violation an active probe found, and how replay re-judges it (CorpusEntry.oracle;
    None when it is not about a tool: only tool calls are replayed)."""

    violation: Violation
    oracle: dict[str, Any] | None = None


@dataclass
class Active:
    """What the active probes found: proofs per family ("exposure" for leaks), how many probes of
    each family went out, and how many calls had their answer searched for leaks."""

    proofs: dict[str, list[Proof]] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    positions: int = 0
    exposure_calls: int = 0


@dataclass
class _Position:
    """One place a payload goes: a tool argument, a template variable or a prompt argument."""

    kind: str  # "tool" | "template" | "prompt"
    item: str  # tool / prompt name or uriTemplate
    where: str  # JSON pointer / {var} / argument name
    build: Any  # text -> request params (dict) or None when the probe does not fit
    field_name: str = ""
    uri_format: bool = False
    baseline: Exchange | None = None
    base_params: Any = None
    hit_families: set[str] = field(default_factory=set)
    sql: dict[str, dict[str, tuple[Probe, Any, Exchange]]] = field(default_factory=dict)


@dataclass
class _Prober:
    run: SecurityRun
    exposure: bool  # search answers for leaks (security.data_exposure is selected)
    timed: tuple[str, ...] = ()  # families that get the time-based probes ("shell", "sql")
    found: Active = field(default_factory=Active)
    ssrf_pending: list[tuple[_Position, Probe, Any, Exchange]] = field(default_factory=list)


# -------------------------------------------------------------------- entry point


async def probe_all(run: SecurityRun, *, plant: bool, ssrf: bool, exposure: bool, timed: tuple[str, ...] = ()) -> Active:
    """Every active probe of the run, over the first listing. `plant`: put a canary file outside
    the server's root (path traversal); `ssrf`: start the loopback canary HTTP server; `exposure`:
    search every answer for leaks; `timed`: the families ("shell", "sql") whose blind,
    time-based probes go into every tool's string arguments (after the visible ones)."""
    cfg, listing = run.cfg, run.first or Listing()
    run.probed = True
    if plant and "path" in cfg.families:
        run.planted = CanaryFile.plant()
    if ssrf and "ssrf" in cfg.families:
        run.canary = CanaryServer().start()
    p = _Prober(run, exposure, tuple(f for f in timed if f in cfg.families) if cfg.timing else ())
    for tool in listing.tools:
        why = may_call(tool, run.target.safety)
        if why is not None:
            run.notes.append(f"security: not calling {tool.get('name')}: {why}")
            continue
        positions = await _tool_positions(p, tool)
        if positions:
            await _probe(p, positions, cfg.max_calls_per_tool)
            if p.timed:
                await _time_probe(p, positions)
        elif exposure:
            await _exposure_only(p, tool)
    for tmpl in listing.templates:
        await _probe(p, _template_positions(tmpl), cfg.max_calls_per_template)
    for prompt in listing.prompts:
        await _probe(p, _prompt_positions(prompt), cfg.max_calls_per_prompt)
    if run.canary is not None and p.ssrf_pending:
        await asyncio.sleep(cfg.final_grace)
        for pos, probe, params, ex in p.ssrf_pending:
            if "ssrf" not in pos.hit_families:
                _judge_ssrf(p, pos, probe, params, ex, wait=0.0)
    return p.found


async def _exposure_only(p: _Prober, tool: dict[str, Any]) -> None:
    """A tool with no string input still gets one call (simplest valid arguments) so that what
    it returns is searched for the canary secret, stack traces and host paths."""
    run = p.run
    name = str(tool.get("name"))
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
    try:
        base = await asyncio.to_thread(strategies.simplest, strategies.plan_valid(schema, revision=run.revision).strategy)
    except Exception as exc:
        run.notes.append(f"security: {name}: no valid arguments for the exposure call: {exc}")
        return
    pos = _Position("tool", name, "", lambda _t: None, base_params=base)
    params = {"name": name, "arguments": base}
    ex = await run.request("tools/call", params, timeout=min(run.target.timeout, 5.0))
    _judge_exposure(p, pos, params, ex)


# -------------------------------------------------------------------- positions


async def _tool_positions(p: _Prober, tool: dict[str, Any]) -> list[_Position]:
    run = p.run
    name = str(tool.get("name"))
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
    rev = run.revision
    try:
        points = strategies.injection_points(schema, rev)
    except Exception as exc:  # an unusable schema is judged by the conformance campaign
        run.notes.append(f"security: {name}: cannot find string inputs: {exc}")
        return []
    if not points:
        return []
    try:
        plan = strategies.plan_valid(schema, revision=rev)
        base = await asyncio.to_thread(strategies.simplest, plan.strategy)
        oracle = strategies.make_validator(schema, rev, formats=True)
    except Exception as exc:
        run.notes.append(f"security: {name}: no valid base arguments: {exc}")
        return []
    base = _loopback_urls(run, base, points, oracle)
    out = []
    for point in points[: run.cfg.max_points_per_tool]:
        slots = slots_for(base, point.tokens)
        if not slots:
            continue
        where, mode = slots[0]

        def build(text: str, where=where, mode=mode) -> dict[str, Any] | None:
            args, _ = put_text(copy.deepcopy(base), where, mode, text)
            try:
                ok = oracle.is_valid(args)
            except Exception:
                ok = False
            return {"name": name, "arguments": args} if ok else None

        field_name = str(point.tokens[-1]) if point.tokens else ""
        out.append(_Position("tool", name, point.path, build, field_name=field_name, uri_format=point.format is not None, base_params=base))
    return out


def _loopback_urls(run: SecurityRun, base: Any, points: list[Any], oracle: Any) -> Any:
    """Fill every URL-like field of the base arguments with a URL on the loopback canary
    server, so that a tool never falls back to a default URL somewhere on the internet while
    another of its fields carries the payload."""
    for point in points:
        name = str(point.tokens[-1]) if point.tokens else ""
        if point.format is None and not URLISH.search(name):
            continue
        for where, mode in slots_for(base, point.tokens)[:1]:
            if mode == "append":
                continue
            url = f"{run.canary.base_url if run.canary else 'http://127.0.0.1:9'}/{make_canary(0, 'base-url|' + point.path)}"
            candidate, _ = put_text(copy.deepcopy(base), where, mode, url)
            try:
                if oracle.is_valid(candidate):
                    base = candidate
            except Exception:
                pass
    return base


def _template_vars(template: str) -> list[tuple[str, str, str]]:
    """(expression, operator, variable) for each RFC 6570 expression of a URI template."""
    out = []
    for m in re.finditer(r"\{([+#./;?&]?)([^}]*)\}", template):
        op = m.group(1)
        for var in m.group(2).split(","):
            out.append((m.group(0), op, var.rstrip("*").split(":")[0]))
    return out


def _template_positions(tmpl: dict[str, Any]) -> list[_Position]:
    template = tmpl.get("uriTemplate")
    if not isinstance(template, str):
        return []
    exprs = _template_vars(template)
    out = []
    for expr, op, var in exprs:
        if op in ("?", "&", ";"):
            continue  # query-style expressions: values still go through the same handler; keep the budget for path-style ones

        def build(text: str, expr=expr, op=op, var=var) -> dict[str, Any]:
            uri = template
            for e, o, v in exprs:
                value = text if v == var else "mcpcheck"
                value = quote(value, safe="/:@!$&'()*+,;=" if o in ("+", "#") else "")
                uri = uri.replace(e, value, 1) if e != expr or v == var else uri
            return {"uri": uri}

        out.append(_Position("template", template, "{" + var + "}", build, field_name=var))
    return out


def _prompt_positions(prompt: dict[str, Any]) -> list[_Position]:
    name = prompt.get("name")
    if not isinstance(name, str):
        return []
    args = [a for a in prompt.get("arguments") or [] if isinstance(a, dict) and isinstance(a.get("name"), str)]
    required = {a["name"]: "mcpcheck" for a in args if a.get("required")}
    out = []
    for a in args:

        def build(text: str, arg=a["name"]) -> dict[str, Any]:
            return {"name": name, "arguments": {**required, arg: text}}

        out.append(_Position("prompt", name, a["name"], build, field_name=a["name"]))
    return out


def _benign(run: SecurityRun, pos: _Position) -> str:
    """A harmless value for the baseline call: a fresh token (a URL on the canary server for
    URI-format fields), matching nothing a server could hold."""
    token = make_canary(0, f"benign|{run.target.name}|{pos.kind}|{pos.item}|{pos.where}")
    if pos.uri_format:
        return f"{run.canary.base_url if run.canary else 'http://127.0.0.1:9'}/{token}"
    return token


# -------------------------------------------------------------------- probing


async def _probe(p: _Prober, positions: list[_Position], budget: int) -> None:
    if not positions:
        return
    run = p.run
    cfg = run.cfg
    p.found.positions += len(positions)
    cwd = getattr(run.session.transport, "workdir", None)
    groups = []
    for pos in positions:
        salt = f"{run.target.name}|{pos.kind}|{pos.item}|{pos.where}"
        groups.append(probes_for(
            salt, pos.field_name, families=cfg.families,
            planted=str(run.planted.path) if run.planted else None,
            token=run.planted.token if run.planted else None,
            server_cwd=cwd, ssrf_base=run.canary.base_url if run.canary else None,
            uri_format=pos.uri_format,
        ))
    # one benign baseline call per position, then the interleaved probes
    for pos in positions:
        params = pos.build(_benign(run, pos))
        if params is None:
            continue
        ex = await run.request(METHOD[pos.kind], params)
        pos.baseline = ex
        _judge_exposure(p, pos, params, ex)
    plan = interleave(groups, max(0, budget - len(positions)))
    run.progress(f"{run.target.name}: security probes for {positions[0].kind} {positions[0].item} ({len(plan)} calls)")
    for gi, probe in plan:
        pos = positions[gi]
        if probe.family in pos.hit_families:
            continue  # one proven finding per position and family is enough
        params = pos.build(probe.text)
        if params is None:
            continue  # the payload would make the arguments invalid: not an injection test
        ex = await run.request(METHOD[pos.kind], params)
        p.found.sent[probe.family] = p.found.sent.get(probe.family, 0) + 1
        _judge(p, pos, probe, params, ex)
        _judge_exposure(p, pos, params, ex)


# -------------------------------------------------------------------- blind, time-based


async def _timed_call(run: SecurityRun, params: dict[str, Any], timeout: float) -> tuple[float | None, Exchange]:
    """One tool call and its latency (None when it timed out or failed on the transport: such a
    call proves nothing)."""
    t0 = time.monotonic()
    ex = await run.request("tools/call", params, timeout=timeout)
    took = time.monotonic() - t0
    if ex.timed_out or ex.response is None:
        return None, ex
    return (ex.elapsed if ex.elapsed is not None else took), ex


ESCALATIONS = 2  # SQLite screens rescaled from the server's own measured excess, at most


async def _time_probe(p: _Prober, positions: list[_Position]) -> None:
    """Blind shell/SQL injection by timing, bounded by `timing_budget` seconds per tool:
    measure the tool's own latency (baseline), then send each time-based payload once at the low
    delay (a screen: a fast answer ends it) and, when that answer was late, repeat low/high
    `timing_trials` times and call the tool with a harmless value again; `timing.judge` decides.
    A position already proven for a family is not probed again for it."""
    run, cfg = p.run, p.run.cfg
    low_s, high_s = cfg.timing_delays
    started = time.monotonic()
    pos0 = positions[0]
    timeout = min(run.target.timeout, high_s * 2 + 5.0)
    if timeout < high_s + 1.0:
        run.notes.append(f"security: tool {pos0.item!r}: no time-based probes: the request timeout ({run.target.timeout:g} s) is too short for a {high_s:g} s delay")
        return
    benign = pos0.build(_benign(run, pos0))
    if benign is None:
        return
    baseline: list[float] = []
    for _ in range(cfg.timing_baseline_calls):
        took, _ex = await _timed_call(run, benign, timeout)
        if took is None:
            run.notes.append(f"security: tool {pos0.item!r}: no time-based probes: a baseline call timed out or failed")
            return
        baseline.append(took)
    thr = T.threshold(baseline, cfg.timing_margin)
    if thr >= low_s:
        run.notes.append(f"security: tool {pos0.item!r}: no time-based probes: its own latency ({max(baseline):.2f} s max) is too close to the {low_s:g} s delay")
        return
    rows = (T.rows_for(low_s), T.rows_for(high_s)) if "sql" in p.timed else (0, 0)
    plan: list[tuple[_Position, TimedTemplate]] = []
    by_family = {f: timed_templates([f]) for f in p.timed}
    for i in range(max((len(v) for v in by_family.values()), default=0)):  # round-robin: a budget cut keeps both families
        for pos in positions:
            for f in p.timed:
                if i < len(by_family[f]):
                    plan.append((pos, by_family[f][i]))

    def fits(cost: float) -> bool:
        return time.monotonic() - started + cost + max(baseline) <= cfg.timing_budget

    cut = False
    for pos, tpl in plan:
        if tpl.family in pos.hit_families:
            continue
        req = (low_s, high_s) if tpl.unit == "s" else rows
        low_params, high_params = pos.build(tpl.render(req[0])), pos.build(tpl.render(req[1]))
        if low_params is None or high_params is None:
            continue
        if not fits(low_s * 1.5):
            cut = True
            break
        p.found.sent[tpl.family] = p.found.sent.get(tpl.family, 0) + 1
        took, first = await _timed_call(run, low_params, timeout)
        if tpl.unit == "rows" and took is not None and took <= thr:
            # SQLite work, not a clock: the rows were calibrated in mcpcheck's process, and the
            # server's SQLite (another build, other load) may do them faster. A screen slower than
            # every baseline call but under the threshold is rescaled from the server's own
            # measured excess (at most ESCALATIONS times, each x<=8), the low/high ratio kept.
            tried = [(req[0], took)]
            base, spread = statistics.median(baseline), max(baseline) - statistics.median(baseline)
            slower = took - base > max(spread, 0.1 * low_s)  # outside the baseline's own spread
            for _ in range(ESCALATIONS):
                excess = took - base
                if took > thr or excess <= max(spread, 0.1 * low_s) or not fits(low_s * 1.5):
                    break
                grow = min(8.0, max(1.5, low_s / excess))
                req = (int(req[0] * grow), int(req[1] * grow))
                low_params, high_params = pos.build(tpl.render(req[0])), pos.build(tpl.render(req[1]))
                if low_params is None or high_params is None:
                    break
                took, first = await _timed_call(run, low_params, timeout)
                tried.append((req[0], took))
                if took is None:
                    break
            if len(tried) > 1 and took is not None and took > thr:
                rows = req  # the next SQLite template starts at the size this server needed
            elif slower:
                run.notes.append(
                    f"security: tool {pos.item!r} argument {pos.where}: {tpl.name} was slower than every baseline call but never above the "
                    f"threshold ({thr:.2f} s; baseline {T._ms(baseline)}): " + ", ".join(f"{r} rows: {'timed out' if t is None else T._ms([t])}" for r, t in tried) + "; no proof"
                )
        if took is None or took <= thr:
            continue  # not delayed: the usual case, one fast call
        low, high, after, exchanges = [took], [], [], [first]
        steps = [s for k in range(cfg.timing_trials) for s in (("high", high_params, high_s), ("low", low_params, low_s))][:-1]  # low (the screen), high, low, high
        for name, params, cost in steps:
            if not fits(cost * 1.5):
                cut = True
                break
            took, ex = await _timed_call(run, params, timeout)
            exchanges.append(ex)
            (high if name == "high" else low).append(took if took is not None else 0.0)
            if took is None or took <= thr:
                break  # inconsistent: no proof, no need to go on
        if cut:
            break
        if len(low) == len(high) == cfg.timing_trials and min(low + high) > thr:
            for _ in range(2):
                took, ex = await _timed_call(run, benign, timeout)
                exchanges.append(ex)
                after.append(took if took is not None else float("inf"))
        verdict = T.judge(baseline, low, high, after, req[0], req[1], tpl.unit, cfg.timing_margin)
        if not verdict.ok:
            if len(high) or len(low) > 1:
                run.notes.append(f"security: tool {pos.item!r} argument {pos.where}: {tpl.name} was slow but is no proof: {verdict.why}")
            continue
        v = Violation(
            f"{_describe(pos)}: blind, time-based: {tpl.name} payload {tpl.render(req[1])[:160]!r} ({tpl.description}) delayed the answer "
            f"consistently and in proportion to the delay asked for. Timings: {verdict.why}",
            [e for x in exchanges for e in x.evidence()],
            path=pos.where, tool=pos.item, input=_input(pos, high_params), key=f"{pos.kind}/{pos.item}/{pos.where}",
        )
        pos.hit_families.add(tpl.family)
        p.found.proofs.setdefault(tpl.family, []).append(Proof(v, None))  # no replay oracle: a replay would have to time it again
    if cut:
        run.notes.append(f"security: tool {pos0.item!r}: time-based probes stopped at the {cfg.timing_budget:g} s budget")


# -------------------------------------------------------------------- judging


def _input(pos: _Position, params: dict[str, Any]) -> Any:
    return params.get("arguments") if pos.kind == "tool" else params


def _describe(pos: _Position) -> str:
    if pos.kind == "tool":
        return f"tool {pos.item!r} argument {pos.where}" if pos.where else f"tool {pos.item!r}"
    if pos.kind == "template":
        return f"resource template {pos.item!r} variable {pos.where}"
    return f"prompt {pos.item!r} argument {pos.where!r}"


def _hit(p: _Prober, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange, proof: str, extra: list[WireEntry] | None = None, baseline: Exchange | None = None, control: Any = None) -> None:
    run = p.run
    evidence = [*ex.evidence(), *(extra or [])]
    if baseline is not None:
        evidence = [*baseline.evidence(), *evidence]
    args = _input(pos, params)
    v = Violation(
        f"{_describe(pos)}: {probe.template} payload {probe.text[:160]!r} was acted on. Proof: {proof}",
        evidence,
        path=pos.where if pos.kind == "tool" else f"{pos.kind}:{pos.item} {pos.where}",
        tool=pos.item if pos.kind == "tool" else None,
        input=args,
        key=f"{pos.kind}/{pos.item}/{pos.where}",
    )
    pos.hit_families.add(probe.family)
    oracle: dict[str, Any] | None = None
    if pos.kind == "tool":
        oracle = {"family": probe.family, "template": probe.template, "oracle": probe.oracle, "marker": probe.marker, "payload": probe.text, "path": pos.where}
        if probe.oracle in ("sql_tautology", "sql_contradiction", "db_error") and pos.baseline is not None:
            oracle["baseline_arguments"] = pos.baseline.request["params"]["arguments"] if isinstance(pos.baseline.request, dict) else None
        if control is not None:
            oracle["control_arguments"] = [control]
        if probe.family == "path" and run.planted is not None:
            oracle["planted"] = {"path": str(run.planted.path), "token": run.planted.token}
        if probe.family == "ssrf" and run.canary is not None:
            oracle["ssrf_base"] = run.canary.base_url
    p.found.proofs.setdefault(probe.family, []).append(Proof(v, oracle))


def _judge(p: _Prober, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange) -> None:
    sent = D.sent_text(params)
    if probe.oracle == "marker" and probe.marker:
        proof = D.marker_proof(ex, probe.marker, sent, pos.baseline)
        if proof:
            _hit(p, pos, probe, params, ex, f"{probe.marker!r} is in the answer but was never sent ({proof})")
        elif probe.family == "sql" and (proof := D.db_error_proof(ex, sent, pos.baseline)):
            _hit(p, pos, probe, params, ex, proof, baseline=pos.baseline)
    elif probe.oracle == "db_error":
        proof = D.db_error_proof(ex, sent, pos.baseline)
        if proof:
            _hit(p, pos, probe, params, ex, proof, baseline=pos.baseline)
    elif probe.oracle in ("sql_tautology", "sql_contradiction"):
        if (proof := D.db_error_proof(ex, sent, pos.baseline)):
            _hit(p, pos, probe, params, ex, proof, baseline=pos.baseline)
            return
        pair = pos.sql.setdefault(probe.pair or "", {})
        pair["tautology" if probe.oracle == "sql_tautology" else "contradiction"] = (probe, params, ex)
        if "tautology" in pair and "contradiction" in pair and pos.baseline is not None:
            base_n = D.row_count(pos.baseline)
            t_probe, t_params, taut = pair["tautology"]
            _c_probe, c_params, contra = pair["contradiction"]
            t_n, c_n = D.row_count(taut), D.row_count(contra)
            if t_n > base_n and c_n <= base_n:
                _hit(
                    p, pos, t_probe, t_params, taut,
                    f"the tautology returned {t_n} records where a benign value returned {base_n} and the same query made false ({_c_probe.text!r}) returned {c_n}",
                    extra=contra.evidence(), baseline=pos.baseline, control=_input(pos, c_params),
                )
    elif probe.oracle == "ssrf":
        if not _judge_ssrf(p, pos, probe, params, ex, wait=p.run.cfg.ssrf_grace):
            p.ssrf_pending.append((pos, probe, params, ex))


def _judge_ssrf(p: _Prober, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange, wait: float) -> bool:
    run = p.run
    if run.canary is None:
        return False
    hits = run.canary.wait_for(probe.canary, wait)
    if not hits:
        return False
    entry = run.session.wirelog.record("in", "event", f"mcpcheck canary server {run.canary.base_url} received: {hits[0].describe()}", note=f"ssrf token {probe.canary}")
    _hit(p, pos, probe, params, ex, f"the loopback canary server received {hits[0].describe()} carrying the token {probe.canary}", extra=[entry])
    return True


EXPOSURE_SEVERITY = {"secret": Severity.critical, "traceback": Severity.medium, "path": Severity.low}
# a host path alone is hardening advice: no spec rule names it (T11/LG4 name secrets and internals
# an attacker can use), so its finding prints no keyword and stays low
EXPOSURE_LEVEL = {"path": "-"}


def exposure_key(kind: str, item: str, leak: str) -> str:
    """What makes two exposures one finding: a secret or a stack trace per tool (prompt,
    template); host paths once per target and era, whatever the tool (one cause: the server
    names paths of its host; every further tool is listed as an instance of that finding)."""
    return "path" if leak == "path" else f"{kind}/{item}/{leak}"


def _judge_exposure(p: _Prober, pos: _Position, params: dict[str, Any], ex: Exchange) -> None:
    if not p.exposure:
        return
    run = p.run
    p.found.exposure_calls += 1
    found = D.exposures(ex, D.sent_text(params), [run.secret] if run.secret else [], allowed=run.allowed_paths())
    what = {"secret": f"the canary secret planted in the server's environment ({CANARY_ENV})", "traceback": "a stack trace", "path": "an absolute path of the host"}
    for e in found:
        v = Violation(
            f"{_describe(pos)}: the {e.where} of {METHOD[pos.kind]} leaks {what[e.kind]}: {e.excerpt[:400]!r}",
            ex.evidence(), path=(pos.where or None) if pos.kind == "tool" else None, tool=pos.item if pos.kind == "tool" else None,
            input=_input(pos, params), severity=EXPOSURE_SEVERITY[e.kind], key=exposure_key(pos.kind, pos.item, e.kind), level=EXPOSURE_LEVEL.get(e.kind),
        )
        oracle = {"family": "exposure", "oracle": "exposure", "secret": run.secret} if pos.kind == "tool" else None
        p.found.proofs.setdefault("exposure", []).append(Proof(v, oracle))


__all__ = ["Active", "EXPOSURE_SEVERITY", "Proof", "SecurityRun", "SecuritySettings", "exposure_key", "probe_all"]

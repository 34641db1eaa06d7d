"""The security campaign: active injection probes plus static checks of what a server publishes.

Active probes (docs/security.md has the full list): for every tool mcpcheck may call
(conformance/safety.py), every string position of its inputSchema that can hold a payload while
the arguments stay valid (strategies.injection_points), a bounded, deterministic list of probes
per family (shell, sql, path, template, ssrf; conformance/security/probes.py) goes through the
real session. The same probes go into resource-template variables (resources/read) and prompt
arguments (prompts/get). The oracles (conformance/security/detect.py) only accept proof: text
that the payload makes the server produce but that was never sent (an arithmetic product, the
content of a planted file, a database error, extra rows compared with a false control), or a
request seen by mcpcheck's loopback canary HTTP server.

Static checks: tool poisoning (hidden instructions in descriptions and schemas), rug pulls
(definitions that change between listings without a list_changed notification), name shadowing
(look-alikes of well-known tool names; duplicates across the targets of one run).

Observers run on this machine only: the canary HTTP server listens on 127.0.0.1, the planted
file lives in a fresh temporary folder, the canary secret is an environment variable of the
stdio server process. Nothing is ever sent anywhere else.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets as _secrets
from dataclasses import dataclass, field
from typing import Any

from ..connect import open_session, start_session
from ..corpus import CorpusEntry, save_entry
from ..findings import CheckSpec, Severity, Violation, register
from ..report.model import TargetResult
from ..safety import may_call
from ..security import detect as D
from ..security import poisoning as P
from ..security.canary_server import CanaryFile, CanaryServer
from ..security.probes import FAMILIES, Probe, interleave, probes_for
from mcpcheck.strategies.payloads import make_canary
from ..session import HANDSHAKE_LATEST, LATEST, Exchange, Session
from ..wirelog import WireEntry
from .context import CampaignContext
from .fuzz import CANARY_ENV

# -------------------------------------------------------------------- checks

COMMAND_INJECTION = register(
    "security.command_injection", "security.command_injection", "critical",
    "Arguments never reach a shell: no payload makes the server print a computed marker",
    rule="T11", level="MUST", campaign="security",
    description="Payloads like `; echo TOKEN:$((1337*7331))`; proof is TOKEN:9801547 in the answer, a text that was never sent.",
)
SQL_INJECTION = register(
    "security.sql_injection", "security.sql_injection", "critical",
    "Arguments never change the structure of an SQL query",
    rule="T11", level="MUST", campaign="security",
    description="Proof: a tautology returns more rows than a benign value while the same query made false does not; or a UNION-selected computed value; or database error text.",
)
PATH_TRAVERSAL = register(
    "security.path_traversal", "security.path_traversal", "high",
    "Path arguments and resource URIs cannot read files outside the server's root",
    rule="T11/RS5", level="MUST", campaign="security",
    description="Proof: the token of a file mcpcheck planted outside the server's working directory (or /etc/passwd's root:x:0:0) comes back.",
)
TEMPLATE_INJECTION = register(
    "security.template_injection", "security.template_injection", "critical",
    "Arguments are never evaluated as template or code expressions",
    rule="T11", level="MUST", campaign="security",
    description="Payloads like `TOKEN:{{1337*7331}}` in several syntaxes; proof is TOKEN:9801547 in the answer.",
)
SSRF = register(
    "security.ssrf", "security.ssrf", "high",
    "URL-like arguments do not make the server fetch arbitrary (loopback) URLs",
    rule="T11", level="MUST", campaign="security",
    description="Proof: mcpcheck's loopback canary HTTP server receives the per-probe token.",
)
DATA_EXPOSURE = register(
    "security.data_exposure", "security.data_exposure", "high",
    "Results, errors and log notifications leak no secrets, stack traces or host paths",
    rule="T11/LG4", level="MUST", campaign="security",
    description="A canary secret is planted in the stdio server's environment (MCPCHECK_CANARY_SECRET); it, a stack trace, or an absolute host path in any answer is a finding (secret: critical, trace: medium, path: low).",
)
TOOL_POISONING = register(
    "security.tool_poisoning", "security.tool_poisoning", "high",
    "Published descriptions and schemas carry no hidden instructions for the model",
    rule="T11", level="MUST NOT", campaign="security",
    description="Rules: override, hidden_tag, secret_file, conceal, tool_steering, invisible, base64 (conformance/security/poisoning.py).",
)
RUG_PULL = register(
    "security.rug_pull", "security.rug_pull", "high",
    "Tool, prompt and resource definitions do not change without a list_changed notification",
    rule="T7/T14", level="MUST NOT", campaign="security",
)
SHADOWING = register(
    "security.tool_shadowing", "security.tool_poisoning", "medium",
    "Tool names do not imitate well-known tool names or each other",
    rule="T6", level="SHOULD NOT", campaign="security",
    description="Look-alikes of well-known tool names (read_fiIe, read-file) are medium; two names of one server that read the same are low; publishing a well-known name exactly is an info observation.",
)
SHADOWING_CROSS = register(
    "security.tool_shadowing_cross_target", "security.tool_poisoning", "medium",
    "No two targets of one run publish the same tool name",
    rule="T6", level="SHOULD NOT", campaign="security",
    description="A client connected to both servers cannot tell which one a call goes to; judged after every target of the run was listed.",
)

BY_FAMILY: dict[str, CheckSpec] = {
    "shell": COMMAND_INJECTION,
    "sql": SQL_INJECTION,
    "path": PATH_TRAVERSAL,
    "template": TEMPLATE_INJECTION,
    "ssrf": SSRF,
}
ACTIVE = (*BY_FAMILY.values(), DATA_EXPOSURE)
STATIC = (TOOL_POISONING, RUG_PULL, SHADOWING)


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
    corpus_dir: str = "corpus"


# -------------------------------------------------------------------- run state


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
class _Run:
    ctx: CampaignContext
    cfg: SecuritySettings
    env: dict[str, str]
    secret: str | None
    session: Session
    planted: CanaryFile | None = None
    canary: CanaryServer | None = None
    sessions: list[Session] = field(default_factory=list)
    calls: int = 0
    ssrf_pending: list[tuple[_Position, Probe, Any, Exchange]] = field(default_factory=list)

    async def request(self, method: str, params: dict[str, Any], timeout: float | None = None) -> Exchange:
        if not self.session.alive:
            self.ctx.notes.append(f"security: the server went away ({self.session.transport.closed_reason}); restarted it")
            self.session = await open_session(self.ctx.target, self.ctx.revision or "", extra_env=self.env)
            self.sessions.append(self.session)
            self.ctx.session = self.session
        self.calls += 1
        return await self.session.request(method, params, timeout=timeout)


# -------------------------------------------------------------------- entry point


async def run_security(ctx: CampaignContext, result: TargetResult, cfg: SecuritySettings | None = None) -> None:
    cfg = cfg or getattr(ctx, "security_settings", None) or SecuritySettings()
    stdio = ctx.target.transport == "stdio"
    secret = f"MCPCHK_SECRET_{_secrets.token_hex(8)}" if stdio else None
    env = {CANARY_ENV: secret} if secret else {}
    active = any(ctx.wants(s) for s in ACTIVE)
    planted = CanaryFile.plant() if active and ctx.wants(PATH_TRAVERSAL) and "path" in cfg.families else None
    canary = CanaryServer().start() if active and ctx.wants(SSRF) and "ssrf" in cfg.families else None
    run: _Run | None = None
    try:
        session = await _open(ctx, env)
        if not result.eras and session.revision:
            result.eras = [session.revision]
        ctx.revision, ctx.session = session.revision, session
        run = _Run(ctx, cfg, env, secret, session, planted, canary, [session])
        first = await _listing(run)
        second = await _listing(run)
        result.tools = sorted({str(t.get("name")) for t in first.tools} | set(result.tools))
        _static(run, first)
        _rug_pull(run, first, second, "between two consecutive listings, with no call in between")
        if active:
            await _active(run, first)
            after = await _listing(run)
            _rug_pull(run, first, after, f"after {run.calls} calls")
            _poisoning(run, after)  # a definition that turned poisonous later
        else:
            for spec in ACTIVE:
                ctx.skip(spec, "not selected")
        if secret is None:
            ctx.notes.append("security: HTTP target: no canary secret could be planted in the server's environment; data_exposure looked for stack traces and host paths only")
    finally:
        for s in run.sessions if run is not None else []:
            await s.close()
        if canary is not None:
            canary.stop()
        if planted is not None:
            planted.remove()


async def _open(ctx: CampaignContext, env: dict[str, str]) -> Session:
    """A ready session in the newest era the server speaks, starting as few server processes
    as possible (one for a 2026-07-28 server; the full two-era detect() is not needed here)."""
    target = ctx.target
    if target.protocol:
        return await open_session(target, target.protocol, extra_env=env)
    s = await start_session(target, extra_env=env)
    ex = await s.discover(LATEST, timeout=min(target.timeout, 5.0))
    versions = ex.result.get("supportedVersions") if ex.ok and isinstance(ex.result, dict) else None
    if isinstance(versions, list) and LATEST in versions:
        return s
    await s.close()
    return await open_session(target, HANDSHAKE_LATEST, extra_env=env)


async def _list(run: _Run, method: str, key: str) -> list[dict[str, Any]]:
    from ..pages import walk

    return (await walk(run.request, method, key)).items


async def _listing(run: _Run) -> P.Listing:
    caps = run.session.server_capabilities
    src = run.session.discover_result if run.session.stateless else run.session.initialize_result
    instructions = (src or {}).get("instructions")
    return P.Listing(
        tools=await _list(run, "tools/list", "tools") if "tools" in caps else [],
        prompts=await _list(run, "prompts/list", "prompts") if "prompts" in caps else [],
        resources=await _list(run, "resources/list", "resources") if "resources" in caps else [],
        templates=await _list(run, "resources/templates/list", "resourceTemplates") if "resources" in caps else [],
        instructions=instructions if isinstance(instructions, str) else None,
    )


def _listing_evidence(run: _Run, n: int = 2) -> list[WireEntry]:
    out = [
        e for e in run.session.wirelog.entries
        if e.direction == "in" and isinstance(e.parsed, dict) and isinstance(e.parsed.get("result"), dict) and "tools" in e.parsed["result"]
    ]
    return out[-n:]


# -------------------------------------------------------------------- static checks


def _static(run: _Run, listing: P.Listing) -> None:
    _poisoning(run, listing)
    ctx = run.ctx
    if not ctx.wants(SHADOWING):
        return
    names = [str(t.get("name")) for t in listing.tools if isinstance(t.get("name"), str)]
    ev = _listing_evidence(run, 1)
    violations = []
    for name, known in P.lookalikes(names):
        violations.append(Violation(
            f"tool {name!r} imitates the well-known tool name {known!r} (the {P.WELL_KNOWN_TOOLS[known]} server's): a model choosing by name can be steered to it",
            ev, tool=name, key=f"lookalike/{name}",
        ))
    for a, b in P.same_server_collisions(names):
        violations.append(Violation(f"tools {a!r} and {b!r} have names that read the same", ev, tool=b, severity=Severity.low, key=f"collision/{a}/{b}"))
    for name in names:
        if name in P.WELL_KNOWN_TOOLS:
            violations.append(Violation(
                f"tool {name!r} has the name of a well-known {P.WELL_KNOWN_TOOLS[name]} tool: if this server is not that one, a client connected to both cannot tell them apart",
                ev, tool=name, severity=Severity.info, key=f"wellknown/{name}",
            ))
    ctx.record(SHADOWING, violations)


def _poisoning(run: _Run, listing: P.Listing) -> None:
    if not run.ctx.wants(TOOL_POISONING):
        return
    ev = _listing_evidence(run, 1)
    violations = [
        Violation(f"{h.where}: hidden-instruction rule '{h.rule}' matched: {h.excerpt}", ev, tool=h.item, path=h.where, key=f"{h.where}/{h.rule}")
        for h in P.scan_listing(listing)
    ]
    run.ctx.record(TOOL_POISONING, violations)


NOTIFY = {"tool": "notifications/tools/list_changed", "prompt": "notifications/prompts/list_changed", "resource": "notifications/resources/list_changed", "template": "notifications/resources/list_changed"}


def _rug_pull(run: _Run, before: P.Listing, after: P.Listing, when: str) -> None:
    ctx = run.ctx
    if not ctx.wants(RUG_PULL):
        return
    notified = {
        n.parsed.get("method") for s in run.sessions for n in s.notifications if isinstance(n.parsed, dict)
    }
    violations = []
    for (kind, a), (_k, b) in zip(before.by_kind(), after.by_kind()):
        changes = P.diff_listings(a, b, kind)
        if changes and NOTIFY[kind] not in notified:
            violations.append(Violation(
                f"{kind} definitions changed {when} without {NOTIFY[kind]}: " + "; ".join(changes[:6]),
                _listing_evidence(run, 2), key=f"{kind}/{when.split(',')[0].split(' ')[0]}",
            ))
        elif changes:
            ctx.notes.append(f"security: {kind} definitions changed {when}, announced by {NOTIFY[kind]}: " + "; ".join(changes[:3]))
    ctx.record(RUG_PULL, violations)


# -------------------------------------------------------------------- active probes


async def _active(run: _Run, listing: P.Listing) -> None:
    ctx, cfg = run.ctx, run.cfg
    positions_any = False
    for tool in listing.tools:
        why = may_call(tool, ctx.target.safety)
        if why is not None:
            ctx.notes.append(f"security: not calling {tool.get('name')}: {why}")
            continue
        positions = await _tool_positions(run, tool)
        positions_any |= bool(positions)
        if positions:
            await _probe(run, positions, cfg.max_calls_per_tool)
        elif ctx.wants(DATA_EXPOSURE):
            await _exposure_only(run, tool)
    for tmpl in listing.templates:
        positions = _template_positions(tmpl)
        positions_any |= bool(positions)
        await _probe(run, positions, cfg.max_calls_per_template)
    for prompt in listing.prompts:
        positions = _prompt_positions(prompt)
        positions_any |= bool(positions)
        await _probe(run, positions, cfg.max_calls_per_prompt)
    if run.canary is not None and run.ssrf_pending:
        await asyncio.sleep(cfg.final_grace)
        for pos, probe, params, ex in run.ssrf_pending:
            if "ssrf" not in pos.hit_families:
                _judge_ssrf(run, pos, probe, params, ex, wait=0.0)
    for spec in ACTIVE:
        if positions_any or spec is DATA_EXPOSURE:
            ctx.passed(spec)
        else:
            ctx.skip(spec, "no tool argument, resource template variable or prompt argument can carry a payload")
    if run.planted is None:
        ctx.skip(PATH_TRAVERSAL, "path family not selected")
    if run.canary is None:
        ctx.skip(SSRF, "ssrf family not selected")


async def _exposure_only(run: _Run, tool: dict[str, Any]) -> None:
    """A tool with no string input still gets one call (simplest valid arguments) so that what
    it returns is searched for the canary secret, stack traces and host paths."""
    from mcpcheck import strategies

    name = str(tool.get("name"))
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
    try:
        base = await asyncio.to_thread(strategies.simplest, strategies.plan_valid(schema, revision=run.ctx.revision).strategy)
    except Exception as exc:
        run.ctx.notes.append(f"security: {name}: no valid arguments for the exposure call: {exc}")
        return
    pos = _Position("tool", name, "", lambda _t: None, base_params=base)
    params = {"name": name, "arguments": base}
    ex = await run.request("tools/call", params, timeout=min(run.ctx.target.timeout, 5.0))
    _judge_exposure(run, pos, params, ex)


async def _tool_positions(run: _Run, tool: dict[str, Any]) -> list[_Position]:
    from mcpcheck import strategies
    from mcpcheck.strategies.injected import _put, _slots

    name = str(tool.get("name"))
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
    rev = run.ctx.revision
    try:
        points = strategies.injection_points(schema, rev)
    except Exception as exc:  # an unusable schema is judged by the conformance campaign
        run.ctx.notes.append(f"security: {name}: cannot find string inputs: {exc}")
        return []
    if not points:
        return []
    try:
        plan = strategies.plan_valid(schema, revision=rev)
        base = await asyncio.to_thread(strategies.simplest, plan.strategy)
        oracle = strategies.make_validator(schema, rev, formats=True)
    except Exception as exc:
        run.ctx.notes.append(f"security: {name}: no valid base arguments: {exc}")
        return []
    base = _loopback_urls(run, base, points, oracle)
    out = []
    for point in points[: run.cfg.max_points_per_tool]:
        slots = _slots(base, point.tokens)
        if not slots:
            continue
        where, mode = slots[0]

        def build(text: str, where=where, mode=mode) -> dict[str, Any] | None:
            args, _ = _put(copy.deepcopy(base), where, mode, text)
            try:
                ok = oracle.is_valid(args)
            except Exception:
                ok = False
            return {"name": name, "arguments": args} if ok else None

        field_name = str(point.tokens[-1]) if point.tokens else ""
        out.append(_Position("tool", name, point.path, build, field_name=field_name, uri_format=point.format is not None, base_params=base))
    return out


def _loopback_urls(run: _Run, base: Any, points: list[Any], oracle: Any) -> Any:
    """Fill every URL-like field of the base arguments with a URL on the loopback canary
    server, so that a tool never falls back to a default URL somewhere on the internet while
    another of its fields carries the payload."""
    from mcpcheck.strategies.injected import _put, _slots

    from ..security.probes import URLISH

    for point in points:
        name = str(point.tokens[-1]) if point.tokens else ""
        if point.format is None and not URLISH.search(name):
            continue
        for where, mode in _slots(base, point.tokens)[:1]:
            if mode == "append":
                continue
            url = f"{run.canary.base_url if run.canary else 'http://127.0.0.1:9'}/{make_canary(0, 'base-url|' + point.path)}"
            candidate, _ = _put(copy.deepcopy(base), where, mode, url)
            try:
                if oracle.is_valid(candidate):
                    base = candidate
            except Exception:
                pass
    return base


def _template_vars(template: str) -> list[tuple[str, str, str]]:
    """(expression, operator, variable) for each RFC 6570 expression of a URI template."""
    import re

    out = []
    for m in re.finditer(r"\{([+#./;?&]?)([^}]*)\}", template):
        op = m.group(1)
        for var in m.group(2).split(","):
            out.append((m.group(0), op, var.rstrip("*").split(":")[0]))
    return out


def _template_positions(tmpl: dict[str, Any]) -> list[_Position]:
    from urllib.parse import quote

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


def _benign(run: _Run, pos: _Position) -> str:
    """A harmless value for the baseline call: a fresh token (a URL on the canary server for
    URI-format fields), matching nothing a server could hold."""
    token = make_canary(0, f"benign|{run.ctx.target.name}|{pos.kind}|{pos.item}|{pos.where}")
    if pos.uri_format:
        return f"{run.canary.base_url if run.canary else 'http://127.0.0.1:9'}/{token}"
    return token


METHOD = {"tool": "tools/call", "template": "resources/read", "prompt": "prompts/get"}


async def _probe(run: _Run, positions: list[_Position], budget: int) -> None:
    if not positions:
        return
    cfg, ctx = run.cfg, run.ctx
    cwd = getattr(run.session.transport, "workdir", None)
    groups = []
    for pos in positions:
        salt = f"{run.ctx.target.name}|{pos.kind}|{pos.item}|{pos.where}"
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
        _judge_exposure(run, pos, params, ex)
    plan = interleave(groups, max(0, budget - len(positions)))
    ctx.progress(f"{ctx.target.name}: security probes for {positions[0].kind} {positions[0].item} ({len(plan)} calls)")
    for gi, probe in plan:
        pos = positions[gi]
        if probe.family in pos.hit_families:
            continue  # one proven finding per position and family is enough
        params = pos.build(probe.text)
        if params is None:
            continue  # the payload would make the arguments invalid: not an injection test
        ex = await run.request(METHOD[pos.kind], params)
        _judge(run, pos, probe, params, ex)
        _judge_exposure(run, pos, params, ex)


# -------------------------------------------------------------------- judging


def _input(pos: _Position, params: dict[str, Any]) -> Any:
    return params.get("arguments") if pos.kind == "tool" else params


def _describe(pos: _Position) -> str:
    if pos.kind == "tool":
        return f"tool {pos.item!r} argument {pos.where}" if pos.where else f"tool {pos.item!r}"
    if pos.kind == "template":
        return f"resource template {pos.item!r} variable {pos.where}"
    return f"prompt {pos.item!r} argument {pos.where!r}"


def _hit(run: _Run, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange, proof: str, extra: list[WireEntry] | None = None, baseline: Exchange | None = None, control: Any = None) -> None:
    spec = BY_FAMILY[probe.family]
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
    findings = run.ctx.record(spec, [v])
    pos.hit_families.add(probe.family)
    if findings and pos.kind == "tool" and run.cfg.write_corpus:
        oracle: dict[str, Any] = {"family": probe.family, "template": probe.template, "oracle": probe.oracle, "marker": probe.marker, "payload": probe.text, "path": pos.where}
        if probe.oracle in ("sql_tautology", "sql_contradiction", "db_error") and pos.baseline is not None:
            oracle["baseline_arguments"] = pos.baseline.request["params"]["arguments"] if isinstance(pos.baseline.request, dict) else None
        if control is not None:
            oracle["control_arguments"] = [control]
        if probe.family == "path" and run.planted is not None:
            oracle["planted"] = {"path": str(run.planted.path), "token": run.planted.token}
        if probe.family == "ssrf" and run.canary is not None:
            oracle["ssrf_base"] = run.canary.base_url
        save_entry(
            CorpusEntry(target=run.ctx.target.name, tool=pos.item, arguments=args, mode="injected", check=spec.id, revision=run.ctx.revision, detail=v.detail, oracle=oracle),
            run.cfg.corpus_dir,
        )


def _judge(run: _Run, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange) -> None:
    sent = D.sent_text(params)
    if probe.oracle == "marker" and probe.marker:
        proof = D.marker_proof(ex, probe.marker, sent, pos.baseline)
        if proof:
            _hit(run, pos, probe, params, ex, f"{probe.marker!r} is in the answer but was never sent ({proof})")
        elif probe.family == "sql" and (proof := D.db_error_proof(ex, sent, pos.baseline)):
            _hit(run, pos, probe, params, ex, proof, baseline=pos.baseline)
    elif probe.oracle == "db_error":
        proof = D.db_error_proof(ex, sent, pos.baseline)
        if proof:
            _hit(run, pos, probe, params, ex, proof, baseline=pos.baseline)
    elif probe.oracle in ("sql_tautology", "sql_contradiction"):
        if (proof := D.db_error_proof(ex, sent, pos.baseline)):
            _hit(run, pos, probe, params, ex, proof, baseline=pos.baseline)
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
                    run, pos, t_probe, t_params, taut,
                    f"the tautology returned {t_n} records where a benign value returned {base_n} and the same query made false ({_c_probe.text!r}) returned {c_n}",
                    extra=contra.evidence(), baseline=pos.baseline, control=_input(pos, c_params),
                )
    elif probe.oracle == "ssrf":
        if not _judge_ssrf(run, pos, probe, params, ex, wait=run.cfg.ssrf_grace):
            run.ssrf_pending.append((pos, probe, params, ex))


def _judge_ssrf(run: _Run, pos: _Position, probe: Probe, params: dict[str, Any], ex: Exchange, wait: float) -> bool:
    if run.canary is None:
        return False
    hits = run.canary.wait_for(probe.canary, wait)
    if not hits:
        return False
    entry = run.session.wirelog.record("in", "event", f"mcpcheck canary server {run.canary.base_url} received: {hits[0].describe()}", note=f"ssrf token {probe.canary}")
    _hit(run, pos, probe, params, ex, f"the loopback canary server received {hits[0].describe()} carrying the token {probe.canary}", extra=[entry])
    return True


def _judge_exposure(run: _Run, pos: _Position, params: dict[str, Any], ex: Exchange) -> None:
    if not run.ctx.wants(DATA_EXPOSURE):
        return
    found = D.exposures(ex, D.sent_text(params), [run.secret] if run.secret else [])
    sev = {"secret": Severity.critical, "traceback": Severity.medium, "path": Severity.low}
    what = {"secret": f"the canary secret planted in the server's environment ({CANARY_ENV})", "traceback": "a stack trace", "path": "an absolute path of the host"}
    violations = [
        Violation(
            f"{_describe(pos)}: the {e.where} of {METHOD[pos.kind]} leaks {what[e.kind]}: {e.excerpt[:400]!r}",
            ex.evidence(), path=(pos.where or None) if pos.kind == "tool" else None, tool=pos.item if pos.kind == "tool" else None,
            input=_input(pos, params), severity=sev[e.kind], key=f"{pos.kind}/{pos.item}/{e.kind}",
        )
        for e in found
    ]
    if violations:
        new = run.ctx.record(DATA_EXPOSURE, violations)
        if new and pos.kind == "tool" and run.cfg.write_corpus:
            for f in new:
                oracle = {"family": "exposure", "oracle": "exposure", "secret": run.secret}
                save_entry(
                    CorpusEntry(target=run.ctx.target.name, tool=pos.item, arguments=f.input, mode="injected", check=DATA_EXPOSURE.id, revision=run.ctx.revision, detail=f.detail, oracle=oracle),
                    run.cfg.corpus_dir,
                )


# -------------------------------------------------------------------- replay


async def replay_injected(ctx: CampaignContext, entry: CorpusEntry) -> tuple[CheckSpec, list[Violation]]:
    """Re-run one stored security hit and judge it with the same oracle (used by `replay`)."""
    from ..findings import REGISTRY

    spec = REGISTRY[entry.check]
    oracle = dict(entry.oracle or {})
    args = entry.arguments
    planted = canary = None
    env: dict[str, str] = {}
    if oracle.get("secret") and ctx.target.transport == "stdio":
        env = {CANARY_ENV: oracle["secret"]}
    session = ctx.s
    own = None
    try:
        if oracle.get("planted"):
            planted = CanaryFile.plant(oracle["planted"]["path"], oracle["planted"]["token"])
        if oracle.get("ssrf_base"):
            canary = CanaryServer().start()
            text = json.dumps(args).replace(oracle["ssrf_base"], canary.base_url)
            args = json.loads(text)
        if env:
            own = session = await open_session(ctx.target, ctx.revision or "", extra_env=env)
        ex = await session.request("tools/call", {"name": entry.tool, "arguments": args})
        sent = D.sent_text(args)
        baseline = None
        if oracle.get("baseline_arguments") is not None:
            baseline = await session.request("tools/call", {"name": entry.tool, "arguments": oracle["baseline_arguments"]})
        proof = None
        kind = oracle.get("oracle")
        if kind == "exposure":
            found = D.exposures(ex, sent, [oracle["secret"]] if oracle.get("secret") else [])
            proof = "; ".join(f"{e.kind} in {e.where}: {e.excerpt[:200]!r}" for e in found) or None
        elif kind == "ssrf" and canary is not None:
            marker = oracle.get("marker") or ""
            hits = canary.wait_for(marker, 1.0)
            proof = hits[0].describe() if hits else None
        elif kind == "sql_tautology":
            proof = D.db_error_proof(ex, sent, baseline)
            controls = oracle.get("control_arguments") or []
            if proof is None and baseline is not None and controls:
                contra = await session.request("tools/call", {"name": entry.tool, "arguments": controls[0]})
                t, b, c = D.row_count(ex), D.row_count(baseline), D.row_count(contra)
                proof = f"tautology {t} records, benign {b}, false control {c}" if t > b and c <= b else None
        elif kind == "db_error":
            proof = D.db_error_proof(ex, sent, baseline)
        elif oracle.get("marker"):
            proof = D.marker_proof(ex, oracle["marker"], sent, baseline) or (D.db_error_proof(ex, sent, baseline) if oracle.get("family") == "sql" else None)
        if proof is None:
            return spec, []
        return spec, [Violation(f"[replay] tool {entry.tool!r}: {oracle.get('template') or kind} payload still acted on. Proof: {proof}", ex.evidence(), tool=entry.tool, input=args, path=oracle.get("path"), key=f"replay/{entry.tool}/{oracle.get('path')}/{kind}")]
    finally:
        if own is not None:
            await own.close()
        if canary is not None:
            canary.stop()
        if planted is not None:
            planted.remove()


# -------------------------------------------------------------------- across targets


def cross_target(outcomes: list[Any], wants: Any = lambda _id: True) -> None:
    """After every target of a run was tested: the same tool name published by two targets."""
    from ..report.model import CheckResult

    if not wants(SHADOWING_CROSS.id):
        return
    if len(outcomes) < 2:
        for o in outcomes:
            o.checks.append(CheckResult(
                id=SHADOWING_CROSS.id, category=SHADOWING_CROSS.category, severity=SHADOWING_CROSS.severity,
                title=SHADOWING_CROSS.title, rule=SHADOWING_CROSS.rule, target=o.result.name, revision=None,
                status="skipped", reason="only one target in this run", count=0,
            ))
        return
    owners: dict[str, list[str]] = {}
    for o in outcomes:
        for name in set(o.result.tools):
            owners.setdefault(name, []).append(o.result.name)
    for o in outcomes:
        me = o.result.name
        violations = [
            Violation(f"tool {name!r} is published by targets {', '.join(repr(t) for t in sorted(owners[name]))}: a client connected to both cannot tell which server a call goes to", tool=name, key=f"{name}")
            for name in sorted(set(o.result.tools))
            if len(set(owners[name])) > 1 and me in owners[name]
        ]
        for v in violations:
            o.findings.append(SHADOWING_CROSS.finding(v, target=me))
        o.checks.append(CheckResult(
            id=SHADOWING_CROSS.id, category=SHADOWING_CROSS.category, severity=SHADOWING_CROSS.severity,
            title=SHADOWING_CROSS.title, rule=SHADOWING_CROSS.rule, target=me, revision=None,
            status="failed" if violations else "passed", count=1,
        ))


__all__ = ["SecuritySettings", "cross_target", "replay_injected", "run_security"]

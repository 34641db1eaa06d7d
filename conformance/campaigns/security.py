"""The security campaign: active injection probes plus static checks of what a server publishes.

Active probes (docs/security.md has the full list; the I/O is in campaigns/security_probes.py):
for every tool mcpcheck may call, every string position of its inputSchema that can hold a
payload while the arguments stay valid, a bounded, deterministic list of probes per family
(shell, sql, path, template, ssrf; conformance/security/probes.py) goes through the real
session. The same probes go into resource-template variables (resources/read) and prompt
arguments (prompts/get). The oracles (conformance/security/detect.py) only accept proof: text
that the payload makes the server produce but that was never sent (an arithmetic product, the
content of a planted file, a database error, extra rows compared with a false control), or a
request seen by mcpcheck's loopback canary HTTP server.

Static checks: tool poisoning and name shadowing are `listing` checks
(conformance/security/poisoning.py) judged on the first listing and on the one after the
probes; rug pulls (definitions that change between listings without a list_changed
notification) are judged by `security.rug_pull`, which runs after the active probes and lists
again; duplicates across the targets of one run by `security.tool_shadowing_cross_target`, a
`run` check that `cross_target` judges once every target was tested.

How the campaign drives its checks: it opens one session (a canary secret in the stdio
server's environment), lists twice, judges the first listing, then runs every `session` check
of campaign "security" in registration order (`ctx.run_probes`) with a SecurityRun as
`ctx.state`. The six active checks share one pass of probes (`ctx.once`): whichever runs first
sends them all, each yields what its family proved.

Observers run on this machine only: the canary HTTP server listens on 127.0.0.1, the planted
file lives in a fresh temporary folder, the canary secret is an environment variable of the
stdio server process. Nothing is ever sent anywhere else.
"""

from __future__ import annotations

import dataclasses

import json
import secrets as _secrets
from dataclasses import dataclass
from typing import Any, AsyncIterator

from ..connect import open_session, start_listening, start_session
from ..corpus import CorpusEntry, save_entry
from ..findings import CheckSpec, Violation
from ..registry import REGISTRY, RunContext, SessionContext, Skip, call_check, check
from ..results import CheckResult, TargetResult
from ..security import detect as D
from ..security import poisoning as P
from ..security.canary_server import CanaryFile, CanaryServer
from ..session import HANDSHAKE_LATEST, LATEST, Session
from .context import CampaignContext
from .fuzz import CANARY_ENV
from .security_probes import Active, SecurityRun, SecuritySettings, exposure_key, probe_all

# -------------------------------------------------------------------- the active checks


async def _active(ctx: SessionContext) -> Active:
    """The one pass of active probes the six active checks share (run by the first of them)."""
    run: SecurityRun = ctx.state
    return await ctx.once("security.active", lambda: probe_all(
        run, plant=run.wants(path_traversal.spec), ssrf=run.wants(ssrf.spec), exposure=run.wants(data_exposure.spec),
        timed=tuple(f for f, c in (("shell", command_injection), ("sql", sql_injection)) if run.wants(c.spec)),
    ))


async def _proven(ctx: SessionContext, family: str, check_id: str) -> AsyncIterator[Violation]:
    """What the active probes proved for `family`, each first proof of a tool saved to corpus/."""
    run: SecurityRun = ctx.state
    if family != "exposure" and family not in run.cfg.families:
        raise Skip(f"{family} family not selected")
    found = await _active(ctx)
    if family == "exposure":
        if not found.exposure_calls:
            raise Skip("no call was made: nothing mcpcheck may call")
    elif not found.positions:
        raise Skip("no tool argument, resource template variable or prompt argument can carry a payload")
    elif not found.sent.get(family):
        raise Skip(f"no {family} payload fits an argument that can carry one")
    saved: set[str | None] = set()
    for proof in found.proofs.get(family, []):
        v = proof.violation
        if proof.oracle is not None and run.cfg.write_corpus and v.key not in saved:  # once per finding
            saved.add(v.key)
            save_entry(
                CorpusEntry(target=run.target.name, tool=str(v.tool), arguments=v.input, mode="injected", check=check_id, revision=run.revision, detail=v.detail, oracle=proof.oracle),
                run.cfg.corpus_dir,
            )
        yield v


@check(
    "security.command_injection", category="security.command_injection", severity="critical",
    title="Arguments never reach a shell: no payload makes the server print a computed marker",
    scope="session", rule="T11", level="MUST", campaign="security", per_tool=True,
    description="Payloads like `; echo TOKEN:$((1337*7331))`; proof is TOKEN:9801547 in the answer, a text that was never sent. Blind: `; sleep N` payloads whose delay is consistent, proportional to N and far outside the tool's own latency (conformance/security/timing.py).",
)
async def command_injection(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "shell", command_injection.id):
        yield v


@check(
    "security.sql_injection", category="security.sql_injection", severity="critical",
    title="Arguments never change the structure of an SQL query",
    scope="session", rule="T11", level="MUST", campaign="security", per_tool=True,
    description="Proof: a tautology returns more rows than a benign value while the same query made false does not; or a UNION-selected computed value; or database error text. Blind: pg_sleep(N) or a SQLite recursive CTE of N rows whose delay is consistent, proportional to N and far outside the tool's own latency.",
)
async def sql_injection(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "sql", sql_injection.id):
        yield v


@check(
    "security.path_traversal", category="security.path_traversal", severity="high",
    title="Path arguments and resource URIs cannot read files outside the server's root",
    scope="session", rule="T11/RS5", level="MUST", campaign="security", per_tool=True,
    description="Proof: the token of a file mcpcheck planted outside the server's working directory (or /etc/passwd's root:x:0:0) comes back.",
)
async def path_traversal(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "path", path_traversal.id):
        yield v


@check(
    "security.template_injection", category="security.template_injection", severity="critical",
    title="Arguments are never evaluated as template or code expressions",
    scope="session", rule="T11", level="MUST", campaign="security", per_tool=True,
    description="Payloads like `TOKEN:{{1337*7331}}` in several syntaxes; proof is TOKEN:9801547 in the answer.",
)
async def template_injection(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "template", template_injection.id):
        yield v


@check(
    "security.ssrf", category="security.ssrf", severity="high",
    title="URL-like arguments do not make the server fetch arbitrary (loopback) URLs",
    scope="session", rule="T11", level="MUST", campaign="security", per_tool=True,
    description="Proof: mcpcheck's loopback canary HTTP server receives the per-probe token.",
)
async def ssrf(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "ssrf", ssrf.id):
        yield v


@check(
    "security.data_exposure", category="security.data_exposure", severity="high",
    title="Results, errors and log notifications leak no secrets, stack traces or host paths",
    scope="session", rule="T11/LG4", level="MUST", campaign="security", per_tool=True,
    description="A canary secret is planted in the stdio server's environment (MCPCHECK_CANARY_SECRET); it, a stack trace, or an absolute host path in any answer is a finding (secret: critical, trace: medium, path: low).",
)
async def data_exposure(ctx: SessionContext) -> AsyncIterator[Violation]:
    async for v in _proven(ctx, "exposure", data_exposure.id):
        yield v


# -------------------------------------------------------------------- rug pull (after the probes)


@check(
    "security.rug_pull", category="security.rug_pull", severity="high",
    title="Tool, prompt and resource definitions do not change without a list_changed notification",
    scope="session", rule="T7/T14", level="MUST NOT", campaign="security",
    description=(
        "Compares the first listing with the next one and, when the active probes ran, with a listing made after their calls. "
        "Only a definition listed before that changed or disappeared without list_changed is a rug pull; items that appeared, "
        "announced changes and resource changes after our own calls of tools documented to create things are notes. Over "
        "Streamable HTTP the GET stream (where such notifications arrive) is read, and in 2026-07-28 a subscriptions/listen stream "
        "asking for every list_changed kind the server declares; when it could not be, a change is low, with the reason."
    ),
)
async def rug_pull(ctx: SessionContext) -> list[Violation]:
    run: SecurityRun = ctx.state
    if run.first is None or run.second is None:
        raise Skip("the server's definitions were not listed")
    found, notes = P.rug_pulls(run.first, run.second, run.notified(), "between two consecutive listings, with no call in between", unwatched=run.unwatched())
    if run.probed:  # registered after the active checks: their calls are done
        after = await run.after_listing()
        ours = P.state_changing(run.first.tools, run.called)
        more, more_notes = P.rug_pulls(run.first, after, run.notified(), f"after {run.calls} calls", unwatched=run.unwatched(), ours=ours)
        found, notes = found + more, notes + more_notes
    run.notes.extend(notes)
    return found


# -------------------------------------------------------------------- entry point


async def run_security(ctx: CampaignContext, result: TargetResult, cfg: SecuritySettings | None = None) -> None:
    cfg = cfg or ctx.security_settings or SecuritySettings()
    if ctx.corpus_dir and cfg.corpus_dir != ctx.corpus_dir:  # --corpus / corpus_dir= reaches security too
        cfg = dataclasses.replace(cfg, corpus_dir=ctx.corpus_dir)
    secret = f"MCPCHK_SECRET_{_secrets.token_hex(8)}" if ctx.target.transport == "stdio" else None
    env = {CANARY_ENV: secret} if secret else {}
    run: SecurityRun | None = None
    try:
        session = await _open(ctx, env)
        if not result.eras and session.revision:
            result.eras = [session.revision]
        ctx.revision, ctx.session = session.revision, session
        run = SecurityRun(
            target=ctx.target, revision=ctx.revision, cfg=cfg, env=env, secret=secret, session=session, sessions=[session],
            notes=ctx.notes, wants=ctx.wants, progress=ctx.progress, on_session=lambda s: setattr(ctx, "session", s),
        )
        run.first = await run.listing()
        run.second = await run.listing()
        result.tools = sorted({str(t.get("name")) for t in run.first.tools} | set(result.tools))
        ctx.judge_listing(run.first, session, campaign="security")
        await ctx.run_probes("security", run)
        if run.probed:  # a definition that turned poisonous after the calls
            ctx.judge_listing(await run.after_listing(), run.session, campaign="security")
        if secret is None:
            ctx.notes.append("security: HTTP target: no canary secret could be planted in the server's environment; data_exposure looked for stack traces and host paths only")
        for s in run.sessions:
            if getattr(s.transport, "get_stream", None) not in (None, "open"):
                ctx.notes.append(f"security: {s.transport.get_stream_detail or 'the GET stream was not read'}")
                break
            if s.subscription is not None and s.subscription.missed(next(iter(s.subscription.asked))) is not None:
                ctx.notes.append(f"security: {s.subscription.detail}")
                break
        fold_leaks(ctx)
    finally:
        if run is not None:
            await run.close()


def fold_leaks(ctx: CampaignContext) -> None:
    """One finding per leak: security.data_exposure owns what leaks. A fuzz.no_internal_leak
    finding (an earlier campaign of the run) of the same kind (the canary secret or a stack
    trace from the same tool; a host path from any tool) becomes an instance of the
    security.data_exposure finding, and when every one of an era's fuzz.no_internal_leak findings
    went that way, that check is skipped with the reason (its findings are reported here)."""
    fold_leak_findings(ctx.findings, ctx.ledger)


def fold_leak_findings(findings: list[Any], ledger: dict[tuple[str, str | None], Any]) -> None:
    """fold_leaks over a finding list and a (check id, revision) -> CheckRun ledger: also applied
    by jobs.merge, where fuzz and security ran in different worker processes (--jobs N)."""
    fuzz = REGISTRY.get("fuzz.no_internal_leak")
    if fuzz is None:
        return
    ours = [f for f in findings if f.check == data_exposure.id]
    folded: dict[str | None, list[str]] = {}
    for f in [f for f in findings if f.check == fuzz.id]:
        kind = next((k for k in ("secret", "traceback", "path") if fuzz.finding(Violation("", key=f"{f.tool}/{k}"), target=f.target, revision=f.revision).id == f.id), None)
        if kind is None:
            continue
        owner = next((o for o in ours if o.id == data_exposure.finding(Violation("", key=exposure_key("tool", str(f.tool), kind)), target=o.target, revision=o.revision).id), None)
        if owner is None:
            continue
        line = f"also found by {fuzz.id}" + (f" ({f.revision})" if f.revision else "") + f": {f.detail}"
        if line not in owner.instances:
            owner.instances.append(line)
        if f.severity > owner.severity:
            owner.severity = f.severity
        findings.remove(f)
        folded.setdefault(f.revision, []).append(owner.id)
    for revision, owners in folded.items():
        run = ledger.get((fuzz.id, revision))
        if run is not None and not any(f.check == fuzz.id and f.revision == revision for f in findings):
            run.status, run.reason = "skipped", f"what it found is reported once, by {data_exposure.id} ({', '.join(sorted(set(owners)))})"


async def _open(ctx: CampaignContext, env: dict[str, str]) -> Session:
    """A ready session in the newest era the server speaks, starting as few server processes
    as possible (one for a 2026-07-28 server; the full two-era detect() is not needed here)."""
    target = ctx.target
    if target.protocol:
        return await open_session(target, target.protocol, extra_env=env, listen=True)
    s = await start_session(target, extra_env=env)
    ex = await s.discover(LATEST, timeout=min(target.timeout, 5.0))
    versions = ex.result.get("supportedVersions") if ex.ok and isinstance(ex.result, dict) else None
    if isinstance(versions, list) and LATEST in versions:
        await start_listening(s, min(target.timeout, 5.0))  # list_changed come on a subscriptions/listen stream
        return s
    await s.close()
    return await open_session(target, HANDSHAKE_LATEST, extra_env=env, listen=True)


# -------------------------------------------------------------------- replay


async def replay_injected(ctx: CampaignContext, entry: CorpusEntry) -> tuple[CheckSpec, list[Violation]]:
    """Re-run one stored security hit and judge it with the same oracle (used by `replay`)."""
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
            cwd = ctx.target.cwd or getattr(session.transport, "workdir", None)
            found = D.exposures(ex, sent, [oracle["secret"]] if oracle.get("secret") else [], allowed=D.operator_paths(ctx.target.command, ctx.target.env, cwd))
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


@dataclass
class Publishers:
    """What `security.tool_shadowing_cross_target` judges for one target: its tool names and,
    for every tool name of the run, the targets that publish it."""

    target: str
    tools: list[str]
    owners: dict[str, list[str]]
    targets: int  # how many targets the run tested


@check(
    "security.tool_shadowing_cross_target", category="security.tool_poisoning", severity="medium",
    title="No two targets of one run publish the same tool name",
    scope="run", rule="T6", level="SHOULD NOT", campaign="security",
    description="A client connected to both servers cannot tell which one a call goes to; judged after every target of the run was listed.",
)
def tool_shadowing_cross_target(ctx: RunContext, pub: Publishers) -> Any:
    if pub.targets < 2:
        raise Skip("only one target in this run")
    for name in sorted(set(pub.tools)):
        owners = pub.owners.get(name, [])
        if len(set(owners)) > 1 and pub.target in owners:
            yield Violation(f"tool {name!r} is published by targets {', '.join(repr(t) for t in sorted(owners))}: a client connected to both cannot tell which server a call goes to", tool=name, key=f"{name}")


def cross_target(outcomes: list[Any], wants: Any = lambda _id: True) -> None:
    """After every target of a run was tested: judge security.tool_shadowing_cross_target for
    each target and add its verdict (and findings) to the target's outcome."""
    c = tool_shadowing_cross_target
    if not wants(c.id):
        return
    owners: dict[str, list[str]] = {}
    for o in outcomes:
        for name in set(o.result.tools):
            owners.setdefault(name, []).append(o.result.name)
    for o in outcomes:
        me = o.result.name
        found, err = call_check(c, RunContext(target=me, campaign="security"), Publishers(me, list(o.result.tools), owners, len(outcomes)))
        for v in found:
            o.findings.append(c.finding(v, target=me))
        if err is not None:
            status, reason, count = "skipped", (str(err) if isinstance(err, Skip) else f"the check raised {err.error}"), 0
        else:
            status, reason, count = ("failed" if found else "passed"), None, 1
        o.checks.append(CheckResult(
            id=c.id, category=c.category, severity=c.severity, title=c.title, rule=c.rule, target=me, revision=None,
            status=status, reason=reason, count=count,
        ))


__all__ = ["SecurityRun", "SecuritySettings", "cross_target", "fold_leak_findings", "fold_leaks", "replay_injected", "run_security"]

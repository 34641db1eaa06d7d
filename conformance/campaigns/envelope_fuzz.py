"""The envelope campaign: a session-level JSON-RPC fuzzer.

For every era the server speaks, and for every kind of malformed message in
strategies.jsonrpc.malformed_envelopes (not JSON, wrong "jsonrpc", missing method, bad id types,
wrong params shape, huge and deeply nested messages, unknown methods and notifications, batches,
stray responses), Hypothesis generates messages that go out through the transport's raw-send door.
After each one the campaign sends a liveness probe (ping; server/discover in the stateless era) and
judges what the message produced (`checks.envelope.Malformed`) with every `run` check of campaign
"envelope" in the registry (conformance/checks/envelope.py): the right error code or a silence the
spec allows, never a crash, never a hang, never non-protocol stdout, and an answer to the probe.
A check is passed only once it judged a message; one that judged none is skipped with the reason
(for a kind whose generation could not run: what stopped it).

A failure stops that kind's run; Hypothesis shrinks the message to the smallest one that still
fails, and a dead server is restarted so the next kind still runs. Each shrunk (non-info) failure
is written to corpus/ as an `envelope` entry (the raw line and the answer it deserves), and
`replay_envelope` sends it again and judges it with the same checks (no Hypothesis).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from .. import budget
from ..checks import envelope as E
from ..config import Target
from ..connect import open_session, session_for
from ..corpus import CorpusEntry, envelope_arguments, envelope_message
from ..findings import CheckSpec, Severity, Violation
from ..registry import REGISTRY
from ..results import TargetResult
from ..session import Exchange, Session, id_key, late_answer_grace
from ..transport.base import TransportError
from .context import CampaignContext
from .engine import CRASH_CATEGORIES, Failure, ToolRunner, grouped, hypothesis_notes, record_with_entry
from .fuzz import FuzzSettings
from .own_loop import Await, run_on_own_loop

MAX_SIZE = 1_048_576  # huge_message: up to 1 MiB on one line
MAX_DEPTH = 1_500  # deep_nesting: past CPython's default recursion limit

SJ_STANDARD = frozenset({-32700, -32600, -32601, -32602, -32603})


def examples_per_kind(cfg: FuzzSettings) -> int:
    return max(2, min(12, cfg.max_examples // 5))


async def run_envelope(ctx: CampaignContext, result: TargetResult) -> None:
    await run_on_own_loop(_envelope_noted, ctx, result)


def _envelope_noted(run: Await, ctx: CampaignContext, result: TargetResult) -> None:
    with hypothesis_notes(ctx, "envelope"):
        _envelope(run, ctx, result)


def _envelope(run: Await, ctx: CampaignContext, result: TargetResult) -> None:
    """The campaign body, on the thread that owns the sessions' loop (see own_loop.py)."""
    import mcpcheck.strategies.jsonrpc as SJ

    cfg = getattr(ctx, "fuzz_settings", None) or FuzzSettings()
    session = None
    if ctx.era_only is not None and result.eras:  # a --jobs unit: one era, already detected
        eras = list(result.eras)
    else:
        eras, session = run(session_for(ctx.target, result.eras))
    if not result.eras:
        result.eras = eras
    for i, era in ctx.eras_here(eras):
        if session is None or i > 0:
            session = run(open_session(ctx.target, era))
        ctx.revision, ctx.session = era, session
        runner = _EnvelopeRunner(ctx, session, {}, [], run)
        try:
            for kind in SJ.KINDS:
                strat = SJ.malformed_envelopes(revision=era, kinds=[kind], max_size=MAX_SIZE, max_depth=MAX_DEPTH)
                ctx.progress(f"{ctx.target.name} [{era}]: envelope fuzzing ({kind})")
                budget.current().doing(f"{ctx.target.name} [{era}]: envelope fuzzing ({kind})", planned=examples_per_kind(cfg))
                runner.fuzz_kind(kind, strat, cfg)
        finally:
            for s in runner.sessions:
                run(s.close())
        counts = ", ".join(f"{k}={n}" for k, n in sorted(runner.codes.items()))
        ctx.notes.append(f"envelope [{era}]: {runner.sent} malformed messages; answers seen: {counts or 'none'}")


class _EnvelopeRunner(ToolRunner):
    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        self.sent = 0
        self.codes: dict[str, int] = {}  # "kind -> code" tally for the notes

    def fuzz_kind(self, kind: str, strat: Any, cfg: FuzzSettings) -> None:
        ctx = self.ctx

        @settings(
            max_examples=examples_per_kind(cfg),
            deadline=None,
            database=None,
            derandomize=cfg.seed is None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(strat)
        def property_(msg: Any) -> None:
            self.one(msg)

        if cfg.seed is not None:
            from hypothesis import seed as _seed

            property_ = _seed(cfg.seed)(property_)
        problem = self.run_property(property_, "envelope", cfg)
        if problem:
            ctx.notes.append(f"envelope: {kind}: {problem}")
            for c in REGISTRY.for_scope("run", "envelope"):  # those that judged no message so far
                ctx.skip(c.spec, f"{kind} messages: {problem}")

    def record_failure(self, fail: Failure, mode: str, cfg: FuzzSettings, constraint: str | None = None, note: str = "") -> None:
        """A shrunk failure becomes a Finding and (once per finding) an `envelope` corpus entry. A
        crash is first replayed alone on a fresh server (confirm_alone)."""
        if self.gone is None:
            fail = self.confirm_alone(fail)
        v = fail.violation
        if note:
            v.detail += note
        msg = getattr(fail, "message", None)
        if msg is None:
            self.ctx.record(fail.spec, [v])
        else:
            arguments = envelope_arguments(msg.kind, msg.data, msg.expect, msg.request_id, msg.acceptable_codes)
            record_with_entry(self.ctx, cfg, fail.spec, v, tool="*", arguments=arguments, mode="envelope")
        if not self.session.alive:
            self.restart()

    def confirm_alone(self, fail: Failure) -> Failure:
        """Issue 13, class 6: the (shrunk) message blamed for a crash must kill a FRESH server on its
        own; else the property's original failing message is tried and reported instead, with a
        note (and when neither does, the note says the crash needs what was sent before it)."""
        msg = getattr(fail, "message", None)
        if msg is None or fail.spec.category not in CRASH_CATEGORIES or getattr(fail, "confirmed", False):
            return fail
        fail.confirmed = True  # type: ignore[attr-defined]
        fresh = "a fresh server" if self.ctx.target.transport == "stdio" else "a fresh session"
        alone = self._kills_alone(fail.spec, msg)
        if alone:
            fail.violation.detail += f" (reproduced alone on {fresh})"
            return fail
        first = self.first_failure
        other = getattr(first, "message", None) if first is not None else None
        if other is not None and other.data != msg.data and first.spec.category in CRASH_CATEGORIES:
            first.confirmed = True  # type: ignore[attr-defined]
            if self._kills_alone(first.spec, other):
                first.violation.detail += f" (the shrunk message {_bytes_shown(msg.data)} did not kill {fresh} on its own, so this is the original failing message, which did)"
            else:
                first.violation.detail += f" (neither this original message nor the shrunk {_bytes_shown(msg.data)} kills {fresh} on its own: the crash needs what was sent before it)"
            return first
        if alone is None:
            fail.violation.detail += f" (not replayed alone: {fresh} could not be started)"
        else:
            fail.violation.detail += f" (this message does not kill {fresh} on its own: the crash needs what was sent before it)"
        return fail

    def _kills_alone(self, spec: Any, msg: Any) -> bool | None:
        try:
            self.restart()
            m = self.run(send_malformed(self.session, msg, self.ctx.target))
        except TransportError:
            return None
        return any(s.id == spec.id for s, _ in self.ctx.judge_result("envelope", m))

    # ------------------------------------------------------------------ one message
    def one(self, msg: Any) -> None:
        # (not in the property's own body: derandomized inputs are seeded from its source)
        budget.current().check()  # --max-time: stop at this example
        budget.current().tick()
        if not self.session.alive:
            self.restart()
        m = self.run(send_malformed(self.session, msg, self.ctx.target))
        self.sent += 1
        if m.answered:
            self._tally(msg.kind, m.replies or [])
        for spec, v in self.ctx.judge_result("envelope", m):
            if (v.severity or spec.severity) == Severity.info:
                self.ctx.record(spec, [v])  # an observation (e.g. silence where an answer is optional)
                continue
            fail = Failure(spec, v)
            fail.message = msg  # type: ignore[attr-defined]  # the raw line, for the corpus entry
            self.last_failure = fail
            if self.first_failure is None:
                self.first_failure = fail
            raise fail

    def _tally(self, kind: str, replies: list) -> None:
        if not replies:
            key = f"{kind}:silent"
        else:
            msg = replies[0].parsed
            if isinstance(msg, list):
                key = f"{kind}:batch-answer"
            elif "error" in msg and isinstance(msg.get("error"), dict):
                key = f"{kind}:{msg['error'].get('code')}"
            else:
                key = f"{kind}:result"
        self.codes[key] = self.codes.get(key, 0) + 1


async def send_malformed(s: Session, msg: Any, target: Target) -> E.Malformed:
    """Send one raw line (`msg`: a strategies.jsonrpc.RawMessage) on a live session, probe the
    server, and collect what arrived in between (no judging: the envelope checks do that).
    The one sender of the campaign (under Hypothesis) and of the replay of `envelope` entries."""
    mark = s.wirelog.mark()
    sent = await s.send_raw(msg.data, note=f"envelope fuzz: {msg.kind}")
    codes = msg.acceptable_codes
    if msg.kind == "invalid_utf8" or (s.stateless and b'"method":"ping"' in msg.data):
        # decoded leniently, the message is judged like any other (and 2026-07-28 has no ping)
        codes = codes | SJ_STANDARD
    out = E.Malformed(msg.kind, msg.expect, codes, msg.request_id, msg.data, sent, timeout=target.timeout)
    if sent is not None and s.alive:
        out.probe = await _probe(s)
        if out.probe.transport_error is None and s.alive and not out.probe.timed_out:
            # the loop runs meanwhile: a late answer lands in this window, not the next one's
            await asyncio.sleep(late_answer_grace(out.probe.elapsed))
    out.window = s.wirelog.since(mark)
    if sent is None or not s.alive or (out.probe is not None and out.probe.transport_error is not None):
        out.died, out.closed_reason = True, s.transport.closed_reason
        out.stderr = s.wirelog.stderr_text(1200).strip()
    elif out.probe is not None and not out.probe.timed_out:
        own = {id_key(out.probe.request.get("id"))} if isinstance(out.probe.request, dict) else set()
        out.replies = E.replies_to(out.window, own)
    return out


def _bytes_shown(data: bytes, limit: int = 80) -> str:
    text = data[:limit].decode("utf-8", "backslashreplace")
    return repr(text) if len(data) <= limit else f"{text!r}... ({len(data)} bytes)"


async def _probe(s: Session) -> Exchange:
    if s.stateless:
        return await s.request("server/discover", {}, meta=True)
    return await s.request("ping")


def stored_message(entry: CorpusEntry) -> Any:
    """The RawMessage an `envelope` corpus entry stores (see corpus.envelope_arguments)."""
    from mcpcheck.strategies.jsonrpc import RawMessage

    a = entry.arguments
    return RawMessage(a["kind"], envelope_message(a), a["expect"], a.get("request_id"), "corpus replay", frozenset(a.get("acceptable_codes") or ()))


async def replay_envelope(ctx: CampaignContext, entry: CorpusEntry) -> list[tuple[CheckSpec, list[Violation]]]:
    """Send an `envelope` entry's line again on ctx's live session and judge it like the campaign
    (every envelope check: those that found nothing are marked judged); returns the (check,
    violations) pairs of those that found something."""
    msg = stored_message(entry)
    m = await send_malformed(ctx.s, msg, ctx.target)
    return grouped(ctx.judge_result("envelope", m))


def summarize_notes(notes: list[str]) -> dict[str, int]:
    """The "answers seen" tally of an envelope note, parsed back (for tests and reports)."""
    out: dict[str, int] = {}
    for note in notes:
        if note.startswith("envelope [") and "answers seen: " in note:
            for part in note.split("answers seen: ", 1)[1].split(", "):
                if "=" in part:
                    k, n = part.rsplit("=", 1)
                    out[k] = out.get(k, 0) + int(n)
    return out


__all__ = ["run_envelope", "replay_envelope", "send_malformed", "summarize_notes", "examples_per_kind", "json"]

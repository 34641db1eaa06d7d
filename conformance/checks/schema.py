"""Every message the server sends is validated against our per-revision protocol models."""

from __future__ import annotations

from typing import Iterator

from ..findings import Severity, Violation
from ..registry import ExchangeContext, LogContext, SessionLog, Skip, check
from ..session import Exchange
from ..wirelog import WireEntry



def _validate():
    from ..protocol import validate

    return validate


@check(
    "schema.results",
    category="protocol.schema",
    severity="high",
    title="Results match the schema of their method in the negotiated revision",
    scope="exchange",
    rule="J14/CA1/L1/T12/T8/T15/P3/M3",
    level="MUST",
    description="Validated with mcpcheck's pydantic models of each revision (strict types, required fields).",
)
def results(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if ctx.deliberate or ex.response is None:
        raise Skip("no answer to an ordinary request")
    yield from check_result(ex, ctx.revision or "")
    yield from check_error_object(ex, ctx.revision or "")


def check_result(ex: Exchange, revision: str) -> Iterator[Violation]:
    if not ex.ok or ex.method in ("?",):
        return
    v = _validate()
    for problem in v.validate_result(ex.method, revision, ex.result):
        path = "/result" + (problem.path if problem.path.startswith("/") or not problem.path else "/" + problem.path)
        yield Violation(
            f"{ex.method} ({revision}): {problem.message}" + (f" [{problem.rule}]" if getattr(problem, "rule", None) else ""),
            ex.evidence(),
            path=path,
            key=f"{ex.method}{path}",
        )


def check_error_object(ex: Exchange, revision: str) -> Iterator[Violation]:
    if ex.response is None or ex.response.get("error") is None:
        return  # absent, or a null member: jsonrpc.response_shape judges that on the raw object
    v = _validate()
    for problem in v.validate_error(ex.response["error"], revision):
        yield Violation(f"{ex.method}: error object: {problem.message}", ex.evidence(), path="/error" + problem.path, key=f"err{problem.path}")


@check(
    "schema.notifications",
    category="protocol.schema",
    severity="medium",
    title="Server notifications and requests match their schema",
    scope="log",
    rule="J1",
    level="MUST",
)
def notifications(ctx: LogContext, log: SessionLog) -> Iterator[Violation]:
    return check_incoming(log.incoming, ctx.revision or "")


def check_incoming(entries: list[WireEntry], revision: str) -> Iterator[Violation]:
    v = _validate()
    for e in entries:
        msg = e.parsed
        if not isinstance(msg, dict) or "method" not in msg:
            continue
        for problem in v.validate_message(msg, revision):
            yield Violation(f"{msg.get('method')}: {problem.message}", [e], path=problem.path, key=f"{msg.get('method')}{problem.path}")


@check(
    "schema.meta_keys",
    category="protocol.schema",
    severity="medium",
    title="_meta keys follow the reverse-DNS naming rule",
    scope="exchange",
    rule="J13",
    level="MUST",
    revisions="2025-06-18..",
)
def meta_keys(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if ctx.deliberate or ex.response is None:
        raise Skip("no answer to an ordinary request")
    return check_meta_keys(ex)


def check_meta_keys(ex: Exchange) -> Iterator[Violation]:
    if not ex.ok or not isinstance(ex.result, dict):
        return
    meta = ex.result.get("_meta")
    if not isinstance(meta, dict):
        return
    v = _validate()
    for problem in v.meta_key_violations(meta):
        yield Violation(f"{ex.method}: {problem.message}", ex.evidence(), path="/result/_meta" + problem.path, key=f"{ex.method}{problem.path}")

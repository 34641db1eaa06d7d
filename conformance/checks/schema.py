"""Every message the server sends is validated against our per-revision protocol models."""

from __future__ import annotations

from typing import Iterator

from ..findings import Severity, Violation, register
from ..session import Exchange
from ..wirelog import WireEntry

RESULT_SCHEMA = register(
    "schema.results",
    "protocol.schema",
    "high",
    "Results match the schema of their method in the negotiated revision",
    rule="J14/CA1/L1/T12",
    level="MUST",
    description="Validated with mcpcheck's pydantic models of each revision (strict types, required fields).",
)
NOTIFICATION_SCHEMA = register(
    "schema.notifications",
    "protocol.schema",
    "medium",
    "Server notifications and requests match their schema",
    rule="J1",
    level="MUST",
)
META_KEYS = register(
    "schema.meta_keys",
    "protocol.schema",
    "low",
    "_meta keys follow the reverse-DNS naming rule",
    rule="J13",
    level="MUST",
    revisions="2025-06-18..",
)


def _validate():
    from ..protocol import validate

    return validate


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
    if ex.response is None or "error" not in ex.response:
        return
    v = _validate()
    for problem in v.validate_error(ex.response["error"], revision):
        yield Violation(f"{ex.method}: error object: {problem.message}", ex.evidence(), path="/error" + problem.path, key=f"err{problem.path}")


def check_incoming(entries: list[WireEntry], revision: str) -> Iterator[Violation]:
    v = _validate()
    for e in entries:
        msg = e.parsed
        if not isinstance(msg, dict) or "method" not in msg:
            continue
        for problem in v.validate_message(msg, revision):
            yield Violation(f"{msg.get('method')}: {problem.message}", [e], path=problem.path, key=f"{msg.get('method')}{problem.path}")


def check_meta_keys(ex: Exchange) -> Iterator[Violation]:
    if not ex.ok or not isinstance(ex.result, dict):
        return
    meta = ex.result.get("_meta")
    if not isinstance(meta, dict):
        return
    v = _validate()
    for problem in v.meta_key_violations(meta):
        yield Violation(f"{ex.method}: {problem.message}", ex.evidence(), path="/result/_meta" + problem.path, severity=Severity.low, key=f"{ex.method}{problem.path}")

"""One Finding model for every check, every campaign and every report.

A check is registered once with a `CheckSpec` (stable id, category from the taxonomy, severity,
spec rule). Checks are plain functions that yield or raise `Violation`s; the campaign turns each
violation into a `Finding` carrying evidence from the WireLog and a reproduce command.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from .redact import mask_text, mask_tree
from .wirelog import WireEntry

CATEGORIES: tuple[str, ...] = (
    "protocol.jsonrpc_shape",
    "protocol.error_codes",
    "protocol.version_negotiation",
    "protocol.lifecycle",
    "protocol.pagination",
    "protocol.notification_response",
    "protocol.cancellation",
    "protocol.concurrency",
    "protocol.stdout_pollution",
    "protocol.crash",
    "protocol.schema",
    "protocol.capabilities",
    "tool.input_validation",
    "tool.output_schema",
    "tool.idempotency",
    "tool.schema",
    "robustness.timeout",
    "robustness.resource_limits",
    "robustness.unicode",
    "transport.session",
    "transport.http",
    "security.command_injection",
    "security.sql_injection",
    "security.path_traversal",
    "security.template_injection",
    "security.ssrf",
    "security.data_exposure",
    "security.origin",
    "security.auth",
    "security.tool_poisoning",
    "security.rug_pull",
    "performance.latency",
    "performance.degradation",
    "performance.errors_under_load",
    "performance.slo",
    "workflow.step",
    "workflow.consistency",
)
Category = Literal[CATEGORIES]  # type: ignore[valid-type]


class Severity(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


SEVERITY_ORDER = [Severity.info, Severity.low, Severity.medium, Severity.high, Severity.critical]


class Evidence(BaseModel):
    """A WireLog excerpt (or an observation that is not a message, e.g. a process exit)."""

    # revalidated (so masked again) whenever it becomes part of a Finding or a report
    model_config = ConfigDict(extra="forbid", revalidate_instances="always")
    seq: int | None = None
    t: float | None = None
    direction: str | None = None
    channel: str | None = None
    raw: str
    http: dict[str, Any] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _mask(self) -> "Evidence":
        """No secret beyond the proof in any view (conformance/redact.py)."""
        self.raw, self.note, self.http = mask_text(self.raw), mask_text(self.note), mask_tree(self.http)  # type: ignore[arg-type]
        return self

    @classmethod
    def from_entry(cls, entry: WireEntry, limit: int = 2000) -> "Evidence":
        d = entry.to_dict(limit)
        d.pop("parse_error", None)
        return cls(**d)


class Finding(BaseModel):
    # revalidated (so masked again, after any model_copy) whenever it becomes part of a report
    model_config = ConfigDict(extra="forbid", revalidate_instances="always")

    id: str = Field(description="stable id: hash of check, target and the defining detail")
    check: str
    category: str
    severity: Severity
    title: str
    detail: str
    target: str = ""
    revision: str | None = Field(None, description="protocol revision in force when it was seen")
    rule: str | None = Field(None, description="spec-digest rule id, e.g. J4")
    spec_level: str | None = Field(None, description="MUST / SHOULD / ...")
    path: str | None = Field(None, description="JSON pointer into the offending message")
    tool: str | None = None
    input: Any = Field(None, description="the minimal reproducing input, when there is one (in a report, a string over 2000 characters is a 200-character preview that gives its size and the corpus file holding the whole input)")
    evidence: list[Evidence] = Field(default_factory=list)
    reproduce: str | None = Field(None, description="shell command that reproduces it")
    instances: list[str] = Field(
        default_factory=list,
        description="every further place the same root cause was seen (another message, another era), one line each",
    )

    # what makes it one root cause whatever the era (check, target, violation key); not reported
    _cause: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _mask(self) -> "Finding":
        """No secret beyond the proof in any view (conformance/redact.py); the id was derived
        before, from the unmasked detail, so it stays stable."""
        self.detail, self.input = mask_text(self.detail), mask_tree(self.input)
        self.reproduce = mask_text(self.reproduce)  # type: ignore[arg-type]
        self.instances = mask_tree(self.instances)
        return self


@dataclass(eq=False)
class Violation(Exception):
    """Raised or yielded by a check: what is wrong, and the wire entries that show it."""

    detail: str
    evidence: Sequence[WireEntry] = ()
    path: str | None = None
    tool: str | None = None
    input: Any = None
    severity: Severity | None = None  # override the check's default (rarely right)
    key: str | None = None  # what makes two violations of one check the same finding
    level: str | None = None  # the spec level of what this violation breaks, when it is not the check's
    # (a check citing "RS4" is SHOULD before 2026-07-28 and MUST after; severity follows the level)
    owner: str | None = None  # id of the check that owns this root cause, when another check saw it:
    # the violation is filed under the owner (same key: one finding listing both as instances)

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class CheckSpec:
    id: str
    category: str
    severity: Severity
    title: str
    rule: str | None = None  # spec-digest rule id
    level: str | None = None  # MUST / SHOULD / MUST NOT ...
    revisions: str = "all"  # e.g. "all", "2025-06-18..2025-11-25", "2026-07-28"
    campaign: str = "conformance"
    description: str = ""

    def finding(
        self,
        v: Violation,
        *,
        target: str = "",
        revision: str | None = None,
        reproduce: str | None = None,
    ) -> Finding:
        key = v.key if v.key is not None else v.detail
        digest = hashlib.sha1(
            json.dumps([self.id, target, revision, key], default=str).encode()
        ).hexdigest()[:12]
        f = Finding(
            id=f"{self.id}:{digest}",
            check=self.id,
            category=self.category,
            severity=v.severity or self.severity,
            title=self.title,
            detail=v.detail,
            target=target,
            revision=revision,
            rule=self.rule,
            spec_level=v.level or self.level,
            path=v.path,
            tool=v.tool,
            input=v.input,
            evidence=[Evidence.from_entry(e) for e in v.evidence][:8],
            reproduce=reproduce,
        )
        f._cause = json.dumps([self.id, target, key], default=str)  # the same cause in any era (runner.merge_eras)
        return f


CheckFn = Callable[..., Iterable[Violation] | None]


def run_check(fn: CheckFn, *args: Any, **kwargs: Any) -> list[Violation]:
    """Run a check that may raise one Violation or yield several (schemathesis style)."""
    try:
        out = fn(*args, **kwargs)
        return list(out) if out is not None else []
    except Violation as v:
        return [v]

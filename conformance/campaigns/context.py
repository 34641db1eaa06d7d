"""The state a campaign carries while it drives a target: findings and the checks run.

Probes (async functions that do the I/O) hand what they recorded to pure check functions via
`ctx.check(spec, fn, *args)`; the context turns violations into Findings and keeps the ledger of
which checks ran, passed, failed or were skipped (and why) for the report.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

from ..config import Target
from ..findings import CheckFn, CheckSpec, Finding, Violation, run_check
from ..session import Session

Status = Literal["passed", "failed", "skipped"]


@dataclass
class CheckRun:
    check: str
    status: Status
    revision: str | None = None
    reason: str | None = None  # why skipped
    count: int = 0  # how many times it was evaluated


@dataclass
class CampaignContext:
    target: Target
    session: Session | None = None
    revision: str | None = None
    selected: Callable[[str], bool] = lambda _id: True
    selects_all: bool = True  # False when the user picked checks with --check
    findings: list[Finding] = field(default_factory=list)
    ledger: dict[tuple[str, str | None], CheckRun] = field(default_factory=dict)
    campaign: str = "conformance"
    notes: list[str] = field(default_factory=list)
    progress: Callable[[str], None] = lambda _msg: None

    # ------------------------------------------------------------ recording
    def wants(self, spec: CheckSpec) -> bool:
        return self.selected(spec.id)

    def _run(self, spec: CheckSpec) -> CheckRun:
        key = (spec.id, self.revision)
        run = self.ledger.get(key)
        if run is None:
            run = self.ledger[key] = CheckRun(spec.id, "passed", self.revision)
        return run

    def record(self, spec: CheckSpec, violations: list[Violation]) -> list[Finding]:
        if not self.wants(spec):
            return []
        run = self._run(spec)
        if run.status == "skipped":
            run.status, run.reason = "passed", None
        run.count += 1
        out = []
        for v in violations:
            finding = spec.finding(
                v, target=self.target.name, revision=self.revision, reproduce=self.reproduce(spec, v)
            )
            if all(f.id != finding.id for f in self.findings):
                self.findings.append(finding)
                out.append(finding)
        if violations:
            run.status = "failed"
        return out

    def check(self, spec: CheckSpec, fn: CheckFn, *args: Any, **kwargs: Any) -> list[Finding]:
        """Run a pure check and record what it found (no-op when the check is deselected)."""
        if not self.wants(spec):
            return []
        return self.record(spec, run_check(fn, *args, **kwargs))

    def passed(self, spec: CheckSpec) -> None:
        self.record(spec, [])

    def fail(self, spec: CheckSpec, violation: Violation) -> list[Finding]:
        return self.record(spec, [violation])

    def skip(self, spec: CheckSpec, reason: str) -> None:
        if not self.wants(spec):
            return
        key = (spec.id, self.revision)
        if key not in self.ledger:
            self.ledger[key] = CheckRun(spec.id, "skipped", self.revision, reason=reason)

    # ------------------------------------------------------------ helpers
    def reproduce(self, spec: CheckSpec, v: Violation) -> str:
        args = ["mcpcheck", "run", "--campaign", spec.campaign, "--check", spec.id]
        if self.revision:
            args += ["--protocol", self.revision]
        return " ".join(shlex.quote(a) for a in args + self.target.cli_args())

    @property
    def s(self) -> Session:
        assert self.session is not None, "probe needs a session"
        return self.session


Probe = Callable[[CampaignContext], Awaitable[None]]

"""Baselines (accepted findings) and report diffs.

A baseline file is committed beside the project (default `mcpcheck-baseline.toml`, or JSON with
the same shape). Each `[[suppress]]` entry accepts findings by stable id, or by check (+ target,
+ tool; shell-style patterns allowed), with a mandatory reason and an optional expiry date:

    [[suppress]]
    id = "errors.unknown_method:3f2a9c0d1b7e"
    reason = "upstream SDK behaviour, tracked in #12"
    expires = 2027-01-31

    [[suppress]]
    check = "tools.output_schema*"
    target = "memory"
    tool = "read_graph"
    reason = "legacy output, being replaced"

An expired entry stops suppressing and is reported (`baseline.expired`); an entry that matched
nothing is reported as unused. Suppressed findings move to the report's `suppressed` list and do
not count toward the exit code or the gate.
"""

from __future__ import annotations

import datetime as _dt
import json
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .findings import Finding
from .report.model import BaselineStatus, DiffSummary, RunReport, Suppressed

DEFAULT_BASELINE = "mcpcheck-baseline.toml"


class BaselineError(ValueError):
    """The baseline file cannot be read or is malformed (exit code 2)."""


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="stable finding id (exact)")
    check: str | None = Field(None, description="check id; shell-style pattern allowed")
    category: str | None = Field(None, description="finding category; pattern allowed")
    target: str | None = Field(None, description="target name; pattern allowed")
    tool: str | None = Field(None, description="tool name; pattern allowed")
    reason: str = Field(min_length=1, description="why the finding is accepted")
    expires: _dt.date | None = Field(None, description="last day the entry suppresses")

    @model_validator(mode="after")
    def _selects_something(self) -> "Suppression":
        if not (self.id or self.check or self.category):
            raise ValueError("an entry needs `id`, `check` or `category`")
        return self

    def describe(self) -> str:
        if self.id:
            return f"id={self.id}"
        parts = [f"{k}={v}" for k, v in (("check", self.check), ("category", self.category), ("target", self.target), ("tool", self.tool)) if v]
        return " ".join(parts)

    def matches(self, f: Finding) -> bool:
        if self.id is not None:
            return f.id == self.id
        for pattern, value in ((self.check, f.check), (self.category, f.category), (self.target, f.target), (self.tool, f.tool)):
            if pattern is not None and not fnmatchcase(value or "", pattern):
                return False
        return True

    def expired(self, today: _dt.date) -> bool:
        return self.expires is not None and self.expires < today


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suppress: list[Suppression] = Field(default_factory=list)
    file: str = ""


def load_baseline(path: str | Path) -> Baseline:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {p}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"baseline {p}: not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise BaselineError(f"baseline {p}: expected a table with a `suppress` list")
    try:
        return Baseline.model_validate({**data, "file": str(p)})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise BaselineError(f"baseline {p}: {where}: {err['msg']}") from exc


def apply_baseline(
    findings: list[Finding], observations: list[Finding], baseline: Baseline, *, today: _dt.date | None = None
) -> tuple[list[Finding], list[Finding], list[Suppressed], BaselineStatus]:
    """Split out what the baseline accepts: (findings, observations, suppressed, status)."""
    today = today or _dt.date.today()
    live = [s for s in baseline.suppress if not s.expired(today)]
    used: set[int] = set()
    suppressed: list[Suppressed] = []

    def keep(items: list[Finding]) -> list[Finding]:
        out = []
        for f in items:
            entry = next((s for s in live if s.matches(f)), None)
            if entry is None:
                out.append(f)
                continue
            used.add(id(entry))
            suppressed.append(
                Suppressed(finding=f, reason=entry.reason, expires=entry.expires.isoformat() if entry.expires else None, entry=entry.describe())
            )
        return out

    findings, observations = keep(findings), keep(observations)
    status = BaselineStatus(
        file=baseline.file,
        suppressed=len(suppressed),
        expired=[f"{s.describe()} expired {s.expires} ({s.reason})" for s in baseline.suppress if s.expired(today)],
        unused=[s.describe() for s in live if id(s) not in used],
    )
    return findings, observations, suppressed, status


def baseline_toml(report: RunReport, *, reason: str, expires: _dt.date | None = None) -> str:
    """A baseline file accepting every finding of `report` by id (for `mcpcheck baseline`)."""
    lines = [
        "# mcpcheck baseline: accepted findings (see docs/gate.md). Review every entry;",
        f"# generated from a report of {report.started_at}.",
        "",
    ]
    for f in [*report.findings, *(s.finding for s in report.suppressed)]:
        lines += [
            "[[suppress]]",
            f"id = {json.dumps(f.id)}",
            f"# {f.severity.value} {f.check} on {f.target}{'/' + f.tool if f.tool else ''}: {' '.join(f.title.split())[:150]}",
            f"reason = {json.dumps(reason)}",
        ]
        if expires:
            lines.append(f"expires = {expires.isoformat()}")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- diff


def finding_ids(report: RunReport, *, with_suppressed: bool = True) -> list[str]:
    ids = [f.id for f in report.findings]
    if with_suppressed:
        ids += [s.finding.id for s in report.suppressed if s.finding.severity.value != "info"]
    return ids


def diff(old: RunReport, new_findings: Iterable[Finding], against: str, *, still_present: Iterable[str] = ()) -> DiffSummary:
    """New, fixed and unchanged findings (by stable id) of `new_findings` against `old`.
    `still_present`: ids found again but suppressed (neither new nor fixed)."""
    before = finding_ids(old)
    before_set = set(before)
    now = [f.id for f in new_findings]
    now_set = set(now) | set(still_present)
    return DiffSummary(
        against=against,
        new=[i for i in now if i not in before_set],
        fixed=[i for i in before if i not in now_set],
        unchanged=[i for i in now if i in before_set],
    )


def load_report(path: str | Path) -> RunReport:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot read {p}: {exc.strerror or exc}") from exc
    try:
        return RunReport.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "document"
        raise BaselineError(f"{p} is not a mcpcheck report.json: {where}: {err['msg']}") from exc


def diff_reports(old: RunReport, new: RunReport, against: str = "") -> DiffSummary:
    """`mcpcheck diff OLD NEW`: findings of NEW against OLD (suppressed in NEW: neither new nor fixed)."""
    return diff(old, new.findings, against, still_present=[s.finding.id for s in new.suppressed])

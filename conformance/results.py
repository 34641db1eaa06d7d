"""What campaigns produce about a target: the result models the runner fills and every report
view reads (report/model.py puts them into the canonical RunReport).

They live below report/ so that campaigns never import the report layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .findings import Finding, Severity
from .redact import mask_text, mask_tree


class ToolConstraints(BaseModel):
    """Per tool, from the fuzz campaign: which schema constraints the server enforces."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(description="tool name")
    engine: str = Field("", description="input generator used (hypothesis-jsonschema, schemathesis, ...)")
    calls: int = Field(0, description="tools/call requests sent for this tool")
    skipped: str | None = Field(None, description="why the tool was not called (safety policy)")
    enforced: dict[str, bool] = Field(
        default_factory=dict,
        description="constraint (e.g. `required:name`, `type:/count`) -> true when every input violating it was rejected",
    )


class CorpusRef(BaseModel):
    """A corpus/ entry (a stored minimal failing input) of this target."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="path of the corpus JSON file")
    check: str = Field(description="check that failed")
    tool: str = Field(description="tool called")
    mode: str = Field(description="input kind: valid, invalid, injected, stateful, envelope")
    first_seen: str = Field("", description="date the failure was first stored")
    status: Literal["stored", "still failing", "fixed"] = Field(
        "stored", description="`stored` (not replayed in this run), or the replay verdict"
    )


class TargetResult(BaseModel):
    # campaigns fill it in after construction: revalidated (so masked) when it becomes part of a report
    model_config = ConfigDict(extra="forbid", revalidate_instances="always")

    name: str
    transport: str
    description: str
    eras: list[str] = Field(default_factory=list, description="protocol revisions tested")
    server_info: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    tools: list[str] = Field(default_factory=list)
    resources: int = 0
    prompts: int = 0
    error: str | None = Field(None, description="why the target could not be tested")
    duration_s: float = 0.0
    stderr_tail: str = ""
    notes: list[str] = Field(default_factory=list)
    constraints: list[ToolConstraints] = Field(
        default_factory=list, description="per-tool constraint-enforcement table from the fuzz campaign"
    )
    corpus: list[CorpusRef] = Field(
        default_factory=list, description="corpus/ entries of this target (after a fuzz, stateful or replay campaign)"
    )

    @model_validator(mode="after")
    def _mask(self) -> "TargetResult":
        """No secret in the target's free text (conformance/redact.py)."""
        self.description, self.error = mask_text(self.description), mask_text(self.error)  # type: ignore[arg-type]
        self.stderr_tail, self.notes = mask_text(self.stderr_tail), mask_tree(self.notes)
        self.server_info = mask_tree(self.server_info)
        return self


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    category: str
    severity: Severity
    title: str
    rule: str | None = None
    target: str
    revision: str | None = None
    status: Literal["passed", "failed", "skipped", "error"]
    reason: str | None = Field(None, description="why the check was skipped, or what it raised (error)")
    origin: str = Field("mcpcheck", description="who registered the check: mcpcheck, or the plugin")
    count: int = Field(0, description="how many times it was evaluated")


# ---------------------------------------------------------------- what the runner returns per target
# (here, below the runner, so that mcpcheck/jobs.py merges them without importing it)


@dataclass
class TargetOutcome:
    result: TargetResult
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    fuzz_reports: list[Any] = field(default_factory=list)  # campaigns.fuzz.ToolReport (--jobs merges them)
    first_at: dict[str, Any] = field(default_factory=dict)  # finding id -> where it was first recorded (--jobs)
    held_entries: list[Any] = field(default_factory=list)  # corpus entries a --jobs fuzz part left to the parent


def merge_eras(findings: list[Finding]) -> list[Finding]:
    """One finding per root cause across eras: the same check finding the same cause (its
    violation key: e.g. "wrong error code" for prompts.unknown, whatever code each era's answer
    carried) about the same tool in two protocol eras is one finding (the first era's, its stable
    id kept) that lists the other eras, with their own detail when it differs, among its instances."""
    out: list[Finding] = []
    seen: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.check, f.tool, f._cause or f.detail, f.severity)
        first = seen.get(key)
        if first is None or first.revision == f.revision:
            seen.setdefault(key, f)
            out.append(f)
            continue
        note = f"also in {f.revision}" if f.revision else "also seen again"
        if f.detail != first.detail:
            note += f": {f.detail}"
        if note not in first.instances:
            first.instances.append(note)
        for extra in f.instances:
            if extra not in first.instances:
                first.instances.append(extra)
    return out


def constraint_table(reports: list) -> list[ToolConstraints]:
    """The fuzz campaign's per-tool ToolReports as the report's structured constraint table."""
    return [
        ToolConstraints(
            tool=str(r.tool), engine=str(getattr(r, "engine", "") or ""), calls=int(getattr(r, "calls", 0) or 0),
            skipped=getattr(r, "skipped", None), enforced=dict(getattr(r, "enforced", {}) or {}),
        )
        for r in reports
    ]


def corpus_refs(target: str, root: str, notes: list[str]) -> list[CorpusRef]:
    """The target's corpus/ entries, with the replay verdict from the notes when replayed."""
    from .corpus import load_entries

    try:
        entries = load_entries(root, target)
    except Exception:  # noqa: BLE001 - a broken corpus file must not cost the run its report
        return []
    verdicts = {}
    for n in notes:
        m = n.removeprefix("replay: ")
        name, sep, verdict = m.rpartition(": ")
        if n.startswith("replay: ") and sep and verdict in ("STILL FAILING", "fixed"):
            verdicts[name] = "still failing" if verdict == "STILL FAILING" else "fixed"
    return [
        CorpusRef(file=str(path), check=e.check, tool=e.tool, mode=e.mode, first_seen=e.first_seen, status=verdicts.get(path.name, "stored"))
        for path, e in entries
    ]

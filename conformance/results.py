"""What campaigns produce about a target: the result models the runner fills and every report
view reads (report/model.py puts them into the canonical RunReport).

They live below report/ so that campaigns never import the report layer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .findings import Severity
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

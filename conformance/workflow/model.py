"""Workflow files: YAML documents describing steps across several named MCP servers.

    name: remember-and-store
    targets:                         # name -> a Target (inline) or the name of a configured target
      memory: {command: [node, server-memory/dist/index.js], env: {MEMORY_FILE_PATH: /tmp/m.jsonl}}
      kv: "kv"                       # from [tool.mcpcheck.targets] / mcpcheck.toml
    vars: {who: alice}
    steps:
      - id: create
        target: memory
        tool: create_entities        # or  resource: "mem://x"  or  prompt: greeting
        args:
          entities: [{name: "${vars.who}", entityType: person, observations: ["likes tea"]}]
        expect:
          - schema: {type: object, required: [entities]}           # on $.structuredContent by default
          - equals: {path: "$.structuredContent.entities[0].name", value: "${vars.who}"}
          - contains: {path: "$.text", value: "tea"}
          - jsonpath: {path: "$.structuredContent.entities[*]", count: 1}
        on_error: {tool: create_entities, args: {...}, retry: true}   # recovery step
      - id: store
        target: kv
        tool: put
        args:
          key: {$draw: {type: string, pattern: "^[a-z]{3,8}$"}}    # drawn from a strategy
          value: "${steps.create.structuredContent.entities[0].name}"
      - id: any_args
        target: kv
        tool: put
        args_from: strategy           # every argument from the tool's inputSchema; `args` override
    consistency:
      - name: both servers agree on the name
        left: "${steps.read.structuredContent.entities[0].name}"
        right: "${steps.fetch.structuredContent.value}"
        op: equals                    # equals | contains | subset | set_equal

`${...}` is a JSONPath (jsonpath-ng) below the run context: `steps.<id>.<field>` (a step's result:
content, structuredContent, isError, plus `text` = its text blocks joined, `json` = that text parsed
as JSON when it is JSON, `error` = a JSON-RPC error), `vars.<name>`, `env.<NAME>`, `draws.<step>.<arg>`.
A string that is exactly one reference keeps the referenced value's type; otherwise the value is
interpolated as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import ConfigError, Target, format_error

ID = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Expect(_M):
    """One assertion; exactly one of the kinds is set."""

    schema_: dict[str, Any] | None = Field(None, alias="schema", description="JSON Schema the value at `path` must satisfy")
    equals: dict[str, Any] | None = Field(None, description="{path, value}")
    contains: dict[str, Any] | None = Field(None, description="{path, value}: substring / element / sub-object")
    jsonpath: dict[str, Any] | None = Field(None, description="{path, exists?, count?, matches?}")
    path: str | None = Field(None, description="for schema: where (default $.structuredContent)")

    @model_validator(mode="after")
    def _one(self) -> "Expect":
        kinds = [k for k in ("schema_", "equals", "contains", "jsonpath") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("an expectation needs exactly one of schema, equals, contains, jsonpath")
        for k in ("equals", "contains"):
            v = getattr(self, k)
            if v is not None and (not isinstance(v.get("path"), str) or "value" not in v):
                raise ValueError(f"{k} needs {{path, value}}")
        if self.jsonpath is not None and not isinstance(self.jsonpath.get("path"), str):
            raise ValueError("jsonpath needs a path")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("schema", "equals", "contains", "jsonpath") if getattr(self, "schema_" if k == "schema" else k) is not None)

    def describe(self) -> str:
        if self.schema_ is not None:
            return f"schema on {self.path or '$.structuredContent'}"
        spec = getattr(self, self.kind)
        return f"{self.kind} {spec.get('path')}"


class Call(_M):
    """What a step (or a recovery step) calls."""

    target: str | None = None
    tool: str | None = None
    resource: str | None = None
    prompt: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    args_from: Literal["strategy"] | None = Field(None, description="draw every argument from the tool's inputSchema")

    @model_validator(mode="after")
    def _what(self) -> "Call":
        kinds = [k for k in ("tool", "resource", "prompt") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a step calls exactly one of tool, resource, prompt")
        if self.args_from and not self.tool:
            raise ValueError("args_from: strategy needs a tool (its inputSchema)")
        return self

    @property
    def kind(self) -> str:
        return "tool" if self.tool else "resource" if self.resource else "prompt"

    @property
    def what(self) -> str:
        if self.tool:
            return f"tools/call {self.tool}"
        if self.resource:
            return f"resources/read {self.resource}"
        return f"prompts/get {self.prompt}"


class Recovery(Call):
    retry: bool = Field(True, description="run the failed step once more after the recovery step")


class Step(Call):
    id: str = Field(pattern=ID)
    expect: list[Expect] = Field(default_factory=list)
    expect_error: bool = Field(False, description="the step is meant to fail (isError or a JSON-RPC error)")
    on_error: Recovery | None = None
    timeout: float | None = Field(None, gt=0)


class Consistency(_M):
    name: str
    left: Any
    right: Any
    op: Literal["equals", "contains", "subset", "set_equal"] = "equals"
    after: str | None = Field(None, description="check right after this step (default: at the end)")


class Workflow(_M):
    name: str
    description: str = ""
    targets: dict[str, Target | str]
    vars: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    consistency: list[Consistency] = Field(default_factory=list)
    source: str | None = Field(None, exclude=True)

    @field_validator("targets", mode="before")
    @classmethod
    def _name_targets(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({**t, "name": t.get("name", k)} if isinstance(t, dict) else t) for k, t in v.items()}
        return v

    @model_validator(mode="after")
    def _refs(self) -> "Workflow":
        ids: set[str] = set()
        for s in self.steps:
            if s.id in ids:
                raise ValueError(f"step id {s.id!r} is used twice")
            ids.add(s.id)
            for c in (s, s.on_error):
                if c is not None and c.target is not None and c.target not in self.targets:
                    raise ValueError(f"step {s.id!r}: unknown target {c.target!r} (workflow targets: {', '.join(self.targets)})")
            if s.target is None:
                if len(self.targets) != 1:
                    raise ValueError(f"step {s.id!r}: say which target (the workflow has several)")
        for c in self.consistency:
            if c.after is not None and c.after not in ids:
                raise ValueError(f"consistency {c.name!r}: after: unknown step {c.after!r}")
        return self

    def target_of(self, call: Call, default: str | None = None) -> str:
        return call.target or default or next(iter(self.targets))

    @property
    def uses_strategies(self) -> bool:
        def has_draw(v: Any) -> bool:
            if isinstance(v, dict):
                return "$draw" in v or any(has_draw(x) for x in v.values())
            if isinstance(v, list):
                return any(has_draw(x) for x in v)
            return False

        return any(s.args_from or has_draw(s.args) for s in self.steps)


def _absolutize(wf: dict[str, Any], base: Path) -> dict[str, Any]:
    """Inline stdio commands may name files relative to the workflow file."""
    for t in (wf.get("targets") or {}).values():
        if isinstance(t, dict) and isinstance(t.get("command"), list):
            t["command"] = [str((base / a).resolve()) if not str(a).startswith("-") and i > 0 and (base / str(a)).exists() else a
                            for i, a in enumerate(t["command"])]
        if isinstance(t, dict) and isinstance(t.get("command"), str):
            import shlex

            parts = shlex.split(t["command"])
            t["command"] = [str((base / a).resolve()) if not a.startswith("-") and i > 0 and (base / a).exists() else a for i, a in enumerate(parts)]
    return wf


def parse_workflows(data: Any, source: str = "workflow", base: Path | None = None) -> list[Workflow]:
    """A document holds one workflow, or `workflows: [...]`."""
    docs = data.get("workflows") if isinstance(data, dict) and "workflows" in data else [data]
    if not isinstance(docs, list) or not docs:
        raise ConfigError(f"{source}: expected a workflow (name, targets, steps) or workflows: [...]")
    out = []
    for i, doc in enumerate(docs):
        where = source if len(docs) == 1 else f"{source} workflows[{i}]"
        if not isinstance(doc, dict):
            raise ConfigError(f"{where}: a workflow is a mapping")
        if base is not None:
            doc = _absolutize(doc, base)
        try:
            wf = Workflow.model_validate(doc)
        except ValidationError as exc:
            raise ConfigError(format_error(where, exc)) from exc
        wf.source = source
        out.append(wf)
    return out


def load_workflow_file(path: str | Path) -> list[Workflow]:
    from ..load.config import read_structured

    p = Path(path)
    return parse_workflows(read_structured(p), str(p), p.resolve().parent)

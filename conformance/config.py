"""Targets and run settings: from the command line, `mcpcheck.toml` or `[tool.mcpcheck]`.

Pydantic models with `extra="forbid"`, so a typo in a config key fails with one clear message
naming the key instead of being silently ignored.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .findings import Severity
from .redact import remember, secret_name


# --------------------------------------------------------------------------- [gate] settings (docs/gate.md)
# The gate (gate.py) reads them; they live here so that configuration imports nothing above it.

DEFAULT_WEIGHTS: dict[str, float] = {
    "security": 4.0,
    "protocol": 2.0,
    "transport": 2.0,
    "tool": 1.5,
    "workflow": 1.5,
    "robustness": 1.0,
    "performance": 1.0,
}
DEFAULT_PENALTIES: dict[str, float] = {"low": 2.0, "medium": 8.0, "high": 20.0, "critical": 50.0}
# proven exploits: they block READY under every policy, whatever the score (docs/gate.md has the
# CVSS reasoning). data_exposure is a leaked secret at critical, a stack trace (medium) or a host
# path (low) stay below `exploit_block`.
EXPLOIT_CATEGORIES: tuple[str, ...] = (
    "security.command_injection",
    "security.sql_injection",
    "security.template_injection",
    "security.path_traversal",
    "security.ssrf",
    "security.data_exposure",
)


class GateSettings(BaseModel):
    """The `[gate]` table of mcpcheck.toml (or `[tool.mcpcheck.gate]`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="the gate decides the exit code (same as --gate)")
    threshold: float = Field(80.0, ge=0, le=100, description="lowest score that can be READY")
    weights: dict[str, float] = Field(default_factory=dict, description="group -> weight (merged over the defaults)")
    penalties: dict[str, float] = Field(default_factory=dict, description="severity -> points taken off its group")
    security_block: Severity = Field(Severity.critical, description="a security finding at or above blocks")
    block_on: Severity = Field(Severity.critical, description="any finding at or above blocks")
    performance_block: Severity = Field(Severity.low, description="a performance.* finding at or above blocks (SLO breach)")
    workflow_block: bool = Field(True, description="a failing workflow step (workflow.* finding) blocks")
    exploit_categories: list[str] = Field(
        default_factory=lambda: list(EXPLOIT_CATEGORIES),
        description="categories of proven exploits: a finding of one at or above exploit_block blocks under every policy",
    )
    exploit_block: Severity = Field(Severity.high, description="lowest severity of an exploit_categories finding that blocks")

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for k, w in v.items():
            if w < 0:
                raise ValueError(f"weight of {k!r} must be >= 0, got {w}")
        return v

    @field_validator("penalties")
    @classmethod
    def _penalties(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            if k not in DEFAULT_PENALTIES:
                raise ValueError(f"unknown severity {k!r} (one of {', '.join(DEFAULT_PENALTIES)})")
            if p < 0:
                raise ValueError(f"penalty of {k!r} must be >= 0, got {p}")
        return v

    def all_weights(self) -> dict[str, float]:
        return {**DEFAULT_WEIGHTS, **self.weights}

    def all_penalties(self) -> dict[str, float]:
        return {**DEFAULT_PENALTIES, **self.penalties}


class ConfigError(Exception):
    """Bad configuration or usage (exit code 2)."""


class Safety(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_destructive: bool = Field(
        False, description="call tools annotated destructiveHint (never by default)"
    )
    dangerous_tools: list[str] = Field(default_factory=list, description="tools never to call")
    allow_tools: list[str] = Field(
        default_factory=list, description="tools to call even though they look destructive"
    )
    only_tools: list[str] | None = Field(None, description="if set, call only these tools")
    read_only: bool = Field(
        False, description="call only tools annotated readOnlyHint (and list, read resources, get prompts): for targets that hold real data"
    )


class Target(BaseModel):
    """One MCP server under test."""

    model_config = ConfigDict(extra="forbid")
    name: str = "target"
    transport: Literal["stdio", "http", "sse"] = "stdio"
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = Field(None, description="working dir for stdio (default: a fresh temp dir)")
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_env: str | None = Field(None, description="env var holding a bearer token")
    low_scope_bearer_env: str | None = Field(
        None,
        description="env var holding a second valid bearer token with fewer scopes than bearer_env's "
        "(http-security: a request it may not make must get 403 insufficient_scope, A8)",
    )
    timeout: float = Field(10.0, gt=0, description="seconds allowed per request")
    protocol: str | None = Field(None, description="force a protocol revision (default: detect)")
    safety: Safety = Field(default_factory=Safety)
    jobs: int | None = Field(
        None, ge=1,
        description="1: never run this target's campaigns (or fuzz parts) at once, for a stateful server that cannot take parallel sessions (default: --jobs)",
    )

    @model_validator(mode="before")
    @classmethod
    def _command_string(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("command"), str):
            data = {**data, "command": shlex.split(data["command"])}
        return data

    @model_validator(mode="after")
    def _remember_secrets(self) -> "Target":
        """Secret-looking header and env values, and the bearer token, are masked in every report
        even where a server echoes them without their name (conformance/redact.py)."""
        for k, v in [*self.env.items(), *self.headers.items()]:
            if secret_name(k) or SECRET_HEADER.search(k):
                remember(v)
        if self.bearer_env:
            remember(os.environ.get(self.bearer_env))
        if self.low_scope_bearer_env:
            remember(os.environ.get(self.low_scope_bearer_env))
        return self

    @model_validator(mode="after")
    def _transport_fields(self) -> "Target":
        if self.transport == "stdio" and not self.command:
            raise ValueError(f"target {self.name!r}: stdio transport needs a command")
        if self.transport in ("http", "sse") and not self.url:
            raise ValueError(f"target {self.name!r}: {self.transport} transport needs a url")
        return self

    def describe(self) -> str:
        if self.transport == "stdio":
            return " ".join(shlex.quote(c) for c in self.command or [])
        return f"{self.transport} {self.url}"

    def cli_args(self) -> list[str]:
        """mcpcheck arguments that select this target again (for reproduce commands)."""
        if self.transport == "stdio":
            return ["--", *(self.command or [])]
        args = ["--url", self.url or "", "--transport", self.transport]
        for k, v in self.headers.items():  # secrets never go into a report: the user re-supplies them
            args += ["--header", f"{k}:{'***' if SECRET_HEADER.search(k) else v}"]
        if self.bearer_env:
            args += ["--bearer-env", self.bearer_env]
        return args


SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|pass|session", re.I)


class Settings(BaseModel):
    """The `[tool.mcpcheck]` table (or the top level of mcpcheck.toml)."""

    model_config = ConfigDict(extra="forbid")
    fail_on: Severity = Severity.high
    report_dir: str = "mcpcheck-report"
    formats: list[Literal["json", "markdown", "junit", "sarif", "html"]] = Field(
        default_factory=lambda: ["json", "markdown", "junit"]
    )
    seed: int | None = None
    checks: list[str] | None = Field(None, description="only run these check ids (prefixes allowed)")
    skip_checks: list[str] = Field(default_factory=list)
    plugins: list[str] = Field(default_factory=list, description="modules of user-written checks to load (docs/plugins.md)")
    targets: dict[str, Target] = Field(default_factory=dict)
    gate: GateSettings = Field(default_factory=GateSettings, description="deployment-readiness gate (docs/gate.md)")
    baseline: str | None = Field(None, description="baseline (suppressions) file (default: ./mcpcheck-baseline.toml when present)")

    @model_validator(mode="before")
    @classmethod
    def _name_targets(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("targets"), dict):
            named = {}
            for name, t in data["targets"].items():
                named[name] = {**t, "name": name} if isinstance(t, dict) else t
            data = {**data, "targets": named}
        return data


def format_error(source: str, exc: ValidationError) -> str:
    """A pydantic error as one line per problem, naming the key (`source: unknown key 'a.b'`)."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{loc}'")
        else:
            lines.append(f"{source}: {loc or 'value'}: {err['msg']}")
    return "; ".join(lines)


def load_settings(path: str | Path | None = None, *, cwd: Path | None = None) -> tuple[Settings, str | None]:
    """Find and load settings. Returns (settings, where they came from)."""
    cwd = cwd or Path.cwd()
    candidates: list[Path]
    if path is not None:
        candidates = [Path(path)]
        if not candidates[0].exists():
            raise ConfigError(f"config file not found: {path}")
    else:
        candidates = [cwd / "mcpcheck.toml", cwd / "pyproject.toml"]
    for file in candidates:
        if not file.exists():
            continue
        try:
            data = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        if file.name == "pyproject.toml":
            table = data.get("tool", {}).get("mcpcheck")
            if table is None:
                if path is not None:
                    raise ConfigError(f"{file}: no [tool.mcpcheck] table")
                continue
            source = f"{file} [tool.mcpcheck]"
        elif set(data) == {"tool"} and isinstance(data["tool"], dict) and "mcpcheck" in data["tool"]:
            # a [tool.mcpcheck] block pasted into mcpcheck.toml (as the README shows it) means the same
            table, source = data["tool"]["mcpcheck"], f"{file} [tool.mcpcheck]"
        else:
            table, source = data, str(file)
        try:
            return Settings.model_validate(table), source
        except ValidationError as exc:
            raise ConfigError(format_error(source, exc)) from exc
    return Settings(), None


def make_target(**fields: Any) -> Target:
    try:
        return Target.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(format_error("target", exc)) from exc

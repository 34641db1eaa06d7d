"""Targets and run settings: from the command line, `mcpcheck.toml` or `[tool.mcpcheck]`.

Pydantic models with `extra="forbid"`, so a typo in a config key fails with one clear message
naming the key instead of being silently ignored.
"""

from __future__ import annotations

import re

import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .findings import Severity
from .gate import GateSettings


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
    timeout: float = Field(10.0, gt=0, description="seconds allowed per request")
    protocol: str | None = Field(None, description="force a protocol revision (default: detect)")
    safety: Safety = Field(default_factory=Safety)

    @model_validator(mode="before")
    @classmethod
    def _command_string(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("command"), str):
            data = {**data, "command": shlex.split(data["command"])}
        return data

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


def _format_error(source: str, exc: ValidationError) -> str:
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
            raise ConfigError(_format_error(source, exc)) from exc
    return Settings(), None


def make_target(**fields: Any) -> Target:
    try:
        return Target.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(_format_error("target", exc)) from exc

"""Load-run configuration: pydantic models with extra="forbid" (a typo names the key).

A load config is a TOML or YAML file (or a dict) shaped like `LoadConfig`; see docs/load.md.
Durations are seconds, rates calls/s, latencies milliseconds.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import ConfigError, format_error

PATTERNS = ("baseline", "constant", "ramp-up", "spike", "burst", "stress", "soak")
Pattern = Literal["baseline", "constant", "ramp-up", "spike", "burst", "stress", "soak"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SLO(_Model):
    """Service-level objectives. Any limit left unset is not checked."""

    p50_ms: float | None = Field(None, gt=0)
    p90_ms: float | None = Field(None, gt=0)
    p95_ms: float | None = Field(None, gt=0)
    p99_ms: float | None = Field(None, gt=0)
    p999_ms: float | None = Field(None, gt=0)
    max_ms: float | None = Field(None, gt=0)
    error_rate: float | None = Field(None, ge=0, le=1, description="errors / calls (all kinds)")
    timeout_rate: float | None = Field(None, ge=0, le=1)
    min_throughput: float | None = Field(None, gt=0, description="completed calls/s over the measured period")

    def limits(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Ramp(_Model):
    start_rate: float = Field(1.0, gt=0, description="open model: calls/s at t=0")
    start_clients: int = Field(1, ge=1, description="closed model: clients at t=0")
    # the end values are `rate` / `clients` of the run


class Spike(_Model):
    at: float = Field(0.4, ge=0, lt=1, description="when the spike starts, as a fraction of the duration")
    length: float = Field(0.2, gt=0, le=1, description="how long it lasts, as a fraction of the duration")
    factor: float = Field(5.0, gt=1, description="spike rate (or clients) = base x factor")


class Burst(_Model):
    size: int = Field(20, ge=1, description="calls sent at the same instant")
    every: float = Field(1.0, gt=0, description="seconds between bursts")
    base_rate: float = Field(0.0, ge=0, description="steady calls/s between bursts")


class Stress(_Model):
    """Step the load up until a limit breaks; the breaking point is reported."""

    start: float = Field(10, gt=0, description="first step: calls/s (open) or clients (closed)")
    step: float = Field(10, gt=0, description="added per step")
    max: float = Field(1000, gt=0, description="give up (no break found) beyond this")
    step_duration: float = Field(3.0, gt=0, description="seconds per step")
    max_error_rate: float = Field(0.05, ge=0, le=1, description="a step above this error rate breaks")
    max_p99_ms: float = Field(1000.0, gt=0, description="a step whose p99 latency exceeds this breaks")
    min_breaking_point: float | None = Field(
        None, gt=0, description="fail the gate when the server breaks below this rate/clients"
    )


class Degradation(_Model):
    """Latency growing across a steady run (constant, soak, baseline patterns)."""

    enabled: bool = True
    ratio: float = Field(1.5, gt=1, description="last-third median / first-third median that counts as degraded")
    min_correlation: float = Field(0.6, gt=0, le=1, description="trend fit: Pearson r of window p50 against time")
    min_windows: int = Field(6, ge=3)
    min_increase_ms: float = Field(2.0, ge=0, description="ignore growth smaller than this (noise floor)")


class SlowInputs(_Model):
    """Inputs much slower than their tool's typical call (confirmed by a repeat call)."""

    enabled: bool = True
    factor: float = Field(10.0, gt=1, description="slow = latency > factor x the tool's median")
    min_ms: float = Field(100.0, ge=0, description="... and above this many ms")
    report: int = Field(5, ge=1, description="report at most this many slow inputs per tool")


class Baseline(_Model):
    file: str | None = Field(None, description="stored baseline (JSON); compared when it exists")
    save: bool = Field(False, description="write this run's figures as the new baseline")
    tolerance: float = Field(0.25, ge=0, description="allowed relative regression (0.25 = 25% worse)")
    error_rate_tolerance: float = Field(0.01, ge=0, le=1, description="allowed absolute error-rate increase")
    min_delta_ms: float = Field(1.0, ge=0, description="latency differences below this never count as a regression")
    metrics: list[str] = Field(
        default_factory=lambda: ["p50_ms", "p95_ms", "p99_ms", "throughput", "error_rate"],
        description="which figures are compared",
    )


class LoadConfig(_Model):
    pattern: Pattern = "constant"
    model: Literal["open", "closed"] | None = Field(
        None, description="open: arrivals at a rate; closed: N clients back to back (default: closed for baseline, open otherwise)"
    )
    duration: float = Field(10.0, gt=0, description="seconds of measured load (stress: per step, see stress.step_duration)")
    warmup: float = Field(0.0, ge=0, description="seconds of load before measuring (not recorded)")
    rate: float = Field(20.0, gt=0, description="open model: calls/s (ramp-up: the end rate; spike: the base rate)")
    clients: int = Field(4, ge=1, description="closed model: concurrent clients (ramp-up: the end count)")
    think_time: float = Field(0.0, ge=0, description="closed model: pause between a client's calls (s)")
    arrivals: Literal["uniform", "poisson"] = Field("uniform", description="open model inter-arrival times")
    tools: dict[str, float] = Field(
        default_factory=dict, description="tool -> weight (default: every callable tool, equal weight)"
    )
    pool_size: int = Field(30, ge=1, description="pre-generated valid inputs per tool")
    reference_checks: int = Field(
        30, ge=0, description="inputs per tool called twice before the run; stable answers are compared under load"
    )
    seed: int | None = None
    timeout: float | None = Field(None, gt=0, description="per-request timeout (default: the target's)")
    window: float | None = Field(None, gt=0, description="metrics window in seconds (default: duration/20, 0.5..60)")
    max_in_flight: int = Field(2000, ge=1, description="open model: calls beyond this are counted as dropped")
    connections: int = Field(1, ge=1, description="sessions the calls are spread over (stdio: one server process each)")
    max_error_rate: float = Field(
        0.01, ge=0, le=1, description="load-induced error rate above which errors_under_load fails"
    )
    resource_interval: float = Field(0.5, gt=0, description="seconds between CPU/memory samples of a stdio server")
    check_output_schema: bool = Field(True, description="validate structuredContent against outputSchema under load")
    ramp: Ramp = Field(default_factory=Ramp)
    spike: Spike = Field(default_factory=Spike)
    burst: Burst = Field(default_factory=Burst)
    stress: Stress = Field(default_factory=Stress)
    degradation: Degradation = Field(default_factory=Degradation)
    slow_inputs: SlowInputs = Field(default_factory=SlowInputs)
    slo: SLO = Field(default_factory=SLO)
    slo_tools: dict[str, SLO] = Field(default_factory=dict, description="per-tool SLO overrides")
    baseline: Baseline = Field(default_factory=Baseline)
    report_dir: str = Field("mcpcheck-report", description="charts and load.json go to <report_dir>/load/<target>/")
    charts: list[Literal["png", "svg"]] = Field(default_factory=lambda: ["png", "svg"])

    @model_validator(mode="after")
    def _defaults(self) -> "LoadConfig":
        if self.model is None:
            self.model = "closed" if self.pattern == "baseline" else "open"
        if self.pattern == "burst" and self.model == "closed":
            raise ValueError("pattern burst needs the open model (bursts are arrivals, not clients)")
        return self

    @property
    def window_s(self) -> float:
        if self.window:
            return self.window
        total = self.duration if self.pattern != "stress" else self.stress.step_duration
        return min(60.0, max(0.5, total / 20))


def load_config_file(path: str | Path) -> LoadConfig:
    """LoadConfig from TOML (top level, or a [load] table) or YAML (top level, or a `load:` key)."""
    data = read_structured(path)
    if isinstance(data, dict) and isinstance(data.get("load"), dict) and "pattern" not in data:
        data = data["load"]
    return parse_load_config(data, str(path))


def parse_load_config(data: Any, source: str = "load config") -> LoadConfig:
    if isinstance(data, LoadConfig):
        return data
    try:
        return LoadConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(format_error(source, exc)) from exc


def read_structured(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if p.suffix in (".toml",):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc

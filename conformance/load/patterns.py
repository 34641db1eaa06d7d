"""Load shapes: when calls are meant to be sent (open model) or how many clients run (closed).

Open model: `arrivals(shape, seconds)` yields the intended send offsets (seconds from the start of
the phase). The generator sends at those instants whether or not earlier calls have finished.
Closed model: `clients_at(shape, t)` is the number of clients that should be active at t.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Callable, Iterator

from .config import LoadConfig

MIN_RATE = 0.05  # calls/s; keeps 1/rate finite in a ramp that starts near zero


@dataclass(frozen=True)
class Shape:
    """A resolved pattern for one phase."""

    kind: str  # constant | ramp | spike | burst
    rate: float = 0.0  # open: (end/base) calls/s
    start_rate: float = 0.0
    clients: int = 1  # closed: (end/base) clients
    start_clients: int = 1
    spike_at: float = 0.0  # seconds
    spike_len: float = 0.0
    spike_factor: float = 1.0
    burst_size: int = 0
    burst_every: float = 1.0
    seconds: float = 0.0
    poisson: bool = False

    def rate_at(self, t: float) -> float:
        if self.kind == "ramp":
            frac = min(1.0, max(0.0, t / self.seconds)) if self.seconds else 1.0
            return max(MIN_RATE, self.start_rate + (self.rate - self.start_rate) * frac)
        if self.kind == "spike" and self.spike_at <= t < self.spike_at + self.spike_len:
            return self.rate * self.spike_factor
        if self.kind == "burst":
            return self.rate  # the steady part between bursts (may be 0)
        return self.rate

    def clients_at(self, t: float) -> int:
        if self.kind == "ramp":
            frac = min(1.0, max(0.0, t / self.seconds)) if self.seconds else 1.0
            return max(1, round(self.start_clients + (self.clients - self.start_clients) * frac))
        if self.kind == "spike" and self.spike_at <= t < self.spike_at + self.spike_len:
            return max(1, round(self.clients * self.spike_factor))
        return self.clients

    def target_at(self, t: float, model: str) -> float:
        """What the chart shows as the intended load at t."""
        if model == "closed":
            return float(self.clients_at(t))
        if self.kind == "burst":
            return self.rate + self.burst_size / self.burst_every
        return self.rate_at(t)

    @property
    def max_clients(self) -> int:
        if self.kind == "spike":
            return max(self.clients, round(self.clients * self.spike_factor))
        return max(self.clients, self.start_clients)


def shape_for(cfg: LoadConfig, *, seconds: float | None = None, level: float | None = None) -> Shape:
    """The shape of the measured phase; `level` overrides the rate/clients (stress steps)."""
    secs = cfg.duration if seconds is None else seconds
    base = dict(seconds=secs, poisson=cfg.arrivals == "poisson")
    clients = cfg.clients
    if cfg.pattern == "baseline" and "clients" not in cfg.model_fields_set:
        clients = 1
    if level is not None:
        return Shape("constant", rate=float(level), clients=max(1, int(round(level))), **base)
    if cfg.pattern == "ramp-up":
        return Shape("ramp", rate=cfg.rate, start_rate=cfg.ramp.start_rate, clients=clients,
                     start_clients=cfg.ramp.start_clients, **base)
    if cfg.pattern == "spike":
        return Shape("spike", rate=cfg.rate, clients=clients, spike_at=cfg.spike.at * secs,
                     spike_len=cfg.spike.length * secs, spike_factor=cfg.spike.factor, **base)
    if cfg.pattern == "burst":
        return Shape("burst", rate=cfg.burst.base_rate, burst_size=cfg.burst.size, burst_every=cfg.burst.every, **base)
    return Shape("constant", rate=cfg.rate, clients=clients, **base)


def arrivals(shape: Shape, seed: int | None = None) -> Iterator[float]:
    """Intended send offsets in [0, shape.seconds), in order."""
    if shape.kind == "burst":
        streams = [_bursts(shape)]
        if shape.rate > 0:
            streams.append(_steady(shape, shape.rate_at, seed))
        yield from heapq.merge(*streams)
        return
    yield from _steady(shape, shape.rate_at, seed)


def _steady(shape: Shape, rate_at: Callable[[float], float], seed: int | None) -> Iterator[float]:
    """Arrivals of a (possibly time-varying) rate: the k-th call goes out when the integral of
    the rate reaches k (uniform), or after Exp(1)-distributed increments of it (Poisson), so a
    rate change takes effect exactly when the shape says, not one old gap later."""
    rng = random.Random(seed)
    step = 0.001
    i, t, work = 0, 0.0, 0.0
    end = shape.seconds - 1e-9
    nxt = rng.expovariate(1.0) if shape.poisson else 0.0
    while t < end:
        r = rate_at(t)
        i += 1
        t_end = min(i * step, shape.seconds)
        gained = r * (t_end - t)
        while r > 0 and nxt <= work + gained:
            at = t + (nxt - work) / r
            if at >= end:
                return
            yield at
            nxt += rng.expovariate(1.0) if shape.poisson else 1.0
        work += gained
        t = t_end


def _bursts(shape: Shape) -> Iterator[float]:
    k = 0
    while (t := k * shape.burst_every) < shape.seconds:
        for _ in range(shape.burst_size):
            yield t
        k += 1


def expected_calls(shape: Shape) -> float:
    """Roughly how many arrivals the shape yields (for progress and sanity checks)."""
    if shape.kind == "burst":
        bursts = int(shape.seconds / shape.burst_every) + 1
        return bursts * shape.burst_size + shape.rate * shape.seconds
    if shape.kind == "ramp":
        return (shape.start_rate + shape.rate) / 2 * shape.seconds
    if shape.kind == "spike":
        return shape.rate * (shape.seconds + shape.spike_len * (shape.spike_factor - 1))
    return shape.rate * shape.seconds

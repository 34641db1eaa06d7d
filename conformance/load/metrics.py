"""Latency and outcome bookkeeping for a load run, on HdrHistogram (the `hdrhistogram` package).

Latencies are recorded in microseconds. In the open model a call's latency runs from its
INTENDED send time (the schedule), not from when the generator got round to sending it, so a
server stall that delays later sends shows up in their latency instead of vanishing (no
coordinated omission). The service time (from the actual send) is kept beside it.

Everything is kept three ways: the whole run, per tool, and per time window (windows drive the
latency-over-time chart, the degradation trend and the stress steps).
"""

from __future__ import annotations

import io
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
OUTCOMES = ("ok", "tool_error", "rpc_error", "timeout", "transport", "mixup", "dropped")
ERRORS = ("tool_error", "rpc_error", "timeout", "transport", "mixup", "dropped")
LOWEST_US = 1


def new_histogram(max_seconds: float, digits: int = 3) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, max(10, int(max_seconds * 1_000_000)), digits)


def bucket(us: int) -> int:
    """The value HdrHistogram (3 significant digits) would bucket `us` with: keep the top 11
    bits. Counting these in a dict on the hot path and folding them into the histogram later
    gives the same percentiles as recording every value, at a fraction of the cost."""
    n = us.bit_length() - 11
    return us if n <= 0 else (us >> n) << n


@dataclass
class Stats:
    """Counts plus a latency histogram (latency from the intended send time)."""

    max_seconds: float
    digits: int = 3
    _hist: HdrHistogram = field(init=False, repr=False)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    load_errors: int = 0  # errors attributable to load (see Recorder.record)
    pending: dict[int, int] = field(default_factory=dict, repr=False)  # bucketed value -> count, not yet folded in

    def __post_init__(self) -> None:
        self._hist = new_histogram(self.max_seconds, self.digits)
        self._top = self._hist.highest_trackable_value

    @property
    def hist(self) -> HdrHistogram:
        if self.pending:
            top, rec = self._top, self._hist.record_value
            for v, n in self.pending.items():
                rec(v if v <= top else top, n)
            self.pending.clear()
        return self._hist

    def add(self, latency_us: int, outcome: str, load_error: bool) -> None:
        self.counts[outcome] += 1
        if load_error:
            self.load_errors += 1
        if outcome != "dropped":
            q = bucket(max(latency_us, LOWEST_US))
            self.pending[q] = self.pending.get(q, 0) + 1

    @property
    def calls(self) -> int:
        return sum(self.counts.values())

    @property
    def errors(self) -> int:
        return sum(self.counts[k] for k in ERRORS)

    def summary(self, seconds: float | None = None) -> dict[str, Any]:
        h, calls = self.hist, self.calls
        out: dict[str, Any] = {"calls": calls, **{k: v for k, v in self.counts.items() if v}}
        if h.get_total_count():
            for name, p in PERCENTILES.items():
                out[f"{name}_ms"] = round(h.get_value_at_percentile(p) / 1000, 3)
            out["max_ms"] = round(h.get_max_value() / 1000, 3)
            out["min_ms"] = round(h.get_min_value() / 1000, 3)
            out["mean_ms"] = round(h.get_mean_value() / 1000, 3)
        out["errors"] = self.errors
        out["error_rate"] = round(self.errors / calls, 6) if calls else 0.0
        out["timeout_rate"] = round(self.counts["timeout"] / calls, 6) if calls else 0.0
        out["load_errors"] = self.load_errors
        out["load_error_rate"] = round(self.load_errors / calls, 6) if calls else 0.0
        if seconds:
            out["throughput"] = round((calls - self.counts["dropped"]) / seconds, 3)
        return out

    def distribution_text(self) -> str:
        """HdrHistogram's standard percentile-distribution (.hgrm) text, in milliseconds."""
        buf = io.BytesIO()
        self.hist.output_percentile_distribution(buf, 1000.0)
        return buf.getvalue().decode()


@dataclass
class Window:
    index: int
    start: float  # seconds since the measured start
    stats: Stats
    target: float | None = None  # intended rate (open) or clients (closed) in this window
    sent: int = 0


class Recorder:
    """Collects every call of a run. Not thread-safe: one asyncio loop records."""

    def __init__(self, *, window: float, max_seconds: float, n_items: int) -> None:
        self.window = window
        self.max_seconds = max_seconds
        self.total = Stats(max_seconds)
        self.service_stats = Stats(max_seconds)  # from the actual send
        self.tools: dict[str, Stats] = {}
        self.windows: dict[int, Window] = {}
        self.item_n = [0] * n_items
        self.item_sum_us = [0] * n_items
        self.item_max_us = [0] * n_items
        self.max_lag_us = 0  # worst delay between an intended and the actual send
        self.lag_over_10ms = 0
        self.started: float | None = None
        self.first_send: float | None = None
        self.last_done: float | None = None

    @property
    def service(self) -> HdrHistogram:
        return self.service_stats.hist

    def window_for(self, offset: float) -> Window:
        idx = int(offset / self.window) if offset > 0 else 0
        w = self.windows.get(idx)
        if w is None:
            w = self.windows[idx] = Window(idx, idx * self.window, Stats(self.max_seconds, 2))
        return w

    def record(
        self,
        *,
        tool: str,
        item: int,
        offset: float,
        latency: float,
        service: float | None,
        lag: float,
        outcome: str,
        load_error: bool,
    ) -> None:
        # The hot path of the generator: plain attribute work, one HDR record per histogram.
        us = int(latency * 1_000_000)
        if us < LOWEST_US:
            us = LOWEST_US
        ts = self.tools.get(tool)
        if ts is None:
            ts = self.tools[tool] = Stats(self.max_seconds)
        idx = int(offset / self.window) if offset > 0 else 0
        w = self.windows.get(idx)
        if w is None:
            w = self.window_for(offset)
        q = bucket(us)
        for st in (self.total, ts, w.stats):
            st.counts[outcome] += 1
            if load_error:
                st.load_errors += 1
            if outcome != "dropped":
                pend = st.pending
                pend[q] = pend.get(q, 0) + 1
        if outcome != "dropped":
            self.item_n[item] += 1
            self.item_sum_us[item] += us
            if us > self.item_max_us[item]:
                self.item_max_us[item] = us
        if service is not None:
            sq = bucket(max(int(service * 1_000_000), LOWEST_US))
            sp = self.service_stats.pending
            sp[sq] = sp.get(sq, 0) + 1
        lag_us = int(lag * 1_000_000)
        if lag_us > self.max_lag_us:
            self.max_lag_us = lag_us
        if lag_us > 10_000:
            self.lag_over_10ms += 1

    def window_rows(self) -> list[dict[str, Any]]:
        rows = []
        for idx in sorted(self.windows):
            w = self.windows[idx]
            row = {"window": idx, "start_s": round(w.start, 3), **w.stats.summary(self.window)}
            if w.target is not None:
                row["target"] = w.target
            rows.append(row)
        return rows


# ------------------------------------------------------------------------------ trends


def trend(points: list[tuple[float, float]]) -> dict[str, float] | None:
    """Least-squares slope of y against x (stdlib statistics), Pearson r, and the ratio of the
    median of the last third to the median of the first third."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if len(set(xs)) < 2:
        return None
    slope, intercept = statistics.linear_regression(xs, ys)
    try:
        r = statistics.correlation(xs, ys)
    except statistics.StatisticsError:  # constant y
        r = 0.0
    third = max(1, len(ys) // 3)
    first, last = statistics.median(ys[:third]), statistics.median(ys[-third:])
    return {
        "slope_per_s": slope,
        "intercept": intercept,
        "r": r if not math.isnan(r) else 0.0,
        "first": first,
        "last": last,
        "ratio": (last / first) if first > 0 else (math.inf if last > 0 else 1.0),
    }

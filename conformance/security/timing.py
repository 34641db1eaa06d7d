"""The time-based (blind) injection oracle: a delay that is consistent, proportional and far
outside the tool's own latency.

A shell or SQL payload whose output is discarded leaves no text to prove it ran. The payloads
of `strategies.payloads.timed_templates` ask for a delay instead (`sleep N`, `pg_sleep(N)`, a
SQLite recursive CTE of N rows), and `judge` accepts a delay only when ALL of this holds:

* the baseline (the tool's own latency with a harmless value, `baseline` calls) is known, and
  `threshold = max(baseline) + max(margin, spread of the baseline)`;
* consistent: EVERY trial at the low request and at the high one is above the threshold;
* the delay was really asked for: every high trial is slower than every low trial, and
  - seconds (sleep / pg_sleep): each trial's excess over the baseline median is at least 80% of
    the requested delay, and median(high) - median(low) is within [0.6, 1.6] x (high - low);
  - rows (SQLite: work, not a clock): the excess grows with the work, excess(high)/excess(low)
    within [0.6, 1.6] x the requested ratio;
* the tool is fast again afterwards: every `after` call (harmless value) is under the threshold
  (a tool that merely became slow is not flagged).

A false alarm is worse than a miss: anything else (a timeout, one slow trial, a budget cut) is
no finding.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from dataclasses import dataclass
from functools import lru_cache

STEP = (0.6, 1.6)  # accepted (measured step) / (requested step)
FLOOR = 0.8  # seconds families: each trial's excess >= FLOOR x the requested delay


@dataclass
class Verdict:
    ok: bool
    why: str  # the measured timings and which condition held or failed


def _ms(xs: list[float]) -> str:
    return ", ".join(f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s" for x in xs)


def threshold(baseline: list[float], margin: float) -> float:
    """The latency a delayed answer must exceed: the baseline's max plus max(margin, spread)."""
    return max(baseline) + max(margin, max(baseline) - min(baseline))


def judge(baseline: list[float], low: list[float], high: list[float], after: list[float], req_low: float, req_high: float, unit: str, margin: float) -> Verdict:
    """Did the payload cause the delay? (see the module docstring for the rule)"""
    if len(baseline) < 3 or not low or not high or not after:
        return Verdict(False, "too few measurements")
    thr = threshold(baseline, margin)
    base = statistics.median(baseline)
    label = "s" if unit == "s" else " rows"
    timings = (
        f"baseline ({len(baseline)} calls) {_ms(sorted(baseline))}; threshold {thr:.2f} s; "
        f"requested {req_low:.{0 if unit != 's' else 1}f}{label}: {_ms(low)}; requested {req_high:.{0 if unit != 's' else 1}f}{label}: {_ms(high)}; after: {_ms(after)}"
    )
    if min(low + high) <= thr:
        return Verdict(False, f"not every trial was above the threshold ({timings})")
    if min(high) <= max(low):
        return Verdict(False, f"the larger request was not always slower ({timings})")
    if max(after) > thr:
        return Verdict(False, f"the tool stayed slow without the payload ({timings})")
    lo, hi = statistics.median(low) - base, statistics.median(high) - base
    if unit == "s":
        if min(low) - base < FLOOR * req_low or min(high) - base < FLOOR * req_high:
            return Verdict(False, f"a delay shorter than requested ({timings})")
        step, want = hi - lo, req_high - req_low
        if not STEP[0] * want <= step <= STEP[1] * want:
            return Verdict(False, f"delays not proportional: +{step:.2f} s for +{want:g} s requested ({timings})")
        return Verdict(True, f"{timings}; the delay grew by {step:.2f} s for {want:g} s more requested")
    ratio, want = hi / lo, req_high / req_low
    if not STEP[0] * want <= ratio <= STEP[1] * want:
        return Verdict(False, f"work not proportional: x{ratio:.2f} for x{want:g} requested ({timings})")
    return Verdict(True, f"{timings}; the delay grew x{ratio:.2f} for x{want:g} the work")


@lru_cache(maxsize=1)
def sqlite_rows_per_second() -> float:
    """How many rows of the recursive CTE this machine's SQLite counts per second (measured once,
    in-process, ~0.1 s): turns a requested delay into a row count for the SQLite family."""
    con = sqlite3.connect(":memory:")
    n = 200_000
    try:
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            con.execute(f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<{n}) SELECT count(*) FROM c").fetchall()
            best = min(best, time.perf_counter() - t)
    finally:
        con.close()
    return n / max(best, 1e-4)


def rows_for(seconds: float) -> int:
    return max(10_000, int(sqlite_rows_per_second() * seconds))


__all__ = ["Verdict", "judge", "rows_for", "sqlite_rows_per_second", "threshold"]

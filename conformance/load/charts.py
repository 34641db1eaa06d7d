"""Charts for a load run (matplotlib, Agg backend): PNG and/or SVG in the report folder.

* latency_over_time: p50 / p95 / p99 / max per window (log scale), throughput and the intended
  load on a second axis, errors marked.
* latency_distribution: the HdrHistogram percentile spectrum (x = 1/(1-p), the usual HDR plot)
  and a histogram of the recorded latencies.
* server_resources: CPU % and RSS of a stdio server over the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

from .metrics import Stats  # noqa: E402


def _save(fig: Any, folder: Path, stem: str, formats: list[str]) -> list[str]:
    out = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=100)
        out.append(str(path))
    plt.close(fig)
    return out


def latency_over_time(windows: list[dict[str, Any]], window_s: float, title: str, folder: Path, formats: list[str], model: str) -> list[str]:
    rows = [w for w in windows if "p50_ms" in w]
    if not rows:
        return []
    xs = [w["start_s"] + window_s / 2 for w in rows]
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    for key, style in (("max_ms", ":"), ("p99_ms", "-"), ("p95_ms", "-"), ("p50_ms", "-")):
        ax.plot(xs, [max(w[key], 0.001) for w in rows], style, marker=".", label=key.replace("_ms", ""))
    err = [(w["start_s"] + window_s / 2, w["p50_ms"]) for w in rows if w.get("errors")]
    if err:
        ax.scatter([e[0] for e in err], [max(e[1], 0.001) for e in err], color="red", marker="x", zorder=5, label="window with errors")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}" if str(v)[0] in "25" else ""))
    ax.set_xlabel("time since start of the measured load (s)")
    ax.set_ylabel("latency (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(xs, [w.get("throughput", 0) for w in rows], color="grey", alpha=0.6, label="completed calls/s")
    if any("target" in w for w in windows):
        ax2.plot(xs, [w.get("target", 0) for w in rows], color="black", alpha=0.4, linestyle="--",
                 label="clients (intended)" if model == "closed" else "calls/s (intended)")
    ax2.set_ylabel("calls/s" if model == "open" else "calls/s | clients")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title(title)
    return _save(fig, folder, "latency_over_time", formats)


def latency_distribution(stats: Stats, title: str, folder: Path, formats: list[str]) -> list[str]:
    h = stats.hist
    if not h.get_total_count():
        return []
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    pts = []
    for it in h.get_percentile_iterator(5):
        p = it.percentile_level_iterated_to
        if p >= 100.0:
            break
        pts.append((1.0 / (1.0 - p / 100.0), it.value_iterated_to / 1000))
    top = float(max(10, h.get_total_count()))  # beyond 1 - 1/count the data says nothing more
    pts = [p for p in pts if p[0] < top]
    pts.append((top, h.get_max_value() / 1000))
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".")
    ax.set_xscale("log")
    ticks = [2, 10, 100, 1000, 10000, 100000, 1000000]
    names = ["50%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: names[ticks.index(v)] if v in ticks else ""))
    ax.set_xlim(1, top)
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_title("percentile spectrum (HdrHistogram)")
    ax.grid(True, alpha=0.3)
    values, counts = [], []
    for it in h.get_recorded_iterator():
        values.append(it.value_iterated_to / 1000)
        counts.append(it.count_at_value_iterated_to)
    bx.hist(values, bins=min(60, max(5, len(values))), weights=counts)
    bx.set_xlabel("latency (ms)")
    bx.set_ylabel("calls")
    bx.set_title("latency histogram")
    fig.suptitle(title)
    return _save(fig, folder, "latency_distribution", formats)


def server_resources(samples: list[Any], title: str, folder: Path, formats: list[str]) -> list[str]:
    if len(samples) < 2:
        return []
    fig, ax = plt.subplots(figsize=(10, 3.5), layout="constrained")
    xs = [s.t for s in samples]
    ax.plot(xs, [s.cpu_percent for s in samples], color="tab:red", label="CPU % (100 = one core)")
    ax.set_ylabel("CPU %")
    ax.set_xlabel("time (s)")
    ax2 = ax.twinx()
    ax2.plot(xs, [s.rss_mb for s in samples], color="tab:blue", label="RSS (MiB)")
    ax2.set_ylabel("RSS (MiB)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return _save(fig, folder, "server_resources", formats)

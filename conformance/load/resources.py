"""CPU and memory of a stdio server process (and its children) over a run, with psutil.

Also measures the load generator's own CPU time, so a run can say what each call cost us.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import psutil


@dataclass
class Sample:
    t: float  # seconds since the measured start (negative during warmup/calibration)
    cpu_percent: float  # summed over the process tree; 100 = one core
    rss_mb: float
    processes: int


@dataclass
class ResourceSampler:
    pids: list[int]
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    origin: float = field(default_factory=time.monotonic)
    _task: asyncio.Task | None = None
    _procs: dict[int, psutil.Process] = field(default_factory=dict)

    def _tree(self) -> list[psutil.Process]:
        out = []
        for pid in self.pids:
            try:
                root = self._procs.get(pid) or psutil.Process(pid)
                self._procs[pid] = root
                out.append(root)
                for child in root.children(recursive=True):
                    out.append(self._procs.setdefault(child.pid, child))
            except psutil.Error:
                continue
        return out

    def sample(self) -> Sample | None:
        cpu = rss = 0.0
        n = 0
        for p in self._tree():
            try:
                with p.oneshot():
                    cpu += p.cpu_percent(None)  # since the previous call on the same object
                    rss += p.memory_info().rss
                n += 1
            except psutil.Error:
                continue
        if n == 0:
            return None
        s = Sample(round(time.monotonic() - self.origin, 3), round(cpu, 1), round(rss / 2**20, 2), n)
        self.samples.append(s)
        return s

    async def _run(self) -> None:
        for p in self._tree():  # prime cpu_percent
            try:
                p.cpu_percent(None)
            except psutil.Error:
                pass
        while True:
            await asyncio.sleep(self.interval)
            self.sample()

    def start(self) -> None:
        if self.pids and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        self.sample()

    def summary(self) -> dict[str, Any] | None:
        if not self.samples:
            return None
        cpu = [s.cpu_percent for s in self.samples]
        rss = [s.rss_mb for s in self.samples]
        return {
            "samples": len(self.samples),
            "cpu_percent_mean": round(sum(cpu) / len(cpu), 1),
            "cpu_percent_max": max(cpu),
            "rss_mb_start": rss[0],
            "rss_mb_end": rss[-1],
            "rss_mb_max": max(rss),
            "rss_mb_growth": round(rss[-1] - rss[0], 2),
        }


class SelfCPU:
    """CPU seconds this process (the load generator) spends between start() and stop()."""

    def __init__(self) -> None:
        self._p = psutil.Process()
        self._t0 = self._p.cpu_times()
        self.seconds = 0.0

    def stop(self) -> float:
        t = self._p.cpu_times()
        self.seconds = (t.user - self._t0.user) + (t.system - self._t0.system)
        return self.seconds


def server_pids(sessions: list[Any]) -> list[int]:
    """pids of stdio server processes behind these sessions (HTTP targets have none we can see)."""
    pids = []
    for s in sessions:
        proc = getattr(s.transport, "proc", None)
        if proc is not None and getattr(proc, "pid", None):
            pids.append(proc.pid)
    return pids

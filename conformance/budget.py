"""The run's time budget (`--max-time`) and what the run is doing now (for the progress display).

One `RunState` per run, made current with `use(state)` (a context variable, so campaign threads
and their event loops see it too). The session asks `check()` before every request and waits at
most `remaining()` for an answer: when the budget is used up it raises `OutOfTime`, so every
campaign stops at its next step whatever loop it is in. The runner catches it, notes what was
cut, and the report is written with what was judged. `OutOfTime` is a BaseException so that no
`except Exception` on the way (Hypothesis' engine included) mistakes it for a test failure.

Low layer: imports nothing from mcpcheck.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator


class OutOfTime(BaseException):
    """The run's --max-time is used up: stop at this step."""


def caused_by(exc: BaseException | None, kind: type) -> bool:
    """Is `exc`, or anything it was raised from, in its context or in its group, a `kind`?"""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return True
        todo += [e.__cause__, e.__context__, *getattr(e, "exceptions", ())]
    return False


def out_of_time(exc: BaseException | None) -> bool:
    """Was this exception caused by OutOfTime? (Hypothesis may wrap one raised mid-draw in its
    own error, e.g. FlakyStrategyDefinition, with the OutOfTime as its context.)"""
    return caused_by(exc, OutOfTime)


@dataclass
class Activity:
    """One campaign's line in the progress display."""

    target: str
    campaign: str
    state: str = "waiting"  # waiting, running, done, cut, error
    doing: str = ""
    done: int = 0  # examples (calls, probes, steps) done in the current unit of work
    planned: int = 0
    findings: int = 0


@dataclass
class RunState:
    """The budget and the activity of one run (read by the progress display from another thread)."""

    max_time: float | None = None
    started: float = field(default_factory=time.monotonic)
    activities: list[Activity] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)
    current: Activity | None = None
    findings: Callable[[], int] = lambda: 0  # findings so far in the current campaign
    changed: threading.Event = field(default_factory=threading.Event)

    # ------------------------------------------------------------ budget
    @property
    def deadline(self) -> float:
        return self.started + self.max_time if self.max_time else math.inf

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        if self.expired:
            raise OutOfTime()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def cut(self, note: str) -> None:
        if note not in self.cuts:
            self.cuts.append(note)

    # ------------------------------------------------------------ activity
    def begin(self, target: str, campaign: str) -> Activity:
        act = next((a for a in self.activities if a.target == target and a.campaign == campaign and a.state == "waiting"), None)
        if act is None:
            act = Activity(target, campaign)
            self.activities.append(act)
        act.state = "running"
        self.current = act
        self.changed.set()
        return act

    def plan(self, target: str, campaigns: list[str]) -> None:
        """Show every campaign of a target as waiting before it starts."""
        for c in campaigns:
            self.activities.append(Activity(target, c))

    def doing(self, what: str, *, done: int | None = None, planned: int | None = None) -> None:
        act = self.current
        if act is None:
            return
        act.doing = " ".join(what.split())
        if planned is not None:
            act.planned, act.done = planned, 0 if done is None else done
        elif done is not None:
            act.done = done
        self.changed.set()

    def tick(self, n: int = 1) -> None:
        """n more examples done in the current unit of work."""
        if self.current is not None:
            self.current.done += n

    def end(self, state: str = "done") -> None:
        act = self.current
        if act is not None:
            act.state = state
            act.findings = self.findings()
        self.current = None
        self.changed.set()


_current: contextvars.ContextVar[RunState] = contextvars.ContextVar("mcpcheck_run_state")
UNBOUNDED = RunState()  # outside a run: no budget (never record activity on it)


def current() -> RunState:
    """The current run's state (UNBOUNDED outside a run)."""
    return _current.get(UNBOUNDED)


@contextlib.contextmanager
def use(state: RunState) -> Iterator[RunState]:
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)

"""What a person sees while mcpcheck runs: progress on stderr, then a summary on stdout.

On a terminal the current step is one live status line (rich) and `log()` lines stay above it;
anywhere else (CI, a pipe) every step is a plain `[HH:MM:SS] message` line, so logs read well.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Sequence

from .markdown import check_counts, describe, server_name, verdict
from .model import RunReport

MAX_LISTED = 20  # findings listed on stdout; the rest are in the reports


def _stamp(message: str) -> str:
    return f"[{time.strftime('%H:%M:%S')}] {' '.join(message.split())}"


HEARTBEAT = 5.0  # seconds: the longest stretch without a line in CI / a pipe (a line comes before it)


class Progress:
    """`with Progress() as progress: progress("step")`; `progress.log("kept line")`.

    With a budget.RunState (`state=`): on a terminal a live table, one row per campaign (what it
    is doing, examples done / planned, findings so far) under the time left in the budget; in CI
    or a pipe a plain status line whenever 4 s pass without one, so no stretch of more than 5 s
    is silent however long a step takes."""

    def __init__(self, stream: IO[str] | None = None, *, tty: bool | None = None, quiet: bool = False, state: Any = None, heartbeat: float = HEARTBEAT) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet = quiet
        self.state = state
        self.heartbeat = heartbeat
        self.steps = 0
        self._console = None
        self._status = None
        self._live = None
        self._last = time.monotonic()
        self._message = "starting"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Progress":
        if self.quiet:
            return self
        if self.tty:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False, markup=False)
            if self.state is not None:
                from rich.live import Live

                self._live = Live(_Board(self), console=self._console, refresh_per_second=4, transient=False)
                self._live.start()
            else:
                self._status = self._console.status("starting", spinner="dots")
                self._status.start()
        elif self.state is not None:
            self._thread = threading.Thread(target=self._beat, name="mcpcheck-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __call__(self, message: str) -> None:
        """A new step: replaces the status line on a terminal, one timestamped line elsewhere."""
        self.steps += 1
        self._message = " ".join(message.split())
        if self.quiet:
            return
        if self._status is not None:
            from rich.text import Text

            self._status.update(Text(self._message))
        elif self._live is None:
            self._write(_stamp(message))

    def log(self, message: str) -> None:
        """A line that stays (a note or a warning), above the status line on a terminal."""
        if self.quiet:
            return
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text(_stamp(message)))
        else:
            self._write(_stamp(message))

    def _write(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last = time.monotonic()

    # ------------------------------------------------------------ CI / pipe heartbeat
    def _beat(self) -> None:
        """A status line whenever 4/5 of the heartbeat passed without a line."""
        while not self._stop.wait(0.25):
            if time.monotonic() - self._last >= self.heartbeat * 0.8:
                self._write(_stamp("... " + self.status_line()))

    def status_line(self) -> str:
        """What the run is doing now, in one line: step, examples, findings, time left."""
        state = self.state
        parts = [self._message]
        act = getattr(state, "current", None) if state is not None else None
        if act is not None:
            if act.planned:
                parts.append(f"{act.done}/{act.planned} examples")
            try:
                parts.append(f"{state.findings()} findings so far")
            except Exception:  # noqa: BLE001 - a display must never fail the run
                pass
        elif state is not None:  # --jobs: every unit that is running (mcpcheck/jobs.py)
            running = [a for a in list(state.activities) if a.state == "running"]
            if running:
                parts.append("running: " + ", ".join(f"{a.target} {a.campaign}" + (f" {a.done}/{a.planned}" if a.planned else "") for a in running))
                parts.append(f"{sum(a.findings for a in state.activities)} findings so far")
        if state is not None:
            parts.append(f"{state.elapsed():.0f}s elapsed")
            if state.max_time:
                parts.append(f"{max(0.0, state.remaining()):.0f}s left of --max-time {state.max_time:g}s")
        return "; ".join(parts)


class _Board:
    """The live table on a terminal (rich renders it 4 times a second)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        from rich.table import Table

        state = self.progress.state
        head = f"{state.elapsed():.0f}s elapsed"
        if state.max_time:
            head += f", {max(0.0, state.remaining()):.0f}s left of --max-time {state.max_time:g}s"
        table = Table(title=head, title_justify="left", show_edge=False, pad_edge=False, expand=False)
        for col in ("target", "campaign", "state", "examples", "findings", "doing"):
            table.add_column(col, no_wrap=col != "doing", overflow="ellipsis")
        for act in list(state.activities):
            running = act is state.current
            findings = act.findings
            if running:
                try:
                    findings = state.findings()
                except Exception:  # noqa: BLE001
                    pass
            examples = f"{act.done}/{act.planned}" if act.planned else (str(act.done) if act.done else "")
            doing = act.doing if running or act.state in ("running", "cut", "error") else ""
            table.add_row(act.target, act.campaign, act.state, examples, str(findings) if act.state != "waiting" else "", doing[-100:])
        return table


def summary_lines(report: RunReport, written: Sequence[Path | str]) -> list[str]:
    lines = []
    for t in report.targets:
        server = server_name(t)
        lines.append(f"{t.name} ({describe(t)})" + (f": {server}" if server != "-" else ""))
        if t.error:
            lines.append(f"  could not be tested: {t.error}")
        else:
            lines.append(f"  eras tested: {', '.join(t.eras) or 'none'}; {len(t.tools)} tools; {t.duration_s:g} s")
    s = report.summary
    lines.append(f"checks: {s.checks_run} run ({check_counts(report)}), {s.checks_skipped} skipped")
    by_sev = ", ".join(f"{n} {name}" for name, n in reversed(s.findings_by_severity.items()) if n)
    lines.append(f"findings: {len(report.findings)}" + (f" ({by_sev})" if by_sev else "") + f"; observations: {s.observations}")
    for f in report.findings[:MAX_LISTED]:
        where = f"{f.target} [{f.revision}]" if f.revision else f.target
        lines.append(f"  {f.severity.value:<8} {f.check}  {where}: {' '.join(f.detail.split())}")
    if len(report.findings) > MAX_LISTED:
        lines.append(f"  ... and {len(report.findings) - MAX_LISTED} more (see the reports)")
    if written:
        lines.append(f"reports: {', '.join(str(p) for p in written)}")
    return lines


def print_summary(report: RunReport, written_paths: Sequence[Path | str], quiet: bool = False) -> None:
    """The run's summary on stdout, ending with the verdict line; only that line with quiet."""
    label, why = verdict(report)
    from .executive import console_lines  # executive summary first: status, score, what to fix first

    lines = [] if quiet else [*console_lines(report), *summary_lines(report, written_paths)]
    text = "\n".join([*lines, f"{label}: {why}"]) + "\n"
    out = sys.stdout
    encoding = getattr(out, "encoding", None) or "utf-8"
    out.write(text.encode(encoding, "backslashreplace").decode(encoding))
    out.flush()

"""What a person sees while mcpcheck runs: progress on stderr, then a summary on stdout.

On a terminal the current step is one live status line (rich) and `log()` lines stay above it;
anywhere else (CI, a pipe) every step is a plain `[HH:MM:SS] message` line, so logs read well.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Sequence

from .markdown import check_counts, describe, server_name, verdict
from .model import RunReport

MAX_LISTED = 20  # findings listed on stdout; the rest are in the reports


def _stamp(message: str) -> str:
    return f"[{time.strftime('%H:%M:%S')}] {' '.join(message.split())}"


class Progress:
    """`with Progress() as progress: progress("step")`; `progress.log("kept line")`."""

    def __init__(self, stream: IO[str] | None = None, *, tty: bool | None = None, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet = quiet
        self.steps = 0
        self._console = None
        self._status = None

    def __enter__(self) -> "Progress":
        if self.tty and not self.quiet:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False, markup=False)
            self._status = self._console.status("starting", spinner="dots")
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __call__(self, message: str) -> None:
        """A new step: replaces the status line on a terminal, one timestamped line elsewhere."""
        self.steps += 1
        if self.quiet:
            return
        if self._status is not None:
            from rich.text import Text

            self._status.update(Text(" ".join(message.split())))
        else:
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
        self.stream.write(line + "\n")
        self.stream.flush()


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

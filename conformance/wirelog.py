"""The WireLog: every byte that crossed the wire, in order, raw and parsed.

Checks are pure functions over what was recorded here, and every Finding's evidence is a slice
of it, so nothing a report says can disagree with what actually happened on the wire.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

Direction = Literal["out", "in"]
# "stdout"/"stdin"/"stderr" for stdio; "http" for bodies; "sse" for events on a stream;
# "event" for things the engine observed that are not messages (process exit, timeout).
Channel = Literal["stdin", "stdout", "stderr", "http", "sse", "event"]

_NOT_PARSED = object()


@dataclass
class WireEntry:
    seq: int
    t: float  # seconds since the log started (monotonic)
    direction: Direction
    channel: Channel
    raw: str  # exactly what was sent/received (decoded as UTF-8 with replacement)
    parsed: Any = None  # the JSON value, or None when `raw` is not JSON
    parse_error: str | None = None
    http: dict[str, Any] | None = None  # method, url, status, headers for HTTP exchanges
    note: str | None = None

    @property
    def is_json(self) -> bool:
        return self.parse_error is None and self.channel not in ("stderr", "event")

    def to_dict(self, limit: int = 2000) -> dict[str, Any]:
        raw = self.raw if len(self.raw) <= limit else self.raw[:limit] + f"... [{len(self.raw)} chars]"
        out: dict[str, Any] = {
            "seq": self.seq,
            "t": round(self.t, 6),
            "direction": self.direction,
            "channel": self.channel,
            "raw": raw,
        }
        if self.http:
            out["http"] = self.http
        if self.parse_error:
            out["parse_error"] = self.parse_error
        if self.note:
            out["note"] = self.note
        return out


def parse_json(raw: str) -> tuple[Any, str | None]:
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as exc:
        return None, str(exc)


@dataclass
class WireLog:
    entries: list[WireEntry] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    max_raw: int = 1_000_000  # keep memory bounded when fuzzing with oversized payloads

    def record(
        self,
        direction: Direction,
        channel: Channel,
        raw: str | bytes,
        *,
        parsed: Any = _NOT_PARSED,
        http: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> WireEntry:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        error = None
        if parsed is _NOT_PARSED:
            if channel in ("stderr", "event"):
                parsed = None
            else:
                parsed, error = parse_json(raw)
        if len(raw) > self.max_raw:
            raw = raw[: self.max_raw] + f"... [truncated, {len(raw)} chars]"
        entry = WireEntry(
            seq=len(self.entries),
            t=time.monotonic() - self.started,
            direction=direction,
            channel=channel,
            raw=raw,
            parsed=parsed,
            parse_error=error,
            http=http,
            note=note,
        )
        self.entries.append(entry)
        return entry

    def mark(self) -> int:
        """A position to slice from later (`since(mark)`)."""
        return len(self.entries)

    def since(self, mark: int) -> list[WireEntry]:
        return self.entries[mark:]

    def messages(self, direction: Direction | None = None) -> Iterable[WireEntry]:
        for e in self.entries:
            if e.channel in ("stderr", "event"):
                continue
            if direction is None or e.direction == direction:
                yield e

    def stderr_text(self, limit: int = 4000) -> str:
        text = "".join(e.raw for e in self.entries if e.channel == "stderr")
        return text[-limit:]

    def to_list(self, limit: int = 2000) -> list[dict[str, Any]]:
        return [e.to_dict(limit) for e in self.entries]

"""A strict, incremental Server-Sent Events parser (WHATWG HTML §9.2.6 "event stream interpretation").

It yields every event the way a browser would dispatch it, and additionally notes everything a
lenient parser would silently swallow (invalid UTF-8, unknown field names, a non-numeric
`retry`, an event cut off by the end of the stream), so the HTTP checks can judge strictness
(spec-digest H5/HS4) without re-parsing. Comments (`:` lines, keep-alives) and priming events
(an `id` with empty `data`) are normal and are never problems.

Pure: no I/O. Feed it bytes, get events.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

KNOWN_FIELDS = ("event", "data", "id", "retry")
_EOL = re.compile(r"\r\n|\r|\n")


@dataclass
class SseEvent:
    """One dispatched event (or a field block without data, e.g. a bare `retry:` / `id:`)."""

    event: str = "message"  # the event type; an absent or empty `event:` means "message"
    data: str = ""
    id: str | None = None  # the `id` field seen in this block (None if the block had none)
    last_id: str | None = None  # the stream's last-event-id after this block
    retry: int | None = None
    has_data: bool = False  # at least one `data` line: the browser would dispatch it
    raw: str = ""  # the block's lines as received (comments excluded), for evidence
    problems: list[str] = field(default_factory=list)

    @property
    def is_priming(self) -> bool:
        """No payload: a priming event (id + empty data), a bare retry, or an empty keep-alive."""
        return not self.data.strip()


class SseParser:
    def __init__(self, *, max_line: int = 64 * 1024 * 1024) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._lenient = False
        self._buf = ""
        self._started = False
        self._pending_cr = False
        self.max_line = max_line
        self.comments = 0
        self.bytes = 0
        self.events = 0
        self.problems: list[str] = []  # stream-level problems (not tied to one event)
        self.last_id: str | None = None
        self._reset_block()

    # ------------------------------------------------------------------ block state
    def _reset_block(self) -> None:
        self._event_type = ""
        self._data: list[str] = []
        self._has_data = False
        self._block_id: str | None = None
        self._retry: int | None = None
        self._block_lines: list[str] = []
        self._block_problems: list[str] = []
        self._any_field = False

    # ------------------------------------------------------------------ feeding
    def feed(self, chunk: bytes) -> list[SseEvent]:
        self.bytes += len(chunk)
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError:
            if not self._lenient:
                self.problems.append("the event stream is not valid UTF-8")
                self._lenient = True
                self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
            text = self._decoder.decode(chunk)
        return self._text(text)

    def close(self) -> list[SseEvent]:
        """End of stream: flush the decoder; an unterminated event is discarded (as a browser
        would) and noted as a problem."""
        try:
            tail = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            self.problems.append("the event stream ends inside a UTF-8 sequence")
            tail = ""
        events = self._text(tail)
        if self._pending_cr:
            self._pending_cr = False
        if self._buf:
            # A last line without its terminator: process it, then the block is incomplete.
            events += self._line(self._buf)
            self._buf = ""
        if self._any_field:
            what = "data" if self._has_data else "fields"
            self.problems.append(
                f"the stream ended in the middle of an event ({what} not followed by a blank line); "
                "clients discard such an event"
            )
            self._reset_block()
        return events

    def _text(self, text: str) -> list[SseEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._pending_cr:
            self._pending_cr = False
            if text.startswith("\n"):
                text = text[1:]
        out: list[SseEvent] = []
        pending = self._buf
        pos = 0
        for m in _EOL.finditer(text):
            line = pending + text[pos : m.start()]
            pending = ""
            if m.group() == "\r" and m.end() == len(text):
                self._pending_cr = True  # maybe a CRLF split across chunks
            out += self._line(line)
            pos = m.end()
        self._buf = pending + text[pos:]
        if len(self._buf) > self.max_line:
            self.problems.append(f"a line longer than {self.max_line} characters")
            self._buf = ""
        return out

    def _line(self, line: str) -> list[SseEvent]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return []
        self._block_lines.append(line)
        self._any_field = True
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            self._event_type = value
        elif name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "id":
            if "\0" in value:
                self._block_problems.append("an id field containing NUL (ignored by clients)")
            else:
                self._block_id = value
                self.last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
            else:
                self._block_problems.append(f"a retry field that is not an integer: {value[:40]!r} (ignored by clients)")
        else:
            shown = name if len(name) <= 40 else name[:40] + "..."
            self._block_problems.append(f"an unknown field {shown!r} (ignored by clients)")
        return []

    def _dispatch(self) -> list[SseEvent]:
        if not self._any_field:
            self._reset_block()
            return []
        ev = SseEvent(
            event=self._event_type or "message",
            data="\n".join(self._data),
            id=self._block_id,
            last_id=self.last_id,
            retry=self._retry,
            has_data=self._has_data,
            raw="\n".join(self._block_lines),
            problems=list(self._block_problems),
        )
        self.events += 1
        self._reset_block()
        return [ev]


def parse_sse(data: bytes | str) -> tuple[list[SseEvent], list[str]]:
    """Parse a complete stream at once: (events, stream-level problems)."""
    p = SseParser()
    events = p.feed(data.encode("utf-8") if isinstance(data, str) else data)
    events += p.close()
    return events, p.problems

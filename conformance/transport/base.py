"""What every transport offers the session: move JSON-RPC messages (or raw bytes), know nothing of MCP.

Incoming messages are WireEntry objects pushed onto `incoming`; `None` on that queue means the
transport is gone (process exited, stream closed) and `closed_reason` says why.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from typing import Any

from ..wirelog import WireEntry, WireLog


class TransportError(Exception):
    """The target could not be started or reached (exit code 2 territory)."""


def encode(message: Any) -> bytes:
    """One JSON-RPC message as one line: compact, UTF-8, no embedded newline. A message holding a
    lone surrogate (odd-unicode fuzzing) is sent ensure_ascii ("\\ud800"): UTF-8 cannot carry one,
    and raw surrogate bytes would test the server's UTF-8 decoder, not its handling of the string."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class Transport(ABC):
    kind: str = "abstract"

    def __init__(self, wirelog: WireLog | None = None) -> None:
        self.wirelog = wirelog if wirelog is not None else WireLog()
        self.incoming: asyncio.Queue[WireEntry | None] = asyncio.Queue()
        self.closed_reason: str | None = None
        self.closing = False  # close() has begun: whatever ends the transport now is mcpcheck's doing
        # Set by the session once the era is known; HTTP transports derive headers from them.
        self.protocol_version: str | None = None
        self.stateless: bool = False

    @property
    def alive(self) -> bool:
        return self.closed_reason is None

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def send(self, message: dict[str, Any]) -> WireEntry:
        """Send one JSON-RPC message; returns the recorded outgoing entry."""

    @abstractmethod
    async def send_raw(self, data: bytes, *, note: str | None = None) -> WireEntry:
        """Send bytes that need not be valid JSON-RPC (the fuzzer's door)."""

    @abstractmethod
    async def close(self) -> None: ...

    def abandon(self, request_id: Any) -> None:
        """The session stopped waiting for the response to `request_id` (its deadline passed).
        Transports that hold per-request resources (an HTTP POST) release them; stdio has none."""

    def describe(self) -> str:
        return self.kind

    def _gone(self, reason: str) -> None:
        if self.closing and not reason.startswith("closed by mcpcheck"):
            reason = f"closed by mcpcheck ({reason})"
        if self.closed_reason is None:
            self.closed_reason = reason
            self.wirelog.record("in", "event", reason, note="transport closed")
            self.incoming.put_nowait(None)

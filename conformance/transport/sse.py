"""Legacy HTTP+SSE transport (2024-11-05; deprecated since 2025-03-26, spec-digest §4.4).

GET the SSE URL and keep the stream open; its first event MUST be `endpoint`, whose data is the
URI (relative URIs resolve against the SSE URL) to POST client messages to. POSTs are expected
to be answered 202/200; server messages, responses included, arrive as `message` events on the
stream, are recorded (channel "sse") and pushed on `incoming`. Everything is recorded; a stream
that does not start with `endpoint` is a TransportError that says so.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from ..wirelog import WireEntry
from .base import Transport, TransportError, encode
from .http import (
    JSON,
    MAX_SSE_BYTES,
    MAX_SSE_EVENTS,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    SSE,
    _pick,
    check_reachable,
    media_type,
    merge_headers,
)
from .sse_parse import SseEvent, SseParser


class LegacySseTransport(Transport):
    kind = "sse"
    on_unanswered: Callable[[Any, str, WireEntry | None], None] | None = None

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0, wirelog=None) -> None:
        super().__init__(wirelog)
        self.url = url
        self.user_headers: dict[str, str] = dict(headers or {})
        self.timeout = timeout
        self.endpoint: str | None = None
        self._client: httpx.AsyncClient | None = None
        self._stream_cm: Any = None
        self._response: httpx.Response | None = None
        self._events: Any = None  # async iterator of (SseEvent, info)
        self._reader: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._info: dict[str, Any] = {}
        self._parser = SseParser()

    def describe(self) -> str:
        return f"sse: {self.url}"

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._client is not None:
            return
        await check_reachable(self.url, min(self.timeout, 10.0))
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=True)
        try:
            await asyncio.wait_for(self._open(), self.timeout)
        except asyncio.TimeoutError as exc:
            await self._shutdown()
            raise TransportError(f"{self.url}: no `endpoint` event within {self.timeout:g}s of opening the SSE stream") from exc
        except TransportError:
            await self._shutdown()
            raise
        except httpx.HTTPError as exc:
            await self._shutdown()
            raise TransportError(f"cannot open the SSE stream at {self.url}: {type(exc).__name__}: {exc}") from exc
        self._reader = asyncio.create_task(self._read_loop())

    async def _open(self) -> None:
        assert self._client is not None
        headers = merge_headers(self.user_headers, {"Accept": SSE})
        out = self.wirelog.record("out", "http", "", parsed=None, http={"method": "GET", "url": self.url, "headers": _pick(headers, REQUEST_HEADERS)}, note="open SSE stream")
        self._stream_cm = self._client.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(self.timeout, read=None))
        resp = await self._stream_cm.__aenter__()
        self._response = resp
        self._info = {"method": "GET", "url": str(resp.url), "status": resp.status_code, "headers": _pick(resp.headers, RESPONSE_HEADERS), "request_seq": out.seq}
        ct = media_type(resp.headers.get("content-type"))
        if resp.status_code != 200 or ct != SSE:
            body = (await _read_some(resp)).decode("utf-8", "replace")
            self.wirelog.record("in", "http", body, http=self._info)
            raise TransportError(
                f"GET {self.url} answered HTTP {resp.status_code} ({resp.headers.get('content-type') or 'no Content-Type'}); "
                "a 2024-11-05 HTTP+SSE server answers with an event stream whose first event is `endpoint`"
                + (" (is this a Streamable HTTP endpoint? try --transport http)" if resp.status_code in (400, 405, 406) else "")
            )
        self._events = self._iter_events(resp).__aiter__()
        while True:
            try:
                ev = await self._events.__anext__()
            except StopAsyncIteration:
                raise TransportError(f"the SSE stream at {self.url} closed before its `endpoint` event") from None
            if ev.is_priming and ev.event == "message":
                self._record(ev, note="sse priming/empty event before endpoint")
                continue
            break
        if ev.event != "endpoint":
            self._record(ev)
            raise TransportError(
                f"the first SSE event from {self.url} is {ev.event!r} (data {ev.data[:80]!r}), not `endpoint`: "
                "2024-11-05 HTTP+SSE requires the endpoint event first (is this a Streamable HTTP URL? try --transport http)"
            )
        self._record(ev, note="endpoint event")
        uri = ev.data.strip()
        if not uri:
            raise TransportError(f"the `endpoint` event from {self.url} carries no URI")
        endpoint = urljoin(self.url, uri)
        a, b = urlsplit(self.url), urlsplit(endpoint)
        if b.scheme not in ("http", "https"):
            raise TransportError(f"the `endpoint` event from {self.url} names {uri!r}, not an http(s) URI")
        if (a.scheme, a.hostname, a.port) != (b.scheme, b.hostname, b.port):
            raise TransportError(f"the `endpoint` event from {self.url} points at another origin ({endpoint}); mcpcheck only POSTs to the SSE server's own origin")
        self.endpoint = endpoint
        self.wirelog.record("in", "event", f"endpoint: {endpoint}")

    async def _iter_events(self, resp: httpx.Response):
        async for chunk in resp.aiter_bytes():
            for ev in self._parser.feed(chunk):
                yield ev
            if self._parser.events > MAX_SSE_EVENTS * 10 or self._parser.bytes > MAX_SSE_BYTES * 4:
                self.wirelog.record("in", "event", "SSE: stream too long; closed by mcpcheck", note="sse-closed")
                return
        for ev in self._parser.close():
            yield ev

    def _record(self, ev: SseEvent, note: str | None = None) -> WireEntry:
        sse: dict[str, Any] = {"event": ev.event}
        if ev.id is not None:
            sse["id"] = ev.id
        if ev.retry is not None:
            sse["retry"] = ev.retry
        if ev.problems:
            sse["problems"] = ev.problems
        http = {**self._info, "sse": sse}
        if ev.is_priming or ev.event == "endpoint":
            return self.wirelog.record("in", "sse", ev.data, parsed=None, http=http, note=note)
        if note is None and ev.event != "message":
            note = f"sse event type {ev.event!r}"
        return self.wirelog.record("in", "sse", ev.data, http=http, note=note)

    async def _read_loop(self) -> None:
        reason = "the server closed the SSE stream"
        try:
            async for ev in self._events:
                if ev.is_priming:
                    self._record(ev, note="sse priming/empty event")
                    continue
                entry = self._record(ev)
                if ev.event == "message" and entry.parse_error is None:
                    self.incoming.put_nowait(entry)
        except asyncio.CancelledError:
            raise
        except httpx.HTTPError as exc:
            reason = f"the SSE stream broke: {type(exc).__name__}: {exc}"
        for problem in self._parser.problems:
            self.wirelog.record("in", "event", f"SSE: {problem}", http=dict(self._info), note="sse-problem")
        self._parser.problems.clear()
        self._gone(reason)

    async def close(self) -> None:
        self.closing = True
        for task in list(self._tasks):
            task.cancel()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await asyncio.wait_for(self._reader, 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                pass
        await self._shutdown()
        self._gone(self.closed_reason or "closed by mcpcheck")

    async def _shutdown(self) -> None:
        if self._stream_cm is not None:
            try:
                await self._stream_cm.__aexit__(None, None, None)
            except Exception:
                pass
            self._stream_cm = None
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # ------------------------------------------------------------------ sending
    async def send(self, message: dict[str, Any]) -> WireEntry:
        return await self._post(encode(message), parsed=message)

    async def send_raw(self, data: bytes, *, note: str | None = None) -> WireEntry:
        return await self._post(data, note=note)

    async def _post(self, data: bytes, *, parsed: Any = None, note: str | None = None) -> WireEntry:
        if self._client is None or self.endpoint is None or not self.alive:
            raise TransportError(self.closed_reason or "transport not started")
        headers = merge_headers(self.user_headers, {"Content-Type": JSON})
        http = {"method": "POST", "url": self.endpoint, "headers": _pick(headers, REQUEST_HEADERS)}
        if parsed is None:
            out = self.wirelog.record("out", "http", data, http=http, note=note)
        else:
            out = self.wirelog.record("out", "http", data, parsed=parsed, http=http, note=note)
        task = asyncio.create_task(self._post_task(data, headers, out))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return out

    async def _post_task(self, data: bytes, headers: dict[str, str], out: WireEntry) -> None:
        assert self._client is not None and self.endpoint is not None
        message = out.parsed
        is_request = isinstance(message, dict) and "method" in message and "id" in message
        entry: WireEntry | None = None
        problem: str | None = None
        try:
            resp = await asyncio.wait_for(self._client.post(self.endpoint, content=data, headers=headers), self.timeout)
            info = {"method": "POST", "url": str(resp.url), "status": resp.status_code, "headers": _pick(resp.headers, RESPONSE_HEADERS), "request_seq": out.seq}
            body = resp.content
            entry = self.wirelog.record("in", "http", body, parsed=None, http=info, note=f"HTTP {resp.status_code}")
            if body:
                try:
                    entry.parsed = json.loads(body)
                except ValueError:
                    entry.parsed = None  # "Accepted" and friends: not a message, not a defect
            if isinstance(entry.parsed, dict) and ("result" in entry.parsed or "error" in entry.parsed):
                self.incoming.put_nowait(entry)  # some servers answer inline; let the session see it
            if not 200 <= resp.status_code < 300:
                problem = f"POST {self.endpoint} answered HTTP {resp.status_code}: {body[:120]!r}"
        except asyncio.TimeoutError:
            problem = f"POST {self.endpoint} got no HTTP answer within {self.timeout:g}s"
            entry = self.wirelog.record("in", "event", problem, http={"method": "POST", "url": self.endpoint, "request_seq": out.seq})
        except httpx.HTTPError as exc:
            problem = f"POST {self.endpoint} failed: {type(exc).__name__}: {exc}"
            entry = self.wirelog.record("in", "event", problem, http={"method": "POST", "url": self.endpoint, "request_seq": out.seq})
        if problem and is_request and self.on_unanswered is not None:
            inline = entry is not None and isinstance(entry.parsed, dict) and str(entry.parsed.get("id")) == str(message.get("id"))
            if not inline:
                self.on_unanswered(message.get("id"), problem, entry)


async def _read_some(resp: httpx.Response, limit: int = 4096) -> bytes:
    out = b""
    try:
        async for chunk in resp.aiter_bytes():
            out += chunk
            if len(out) >= limit:
                break
    except httpx.HTTPError:
        pass
    return out[:limit]

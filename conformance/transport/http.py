"""Streamable HTTP transport (2025-03-26 .. 2025-11-25 session era, 2026-07-28 stateless era).

Every JSON-RPC message is its own POST, sent from a background task so that concurrent requests
overlap; `send()` returns the recorded outgoing entry at once. A POST is answered with one JSON
object, an SSE stream (parsed strictly: `:` comments, priming events and `retry:` are normal), or
`202` with no body. Every message that comes back is recorded in the WireLog (channel "http" for
a body, "sse" for an event) with the HTTP status and the headers that matter, and is pushed on
`incoming` for the session to correlate by id. Nothing is ever invented: a POST for a request
that came back without that request's response (a 500 page, a 202, an id-less error) is
recorded, and the session is told through `on_unanswered` so it stops waiting at once instead
of running into its timeout.

The session owns the deadline of every request it sends (progress-aware, then a grace period:
see session.py): the POST of a request sent with `send()` has no read timeout and no whole-POST
limit of its own but a generous backstop (`owned_ceiling`), and it is closed when the session
calls `abandon(id)`. A long call that streams progress is therefore never cut off here and turned
into a transport error (a false "crash": issue 12); a request the session gave up on is
closed, recorded, and never reported to the session as unanswered.

Session era: the `Mcp-Session-Id` of the initialize response is sent on every later request,
with `MCP-Protocol-Version: <negotiated>`; `close()` ends the session with DELETE. Stateless era
(`stateless` set by the session): `MCP-Protocol-Version` (mirroring the body's `_meta` version),
`Mcp-Method` and, for tools/call, resources/read and prompts/get, `Mcp-Name`, never a session id;
a tools/call of a tool whose inputSchema carries `x-mcp-header` annotations also mirrors those
arguments as `Mcp-Param-<Name>` headers (the schemas are learnt from the tools/list answers that
pass through the transport: `param_schemas`).

`http()` is the door for the HTTP checks: one arbitrary request (method, body, headers) against
the endpoint, recorded like everything else, returned as a `RawHttp` and never pushed to the
session.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from ..wirelog import WireEntry
from .base import Transport, TransportError, encode
from .param_headers import KEY as X_MCP_HEADER
from .param_headers import param_headers
from .sse_parse import SseParser

ACCEPT_BOTH = "application/json, text/event-stream"
JSON = "application/json"
SSE = "text/event-stream"

# Response headers kept in the WireLog (everything else is noise for the checks).
RESPONSE_HEADERS = (
    "content-type",
    "content-length",
    "mcp-session-id",
    "mcp-protocol-version",
    "www-authenticate",
    "allow",
    "location",
    "retry-after",
    "x-accel-buffering",
    "cache-control",
    "access-control-allow-origin",
)
# Request headers kept in the WireLog (never Authorization or cookies: no secrets in reports).
REQUEST_HEADERS = (
    "accept",
    "content-type",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "origin",
    "host",
    "last-event-id",
)
SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization", "x-api-key")

META_VERSION = "io.modelcontextprotocol/protocolVersion"
NAME_BEARING = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}

MAX_BODY = 64 * 1024 * 1024  # bytes of one JSON body we read (oversized-response fuzzing)
MAX_SSE_EVENTS = 10_000  # events on one stream before mcpcheck closes it
MAX_SSE_BYTES = 64 * 1024 * 1024
LINGER = 1.0  # seconds a POST's SSE stream may stay open after its response arrived
# The backstop of a request POST whose deadline the session owns: this many times the timeout
# (at least 10 minutes). The session abandons the POST long before, on any sane timeout.
GONE_CONFIRM = 0.2  # seconds between the two failed TCP connects that confirm a server is gone
OWNED_CEILING_FACTOR = 20.0
OWNED_CEILING_MIN = 600.0

class _NoId:
    """Marks 'no request id to wait for' (None is a real, if invalid, JSON-RPC id)."""

    def __repr__(self) -> str:
        return "<no id>"


_NO_ID: Any = _NoId()

_SENTINEL = re.compile(r"^=\?base64\?(.*)\?=$")
_HEADER_SAFE = re.compile(r"^[\x20-\x7e]*$")


# --------------------------------------------------------------------------- header values


def encode_header_value(value: str) -> str:
    """2026-07-28 Value Encoding: plain when the value is printable ASCII without leading or
    trailing whitespace and does not itself look like the sentinel; otherwise
    `=?base64?<base64 of the UTF-8 bytes>?=`."""
    if _HEADER_SAFE.match(value) and value == value.strip(" \t") and not _SENTINEL.match(value):
        return value
    return "=?base64?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii") + "?="


def decode_header_value(value: str) -> str | None:
    m = _SENTINEL.match(value)
    if not m:
        return value
    try:
        return base64.b64decode(m.group(1), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def merge_headers(base: Mapping[str, str], overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """Case-insensitive merge; the override's spelling of a name wins, a None value removes it."""
    out = dict(base)
    for name, value in (overrides or {}).items():
        for k in [k for k in out if k.lower() == name.lower()]:
            del out[k]
        if value is not None:
            out[name] = value
    return out


def _pick(headers: Mapping[str, str] | httpx.Headers, names: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    for k, v in items:
        lk = k.lower()
        if lk in names or lk.startswith("mcp-param-"):
            out[lk] = f"{out[lk]}, {v}" if lk in out else v
        elif lk in SECRET_HEADERS:
            out[lk] = "<redacted>"
    return out


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    x: BaseException | None = exc
    while x is not None and seen < 10:
        if isinstance(x, kind):
            return True
        x, seen = x.__cause__ or x.__context__, seen + 1
    return False


def _all_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers.multi_items():
        lk = k.lower()
        out[lk] = f"{out[lk]}, {v}" if lk in out else v
    return out


async def check_reachable(url: str, timeout: float) -> None:
    """A plain TCP connect to the URL's host and port: the cheapest question that tells
    'nothing listens there' apart from everything else, without sending a byte of HTTP."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url!r}")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TransportError(f"bad port in URL {url!r}: {exc}") from exc
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError as exc:
        raise TransportError(f"cannot reach {url}: connection refused") from exc
    except socket.gaierror as exc:
        raise TransportError(f"cannot reach {url}: cannot resolve host {host!r}") from exc
    except asyncio.TimeoutError as exc:
        raise TransportError(f"cannot reach {url}: no TCP connection within {timeout:g}s") from exc
    except OSError as exc:
        raise TransportError(f"cannot reach {url}: {exc.strerror or exc}") from exc
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass


# --------------------------------------------------------------------------- raw exchanges


@dataclass
class RawHttp:
    """One HTTP request/response as the checks see it."""

    method: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # every response header, lower-case names
    body: str = ""  # the JSON body, or the SSE stream's event data joined by newlines
    messages: list[Any] = field(default_factory=list)  # JSON values received (JSON body or SSE data)
    entries: list[WireEntry] = field(default_factory=list)  # request entry first, then what came back
    error: str | None = None  # no (complete) HTTP response: refused, timed out, connection broken
    sse: bool = False
    sse_problems: list[str] = field(default_factory=list)
    sse_events: int = 0
    elapsed: float = 0.0
    connect_failed: bool = False  # no TCP connection at all (the server may be gone)
    backstop: bool = False  # an owned POST cut off by its backstop (the session's deadline judges it)

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def responses(self) -> list[dict[str, Any]]:
        """JSON-RPC responses (result or error) among the messages."""
        return [m for m in self.messages if isinstance(m, dict) and "method" not in m and ("result" in m or "error" in m)]

    @property
    def response(self) -> dict[str, Any] | None:
        r = self.responses
        return r[-1] if r else None

    @property
    def error_code(self) -> Any:
        r = self.response
        err = r.get("error") if r else None
        return err.get("code") if isinstance(err, dict) else None

    @property
    def has_result(self) -> bool:
        r = self.response
        return bool(r) and "result" in r

    def answers(self, request_id: Any) -> bool:
        """Whether a response for `request_id` came back (1 and "1" count as the same here;
        the session judges the id type)."""
        for m in self.responses:
            rid = m.get("id")
            if rid == request_id or (rid is not None and request_id is not None and str(rid) == str(request_id)):
                return True
        return False

    def summary(self) -> str:
        if self.error:
            return f"{self.method}: {self.error}"
        ct = self.headers.get("content-type") or "no Content-Type"
        what = f"HTTP {self.status} ({ct})"
        r = self.response
        if r is not None and isinstance(r.get("error"), dict):
            what += f", JSON-RPC error {r['error'].get('code')!r}: {str(r['error'].get('message'))[:120]}"
        elif r is not None:
            what += ", JSON-RPC result"
        elif not self.body:
            what += ", empty body"
        else:
            what += f", body {self.body[:120]!r}"
        return what


class StreamableHttpTransport(Transport):
    kind = "http"
    # Set by the session: called with (request id, reason, entry) when a POST for a request
    # ended without that request's response, so the session can stop waiting at once.
    on_unanswered: Callable[[Any, str, WireEntry | None], None] | None = None

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        wirelog=None,
        open_get_stream: bool = False,
        linger: float = LINGER,
    ) -> None:
        super().__init__(wirelog)
        self.url = url
        self.user_headers: dict[str, str] = dict(headers or {})
        self.timeout = timeout
        self.open_get_stream = open_get_stream
        self.linger = linger
        self.session_id: str | None = None
        self.negotiated: str | None = None  # handshake era: the version the server chose
        self.session_terminated = False
        self.delete_status: int | None = None  # what DELETE on close() was answered with
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()
        self._owned: dict[str, asyncio.Task] = {}  # request id (JSON) -> its POST, until abandoned or done
        self._get_task: asyncio.Task | None = None
        # the optional GET stream (H1), once asked for: "opening", "open" (an SSE stream is being
        # read), "none" (405: the server offers none), "refused" (another answer), "ended" (it
        # was open and closed before mcpcheck closed it), "failed" (no HTTP answer)
        self.get_stream: str | None = None
        self.get_stream_detail: str = ""
        self._get_answered: asyncio.Event | None = None
        # tool name -> inputSchema of the listed tools that carry x-mcp-header annotations (HS9)
        self.param_schemas: dict[str, Any] = {}

    def describe(self) -> str:
        return f"http: {self.url}"

    @property
    def request_deadline(self) -> float:
        """Longest a single POST may take from send to the end of its body (POSTs whose
        deadline the session owns have `owned_ceiling` instead)."""
        return self.timeout + 2.0

    @property
    def owned_ceiling(self) -> float:
        """Backstop of a request POST sent with `send()`: the session abandons it first."""
        return max(self.timeout * OWNED_CEILING_FACTOR, OWNED_CEILING_MIN)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._client is not None:
            return
        await check_reachable(self.url, min(self.timeout, 10.0))
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        self.wirelog.record("out", "event", f"connect: Streamable HTTP endpoint {self.url}")

    def on_initialized(self, exchange: Any) -> None:
        """Called by the session after a successful initialize: remember the session id and
        the negotiated version for every later request."""
        http = getattr(exchange, "http", None) or {}
        sid = (http.get("headers") or {}).get("mcp-session-id")
        self.session_id = sid if isinstance(sid, str) else None
        self.session_terminated = False
        result = getattr(exchange, "result", None)
        version = result.get("protocolVersion") if isinstance(result, dict) else None
        self.negotiated = version if isinstance(version, str) else self.protocol_version
        if self.open_get_stream and self._get_task is None:
            self._start_listening()

    async def listen(self, wait: float = 5.0) -> str:
        """Open the session era's optional GET stream now (after the handshake) and wait up to
        `wait` seconds for the server's answer to the GET; returns `get_stream`. Server-initiated
        messages on it (e.g. notifications/*/list_changed not tied to a request) reach the
        session like any other. The 2026-07-28 era has no GET stream (HS1)."""
        if self.stateless:
            self.get_stream, self.get_stream_detail = "none", "the 2026-07-28 era has no GET stream"
            return self.get_stream
        if self._get_task is None:
            self._start_listening()
        assert self._get_answered is not None
        try:
            await asyncio.wait_for(self._get_answered.wait(), wait)
        except asyncio.TimeoutError:
            self.get_stream_detail = f"no answer to the GET within {wait:g}s"
        return self.get_stream or "opening"

    def _start_listening(self) -> None:
        self.get_stream, self._get_answered = "opening", asyncio.Event()
        self._get_task = asyncio.create_task(self._listen())

    async def close(self) -> None:
        self.closing = True
        client = self._client
        if client is None:
            self._gone(self.closed_reason or "closed by mcpcheck (never started)")
            return
        for task in list(self._tasks) + ([self._get_task] if self._get_task else []):
            task.cancel()
        for task in list(self._tasks) + ([self._get_task] if self._get_task else []):
            try:
                await asyncio.wait_for(task, 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                pass
        if self.session_id and not self.stateless and not self.session_terminated and self.alive:
            raw = await self.http("DELETE", note="end of session", timeout=min(self.timeout, 5.0))
            self.delete_status = raw.status
            if raw.ok:
                self.session_terminated = True
        self._client = None
        await client.aclose()
        self._gone(self.closed_reason or "closed by mcpcheck")

    # ------------------------------------------------------------------ headers
    def base_headers(self, method: str = "POST", *, body: bool = True) -> dict[str, str]:
        h = dict(self.user_headers)
        if method == "GET":
            h = merge_headers(h, {"Accept": SSE})
        elif method == "POST":
            h = merge_headers(h, {"Accept": ACCEPT_BOTH})
        if body:
            h = merge_headers(h, {"Content-Type": JSON})
        return h

    def protocol_headers(self, message: Any = None) -> dict[str, str]:
        """The MCP headers a conforming client puts on a request carrying `message`."""
        h: dict[str, str] = {}
        msg = message if isinstance(message, dict) else {}
        method = msg.get("method")
        if self.stateless:
            params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
            meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
            version = meta.get(META_VERSION)
            version = version if isinstance(version, str) else self.protocol_version
            if version:
                h["MCP-Protocol-Version"] = encode_header_value(version)
            if isinstance(method, str):
                h["Mcp-Method"] = encode_header_value(method)
                key = NAME_BEARING.get(method)
                value = params.get(key) if key else None
                if isinstance(value, str):
                    h["Mcp-Name"] = encode_header_value(value)
                if method == "tools/call" and isinstance(value, str) and value in self.param_schemas:
                    h.update(param_headers(self.param_schemas[value], params.get("arguments"), encode_header_value))
            return h
        if method == "initialize":
            return h  # no session and no version yet: the server is about to choose them
        if self.session_id and not self.session_terminated:
            h["Mcp-Session-Id"] = self.session_id
        if self.negotiated:
            h["MCP-Protocol-Version"] = self.negotiated
        return h

    def request_headers(self, message: Any = None, method: str = "POST") -> dict[str, str]:
        return merge_headers(self.base_headers(method, body=method == "POST"), self.protocol_headers(message))

    # ------------------------------------------------------------------ sending
    def _require_client(self) -> httpx.AsyncClient:
        if self._client is None or not self.alive:
            raise TransportError(self.closed_reason or "transport not started")
        return self._client

    def _record_out(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str], *, parsed: Any = None, parse: bool = False, note: str | None = None) -> WireEntry:
        http = {"method": method, "url": url, "headers": _pick(headers, REQUEST_HEADERS)}
        data = body or b""
        if parse and data:
            return self.wirelog.record("out", "http", data, http=http, note=note)
        return self.wirelog.record("out", "http", data, parsed=parsed, http=http, note=note)

    async def send(self, message: dict[str, Any]) -> WireEntry:
        self._require_client()
        data = encode(message)
        headers = self.request_headers(message)
        out = self._record_out("POST", self.url, data, headers, parsed=message)
        owned = isinstance(message, dict) and "method" in message and "id" in message
        task = self._spawn(self._exchange(data, headers, out, message, owned=owned))
        if owned:
            key = _id_key(message.get("id"))
            self._owned[key] = task
            task.add_done_callback(lambda t, k=key: self._owned.pop(k, None) if self._owned.get(k) is t else None)
        return out

    def request_task(self, request_id: Any) -> asyncio.Task | None:
        """The task reading the POST of a request sent with `send()`, while it runs."""
        return self._owned.get(_id_key(request_id))

    def abandon(self, request_id: Any) -> None:
        """The session stopped waiting for `request_id`: close its POST (recorded). On
        2026-07-28 servers closing the response stream is the cancellation (HS10)."""
        task = self._owned.pop(_id_key(request_id), None)
        if task is not None and not task.done():
            self.wirelog.record("out", "event", f"mcpcheck stopped waiting for the response to id {request_id!r} and closed its POST")
            task.cancel()

    async def send_raw(self, data: bytes, *, note: str | None = None) -> WireEntry:
        self._require_client()
        out = self._record_out("POST", self.url, data, {}, parse=True, note=note)
        headers = self.request_headers(out.parsed)
        out.http = {"method": "POST", "url": self.url, "headers": _pick(headers, REQUEST_HEADERS)}
        self._spawn(self._exchange(data, headers, out, out.parsed))
        return out

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.wirelog.record("in", "event", f"mcpcheck HTTP task failed: {task.exception()!r}")

    def learn_tools(self, message: Any, raw: "RawHttp") -> None:
        """After a tools/list: remember the inputSchema of every listed tool that carries
        x-mcp-header annotations (its calls then carry Mcp-Param-* headers)."""
        if not (isinstance(message, dict) and message.get("method") == "tools/list"):
            return
        r = raw.response
        tools = r.get("result", {}).get("tools") if isinstance(r, dict) and isinstance(r.get("result"), dict) else None
        for tool in tools if isinstance(tools, list) else []:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str) and X_MCP_HEADER in json.dumps(tool.get("inputSchema")):
                self.param_schemas[tool["name"]] = tool.get("inputSchema")

    async def _exchange(self, data: bytes, headers: dict[str, str], out: WireEntry, message: Any, *, owned: bool = False) -> None:
        is_request = isinstance(message, dict) and "method" in message and "id" in message
        raw = await self._do("POST", self.url, data, headers, out, push=True, answer_id=message.get("id") if is_request else _NO_ID, owned=owned)
        self.learn_tools(message, raw)
        if raw.connect_failed:
            await self._maybe_gone()
        if not is_request or raw.answers(message.get("id")):
            return
        if raw.backstop:
            return  # the session's own deadline judges it: a timeout, not a transport error
        hook = self.on_unanswered
        if hook is None:
            return
        last = raw.entries[-1] if len(raw.entries) > 1 else None
        reason = f"POST {message.get('method')!r} (id {message.get('id')!r}) got no JSON-RPC response: {raw.summary()}"
        hook(message.get("id"), reason, last)

    async def _maybe_gone(self) -> None:
        """A crash is only called with confirmation: the endpoint must fail a TCP connect twice,
        GONE_CONFIRM seconds apart (one failed connect on a loaded machine is not yet proof)."""
        for attempt in (1, 2):
            try:
                await check_reachable(self.url, min(self.timeout, 3.0))
                return
            except TransportError as exc:
                if attempt == 2:
                    self._gone(f"the server stopped accepting connections ({exc})")
                    return
            await asyncio.sleep(GONE_CONFIRM)
            if self.closing or not self.alive:
                return

    async def check_gone(self) -> None:
        """After a request failed on the connection: if nothing accepts connections any more,
        the transport is gone (the crash evidence the session's liveness check looks for)."""
        if self.alive and not self.closing:
            await self._maybe_gone()

    # ------------------------------------------------------------------ the core
    async def _do(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        out: WireEntry,
        *,
        push: bool,
        answer_id: Any = _NO_ID,
        deadline: float | None = None,
        window: float | None = None,
        owned: bool = False,
    ) -> "RawHttp":
        """Perform one request and read its response (bounded), recording everything.
        `answer_id`: for a POSTed request, its id (the SSE stream may be closed `linger` seconds
        after its response). `window`: read an SSE body for at most this long, then stop (not
        an error: used for GET streams that stay open by design). `owned`: the session owns
        this request's deadline (no read timeout; only the `owned_ceiling` backstop)."""
        client = self._require_client()
        raw = RawHttp(method=method, url=url, entries=[out])
        t0 = time.monotonic()
        limit = deadline if deadline is not None else (self.owned_ceiling if owned else self.request_deadline)
        extra: dict[str, Any] = {"timeout": httpx.Timeout(self.timeout, read=None)} if owned else {}
        try:
            async with asyncio.timeout(limit):
                async with client.stream(method, url, content=content, headers=headers, **extra) as resp:
                    info = {
                        "method": method,
                        "url": str(resp.url),
                        "status": resp.status_code,
                        "headers": _pick(resp.headers, RESPONSE_HEADERS),
                        "request_seq": out.seq,
                    }
                    raw.status = resp.status_code
                    raw.headers = _all_headers(resp.headers)
                    if media_type(resp.headers.get("content-type")) == SSE:
                        raw.sse = True
                        await self._read_sse(resp, info, raw, push=push, answer_id=answer_id, window=window)
                    else:
                        await self._read_body(resp, info, raw, push=push)
        except TimeoutError:
            raw.error = f"no complete HTTP response within {limit:g}s"
            raw.backstop = owned
            raw.entries.append(self.wirelog.record("in", "event", f"{method} {url}: {raw.error}", http=_status_info(raw, out)))
        except httpx.ConnectError as exc:
            refused = _caused_by(exc, ConnectionRefusedError)
            raw.error = f"cannot reach {url}: " + ("connection refused" if refused else f"{type(exc).__name__}: {exc}")
            raw.connect_failed = True
            raw.entries.append(self.wirelog.record("in", "event", f"{method} {url}: {raw.error}", http=_status_info(raw, out)))
        except httpx.TimeoutException as exc:
            raw.error = f"HTTP timeout ({type(exc).__name__}) after {self.timeout:g}s"
            raw.entries.append(self.wirelog.record("in", "event", f"{method} {url}: {raw.error}", http=_status_info(raw, out)))
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raw.error = f"connection broken ({type(exc).__name__}: {exc})"
            raw.entries.append(self.wirelog.record("in", "event", f"{method} {url}: {raw.error}", http=_status_info(raw, out)))
        except (UnicodeEncodeError, ValueError) as exc:  # header values httpx/h11 refuse to send
            raw.error = f"mcpcheck could not send this request: {exc}"
            raw.entries.append(self.wirelog.record("out", "event", f"{method} {url}: {raw.error}"))
        raw.elapsed = time.monotonic() - t0
        return raw

    async def _read_body(self, resp: httpx.Response, info: dict[str, Any], raw: RawHttp, *, push: bool) -> None:
        chunks: list[bytes] = []
        size = 0
        over = False
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY:
                over = True
                break
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body and not over:
            raw.entries.append(self.wirelog.record("in", "http", "", parsed=None, http=info, note=f"HTTP {resp.status_code}, empty body"))
            return
        text = body.decode("utf-8", errors="replace")
        raw.body = text
        if over:
            entry = self.wirelog.record("in", "http", body, parsed=None, http=info, note=f"body over {MAX_BODY} bytes")
            entry.parse_error = f"body longer than {MAX_BODY} bytes (not read to the end)"
            raw.entries.append(entry)
            return
        entry = self.wirelog.record("in", "http", body, http=info)
        raw.entries.append(entry)
        if entry.parse_error is None:
            value = entry.parsed
            raw.messages.extend(value if isinstance(value, list) else [value])
            if push:
                self.incoming.put_nowait(entry)

    async def _read_sse(self, resp: httpx.Response, info: dict[str, Any], raw: RawHttp, *, push: bool, answer_id: Any, window: float | None) -> None:
        parser = SseParser()
        it = resp.aiter_bytes().__aiter__()
        stop_at = time.monotonic() + window if window is not None else None
        answered_at: float | None = None
        datas: list[str] = []
        closed_by_us: str | None = None
        while True:
            limits = [t for t in (stop_at, answered_at + self.linger if answered_at is not None else None) if t is not None]
            try:
                if limits:
                    remaining = min(limits) - time.monotonic()
                    if remaining <= 0:
                        raise asyncio.TimeoutError
                    chunk = await asyncio.wait_for(it.__anext__(), remaining)
                else:
                    chunk = await it.__anext__()
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                if answered_at is not None:
                    closed_by_us = f"stream still open {self.linger:g}s after the response; closed by mcpcheck"
                else:
                    closed_by_us = f"stopped reading after {window:g}s (stream still open)"
                break
            for ev in parser.feed(chunk):
                if self._record_event(ev, info, raw, push, datas, answer_id):
                    answered_at = answered_at or time.monotonic()
            if parser.events > MAX_SSE_EVENTS or parser.bytes > MAX_SSE_BYTES:
                closed_by_us = f"stream exceeded {MAX_SSE_EVENTS} events / {MAX_SSE_BYTES} bytes; closed by mcpcheck"
                break
        if closed_by_us is None:
            for ev in parser.close():
                self._record_event(ev, info, raw, push, datas, answer_id)
        raw.sse_problems.extend(parser.problems)
        raw.sse_events = parser.events
        raw.body = "\n".join(datas)
        for problem in parser.problems:
            raw.entries.append(self.wirelog.record("in", "event", f"SSE: {problem}", http=dict(info), note="sse-problem"))
        if closed_by_us:
            raw.entries.append(self.wirelog.record("in", "event", f"SSE: {closed_by_us}", http=dict(info), note="sse-closed"))

    def _record_event(self, ev, info: dict[str, Any], raw: RawHttp, push: bool, datas: list[str], answer_id: Any) -> bool:
        """Record one SSE event; push its message. True when it carried the awaited response."""
        sse: dict[str, Any] = {"event": ev.event}
        if ev.id is not None:
            sse["id"] = ev.id
        if ev.retry is not None:
            sse["retry"] = ev.retry
        if ev.problems:
            sse["problems"] = ev.problems
        http = {**info, "sse": sse}
        if ev.is_priming:
            raw.entries.append(self.wirelog.record("in", "sse", ev.data, parsed=None, http=http, note="sse priming/empty event"))
            return False
        datas.append(ev.data)
        note = None if ev.event == "message" else f"sse event type {ev.event!r}"
        entry = self.wirelog.record("in", "sse", ev.data, http=http, note=note)
        raw.entries.append(entry)
        if entry.parse_error is not None:
            return False
        value = entry.parsed
        raw.messages.extend(value if isinstance(value, list) else [value])
        if push and ev.event == "message":
            self.incoming.put_nowait(entry)
        if answer_id is _NO_ID or not isinstance(value, dict) or "method" in value:
            return False
        rid = value.get("id")
        return rid == answer_id or (rid is not None and answer_id is not None and str(rid) == str(answer_id))

    # ------------------------------------------------------------------ for the checks
    async def http(
        self,
        method: str = "POST",
        *,
        body: bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
        session: bool = True,
        url: str | None = None,
        window: float | None = None,
        timeout: float | None = None,
        note: str | None = None,
    ) -> RawHttp:
        """One HTTP request against the endpoint, recorded in the WireLog, never pushed to the
        session. `session=True` starts from the headers a conforming client would send for this
        body in the current era (session id, protocol version, Mcp-Method/Mcp-Name); False
        starts from Accept/Content-Type and the user's headers only. `headers` override those
        (case-insensitively; None removes one). SSE bodies are read for at most `window`
        seconds (default: until the response to the request in `body`, or 2 s for a GET)."""
        self._require_client()
        target = url or self.url
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
        base = self.base_headers(method, body=body is not None)
        if session:
            base = merge_headers(base, self.protocol_headers(parsed))
        h = merge_headers(base, headers)
        out = self._record_out(method, target, body, h, parse=body is not None, note=note)
        answer_id = parsed.get("id") if isinstance(parsed, dict) and "method" in parsed and "id" in parsed else _NO_ID
        if window is None and answer_id is _NO_ID:
            window = min(2.0, self.timeout)
        raw = await self._do(method, target, body, h, out, push=False, answer_id=answer_id, deadline=timeout, window=window)
        self.learn_tools(parsed, raw)
        return raw

    # ------------------------------------------------------------------ optional GET stream
    async def _listen(self) -> None:
        """The session era's optional GET stream: server-initiated messages are pushed like any
        other. Never opened unless asked for (open_get_stream=True, or listen())."""
        headers = self.request_headers(None, "GET")
        out = self._record_out("GET", self.url, None, headers, note="GET stream")
        answered = self._get_answered
        try:
            client = self._require_client()
            async with client.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(self.timeout, read=None)) as resp:
                info = {"method": "GET", "url": str(resp.url), "status": resp.status_code, "headers": _pick(resp.headers, RESPONSE_HEADERS), "request_seq": out.seq}
                raw = RawHttp(method="GET", url=self.url, entries=[out], status=resp.status_code)
                ctype = resp.headers.get("content-type") or "no Content-Type"
                self.wirelog.record("in", "event", f"GET stream answered HTTP {resp.status_code} ({ctype})", http=info, note="stream-open")
                if resp.status_code == 200 and media_type(ctype) == SSE:
                    self.get_stream, self.get_stream_detail = "open", "GET stream open (SSE)"
                elif resp.status_code == 405:
                    self.get_stream, self.get_stream_detail = "none", "the server offers no GET stream (HTTP 405)"
                else:
                    self.get_stream, self.get_stream_detail = "refused", f"the GET stream was answered HTTP {resp.status_code} ({ctype})"
                if answered is not None:
                    answered.set()
                if self.get_stream != "open":
                    await self._read_body(resp, info, raw, push=False)
                    return
                await self._read_sse(resp, info, raw, push=True, answer_id=_NO_ID, window=None)
                if not self.closing:
                    self.get_stream, self.get_stream_detail = "ended", "the server closed the GET stream"
        except (httpx.HTTPError, TransportError) as exc:
            self.wirelog.record("in", "event", f"GET stream ended: {type(exc).__name__}: {exc}")
            if not self.closing:
                was_open = self.get_stream == "open"
                self.get_stream = "ended" if was_open else "failed"
                self.get_stream_detail = f"the GET stream {'broke' if was_open else 'could not be opened'}: {type(exc).__name__}: {exc}"
        finally:
            if answered is not None:
                answered.set()


def _id_key(value: Any) -> str:
    """The session's correlation key for a request id (1 and "1" stay apart)."""
    return json.dumps(value, sort_keys=True)


def _status_info(raw: RawHttp, out: WireEntry) -> dict[str, Any]:
    return {"method": raw.method, "url": raw.url, "status": raw.status, "request_seq": out.seq}

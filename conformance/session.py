"""JSON-RPC session over any transport: ids, correlation, timeouts, both protocol eras.

Every request is bounded by a timeout (a hang is a finding, never a hang of mcpcheck). Every
message in and out lands in the transport's WireLog; an `Exchange` points at the entries of one
request/response pair so checks stay pure functions over recorded data.

The session owns every request's deadline, on every transport: progress-aware (see `request`),
then a grace period. When a request gets no answer within its timeout, the session keeps waiting
`grace(timeout)` seconds longer and meanwhile asks whether the server still answers at all (ping;
`server/discover` in the stateless era, where ping is gone): a late answer makes the call slow,
not hung; a ping that stalls too means the request blocks the whole server (issue 12). Only then
does it stop waiting and tell the transport to drop the request (HTTP: close its POST). After a
request failed on the transport, `check_liveness` asks the same question, so a crash is only
called one with evidence: the process exited, the connection is refused, or ping goes unanswered.
"""

from __future__ import annotations

from contextvars import ContextVar

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import budget
from .transport.base import Transport, TransportError
from .wirelog import WireEntry, WireLog

LATEST = "2026-07-28"
HANDSHAKE_LATEST = "2025-11-25"
HANDSHAKE_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
STATELESS_VERSIONS = ["2026-07-28"]
KNOWN_VERSIONS = STATELESS_VERSIONS + HANDSHAKE_VERSIONS

META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT = "io.modelcontextprotocol/clientInfo"

CLIENT_INFO = {"name": "mcpcheck", "version": "0.1.0"}
MAX_GRACE = 5.0  # seconds: the longest grace period after a timeout (Session.grace)
LIVENESS_METHODS = ("ping", "server/discover")
# After a request broke on an HTTP transport and ping went unanswered while the port still takes
# connections: how long (seconds) the session keeps asking which it is (Session._confirm), and
# how often. Refused connections are themselves confirmed by a second probe (transport.http).
LIVENESS_CONFIRM = 3.0
LIVENESS_STEP = 0.25
#: no grace period or liveness ping for these: before the handshake there is nothing to ping, and a
#: server that never answers them is reported as not reachable (the wait the message names)
HANDSHAKE_METHODS = ("initialize", "server/discover")


def is_stateless(revision: str | None) -> bool:
    return revision in STATELESS_VERSIONS


def id_key(value: Any) -> str:
    """Correlation key that keeps 1 and "1" apart (J4: the id type must be echoed)."""
    if type(value) is int:  # mcpcheck's own ids: the same text json.dumps gives, without it
        return str(value)
    return json.dumps(value, sort_keys=True)


@dataclass
class Exchange:
    """One request (or notification) and what came back for it."""

    method: str
    request: Any  # the message we sent (None for raw sends)
    request_entry: WireEntry | None
    response: dict[str, Any] | None = None
    response_entry: WireEntry | None = None
    elapsed: float | None = None
    timed_out: bool = False
    transport_error: str | None = None
    revision: str | None = None
    # For HTTP transports: status code and headers of the POST that carried the response.
    http: dict[str, Any] | None = None
    loose_id_match: bool = False  # response matched only after coercing the id type
    malformed: bool = False  # a deliberately malformed request: silence is allowed, not a hang
    extra: list[WireEntry] = field(default_factory=list)  # notifications seen while in flight
    progress_token: Any = None  # sent as params._meta.progressToken (request(progress=True))
    progress_capped: bool = False  # timed out at the progress cap while progress kept coming
    timeout: float | None = None  # the timeout this request had (seconds)
    # After the timeout (timed_out): how long mcpcheck went on listening for a late answer. A
    # response that came in that time is kept (`response`, `answered`): the call was slow.
    grace: float | None = None
    # Whether the server answered a liveness ping (server/discover in the stateless era) sent
    # after this request timed out or failed on the transport; None: not asked.
    ping_answered: bool | None = None
    ping: "Exchange | None" = None  # that ping
    liveness: bool = False  # this request IS such a ping (judged through the request it probed)

    @property
    def progress(self) -> int:
        """How many notifications/progress for this request's token arrived while it was in flight."""
        if self.progress_token is None:
            return 0
        return sum(
            1
            for e in self.extra
            if isinstance(e.parsed, dict)
            and e.parsed.get("method") == "notifications/progress"
            and isinstance(e.parsed.get("params"), dict)
            and e.parsed["params"].get("progressToken") == self.progress_token
        )

    @property
    def result(self) -> Any:
        return self.response.get("result") if isinstance(self.response, dict) else None

    @property
    def error(self) -> Any:
        return self.response.get("error") if isinstance(self.response, dict) else None

    @property
    def ok(self) -> bool:
        """A success answer. A result beside `"error": null` counts as one: the null member is a
        J4 violation judged once, by jsonrpc.response_shape on the raw object, not again by every
        check that reads the answer."""
        r = self.response
        return isinstance(r, dict) and "result" in r and r.get("error") is None

    @property
    def error_code(self) -> Any:
        err = self.error
        return err.get("code") if isinstance(err, dict) else None

    @property
    def answered(self) -> bool:
        return self.response is not None

    @property
    def late(self) -> bool:
        """Answered, but only in the grace period after its timeout: slow, not hung."""
        return self.timed_out and self.response is not None

    def evidence(self) -> list[WireEntry]:
        return [e for e in (self.request_entry, self.response_entry) if e is not None]


META_SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"
ACKNOWLEDGED = "notifications/subscriptions/acknowledged"


@dataclass
class Subscription:
    """A 2026-07-28 `subscriptions/listen` stream opened by `Session.listen` (SB1): the long-lived
    request whose stream carries the list_changed notifications the client asked for. Its
    notifications land in `Session.notifications` like any other."""

    request: dict[str, Any]
    asked: dict[str, bool]  # the SubscriptionFilter sent
    exchange: Exchange
    state: str = "opening"  # "open" (acknowledged), "refused" (an error), "ended", "silent" (no ack in time), "failed"
    detail: str = ""
    honoured: dict[str, Any] = field(default_factory=dict)  # the acknowledged subset
    done: asyncio.Future | None = None  # resolved when the server ends the subscription (or the transport goes)

    def missed(self, flag: str) -> str | None:
        """Why a notification of kind `flag` (e.g. "toolsListChanged") may not have reached us
        on this stream; None when the stream was acknowledged with it and is still open."""
        if self.state == "open" and self.done is not None and self.done.done():
            self.state, self.detail = "ended", "the server ended the subscriptions/listen stream during the run"
        if self.state != "open":
            return self.detail
        if self.honoured.get(flag) is not True:
            return f"the server's acknowledgement of subscriptions/listen did not include {flag}"
        return None


#: While set (by the runner, per campaign), every Session created is handed to this callback, so
#: the registry's exchange and log checks judge every session of every campaign. asyncio.to_thread
#: copies the context, so sessions opened on a campaign's own loop are recorded too.
RECORDING: ContextVar[Callable[["Session"], None] | None] = ContextVar("mcpcheck_recording", default=None)
#: time.monotonic() past which a request still waiting is abandoned like one --max-time cut
#: (budget.OutOfTime, never judged): the fuzz campaign sets it to the end of a tool's share of the
#: time plus one timeout, so a call that keeps reporting progress cannot hold up the next tool
ABANDON_AT: ContextVar[float | None] = ContextVar("mcpcheck_abandon_at", default=None)



LATE_GRACE = 0.05  # at most this long (seconds) is listened after a fence's answer for a late answer to what came before it
LATE_GRACE_MIN = 0.01  # at least this long
LATE_GRACE_RTTS = 5  # else this many round trips of the fence itself


def late_answer_grace(fence_seconds: float | None) -> float:
    """How long to go on listening after a fence's answer (a ping sent after a message that may
    or may not be answered): LATE_GRACE_RTTS of the fence's round trip, between LATE_GRACE_MIN
    and LATE_GRACE. A late answer to what came before comes about as fast as the fence's, which
    the server read after it; a server that answers in 1 ms is not waited for 50."""
    if fence_seconds is None:
        return LATE_GRACE
    return min(LATE_GRACE, max(LATE_GRACE_MIN, LATE_GRACE_RTTS * fence_seconds))

class Session:
    """A JSON-RPC 2.0 client session in either protocol era."""

    def __init__(
        self,
        transport: Transport,
        *,
        timeout: float = 10.0,
        capabilities: dict[str, Any] | None = None,
        client_info: dict[str, Any] | None = None,
    ) -> None:
        self.transport = transport
        self.timeout = timeout
        self.capabilities = capabilities if capabilities is not None else {}
        self.client_info = client_info or dict(CLIENT_INFO)
        self.revision: str | None = None  # negotiated / chosen protocol revision
        self.stateless = False
        self.initialize_result: dict[str, Any] | None = None
        self.discover_result: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._progress_ids = itertools.count(1)
        self.progress_factor = 3.0  # the progress cap: this many times the request timeout
        # after a timeout, listen this many times the timeout longer (at most MAX_GRACE seconds)
        # for a late answer while pinging; False for sessions that judge timeouts themselves
        self.grace_factor = 1.0
        self.probe_timeouts = True
        self._pending: dict[str, tuple[asyncio.Future, Exchange]] = {}
        self._reader: asyncio.Task | None = None
        self.unmatched: list[WireEntry] = []  # responses nobody asked for
        self._cut: set[str] = set()  # ids (and progress tokens) of requests --max-time gave up waiting for
        self.notifications: list[WireEntry] = []
        self.server_requests: list[WireEntry] = []
        self.exchanges: list[Exchange] = []
        self.subscription: Subscription | None = None  # the subscriptions/listen stream (listen())
        self._watchers: list[Callable[[WireEntry], None]] = []  # called with every notification
        if hasattr(transport, "on_unanswered"):  # HTTP: a POST came back without its response
            transport.on_unanswered = self._unanswered
        self.expected_exit = False  # a probe ends the server on purpose: not a crash
        recording = RECORDING.get()
        if recording is not None:
            recording(self)

    # ----------------------------------------------------------------- lifecycle
    @property
    def wirelog(self) -> WireLog:
        return self.transport.wirelog

    @property
    def alive(self) -> bool:
        return self.transport.alive

    @property
    def server_capabilities(self) -> dict[str, Any]:
        src = self.discover_result if self.stateless else self.initialize_result
        caps = (src or {}).get("capabilities")
        return caps if isinstance(caps, dict) else {}

    async def start(self) -> None:
        await self.transport.start()
        self._reader = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        await self.transport.close()
        if self._reader:
            try:
                await asyncio.wait_for(self._reader, 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()

    async def __aenter__(self) -> "Session":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def set_revision(self, revision: str) -> None:
        self.revision = revision
        self.stateless = is_stateless(revision)
        self.transport.protocol_version = revision
        self.transport.stateless = self.stateless

    def progress_cap(self, timeout: float) -> float:
        """The longest a request that keeps reporting progress is waited for, in seconds."""
        return timeout * self.progress_factor

    def grace(self, timeout: float) -> float:
        """How long after a request's timeout a late answer still counts as slow, not hung; also
        the timeout of the liveness ping sent meanwhile."""
        return min(timeout * self.grace_factor, MAX_GRACE)

    # ----------------------------------------------------------------- messages
    def next_id(self) -> int:
        return next(self._ids)

    def envelope_meta(self, revision: str | None = None) -> dict[str, Any]:
        return {
            META_VERSION: revision or self.revision or LATEST,
            META_CAPS: self.capabilities,
            META_CLIENT: self.client_info,
        }

    def build_request(
        self, method: str, params: dict[str, Any] | None = None, *, id: Any = None, meta: bool | None = None
    ) -> dict[str, Any]:
        """The message `request()` would send. `meta`: add the stateless `_meta` envelope
        (default: when the session is in the stateless era)."""
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id() if id is None else id, "method": method}
        if meta is None:
            meta = self.stateless
        if meta:
            params = dict(params or {})
            params["_meta"] = {**self.envelope_meta(), **(params.get("_meta") or {})}
        if params is not None:
            msg["params"] = params
        return msg

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        id: Any = None,
        timeout: float | None = None,
        meta: bool | None = None,
        message: dict[str, Any] | None = None,
        malformed: bool = False,
        progress: bool = False,
    ) -> Exchange:
        """Send a request and wait (bounded) for its response. `message` sends a hand-built
        envelope instead (used by checks that need odd ids or shapes); mark those `malformed`
        so that the silence they may earn is not judged as a hang.

        `progress`: ask for progress (params._meta.progressToken). While notifications/progress
        for that token keep coming, the timeout starts again after each, up to `progress_cap`
        seconds in all (the spec lets a client reset its timeout on progress and says it SHOULD
        still enforce a maximum)."""
        token = None
        if progress and message is None:
            token = f"mcpcheck-progress-{next(self._progress_ids)}"
            params = dict(params or {})
            params["_meta"] = {**(params.get("_meta") or {}), "progressToken": token}
        msg = message if message is not None else self.build_request(method, params, id=id, meta=meta)
        return await self._roundtrip(msg, timeout, malformed, token)

    async def _roundtrip(self, msg: dict[str, Any], timeout: float | None, malformed: bool = False, token: Any = None, liveness: bool = False) -> Exchange:
        run = budget.current()
        run.check()  # the run's --max-time is used up: stop here (budget.OutOfTime)
        method = msg.get("method") if isinstance(msg.get("method"), str) else "?"
        ex = Exchange(method=method, request=msg, request_entry=None, revision=self.revision, malformed=malformed, progress_token=token)
        ex.liveness = liveness
        self.exchanges.append(ex)
        key = id_key(msg.get("id"))
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        has_id = "id" in msg
        if has_id:
            self._pending[key] = (fut, ex)
        t0 = time.monotonic()
        try:
            ex.request_entry = await self.transport.send(msg)
        except TransportError as exc:
            self._pending.pop(key, None)
            if fut.done():  # the transport ended meanwhile and failed it: nobody waits for it
                fut.exception()
            ex.transport_error = str(exc)
            return ex
        if not has_id:
            return ex
        wait = ex.timeout = timeout or self.timeout
        window, seen = wait, 0
        abandon = ABANDON_AT.get()

        def until_cut() -> float:  # until the run's budget, or the caller's abandon point, ends
            return run.remaining() if abandon is None else min(run.remaining(), abandon - time.monotonic())

        try:
            while True:
                cut = until_cut() < window  # the budget ends before this window does
                try:
                    await asyncio.wait_for(asyncio.shield(fut), max(0.0, min(window, until_cut())))
                except asyncio.TimeoutError:
                    if cut:  # not a timeout of the server's: the run is out of time; never judged
                        self._pending.pop(key, None)
                        if ex in self.exchanges:
                            self.exchanges.remove(ex)
                        # nor is what still comes for it (its late answer, its progress)
                        self._cut.add(key)
                        if token is not None:
                            self._cut.add(f"progress:{id_key(token)}")
                            self.notifications = [e for e in self.notifications if not self._cut_progress(e.parsed)]
                        raise budget.OutOfTime() from None
                    now, left = ex.progress, self.progress_cap(wait) - (time.monotonic() - t0)
                    if now > seen and left > 0.01:
                        # progress came in this window: the server is working, wait again
                        window, seen = min(wait, left), now
                        continue
                    ex.timed_out = True
                    ex.progress_capped = now > seen
                    if not ex.progress_capped and not malformed and not liveness and method not in HANDSHAKE_METHODS and self.probe_timeouts and self.alive:
                        await self._grace(ex, fut, wait, t0)
                    if fut.done():
                        break  # answered late, in the grace period (or the transport went)
                    self._pending.pop(key, None)
                    if self.alive:
                        if ex.progress_capped:
                            text = f"no response to {method} (id {msg.get('id')!r}) after {time.monotonic() - t0:.0f}s, though it kept reporting progress"
                        else:
                            text = f"no response to {method} (id {msg.get('id')!r}) within {wait:g}s"
                            if ex.grace:
                                text += f" nor in the {ex.grace:g}s after"
                        self.wirelog.record("in", "event", text)
                break
        except TransportError as exc:
            ex.transport_error = str(exc)
        finally:
            if not fut.done() or ex.transport_error is not None:
                self._pending.pop(key, None)
                self.transport.abandon(msg.get("id"))  # HTTP: close its POST; the session owns the deadline
        ex.elapsed = time.monotonic() - t0
        return ex

    async def _grace(self, ex: Exchange, fut: asyncio.Future, wait: float, t0: float) -> None:
        """The request timed out: listen `grace(wait)` seconds longer for its answer while a
        liveness ping (unless it is one itself) asks whether the server answers anything."""
        ex.grace = grace = self.grace(wait)
        ping = None if ex.method in LIVENESS_METHODS else asyncio.ensure_future(self.liveness_ping(grace))
        try:
            await asyncio.wait_for(asyncio.shield(fut), grace)
        except asyncio.TimeoutError:
            pass
        except TransportError:
            pass  # re-raised by the caller's next look at the future
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            self.wirelog.record("in", "event", f"response to {ex.method} (id {ex.request.get('id')!r}) came {time.monotonic() - t0:.1f}s after it was sent: after the {wait:g}s timeout, within the {grace:g}s grace")
        if ping is not None:
            ex.ping = await ping
            ex.ping_answered = ex.ping.answered
        if fut.done() and not fut.cancelled() and fut.exception() is not None:
            raise fut.exception()

    async def liveness_ping(self, timeout: float) -> Exchange:
        """Does the server still answer? ping (server/discover in the stateless era, where ping
        no longer exists); any answer counts, an error too. Never probed itself."""
        if self.stateless:
            msg = self.build_request("server/discover", {}, meta=True)
        else:
            msg = self.build_request("ping", None, meta=False)
        return await self._roundtrip(msg, timeout, liveness=True)

    async def check_liveness(self, ex: Exchange) -> bool | None:
        """After `ex` failed on the transport (or timed out without a ping), ask the server
        whether it still answers; the answer lands on ex.ping_answered. A ping answered before
        the transport failed is asked again. HTTP: a ping that fails too is followed by a TCP
        connect, so a refused connection ends the transport (the crash evidence)."""
        if ex.liveness:
            return ex.ping_answered
        if self.alive and (ex.ping_answered is None or (ex.transport_error is not None and ex.ping_answered)):
            ex.ping = await self.liveness_ping(self.grace(ex.timeout or self.timeout))
            ex.ping_answered = ex.ping.answered
        if ex.ping_answered is False and self.alive and hasattr(self.transport, "check_gone"):
            await self.transport.check_gone()
            if ex.transport_error is not None:
                await self._confirm(ex)
        return ex.ping_answered

    async def _confirm(self, ex: Exchange) -> None:
        """HTTP: `ex` broke on the transport and ping went unanswered, yet the endpoint still
        accepts TCP connections. A process that is exiting may still hold its listening socket
        for a moment (on a loaded machine, longer), so neither verdict is taken yet: ask again,
        for at most LIVENESS_CONFIRM seconds, until one is confirmed, a refused connection (the
        transport's check_gone: gone) or an answered ping (alive, `ex.ping_answered`). When
        neither comes, the server is left alive but unresponsive, as before. Only this path (a
        broken request and a silent ping) waits; an answered ping never does."""
        deadline = time.monotonic() + LIVENESS_CONFIRM
        while self.alive and time.monotonic() < deadline:
            await asyncio.sleep(LIVENESS_STEP)
            await self.transport.check_gone()  # type: ignore[attr-defined]
            left = deadline - time.monotonic()
            if not self.alive or left <= 0:
                return
            ping = await self.liveness_ping(min(left, 1.0))
            if ping.answered:
                ex.ping, ex.ping_answered = ping, True
                return

    async def notify(self, method: str, params: dict[str, Any] | None = None, *, meta: bool | None = None) -> Exchange:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if meta is None:
            meta = self.stateless
        if meta:
            params = dict(params or {})
            params["_meta"] = {**self.envelope_meta(), **(params.get("_meta") or {})}
        if params is not None:
            msg["params"] = params
        ex = Exchange(method=method, request=msg, request_entry=None, revision=self.revision)
        try:
            ex.request_entry = await self.transport.send(msg)
        except TransportError as exc:
            ex.transport_error = str(exc)
        self.exchanges.append(ex)
        return ex

    async def listen(self, notifications: dict[str, Any], wait: float) -> Subscription:
        """2026-07-28: open a `subscriptions/listen` stream asking for `notifications` (a
        SubscriptionFilter) and wait up to `wait` seconds for its acknowledgement (SB1). The
        request stays open for the rest of the session (over HTTP its POST is the stream; the
        transport's ceiling bounds it); it is not an exchange the checks judge (its silence is
        by design). The result is also kept as `self.subscription`."""
        msg = self.build_request("subscriptions/listen", {"notifications": dict(notifications)})
        ex = Exchange(method="subscriptions/listen", request=msg, request_entry=None, revision=self.revision, malformed=True)
        loop = asyncio.get_running_loop()
        done, acked = loop.create_future(), loop.create_future()
        done.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: never an unhandled-exception warning
        sub = self.subscription = Subscription(msg, dict(notifications), ex, done=done)
        lid = id_key(msg["id"])

        def watch(entry: WireEntry) -> None:
            m = entry.parsed
            params = m.get("params") if isinstance(m.get("params"), dict) else {}
            meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
            if m.get("method") == ACKNOWLEDGED and (META_SUBSCRIPTION not in meta or id_key(meta[META_SUBSCRIPTION]) == lid) and not acked.done():
                acked.set_result(params.get("notifications") if isinstance(params.get("notifications"), dict) else {})

        self._pending[lid] = (done, ex)
        self._watchers.append(watch)
        try:
            ex.request_entry = await self.transport.send(msg)
            await asyncio.wait({done, acked}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        except TransportError as exc:
            sub.state, sub.detail = "failed", f"subscriptions/listen could not be sent: {exc}"
        finally:
            self._watchers.remove(watch)
        if sub.state == "failed":
            self._pending.pop(lid, None)
        elif acked.done():
            sub.state, sub.detail, sub.honoured = "open", "subscriptions/listen acknowledged", acked.result()
            post = getattr(self.transport, "request_task", lambda _id: None)(msg["id"])
            if post is not None:  # HTTP: the stream is this POST; when it ends (its ceiling, a close), so does the subscription
                post.add_done_callback(lambda _t: done.done() or done.set_exception(TransportError("the subscriptions/listen stream ended")))
        elif done.done():
            why = "the transport failed" if done.exception() is not None else None
            if why is None and ex.error is not None:
                sub.state, sub.detail = "refused", f"subscriptions/listen was refused ({json.dumps(ex.error)[:200]})"
            else:
                sub.state, sub.detail = "ended", f"subscriptions/listen ended before it was acknowledged ({why or 'the server answered it at once'})"
        else:
            sub.state, sub.detail = "silent", f"subscriptions/listen was not acknowledged within {wait:g}s"
        if sub.state != "open":
            acked.cancel()
        return sub

    async def send_raw(self, data: bytes, *, note: str | None = None) -> WireEntry | None:
        try:
            return await self.transport.send_raw(data, note=note)
        except TransportError:
            return None

    async def quiet_period(self, seconds: float) -> list[WireEntry]:
        """Wait and return every incoming message that arrived meanwhile (J7 checks)."""
        mark = self.wirelog.mark()
        await asyncio.sleep(seconds)
        return [e for e in self.wirelog.since(mark) if e.direction == "in" and e.channel not in ("stderr",)]

    async def settle(self, seconds: float) -> list[WireEntry]:
        """quiet_period that ends once the server has shown it read what came before: a liveness
        ping (server/discover when stateless) sent now is answered after it, so when its answer
        comes, late_answer_grace() more is enough; without an answer within `seconds`, that is
        the wait. Returns what arrived meanwhile but the ping's own answer."""
        mark = self.wirelog.mark()
        t0 = time.monotonic()
        fence = await self.liveness_ping(seconds)
        if fence.answered:
            await asyncio.sleep(min(max(0.0, seconds - (time.monotonic() - t0)), late_answer_grace(fence.elapsed)))
        own = fence.response_entry
        return [e for e in self.wirelog.since(mark) if e.direction == "in" and e.channel not in ("stderr",) and e is not own]

    # ----------------------------------------------------------------- reader
    async def _read_loop(self) -> None:
        while True:
            entry = await self.transport.incoming.get()
            if entry is None:
                reason = self.transport.closed_reason or "transport closed"
                for fut, ex in list(self._pending.values()):
                    if not fut.done():
                        fut.set_exception(TransportError(reason))
                self._pending.clear()
                return
            try:
                await self._dispatch(entry)
            except Exception as exc:  # never let one odd message kill the reader
                self.wirelog.record("in", "event", f"mcpcheck could not dispatch a message: {exc!r}")

    async def _dispatch(self, entry: WireEntry) -> None:
        msg = entry.parsed
        if not isinstance(msg, dict):
            return  # non-JSON or batch: recorded in the WireLog, judged by checks
        if "method" in msg:
            if "id" in msg and msg.get("id") is not None:
                self.server_requests.append(entry)
                await self._answer_server_request(msg)
            else:
                if self._cut and self._cut_progress(msg):
                    return  # progress of a request --max-time gave up on: in the WireLog, never judged
                self.notifications.append(entry)
                for _fut, ex in self._pending.values():
                    ex.extra.append(entry)
                for watch in list(self._watchers):
                    watch(entry)
            return
        if "result" in msg or "error" in msg or "id" in msg:
            self._resolve(msg, entry)

    def _cut_progress(self, msg: Any) -> bool:
        """Is this notifications/progress for a request --max-time gave up waiting for?"""
        if not isinstance(msg, dict) or msg.get("method") != "notifications/progress" or not isinstance(msg.get("params"), dict):
            return False
        return f"progress:{id_key(msg['params'].get('progressToken'))}" in self._cut

    def _resolve(self, msg: dict[str, Any], entry: WireEntry) -> None:
        rid = msg.get("id")
        item = self._pending.pop(id_key(rid), None)
        loose = False
        if item is None:
            # Same id with another type (1 vs "1"): deliver it, flag it (J4).
            for k, (fut, ex) in list(self._pending.items()):
                sent = ex.request.get("id") if isinstance(ex.request, dict) else None
                if rid is not None and str(sent) == str(rid):
                    item = self._pending.pop(k)
                    loose = True
                    break
        if item is None:
            if id_key(rid) not in self._cut:  # the late answer to a request --max-time gave up on is not judged
                self.unmatched.append(entry)
            return
        fut, ex = item
        ex.response = msg
        ex.response_entry = entry
        ex.loose_id_match = loose
        if entry.http:
            ex.http = entry.http
        if not fut.done():
            fut.set_result(msg)

    def _unanswered(self, request_id: Any, reason: str, entry: WireEntry | None) -> None:
        """Transport hook: the request's own HTTP exchange ended without its response (error
        page, 202, id-less error). End the wait now, as a transport error, instead of at the
        timeout; the entry (if any) becomes the exchange's evidence and HTTP status."""
        item = self._pending.pop(id_key(request_id), None)
        if item is None:
            return
        fut, ex = item
        if entry is not None:
            ex.response_entry = entry
            if entry.http:
                ex.http = entry.http
        if not fut.done():
            fut.set_exception(TransportError(reason))

    async def _answer_server_request(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "ping":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg["id"], "result": {}}
        elif method == "roots/list" and "roots" in self.capabilities:
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": {"roots": []}}
        else:
            reply = {
                "jsonrpc": "2.0",
                "id": msg["id"],
                "error": {"code": -32601, "message": f"mcpcheck does not offer {method}"},
            }
        try:
            await self.transport.send(reply)
        except TransportError:
            pass

    # ----------------------------------------------------------------- protocol eras
    async def initialize(
        self, version: str = HANDSHAKE_LATEST, *, capabilities: dict[str, Any] | None = None, send_initialized: bool = True
    ) -> Exchange:
        """Handshake era: initialize, then notifications/initialized (L1)."""
        params = {
            "protocolVersion": version,
            "capabilities": self.capabilities if capabilities is None else capabilities,
            "clientInfo": self.client_info,
        }
        ex = await self.request("initialize", params, meta=False)
        if ex.ok and isinstance(ex.result, dict):
            self.initialize_result = ex.result
            negotiated = ex.result.get("protocolVersion")
            self.set_revision(negotiated if isinstance(negotiated, str) else version)
            self.stateless = False
            self.transport.stateless = False
            if hasattr(self.transport, "on_initialized"):
                self.transport.on_initialized(ex)  # HTTP: remember Mcp-Session-Id
            if send_initialized:
                await self.notify("notifications/initialized", meta=False)
        return ex

    async def discover(self, version: str = LATEST, *, timeout: float | None = None) -> Exchange:
        """Stateless era (2026-07-28): server/discover with the per-request envelope (V2)."""
        self.set_revision(version)
        ex = await self.request("server/discover", {}, meta=True, timeout=timeout)
        if ex.ok and isinstance(ex.result, dict):
            self.discover_result = ex.result
        return ex

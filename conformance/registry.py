"""The check registry: every check, built-in or plugin, is one decorated function stored here.

    from mcpcheck import check, ExchangeContext, Violation

    @check("acme.no_empty_error_message", category="protocol.jsonrpc_shape", severity="low",
           title="Error messages are not empty", scope="exchange", rule="J5", level="MUST")
    def no_empty_error_message(ctx: ExchangeContext, ex):
        if ex.error is not None and not ex.error.get("message"):
            yield Violation(f"{ex.method}: error with an empty message", ex.evidence())

A check yields (or raises) `Violation`s; the campaign that judges its scope turns them into
Findings with evidence and a reproduce command. Each scope has ONE signature:

| scope       | signature                                   | judged on                                  |
|-------------|---------------------------------------------|--------------------------------------------|
| `exchange`  | `fn(ctx: ExchangeContext, ex: Exchange)`     | every request/response pair of every       |
|             |                                             | session of every campaign                  |
| `log`       | `fn(ctx: LogContext, log: SessionLog)`       | every session's whole recording, once it   |
|             |                                             | is closed (notifications, server requests, |
|             |                                             | stray lines, unsolicited responses)        |
| `tool_call` | `fn(ctx: ToolCallContext, call: ToolCall)`   | every tool call a campaign makes           |
| `listing`   | `fn(ctx: ListingContext, listing: Listing)`  | the tools/prompts/resources/templates a    |
|             |                                             | session listed                             |
| `session`   | `async fn(ctx: SessionContext)`              | an active probe: gets a live session       |
| `run`       | `fn(ctx: RunContext, result: Any)`           | load and workflow results                  |

Checks are pure except `session` probes, which do their I/O through `ctx.session`. A check
that raises anything but a Violation is reported as an error entry of the run (the run goes on).
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Iterator, Literal

from .findings import CATEGORIES, CheckSpec, Severity, Violation
from .session import Exchange, Session
from .wirelog import WireEntry

Scope = Literal["exchange", "log", "tool_call", "listing", "session", "run"]
SCOPES: tuple[str, ...] = ("exchange", "log", "tool_call", "listing", "session", "run")
LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", "hint", "JSON-RPC", "-")

# Severity follows the spec level of the rule a check cites (issue 12): a MUST violation is
# medium..critical, a SHOULD violation low..medium; MAY, annotation hints, JSON-RPC 2.0
# conventions MCP repeats without a keyword ("JSON-RPC", e.g. the error codes of J6) and rules
# with no keyword at all ("-": e.g. J8, T9, or behaviour the spec leaves unspecified such as
# batches after 2025-03-26) are at most low. `info` is an observation, allowed at every level.
# Checks that cite no spec rule (load and workflow expectations the user configured) are free.
LEVEL_SEVERITIES: dict[str, tuple[Severity, ...]] = {
    "MUST": (Severity.medium, Severity.high, Severity.critical),
    "MUST NOT": (Severity.medium, Severity.high, Severity.critical),
    "SHOULD": (Severity.low, Severity.medium),
    "SHOULD NOT": (Severity.low, Severity.medium),
    "MAY": (),
    # annotations are hints (T13): low; medium only for a proven side effect of a tool annotated
    # readOnly/idempotent (the earlier result never comes back; issue 13 class 2)
    "hint": (Severity.low, Severity.medium),
    "JSON-RPC": (Severity.low,),
    "-": (Severity.low,),
}


def severity_fits(level: str | None, severity: Severity | str) -> bool:
    """Whether `severity` is one a violation of a rule at `level` may have (LEVEL_SEVERITIES);
    an unknown level fits nothing but info, no level (no rule cited) fits everything."""
    sev = Severity(severity)
    if sev == Severity.info or not level:
        return True
    return sev in LEVEL_SEVERITIES.get(level, ())


class Skip(Exception):
    """Raised by a check when what it got is not something it judges (with the reason); a check
    that judged nothing in a whole run is reported "skipped" with the last reason."""


class CheckDefinitionError(ValueError):
    """A check's metadata is wrong (unknown scope, category, severity; duplicate id)."""


# --------------------------------------------------------------------------- what checks judge


@dataclass
class CheckContext:
    """What every check may know about where a thing was observed."""

    target: str = ""
    transport: str = "stdio"
    revision: str | None = None
    campaign: str = "conformance"
    stateless: bool = False
    capabilities: dict[str, Any] = field(default_factory=dict)  # the server's declared capabilities


@dataclass
class ExchangeContext(CheckContext):
    """`deliberate`: mcpcheck sent this request malformed on purpose (its answer is judged by
    the envelope checks, not by the shape rules for ordinary requests)."""

    deliberate: bool = False


@dataclass
class LogContext(CheckContext):
    pass


@dataclass
class ToolCallContext(CheckContext):
    pass


@dataclass
class ListingContext(CheckContext):
    pass


@dataclass
class RunContext(CheckContext):
    pass


@dataclass
class SessionContext(CheckContext):
    """What an active (`session`) check gets: a live session and what the campaign learned.

    session: the era's live session (re-read it after a call that may have killed the server: the
    campaign restarts it). config: the mcpcheck.config.Target under test (open extra sessions
    with mcpcheck.connect.open_session(ctx.config, ctx.revision)). state: what the campaign
    shares with its probes (the era's listings, settings). `await ctx.once(key, make)` runs the
    I/O `make()` once per session and hands every check the same result, so two checks that judge
    one exchange do not send it twice.
    """

    session: Any = None  # mcpcheck.session.Session
    config: Any = None  # mcpcheck.config.Target
    state: Any = None
    memo: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[str], None] = lambda _m: None

    async def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """`await make()` the first time `key` is asked for in this era, its value after; a
        second asker while the first is still waiting (an isolated probe) waits for the same."""
        if key in self.memo:
            return self.memo[key]
        flight = "\0in flight: " + key
        fut = self.memo.get(flight)
        if fut is None:
            fut = self.memo[flight] = asyncio.ensure_future(make())
        try:
            value = await asyncio.shield(fut)
        finally:
            if fut.done():
                self.memo.pop(flight, None)
        self.memo[key] = value
        return value


@dataclass
class SessionLog:
    """One closed session's recording, as the `log` scope sees it."""

    exchanges: list[Exchange]
    entries: list[WireEntry]  # every wire entry in and out, in order
    unmatched: list[WireEntry]  # responses to ids the client never sent
    notifications: list[WireEntry]  # notifications the server sent
    server_requests: list[WireEntry]  # requests the server sent
    client_capabilities: dict[str, Any]  # what mcpcheck declared
    closed_reason: str | None = None  # why the transport ended (None: still open)
    expected_exit: bool = False  # a probe ended the server on purpose (e.g. stdin EOF)
    stderr: str = ""  # the tail of the server's stderr (stdio)

    @classmethod
    def of(cls, s: Session) -> "SessionLog":
        entries = list(s.wirelog.entries)
        return cls(
            exchanges=list(s.exchanges),
            entries=entries,
            unmatched=list(s.unmatched),
            notifications=list(s.notifications),
            server_requests=list(s.server_requests),
            client_capabilities=dict(s.capabilities or {}),
            closed_reason=s.transport.closed_reason,
            expected_exit=bool(getattr(s, "expected_exit", False)),
            stderr=s.wirelog.stderr_text(1500),
        )

    @property
    def incoming(self) -> list[WireEntry]:
        return [e for e in self.entries if e.direction == "in"]


@dataclass
class ToolCall:
    """One tools/call as a campaign made it, and what it is meant to show.

    kind: "valid" (schema-valid arguments), "invalid" (one constraint broken: `constraint` at
    `where`; `soft` when the break is one a server may accept, e.g. an unknown `format`),
    "injected" (hostile strings), "repeat" (the same arguments again; `first` holds the earlier
    call), "observed" (`before`/`after` are calls of read-only `observer` around this call),
    "oversized" (one string field, `where`, holds a string of the size `constraint` names) and
    "unicode" (one string field, `where`, holds the odd-unicode payload `constraint` names).
    """

    tool: dict[str, Any]
    arguments: Any
    exchange: Exchange
    kind: str = "valid"
    elapsed: float | None = None
    constraint: str | None = None
    where: str | None = None
    soft: bool = False
    first: Exchange | None = None
    further: tuple[Exchange, ...] = ()  # "repeat": more identical calls after this one (side effects)
    observer: str | None = None
    observer_arguments: Any = None
    before: Exchange | None = None
    after: Exchange | None = None
    secrets: tuple[str, ...] = ()  # canaries planted in the server's environment
    alive: bool = True  # the server was still there after the call
    closed_reason: str | None = None  # why the transport ended, when it did
    # after a call that failed or timed out: did the server answer a liveness ping (ping;
    # server/discover in the stateless era)? None: not asked (the call went fine, or the
    # transport is gone, which is evidence enough). A crash needs evidence: not alive, or False.
    ping_answered: bool | None = None
    stderr: str = ""  # the tail of the server's stderr (stdio), for crash findings
    timeout: float | None = None  # the request timeout the call had
    stdout: list[WireEntry] = field(default_factory=list)  # stdout lines between request and answer

    @property
    def name(self) -> str:
        return str(self.tool.get("name"))


@dataclass
class Listing:
    """What one session listed (each list walked to its end), with the exchanges that show it."""

    tools: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[str, list[Exchange]] = field(default_factory=dict)  # list method -> pages
    stop: dict[str, str] = field(default_factory=dict)  # list method -> why the walk stopped
    instructions: str | None = None  # the server's `instructions` (initialize / server/discover)


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Check:
    """A registered check: its metadata (`spec`) and the function itself."""

    spec: CheckSpec
    fn: Callable[..., Any]
    scope: str
    origin: str  # "mcpcheck" for built-ins, else the plugin that registered it
    per_tool: bool = False  # judged per tool it calls (the pytest plugin's TARGET::CHECK[TOOL] items)
    isolated: bool = False  # a `session` probe on sessions of its own: may run beside the others

    @property
    def id(self) -> str:
        return self.spec.id

    def __getattr__(self, name: str) -> Any:  # category, severity, title, rule, finding(...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.spec, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


class Registry:
    """Checks by id, in registration order."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self.origin = "mcpcheck"  # set while a plugin module is imported

    def add(self, c: Check) -> Check:
        old = self._checks.get(c.id)
        if old is not None and (old.spec != c.spec or old.origin != c.origin):
            raise CheckDefinitionError(f"check {c.id!r} registered twice (by {old.origin} and {c.origin})")
        self._checks[c.id] = c
        return c

    def remove(self, check_id: str) -> None:
        self._checks.pop(check_id, None)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def __getitem__(self, check_id: str) -> CheckSpec:
        return self._checks[check_id].spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def get(self, check_id: str) -> CheckSpec | None:
        c = self._checks.get(check_id)
        return c.spec if c else None

    def check(self, check_id: str) -> Check:
        return self._checks[check_id]

    def values(self) -> list[CheckSpec]:
        return [c.spec for c in self._checks.values()]

    def items(self) -> list[tuple[str, CheckSpec]]:
        return [(k, c.spec) for k, c in self._checks.items()]

    def checks(self) -> list[Check]:
        return list(self._checks.values())

    def for_scope(self, scope: str, campaign: str | None = None) -> list[Check]:
        return [c for c in self._checks.values() if c.scope == scope and (campaign is None or c.spec.campaign == campaign)]


REGISTRY = Registry()


def check(
    id: str,
    *,
    category: str,
    severity: Severity | str,
    title: str,
    scope: str,
    rule: str | None = None,
    level: str | None = None,
    revisions: str = "all",
    campaign: str | None = None,
    description: str = "",
    per_tool: bool = False,
    isolated: bool = False,
) -> Callable[[Callable[..., Any]], Check]:
    """Register the decorated function as a check (see the module docstring for the scopes).

    campaign: which campaign runs it; defaults by scope (`tool_call` checks belong to fuzz,
    `run` checks must name theirs: "load" or "workflow"; the rest to "conformance").
    per_tool: the check calls tools and names the tool in its findings, so the pytest plugin
    gives it one item per tool (set it on `session` probes that call every tool).
    isolated: a `session` probe that never touches the live session (`ctx.session`), only
    sessions and server processes it opens itself; the campaign runs such probes one after
    another in a lane beside the others (their waits overlap; in line for a target with
    `jobs = 1`), and records them in registration order as always.
    """
    if scope not in SCOPES:
        raise CheckDefinitionError(f"check {id!r}: unknown scope {scope!r} (one of {', '.join(SCOPES)})")
    if category not in CATEGORIES:
        raise CheckDefinitionError(f"check {id!r}: unknown category {category!r}")
    try:
        sev = Severity(severity)
    except ValueError:
        raise CheckDefinitionError(f"check {id!r}: unknown severity {severity!r}") from None
    if not id or any(c.isspace() for c in id):
        raise CheckDefinitionError(f"check id {id!r} must be a non-empty word such as 'acme.my_rule'")
    camp = campaign or {"tool_call": "fuzz"}.get(scope, "conformance")
    spec = CheckSpec(id=id, category=category, severity=sev, title=title, rule=rule, level=level, revisions=revisions, campaign=camp, description=description or "")

    def deco(fn: Callable[..., Any]) -> Check:
        want_async = scope == "session"
        if (inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)) != want_async:
            raise CheckDefinitionError(f"check {id!r}: scope {scope!r} takes {'an async' if want_async else 'a plain'} function")
        n = len(inspect.signature(fn).parameters)
        need = 1 if scope == "session" else 2
        if n != need:
            raise CheckDefinitionError(f"check {id!r}: a {scope!r} check takes {need} argument(s), {fn.__name__} takes {n}")
        if isolated and scope != "session":
            raise CheckDefinitionError(f"check {id!r}: only a 'session' check can be isolated")
        return REGISTRY.add(Check(spec=spec, fn=fn, scope=scope, origin=REGISTRY.origin, per_tool=per_tool, isolated=isolated))

    return deco


# --------------------------------------------------------------------------- running checks


@dataclass
class CheckError:
    """A check that raised something other than a Violation (reported, never a crash)."""

    check: str
    origin: str
    error: str


def violations_of(out: Iterable[Violation] | None) -> list[Violation]:
    return [v for v in (out or []) if isinstance(v, Violation)]


def call_check(c: Check, *args: Any) -> tuple[list[Violation], CheckError | Skip | None]:
    """Run a plain (non-session) check: its violations, or the error (or Skip) it raised."""
    try:
        return violations_of(c.fn(*args)), None
    except Violation as v:
        return [v], None
    except Skip as skip:
        return [], skip
    except Exception as exc:  # noqa: BLE001 - a broken check is an error entry, not a crash
        return [], CheckError(c.id, c.origin, f"{type(exc).__name__}: {exc}")


async def call_probe(c: Check, ctx: Any) -> tuple[list[Violation], CheckError | Skip | None]:
    """Run a `session` check; an async generator or a coroutine returning violations."""
    found: list[Violation] = []
    try:
        out = c.fn(ctx)
        if inspect.isasyncgen(out):
            async for v in out:
                if isinstance(v, Violation):
                    found.append(v)
            return found, None
        return violations_of(await out), None
    except Violation as v:
        return [*found, v], None
    except Skip as skip:
        return found, (skip if not found else None)
    except Exception as exc:  # noqa: BLE001
        from .transport.base import TransportError

        if isinstance(exc, TransportError):
            raise
        return [], CheckError(c.id, c.origin, f"{type(exc).__name__}: {exc}")


Probe = Callable[[Any], Awaitable[Any]]

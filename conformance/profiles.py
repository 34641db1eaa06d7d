"""Named run profiles (`mcpcheck run --profile NAME`) and `--campaign all`.

A profile is a list of campaigns, fuzz sizes and a default `--max-time`; explicit options
(`--campaign`, `--max-examples`, `--max-time`) override the profile's. `all` and the `full` and
`nightly` profiles mean every campaign that applies to the target's transport (http-security
only over Streamable HTTP). Low layer: imports nothing from mcpcheck.

The `quick` profile (every pull request, aim: 30 s on a 5-tool server) also leaves out the
heaviest work, and says so in the report (`quick profile: ... not run; run --profile full`):
- `leave_out`: conformance checks not run at all (the tool-calling concurrency and cancellation
  probes, seconds of timed calls per era);
- `first_era_only`: checks run in the first protocol era only (framing and process-level probes
  that do not change with the era);
- `fuzz`: FuzzSettings overrides (a capped constraint sweep, most informative constraints first;
  no read-only observer probe; strings up to 64 KiB and no lone surrogates, which a server may
  drop so that each costs a whole --timeout);
- `short_waits`: probes that wait for the server to stay silent wait less (a shorter wait can
  only miss, never invent, a finding).
`use(profile)` makes a profile the run's (a context variable, as budget.use does) and
`active()` reads it where the campaigns decide; `activate()` (the CLI) also names it in
MCPCHECK_RUN_PROFILE for the worker processes a --jobs run starts.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

# every campaign `mcpcheck run` knows, in the order a run executes them
CAMPAIGNS: dict[str, str] = {
    "conformance": "spec rules that need no generated input (default)",
    "replay": "re-run every corpus/ entry",
    "fuzz": "per-tool property-based fuzzing of tools/call",
    "stateful": "Hypothesis state machine over one session",
    "envelope": "malformed JSON-RPC envelopes",
    "security": "canary-proven injection probes, poisoning, rug pulls",
    "http-security": "authorization, sessions, rate limits, schemathesis (Streamable HTTP only)",
}
ALL = "all"
HTTP_ONLY = {"http-security"}


def applies(campaign: str, transport: str) -> bool:
    """Does this campaign apply to a target on this transport?"""
    return campaign not in HTTP_ONLY or transport == "http"


@dataclass(frozen=True)
class Profile:
    name: str
    campaigns: tuple[str, ...]
    max_examples: int
    max_time: float  # seconds: the default --max-time
    stateful_steps: int | None = None
    about: str = ""
    leave_out: tuple[str, ...] = ()  # check ids not run (skipped with a note)
    first_era_only: tuple[str, ...] = ()  # check ids run in the first era only
    fuzz: dict[str, Any] = field(default_factory=dict)  # FuzzSettings overrides
    short_waits: bool = False  # silence-expecting probes wait less
    tool_seconds: float | None = 20.0  # fuzz: the per-tool cap per protocol era (--tool-time); None: none

    def skip_reason(self, check_id: str, era_index: int) -> str | None:
        """Why this profile does not run a check in the era_index-th era (None: it runs)."""
        if check_id in self.leave_out:
            return f"{self.name} profile: not run (run --profile full)"
        if era_index > 0 and check_id in self.first_era_only:
            return f"{self.name} profile: run in the first protocol era only (run --profile full for every era)"
        return None

    def note(self, what: str) -> str:
        """The report's note for something this profile leaves out."""
        return f"{self.name} profile: {what} not run; run --profile full"


# quick: the probes it leaves out and what each costs on the clean fixture (two eras)
QUICK_LEAVE_OUT = (
    "cancellation.slow_call",  # 5-10 s per era: timing candidates, then up to 3 cancel trials
    "concurrency.tool_calls",  # 2.5-8 s per era: each input alone twice, then all at once
    "tasks.lifecycle",  # 3-6 s per era (up to 15 s): one experimental task polled to its end
    "mrtr.missing_input",  # ~7 s: up to six tool calls asking whether a tool wants input
)
QUICK_FIRST_ERA_ONLY = (
    "jsonrpc.null_id_rejected", "jsonrpc.invalid_request", "jsonrpc.batch_rejected", "jsonrpc.notification_no_reply",
    "stdio.survives_garbage", "concurrency.burst", "stdio.exit_on_eof",
)
QUICK_FUZZ: dict[str, Any] = {
    "max_sweep": 8,  # constraint-sweep cases per tool, one per constraint kind first
    "sweep_case_seconds": 1.0,  # generating one sweep case may take this long (nested targets take seconds)
    "read_only_probe": False,  # observer / tool / observer: three calls per example per observer
    "max_string_bytes": 64 * 1024,
    "surrogates": False,
}


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "quick", ("conformance", "fuzz"), 10, 60,
            about="every pull request: conformance and a short fuzz (aim: 30 s on a 5-tool server; the heaviest probes run in full)",
            leave_out=QUICK_LEAVE_OUT, first_era_only=QUICK_FIRST_ERA_ONLY, fuzz=QUICK_FUZZ, short_waits=True, tool_seconds=10.0,
        ),
        Profile("full", tuple(CAMPAIGNS), 25, 900, about="every campaign that applies to the transport"),
        Profile("nightly", tuple(CAMPAIGNS), 500, 3600, about="every campaign, long fuzz (500 examples per tool and mode, no per-tool cap)", tool_seconds=None),
    )
}


DEFAULT_TOOL_SECONDS = 20.0  # the per-tool fuzz cap of a CLI run without a profile (as `full`)
TOOL_SECONDS_ENV = "MCPCHECK_TOOL_SECONDS"  # read by FuzzSettings (campaigns/fuzz.py), here and in --jobs workers


def tool_seconds(flag: float | None, profile: "Profile | None") -> float | None:
    """The run's per-tool fuzz cap: --tool-time, else MCPCHECK_TOOL_SECONDS, else the profile's,
    else DEFAULT_TOOL_SECONDS; made the default of every FuzzSettings of this process and of the
    worker processes it starts (the environment). None: no cap (the nightly profile)."""
    if flag is not None:
        cap: float | None = flag
    elif os.environ.get(TOOL_SECONDS_ENV):
        cap = float(os.environ[TOOL_SECONDS_ENV]) or None
    else:
        cap = profile.tool_seconds if profile is not None else DEFAULT_TOOL_SECONDS
    os.environ[TOOL_SECONDS_ENV] = f"{cap:g}" if cap else "0"
    return cap


_UNSET: Any = object()
_active: contextvars.ContextVar[Any] = contextvars.ContextVar("mcpcheck_profile", default=_UNSET)
ENV = "MCPCHECK_RUN_PROFILE"  # set by `mcpcheck run` for the processes it starts (--jobs workers)


def active() -> "Profile | None":
    """The profile of the current run (None: no profile, everything the campaigns select runs):
    the one `use()` / `activate()` set in this context, else (a --jobs worker process, which
    inherits the environment) the one named in MCPCHECK_RUN_PROFILE."""
    profile = _active.get()
    if profile is _UNSET:
        return PROFILES.get(os.environ.get(ENV, ""))
    return profile


@contextlib.contextmanager
def use(profile: "Profile | None") -> Iterator["Profile | None"]:
    token = _active.set(profile)
    try:
        yield profile
    finally:
        _active.reset(token)


def activate(profile: "Profile | None") -> None:
    """Make `profile` the current context's, and the processes' this one starts (the CLI's run:
    one per process)."""
    _active.set(profile)
    if profile is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = profile.name


def silence_wait(seconds: float, short: float) -> float:
    """How long a probe that expects the server to stay silent waits: `short` under a profile
    with short_waits (quick), else `seconds`."""
    profile = active()
    return short if profile is not None and profile.short_waits else seconds


def expand(names: list[str]) -> tuple[list[str], bool]:
    """Campaign names with `all` expanded; the bool says whether `all` was asked for (then the
    campaigns that do not apply to a target's transport are left out for that target)."""
    out: list[str] = []
    wants_all = False
    for n in names:
        if n == ALL:
            wants_all = True
            out.extend(CAMPAIGNS)
        else:
            out.append(n)
    return list(dict.fromkeys(out)), wants_all


def help_text() -> str:
    campaigns = "; ".join(f"{k}: {v}" for k, v in CAMPAIGNS.items())
    return campaigns + f"; {ALL}: every campaign that applies to the transport"


def profile_help() -> str:
    return "; ".join(f"{p.name}: {p.about} (--max-time {p.max_time:g}s by default)" for p in PROFILES.values())

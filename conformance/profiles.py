"""Named run profiles (`mcpcheck run --profile NAME`) and `--campaign all`.

A profile is a list of campaigns, fuzz sizes and a default `--max-time`; explicit options
(`--campaign`, `--max-examples`, `--max-time`) override the profile's. `all` and the `full` and
`nightly` profiles mean every campaign that applies to the target's transport (http-security
only over Streamable HTTP). Low layer: imports nothing from mcpcheck.
"""

from __future__ import annotations

from dataclasses import dataclass

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


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("quick", ("conformance", "fuzz"), 10, 60, about="every pull request: conformance and a short fuzz (aim: 30 s on a 5-tool server)"),
        Profile("full", tuple(CAMPAIGNS), 25, 900, about="every campaign that applies to the transport"),
        Profile("nightly", tuple(CAMPAIGNS), 500, 3600, about="every campaign, long fuzz (500 examples per tool and mode)"),
    )
}


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

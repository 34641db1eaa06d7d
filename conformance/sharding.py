"""Sharded campaigns: N machines split one campaign's work, with no overlap and no gap.

A *work unit* is one (target, tool, property) of the fuzz campaign, e.g. (`my-server`, `add`,
`valid`), or one whole campaign of a target that is not split per tool, e.g. (`my-server`, `*`,
`stateful`). `--shard I/N` runs the units whose shard is I:

    shard(unit) = (H(target, tool) + ORDER[property] + rotation) mod N        (0-based; I = that + 1)

H is the first 8 bytes of sha256 over `target NUL tool`: the same on every machine, Python
version and run, and independent of the other units, so every shard decides on its own (no
coordinator, no shared list) and a tool added to the server moves no other unit. ORDER puts a
tool's properties (and a target's campaigns) on consecutive shards, so a tool's valid and invalid
searches, the two big ones, land on different machines whenever N > 1.

`rotation` (`--shard-rotation K`, e.g. the night number) moves every unit K shards on: with the
shared Hypothesis database (`--database redis://...`) a failure one machine saved on night 1 is
replayed on night 2 by whichever machine has the unit then, because the database is keyed by
(target, tool, property), never by shard (engine.ToolRunner.keyed).

Only which units run depends on the shard; what a unit generates depends on the seed alone, so a
given seed + shard gives the same work and the same findings as the same units of an unsharded
run with that seed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Per-tool properties of the fuzz campaign, then the campaigns that are one unit per target.
ORDER: dict[str, int] = {
    "valid": 0,
    "invalid": 1,
    "idempotency": 2,
    "read-only": 3,
    "stateful": 4,
    "conformance": 5,
    "security": 6,
    "envelope": 7,
    "http-security": 8,
    "replay": 9,
}
WHOLE_TARGET = "*"  # the tool of a unit that is a whole campaign


def _order(prop: str) -> int:
    if prop in ORDER:
        return ORDER[prop]
    # a campaign added later: a stable position of its own, after the known ones
    return len(ORDER) + int.from_bytes(hashlib.sha256(prop.encode()).digest()[:2], "big")


def unit_hash(target: str, tool: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{target}\0{tool}".encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`, with the assignment moved on by `rotation`."""

    index: int
    count: int
    rotation: int = 0
    by_tool: bool = False  # every property of a tool in one shard (--jobs parts: one process sees all of a tool's calls, so its per-tool cap holds)
    tools: tuple[str, ...] = ()  # by_tool: the target's tools in listing order, dealt out in turn (an even split of few tools)

    def shard_of(self, target: str, tool: str, prop: str) -> int:
        """The 1-based shard that runs the unit (target, tool, prop)."""
        if self.by_tool and tool in self.tools:
            return (self.tools.index(tool) + self.rotation) % self.count + 1
        return (unit_hash(target, tool) + (0 if self.by_tool else _order(prop)) + self.rotation) % self.count + 1

    def owns(self, target: str, tool: str, prop: str) -> bool:
        return self.shard_of(target, tool, prop) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}" + (f" (rotation {self.rotation})" if self.rotation else "")


def parse_shard(text: str, rotation: int = 0) -> Shard:
    """`I/N` with 1 <= I <= N; ValueError with a one-line reason otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m:
        raise ValueError(f"expected I/N (e.g. 1/4), got {text!r}")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"{text!r}: I must be between 1 and N (shards are numbered 1..N)")
    return Shard(index, count, rotation)


def unit_name(tool: str, prop: str) -> str:
    return f"{tool}:{prop}"


def note(shard: Shard, campaign: str, ran: list[str], total: int) -> str:
    """The report note that says which units this shard ran (tests and humans read it)."""
    listed = ", ".join(sorted(ran)) if ran else "none"
    return f"shard {shard}: {campaign} ran {len(ran)} of {total} work units here: {listed}"

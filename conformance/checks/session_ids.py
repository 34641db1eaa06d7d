"""Session-id predictability: pure analysis of a sample of Mcp-Session-Id values (issue order).

The transport spec (H8) says session ids SHOULD be cryptographically secure (a UUID, a JWT, a
hash) and MUST be visible ASCII. One id says little about predictability; a sample of several
says a lot: positions that never change are structure, not entropy; digit runs that climb by
small steps are counters; digit runs close to the current time are timestamps; a version-1 UUID
is a timestamp plus a MAC address.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

HEX = set("0123456789abcdefABCDEF")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-([0-9a-fA-F])[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIGITS = re.compile(r"\d+")
_HEXRUN = re.compile(r"[0-9a-fA-F]+")


def _alphabet_bits(chars: set[str]) -> float:
    if not chars:
        return 0.0
    if chars <= set("0123456789"):
        return math.log2(10)
    if chars <= HEX:
        return 4.0
    if chars <= set("0123456789abcdefghijklmnopqrstuvwxyz") or chars <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        return math.log2(36)
    if chars <= set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        return math.log2(62)
    return 6.0


@dataclass
class IdAnalysis:
    samples: int
    bits: float  # estimated unpredictable bits per id
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key, description)
    common_prefix: str = ""
    common_suffix: str = ""


def _common_prefix(ids: list[str]) -> str:
    if not ids:
        return ""
    p = ids[0]
    for s in ids[1:]:
        while not s.startswith(p):
            p = p[:-1]
    return p


def _common_suffix(ids: list[str]) -> str:
    return _common_prefix([s[::-1] for s in ids])[::-1]


def estimate_bits(ids: list[str]) -> float:
    """Unpredictable bits per id. Same-length ids: per position, log2(alphabet) when the
    position varies across the sample, 0 when it never changes. Mixed lengths: the varying
    middle (after the common prefix/suffix) times its alphabet."""
    if not ids:
        return 0.0
    if len(ids) == 1:
        return len(ids[0]) * _alphabet_bits(set(ids[0]))
    if len({len(s) for s in ids}) == 1:
        bits = 0.0
        alphabet = _alphabet_bits(set("".join(ids)))
        for i in range(len(ids[0])):
            column = {s[i] for s in ids}
            if len(column) > 1:
                bits += min(alphabet, _alphabet_bits(column) if len(column) > 2 else alphabet)
        return bits
    pre, suf = _common_prefix(ids), _common_suffix(ids)
    middles = [s[len(pre) : len(s) - len(suf) if suf else len(s)] for s in ids]
    return (sum(len(m) for m in middles) / len(middles)) * _alphabet_bits(set("".join(middles)))


def _runs(ids: list[str], pattern: re.Pattern[str]) -> list[list[str]]:
    """Runs at the same index in every id (only when all ids split into the same number of runs)."""
    split = [pattern.findall(s) for s in ids]
    if not split or len({len(r) for r in split}) != 1:
        return []
    return [[r[i] for r in split] for i in range(len(split[0]))]


def _climbs(values: list[int], max_step: int) -> bool:
    steps = [b - a for a, b in zip(values, values[1:])]
    return bool(steps) and all(0 < d <= max_step for d in steps)


def analyze(ids: list[str], *, now: float | None = None) -> IdAnalysis:
    now = time.time() if now is None else now
    out = IdAnalysis(samples=len(ids), bits=estimate_bits(ids))
    if len(ids) < 2:
        return out
    out.common_prefix, out.common_suffix = _common_prefix(ids), _common_suffix(ids)
    if len(set(ids)) < len(ids):
        out.problems.append(("reused", "the same id was issued to more than one session"))
    # counters: a digit run (or a hex run in otherwise-constant ids) that climbs by small steps
    for column in _runs(ids, _DIGITS):
        if len(set(column)) > 1 and _climbs([int(v) for v in column], 1000):
            out.problems.append(("counter", f"a numeric part climbs by small steps across sessions ({', '.join(column[:4])}, ...): a counter"))
            break
        stamps = [int(v) for v in column]
        for scale, unit in ((1, "seconds"), (1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds")):
            if all(abs(v / scale - now) < 86400 * 2 for v in stamps):
                out.problems.append(("timestamp", f"a numeric part is the current time in {unit} ({column[0]}): a timestamp"))
                break
    else:
        pass
    if not any(k == "counter" for k, _ in out.problems):
        for column in _runs(ids, _HEXRUN):
            if len(set(column)) > 1 and all(len(v) <= 16 for v in column):
                if _climbs([int(v, 16) for v in column], 1 << 16):
                    out.problems.append(("counter", f"a hexadecimal part climbs by small steps across sessions ({', '.join(column[:4])}, ...): a counter"))
                    break
    versions = {m.group(1) for s in ids if (m := _UUID.match(s))}
    if versions and versions <= {"1", "2", "6", "7"} and len(versions) == 1:
        v = next(iter(versions))
        if v in ("1", "2", "6"):
            out.problems.append(("uuid-time", f"the ids are version-{v} UUIDs: a timestamp and a node id, not random"))
    if out.bits < 64:
        structure = ""
        if out.common_prefix or out.common_suffix:
            structure = f" (every id shares the prefix {out.common_prefix!r}" + (f" and suffix {out.common_suffix!r}" if out.common_suffix else "") + ")"
        out.problems.append(("low-entropy", f"only ~{out.bits:.0f} bits vary across {len(ids)} ids{structure}; ids SHOULD carry at least ~64-128 random bits"))
    return out

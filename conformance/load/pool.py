"""The input pool: valid tool arguments drawn from the strategies BEFORE the clock starts.

Generation (Hypothesis + the validity oracle) costs milliseconds per input; doing it inside the
timed section would measure mcpcheck, not the server. So every tool's inputs are drawn up front
into a fixed list, and the load loop only picks from it (tool by weight, then an input at
random). The same pool feeds the Locust user (conformance/load/locust_user.py).
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis.errors import Unsatisfiable

from mcpcheck.strategies import plan_valid

from ..safety import may_call
from ..config import Safety


@dataclass
class PoolItem:
    index: int  # position in Pool.items (per-input statistics are kept by index)
    tool: str
    args: Any
    reference: Any = None  # the stable answer seen twice before the run (canonical JSON), or None
    reference_value: Any = None  # the same answer as a value (without _meta), for a cheap ==
    has_reference: bool = False
    calib_outcome: str | None = None  # outcome of the first unloaded call: "ok", "tool_error", ...
    calib_ms: list[float] = field(default_factory=list)


@dataclass
class ToolEntry:
    name: str
    weight: float
    schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    engine: str = ""
    items: list[PoolItem] = field(default_factory=list)


@dataclass
class Pool:
    tools: list[ToolEntry]
    items: list[PoolItem]
    skipped: dict[str, str] = field(default_factory=dict)  # tool -> why it is not called
    notes: list[str] = field(default_factory=list)

    def picker(self, seed: int | None = None):
        """A function returning the next PoolItem: tool by weight, input uniformly."""
        rng = random.Random(seed)
        tools = [t for t in self.tools if t.items]
        if not tools:
            raise ValueError("the input pool is empty: no tool could be called")
        cum = list(itertools.accumulate(t.weight for t in tools))
        total, last = cum[-1], len(tools) - 1
        rand, randrange = rng.random, rng.randrange
        if len(tools) == 1:
            only = tools[0].items

            def pick_one() -> PoolItem:
                return only[randrange(len(only))]

            return pick_one

        def pick() -> PoolItem:
            items = tools[min(bisect.bisect(cum, rand() * total), last)].items
            return items[randrange(len(items))]

        return pick

    def tool(self, name: str) -> ToolEntry | None:
        return next((t for t in self.tools if t.name == name), None)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"tool": i.tool, "arguments": i.args} for i in self.items]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def draw(strategy: Any, n: int, seed: int | None) -> list[Any]:
    """Up to n distinct examples from a Hypothesis strategy (outside any timed section)."""
    out: dict[str, Any] = {}

    @settings(
        max_examples=max(1, n * 3),
        database=None,
        deadline=None,
        derandomize=seed is None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(out) < n:
            out.setdefault(canonical(value), value)

    if seed is not None:
        collect = hseed(seed)(collect)
    try:
        collect()
    except Unsatisfiable:
        pass
    return list(out.values())[:n]


def build_pool(
    tools: list[dict[str, Any]],
    *,
    weights: dict[str, float],
    safety: Safety,
    revision: str | None,
    size: int,
    seed: int | None = None,
) -> Pool:
    """Draw `size` valid inputs for every tool that is selected (weights) and allowed (safety)."""
    by_name = {t.get("name"): t for t in tools if isinstance(t, dict)}
    unknown = [n for n in weights if n not in by_name]
    pool = Pool(tools=[], items=[])
    for name in unknown:
        pool.skipped[name] = "the server does not list this tool"
    names = [n for n in weights if n in by_name] if weights else [n for n in by_name if isinstance(n, str)]
    for name in names:
        tool = by_name[name]
        why = may_call(tool, safety)
        if why is not None:
            pool.skipped[name] = why
            continue
        weight = float(weights.get(name, 1.0)) if weights else 1.0
        if weight <= 0:
            pool.skipped[name] = "weight 0"
            continue
        schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {"type": "object"}
        out_schema = tool.get("outputSchema") if isinstance(tool.get("outputSchema"), dict) else None
        entry = ToolEntry(name=name, weight=weight, schema=schema, output_schema=out_schema)
        try:
            plan = plan_valid(schema, revision=revision)
            entry.engine = plan.engine
            values = draw(plan.strategy, size, seed)
        except Exception as exc:  # a tool we cannot generate for is reported, never silently dropped
            pool.skipped[name] = f"cannot generate valid inputs: {exc}"
            continue
        if not values:
            pool.skipped[name] = "the strategy produced no valid input"
            continue
        for v in values:
            item = PoolItem(index=len(pool.items), tool=name, args=v)
            pool.items.append(item)
            entry.items.append(item)
        pool.tools.append(entry)
    return pool

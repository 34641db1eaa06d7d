"""Fuzz benchmark (issue 3): prints figures, asserts nothing.

1. Valid-input generation rate per engine on the clean fixture's real tool inputSchemas:
   hypothesis-jsonschema (`from_schema`) vs schemathesis (`as_strategy` on a synthesized OpenAPI
   document), both as strategies/engines.py builds them. For each: draws/s and the share of draws
   that the real validator (jsonschema, the schema's dialect) accepts.
2. End-to-end fuzz calls/s: the real fuzz campaign (runner.run, campaign "fuzz", valid inputs only)
   against tests/fixtures/clean_server.py over stdio, slow_echo excluded (it sleeps on purpose).
3. Steady-state fuzz calls/s on one tool beside a raw JSON-RPC loop on the same server, in each
   protocol era (the server does more per request in the stateless one), and the ratio.

Usage: python benchmarks/bench_fuzz.py [--draws 200] [--examples 100]   (tox -e bench)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from jsonschema import validators  # noqa: E402

from mcpcheck import runner  # noqa: E402
from mcpcheck.campaigns.fuzz import FuzzSettings  # noqa: E402
from mcpcheck.connect import list_tools  # noqa: E402
from mcpcheck.config import make_target  # noqa: E402
from mcpcheck.connect import detect  # noqa: E402
from servers import clean_stdio_cmd  # noqa: E402
from mcpcheck.strategies import engines  # noqa: E402
from mcpcheck.strategies.closing import close_objects  # noqa: E402

TOOLS = ["echo", "add", "get_item", "list_items", "create_item", "place_order", "slow_echo"]


async def tool_schemas() -> dict[str, dict]:
    probe, session = await detect(make_target(name="bench", command=clean_stdio_cmd()))
    try:
        return {t["name"]: t["inputSchema"] for t in await list_tools(session) if t.get("name") in TOOLS}
    finally:
        await session.close()


def rate(strategy, schema: dict, draws: int) -> tuple[float, float]:
    """(draws per second, share valid) over `draws` examples of one strategy."""
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    check = cls(schema)
    seen = {"n": 0, "ok": 0}

    @settings(max_examples=draws, database=None, deadline=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value):
        seen["n"] += 1
        seen["ok"] += check.is_valid(value)

    t0 = time.perf_counter()
    draw()
    dt = time.perf_counter() - t0
    return seen["n"] / dt, seen["ok"] / max(1, seen["n"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--examples", type=int, default=100)
    args = ap.parse_args()

    schemas = asyncio.run(tool_schemas())
    print(f"1. valid-input generation, {args.draws} draws per tool schema (clean_server's inputSchemas)")
    print(f"   {'tool':<12} {'hypothesis-jsonschema':>26} {'schemathesis':>26}")
    totals = {engines.HJS: [0.0, 0], engines.SCHEMATHESIS: [0.0, 0]}
    for name in TOOLS:
        closed, _ = close_objects(schemas[name])  # the valid campaign closes objects too
        row = []
        for engine, make in ((engines.HJS, engines.hjs_strategy), (engines.SCHEMATHESIS, engines.schemathesis_strategy)):
            try:
                per_s, valid = rate(make(closed), schemas[name], args.draws)
                totals[engine][0] += per_s
                totals[engine][1] += 1
                row.append(f"{per_s:8.0f}/s {valid:6.1%} valid")
            except Exception as exc:  # an engine that cannot handle the schema
                row.append(f"{'fails: ' + type(exc).__name__:>24}")
        print(f"   {name:<12} {row[0]:>26} {row[1]:>26}")
    for engine, (s, n) in totals.items():
        if n:
            print(f"   mean {engine}: {s / n:.0f} draws/s")

    print(f"\n2. end-to-end fuzz campaign, valid inputs, {args.examples} examples per tool, clean_server over stdio")
    target = make_target(name="clean_server", command=clean_stdio_cmd())
    target.safety.only_tools = [t for t in TOOLS if t != "slow_echo"]
    calls = {"n": 0}
    cfg = FuzzSettings(max_examples=args.examples, modes=("valid",), write_corpus=False, observe=lambda *_: calls.__setitem__("n", calls["n"] + 1))
    t0 = time.perf_counter()
    out = runner.run([target], ["fuzz"], fuzz_settings=cfg)[0]
    dt = time.perf_counter() - t0
    print(f"   {calls['n']} generated inputs in {dt:.1f} s (incl. start-up, era detection, idempotency probes): {calls['n'] / dt:.0f} inputs/s")
    real = [f for f in out.findings if f.severity.value != "info"]
    print(f"   findings: {len(real)} (expected 0 on the clean fixture); error: {out.result.error}")

    print("\n3. fuzz calls/s beside a raw JSON-RPC loop, same server (clean_server), same tool (add), same era")
    for era in ("2025-11-25", "2026-07-28"):
        raw, fuzz, n = fuzz_vs_raw(era, args.examples * 5)
        print(f"   [{era}] raw loop (blocking pipes, fixed arguments): {raw:.0f} calls/s")
        print(f"   [{era}] fuzz campaign (generate + call + judge):     {fuzz:.0f} calls/s over {n} calls")
        print(f"   [{era}] fuzz / raw: {fuzz / raw:.0%} (target >= 50%)")


def fuzz_vs_raw(era: str, examples: int) -> tuple[float, float, int]:
    """(raw loop calls/s, fuzz campaign calls/s, fuzz calls) on clean_server's `add` in one era
    (also printed by bench_run.py)."""
    from bench_session import raw_loop

    raw = max(raw_loop(1000, era) for _ in range(2))
    target = make_target(name="clean_server", command=clean_stdio_cmd(), protocol=era)
    target.safety.only_tools = ["add"]
    stamps: list[float] = []
    cfg = FuzzSettings(max_examples=examples, modes=("valid",), write_corpus=False,
                       observe=lambda _tool, mode, _args: stamps.append(time.perf_counter()) if mode == "valid" else None)
    runner.run([target], ["fuzz"], fuzz_settings=cfg)
    # steady state: from the first generated call to the last (start-up, era detection and
    # the strategy build are excluded; Hypothesis' generation and our checks per call are in)
    fuzz = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return raw, fuzz, len(stamps)


if __name__ == "__main__":
    main()

"""Progress-aware timeouts: a request sent with a progressToken is waited for as long as
notifications/progress keep coming (up to a cap), and the fuzz campaign does not call a tool that
is working and saying so a hang. Real server: tests/fixtures/progress_server.py (official SDK)."""

from __future__ import annotations

import asyncio
import sys

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.session import Session
from mcpcheck.transport.stdio import StdioTransport
from servers import FIXTURES

SERVER = [sys.executable, str(FIXTURES / "progress_server.py")]


async def _calls(timeout: float, *calls: tuple[str, float, bool]):
    async with Session(StdioTransport(SERVER), timeout=timeout) as s:
        await s.initialize("2025-11-25")
        # warm-up: a fresh SDK server's first tools/call is slow on a busy machine (lazy imports)
        await s.request("tools/call", {"name": "stall", "arguments": {"seconds": 0}}, timeout=30)
        out = []
        for tool, seconds, progress in calls:
            out.append(await s.request("tools/call", {"name": tool, "arguments": {"seconds": seconds}}, progress=progress))
        return out, s.wirelog


def test_progress_extends_the_timeout_silence_does_not():
    (working, silent, unasked), log = asyncio.run(_calls(2.0, ("crunch", 4.0, True), ("stall", 3.0, True), ("crunch", 3.0, False)))
    # 4 s of work with a 2 s timeout: answered, because progress kept coming
    assert working.ok and not working.timed_out, working
    assert working.progress >= 5
    assert working.request["params"]["_meta"]["progressToken"] == working.progress_token
    # 3 s in silence: timed out after 2 s
    assert silent.timed_out and silent.progress == 0 and not silent.progress_capped
    # without a token the server sends no progress: timed out too
    assert unasked.timed_out and "_meta" not in unasked.request["params"]


def test_progress_does_not_extend_past_the_cap():
    (long,), log = asyncio.run(_calls(1.0, ("crunch", 8.0, True)))
    assert long.timed_out and long.progress_capped
    assert 2.9 <= long.elapsed <= 6.0  # the cap: 3 x the 1 s timeout
    assert any("kept reporting progress" in e.raw for e in log.entries if e.channel == "event")


def test_fuzz_reports_a_progressing_long_call_as_an_observation_and_a_silent_one_as_a_hang():
    target = make_target(name="progress", command=SERVER, timeout=2.0)
    cfg = FuzzSettings(max_examples=6, modes=("valid",), write_corpus=False, shrink_seconds=5)
    out = runner.run([target], ["fuzz"], fuzz_settings=cfg)[0]
    hangs = {(f.tool, f.severity.value) for f in out.findings if f.check in ("fuzz.no_hang", "fuzz.slow")}
    assert ("stall", "info") not in hangs
    # silent past the timeout: a hang, or (answered in the grace period after it) a slow call
    assert any(tool == "stall" and sev != "info" for tool, sev in hangs), out.findings
    assert not any(tool == "crunch" and sev != "info" for tool, sev in hangs), out.findings


def test_a_hang_whose_shrunk_input_comes_and_goes_is_still_a_finding():
    """Shrinking a hang walks towards inputs where it may come and go (threshold_hang_server.py:
    `wobble` hangs for n >= 50 always, for small n every other call), so Hypothesis ends on
    Flaky. The input that failed first is replayed on its own: it hangs again, so the hang is a
    finding at the check's severity, not an observation."""
    target = make_target(name="wobble", command=[sys.executable, str(FIXTURES / "threshold_hang_server.py")], timeout=0.5)
    cfg = FuzzSettings(max_examples=10, modes=("valid",), write_corpus=False, shrink_seconds=20, seed=3)
    out = runner.run([target], ["fuzz"], fuzz_settings=cfg)[0]
    hangs = [f for f in out.findings if f.check == "fuzz.no_hang" and f.tool == "wobble"]
    assert hangs and all(f.severity.value != "info" for f in hangs), [(f.severity, f.title) for f in out.findings]

"""Issue 12, classes 1 and 2: a crash means the server died, a hang means it stopped answering.

Real server: tests/fixtures/liveness_server.py (official SDK MCPServer), over stdio and Streamable
HTTP, seeded build and `--fixed` twin. Each tool takes too long in its own way; the verdicts:

| tool   | what the server does                                  | verdict                     |
|--------|-------------------------------------------------------|-----------------------------|
| crunch | works past the timeout, reporting progress            | slow, info (long-running)   |
| late   | answers just after the timeout (within the grace)     | slow, low                   |
| spin   | never answers; ping still answered                    | no_hang, medium             |
| block  | blocks its event loop; ping stalls too                | no_hang, high               |
| die    | the process exits                                     | no_crash, critical          |

The fixed twin has no finding of low or above. Timeouts are short (1.5 s; grace as long) and no
assertion is timed (bounds only).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.checks import jsonrpc as J
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.registry import ExchangeContext
from mcpcheck.session import Session
from mcpcheck.transport.http import StreamableHttpTransport
from mcpcheck.transport.stdio import StdioTransport
from servers import FIXTURES, _serve_on_free_port, liveness_http, liveness_stdio_cmd

TIMEOUT = 1.5
# late answers 0.7 s after the timeout (grace: 1.5 s); crunch outlasts the progress cap (3 x 1.5 s);
# block stalls the loop past timeout + grace, and ends soon after so an HTTP run goes on
OPTS = ("--late", "2.2", "--crunch", "8", "--block", "5")
TOOLS = ("crunch", "late", "spin", "block", "die")

EXPECTED = {  # tool -> (check, severity)
    "crunch": ("fuzz.slow", Severity.info),
    "late": ("fuzz.slow", Severity.low),
    "spin": ("fuzz.no_hang", Severity.medium),
    "block": ("fuzz.no_hang", Severity.high),
    "die": ("fuzz.no_crash", Severity.critical),
}


@contextlib.contextmanager
def target(transport: str, *extra: str):
    if transport == "stdio":
        yield make_target(name=f"liveness-{transport}", command=liveness_stdio_cmd(*OPTS, *extra), timeout=TIMEOUT)
        return
    with liveness_http(*OPTS, *extra) as url:
        yield make_target(name=f"liveness-{transport}", transport="http", url=url, timeout=TIMEOUT)


def fuzz(t):
    cfg = FuzzSettings(max_examples=2, modes=("valid",), write_corpus=False, shrink_seconds=10)
    return runner.run([t], ["fuzz"], fuzz_settings=cfg)[0]


def verdicts(out) -> dict[str, set[tuple[str, Severity]]]:
    got: dict[str, set[tuple[str, Severity]]] = {}
    for f in out.findings:
        got.setdefault(f.tool or "", set()).add((f.check, f.severity))
    return got


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_each_kind_of_slowness_gets_its_own_verdict(transport):
    with target(transport) as t:
        out = fuzz(t)
    got = verdicts(out)
    for tool, want in EXPECTED.items():
        assert got.get(tool) == {want}, (tool, got.get(tool), [(f.check, f.tool, f.severity.value, f.detail) for f in out.findings], out.result.notes)
    crash = next(f for f in out.findings if f.check == "fuzz.no_crash")
    # the evidence of the crash: the process exit (stdio), the refused connection (HTTP)
    assert ("exited with code 70" if transport == "stdio" else "connection refused") in crash.detail, crash.detail
    spin = next(f for f in out.findings if f.tool == "spin")
    assert "still answered ping" in spin.detail and f"within {TIMEOUT:g}s" in spin.detail
    block = next(f for f in out.findings if f.tool == "block")
    assert "did not answer ping" in block.detail
    # the stalled liveness probe is evidence: ping, or server/discover in the stateless era
    assert any('"method":"ping"' in e.raw or '"method":"server/discover"' in e.raw for e in block.evidence[1:]), block.evidence
    late = next(f for f in out.findings if f.tool == "late")
    assert "grace" in late.detail and late.spec_level is None and late.category == "performance.latency"


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_the_fixed_twin_has_no_finding(transport):
    with target(transport, "--fixed") as t:
        out = fuzz(t)
    assert out.result.error is None, out.result.error
    real = [(f.check, f.tool, f.severity.value, f.detail) for f in out.findings if f.severity > Severity.info]
    assert real == [], real
    # crunch reports progress past the cap: a long-running observation, never a hang
    assert {(f.check, f.tool) for f in out.findings} <= {("fuzz.slow", "crunch")}, out.findings


# ----------------------------------------------------------------- the session and the conformance judges


async def _exchanges(make_transport) -> dict:
    async with Session(make_transport(), timeout=TIMEOUT) as s:
        await s.initialize()
        # warm-up: a fresh SDK server's first tools/call is slow on a busy machine (lazy imports)
        await s.request("tools/call", {"name": "late", "arguments": {}}, timeout=30)
        out = {}
        for tool in ("crunch", "late", "spin", "block"):
            out[tool] = await s.request("tools/call", {"name": tool, "arguments": {}}, progress=True)
        out["die"] = ex = await s.request("tools/call", {"name": "die", "arguments": {}})
        if ex.transport_error is not None:
            # one call: an HTTP server process may take a moment to stop accepting connections,
            # and the session itself waits (bounded) for a refused connection or an answered ping
            await s.check_liveness(ex)
        out["alive"] = s.alive
        return out


def _judge(ex) -> set[tuple[str, Severity]]:
    ctx = ExchangeContext(campaign="conformance")
    found = set()
    for name, fn in (("robustness.no_hang", J.no_hang), ("robustness.slow", J.slow)):
        for v in fn(ctx, ex):
            found.add((name, v.severity or {"robustness.no_hang": Severity.medium, "robustness.slow": Severity.low}[name]))
    return found


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_the_session_owns_the_deadline_and_the_conformance_judges_agree(transport):
    if transport == "stdio":
        got = asyncio.run(_exchanges(lambda: StdioTransport(liveness_stdio_cmd(*OPTS))))
    else:
        with liveness_http(*OPTS) as url:
            got = asyncio.run(_exchanges(lambda: StreamableHttpTransport(url, timeout=TIMEOUT)))
    crunch, late, spin, block, die = (got[t] for t in TOOLS)
    # progress kept coming: waited up to the cap, no transport error (over HTTP too: the session
    # owns the deadline, the POST is not cut off at timeout + 2 s)
    assert crunch.progress_capped and crunch.transport_error is None and crunch.progress >= 5
    assert crunch.elapsed >= 3 * TIMEOUT - 0.1
    assert late.timed_out and late.answered and late.late and late.ping_answered is True
    assert spin.timed_out and not spin.answered and spin.ping_answered is True and spin.transport_error is None
    assert block.timed_out and not block.answered and block.ping_answered is False and block.transport_error is None
    assert _judge(crunch) == {("robustness.slow", Severity.info)}
    assert _judge(late) == {("robustness.slow", Severity.low)}
    assert _judge(spin) == {("robustness.no_hang", Severity.medium)}
    assert _judge(block) == {("robustness.no_hang", Severity.high)}
    # the liveness pings are judged through the request they probed, never on their own
    assert block.ping is not None and block.ping.liveness and _judge(block.ping) == set()
    # die: the process is gone (stdio: exit; HTTP: connection refused after the broken POST)
    assert not got["alive"] and die.transport_error is not None


# ----------------------------------------------------------------- confirmation of either verdict (HTTP)

DYING = FIXTURES.parent / "rawservers" / "dying_http.py"


async def _after_die(url: str) -> tuple[bool | None, bool, str]:
    async with Session(StreamableHttpTransport(url, timeout=10), timeout=10) as s:
        assert (await s.initialize()).ok
        s.timeout = 0.5  # the liveness ping's wait: shorter than the server's 1.5 s of doubt
        ex = await s.request("tools/call", {"name": "die", "arguments": {}})
        assert ex.transport_error is not None, ex
        answered = await s.check_liveness(ex)  # one call: the session confirms by itself
        return answered, s.alive, s.transport.closed_reason or ""


@pytest.mark.parametrize("mode", ["exits", "recovers"])
def test_a_broken_call_is_judged_only_once_a_refused_connection_or_an_answered_ping_confirms_it(mode):
    """dying_http.py: after `die` breaks the call, the server accepts connections but answers
    nothing for 1.5 s, then exits (a crash); or drops every request for 1.5 s, then answers
    again (alive). The first ping and TCP probe cannot tell; the session asks again."""
    with _serve_on_free_port(lambda port: [sys.executable, str(DYING), "--port", str(port), "--mode", mode]) as url:
        answered, alive, reason = asyncio.run(_after_die(str(url)))
    if mode == "exits":
        assert (answered, alive) == (False, False) and "connection refused" in reason, (answered, alive, reason)
    else:
        assert (answered, alive) == (True, True), (answered, alive, reason)

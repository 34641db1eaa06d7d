"""The fuzz + stateful campaigns against servers nobody here wrote (nightly: `tox -e fuzz`).
Every finding asserted here was verified by hand (see the issue notes)."""

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from mcpcheck.findings import Severity

from servers import everything_stdio_cmd, memory_stdio_cmd, time_stdio_cmd

pytestmark = [pytest.mark.slow, pytest.mark.thirdparty]


def fuzz(tmp_path, **target):
    cfg = FuzzSettings(max_examples=10, seed=1, corpus_dir=str(tmp_path / "corpus"))
    outcome = runner.run([make_target(timeout=10.0, **target)], ["fuzz", "stateful"], fuzz_settings=cfg)[0]
    assert outcome.result.error is None, outcome.result.error
    return outcome, sorted({(f.check, f.tool) for f in outcome.findings if f.severity > Severity.info})


def test_mcp_server_time(tmp_path):
    outcome, real = fuzz(tmp_path, name="time", command=time_stdio_cmd())
    assert real == []
    assert any("get_current_time" in n and "constraints" in n for n in outcome.result.notes)


def test_server_memory_never_calls_its_destructive_tools(tmp_path):
    outcome, real = fuzz(tmp_path, name="memory", command=memory_stdio_cmd())
    assert real == []
    skipped = [n for n in outcome.result.notes if n.startswith("fuzz: not calling")]
    assert {"delete_entities", "delete_observations", "delete_relations"} <= {n.split()[3].rstrip(":") for n in skipped}


def test_server_everything(tmp_path):
    # trigger-long-running-operation runs for `duration` seconds by design and reports progress
    # when asked. mcpcheck sends a progressToken and waits while progress comes (up to 3x the
    # timeout), so it is no longer a false fuzz.no_hang (an info observation at most; checked
    # by hand: 16 calls, one capped at 30 s and cancelled). It is listed as dangerous here only
    # because its long calls cost minutes (133 s for 10 examples).
    target = make_target(name="everything", command=everything_stdio_cmd(), timeout=10.0)
    target.safety.dangerous_tools = ["trigger-long-running-operation"]
    cfg = FuzzSettings(max_examples=10, seed=1, corpus_dir=str(tmp_path / "corpus"))
    outcome = runner.run([target], ["fuzz"], fuzz_settings=cfg)[0]
    real = sorted({(f.check, f.tool) for f in outcome.findings if f.severity > Severity.info})
    # Verified by hand: get-env returns the whole process.env, so the canary secret planted in
    # the server's environment comes back (a deliberate debug tool, but a real exposure).
    assert real == [("fuzz.no_internal_leak", "get-env")]

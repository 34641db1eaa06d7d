"""The security campaign against servers nobody here wrote.

Static rules (poisoning, rug pull, shadowing, cross-target shadowing) must stay silent on the
descriptions that @modelcontextprotocol/server-everything, server-memory and mcp-server-time
publish: a rule that fires on them is a false positive.

The full active campaign (slow) finds exactly what was verified by hand in their sources:
server-everything's `get-env` returns the whole process environment (so the planted canary
secret, and host paths from it), and its `gzip-file-as-resource` fetches any URL it is given
(GZIP_ALLOWED_DOMAINS empty = all domains; our loopback canary server saw the request).
server-memory and mcp-server-time: nothing.
"""

from __future__ import annotations

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target

from servers import everything_http, everything_stdio_cmd, memory_stdio_cmd, time_stdio_cmd

pytestmark = pytest.mark.thirdparty

STATIC = ["security.tool_poisoning", "security.rug_pull", "security.tool_shadowing", "security.tool_shadowing_cross_target"]


def _targets():
    return [
        make_target(name="everything", command=everything_stdio_cmd(), timeout=10.0),
        make_target(name="memory", command=memory_stdio_cmd(), timeout=10.0),
        make_target(name="time", command=time_stdio_cmd(), timeout=10.0),
    ]


def test_static_rules_have_no_false_positives_on_third_party_servers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = runner.run(_targets(), ["security"], only=STATIC)
    for o in outcomes:
        assert o.result.error is None, o.result.error
        assert len(o.result.tools) >= 2, f"{o.result.name}: nothing was listed, so nothing was judged"
        assert o.findings == [], "\n".join(f"{o.result.name}: {f.check} {f.tool}: {f.detail}" for f in o.findings)
        judged = {c.id: c.status for c in o.checks}
        assert all(judged.get(c) == "passed" for c in STATIC), judged


@pytest.mark.slow
def test_active_probes_on_third_party_servers_find_only_the_verified_issues(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = {o.result.name: o for o in runner.run(_targets(), ["security"])}
    found = {name: sorted({(f.check, f.tool, f.severity.value) for f in o.findings}) for name, o in outcomes.items()}
    assert found["memory"] == [] and found["time"] == [], found
    assert found["everything"] == [
        # MCPCHECK_CANARY_SECRET in its output; the host paths (HOME, PATH ...) of the same output
        # are part of that one exposure, not a second finding
        ("security.data_exposure", "get-env", "critical"),
        ("security.ssrf", "gzip-file-as-resource", "high"),  # fetched our loopback canary URL
    ], found


@pytest.mark.slow
def test_server_everything_over_http_announces_its_new_resources_on_the_get_stream(tmp_path, monkeypatch):
    """gzip-file-as-resource registers a session resource per call and announces it with
    notifications/resources/list_changed outside any request: over Streamable HTTP that goes to
    the GET stream, which the security campaign reads. Resources our own calls created are no
    rug pull (census issue 12, class 3)."""
    monkeypatch.chdir(tmp_path)
    with everything_http() as url:
        outcome = runner.run([make_target(name="everything-http", transport="http", url=str(url), timeout=10.0)], ["security"])[0]
    assert outcome.result.error is None, outcome.result.error
    assert not [f for f in outcome.findings if f.check == "security.rug_pull"], [f.detail for f in outcome.findings if f.check == "security.rug_pull"]
    assert [c.status for c in outcome.checks if c.id == "security.rug_pull"] == ["passed"]
    assert any("appeared" in n and "announced by notifications/resources/list_changed" in n for n in outcome.result.notes), outcome.result.notes
    found = sorted({(f.check, f.tool, f.severity.value) for f in outcome.findings})
    assert found == [("security.data_exposure", "get-env", "low"), ("security.ssrf", "gzip-file-as-resource", "high")], found

"""Every deliberately broken fixture is caught by the check meant for it (the clean one is clean:
proven through the CLI, tests/test_cli_e2e.py).

The broken fixtures are the official SDK's MCPServer behind a stdio proxy that breaks exactly one
rule on the wire (tests/fixtures/broken_proxy.py). Each test runs only the checks it needs on the
handshake era, so the whole matrix stays fast.
"""

import asyncio

import pytest

from mcpcheck import runner
from mcpcheck.campaigns.conformance import run_conformance
from mcpcheck.campaigns.context import CampaignContext
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.results import TargetResult
from mcpcheck.session import RECORDING

from servers import broken_stdio_cmd, clean_stdio_cmd

# defect -> the check that must fire (and nothing else is asserted about the run)
DEFECTS = {
    "banner": "stdio.stdout_pollution",
    "string_ids": "jsonrpc.id_echo",
    "result_and_error": "jsonrpc.response_shape",
    "string_error_codes": "jsonrpc.response_shape",
    "null_error_member": "jsonrpc.response_shape",
    "null_result_member": "jsonrpc.response_shape",
    "reply_to_notifications": "jsonrpc.notification_no_reply",
    "unknown_method_ok": "errors.unknown_method",
    "echo_unknown_version": "lifecycle.version_negotiation",
    "bad_tool_schema": "tools.input_schema",
    "duplicate_tools": "tools.names",
    "cursor_loop": "list.pagination",
    "hang_on_ping": "robustness.no_hang",
    "crash_on_garbage": "stdio.survives_garbage",
    "accept_null_id": "jsonrpc.null_id_rejected",
    "missing_server_version": "schema.results",
    "swap_ids_under_load": "concurrency.burst",
    "phantom_resources": "capabilities.advertised_work",
}

# checks that need a particular probe to run alongside them
COMPANIONS = {
    "robustness.no_hang": ["lifecycle.ping"],
    "stdio.survives_garbage": ["robustness.no_crash"],
    "jsonrpc.response_shape": ["errors.unknown_method"],
}


def _run(command, checks, protocol="2025-11-25", timeout=10.0):
    target = make_target(name="fixture", command=command, timeout=timeout, protocol=protocol)
    return runner.run([target], ["conformance"], only=checks)[0]


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_broken_fixture_is_caught_by_its_check(defect):
    check = DEFECTS[defect]
    outcome = _run(broken_stdio_cmd(defect), [check, *COMPANIONS.get(check, [])])
    assert outcome.result.error is None, outcome.result.error
    hits = [f for f in outcome.findings if f.check == check and f.severity > Severity.info]
    assert hits, f"{defect}: expected a {check} finding, got {[(f.check, f.severity.value, f.detail) for f in outcome.findings]}"
    finding = hits[0]
    assert finding.evidence, "a finding must carry wire evidence"
    assert finding.reproduce and "mcpcheck run" in finding.reproduce and check in finding.reproduce


# The clean fixture's whole conformance campaign (every era, no finding, the core checks ran) is
# proven once, through the CLI: tests/test_cli_e2e.py::test_clean_fixture_every_era_passes_at_fail_on_low.


def _methods_sent(checks):
    """Run the conformance campaign (handshake era) against the clean fixture with only `checks`
    selected; every request method each session sent, main session first, and the ledger."""
    target = make_target(name="clean", command=clean_stdio_cmd(), timeout=10.0, protocol="2025-11-25")
    ctx = CampaignContext(target=target, selected=runner.selector(checks, []), selects_all=False)
    sessions = []

    async def go():
        token = RECORDING.set(sessions.append)
        try:
            await run_conformance(ctx, TargetResult(name="clean", transport="stdio", description="clean"))
        finally:
            RECORDING.reset(token)

    asyncio.run(go())
    main = max(sessions, key=lambda s: len(s.exchanges))
    return [ex.method for ex in main.exchanges], {c: run.status for (c, _rev), run in ctx.ledger.items()}


def test_a_selected_check_does_only_its_own_io():
    """`--check list.invalid_cursor` costs one request on the era's session: no listing walk, no
    reads, gets, pings or calls the other checks would make."""
    methods, ledger = _methods_sent(["list.invalid_cursor"])
    assert methods == ["initialize", "notifications/initialized", "tools/list"], methods
    assert ledger == {"list.invalid_cursor": "passed"}


def test_checks_that_need_the_listing_share_one_walk():
    """Two checks that need the listing walk it once between them; a listing check alone walks it
    and judges it without any active check."""
    methods, ledger = _methods_sent(["resources.read", "tools.arguments_shape"])
    assert methods.count("resources/list") == 1 and methods.count("prompts/list") == 1, methods
    assert methods.count("resources/read") == 2 and methods.count("tools/call") == 1, methods
    assert ledger == {"resources.read": "passed", "tools.arguments_shape": "passed"}
    methods, ledger = _methods_sent(["tools.input_schema"])
    assert "tools/list" in methods and "tools/call" not in methods and "resources/read" not in methods, methods
    assert ledger == {"tools.input_schema": "passed"}


def test_a_null_member_is_one_finding_listing_every_method():
    """`"error": null` beside every result: judged on the raw object (null is present, not absent),
    once, with every other method listed as an instance; no other check misreads the answers."""
    outcome = _run(broken_stdio_cmd("null_error_member"), None)
    above = [f for f in outcome.findings if f.severity > Severity.info]
    assert [f.check for f in above] == ["jsonrpc.response_shape"], [(f.check, f.detail) for f in above]
    assert '"error": null beside its result' in above[0].detail and len(above[0].instances) >= 3

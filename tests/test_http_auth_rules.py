"""A1 (2025-03-26: the server is its own OAuth authorization server) and A8 (insufficient scope:
403 with an insufficient_scope challenge), checks of the http-security campaign
(conformance/campaigns/http_security.py). A1 against a hand-written 2025-03-26-only server
(tests/rawservers/oauth_2025_03_26.py: today's SDKs follow the 2025-06-18 model and negotiate
every revision) with one defect each; A8 against the SDK behind bearer auth that requires the
scope `mcp` (tests/fixtures/auth_http.py), with its second, lower-scope token."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
import servers

from mcpcheck.campaigns import http_security as H
from mcpcheck.campaigns.context import CampaignContext
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.report.model import TargetResult

FULL_ENV, LOW_ENV = "MCPCHECK_TEST_A_FULL", "MCPCHECK_TEST_A_LOW"
FAST = H.HttpSecuritySettings(max_examples=8, fuzz_budget=8, burst=40, burst_seconds=2)
A1 = "httpsec.authorization_server_2025"
A8 = "httpsec.insufficient_scope"
DISCOVERY = {"httpsec.auth_challenge", "httpsec.resource_metadata"}


def campaign(url: str, only: set[str], *, token: bool = True, low: bool = False):
    os.environ[FULL_ENV] = servers.AUTH_FIXTURE_TOKEN
    os.environ[LOW_ENV] = servers.AUTH_LOW_SCOPE_TOKEN
    kw = {"bearer_env": FULL_ENV} if token else {}
    if low:
        kw["low_scope_bearer_env"] = LOW_ENV
    target = make_target(name="t", transport="http", url=url, timeout=5.0, **kw)
    ctx = CampaignContext(target=target, campaign="http-security")
    ctx.selected = lambda cid: cid in only
    ctx.selects_all = False
    asyncio.run(H.run_http_security(ctx, TargetResult(name="t", transport="http", description=url), FAST))
    return ctx


def status(ctx, check: str) -> set[str]:
    return {run.status for (cid, _rev), run in ctx.ledger.items() if cid == check}


def found(ctx) -> list[tuple[str, str, str | None]]:
    return sorted((f.check, f.severity.value, f.revision) for f in ctx.findings)


def oauth_2025(defect: str):
    script = servers.TESTS / "rawservers" / "oauth_2025_03_26.py"
    return servers._serve_on_free_port(lambda port: [sys.executable, str(script), "--port", str(port), "--token", servers.AUTH_FIXTURE_TOKEN, "--defect", defect])


# --------------------------------------------------------------------------- A1


@pytest.mark.parametrize(
    "defect, want",
    [
        ("none", []),
        ("no_metadata", [(A1, "low", "2025-03-26")]),
        ("no_endpoints", [(A1, "high", "2025-03-26")]),
        ("forbidden", [(A1, "high", "2025-03-26")]),
    ],
)
def test_a_2025_03_26_server_is_its_own_authorization_server(defect, want):
    with oauth_2025(defect) as url:
        ctx = campaign(url, {A1, *DISCOVERY})
    assert found(ctx) == want, [f.detail for f in ctx.findings]
    assert status(ctx, A1) == ({"passed"} if not want else {"failed"})
    # the 2025-06-18-on discovery rules do not bind a server whose newest revision is 2025-03-26
    assert status(ctx, "httpsec.auth_challenge") == status(ctx, "httpsec.resource_metadata") == {"skipped"}
    if defect == "forbidden":
        (f,) = ctx.findings
        assert "HTTP 403" in f.detail and "401" in f.detail


def test_a1_needs_a_token_and_binds_no_server_that_speaks_a_later_revision():
    with oauth_2025("no_endpoints") as url:
        ctx = campaign(url, {A1}, token=False)
    assert found(ctx) == [] and status(ctx, A1) == {"skipped"}
    with servers.auth_http() as url:  # the SDK's resource-server auth negotiates 2025-03-26 too, but also later ones
        ctx = campaign(url, {A1, *DISCOVERY})
    assert found(ctx) == [] and status(ctx, A1) == {"skipped"}
    assert status(ctx, "httpsec.auth_challenge") == {"passed"}


# --------------------------------------------------------------------------- A8


@pytest.mark.parametrize(
    "defect, want",
    [("none", [(A8, "info", "2025-11-25")]), ("scope_401", [(A8, "medium", "2025-11-25")]), ("scope_no_challenge", [(A8, "low", "2025-11-25")])],
)
def test_a_lower_scope_token_gets_403_with_an_insufficient_scope_challenge(defect, want):
    with servers.auth_http(defect) as url:
        ctx = campaign(url, {A8}, low=True)
    assert found(ctx) == want, [f.detail for f in ctx.findings]
    # the SDK's challenge names no scope="..." (an observation): the check still passes
    assert status(ctx, A8) == ({"passed"} if defect == "none" else {"failed"})
    if defect == "none":
        assert 'scope="..."' in ctx.findings[0].detail


def test_a8_without_a_second_token_is_skipped_with_what_it_needs():
    with servers.auth_http() as url:
        ctx = campaign(url, {A8})
    assert found(ctx) == [] and status(ctx, A8) == {"skipped"}
    (why,) = {run.reason for (cid, _r), run in ctx.ledger.items() if cid == A8}
    assert "low_scope_bearer_env" in why


def test_the_low_scope_token_never_reaches_a_report():
    from mcpcheck.redact import mask_text

    os.environ[LOW_ENV] = servers.AUTH_LOW_SCOPE_TOKEN
    make_target(name="t", transport="http", url="http://127.0.0.1:1/mcp", low_scope_bearer_env=LOW_ENV)
    assert servers.AUTH_LOW_SCOPE_TOKEN not in mask_text(f"Authorization: Bearer {servers.AUTH_LOW_SCOPE_TOKEN}")


def test_no_finding_of_low_or_above_on_a_server_without_auth():
    with servers.clean_http() as url:
        ctx = campaign(url, {A1, A8}, token=False)
    assert [f for f in ctx.findings if f.severity >= Severity.low] == []
    assert status(ctx, A1) == status(ctx, A8) == {"skipped"}

"""The `http-security` campaign (probes: conformance/campaigns/http_security.py; pure judgements:
conformance/checks/http_auth.py, http_sessions.py, session_ids.py) against real servers:
the SDK behind bearer-token auth (tests/fixtures/auth_http.py) clean and with one seeded defect
each, the clean SDK server without auth (servers.clean_http), and server-everything over
Streamable HTTP (thirdparty). Every server listens on 127.0.0.1 only.

Run with `-p no:schemathesis` (schemathesis' pytest plugin is not needed here)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import servers

from mcpcheck import runner
from mcpcheck.campaigns import http_security as H
from mcpcheck.campaigns.context import CampaignContext
from mcpcheck.checks.http_auth import parse_challenges
from mcpcheck.checks.session_ids import analyze
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from mcpcheck.registry import REGISTRY
from mcpcheck.report.model import TargetResult

TOKEN_ENV = "MCPCHECK_TEST_HTTPSEC_TOKEN"
AUTH_ONLY = {"httpsec.auth_status", "httpsec.auth_challenge", "httpsec.resource_metadata", "httpsec.invalid_token_rejected",
             "httpsec.unauthenticated_refused", "httpsec.query_token_refused"}
FAST = H.HttpSecuritySettings(max_examples=8, fuzz_budget=8, burst=40, burst_seconds=2)


def run_campaign(url: str, *, token: bool = False, only: set[str] | None = None, cfg: H.HttpSecuritySettings = FAST):
    kw = {}
    if token:
        os.environ[TOKEN_ENV] = servers.AUTH_FIXTURE_TOKEN
        kw["bearer_env"] = TOKEN_ENV
    target = make_target(name="t", transport="http", url=url, timeout=5.0, **kw)
    ctx = CampaignContext(target=target, campaign="http-security")
    if only is not None:
        ctx.selected = lambda cid: cid in only
        ctx.selects_all = False
    asyncio.run(H.run_http_security(ctx, TargetResult(name="t", transport="http", description=url), cfg))
    return ctx


def real(ctx) -> list:
    return [f for f in ctx.findings if f.severity >= Severity.low]


def status(ctx, check: str) -> set[str]:
    return {run.status for (cid, _rev), run in ctx.ledger.items() if cid == check}


# --------------------------------------------------------------------------- pure parts


def test_registered_as_a_campaign_and_checks_load():
    assert "http-security" in runner.campaigns()
    runner.load_all_checks()
    ids = {k for k in REGISTRY if k.startswith("httpsec.")}
    assert len(ids) == 14 and {c.id for c in REGISTRY.for_scope("session", "http-security")} == ids


def test_stdio_target_skips_everything():
    target = make_target(name="s", transport="stdio", command=["true"])
    ctx = CampaignContext(target=target, campaign="http-security")
    asyncio.run(H.run_http_security(ctx, TargetResult(name="s", transport="stdio", description="true")))
    assert ctx.findings == []
    assert {r.status for r in ctx.ledger.values()} == {"skipped"}
    assert {r.reason for r in ctx.ledger.values()} == {"HTTP transport only"}
    assert {cid for cid, _ in ctx.ledger} == {c.id for c in REGISTRY.for_scope("session", "http-security")}


def test_session_id_analysis():
    assert analyze([uuid.uuid4().hex for _ in range(8)]).problems == []
    assert analyze([str(uuid.uuid4()) for _ in range(8)]).problems == []
    keys = {k for k, _ in analyze([f"session-{i:06d}" for i in range(1, 9)]).problems}
    assert {"counter", "low-entropy"} <= keys
    now = int(time.time() * 1000)
    assert "counter" in {k for k, _ in analyze([f"s{now + 7 * i}" for i in range(8)]).problems}
    assert "uuid-time" in {k for k, _ in analyze([str(uuid.uuid1()) for _ in range(8)]).problems}
    assert "reused" in {k for k, _ in analyze(["a" * 32] * 8).problems}


def test_challenge_parsing():
    got = parse_challenges('Basic realm="x", Bearer error="invalid_token", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"')
    assert got[0] == ("basic", {"realm": "x"})
    assert got[1][0] == "bearer" and got[1][1]["resource_metadata"].endswith("/oauth-protected-resource/mcp")


# --------------------------------------------------------------------------- auth fixture


def test_clean_auth_server_has_no_findings():
    with servers.auth_http() as url:
        ctx = run_campaign(url, token=True)
    assert real(ctx) == [], [f.detail for f in real(ctx)]
    for check in AUTH_ONLY | {"httpsec.session_id_predictable", "httpsec.fuzz_server_error", "httpsec.fuzz_response_schema"}:
        assert status(ctx, check) == {"passed"}, check
    # without a token: auth is still probed, the rest needs one
    with servers.auth_http() as url:
        ctx = run_campaign(url, only=AUTH_ONLY | {"httpsec.session_id_predictable"})
    assert real(ctx) == []
    assert status(ctx, "httpsec.invalid_token_rejected") == {"passed"}
    assert status(ctx, "httpsec.session_id_predictable") == {"skipped"}


def test_bogus_token_accepted_on_one_method_is_found():
    with servers.auth_http("accept_bogus_token") as url:
        ctx = run_campaign(url, token=True, only=AUTH_ONLY)
    found = [f for f in real(ctx)]
    assert {f.check for f in found} == {"httpsec.invalid_token_rejected"}
    assert all("tools/list" in f.detail for f in found)
    f = next(f for f in found if f.severity == Severity.critical)
    out = f.evidence[0]
    assert out.direction == "out" and json.loads(out.raw)["method"] == "tools/list"
    assert out.http["headers"]["authorization"] == "<redacted>"  # no token in reports
    assert any((e.http or {}).get("status") == 200 for e in f.evidence)


def test_401_without_challenge_is_found():
    with servers.auth_http("no_www_authenticate") as url:
        ctx = run_campaign(url, only=AUTH_ONLY)
    (f,) = real(ctx)
    assert f.check == "httpsec.auth_challenge" and f.severity == Severity.high
    resp = next(e for e in f.evidence if e.direction == "in")
    assert resp.http["status"] == 401 and "www-authenticate" not in resp.http["headers"]


def test_sequential_session_ids_are_found():
    with servers.auth_http("sequential_session_ids") as url:
        ctx = run_campaign(url, token=True, only={"httpsec.session_id_predictable", "http.session_id_charset"})
    found = real(ctx)
    assert {f.check for f in found} == {"httpsec.session_id_predictable"}
    counter = next(f for f in found if "counter" in f.detail)
    assert counter.severity == Severity.high and "session-0000" in counter.detail
    assert any((e.http or {}).get("headers", {}).get("mcp-session-id", "").startswith("session-") for e in counter.evidence)


def test_schemathesis_finds_the_500():
    with servers.auth_http("server_error") as url:
        ctx = run_campaign(url, token=True, only={"httpsec.fuzz_server_error", "httpsec.fuzz_status_code", "httpsec.fuzz_content_type", "httpsec.fuzz_response_schema"})
    found = real(ctx)
    assert {f.check for f in found} == {"httpsec.fuzz_server_error"}, [f.detail for f in found]
    f = found[0]
    assert f.category == "transport.http" and "HTTP 500" in f.detail and "curl" in f.detail
    assert f.evidence[0].direction == "out" and f.evidence[1].http["status"] == 500
    assert f.evidence[0].http["headers"].get("authorization") == "<redacted>"
    body = f.input
    assert not isinstance(body, dict) or (isinstance(body.get("id"), int) and body["id"] < 0)


# --------------------------------------------------------------------------- clean SDK, no auth


def test_clean_sdk_server_without_auth_gives_only_observations():
    with servers.clean_http() as url:
        ctx = run_campaign(url)
    assert real(ctx) == [], [f.detail for f in real(ctx)]
    obs = {f.check: f for f in ctx.findings}
    assert set(obs) == {"httpsec.auth_status", "httpsec.rate_limit"}
    assert "requires no authorization" in obs["httpsec.auth_status"].detail
    assert status(ctx, "httpsec.invalid_token_rejected") == {"skipped"}
    assert status(ctx, "httpsec.session_id_predictable") == {"passed"}
    assert status(ctx, "httpsec.fuzz_server_error") == {"passed"}
    assert any("delete_item" in n for n in ctx.notes)  # the destructive tool was kept out of the document
    # negative cases with a list or object as the tool name once stopped generation (unhashable)
    assert not [n for n in ctx.notes if "generation stopped" in n], ctx.notes


# --------------------------------------------------------------------------- third party


@pytest.mark.thirdparty
def test_server_everything_over_streamable_http():
    """Verified by hand (2026-11-30, server-everything from tests/thirdparty): no auth (initialize
    without a token is served; a local dev server), session ids are crypto.randomUUID() v4 UUIDs,
    no rate limiting (200 pings in ~2 s all 200), and schemathesis found no 5xx, no undocumented
    status and no non-JSON-RPC 200 body (400s are its refusals of sessionless GET/DELETE, re-initialize
    and non-JSON-RPC bodies)."""
    if not servers.npm_available():
        pytest.skip("node/npm not available")
    with servers.everything_http() as url:
        ctx = run_campaign(url)
    assert real(ctx) == [], [f.detail for f in real(ctx)]
    assert {f.check for f in ctx.findings} == {"httpsec.auth_status", "httpsec.rate_limit"}
    assert status(ctx, "httpsec.session_id_predictable") == {"passed"}


def test_negative_cases_naming_a_tool_with_a_dict_do_not_stop_generation(tmp_path):
    """schemathesis' negative POST cases carry any JSON as params.name; a dict once broke the
    unsafe-tool filter ("TypeError: unhashable type: 'dict'") and stopped negative generation.
    Reproduced through the real CLI (Hypothesis' default settings, not the test profile) against
    server-everything."""
    if not servers.npm_available():
        pytest.skip("node/npm not available")
    with servers.everything_http() as url:
        proc = subprocess.run(
            [sys.executable, "-m", "mcpcheck.cli", "run", "-q", "--campaign", "http-security",
             *(a for c in ("server_error", "status_code", "content_type", "response_schema") for a in ("--check", f"httpsec.fuzz_{c}")), "--report-dir", str(tmp_path / "r"), "--url", url],
            capture_output=True, text=True, timeout=240, cwd=tmp_path,
        )
    assert (tmp_path / "r" / "report.json").exists(), proc.stderr
    notes = json.loads((tmp_path / "r" / "report.json").read_text())["targets"][0]["notes"]
    stopped = [n for n in notes if "generation stopped" in n and "TypeError" in n]
    assert not stopped, stopped
    assert any("schemathesis sent" in n for n in notes), (notes, proc.stderr)
    assert "Failing test case" not in proc.stdout  # Hypothesis' own lines never reach stdout

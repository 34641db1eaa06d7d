"""Reports do not spread secrets (conformance/redact.py): a real SDK server whose tool returns the
whole environment of the machine running mcpcheck (tests/fixtures/env_leak_server.py), a real
`mcpcheck run` subprocess with credentials in its environment, every report view read back. The
leak is proven with the planted canary, which stays visible; every credential is masked."""

import json
import os
import subprocess
import sys
from pathlib import Path

from mcpcheck.findings import Evidence, Finding
from mcpcheck.redact import mask_text, mask_tree, secret_name
from servers import FIXTURES

# credentials of the (pretend) CI machine; none may reach a report
SECRETS = {
    "GITHUB_TOKEN": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",  # token shape + secret name
    "MY_SERVICE_PASSWORD": "correct-horse-battery-staple",  # secret name only
    "OPENAI_API_KEY": "sk-proj-" + "x9" * 20,  # secret name (api key)
    "HARMLESS_LOOKING": "AKIA" + "Q7W3E5R7T9Y1U3I5",  # an AWS access key id under a plain name: shape only
    "SLACK_HOOK_NOTE": "xoxb-123456789012-1234567890123-" + "abcdefghijklmnopqrstuvwx",
    "DATABASE_URL": "postgres://app:" + "Sup3rS3cretDbPw" + "@db.internal:5432/app",
}
SECRET_VALUES = [v for k, v in SECRETS.items() if k != "DATABASE_URL"] + ["Sup3rS3cretDbPw"]
VIEWS = ["report.json", "report.md", "report.html", "junit.xml", "mcpcheck.sarif"]


def test_secret_names_and_shapes():
    for name in ("GITHUB_TOKEN", "api_key", "apiKey", "DB_PASSWORD", "Authorization", "X-API-Key", "AWS_SECRET_ACCESS_KEY", "client_secret"):
        assert secret_name(name), name
    for name in ("key", "sort_key", "max_tokens", "author", "token_endpoint", "session_id", "password_file"):
        assert not secret_name(name), name
    text = 'env API_TOKEN=MCPCHK_SECRET_4532fec20b2f9dd6 OTHER_TOKEN=abcdefg12345 Authorization: Bearer abc.def.ghijkl'
    assert mask_text(text) == "env API_TOKEN=MCPCHK_SECRET_4532fec20b2f9dd6 OTHER_TOKEN=*** Authorization: Bearer ***"
    # JSON escaped inside JSON (a tool's text content on the wire), a Python dict repr, a PEM block
    assert mask_text(r'{"text": "{\"api_key\": \"zzzzzzzz\", \"HOME\": \"/root\"}"}') == r'{"text": "{\"api_key\": \"***\", \"HOME\": \"/root\"}"}'
    assert mask_text("environ({'PASSWORD': 'hunter22', 'x': 1})") == "environ({'PASSWORD': '***', 'x': 1})"
    assert mask_text("k=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB\n-----END RSA PRIVATE KEY----- end") == "k=*** end"
    assert mask_tree({"arguments": {"apiKey": "abcdef", "key": "user:1", "max_tokens": 100}}) == {"arguments": {"apiKey": "***", "key": "user:1", "max_tokens": 100}}
    # a Finding cannot hold a secret, whichever field it came in by; its id is not touched
    f = Finding(id="c:1", check="c", category="security.data_exposure", severity="high", title="t",
                detail="leaked GITHUB_TOKEN=ghp_" + "z" * 36, input={"password": "pw-123456"},
                evidence=[Evidence(raw='{"token": "tok-abcdefgh"}')])
    assert f.id == "c:1" and "ghp_" not in f.detail and f.input == {"password": "***"} and f.evidence[0].raw == '{"token": "***"}'


def test_leaked_environment_is_masked_in_every_view_and_the_canary_proves_it(tmp_path):
    env = {**os.environ, **SECRETS, "MCPCHECK_MAX_EXAMPLES": "3"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    cmd = [sys.executable, "-m", "mcpcheck.cli", "run", "--campaign", "security", "--check", "security.data_exposure",
           "--format", ",".join(["json", "markdown", "html", "junit", "sarif"]), "--report-dir", "out", "--timeout", "10",
           "--", sys.executable, str(FIXTURES / "env_leak_server.py")]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    out = tmp_path / "out"
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a leaked secret is a proven exploit: NOT READY
    views = {name: (out / name).read_text() for name in VIEWS}
    rerendered = subprocess.run([sys.executable, "-m", "mcpcheck.cli", "report", str(out / "report.json"), "--format", "markdown"],
                                capture_output=True, text=True, timeout=60, env=env)
    views["stdout"], views["mcpcheck report"] = proc.stdout + proc.stderr, rerendered.stdout
    for name, text in views.items():
        for value in SECRET_VALUES:
            assert value not in text, f"{name} carries {value!r}"
    for name in VIEWS:  # the proof stays: the planted canary, and the finding that names it
        assert "MCPCHK_SECRET_" in views[name], name
        assert "security.data_exposure" in views[name], name
    # masking is targeted: the leaked names stay readable, only their values are gone
    raw = "\n".join(e["raw"] for f in json.loads(views["report.json"])["findings"] for e in f["evidence"])
    assert '\\"GITHUB_TOKEN\\": \\"***\\"' in raw and "postgres://app:***@db.internal" in raw
    assert "NOT READY" in proc.stdout and "proven data exposure (critical)" in proc.stdout

"""What the fixture servers' findings are, as a set of (check, category, tool, severity).

Run as a script from a checkout (its own venv) to write tests/data/registry_move_baseline.json;
tests/test_registry_move.py runs the same function in this checkout and compares. The baseline was
written on the commit before the checks moved onto the registry (22c0788), so the test proves the
move changed no verdict (or lists, with reasons, the changes made on purpose).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures"

# (name, argv, campaigns): stdio fixtures, every campaign that applies, small fixed budgets
CASES = [
    ("clean", [sys.executable, str(FIX / "clean_server.py")], ["conformance", "fuzz", "envelope", "security"]),
    ("buggy_tools", [sys.executable, str(FIX / "buggy_tools_server.py")], ["conformance", "fuzz"]),
    ("vuln", [sys.executable, str(FIX / "vuln_server.py")], ["security"]),
    ("accept_null_id", [sys.executable, str(FIX / "broken_proxy.py"), "--defect", "accept_null_id", "--", sys.executable, str(FIX / "clean_server.py")], ["conformance"]),
]


def snapshot() -> dict[str, list[list[str]]]:
    from mcpcheck import runner
    from mcpcheck.campaigns.fuzz import FuzzSettings
    from mcpcheck.config import make_target

    out = {}
    for name, argv, campaigns in CASES:
        t = make_target(name=name, command=argv, timeout=5)
        o = runner.run([t], campaigns, seed=7, fuzz_settings=FuzzSettings(max_examples=15, shrink_seconds=5, write_corpus=False))[0]
        from mcpcheck.registry import REGISTRY

        builtin = {c.id for c in REGISTRY.checks() if c.origin == "mcpcheck"}  # not a test's plugin checks
        rows = sorted({(f.check, f.category, f.tool or "", f.severity.value) for f in o.findings if f.check in builtin})
        out[name] = [list(r) for r in rows]
    return out


if __name__ == "__main__":
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data" / "registry_move_baseline.json"
    dest.write_text(json.dumps(snapshot(), indent=1) + "\n")
    print(dest)

"""Layers point one way, function-level imports included (issue 11):

    wirelog -> transport -> session -> connect -> checks -> campaigns -> runner -> reports/gate -> cli

The graph is built from the source with `ast` (every `import` / `from ... import`, wherever it
stands), so a lazy import inside a function counts like a top-level one. The test fails on an
edge from a lower layer to a higher one and on any import cycle between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: layer of each module, by longest matching name prefix (mcpcheck.X). Lower imports never higher.
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("wirelog", "redact", "budget", "pages", "profiles", "sharding", "findings", "corpus", "protocol", "strategies", "config", "safety", "transport.sse_parse", "checks.session_ids", "security.canary_server", "campaigns.own_loop")),
    (1, ("transport",)),
    (2, ("session",)),
    (3, ("connect", "client")),
    (4, ("registry", "plugins", "results", "checks", "security")),
    (5, ("campaigns", "load", "workflow", "monitor")),
    (6, ("runner", "jobs")),
    (7, ("report", "gate", "cli_gate", "baseline")),
    (8, ("cli", "cli_nightly", "api", "pytest_plugin", "load.cli", "workflow.cli", "workflow.pytest_plugin", "monitor.cli", "")),
]


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for folder, base in ((ROOT / "conformance", ["mcpcheck"]), (ROOT / "strategies", ["mcpcheck", "strategies"])):
        for p in folder.rglob("*.py"):
            parts = list(p.relative_to(folder).with_suffix("").parts)
            pkg = parts[-1] == "__init__"
            if pkg:
                parts = parts[:-1]
            out[".".join(base + parts)] = (p, pkg)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found.add(full if full in mods else target)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        edges[name] = {t for t in found if t in mods and t != name}
    return edges


def layer(module: str) -> int:
    rel = module.removeprefix("mcpcheck").removeprefix(".")
    best, rank = -1, 8
    for r, prefixes in LAYERS:
        for p in prefixes:
            if (rel == p or rel.startswith(p + ".") or p == "") and len(p) > best:
                best, rank = len(p), r
    return rank


def test_every_module_has_a_layer_and_the_graph_is_not_empty():
    g = graph()
    assert len(g) > 80 and any(g.values())


def test_no_upward_edge():
    upward = sorted(f"{a} ({layer(a)}) -> {b} ({layer(b)})" for a, targets in graph().items() for b in targets if layer(b) > layer(a))
    assert upward == [], "\n".join(upward)


def test_no_import_cycle():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    import sys

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    # a package's __init__ that re-exports its own submodules is not a cycle of layers
    real = [c for c in cycles if not all(m.startswith(c[0].rsplit(".", 1)[0]) for m in c) or len({m.split(".")[1] if "." in m else m for m in c}) > 1]
    assert real == [], "\n".join(" <-> ".join(c) for c in real)

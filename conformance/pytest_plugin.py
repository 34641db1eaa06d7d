"""mcpcheck as a pytest plugin.

Two ways in:

* `pytest --mcpcheck` turns every configured target (`[tool.mcpcheck.targets]` in pyproject.toml
  or mcpcheck.toml, or `--mcpcheck-target "COMMAND ARGS"` / `--mcpcheck-url URL`) into test
  items, one per check: the campaign runs once per target, each item passes, fails with the
  findings (evidence and reproduce command included) or is skipped with the check's reason.
* the `mcpcheck_run` fixture: `report = mcpcheck_run(target)` inside your own tests, returning the
  canonical RunReport, for assertions of your own.
"""

from __future__ import annotations

import datetime as _dt
import shlex
import time
from typing import Any

import pytest

from .config import ConfigError, Settings, Target, load_settings, make_target
from .findings import REGISTRY, Finding, Severity


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcpcheck", "MCP server conformance (mcpcheck)")
    group.addoption("--mcpcheck", action="store_true", help="run mcpcheck against the configured MCP targets")
    group.addoption("--mcpcheck-target", action="append", default=[], metavar="COMMAND", help="stdio server command (repeatable)")
    group.addoption("--mcpcheck-url", action="append", default=[], metavar="URL", help="Streamable HTTP endpoint (repeatable)")
    group.addoption("--mcpcheck-config", default=None, metavar="PATH", help="mcpcheck.toml / pyproject.toml to read targets from")
    group.addoption("--mcpcheck-campaign", action="append", default=[], metavar="NAME", help="campaign(s) to run (default: conformance)")
    group.addoption("--mcpcheck-fail-on", default=None, metavar="SEVERITY", help="lowest severity that fails an item (default: config, else high)")


def _targets(config: pytest.Config) -> tuple[list[Target], Settings]:
    settings, _ = load_settings(config.getoption("--mcpcheck-config"), cwd=config.rootpath)
    targets = list(settings.targets.values())
    for i, cmd in enumerate(config.getoption("--mcpcheck-target")):
        targets.append(make_target(name=f"cmd{i + 1}", command=shlex.split(cmd)))
    for i, url in enumerate(config.getoption("--mcpcheck-url")):
        targets.append(make_target(name=f"url{i + 1}", transport="http", url=url))
    return targets, settings


class _Runs:
    """One campaign run per target, shared by that target's items."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.outcomes: dict[str, Any] = {}

    def get(self, target: Target, wanted: list[str]):
        """Run once per target, only the checks whose items survived `-k` / `-m` selection."""
        if target.name not in self.outcomes:
            from .runner import run

            self.outcomes[target.name] = run([target], self.names, only=sorted(set(wanted)))[0]
        return self.outcomes[target.name]


@pytest.hookimpl(tryfirst=True)  # add the items before -k / -m deselect among them
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--mcpcheck"):
        return
    from .runner import load_all_checks

    load_all_checks()
    try:
        targets, settings = _targets(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"mcpcheck: {exc}") from exc
    if not targets:
        raise pytest.UsageError("mcpcheck: no targets (configure [tool.mcpcheck.targets] or pass --mcpcheck-target / --mcpcheck-url)")
    names = config.getoption("--mcpcheck-campaign") or ["conformance"]
    fail_on = Severity(config.getoption("--mcpcheck-fail-on") or settings.fail_on)
    runs = _Runs(names)
    parent = McpcheckCollector.from_parent(session, name="mcpcheck")
    parent.specs = [
        (target, spec.id)
        for target in targets
        for spec in sorted(REGISTRY.values(), key=lambda s: s.id)
        if spec.campaign in names
    ]
    parent.runs, parent.fail_on = runs, fail_on
    from _pytest.runner import collect_one_node

    report = collect_one_node(parent)  # reported like any collector: "collected N items" counts them
    items.extend(i for i in report.result or [] if isinstance(i, McpcheckItem))


class McpcheckCollector(pytest.Collector):
    specs: list = []
    runs: "_Runs"
    fail_on: Severity

    def collect(self):
        return [
            McpcheckItem.from_parent(self, name=f"{target.name}::{check}", target=target, check=check, runs=self.runs, fail_on=self.fail_on)
            for target, check in self.specs
        ]


class McpcheckFailure(Exception):
    pass


class McpcheckItem(pytest.Item):
    def __init__(self, *, target: Target, check: str, runs: _Runs, fail_on: Severity, **kw: Any) -> None:
        super().__init__(**kw)
        self.target, self.check, self.runs, self.fail_on = target, check, runs, fail_on

    def runtest(self) -> None:
        wanted = [i.check for i in self.session.items if isinstance(i, McpcheckItem) and i.target.name == self.target.name]
        outcome = self.runs.get(self.target, wanted or [self.check])
        if outcome.result.error:
            raise McpcheckFailure(f"target {self.target.name} could not be tested: {outcome.result.error}")
        mine = [c for c in outcome.checks if c.id == self.check]
        if not mine:
            pytest.skip("not evaluated for this target")
        if all(c.status == "skipped" for c in mine):
            pytest.skip("; ".join(sorted({c.reason or "skipped" for c in mine})))
        failing = [f for f in outcome.findings if f.check == self.check and f.severity >= self.fail_on and f.severity > Severity.info]
        if failing:
            raise McpcheckFailure("\n\n".join(_describe(f) for f in failing))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, McpcheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"mcpcheck {self.target.name}: {self.check}"


def _describe(f: Finding) -> str:
    lines = [f"[{f.severity.value}] {f.check} ({f.rule or '-'}, {f.revision or 'any'}): {f.detail}"]
    for e in f.evidence[:3]:
        lines.append(f"  {e.direction or ''} {e.channel or ''}: {e.raw[:300]}")
    if f.reproduce:
        lines.append(f"  reproduce: {f.reproduce}")
    return "\n".join(lines)


@pytest.fixture
def mcpcheck_run():
    """`mcpcheck_run(target_or_command, campaigns=["conformance"]) -> RunReport`."""

    def run_it(target: Target | list[str] | str, campaigns: list[str] | None = None, fail_on: str = "high"):
        from .runner import build_report, run

        if isinstance(target, str):
            target = make_target(command=shlex.split(target))
        elif isinstance(target, list):
            target = make_target(command=target)
        names = campaigns or ["conformance"]
        started = _dt.datetime.now(_dt.timezone.utc)
        t0 = time.monotonic()
        outcomes = run([target], names)
        return build_report(outcomes, command=["pytest"], names=names, fail_on=Severity(fail_on), started=started, duration=time.monotonic() - t0)

    return run_it


@pytest.fixture(scope="module")
def mcp_target(request: pytest.FixtureRequest) -> Target:
    """The server your own tests talk to: the first `--mcpcheck-target` / `--mcpcheck-url`, else
    the first target in the config. Override this fixture to choose another."""
    try:
        targets, _ = _targets(request.config)
    except ConfigError as exc:
        raise pytest.UsageError(f"mcpcheck: {exc}") from exc
    if not targets:
        pytest.skip("no MCP target: pass --mcpcheck-target / --mcpcheck-url or configure [tool.mcpcheck.targets]")
    return targets[0]


@pytest.fixture(scope="module")
def mcp_client(mcp_target: Target):
    """A connected synchronous client (conformance.client.McpClient) for your own tests, e.g.
    `@given(strategies.valid(mcp_client.tool("echo")["inputSchema"]))`. Module-scoped, so
    Hypothesis' examples share one server process."""
    from .client import McpClient

    with McpClient(mcp_target) as client:
        yield client

"""mcpcheck as a pytest plugin.

Two ways in:

* `pytest --mcpcheck` turns every configured target (`[tool.mcpcheck.targets]` in pyproject.toml
  or mcpcheck.toml, or `--mcpcheck-target "COMMAND ARGS"` / `--mcpcheck-url URL`) into test
  items: `TARGET::CHECK` per check and, for the checks judged per tool call (`per_tool_checks()`:
  the fuzz campaign's and the security campaign's probes), `TARGET::CHECK[TOOL]` per tool too.
  The tools are listed once per target at collection; a tool mcpcheck may not call
  (conformance/safety.py) gets items that are skipped with the reason. The campaign runs once
  per target, only for the checks (and, when `-k` / `-m` kept only some tools' items, only the
  tools) that survived selection; each item passes, fails with its findings (evidence and
  reproduce command included; a `[TOOL]` item only that tool's, the `TARGET::CHECK` item of a
  per-tool check those about no listed tool) or is skipped with the check's reason. An item
  whose findings are all below `--mcpcheck-fail-on` is XFAIL, never PASSED, with the finding's
  severity, check and detail as the reason (`-rx` lists them): it does not fail the session, as
  `mcpcheck run --fail-on` would not, but it cannot read as a pass either. Observations (severity
  info) are no violation: their item passes.
* the `mcpcheck_run` fixture: `report = mcpcheck_run(target)` inside your own tests, returning the
  canonical RunReport, for assertions of your own.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import shlex
import time
from typing import Any

import pytest

from .config import ConfigError, Settings, Target, load_settings, make_target
from .findings import Finding, Severity
from .registry import REGISTRY


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcpcheck", "MCP server conformance (mcpcheck)")
    group.addoption("--mcpcheck", action="store_true", help="run mcpcheck against the configured MCP targets")
    group.addoption("--mcpcheck-target", action="append", default=[], metavar="COMMAND", help="stdio server command (repeatable)")
    group.addoption("--mcpcheck-url", action="append", default=[], metavar="URL", help="Streamable HTTP endpoint (repeatable)")
    group.addoption("--mcpcheck-config", default=None, metavar="PATH", help="mcpcheck.toml / pyproject.toml to read targets from")
    group.addoption("--mcpcheck-campaign", action="append", default=[], metavar="NAME", help="campaign(s) to run (default: conformance)")
    group.addoption("--mcpcheck-fail-on", default=None, metavar="SEVERITY", help="lowest severity that fails an item (default: config, else high)")
    group.addoption("--mcpcheck-jobs", type=int, default=1, metavar="N", help="work units of a target's run at once in worker processes, like `mcpcheck run --jobs` (default 1)")
    group.addoption("--mcpcheck-plugin", action="append", default=[], metavar="MODULE", help="also load this module of user-written checks (repeatable; docs/plugins.md)")


def _targets(config: pytest.Config) -> tuple[list[Target], Settings]:
    settings, _ = load_settings(config.getoption("--mcpcheck-config"), cwd=config.rootpath)
    targets = list(settings.targets.values())
    for i, cmd in enumerate(config.getoption("--mcpcheck-target")):
        targets.append(make_target(name=f"cmd{i + 1}", command=shlex.split(cmd)))
    for i, url in enumerate(config.getoption("--mcpcheck-url")):
        targets.append(make_target(name=f"url{i + 1}", transport="http", url=url))
    return targets, settings


def per_tool_checks() -> frozenset[str]:
    """The checks judged per call of one tool, whose findings about a tool name it (Finding.tool):
    every check of the fuzz campaign and the checks registered with `per_tool=True` (the security
    campaign's active probes). They get one item per (target, check, tool). The static listing
    checks (tool_poisoning, shadowing, ...) name prompts and resources the same way and call
    nothing, so they stay one item per check."""
    return frozenset(c.id for c in REGISTRY.checks() if c.per_tool or c.spec.campaign == "fuzz")


def _list_tools(target: Target) -> list[dict[str, Any]]:
    """The target's tools, from a session opened (and closed) at collection time."""
    from .connect import detect, list_tools

    async def go() -> list[dict[str, Any]]:
        _probe, session = await detect(target)
        try:
            return await list_tools(session)
        finally:
            await session.close()

    return asyncio.run(go())


class _Runs:
    """One campaign run per target, shared by that target's items."""

    def __init__(self, names: list[str], jobs: int = 1) -> None:
        self.names = names
        self.jobs = jobs
        self.outcomes: dict[str, Any] = {}

    def get(self, target: Target, wanted: list[str], tools: list[str] | None = None):
        """Run once per target, only the checks whose items survived `-k` / `-m` selection and,
        when `tools` is given, calling only those tools (`safety.only_tools`)."""
        if target.name not in self.outcomes:
            from .runner import run

            if tools is not None:
                target = target.model_copy(update={"safety": target.safety.model_copy(update={"only_tools": tools})})
            self.outcomes[target.name] = run([target], self.names, only=sorted(set(wanted)), jobs=self.jobs)[0]
        return self.outcomes[target.name]


def _tools_to_call(items: list["McpcheckItem"]) -> list[str] | None:
    """The tools a target's run has to call for the items that survived selection; None for all
    of them (some surviving item is of a check that is not per tool, or no [TOOL] item is left)."""
    if any(not i.per_tool for i in items):
        return None
    return sorted({i.tool for i in items if i.tool and not i.not_called}) or None


@pytest.hookimpl(tryfirst=True)  # add the items before -k / -m deselect among them
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--mcpcheck"):
        return
    from .plugins import load_plugins
    from .runner import load_all_checks

    load_all_checks()
    try:
        targets, settings = _targets(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"mcpcheck: {exc}") from exc
    load_plugins([*settings.plugins, *config.getoption("--mcpcheck-plugin")])
    if not targets:
        raise pytest.UsageError("mcpcheck: no targets (configure [tool.mcpcheck.targets] or pass --mcpcheck-target / --mcpcheck-url)")
    names = config.getoption("--mcpcheck-campaign") or ["conformance"]
    fail_on = Severity(config.getoption("--mcpcheck-fail-on") or settings.fail_on)
    parent = McpcheckCollector.from_parent(session, name="mcpcheck")
    parent.targets, parent.checks = targets, sorted(spec.id for spec in REGISTRY.values() if spec.campaign in names)
    jobs = config.getoption("--mcpcheck-jobs")
    if jobs is not None and jobs < 1:
        raise pytest.UsageError(f"mcpcheck: --mcpcheck-jobs must be at least 1, got {jobs}")
    parent.runs, parent.fail_on = _Runs(names, jobs), fail_on
    from _pytest.runner import collect_one_node

    report = collect_one_node(parent)
    session.ihook.pytest_collectreport(report=report)  # reported like any collector: "collected N items" counts them
    items.extend(i for i in report.result or [] if isinstance(i, McpcheckItem))


class McpcheckCollector(pytest.Collector):
    targets: list[Target] = []
    checks: list[str] = []
    runs: "_Runs"
    fail_on: Severity

    def collect(self):
        per_tool = per_tool_checks()
        items = []
        for target in self.targets:
            tools = self._tools(target) if per_tool & set(self.checks) else {}
            for check in self.checks:
                kw = dict(target=target, check=check, per_tool=check in per_tool, runs=self.runs, fail_on=self.fail_on)
                own = tools if check in per_tool else {}  # tools with an item of their own for this check
                items.append(McpcheckItem.from_parent(self, name=f"{target.name}::{check}", covered=frozenset(own), **kw))
                items += [McpcheckItem.from_parent(self, name=f"{target.name}::{check}[{tool}]", tool=tool, not_called=why, **kw) for tool, why in own.items()]
        return items

    def _tools(self, target: Target) -> dict[str, str | None]:
        """Tool name -> why mcpcheck may not call it (None: it may). {} when the target cannot be
        listed: its per-tool checks then get one item per check, and the run reports the error."""
        from .safety import may_call

        try:
            listed = _list_tools(target)
        except Exception as exc:  # a target that does not start must not break collection
            self.warn(pytest.PytestWarning(f"mcpcheck: could not list the tools of {target.name} at collection ({exc}); one item per check"))
            return {}
        return {t["name"]: may_call(t, target.safety) for t in listed if isinstance(t.get("name"), str)}


class McpcheckFailure(Exception):
    pass


class McpcheckItem(pytest.Item):
    def __init__(
        self,
        *,
        target: Target,
        check: str,
        runs: _Runs,
        fail_on: Severity,
        per_tool: bool = False,
        tool: str | None = None,
        not_called: str | None = None,
        covered: frozenset[str] = frozenset(),
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.target, self.check, self.runs, self.fail_on = target, check, runs, fail_on
        self.per_tool = per_tool  # the check is judged per tool (per_tool_checks())
        self.tool = tool  # this item's tool; None: the whole check
        self.not_called = not_called  # why mcpcheck may not call this item's tool
        self.covered = covered  # tools with items of their own (their findings are not this item's)

    def owns(self, f: Finding) -> bool:
        return f.check == self.check and (f.tool == self.tool if self.tool else f.tool not in self.covered)

    def runtest(self) -> None:
        if self.not_called:
            pytest.skip(f"not called: {self.not_called}")
        selected = [i for i in self.session.items if isinstance(i, McpcheckItem) and i.target.name == self.target.name]
        outcome = self.runs.get(self.target, [i.check for i in selected] or [self.check], _tools_to_call(selected))
        if outcome.result.error:
            raise McpcheckFailure(f"target {self.target.name} could not be tested: {outcome.result.error}")
        mine = [c for c in outcome.checks if c.id == self.check]
        if not mine:
            pytest.skip("not evaluated in this run")
        if all(c.status == "skipped" for c in mine):
            pytest.skip("; ".join(sorted({c.reason or "skipped" for c in mine})))
        failing = [f for f in outcome.findings if self.owns(f) and f.severity >= self.fail_on and f.severity > Severity.info]
        if failing:
            raise McpcheckFailure("\n\n".join(_describe(f) for f in failing))
        below = [f for f in outcome.findings if self.owns(f) and Severity.info < f.severity < self.fail_on]
        if below:  # found something, below the bar: never a plain PASSED (XFAIL with the finding's text)
            first = " ".join(below[0].detail.split())
            more = f" (+{len(below) - 1} more)" if len(below) > 1 else ""
            pytest.xfail(f"[{below[0].severity.value}] {self.check}: {first[:300]}{more}; below --mcpcheck-fail-on {self.fail_on.value}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, McpcheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"mcpcheck {self.target.name}: {self.check}" + (f" [{self.tool}]" if self.tool else "")


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
        from .report.build import build_report
        from .runner import run

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
    """A connected synchronous client (mcpcheck.client.McpClient) for your own tests, e.g.
    `@given(strategies.valid(mcp_client.tool("echo")["inputSchema"]))`. Module-scoped, so
    Hypothesis' examples share one server process."""
    from .client import McpClient

    with McpClient(mcp_target) as client:
        yield client

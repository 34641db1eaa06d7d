"""A programmatic run: `mcpcheck.run(...)` gives the same canonical report as `mcpcheck run`.

    import mcpcheck

    report = mcpcheck.run(["python", "my_server.py"], campaigns=["conformance", "fuzz"], seed=1)
    assert not [f for f in report.findings if f.severity >= mcpcheck.Severity.high]
    mcpcheck.write_reports(report, "mcpcheck-report", ["json", "sarif"])
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Sequence

from .config import Target, make_target
from .findings import Severity
from .plugins import load_plugins, release
from .report import write_reports  # noqa: F401 - re-exported for the public API
from .report.model import RunReport
from .report.build import build_report
from .runner import load_all_checks
from .runner import run as _run_targets


def run(
    target: Target | Sequence[str] | str,
    *,
    campaigns: Sequence[str] = ("conformance",),
    checks: Sequence[str] | None = None,
    skip_checks: Sequence[str] = (),
    plugins: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int | None = None,
    timeout: float | None = None,
    fail_on: Severity | str = Severity.high,
    jobs: int | None = 1,
) -> RunReport:
    """Run campaigns against one target and return the canonical report.

    target: a Target, a stdio command (list of argv, or one shell-quoted string), or an
    http(s):// URL of a Streamable HTTP endpoint. plugins: modules of user checks to load (the
    `mcpcheck.checks` entry points are loaded too). Raises mcpcheck.config.ConfigError on bad
    input; an unreachable target is reported in the report (targets[0].error, exit_code 2).
    jobs: work units run at once in worker processes (`--jobs`; None: the number of cores; the
    default 1 runs everything in this process, so checks registered here always apply).
    """
    t = _target(target, timeout)
    load_all_checks()
    load_plugins(list(plugins))
    kw: dict[str, Any] = {"only": list(checks) if checks else None, "skip": list(skip_checks), "seed": seed}
    if max_examples is not None:
        from .campaigns.fuzz import FuzzSettings

        kw["fuzz_settings"] = FuzzSettings(max_examples=max_examples)
    started, t0 = _dt.datetime.now(_dt.timezone.utc), time.monotonic()
    try:
        outcomes = _run_targets([t], list(campaigns), jobs=jobs, **kw)
    finally:
        release(list(plugins))  # its plugins judge no later run that does not name them
    return build_report(outcomes, command=["mcpcheck.run"], names=list(campaigns), fail_on=Severity(fail_on), started=started, duration=time.monotonic() - t0, seed=seed)


def _target(target: Target | Sequence[str] | str, timeout: float | None) -> Target:
    if isinstance(target, Target):
        return target.model_copy(update={"timeout": timeout}) if timeout else target
    extra = {"timeout": timeout} if timeout else {}
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        return make_target(name="target", transport="http", url=target, **extra)
    return make_target(name="target", command=target, **extra)

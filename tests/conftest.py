"""Hypothesis profiles for this project's own tests.

    default   what a developer runs: random inputs, the local example database
    ci        derandomized, no database (Hypothesis loads it itself when it detects CI)
    nightly   `tox -e fuzz`: many more examples; pairs with MCPCHECK_MAX_EXAMPLES for campaigns
    replay    `tox -e replay`: only explicit examples (corpus entries), never generates new ones

Select one with HYPOTHESIS_PROFILE=name.
"""

import os
import tempfile

import pytest

from hypothesis import HealthCheck, Phase, settings

# Campaigns write shrunk failures to MCPCHECK_CORPUS (default ./corpus): a test run must never
# write into the committed corpus/ (tests/test_corpus_replay.py replays every entry there).
os.environ.setdefault("MCPCHECK_CORPUS", tempfile.mkdtemp(prefix="mcpcheck-test-corpus-"))
# The suite runs under pytest-xdist on a shared machine: a CLI run without --jobs runs its work
# units one after another; the tests of --jobs pass it explicitly (tests/test_jobs.py).
os.environ.setdefault("MCPCHECK_JOBS", "1")

settings.register_profile("nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("replay", phases=[Phase.explicit], database=None, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


# The files that take longest (seconds of --durations in CI), started first. `--dist loadfile`
# hands a worker one whole file at a time, in collection order (pyproject sets
# --no-loadscope-reorder: xdist's own reorder puts files with the most tests first, which started
# the files of a few long campaigns last, each a long tail on one worker while the others idled).
# Longest first is the classic greedy balance; files not listed follow in collection order.
# Refresh from a full run's `--durations=0` when a file's weight changes a lot.
LONGEST_FIRST = [
    "test_run_budget.py",  # ~220 s: bounded runs, each as long as its --max-time
    "test_pytest_plugin.py",  # ~135 s: pytest subprocesses running campaigns
    "test_liveness.py",  # ~130 s
    "test_thirdparty.py",  # ~100 s (npm / PyPI servers)
    "test_side_effects_and_limits.py",  # ~80 s
    "test_fuzz_e2e.py",  # ~80 s
    "test_sharding.py",  # ~75 s
    "test_cli_e2e.py",  # ~75 s
    "test_packaging.py",  # ~70 s: builds a wheel, installs it in a fresh venv
    "test_progress.py",  # ~60 s
    "test_tool_probes.py",  # ~45 s
    "test_security_blind.py",  # ~45 s
    "test_profiles.py",  # ~45 s: a module run of the quick profile
    "test_report_huge_inputs.py",  # ~35 s
    "test_conformance_fixtures.py",  # ~40 s
    "test_seed_reproducible.py",  # ~35 s
    "test_stateful_replay.py",  # ~32 s
    "test_plugins.py",  # ~30 s
]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order


# `mcpcheck run` names the run's profile and per-tool fuzz cap in the environment for the worker
# processes it starts (profiles.activate / profiles.tool_seconds); a test that calls the CLI in
# this process must not hand them to the next test.
RUN_ENV = ("MCPCHECK_RUN_PROFILE", "MCPCHECK_TOOL_SECONDS")


@pytest.fixture(autouse=True)
def _run_env_restored():
    saved = {k: os.environ.get(k) for k in RUN_ENV}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v

"""Hypothesis profiles for this project's own tests.

    default   what a developer runs: random inputs, the local example database
    ci        derandomized, no database (Hypothesis loads it itself when it detects CI)
    nightly   `tox -e fuzz`: many more examples; pairs with MCPCHECK_MAX_EXAMPLES for campaigns
    replay    `tox -e replay`: only explicit examples (corpus entries), never generates new ones

Select one with HYPOTHESIS_PROFILE=name.
"""

import os
import tempfile

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

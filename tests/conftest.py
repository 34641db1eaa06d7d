"""Hypothesis profiles for this project's own tests.

    default   what a developer runs: random inputs, the local example database
    ci        derandomized, no database (Hypothesis loads it itself when it detects CI)
    nightly   `tox -e fuzz`: many more examples; pairs with MCPCHECK_MAX_EXAMPLES for campaigns
    replay    `tox -e replay`: only explicit examples (corpus entries), never generates new ones

Select one with HYPOTHESIS_PROFILE=name.
"""

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile("nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("replay", phases=[Phase.explicit], database=None, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

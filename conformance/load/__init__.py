"""Load suite: load patterns over the valid-input strategies, with honest latency (docs/load.md).

Public API:
    run_load(ctx, result)                 the "load" campaign (conformance/load/campaign.py)
    run_load_target(target, cfg)          standalone run -> (LoadRun, CampaignContext, TargetResult)
    LoadConfig, load_config_file(path)    configuration (pydantic, extra="forbid")
    build_pool(...)                       the pre-generated input pool (also used by the Locust user)
"""

from .config import LoadConfig, load_config_file, parse_load_config

__all__ = ["LoadConfig", "load_config_file", "parse_load_config", "run_load", "run_load_target", "build_pool"]


def __getattr__(name: str):
    if name in ("run_load", "run_load_target", "LoadRun"):
        from . import campaign

        return getattr(campaign, name)
    if name == "build_pool":
        from .pool import build_pool

        return build_pool
    raise AttributeError(name)

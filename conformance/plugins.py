"""Loading user-written checks: the `mcpcheck.checks` entry-point group, `--plugin MODULE` and
`plugins = [...]` in the config.

A plugin is any importable module whose top level registers checks with `@mcpcheck.check`.
While it is imported, the registry records the plugin's name as each check's `origin`, so
`mcpcheck list-checks` and every report say where a check came from. A plugin that cannot be
loaded (import error, bad metadata, an id that clashes) is one clear line on stderr naming the
plugin; what it registered before failing is removed, and the run goes on without it.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points

from .registry import REGISTRY

ENTRY_POINT_GROUP = "mcpcheck.checks"


@dataclass
class PluginError:
    plugin: str
    error: str

    def __str__(self) -> str:
        return f"mcpcheck: plugin {self.plugin!r} not loaded: {self.error}"


_loaded: dict[str, PluginError | None] = {}  # plugin -> its error (None: loaded); once per process
_modules: set[str] = set()  # plugins loaded by module name (--plugin, config, mcpcheck.run(plugins=))
_active: set[str] = set()  # of those, the ones the current run named (released when it ends)


def _load_one(name: str, load) -> PluginError | None:  # noqa: ANN001 - a zero-argument loader
    if name in _loaded:
        return _loaded[name]
    before = set(REGISTRY)
    saved, REGISTRY.origin = REGISTRY.origin, name
    err = None
    try:
        load()
    except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is reported, never a crash
        for check_id in set(REGISTRY) - before:
            REGISTRY.remove(check_id)
        err = PluginError(name, f"{type(exc).__name__}: {exc}")
    finally:
        REGISTRY.origin = saved
    _loaded[name] = err
    return err


def load_plugins(modules: list[str] | tuple[str, ...] = (), *, use_entry_points: bool = True, stderr=sys.stderr) -> list[PluginError]:
    """Import every installed entry point of the group, then each module; report failures."""
    errors: list[PluginError] = []
    if use_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(getattr(ep, "dist", None), "name", None)
            name = f"{dist}:{ep.name}" if dist else ep.name
            err = _load_one(name, ep.load)
            if err:
                errors.append(err)
    for module in modules:
        _modules.add(module)
        _active.add(module)
        err = _load_one(module, lambda m=module: importlib.import_module(m))
        if err:
            errors.append(err)
    for err in errors:
        print(str(err), file=stderr)
    return errors


def release(modules: list[str] | tuple[str, ...] = ()) -> None:
    """The run that named these plugin modules has ended: their checks stay registered (a module
    is imported once per process) but judge no later run that does not name them again."""
    _active.difference_update(modules)


def inactive() -> set[str]:
    """Ids of checks registered by plugin modules no current run named: one
    `mcpcheck.run(plugins=[...])` must not add its checks to the next run in the same process
    (installed entry points always apply). The runner leaves these out."""
    off = _modules - _active
    return {cid for cid in REGISTRY if REGISTRY.check(cid).origin in off}

"""The --jobs worker process: `python -m mcpcheck.jobs_worker` (started by mcpcheck/jobs.py).

It takes work units from stdin (one base64 pickle a line: first the parent's check modules, then
one unit at a time), runs each as a fresh runner.run_target with the run's deadline, and sends
its progress steps, what its unit is doing (every second) and the unit's result as JSON lines on
its original stdout; anything else printed goes to stderr, which the parent forwards. SIGTERM
(the parent ends a unit past the deadline) ends every server it started, with its temporary
directory, before it exits.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from typing import Any, Callable

from . import budget
from .jobs import BEAT


def worker_main() -> None:
    """`python -m mcpcheck.jobs_worker`: take units from stdin (one base64 pickle a line), send progress
    and the result as JSON lines on the original stdout; anything else printed goes to stderr."""
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    lock = threading.Lock()

    def send(obj: dict) -> None:
        with lock:
            proto.write(json.dumps(obj) + "\n")
            proto.flush()

    def ended(_sig: int, _frame: Any) -> None:  # the parent ends an overrunning unit
        from .transport import stdio

        stdio.kill_all()
        os._exit(143)

    signal.signal(signal.SIGTERM, ended)
    for line in sys.stdin.buffer:
        msg = pickle.loads(base64.b64decode(line))
        if "init" in msg:
            send(_init(msg["init"]))
        elif "unit" in msg:
            try:
                send(_unit(msg["unit"], send))
            except BaseException:  # noqa: BLE001 - the parent raises it with this traceback
                send({"t": "fail", "error": traceback.format_exc()})


def _init(init: dict) -> dict:
    import io

    from .plugins import load_plugins
    from .registry import REGISTRY
    from .runner import campaigns

    import importlib

    for p in reversed(init["path"]):
        if p not in sys.path:
            sys.path.insert(0, p)
    quiet = io.StringIO()  # the parent said what failed to load
    for module, plugin in init["modules"]:
        if plugin:
            load_plugins([module], use_entry_points=False, stderr=quiet)
        elif module != "__main__":
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - the parent compares the registries
                pass
    campaigns()  # as the parent did before it compared
    return {"t": "ready", "checks": [(c.id, c.origin) for c in REGISTRY.checks()]}


def _unit(u: dict, send: Callable[[dict], None]) -> dict:
    from .runner import run_target

    max_time, remaining = u["max_time"], u["remaining"]
    started = time.monotonic() - (max_time - remaining) if max_time else time.monotonic()
    state = budget.RunState(max_time=max_time, started=started)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(BEAT):
            act = state.current
            if act is not None:
                try:
                    found = state.findings()
                except Exception:  # noqa: BLE001
                    found = act.findings
                send({"t": "act", "doing": act.doing, "done": act.done, "planned": act.planned, "findings": found})

    def progress(m: str) -> None:
        send({"t": "step", "m": m})

    progress.log = lambda m: send({"t": "log", "m": m})  # type: ignore[attr-defined]
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        with budget.use(state):
            outcome = asyncio.run(run_target(u["target"], u["names"], progress=progress, announce=False, **u["kw"]))
    finally:
        stop.set()
        thread.join()
    last = state.activities[-1] if state.activities else None
    data = {"outcome": outcome, "cuts": state.cuts, "states": [a.state for a in state.activities], "doing": last.doing if last else ""}
    return {"t": "done", "data": base64.b64encode(pickle.dumps(data)).decode("ascii")}


if __name__ == "__main__":
    worker_main()

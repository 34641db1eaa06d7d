"""tasks.lifecycle (conformance/campaigns/task_probes.py, TK1) walks one 2025-11-25 task and catches
each seeded defect of tests/rawservers/tasks_server.py (hand-written: the Python SDK has no tasks);
the correct twin and server-everything (a real TypeScript SDK server with a task-required tool)
pass; a server without the tasks capability is skipped with the reason."""

from __future__ import annotations

import sys

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.findings import Severity
from servers import TESTS, clean_stdio_cmd, everything_stdio_cmd

TASKS = [sys.executable, str(TESTS / "rawservers" / "tasks_server.py")]
CHECK = "tasks.lifecycle"

# defect -> a word of the finding's detail
CASES = {
    "plain_result": "without a CreateTaskResult",
    "numeric_task_id": "must be strings",
    "terminal_moves": "from 'completed' to 'working'",
    "result_is_task": "returned task data",
    "no_related_task": "related-task",
    "unknown_task_ok": "never issued answered -32603",
    "cancel_terminal_ok": "must be refused with -32602",
    "never_done": "answered status 'working'",
}


def _run(command):
    target = make_target(name="tasks", command=command, timeout=10.0)
    return runner.run([target], ["conformance"], only=[CHECK])[0]


@pytest.mark.parametrize("defect", sorted(CASES))
def test_seeded_defect_is_caught(defect):
    outcome = _run([*TASKS, defect])
    assert outcome.result.error is None, outcome.result.error
    hits = [f for f in outcome.findings if f.check == CHECK]
    assert hits and all(f.severity == Severity.medium for f in hits), [(f.severity, f.detail) for f in outcome.findings]
    assert any(CASES[defect] in f.detail for f in hits), [f.detail for f in hits]
    assert hits[0].evidence


def test_correct_twin_passes():
    outcome = _run(TASKS)
    assert [f.detail for f in outcome.findings if f.severity >= Severity.low] == []
    assert {c.id: c.status for c in outcome.checks}[CHECK] == "passed"


def test_server_everything_passes():
    outcome = _run(everything_stdio_cmd())
    assert outcome.result.error is None, outcome.result.error
    assert [f.detail for f in outcome.findings if f.severity >= Severity.low] == []
    assert {c.id: c.status for c in outcome.checks}[CHECK] == "passed"


def test_server_without_tasks_is_skipped():
    outcome = _run(clean_stdio_cmd())
    status = {(c.id, c.revision): (c.status, c.reason) for c in outcome.checks}
    assert status[(CHECK, "2025-11-25")] == ("skipped", "the server does not declare tasks.requests.tools.call")
    assert status[(CHECK, "2026-07-28")][0] == "skipped"

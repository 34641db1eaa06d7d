"""Replay every committed corpus/ entry against the server it names (`tox -e replay` runs this file).

corpus/<target>/<check>-<hash>.json entries are shrunk failures meant to be replayed forever: each
must come back "fixed" (a regression test). Entries name their target; CORPUS_TARGETS says how to
start it. The always-present test below proves the loader and the replay on entries written here,
so an empty corpus still tests something (docs/corpus.md describes the format).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.corpus import CorpusEntry, load_entries, save_entry
from mcpcheck.findings import Severity
from servers import FIXTURES, ROOT, clean_stdio_cmd

CORPUS = ROOT / "corpus"
CORPUS_TARGETS = {  # target name in an entry -> server command
    "clean_server": clean_stdio_cmd,
    "buggy_tools_server_fixed": lambda: [sys.executable, str(FIXTURES / "buggy_tools_server.py"), "--fixed"],
}
ENTRIES = load_entries(CORPUS)


def replay(entry_files: list[Path], target: str, tmp: Path):
    folder = tmp / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for f in entry_files:
        shutil.copy(f, folder / f.name)
    t = make_target(name=target, command=CORPUS_TARGETS[target](), timeout=5)
    out = runner.run([t], ["replay"], corpus_dir=str(tmp / "corpus"))[0]
    assert out.result.error is None, out.result.error
    return out


@pytest.mark.parametrize("path,entry", ENTRIES, ids=[f"{e.target}/{p.name}" for p, e in ENTRIES])
def test_committed_entry_stays_fixed(path, entry, tmp_path):
    assert entry.target in CORPUS_TARGETS, f"{path}: unknown target {entry.target!r}; add it to CORPUS_TARGETS"
    out = replay([path], entry.target, tmp_path)
    failing = [f for f in out.findings if f.severity > Severity.info]
    assert not failing, "\n".join(f.detail for f in failing)
    assert any(n.endswith(": fixed") for n in out.result.notes), out.result.notes


# The three entries an early fuzz run wrote against clean_server (pydantic's lax mode ran `false` as 0
# and `arguments: null` as no arguments). clean_server now validates strictly; they must stay fixed.
FORMER = [
    ("add", {"a": False, "b": 0}, "type"),
    ("place_order", {"customer": "a", "discount_percent": False, "lines": [{"qty": 1, "sku": "AAA-000"}]}, "type"),
    ("list_items", None, "type"),
]


def test_loader_and_replay_on_written_entries(tmp_path):
    written = []
    for tool, args, constraint in FORMER:
        entry = CorpusEntry(target="clean_server", tool=tool, arguments=args, mode="invalid", check="fuzz.invalid_input_rejected", revision="2026-07-28", constraint=constraint, detail="lax validation")
        path = save_entry(entry, tmp_path / "src")
        assert save_entry(entry, tmp_path / "src") == path  # the same failure is stored once
        written.append(path)
    loaded = load_entries(tmp_path / "src")
    assert [e for _, e in loaded] == sorted([CorpusEntry.model_validate_json(p.read_text()) for p in written], key=lambda e: [p.name for p in sorted(written)].index(f"{e.check}-{e.digest()}.json"))
    assert {p.parent.name for p, _ in loaded} == {"clean_server"}
    out = replay(written, "clean_server", tmp_path)
    assert not [f for f in out.findings if f.severity > Severity.info], [f.detail for f in out.findings]
    assert sum(n.endswith(": fixed") for n in out.result.notes) == len(FORMER), out.result.notes


def test_loader_rejects_a_malformed_entry(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "x.json").write_text('{"format": "mcpcheck-corpus/1", "target": "t"}')
    with pytest.raises(Exception):
        load_entries(tmp_path)

"""Replay follows the target's safety policy like every other campaign: with --read-only only
entries whose tools are annotated readOnlyHint are replayed; a destructive tool is never called
without --allow-destructive. Each entry not replayed gets a note with the reason. Real server:
tests/fixtures/clean_server.py (official SDK): list_items is read-only, add has no annotations,
create_item changes state, delete_item is destructiveHint."""

from __future__ import annotations

from mcpcheck import runner
from mcpcheck.config import make_target
from mcpcheck.corpus import CorpusEntry, save_entry
from servers import clean_stdio_cmd

ENTRIES = {
    "list_items": CorpusEntry(target="clean", tool="list_items", arguments=None, mode="invalid", check="fuzz.invalid_input_rejected", constraint="type"),
    "add": CorpusEntry(target="clean", tool="add", arguments={"a": False, "b": 0}, mode="invalid", check="fuzz.invalid_input_rejected", constraint="type"),
    "delete_item": CorpusEntry(target="clean", tool="delete_item", arguments={"id": "item-1"}, mode="valid", check="fuzz.no_crash"),
    "sequence": CorpusEntry(target="clean", tool="*", arguments={"steps": [{"call": "create_item", "arguments": {"name": "x"}}, {"list": "tools"}]}, mode="stateful", check="stateful.sequence"),
}


def _replay(tmp_path, **safety) -> dict[str, str]:
    """entry name -> the note replay wrote for it"""
    files = {name: save_entry(e, tmp_path / "corpus").name for name, e in ENTRIES.items()}
    target = make_target(name="clean", command=clean_stdio_cmd(), timeout=10, safety=safety)
    out = runner.run([target], ["replay"], corpus_dir=str(tmp_path / "corpus"))[0]
    assert out.result.error is None, out.result.error
    notes = {}
    for name, file in files.items():
        mine = [n for n in out.result.notes if n.startswith(f"replay: {file}: ")]
        assert len(mine) == 1, (name, out.result.notes)
        notes[name] = mine[0].removeprefix(f"replay: {file}: ")
    return notes


def test_read_only_replays_only_entries_of_read_only_tools(tmp_path):
    notes = _replay(tmp_path, read_only=True)
    assert notes["list_items"] == "fixed", notes
    for name, tool in (("add", "add"), ("sequence", "create_item"), ("delete_item", "delete_item")):
        assert notes[name].startswith("not replayed: ") and f"{tool} is not annotated readOnlyHint" in notes[name], notes


def test_without_read_only_state_changing_entries_replay_but_destructive_ones_do_not(tmp_path):
    notes = _replay(tmp_path)
    assert notes["list_items"] == notes["add"] == notes["sequence"] == "fixed", notes
    assert notes["delete_item"].startswith("not replayed: ") and "destructive" in notes["delete_item"], notes

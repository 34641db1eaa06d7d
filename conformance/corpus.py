"""corpus/: every shrunk failure as one JSON file, replayed as a regression test forever after.

Layout: corpus/<target>/<check>-<hash>.json. The file holds the realized JSON arguments (not a
Hypothesis choice sequence), so it survives schema and library changes and reads like a bug report.
Modes: a tool call (`valid`, `invalid`, `injected`), a call sequence (`stateful`:
`{"steps": [...]}`) or one raw JSON-RPC line (`envelope`: see `envelope_arguments`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CorpusEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["mcpcheck-corpus/1"] = "mcpcheck-corpus/1"
    target: str
    tool: str
    arguments: Any
    # oversized / unicode: the fuzz campaign's string probes (constraint: the size or payload)
    mode: Literal["valid", "invalid", "injected", "stateful", "envelope", "oversized", "unicode"]
    check: str
    revision: str | None = None
    detail: str = ""
    constraint: str | None = None
    seed: int | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    oracle: dict[str, Any] | None = Field(None, description="how replay re-judges a security hit (family, marker, baseline/control arguments, planted file, canary server)")
    first_seen: str = Field(default_factory=lambda: _dt.date.today().isoformat())

    def digest(self) -> str:
        return entry_digest(self.target, self.tool, self.check, self.arguments)


def entry_digest(target: str, tool: str, check: str, arguments: Any) -> str:
    """What names one failure's corpus file (CorpusEntry.digest)."""
    key = json.dumps([target, tool, check, arguments], sort_keys=True, default=repr)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def entry_file(target: str, tool: str, check: str, arguments: Any) -> str:
    """The path, under the corpus root, that save_entry gives this failure's entry."""
    return f"{_safe(target)}/{_safe(check)}-{entry_digest(target, tool, check, arguments)}.json"


def envelope_arguments(kind: str, data: bytes, expect: str, request_id: Any, codes: Any) -> dict[str, Any]:
    """`arguments` of an `envelope` entry: the raw line and the answer it deserves. The line is
    stored as text when it is valid UTF-8 (readable, like a bug report), else as base64; either
    way `envelope_message` gives back the exact bytes that were sent."""
    try:
        message, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        message, encoding = base64.b64encode(data).decode("ascii"), "base64"
    return {
        "kind": kind,
        "encoding": encoding,
        "message": message,
        "expect": expect,
        "request_id": request_id,
        "acceptable_codes": sorted(codes),
    }


def envelope_message(arguments: dict[str, Any]) -> bytes:
    """The exact bytes of an `envelope` entry's line (the inverse of `envelope_arguments`)."""
    if arguments.get("encoding") == "base64":
        return base64.b64decode(arguments["message"])
    return str(arguments["message"]).encode("utf-8")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "_"


def save_entry(entry: CorpusEntry, root: str | Path = "corpus") -> Path:
    """Write the entry unless the same failure is already stored; returns its path."""
    path = Path(root) / entry_file(entry.target, entry.tool, entry.check, entry.arguments)
    folder = path.parent
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    text = json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (odd-unicode input): kept as a \u escape
        data = json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=True).encode("ascii")
    tmp.write_bytes(data + b"\n")
    os.replace(tmp, path)  # atomic: a replay never sees half a file
    return path


def load_entries(root: str | Path = "corpus", target: str | None = None) -> list[tuple[Path, CorpusEntry]]:
    base = Path(root)
    if not base.exists():
        return []
    folders = [base / _safe(target)] if target else sorted(p for p in base.iterdir() if p.is_dir())
    out = []
    for folder in folders:
        for file in sorted(folder.glob("*.json")):
            out.append((file, CorpusEntry.model_validate_json(file.read_text())))
    return out


AT_START_ENV = "MCPCHECK_CORPUS_AT_START"  # a JSON file: {corpus root: [entry files]} when the run began


def at_start(root: str | Path, entries: list[tuple[Path, "CorpusEntry"]]) -> list[tuple[Path, "CorpusEntry"]]:
    """The entries that were in `root` when the run began (a --jobs run writes its own findings to
    the corpus while its replay unit may still be reading it: replay judges what an earlier run
    saved, as a sequential run, where replay comes before fuzz, does). All of them when the run
    recorded no list for this root."""
    listed = os.environ.get(AT_START_ENV)
    if not listed:
        return entries
    try:
        known = json.loads(Path(listed).read_text())
    except (OSError, ValueError):
        return entries
    files = known.get(str(Path(root).resolve()))
    if files is None:
        return entries
    keep = set(files)
    return [(f, e) for f, e in entries if str(f.resolve()) in keep]


def record_at_start(roots: list[str | Path], where: str | Path) -> None:
    """Write the entry files each corpus root holds now to `where` and name it in AT_START_ENV
    (the --jobs parent, before its workers start: they inherit the environment)."""
    known = {str(Path(r).resolve()): sorted(str(f.resolve()) for f in Path(r).glob("*/*.json")) for r in roots}
    Path(where).write_text(json.dumps(known))
    os.environ[AT_START_ENV] = str(where)


class CorpusMergeError(ValueError):
    """A corpus directory or file that cannot be merged: one line that names it and says why."""


def read_entry(file: Path) -> CorpusEntry:
    """One corpus file, or CorpusMergeError naming the file and the first problem."""
    from pydantic import ValidationError

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusMergeError(f"{file}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return CorpusEntry.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "document"
        msg = " ".join(str(err["msg"]).split())
        raise CorpusMergeError(f"{file} is not a mcpcheck corpus entry: {where}: {msg}") from None


def entry_path(root: str | Path, entry: CorpusEntry) -> Path:
    """Where `entry` lives under `root`: its identity (target, check, digest of tool + arguments)."""
    return Path(root) / _safe(entry.target) / f"{_safe(entry.check)}-{entry.digest()}.json"


def merge_corpora(sources: list[str | Path], into: str | Path) -> dict[str, int]:
    """Merge the corpus directories `sources` (e.g. one per shard of a nightly campaign) into
    `into` (which may already hold entries, and may be one of the sources).

    Entries are the same failure when their identity is (target, check, tool, arguments), the
    file name save_entry gives them; of those, the one with the earliest `first_seen` is kept
    (on a tie, the one already in `into`, then the sources in the order given). Every file is
    read and validated before anything is written, so a broken file (CorpusMergeError, naming
    it) leaves `into` as it was. Returns counts: read, written (new or replaced), kept
    (already in `into` and not replaced), duplicates (the same failure found more than once)."""
    dirs = [Path(into), *[Path(s) for s in sources]]
    for d in dirs[1:]:
        if not d.is_dir():
            raise CorpusMergeError(f"{d}: no such corpus directory")
    if dirs[0].exists() and not dirs[0].is_dir():
        raise CorpusMergeError(f"{dirs[0]}: exists and is not a directory")
    best: dict[Path, tuple[CorpusEntry, bool]] = {}  # identity -> (entry, already in `into`)
    seen: set[Path] = set()
    read = duplicates = 0
    for i, root in enumerate(dirs):
        if not root.is_dir() or root.resolve() in seen:
            continue  # `into` not created yet, or given twice
        seen.add(root.resolve())
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for file in sorted(folder.glob("*.json")):
                entry = read_entry(file)
                read += 1
                key = entry_path(into, entry).relative_to(into)
                held = best.get(key)
                stored = i == 0 and file.name == key.name and folder.name == key.parent.name
                if held is None:
                    best[key] = (entry, stored)
                    continue
                duplicates += 1
                if entry.first_seen < held[0].first_seen or (stored and entry.first_seen == held[0].first_seen):
                    best[key] = (entry, stored)  # ISO dates compare as text
    written = kept = 0
    for key, (entry, in_into) in sorted(best.items()):
        if in_into:
            kept += 1
            continue
        path = Path(into) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        written += 1
    return {"read": read, "written": written, "kept": kept, "duplicates": duplicates, "entries": len(best)}

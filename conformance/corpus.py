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
    mode: Literal["valid", "invalid", "injected", "stateful", "envelope"]
    check: str
    revision: str | None = None
    detail: str = ""
    constraint: str | None = None
    seed: int | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    oracle: dict[str, Any] | None = Field(None, description="how replay re-judges a security hit (family, marker, baseline/control arguments, planted file, canary server)")
    first_seen: str = Field(default_factory=lambda: _dt.date.today().isoformat())

    def digest(self) -> str:
        key = json.dumps([self.target, self.tool, self.check, self.arguments], sort_keys=True, default=repr)
        return hashlib.sha256(key.encode()).hexdigest()[:12]


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
    folder = Path(root) / _safe(entry.target)
    path = folder / f"{_safe(entry.check)}-{entry.digest()}.json"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
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

"""Pure oracles of the security campaign: did a payload run, did a secret or an internal leak?

Every function takes recorded data (an Exchange, texts, the arguments that were sent) and
returns what it found; nothing here does I/O. The rule common to every "executed" oracle: the
proof must be text that appears in what the server sent back and NOT in anything we sent (so a
server that merely echoes its input is never flagged), and not in the answer to a benign
baseline call of the same tool (so text the tool always returns is never proof).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable

from ..checks.tools import PATH_RE, TRACEBACK_RE
from ..redact import CANARY
from ..session import Exchange

# -------------------------------------------------------------------- what came back


def _walk_strings(node: Any, out: list[str], limit: int = 2000) -> None:
    if len(out) >= limit:
        return
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for v in node.values():
            _walk_strings(v, out, limit)
    elif isinstance(node, list):
        for v in node:
            _walk_strings(v, out, limit)


def response_texts(ex: Exchange) -> list[tuple[str, str]]:
    """(where, text) for everything the server said about one request: result (content blocks,
    structuredContent, resource contents, prompt messages: every string in it), error message
    and data, and log notifications (notifications/message) that arrived while it was in flight."""
    out: list[tuple[str, str]] = []
    if isinstance(ex.result, dict):
        strings: list[str] = []
        _walk_strings({k: v for k, v in ex.result.items() if k != "_meta"}, strings)
        out += [("result", s) for s in strings]
    err = ex.error
    if isinstance(err, dict):
        out.append(("error", str(err.get("message", ""))))
        if "data" in err:
            data = err.get("data")
            out.append(("error.data", data if isinstance(data, str) else json.dumps(data, default=str)))
    for entry in ex.extra:
        msg = entry.parsed
        if isinstance(msg, dict) and msg.get("method") == "notifications/message":
            params = msg.get("params")
            out.append(("log", json.dumps(params, default=str) if not isinstance(params, str) else params))
    return out


def joined(ex: Exchange | None) -> str:
    return "\n".join(t for _w, t in response_texts(ex)) if ex is not None else ""


def sent_text(args: Any) -> str:
    """Everything we sent, as one string (both raw and JSON-escaped spellings)."""
    if isinstance(args, str):
        return args
    raw: list[str] = []
    _walk_strings(args, raw)
    return "\n".join(raw) + "\n" + json.dumps(args, default=str) + "\n" + json.dumps(args, default=str, ensure_ascii=False)


def is_error(ex: Exchange) -> bool:
    return not ex.ok or (isinstance(ex.result, dict) and ex.result.get("isError") is True)


# -------------------------------------------------------------------- execution markers


def marker_proof(ex: Exchange, marker: str, sent: str, baseline: Exchange | None) -> str | None:
    """The line of the answer showing `marker`, when it is proof (absent from what we sent and
    from the baseline answer); else None."""
    if not marker or marker in sent:
        return None
    if baseline is not None and marker in joined(baseline):
        return None
    for where, text in response_texts(ex):
        i = text.find(marker)
        if i >= 0:
            lo, hi = max(0, i - 120), min(len(text), i + len(marker) + 120)
            return f"{where}: …{text[lo:hi]}…"
    return None


# -------------------------------------------------------------------- SQL

DB_ERRORS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx))
    for name, rx in (
        ("sqlite", r"sqlite3?\.(?:Operational|Programming|Integrity|Database)Error"),
        ("sqlite", r"near \"[^\"\n]{0,80}\": syntax error"),
        ("sqlite", r"unrecognized token: "),
        ("sqlite", r"SQLITE_ERROR"),
        ("sqlite", r"do not have the same number of result columns"),
        ("sqlite", r"no such column: "),
        ("postgres", r"psycopg2?\.errors\.\w+"),
        ("postgres", r"syntax error at or near \""),
        ("postgres", r"unterminated quoted string at or near"),
        ("postgres", r"each UNION query must have the same number of columns"),
        ("mysql", r"You have an error in your SQL syntax"),
        ("mysql", r"MySQLSyntaxErrorException|com\.mysql\.jdbc|mysql_fetch_\w+\("),
        ("mysql", r"MariaDB server version for the right syntax"),
        ("mysql", r"The used SELECT statements have a different number of columns"),
        ("generic", r"SQLSTATE\[\w+\]"),
        ("oracle", r"\bORA-\d{5}\b"),
        ("mssql", r"Unclosed quotation mark after the character string"),
    )
)


def db_error_proof(ex: Exchange, sent: str, baseline: Exchange | None) -> str | None:
    """A database error signature in the answer (not in what we sent, not in the baseline)."""
    base = joined(baseline)
    for where, text in response_texts(ex):
        for name, rx in DB_ERRORS:
            m = rx.search(text)
            if m and m.group(0) not in sent and not rx.search(base):
                lo, hi = max(0, m.start() - 100), min(len(text), m.end() + 150)
                return f"{name} error text in {where}: …{text[lo:hi]}…"
    return None


def row_count(ex: Exchange) -> int:
    """How many records an answer holds (0 for errors): the longest list in structuredContent or
    in a JSON text block, else the number of non-empty text lines across content blocks."""
    if is_error(ex) or not isinstance(ex.result, dict):
        return 0
    best = -1

    def lists(node: Any, depth: int = 0) -> None:
        nonlocal best
        if depth > 4:
            return
        if isinstance(node, list):
            best = max(best, len(node))
            for v in node[:50]:
                lists(v, depth + 1)
        elif isinstance(node, dict):
            for v in node.values():
                lists(v, depth + 1)

    lists(ex.result.get("structuredContent"))
    lines = 0
    for block in ex.result.get("content") or []:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            text = block["text"]
            try:
                lists(json.loads(text))
            except ValueError:
                pass
            lines += sum(1 for line in text.splitlines() if line.strip())
    return best if best >= 0 else lines


# -------------------------------------------------------------------- data exposure


def _host_paths() -> list[str]:
    """Absolute paths of this host that no answer should contain (home, mcpcheck's cwd)."""
    out = []
    for p in (os.path.expanduser("~"), os.getcwd()):
        if p and p not in ("/", "/tmp") and len(p) > 4:
            out.append(p.rstrip("/") + "/")
    return out


def operator_paths(command: Iterable[str] | None = None, env: dict[str, str] | None = None, cwd: str | None = None) -> list[str]:
    """Paths the operator gave the server: every absolute path (or `./`-style relative path,
    resolved against the server's working directory) in its command line (also the value of
    `--opt=/path`) and in the environment variables set for it, and that working directory.
    A server that names one of them, or anything under one (server-filesystem's allowed
    directory, mcp-server-git's --repository), tells the client what its operator configured:
    not a leak. Each path is given as written and resolved (symlinks), without a trailing '/'."""
    words: list[str] = []
    for arg in command or []:
        words.append(arg)
        if arg.startswith("-") and "=" in arg:
            words.append(arg.split("=", 1)[1])
    for value in (env or {}).values():
        words.extend(value.split(os.pathsep))
    roots: list[str] = []
    for w in words:
        w = w.strip()
        if w.startswith("~"):
            w = os.path.expanduser(w)
        if os.path.isabs(w):
            roots.append(w)
        elif cwd and (w in (".", "..") or w.startswith(("./", "../"))):
            roots.append(os.path.join(cwd, w))
    if cwd:
        roots.append(cwd)
    out: list[str] = []
    for r in roots:
        for p in (os.path.normpath(r), os.path.realpath(r)):
            if p != "/" and p not in out:
                out.append(p)
    return out


def under(path: str, roots: Iterable[str]) -> bool:
    """`path` is one of `roots` or inside one."""
    path = path.rstrip("/") or "/"
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


_TRAILING = "'\"`,;:.)]}>"


def _own(path: str, sent: str, allowed: Iterable[str]) -> bool:
    """A path that is not a leak: something we sent, a configured path (or under one), one whose
    last part is a token we sent, or one of our own relative inputs resolved against a configured
    path (the server resolved our own input against its root)."""
    allowed = list(allowed)
    if path in sent or under(path, allowed):
        return True
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return any(m.group(0) in sent for m in CANARY.finditer(last)) or _resolved_input(path, sent, allowed)


def _resolved_input(path: str, sent: str, roots: list[str]) -> bool:
    """`path` is a relative path we sent, joined to one of `roots` and normalised: server-filesystem
    resolves the traversal probe's '../mcpcheck-plant-x/canary-secret.txt' against its allowed
    directory and names the result when it refuses it. That names the operator's directory plus our
    own input: no leak (the traversal itself is judged by the file's content, not here)."""
    target = os.path.normpath(path.rstrip("/"))
    for line in sent.split("\n"):
        for rel in line.split():
            rel = rel.strip("\"',")
            if not rel or rel.startswith(("/", "~")) or "/" not in rel or "://" in rel:
                continue
            if any(os.path.normpath(os.path.join(root, rel)) == target for root in roots):
                return True
    return False


def _path_hit(text: str, sent: str, host_paths: list[str], allowed: list[str]) -> str | None:
    """The first absolute path in `text` that leaks: a source file path (PATH_RE) or a path under
    home / mcpcheck's cwd, that is not our own (see _own)."""
    for m in PATH_RE.finditer(text):
        if not _own(m.group(0), sent, allowed):
            return m.group(0)
    for p in host_paths:
        start = 0
        while (i := text.find(p, start)) >= 0:
            start = i + 1
            hit = text[i : i + len(p) + 200].split()[0].rstrip(_TRAILING)
            if p not in sent and not _own(hit, sent, allowed):
                return hit
    return None


@dataclass(frozen=True)
class Exposure:
    kind: str  # "secret" | "traceback" | "path"
    where: str
    excerpt: str


def exposures(
    ex: Exchange, sent: str, secrets: Iterable[str], host_paths: list[str] | None = None, allowed: Iterable[str] = ()
) -> list[Exposure]:
    """Secrets, stack traces and host paths in an answer (results, errors, log notifications).
    `allowed`: paths the operator gave the server (operator_paths): never a path leak, nor is
    anything under them. An answer that leaks a secret is one exposure of the secret: the host
    paths in the same answer are part of it, not a second exposure."""
    found: list[Exposure] = []
    host_paths = _host_paths() if host_paths is None else host_paths
    allowed = list(allowed)
    seen_kinds: set[str] = set()
    for where, text in response_texts(ex):
        for secret in secrets:
            if secret and secret in text and secret not in sent and "secret" not in seen_kinds:
                i = text.find(secret)
                found.append(Exposure("secret", where, text[max(0, i - 120) : i + len(secret) + 40]))
                seen_kinds.add("secret")
        if "traceback" not in seen_kinds and (m := TRACEBACK_RE.search(text)) and m.group(0) not in sent:
            found.append(Exposure("traceback", where, text[max(0, m.start() - 40) : m.end() + 400]))
            seen_kinds.add("traceback")
        if "path" not in seen_kinds and (hit := _path_hit(text, sent, host_paths, allowed)) is not None:
            found.append(Exposure("path", where, hit))
            seen_kinds.add("path")
    if "secret" in seen_kinds:
        found = [e for e in found if e.kind != "path"]
    return found

"""The stdin/stdout plumbing the hand-written stdio servers of this folder share (no SDK).

    import stdio_rpc as rpc              # the servers run as scripts: their folder is on sys.path

    for msg in rpc.messages():           # each stdin line parsed; not JSON / not UTF-8: -32700 sent here
        ...
    rpc.serve(answer, notified)          # the usual loop: -32600 for a non-object, the client's
                                         # answers ignored, notifications to `notified`, requests to `answer`

`send` writes one JSON line (thread-safe: servers that answer from threads share it); `error`,
`readable_id`, and for the 2026-07-28 era `modern` (the request carries the per-request _meta
version) and `finish` (a complete result with its resultType and serverInfo) are the rest.
Each server keeps its own defects; only the plumbing lives here.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Callable, Iterator

R5 = "2026-07-28"
_lock = threading.Lock()


def send(msg: Any) -> None:
    with _lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


def error(rid: Any, code: int, message: str) -> None:
    send({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})


def readable_id(msg: dict) -> Any:
    """The message's id when it is one a response can echo (a string or an integer), else None."""
    rid = msg.get("id")
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def messages() -> Iterator[Any]:
    """Every stdin line, parsed, until EOF. A line that is not JSON (or not UTF-8) is answered
    -32700 with id null here and not yielded."""
    for raw in sys.stdin.buffer:
        try:
            yield json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError is one
            error(None, -32700, "Parse error")


def serve(answer: Callable[[dict], None], notified: Callable[[dict], None] | None = None, *, null_id: bool = False) -> None:
    """The usual loop: a value that is not an object gets -32600 (id null); an object without a
    method (the client's answer to a request of ours) is ignored; a notification goes to
    `notified`; a request to `answer`. `null_id`: a request whose id is null gets -32600 too."""
    for msg in messages():
        if not isinstance(msg, dict):
            error(None, -32600, "Invalid Request")
            continue
        if "method" not in msg:
            continue
        if "id" not in msg:
            if notified is not None:
                notified(msg)
            continue
        if null_id and msg.get("id") is None:
            error(None, -32600, "Invalid Request: null id")
            continue
        answer(msg)


def modern(msg: dict) -> bool:
    """A 2026-07-28 request: its _meta names that protocol version."""
    params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
    meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
    return meta.get("io.modelcontextprotocol/protocolVersion") == R5


def finish(result: dict, info: dict, stateless: bool = True, cacheable: bool = False) -> dict:
    """A result as the era wants it: in 2026-07-28 with resultType "complete" and the server's
    info in _meta (and ttlMs/cacheScope for the cacheable list and discover results)."""
    if stateless:
        result = {**result, "resultType": "complete", "_meta": {"io.modelcontextprotocol/serverInfo": info}}
        if cacheable:
            result.update(ttlMs=0, cacheScope="public")
    return result

"""Observers the security campaign runs beside the target, on this machine only.

``CanaryServer``: a threaded ``http.server`` on 127.0.0.1, port 0 (the OS picks). Every request
it receives (any method) is recorded with its path, headers and the first KiB of its body, and
answered with a small text body. An SSRF probe puts a per-case token in the URL's path; the proof
of a server-side request is that this server saw the token.

``CanaryFile``: a file with a unique token planted OUTSIDE the stdio server's working directory
(stdio servers run in a fresh temporary cwd, see conformance/transport/stdio.py). A path
traversal probe names the file; the proof of a read is that the token (which is only in the
file's content, never in its name or in any argument) comes back.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


@dataclass
class CanaryHit:
    t: float
    method: str
    path: str
    headers: dict[str, str]
    body: str
    client: str

    def describe(self) -> str:
        ua = self.headers.get("User-Agent") or self.headers.get("user-agent") or "?"
        return f"{self.method} {self.path} from {self.client} (User-Agent: {ua})"


@dataclass
class CanaryServer:
    """Loopback HTTP canary; use as a context manager or call start()/stop()."""

    hits: list[CanaryHit] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "CanaryServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1024)) if length > 0 else b""
                hit = CanaryHit(
                    t=time.time(),
                    method=self.command,
                    path=self.path,
                    headers={k: v for k, v in self.headers.items()},
                    body=body.decode("utf-8", "replace"),
                    client=f"{self.client_address[0]}:{self.client_address[1]}",
                )
                with owner._lock:
                    if len(owner.hits) < 10_000:
                        owner.hits.append(hit)
                payload = b"mcpcheck canary: this request was recorded\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _record

            def log_message(self, *_a: Any) -> None:  # keep stderr quiet
                return

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mcpcheck-canary", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "canary server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def seen(self, token: str) -> list[CanaryHit]:
        with self._lock:
            return [h for h in self.hits if token in h.path or token in h.body or any(token in v for v in h.headers.values())]

    def wait_for(self, token: str, timeout: float = 0.0) -> list[CanaryHit]:
        """Hits carrying `token`, waiting up to `timeout` seconds for a late (async) fetch."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.seen(token)
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "CanaryServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class CanaryFile:
    """A planted file: ``token`` is its content (never part of its name)."""

    path: Path
    token: str
    folder: Path

    @classmethod
    def plant(cls, at: str | os.PathLike[str] | None = None, token: str | None = None) -> "CanaryFile":
        """Plant in a fresh temp folder (or re-plant at a known path, for replay)."""
        token = token or f"MCPCHECK_PLANTED_{secrets.token_hex(10)}"
        if at is not None:
            path = Path(at)
            path.parent.mkdir(parents=True, exist_ok=True)
            folder = path.parent
        else:
            folder = Path(tempfile.mkdtemp(prefix="mcpcheck-plant-"))
            path = folder / "canary-secret.txt"
        path.write_text(f"{token}\nplanted by mcpcheck: a server that returns this line read a file outside its root\n")
        return cls(path=path.resolve(), token=token, folder=folder)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

"""The Hypothesis example database that nightly machines share (`--database`, MCPCHECK_HYPOTHESIS_DB).

None by default: the corpus/ JSON files are the durable record (Hypothesis' stored choice
sequences go stale when a schema changes). For campaigns split over several machines
(`--shard I/N`, mcpcheck/sharding.py) one database is shared as a cache of failures:

    dir:PATH                    DirectoryBasedExampleDatabase (a local folder or a network share)
    redis://HOST:PORT[/DB]      hypothesis.extra.redis.RedisExampleDatabase (`pip install 'mcpcheck[redis]'`)
    rediss://...                the same over TLS

Every property has its own key (target, tool, property: engine.ToolRunner.keyed), so a failure saved
by one shard is replayed by whichever shard runs that property next (Hypothesis' `reuse` phase).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from ..config import ConfigError

ENV = "MCPCHECK_HYPOTHESIS_DB"
KEY_PREFIX = b"hypothesis-example:"  # RedisExampleDatabase's default; tests read the keys with it


class DatabaseError(ConfigError):
    """A database setting that cannot be used: one line that says why (exit code 2)."""


def configured(spec: str | None = None) -> str | None:
    """The database spec in force: the given one (--database), else MCPCHECK_HYPOTHESIS_DB."""
    spec = (spec if spec is not None else os.environ.get(ENV, "")).strip()
    return spec or None


def open_database(spec: str | None, source: str = ENV, *, ping: bool = False) -> Any:
    """The Hypothesis database for `spec` (None: none). `source` names the setting in errors
    (`--database` or the environment variable). ping=True checks now that a Redis server answers,
    so a wrong URL is one line at start-up instead of a failure in the middle of the night."""
    if not spec:
        return None
    try:
        db = _cached(spec)
    except DatabaseError as exc:
        raise DatabaseError(f"{source}={shown(spec)!r}: {exc}") from None
    if ping and spec.startswith(("redis://", "rediss://")):
        try:
            db.redis.ping()
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError, auth errors, DNS ...
            raise DatabaseError(f"{source}={shown(spec)!r}: the Redis server does not answer: {_one_line(exc)}") from None
    return db


def shown(spec: str) -> str:
    """The spec as it may be printed: a URL's password masked."""
    from urllib.parse import urlparse

    try:
        password = urlparse(spec).password
    except ValueError:
        return spec
    return spec.replace(f":{password}@", ":***@", 1) if password else spec


@functools.lru_cache(maxsize=8)
def _cached(spec: str) -> Any:
    """One database object per spec for the whole process (one Redis connection pool)."""
    from hypothesis.database import DirectoryBasedExampleDatabase

    if spec.startswith("dir:") and spec[4:].strip():
        return DirectoryBasedExampleDatabase(spec[4:].strip())
    if spec.startswith(("redis://", "rediss://")):
        try:
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError:
            raise DatabaseError("a Redis database needs the redis package: pip install 'mcpcheck[redis]'") from None
        try:
            client = redis.Redis.from_url(spec)
        except ValueError as exc:
            raise DatabaseError(f"not a usable Redis URL: {_one_line(exc)}") from None
        return RedisExampleDatabase(client, key_prefix=KEY_PREFIX)
    raise DatabaseError("expected dir:PATH or redis://HOST:PORT[/DB]")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__

"""Command-line pieces of nightly campaigns across machines (docs/nightly.md).

    mcpcheck fuzz --shard I/N [--shard-rotation K] --database redis://HOST:PORT/0 ...
    mcpcheck corpus merge DIR... --into DIR

`--shard`, `--shard-rotation` and `--database` are options of `run` (so of the `fuzz` shortcut);
`corpus merge` joins the corpora the shards wrote (corpus.merge_corpora).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

GENERATING = ("fuzz", "stateful")  # the campaigns that use the Hypothesis example database


def add_run_options(p: argparse.ArgumentParser) -> None:
    """`run`'s options for one campaign shared by several machines."""
    g = p.add_argument_group("nightly across machines (docs/nightly.md)")
    g.add_argument("--shard", metavar="I/N", help="run only shard I of N of the (target, tool, property) work units (1 <= I <= N); the N shards together cover all of it, with no overlap")
    g.add_argument("--shard-rotation", type=int, default=None, metavar="K", help="move every work unit K shards on (e.g. the night number), so a unit runs on another machine each night (default 0)")
    g.add_argument("--database", metavar="SPEC", help="Hypothesis example database shared by the shards: redis://HOST:PORT[/DB] (pip install 'mcpcheck[redis]') or dir:PATH (default: env MCPCHECK_HYPOTHESIS_DB, else none)")


def apply_run_options(args: argparse.Namespace, names: list[str], extra: dict[str, Any]) -> None:
    """Fold --shard / --shard-rotation / --database into the run's FuzzSettings, and check the
    database now (a Redis server that does not answer is one line at start-up, exit 2)."""
    from .campaigns import exampledb
    from .campaigns.fuzz import FuzzSettings
    from .config import ConfigError as UsageError  # exit 2, one line (the cli must not be imported back)
    from .sharding import parse_shard

    changes: dict[str, Any] = {}
    if args.shard_rotation is not None and args.shard is None:
        raise UsageError("--shard-rotation needs --shard I/N")
    if args.shard is not None:
        try:
            changes["shard"] = parse_shard(args.shard, args.shard_rotation or 0)
        except ValueError as exc:
            raise UsageError(f"--shard: {exc}") from None
    if args.database is not None:
        changes["database"] = exampledb.configured(args.database)
        source = "--database"
    else:
        source = exampledb.ENV
    spec = changes.get("database", exampledb.configured())
    if spec and set(names) & set(GENERATING):
        exampledb.open_database(spec, source, ping=True)  # DatabaseError: a ConfigError, exit 2
    if changes:
        extra["fuzz_settings"] = dataclasses.replace(extra.get("fuzz_settings") or FuzzSettings(), **changes)


def add_corpus_command(sub: Any) -> None:
    cp = sub.add_parser(
        "corpus", help="work with corpus directories (merge the corpora of a sharded campaign)",
        description="Work with corpus directories (docs/corpus.md).",
    )
    csub = cp.add_subparsers(dest="corpus_cmd", metavar="ACTION", required=True, parser_class=sub._parser_class)
    mg = csub.add_parser(
        "merge", help="merge corpus directories into one",
        description="Merge corpus directories (e.g. one per shard) into --into DIR: the same failure "
        "(target, check, tool, arguments) is kept once, with the earliest first_seen. Every file is "
        "checked before anything is written.",
        epilog="Exit codes: 0 = merged; 2 = a directory or file cannot be read or is not a corpus entry (nothing written).",
    )
    mg.add_argument("sources", nargs="+", metavar="DIR", help="corpus directories to merge (corpus/<target>/<check>-<hash>.json)")
    mg.add_argument("--into", required=True, metavar="DIR", help="the merged corpus (created if missing; may be one of DIR)")


def cmd_corpus(args: argparse.Namespace) -> int:
    from .config import ConfigError as UsageError  # exit 2, one line (the cli must not be imported back)
    from .corpus import CorpusMergeError, merge_corpora

    try:
        counts = merge_corpora(args.sources, args.into)
    except CorpusMergeError as exc:
        raise UsageError(f"corpus merge: {exc}") from None
    except OSError as exc:
        raise UsageError(f"corpus merge: cannot write {args.into}: {exc.strerror or exc}") from None
    print(
        f"merged {counts['read']} entries from {len(args.sources)} director{'y' if len(args.sources) == 1 else 'ies'} into {args.into}: "
        f"{counts['entries']} distinct ({counts['written']} written, {counts['kept']} already there, {counts['duplicates']} duplicates)",
        file=sys.stdout,
    )
    return 0

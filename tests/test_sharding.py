"""Nightly campaigns across machines: `--shard I/N` splits the (target, tool, property) work units,
the shards share Hypothesis' example database on a real `redis-server`, and `corpus merge` joins
their corpora.

The two-night test runs two shards of the fuzz + stateful campaign against the seeded-bug server
(tests/fixtures/buggy_tools_server.py): night 1 (rotation 0) through the CLI, night 2 with the
assignment rotated (every unit moves to the other shard) and another seed through the API, so it
can watch every generated input. Hypothesis' first input for a property is its simplest one
(`{"n": 0}` for lookup), so the night-2 shard starting lookup's valid search with
`{"n": 1001}`, the failure the other machine shrank to on night 1, can only be the database's
replay (asserted from the inputs and the Redis keys, never from timing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpcheck import cli, runner
from mcpcheck.campaigns import exampledb
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import load_settings
from mcpcheck.corpus import CorpusEntry, load_entries, save_entry
from mcpcheck.report.model import RunReport
from mcpcheck.sharding import ORDER, Shard, parse_shard

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers  # noqa: E402

BUGGY = [sys.executable, str(Path(__file__).resolve().parent / "fixtures" / "buggy_tools_server.py")]
# six tools: every kind of work unit (valid, invalid, idempotency, read-only) and lookup, whose
# minimal failure is far from the first input Hypothesis tries; no tool that hangs or kills the
# server, so each night takes seconds
TOOLS = ["lookup", "echo", "set_volume", "peek", "stats", "redeem_coupon"]
NOTE = re.compile(r"^shard (\d+)/(\d+)(?: \(rotation (\d+)\))?: (\S+) ran (\d+) of (\d+) work units here: (.*)$")


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None)


@pytest.fixture(scope="module")
def redis_url():
    """A real redis-server on 127.0.0.1 and a free port, no persistence; stopped after the module."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server not found (Debian: apt-get install redis-server; .ci/run installs it when root)")
    pytest.importorskip("redis", reason="the redis client is missing (pip install 'mcpcheck[redis]')")
    import redis

    for _attempt in range(3):  # another process may take the free port first
        port = servers.free_port()
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        if proc.poll() is None:
            break
    else:
        pytest.fail(f"redis-server would not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _config(tmp: Path) -> Path:
    path = tmp / "mcpcheck.toml"
    cmd = ", ".join(f'"{c}"' for c in BUGGY)
    path.write_text(f'[targets.buggy]\ncommand = [{cmd}]\nprotocol = "2025-11-25"\ntimeout = 5\n\n[targets.buggy.safety]\nonly_tools = {TOOLS!r}\n'.replace("'", '"'))
    return path


def _units(notes: list[str], shard: str) -> tuple[set[str], int]:
    """The work units this shard's notes say it ran, and how many units the campaigns had."""
    ran: set[str] = set()
    total = 0
    for n in notes:
        m = NOTE.match(n)
        if not m:
            continue
        assert f"{m.group(1)}/{m.group(2)}" == shard, n
        listed = set() if m.group(7) == "none" else set(m.group(7).split(", "))
        assert len(listed) == int(m.group(5)), n
        ran |= listed
        total += int(m.group(6))
    return ran, total


# ------------------------------------------------------------------ assignment (no server)


def test_every_unit_has_exactly_one_shard_and_rotation_moves_each_one_on():
    units = [(t, tool, p) for t in ("a", "srv") for tool in ["*", *(f"tool{i}" for i in range(30))] for p in ORDER]
    for n in (1, 2, 3, 5):
        for rotation in (0, 1, 7):
            owners = {u: [i for i in range(1, n + 1) if Shard(i, n, rotation).owns(*u)] for u in units}
            assert all(len(o) == 1 for o in owners.values()), "a unit with no shard or with two"
            moved = {u: Shard(1, n, rotation + 1).shard_of(*u) for u in units}
            assert all(moved[u] == owners[u][0] % n + 1 for u in units), "rotation +1 is the next shard"
    # a tool's valid and invalid searches (the big ones) go to different machines
    assert all(Shard(1, 2).shard_of("srv", f"tool{i}", "valid") != Shard(1, 2).shard_of("srv", f"tool{i}", "invalid") for i in range(30))
    # the assignment is a fixed function (sha256), the same on every machine, Python and release:
    # pinned, because machines running different mcpcheck versions must still agree
    assert [Shard(1, 4).shard_of("buggy", t, "valid") for t in TOOLS] == [1, 3, 3, 1, 4, 4]
    assert (Shard(1, 7).shard_of("buggy", "lookup", "valid"), Shard(1, 7).shard_of("buggy", "*", "stateful")) == (5, 6)


@pytest.mark.parametrize("text", ["", "1", "0/2", "3/2", "1/0", "a/b", "1/2/3", "-1/2"])
def test_a_bad_shard_is_one_clear_line(text, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["fuzz", f"--shard={text}", "--max-examples", "1", "--timeout", "2", "--", *BUGGY])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("mcpcheck: error: --shard") and err.count("\n") == 1, err
    assert not (tmp_path / "mcpcheck-report").exists()
    with pytest.raises(ValueError):
        parse_shard(text)


def test_rotation_without_a_shard_and_a_database_that_does_not_answer_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["fuzz", "--shard-rotation", "3", "--", *BUGGY]) == 2
    assert capsys.readouterr().err == "mcpcheck: error: --shard-rotation needs --shard I/N\n"
    pytest.importorskip("redis")
    dead = servers.free_port()  # nothing listens there
    assert cli.main(["fuzz", "--database", f"redis://127.0.0.1:{dead}/0", "--", *BUGGY]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcpcheck: error: --database='redis://127.0.0.1:{dead}/0': the Redis server does not answer") and err.count("\n") == 1
    assert not (tmp_path / "mcpcheck-report").exists()


# ------------------------------------------------------------------ two nights on a real redis-server


def test_two_shards_split_the_work_and_the_rotated_night_replays_what_the_first_saved(redis_url, tmp_path, monkeypatch, capsys):
    import redis
    from hypothesis.database import choices_from_bytes

    monkeypatch.delenv(exampledb.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path)
    db = redis.Redis.from_url(redis_url)
    db.flushdb()

    # night 1, through the CLI: `mcpcheck fuzz --shard I/2 --database redis://...` on two "machines"
    night1: dict[str, set[str]] = {}
    totals = set()
    for i in (1, 2):
        code = cli.main([
            "fuzz", "--config", str(config), "--quiet", "--seed", "20261124", "--max-examples", "8",
            "--shard", f"{i}/2", "--database", redis_url, "--corpus", str(tmp_path / f"corpus-{i}"),
            "--report-dir", str(tmp_path / f"report-{i}"),
        ])
        report = RunReport.model_validate_json((tmp_path / f"report-{i}" / "report.json").read_text())
        assert code in (0, 1) and report.targets[0].error is None, capsys.readouterr()
        night1[f"{i}/2"], total = _units(report.targets[0].notes, f"{i}/2")
        totals.add(total)
    assert "Traceback" not in "".join(capsys.readouterr())
    # the shards cover the work with no overlap: 6 tools x (valid, invalid, strings) + idempotency of the
    # 3 idempotent ones (stats, peek: read-only; redeem_coupon) + read-only of 2 + stateful
    every = {f"{t}:{m}" for t in TOOLS for m in ("valid", "invalid", "strings")} | {"stats:idempotency", "peek:idempotency", "redeem_coupon:idempotency", "stats:read-only", "peek:read-only", "*:stateful"}
    assert totals == {len(every)}
    assert night1["1/2"] | night1["2/2"] == every
    assert not night1["1/2"] & night1["2/2"]
    assert night1["1/2"] and night1["2/2"]

    # what night 1 saved: lookup's shrunk failure {"n": 1001} is in Redis, as Hypothesis' choices
    primary = [k for k in db.keys(exampledb.KEY_PREFIX + b"*") if not k.endswith((b".secondary", b".pareto"))]
    saved = [choices_from_bytes(v) for k in primary for v in db.smembers(k)]
    assert any(1001 in (c or ()) for c in saved), f"lookup's failure was not saved: {saved}"
    # keep only the failures themselves: Hypothesis also keeps the larger failing examples it shrank
    # past (`.secondary`), which would let night 2 re-find the bug without the saved example
    for key in db.keys(exampledb.KEY_PREFIX + b"*.secondary"):
        db.delete(key)
    # ...and each shard wrote its own corpus; lookup's entry is in the one that ran lookup:valid
    owner1 = next(s for s, u in night1.items() if "lookup:valid" in u)
    lookup_entries = [e for _, e in load_entries(tmp_path / f"corpus-{owner1[0]}", "buggy") if e.tool == "lookup" and e.mode == "valid"]
    assert [e.arguments for e in lookup_entries] == [{"n": 1001}]

    # night 2: the assignment rotated by one (every unit moves to the other shard) and a new seed;
    # the API, so that every generated input is seen. Three examples per property: too few for
    # this seed to find lookup's bug by generating (without the database nothing is found), so it
    # can only come back through the database; and enough that a database example judged as
    # passing would be deleted (as happened when the pipelined search replayed it: judged one
    # example late, it looked passing to Hypothesis; fuzz._can_pipeline)
    target = load_settings(str(config))[0].targets["buggy"]
    night2: dict[str, set[str]] = {}
    first: dict[str, dict[tuple[str, str], object]] = {}
    findings2: dict[str, set[tuple[str, str, str]]] = {}
    for i in (1, 2):
        seen: list[tuple[str, str, object]] = []
        cfg = FuzzSettings(
            max_examples=3, seed=20261125, database=redis_url, shard=parse_shard(f"{i}/2", rotation=1),
            corpus_dir=str(tmp_path / f"night2-corpus-{i}"), observe=lambda tool, mode, args, seen=seen: seen.append((tool, mode, args)),
        )
        (outcome,) = runner.run([target], ["fuzz", "stateful"], fuzz_settings=cfg)
        assert outcome.result.error is None
        findings2[f"{i}/2"] = {(f.check, f.tool, repr(f.input)) for f in outcome.findings if "not shrunk" not in f.detail}
        night2[f"{i}/2"], _ = _units(outcome.result.notes, f"{i}/2")
        first[f"{i}/2"] = {}
        for tool, mode, args in seen:
            first[f"{i}/2"].setdefault((tool, mode), args)
        # a shard generates inputs only for its own units
        assert {f"{tool}:{mode}" for tool, mode, _ in seen} <= night2[f"{i}/2"]
    assert night2["1/2"] == night1["2/2"] and night2["2/2"] == night1["1/2"], "rotation 1 of 2 swaps every unit"

    owner2 = next(s for s, u in night2.items() if "lookup:valid" in u)
    assert owner2 != owner1
    # the other machine's first lookup input is night 1's saved failure, although its seed differs
    assert first[owner2][("lookup", "valid")] == {"n": 1001}
    # whereas a search with nothing saved starts from the simplest input (echo has no bug)
    owner_echo = next(s for s, u in night2.items() if "echo:valid" in u)
    assert first[owner_echo][("echo", "valid")] == {"message": ""}
    # the replayed failure failed again, was reported shrunk, and stays in the database
    assert ("fuzz.no_internal_leak", "lookup", "{'n': 1001}") in findings2[owner2]
    primary = [k for k in db.keys(exampledb.KEY_PREFIX + b"*") if not k.endswith((b".secondary", b".pareto"))]
    assert any(1001 in (choices_from_bytes(v) or ()) for k in primary for v in db.smembers(k))


def test_a_seed_and_a_shard_give_the_same_work_inputs_and_findings_as_that_part_of_a_whole_run(tmp_path):
    from mcpcheck.config import make_target

    target = make_target(name="buggy", command=BUGGY, protocol="2025-11-25", timeout=5, safety={"only_tools": TOOLS})

    def night(shard: Shard | None, corpus: str):
        seen: list[tuple[str, str, str]] = []
        cfg = FuzzSettings(max_examples=6, seed=7, database=None, shard=shard, corpus_dir=str(tmp_path / corpus), modes=("valid", "invalid"),
                           observe=lambda tool, mode, args: seen.append((tool, mode, repr(args))))
        (outcome,) = runner.run([target], ["fuzz"], fuzz_settings=cfg)
        return seen, {(f.check, f.tool, repr(f.input)) for f in outcome.findings}, outcome.result.notes

    whole_inputs, whole_findings, _ = night(None, "whole")
    assert whole_findings
    found = set()
    for shard in (Shard(1, 2), Shard(2, 2)):
        inputs, findings, notes = night(shard, f"shard-{shard.index}")
        again, findings_again, notes_again = night(shard, f"shard-{shard.index}-again")
        assert (again, findings_again, notes_again) == (inputs, findings, notes), "the same seed and shard, another result"
        mine, _ = _units(notes, f"{shard.index}/2")
        # exactly the inputs the whole run generated for this shard's units, in the same order
        assert inputs and inputs == [x for x in whole_inputs if f"{x[0]}:{x[1]}" in mine]
        assert findings <= whole_findings
        found |= findings
    assert found == whole_findings, "the two shards found what the whole run found"


# ------------------------------------------------------------------ corpus merge


def _entry(target: str, tool: str, args: object, first_seen: str, check: str = "fuzz.no_crash", detail: str = "") -> CorpusEntry:
    return CorpusEntry(target=target, tool=tool, arguments=args, mode="valid", check=check, first_seen=first_seen, detail=detail)


def test_corpus_merge_dedupes_by_identity_and_keeps_the_earliest_first_seen(tmp_path, capsys):
    a, b, into = tmp_path / "shard-1", tmp_path / "shard-2", tmp_path / "merged"
    save_entry(_entry("srv", "add", {"x": 1}, "2026-11-24", detail="from shard 1"), a)
    save_entry(_entry("srv", "add", {"x": 1}, "2026-11-20", detail="from shard 2, found earlier"), b)
    save_entry(_entry("srv", "sub", {"x": 2}, "2026-11-24"), a)
    save_entry(_entry("other", "add", {"x": 1}, "2026-11-24"), b)  # same tool and arguments, other target
    save_entry(_entry("srv", "add", {"x": 1}, "2026-11-24", check="fuzz.no_hang"), b)  # other check
    save_entry(_entry("srv", "mul", {"x": 3}, "2026-11-01", detail="already merged"), into)
    save_entry(_entry("srv", "sub", {"x": 2}, "2026-11-30", detail="merged later than shard 1 saw it"), into)

    assert cli.main(["corpus", "merge", str(a), str(b), "--into", str(into)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"merged 7 entries from 2 directories into {into}: 5 distinct")
    merged = {(e.target, e.tool, e.check): e for _, e in load_entries(into)}
    assert set(merged) == {("srv", "add", "fuzz.no_crash"), ("srv", "sub", "fuzz.no_crash"), ("other", "add", "fuzz.no_crash"), ("srv", "add", "fuzz.no_hang"), ("srv", "mul", "fuzz.no_crash")}
    assert merged["srv", "add", "fuzz.no_crash"].first_seen == "2026-11-20"
    assert merged["srv", "add", "fuzz.no_crash"].detail == "from shard 2, found earlier"
    assert merged["srv", "sub", "fuzz.no_crash"].first_seen == "2026-11-24"
    assert merged["srv", "mul", "fuzz.no_crash"].detail == "already merged"
    assert len(list(into.rglob("*.json"))) == 5 and not list(into.rglob("*.tmp"))
    # merging again changes nothing
    before = {p: p.read_text() for p in into.rglob("*.json")}
    assert cli.main(["corpus", "merge", str(a), str(b), "--into", str(into)]) == 0
    assert {p: p.read_text() for p in into.rglob("*.json")} == before


def test_corpus_merge_names_a_broken_file_in_one_line_and_writes_nothing(tmp_path, capsys):
    a, b, into = tmp_path / "shard-1", tmp_path / "shard-2", tmp_path / "merged"
    save_entry(_entry("srv", "add", {"x": 1}, "2026-11-24"), a)
    (b / "srv").mkdir(parents=True)
    broken = b / "srv" / "fuzz.no_crash-000000000000.json"
    broken.write_text('{"format": "mcpcheck-corpus/1", "target": "srv"}')
    assert cli.main(["corpus", "merge", str(a), str(b), "--into", str(into)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcpcheck: error: corpus merge: {broken} is not a mcpcheck corpus entry: tool: ") and err.count("\n") == 1, err
    assert not into.exists()
    broken.write_text("{not json")
    assert cli.main(["corpus", "merge", str(a), str(b), "--into", str(into)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcpcheck: error: corpus merge: {broken} is not a mcpcheck corpus entry") and err.count("\n") == 1, err
    assert cli.main(["corpus", "merge", str(tmp_path / "nowhere"), "--into", str(into)]) == 2
    assert capsys.readouterr().err == f"mcpcheck: error: corpus merge: {tmp_path / 'nowhere'}: no such corpus directory\n"


def test_shards_corpora_merge_into_the_corpus_of_the_whole_night(tmp_path):
    """The corpus artifacts of the shards of one night, merged, are one corpus that replays."""
    entries = [_entry("srv", f"tool{i}", {"i": i}, f"2026-11-{10 + i % 5:02d}") for i in range(12)]
    shards = [tmp_path / f"corpus-{i}" for i in (1, 2, 3)]
    for n, e in enumerate(entries):
        save_entry(e, shards[n % 3])
        save_entry(e, shards[(n + 1) % 3])  # every failure found by two shards
    assert cli.main(["corpus", "merge", *map(str, shards), "--into", str(tmp_path / "corpus")]) == 0
    merged = sorted((e.tool, e.first_seen) for _, e in load_entries(tmp_path / "corpus"))
    assert merged == sorted((e.tool, e.first_seen) for e in entries)



# ------------------------------------------------------------------ the documented workflows


def _doc_commands() -> list[list[str]]:
    """Every `mcpcheck ...` command of the GitHub Actions workflows in docs/nightly.md, with the
    expressions replaced by sample values, split like a shell would (up to the server command)."""
    import shlex

    import yaml

    doc = (Path(__file__).resolve().parent.parent / "docs" / "nightly.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    assert len(blocks) >= 2
    commands = []
    for block in blocks:
        workflow = yaml.safe_load(block)
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                script = step.get("run", "").replace("\\\n", " ")
                script = script.replace("${{ matrix.shard }}", "3").replace("${{ github.run_number }}", "17")
                for line in script.splitlines():
                    words = shlex.split(line, comments=True)
                    if words[:1] == ["mcpcheck"]:
                        commands.append(words[1:])
    return commands


def test_the_documented_workflows_use_options_that_exist():
    commands = _doc_commands()
    assert any(c[:1] == ["fuzz"] and any(w.startswith("--shard") for w in c) for c in commands)
    assert any(c[:2] == ["corpus", "merge"] for c in commands)
    parser = cli.build_parser()
    for words in commands:
        head, _server = cli._split_argv(cli.expand_aliases(words))
        args, extras = parser.parse_known_args(head)
        assert not extras, f"docs/nightly.md: mcpcheck {' '.join(words)}: unknown {extras}"
        if getattr(args, "shard", None):
            assert parse_shard(args.shard, args.shard_rotation or 0) == Shard(3, 4, 17)


def test_a_database_password_never_reaches_the_report_or_stderr(tmp_path, monkeypatch, capsys):
    argv = ["fuzz", "--database", "rediss://nightly:hunter2@127.0.0.1:1/0", "--database=redis://:hunter2@h/0", "--", "srv", "--database", "x"]
    assert cli.redact(argv) == ["fuzz", "--database", "rediss://nightly:***@127.0.0.1:1/0", "--database=redis://:***@h/0", "--", "srv", "--database", "x"]
    pytest.importorskip("redis")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["fuzz", "--database", f"redis://:hunter2@127.0.0.1:{servers.free_port()}/0", "--", *BUGGY]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and ":***@127.0.0.1" in err

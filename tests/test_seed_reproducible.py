"""--seed reaches the campaigns: two runs with one seed generate the same inputs, another seed others."""

from __future__ import annotations

from mcpcheck import cli, runner
from mcpcheck.campaigns.fuzz import FuzzSettings
from mcpcheck.config import make_target
from servers import clean_stdio_cmd


def clean_target():
    t = make_target(name="clean_server", command=clean_stdio_cmd())
    t.safety.only_tools = ["add", "echo"]  # two cheap tools are enough to compare input streams
    return t


def generated(seed: int | None) -> list:
    seen: list = []
    # valid and invalid modes only: the observer sees their inputs; the "strings" mode's fixed
    # probes are not generated (and cost an SDK server's unanswered lone surrogate: a --timeout)
    cfg = FuzzSettings(max_examples=8, invalid_examples=4, modes=("valid", "invalid"), write_corpus=False, observe=lambda tool, mode, args: seen.append((tool, mode, repr(args))))
    out = runner.run([clean_target()], ["fuzz"], seed=seed, fuzz_settings=cfg)[0]
    assert out.result.error is None
    return seen


def test_same_seed_same_inputs_other_seed_other_inputs():
    # a warm-up run loads every module a run imports lazily: Hypothesis draws constants from the
    # source of the local modules it has seen (see test_cli_forwards_seed_to_the_campaigns)
    generated(1)
    a, b, c = generated(4242), generated(4242), generated(7)
    assert len(a) >= 16 and {t for t, _, _ in a} == {"add", "echo"}
    assert a == b, "two runs with the same seed must generate the same inputs in the same order"
    assert a != c, "another seed must generate other inputs"


def test_cli_forwards_seed_to_the_campaigns(monkeypatch, tmp_path, capsys):
    assert cli._run_kwargs(5) == ({"seed": 5}, True)  # the runner accepts it: no "not forwarded" note
    calls: list = []
    real_run = runner.run

    def spy(targets, names, **kw):
        calls.append(kw)
        seen: list = []
        cfg = FuzzSettings(max_examples=4, modes=("valid",), write_corpus=False, observe=lambda *a: seen.append(repr(a)))
        for t in targets:
            t.safety.only_tools = ["add"]
        out = real_run(targets, names, fuzz_settings=cfg, **kw)
        calls[-1]["seen"] = seen
        return out

    # Hypothesis also draws constants found in the source of local modules it has seen loaded, so
    # inputs depend on which modules a process has imported. A first CLI run loads them all (the
    # report writers too); the two compared runs then start from the same state, as two fresh
    # `mcpcheck --seed 5` processes do.
    cli.main(["run", "--campaign", "conformance", "--check", "jsonrpc.response_shape", "--quiet", "--report-dir", str(tmp_path / "warm"), "--", *clean_stdio_cmd()])
    monkeypatch.setattr(runner, "run", spy)
    code = cli.main(["run", "--campaign", "fuzz", "--seed", "5", "--quiet", "--report-dir", str(tmp_path), "--", *clean_stdio_cmd()])
    capsys.readouterr()
    assert code == 0
    assert calls and calls[0]["seed"] == 5
    # the same seed through the runner directly gives the very same inputs
    seen: list = []
    cfg = FuzzSettings(max_examples=4, modes=("valid",), write_corpus=False, observe=lambda *a: seen.append(repr(a)))
    t = make_target(name="x", command=clean_stdio_cmd())
    t.safety.only_tools = ["add"]
    real_run([t], ["fuzz"], seed=5, fuzz_settings=cfg)
    assert seen == calls[0]["seen"]


def test_envelope_campaign_is_seeded_too():
    seed = 11
    from mcpcheck.campaigns.envelope_fuzz import summarize_notes

    def tally():
        t = make_target(name="raw", command=[__import__("sys").executable, str(__import__("servers").TESTS / "rawservers" / "envelope_crash.py")])
        out = runner.run([t], ["envelope"], seed=seed, fuzz_settings=FuzzSettings(max_examples=10, write_corpus=False))[0]
        return [f.input for f in out.findings], summarize_notes(out.result.notes)

    assert tally() == tally()

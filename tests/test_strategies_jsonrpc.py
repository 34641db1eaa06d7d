"""Malformed JSON-RPC envelopes: single-line bytes, and the label is true."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpcheck import strategies
from mcpcheck.strategies import jsonrpc
from mcpcheck.strategies.jsonrpc import KINDS

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def _loads(m: strategies.RawMessage) -> Any:
    return json.loads(m.data.decode("utf-8"))


def _is_request_id(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))


def _check(m: strategies.RawMessage, max_size: int, max_depth: int) -> None:
    assert isinstance(m.data, bytes) and m.data
    assert b"\n" not in m.data and b"\r" not in m.data
    assert m.kind in KINDS
    if m.expect.startswith("-"):
        assert int(m.expect) in m.acceptable_codes
    if m.kind in ("not_json", "truncated_json", "trailing_garbage"):
        with pytest.raises(ValueError):
            _loads(m)
        return
    if m.kind == "invalid_utf8":
        with pytest.raises(UnicodeDecodeError):
            m.data.decode("utf-8")
        return
    msg = _loads(m)
    if m.kind == "scalar_json":
        assert not isinstance(msg, (dict, list))
    elif m.kind == "wrong_jsonrpc_version":
        assert msg.get("jsonrpc", "<missing>") != "2.0"
    elif m.kind == "missing_method":
        assert "method" not in msg and "result" not in msg and "error" not in msg
    elif m.kind == "method_wrong_type":
        assert not isinstance(msg["method"], str)
    elif m.kind == "bad_id_type":
        assert "id" in msg and not _is_request_id(msg["id"])
    elif m.kind == "params_not_object":
        assert not isinstance(msg["params"], dict)
    elif m.kind == "unknown_method":
        assert m.expect == jsonrpc.METHOD_NOT_FOUND and msg["id"] == m.request_id
    elif m.kind == "unknown_notification":
        assert "id" not in msg and m.expect == jsonrpc.NO_RESPONSE and not m.acceptable_codes
    elif m.kind == "empty_object":
        assert msg == {}
    elif m.kind == "batch":
        assert isinstance(msg, list)
    elif m.kind == "huge_message":
        assert len(m.data) <= max_size
    elif m.kind == "deep_nesting":
        depth, cur = 0, msg["params"]["deep"]
        while isinstance(cur, (dict, list)):
            cur = cur["a"] if isinstance(cur, dict) else cur[0]
            depth += 1
        assert 2 <= depth <= max_depth
    elif m.kind == "stray_response":
        assert "method" not in msg and ("result" in msg or "error" in msg)


@FAST
@given(m=strategies.malformed_envelopes(max_size=8192, max_depth=40))
def test_every_message_is_one_line_and_really_malformed(m: strategies.RawMessage) -> None:
    _check(m, 8192, 40)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_each_kind(kind: str, data: st.DataObject) -> None:
    m = data.draw(strategies.malformed_envelopes(max_size=4096, max_depth=30, kinds=[kind]))
    assert m.kind == kind
    _check(m, 4096, 30)


def test_expectations() -> None:
    want = {
        "not_json": "-32700",
        "truncated_json": "-32700",
        "trailing_garbage": "-32700",
        "invalid_utf8": "-32700",
        "empty_object": "-32600",
        "missing_method": "-32600",
        "bad_id_type": "-32600",
        "unknown_method": "-32601",
        "unknown_notification": "no-response",
        "batch": "error-or-ignore",
    }

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(m=strategies.malformed_envelopes(kinds=list(want)))
    def check(m: strategies.RawMessage) -> None:
        assert m.expect == want[m.kind]

    check()


def test_j6_kinds_accept_parse_error_and_invalid_request() -> None:
    """spec-digest J6: for a message that is not JSON or not a valid request, -32700 and -32600
    both pass (the TypeScript SDK answers -32700 to every message failing its schema); a message
    with a readable id and a known method but array params is owed -32602 (or -32600), not -32700."""

    @settings(max_examples=80, deadline=None, derandomize=True, database=None)
    @given(m=strategies.malformed_envelopes(max_size=4096, max_depth=30))
    def check(m: strategies.RawMessage) -> None:
        if m.kind in jsonrpc.J6_KINDS:
            assert {-32700, -32600} <= m.acceptable_codes, m
        if m.kind == "params_not_object":
            assert -32700 not in m.acceptable_codes

    check()
    assert {"not_json", "scalar_json", "method_wrong_type", "empty_object"} <= jsonrpc.J6_KINDS
    assert "params_not_object" not in jsonrpc.J6_KINDS and "unknown_method" not in jsonrpc.J6_KINDS


def test_batches_are_legal_in_2025_03_26() -> None:
    assert strategies.malformed_envelopes(revision="2025-03-26", kinds=["batch"]).is_empty


@FAST
@given(m=strategies.malformed_envelopes(revision="2026-07-28", kinds=["unknown_method", "params_not_object", "bad_id_type"]))
def test_modern_revision_keeps_meta_envelope(m: strategies.RawMessage) -> None:
    msg = _loads(m)
    if isinstance(msg.get("params"), dict):
        assert msg["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    elif m.kind != "params_not_object":
        pytest.fail(f"well-formed params expected: {msg}")


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        strategies.malformed_envelopes(kinds=["nope"])

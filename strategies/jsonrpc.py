"""Malformed JSON-RPC messages for a session fuzzer, each labelled with the required answer.

Messages are bytes, one line, no ``\\n``/``\\r`` inside: the stdio transport is
newline-delimited (spec-digest S1), so an embedded newline would silently turn one malformed
message into two different ones. The caller appends the ``\\n``.

Labels (``expect``) are what a conforming server must answer, from JSON-RPC 2.0 and the MCP
rules in spec-digest §1: ``-32700`` parse error, ``-32600`` invalid request, ``-32601`` method
not found, ``-32602`` invalid params, ``error`` (any JSON-RPC error), ``error-or-ignore`` (an
error or no answer at all, never a success or a crash), ``no-response`` (notifications are
never answered). Where real servers legitimately differ (scalar ``params`` is -32600 by
JSON-RPC, -32602 by most SDK validators) ``acceptable_codes`` lists every defensible code;
``expect`` names the primary one.

For the stateless revision (2026-07-28) well-formed parts carry the per-request ``_meta``
envelope, so that the only defect in each message is the labelled one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from hypothesis import strategies as st

PARSE_ERROR = "-32700"
INVALID_REQUEST = "-32600"
METHOD_NOT_FOUND = "-32601"
INVALID_PARAMS = "-32602"
ERROR = "error"
ERROR_OR_IGNORE = "error-or-ignore"
NO_RESPONSE = "no-response"

STANDARD_CODES = frozenset({-32700, -32600, -32601, -32602, -32603})

KINDS = (
    "not_json",
    "truncated_json",
    "scalar_json",
    "wrong_jsonrpc_version",
    "missing_method",
    "method_wrong_type",
    "bad_id_type",
    "params_not_object",
    "unknown_method",
    "unknown_notification",
    "empty_object",
    "batch",
    "trailing_garbage",
    "invalid_utf8",
    "huge_message",
    "deep_nesting",
    "stray_response",
)

MODERN_REVISION = "2026-07-28"
BATCH_REVISION = "2025-03-26"  # the only revision in which batches are legal


@dataclass(frozen=True)
class RawMessage:
    """One line to write to the server (without the trailing newline).

    request_id: the id a response should carry, or None when the server cannot read one.
    acceptable_codes: error codes a judge should accept (empty for no-response).
    """

    kind: str
    data: bytes = field(repr=False)
    expect: str
    request_id: int | str | None = None
    note: str = ""
    acceptable_codes: frozenset[int] = frozenset()

    def __repr__(self) -> str:
        shown = self.data if len(self.data) <= 80 else self.data[:60] + b"..."
        return f"RawMessage({self.kind}, {shown!r}, expect={self.expect})"


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _codes(expect: str) -> frozenset[int]:
    if expect in (ERROR, ERROR_OR_IGNORE):
        return STANDARD_CODES
    if expect == NO_RESPONSE:
        return frozenset()
    return frozenset({int(expect)})


# spec-digest J6: a message that is not JSON, or JSON that is not a valid request, gets -32700 or
# -32600 (servers and SDKs differ, e.g. the TypeScript SDK answers -32700 to every message that
# fails its schema); a judge accepts both for these kinds. Not for params_not_object: its id is
# readable and its method known, so JSON-RPC's -32602 (or -32600) is owed.
J6_KINDS = frozenset(
    {
        "not_json", "truncated_json", "trailing_garbage", "invalid_utf8",
        "scalar_json", "wrong_jsonrpc_version", "missing_method", "method_wrong_type", "bad_id_type", "empty_object",
    }
)
J6_CODES = frozenset({-32700, -32600})


def _msg(kind: str, data: bytes, expect: str, rid: int | str | None = None, note: str = "", also: Iterable[int] = ()) -> RawMessage:
    assert b"\n" not in data and b"\r" not in data, kind
    codes = _codes(expect) | frozenset(also) | (J6_CODES if kind in J6_KINDS else frozenset())
    return RawMessage(kind, data, expect, rid, note, codes)


_NOT_JSON = (
    "hello",
    "{",
    "}",
    "{jsonrpc: 2.0}",
    "{'jsonrpc': '2.0', 'id': 1, 'method': 'ping'}",
    '<?xml version="1.0"?><methodCall/>',
    "GET / HTTP/1.1",
    "[1,]",
    '{"jsonrpc":"2.0",}',
    '"unterminated',
    "tru",
    "01",
    "Content-Length: 52",
)


def _is_json(text: str | bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return False
    return True


class _Builder:
    """Well-formed pieces for one revision (modern revisions need a per-request _meta)."""

    def __init__(self, revision: str | None, method: str) -> None:
        self.revision = revision
        self.method = method
        self.modern = revision is not None and revision[:4].isdigit() and revision >= MODERN_REVISION

    def params(self, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
        p = dict(extra or {})
        if self.modern:
            p["_meta"] = {
                "io.modelcontextprotocol/protocolVersion": self.revision,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        return p or None

    def request(self, rid: Any, method: str | None = None, params: Any = "default", **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": self.method if method is None else method}
        p = self.params() if params == "default" else params
        if p is not None:
            body["params"] = p
        body.update(overrides)
        return body


def malformed_envelopes(
    *,
    max_size: int = 65_536,
    max_depth: int = 64,
    revision: str | None = None,
    method: str = "tools/list",
    kinds: Iterable[str] | None = None,
) -> st.SearchStrategy[RawMessage]:
    """Strategy of malformed (or deliberately odd) JSON-RPC lines, each with its label.

    max_size bounds ``huge_message`` (bytes); max_depth bounds ``deep_nesting``. ``method`` is
    the real method used where only the envelope should be wrong (params checks). ``revision``
    drops ``batch`` for 2025-03-26 (batches are legal there) and adds the stateless ``_meta``
    for 2026-07-28.
    """
    b = _Builder(revision, method)
    ids = st.integers(1, 2**31 - 1)
    wanted = set(KINDS if kinds is None else kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    if revision == BATCH_REVISION:
        wanted.discard("batch")
    if max_size < 256:
        wanted.discard("huge_message")
    out: list[st.SearchStrategy[RawMessage]] = []

    def add(kind: str, strategy: st.SearchStrategy[RawMessage]) -> None:
        if kind in wanted:
            out.append(strategy)

    text_chars = st.characters(codec="utf-8", exclude_characters="\n\r")
    add(
        "not_json",
        st.one_of(st.sampled_from(_NOT_JSON), st.text(text_chars, min_size=1, max_size=64))
        .filter(lambda s: s.strip() != "" and not _is_json(s))
        .map(lambda s: _msg("not_json", s.encode("utf-8"), PARSE_ERROR, note="not JSON at all")),
    )

    def truncated(rid: int, frac: float) -> RawMessage:
        full = _line(b.request(rid, "ping", params=b.params()))
        cut = max(1, min(len(full) - 1, int(len(full) * frac)))
        return _msg("truncated_json", full[:cut], PARSE_ERROR, note=f"first {cut} of {len(full)} bytes")

    add("truncated_json", st.builds(truncated, ids, st.floats(0.0, 1.0)))
    add(
        "scalar_json",
        st.sampled_from([b"1", b'"ping"', b"null", b"true", b"3.5", b'"{\\"jsonrpc\\":\\"2.0\\"}"']).map(
            lambda d: _msg("scalar_json", d, INVALID_REQUEST, note="valid JSON, not an object")
        ),
    )

    def wrong_version(rid: int, version: Any) -> RawMessage:
        body = b.request(rid, "ping", params=b.params())
        if version == "<missing>":
            del body["jsonrpc"]
        else:
            body["jsonrpc"] = version
        return _msg("wrong_jsonrpc_version", _line(body), INVALID_REQUEST, rid, f"jsonrpc={version!r}")

    add("wrong_jsonrpc_version", st.builds(wrong_version, ids, st.sampled_from(["1.0", "2", 2.0, 2, None, "", "2.0 ", "3.0", "<missing>"])))

    def missing_method(rid: int, with_params: bool) -> RawMessage:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
        if with_params:
            body["params"] = b.params() or {}
        return _msg("missing_method", _line(body), INVALID_REQUEST, rid, "no method (and no result/error)")

    add("missing_method", st.builds(missing_method, ids, st.booleans()))
    add(
        "method_wrong_type",
        st.builds(
            lambda rid, m: _msg("method_wrong_type", _line(b.request(rid, params=b.params(), method="x") | {"method": m}), INVALID_REQUEST, rid, f"method={m!r}"),
            ids,
            st.sampled_from([1, None, True, [], {}, ["ping"], {"name": "ping"}, 1.5]),
        ),
    )
    add(
        "bad_id_type",
        st.builds(
            lambda bad: _msg("bad_id_type", _line(b.request(bad, "ping", params=b.params())), INVALID_REQUEST, None, f"id={bad!r} (MCP: string or integer, never null)"),
            st.sampled_from([None, 1.5, True, False, {}, [], {"id": 1}, [1], -0.5]),
        ),
    )

    def params_shape(rid: int, params: Any) -> RawMessage:
        body = b.request(rid, params=None)
        body["params"] = params
        if isinstance(params, list):
            return _msg("params_not_object", _line(body), INVALID_PARAMS, rid, f"params is an array ({method})", also=[-32600])
        return _msg("params_not_object", _line(body), INVALID_REQUEST, rid, f"params={params!r}: JSON-RPC params must be structured", also=[-32602])

    add("params_not_object", st.builds(params_shape, ids, st.sampled_from([[], [1, "a"], [{}], "x", "", 0, 1.5, True, None])))
    add(
        "unknown_method",
        st.builds(
            lambda rid, m: _msg("unknown_method", _line(b.request(rid, m)), METHOD_NOT_FOUND, rid, f"method={m!r}"),
            ids,
            st.one_of(
                st.sampled_from(["mcpcheck/unknown", "tools/does_not_exist", "", "PING", "tools/list ", "rpc.discover", "initialize/x"]),
                st.from_regex(r"[a-z]{1,12}/[a-z_]{1,16}", fullmatch=True).map(lambda m: "mcpcheck_" + m),
            ),
        ),
    )
    add(
        "unknown_notification",
        st.sampled_from(["notifications/mcpcheck_unknown", "notifications/does_not_exist", "mcpcheck/notify"]).map(
            lambda m: _msg("unknown_notification", _line({"jsonrpc": "2.0", "method": m}), NO_RESPONSE, None, "notification: never answered")
        ),
    )
    add("empty_object", st.just(_msg("empty_object", b"{}", INVALID_REQUEST, note="empty object")))

    def batch(rids: list[int]) -> RawMessage:
        items = [b.request(r, "ping", params=b.params()) for r in rids]
        note = "empty batch" if not items else f"batch of {len(items)} (removed in 2025-06-18)"
        return _msg("batch", _line(items), ERROR_OR_IGNORE, None, note)

    add("batch", st.builds(batch, st.lists(ids, max_size=3, unique=True)))

    def garbage(rid: int, tail: bytes) -> RawMessage:
        return _msg("trailing_garbage", _line(b.request(rid, "ping", params=b.params())) + tail, PARSE_ERROR, rid, f"trailing {tail!r}")

    add("trailing_garbage", st.builds(garbage, ids, st.sampled_from([b" x", b"}", b"{}", b"]", b",", b'{"jsonrpc":"2.0"}', b"\x00"])))

    def bad_utf8(rid: int, bad: bytes) -> RawMessage:
        head = _line(b.request(rid, "ping", params=b.params({"mcpcheck": "@@"})))
        data = head.replace(b"@@", b"a" + bad + b"z", 1)
        return _msg("invalid_utf8", data, PARSE_ERROR, rid, f"bytes {bad!r} are not UTF-8; a success answer means lenient decoding")

    add(
        "invalid_utf8",
        st.builds(bad_utf8, ids, st.sampled_from([b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82"])),
    )

    def huge(rid: int, frac: float) -> RawMessage:
        shell = _line(b.request(rid, "mcpcheck/huge", params=b.params({"blob": ""})))
        room = max_size - len(shell)
        n = max(0, min(room, int(room * frac)))
        data = shell.replace(b'"blob":""', b'"blob":"' + b"A" * n + b'"', 1)
        return _msg("huge_message", data, METHOD_NOT_FOUND, rid, f"{len(data)} bytes", also=[-32600, -32700])

    add("huge_message", st.builds(huge, ids, st.floats(0.5, 1.0)))

    def deep(rid: int, depth: int, arrays: bool) -> RawMessage:
        opener, closer = (b"[", b"]") if arrays else (b'{"a":', b"}")
        inner = opener * depth + b"1" + closer * depth
        shell = _line(b.request(rid, "mcpcheck/deep", params=b.params({"deep": "@@"})))
        data = shell.replace(b'"@@"', inner, 1)
        return _msg("deep_nesting", data, ERROR, rid, f"params nested {depth} deep")

    add("deep_nesting", st.builds(deep, ids, st.integers(2, max(2, max_depth)), st.booleans()))
    add(
        "stray_response",
        st.builds(
            lambda rid, body: _msg("stray_response", _line({"jsonrpc": "2.0", "id": rid} | body), ERROR_OR_IGNORE, None, "response to a request the server never sent"),
            ids,
            st.sampled_from([{"result": {}}, {"error": {"code": -32603, "message": "x"}}, {"result": {}, "error": {"code": 1, "message": "both"}}]),
        ),
    )
    if not out:
        return st.nothing()
    return st.one_of(out)


__all__ = [
    "ERROR",
    "ERROR_OR_IGNORE",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "J6_CODES",
    "J6_KINDS",
    "KINDS",
    "METHOD_NOT_FOUND",
    "NO_RESPONSE",
    "PARSE_ERROR",
    "RawMessage",
    "malformed_envelopes",
]

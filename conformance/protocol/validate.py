"""Public API: mcpcheck's verdict on what a server sent.

    validate_result(method, revision, result) -> list[Violation]
    validate_error(error, revision) -> list[Violation]
    validate_message(message, revision, *, direction="server->client") -> list[Violation]
    result_advisories(method, revision, result) -> list[Violation]   # SHOULD-level only
    meta_key_violations(meta, revision=None) -> list[Violation]       # J13
    known_methods(revision) / known_notifications(revision) / known_server_requests(revision)

None of them raises (validate_message refuses an unknown `direction` with ValueError: a
programming error). A method or revision mcpcheck does not know yields no payload
violations (envelope rules of JSON-RPC still apply in validate_message/validate_error).
`revision` may be a known revision or an alias ("draft", "latest"); anything else is unknown.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from . import methods as M
from .errors import ERROR_DATA, ErrorObject
from .jsonrpc import ENVELOPES, intended_kind
from .meta import meta_key_violations
from .resources import READ_CACHE_FIELDS_REQUIRED
from .results import CreateTaskResult, Result
from .revisions import (
    LATEST,
    META_REQUIRED_ON_REQUESTS,
    META_SERVER_INFO,
    R3,
    R4,
    STATELESS_REVISIONS,
    error_code_name,
    normalize,
)
from .server_requests import InputRequiredResult
from .violations import Violation, describe_value, from_validation_error, pointer

log = logging.getLogger(__name__)

Direction = Literal["server->client", "client->server"]
RuleFor = Callable[[list], "str | None"]

__all__ = [
    "Violation",
    "known_methods",
    "known_notifications",
    "known_server_requests",
    "meta_key_violations",
    "result_advisories",
    "validate_as",
    "validate_error",
    "validate_message",
    "validate_result",
]


def known_methods(revision: str) -> tuple[str, ...]:
    """Client->server methods whose results mcpcheck validates in `revision` (sorted)."""
    rev = normalize(revision)
    return tuple(sorted(m for m, s in M.RESULTS.items() if rev in s.revisions)) if rev else ()


def known_notifications(revision: str) -> tuple[str, ...]:
    """Server->client notifications whose params mcpcheck validates in `revision`."""
    rev = normalize(revision)
    return tuple(sorted(m for m, s in M.NOTIFICATIONS.items() if rev in s.revisions)) if rev else ()


def known_server_requests(revision: str) -> tuple[str, ...]:
    """Server->client requests the spec defines in `revision` (none in 2026-07-28)."""
    rev = normalize(revision)
    return tuple(sorted(m for m, s in M.SERVER_REQUESTS.items() if rev in s.revisions)) if rev else ()


# --------------------------------------------------------------------------- internals

_ADAPTERS: dict[int, TypeAdapter] = {}


def _adapter(model: Any) -> TypeAdapter:
    key = id(model)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(model)
    return _ADAPTERS[key]


def _run(
    model: Any,
    data: Any,
    revision: str | None,
    root: str,
    *,
    prefix: tuple = (),
    rule_for: RuleFor | str | None = None,
) -> list[Violation]:
    context_rev = normalize(revision) or LATEST
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            model.model_validate(data, context={"revision": context_rev})
        else:
            _adapter(model).validate_python(data, context={"revision": context_rev})
    except ValidationError as exc:
        rule = (lambda parts: rule_for) if isinstance(rule_for, str) or rule_for is None else rule_for
        return from_validation_error(exc, revision, root=root, prefix=prefix, rule_for=rule)
    return []


#: field name -> rule, looked up from the deepest path element up (see _result_rules).
_FIELD_RULES = {
    "resultType": "J14",
    "ttlMs": "CA1",
    "cacheScope": "CA1",
    "inputSchema": "T3",
    "outputSchema": "T12",
    "structuredContent": "T12",
    "content": "T15",
    "contents": "RS3",
    "inputRequests": "M3",
    "requestState": "M3",
    "completion": "C1",
    "nextCursor": "PG1",
    "serverInfo": "L1",
    "protocolVersion": "L1",
    "supportedVersions": "V2",
    "task": "TK1",
    "tools": "T2",
    "resources": "RS2",
    "resourceTemplates": "RS2",
    "prompts": "P1",
    "messages": "P1",
}


def _result_rules(default: str) -> RuleFor:
    def rule_for(parts: list) -> str | None:
        keys = [p for p in parts if isinstance(p, str)]
        if "_meta" in keys:
            if META_SERVER_INFO in keys:
                return "J16"
            if "io.modelcontextprotocol/subscriptionId" in keys:
                return "SB3"
            return default
        if "capabilities" in keys:
            return "V5" if "extensions" in keys else default
        if "annotations" in keys and keys[0] == "tools":
            return "T13"
        for key in reversed(keys):
            if key in _FIELD_RULES:
                return _FIELD_RULES[key]
        return default

    return rule_for


def _guarded(fn: Callable[..., list[Violation]], *args: Any) -> list[Violation]:
    """Run a validator; an internal failure is logged and yields no violations, because the
    verdict must never take the engine down (the tests assert nothing is ever logged here)."""
    try:
        return fn(*args)
    except Exception:
        log.warning("mcpcheck protocol validator failed in %s", fn.__name__, exc_info=True)
        return []


def validate_as(model: Any, data: Any, revision: str | None, *, root: str = "value") -> list[Violation]:
    """Violations of `data` as one protocol type (a model class such as `tools.Tool`, or an
    annotated type such as `content.ContentBlock`) in `revision`. For tests and for checks
    that look at one component. Never raises."""
    return _guarded(_run, model, data, normalize(revision) or revision, root)


# --------------------------------------------------------------------------- results


def _validate_result(method: str, revision: str | None, result: Any) -> list[Violation]:
    rev = normalize(revision)
    if rev is None or not isinstance(method, str):
        return []
    spec = M.result_spec(method, rev)
    if spec is None:
        return []
    rules = _result_rules(spec.rule)
    if not isinstance(result, dict):
        return [Violation("", f"result must be an object, got {describe_value(result)}.", rev, "J1")]
    model: Any = spec.model
    extra: list[Violation] = []
    if rev in STATELESS_REVISIONS:
        kind = result.get("resultType")
        if kind == "input_required":
            if method in M.INPUT_REQUIRED_METHODS:
                model = InputRequiredResult
                rules = _result_rules("M3")
            else:
                extra.append(
                    Violation(
                        "/resultType",
                        f"result.resultType is \"input_required\", which only tools/call, prompts/get and "
                        f"resources/read may return, not {method}.",
                        rev,
                        "M3",
                    )
                )
                model = Result
        elif isinstance(kind, str) and kind != "complete":
            # An extension's result type (e.g. "task" from io.modelcontextprotocol/tasks):
            # only the fields every result shares are checked.
            model = Result
    elif rev == R4 and method == "tools/call" and "task" in result and "content" not in result:
        model = CreateTaskResult
    return extra + _run(model, result, rev, root="result", rule_for=rules)


def validate_result(method: str, revision: str | None, result: Any) -> list[Violation]:
    """Violations of `result` (the JSON-RPC `result` member answering `method`) in `revision`.

    Paths are JSON pointers relative to the result ("/tools/0/inputSchema"). Unknown methods or
    revisions give []. In 2026-07-28 the result is dispatched on `resultType`: "complete" (or a
    missing resultType, itself a J14 violation) -> the method's result; "input_required" ->
    InputRequiredResult (only tools/call, prompts/get, resources/read; M3); any other string is
    an extension result type and only the common Result fields are checked. Never raises."""
    return _guarded(_validate_result, method, revision, result)


def _result_advisories(method: str, revision: str | None, result: Any) -> list[Violation]:
    rev = normalize(revision)
    if rev not in STATELESS_REVISIONS or not isinstance(result, dict):
        return []
    out: list[Violation] = []
    meta = result.get("_meta")
    if not (isinstance(meta, dict) and META_SERVER_INFO in meta):
        out.append(
            Violation(
                "/_meta",
                f"result._meta should carry {META_SERVER_INFO!r} {{name, version}} on every response.",
                rev,
                "J16",
                "SHOULD",
            )
        )
    if (
        method == "resources/read"
        and not READ_CACHE_FIELDS_REQUIRED
        and result.get("resultType", "complete") == "complete"
    ):
        for key in ("ttlMs", "cacheScope"):
            if key not in result:
                out.append(
                    Violation(
                        "/" + key,
                        f"result.{key} is missing: the 2026-07-28 schema requires it on resources/read "
                        "results, although one of the spec's own examples omits it.",
                        rev,
                        "CA1",
                        "SHOULD",
                    )
                )
    return out


def result_advisories(method: str, revision: str | None, result: Any) -> list[Violation]:
    """SHOULD-level findings on a result (level "SHOULD"), kept apart from validate_result's
    verdict: J16 serverInfo in `_meta` (2026-07-28) and CA1 on resources/read (see
    resources.py). Never raises."""
    return _guarded(_result_advisories, method, revision, result)


# --------------------------------------------------------------------------- errors


def _validate_error(error: Any, revision: str | None) -> list[Violation]:
    rev = normalize(revision)
    shown_rev = rev or (revision if isinstance(revision, str) else None)
    out = _run(ErrorObject, error, shown_rev, root="error", rule_for="J5")
    if out or rev is None:
        return out
    code = error["code"]
    entry = ERROR_DATA.get(code)
    if entry is None:
        return out
    model, revisions, rule = entry
    if rev not in revisions:
        return out
    name = error_code_name(code)
    if "data" not in error:
        fields = ", ".join(model.model_fields)
        return [
            Violation(
                "/data",
                f"error.data is required for code {code} ({name}) in {rev}: an object with {fields}.",
                rev,
                rule,
            )
        ]
    return _run(model, error["data"], rev, root="error", prefix=("data",), rule_for=rule)


def validate_error(error: Any, revision: str | None) -> list[Violation]:
    """Violations of a JSON-RPC error object (the `error` member) in `revision`.

    Every revision: integer `code` (not float/bool/string), string `message` (J5). Code-specific
    `data`: -32022/-32021 in 2026-07-28, -32042 in 2025-11-25. An unknown revision gets the J5
    checks only. Paths are relative to the error object ("/code"). Never raises."""
    return _guarded(_validate_error, error, revision)


# --------------------------------------------------------------------------- messages


def _envelope_rule(kind: str) -> RuleFor:
    def rule_for(parts: list) -> str:
        head = parts[0] if parts else None
        if head == "id":
            return "J2" if kind == "request" else "J4"
        if head == "error":
            return "J5"
        return "J1"

    return rule_for


def _params_violations(spec: M.MethodSpec, method: str, message: dict, rev: str) -> list[Violation]:
    if "params" not in message:
        if spec.params_required:
            return [Violation("/params", f"{method} requires params, but the message has none.", rev, spec.rule)]
        return []
    params = message["params"]
    if not isinstance(params, dict):
        return []  # already reported by the envelope
    return _run(spec.model, params, rev, root="message", prefix=("params",), rule_for=spec.rule)


def _validate_one(message: Any, rev: str | None, shown_rev: str | None, direction: str) -> list[Violation]:
    if not isinstance(message, dict):
        return [Violation("", f"a JSON-RPC message must be an object, got {describe_value(message)}.", shown_rev, "J1")]
    kind = intended_kind(message)
    if kind == "invalid":
        return [
            Violation(
                "",
                "message is neither a request, a notification nor a response: it has no 'method', 'result' or 'error'.",
                shown_rev,
                "J1",
            )
        ]
    out: list[Violation] = []
    if kind in ("request", "notification") and ("result" in message or "error" in message):
        out.append(Violation("", "message mixes a request's 'method' with a response's 'result'/'error'.", shown_rev, "J1"))
    if "result" in message and "error" in message:
        out.append(Violation("", "response carries both 'result' and 'error'; exactly one is allowed.", shown_rev, "J4"))
    envelope = ENVELOPES[kind]
    out += [
        v
        for v in _run(envelope, message, shown_rev, root="message", rule_for=_envelope_rule(kind))
        if not v.path.startswith("/error/")  # the error object is checked by validate_error below
    ]
    if kind == "error" and isinstance(message.get("error"), dict):
        out += [
            Violation("/error" + v.path, v.message, v.revision, v.rule, v.level)
            for v in _validate_error(message["error"], rev or shown_rev)
        ]
    if rev is None:
        return out
    method = message.get("method")
    if direction == "client->server":
        if kind == "request" and rev in STATELESS_REVISIONS:
            out += _request_meta_violations(message, rev)
        return out
    if kind == "notification" and isinstance(method, str):
        spec = M.notification_spec(method, rev)
        if spec is not None:
            out += _params_violations(spec, method, message, rev)
    elif kind == "request" and isinstance(method, str):
        if rev in STATELESS_REVISIONS:
            out.append(
                Violation(
                    "",
                    f"a {rev} server must not send JSON-RPC requests (got {method!r}); it asks for client "
                    "input with an input_required result instead.",
                    rev,
                    "M3",
                )
            )
        spec = M.server_request_spec(method, rev)
        if spec is not None:
            out += _params_violations(spec, method, message, rev)
    elif kind == "response" and isinstance(message.get("result"), dict):
        out += _run(Result, message["result"], rev, root="message", prefix=("result",), rule_for=_result_rules("J1"))
    return out


def _request_meta_violations(message: dict, rev: str) -> list[Violation]:
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict):
        return [
            Violation(
                "/params/_meta",
                f"a {rev} request must carry params._meta with {', '.join(META_REQUIRED_ON_REQUESTS)}.",
                rev,
                "J15",
            )
        ]
    return [
        Violation(
            pointer(["params", "_meta", key]),
            f"a {rev} request must carry params._meta[{key!r}].",
            rev,
            "J15",
        )
        for key in META_REQUIRED_ON_REQUESTS
        if key not in meta
    ]


def _validate_message(message: Any, revision: str | None, direction: str) -> list[Violation]:
    rev = normalize(revision)
    shown_rev = rev or (revision if isinstance(revision, str) else None)
    if not isinstance(message, list):
        return _validate_one(message, rev, shown_rev, direction)
    out: list[Violation] = []
    if rev is not None and rev >= R3:
        out.append(
            Violation("", f"JSON-RPC batches (arrays) are not allowed in {rev}; batching was removed in {R3}.", rev, "J12")
        )
    if not message:
        out.append(Violation("", "an empty array is not a valid JSON-RPC message.", shown_rev, "J1"))
    for index, item in enumerate(message):
        out += [
            Violation(f"/{index}{v.path}", v.message, v.revision, v.rule, v.level)
            for v in _validate_one(item, rev, shown_rev, direction)
        ]
    return out


def validate_message(message: Any, revision: str | None, *, direction: Direction = "server->client") -> list[Violation]:
    """Violations of one JSON-RPC message (or a batch) in `revision`.

    Envelope (every revision): J1 jsonrpc/method/params shape, J2 request ids, J4 response ids
    and result XOR error, J5 error objects, J12 batches from 2025-06-18 on. Then, for
    `direction="server->client"`: params of known notifications and server requests, "no
    requests at all" in 2026-07-28 (M3), the common Result fields of a result (J14 resultType
    in 2026-07-28), code-specific error data. For `direction="client->server"` (our own
    messages): the 2026-07-28 request `_meta` keys (J15). Paths are relative to the message.
    """
    if direction not in ("server->client", "client->server"):
        raise ValueError(f"direction must be 'server->client' or 'client->server', not {direction!r}")
    return _guarded(_validate_message, message, revision, direction)

"""tools/resources/prompts listings, tool schemas, reads and gets (spec-digest §3).

The `listing` checks here judge what a session listed (mcpcheck.registry.Listing: every list
walked to its end, each list method's pages and why its walk stopped). The pure `check_*`
helpers also judge the exchanges the conformance campaign's active checks make
(mcpcheck.campaigns.conformance): reads, gets, unknown names, cursors, bursts.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Iterator

from jsonschema import exceptions as js_exceptions
from jsonschema import validators

from ..findings import Severity, Violation
from ..registry import ExchangeContext, Listing, ListingContext, Skip, check
from ..session import Exchange

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
DIALECT_2020 = "https://json-schema.org/draft/2020-12/schema"
DIALECT_07 = "http://json-schema.org/draft-07/schema#"


def default_dialect(revision: str | None) -> str:
    """No $schema: 2020-12 from 2025-11-25 on (T4), draft-07 before (de-facto default)."""
    return DIALECT_2020 if (revision or "9999") >= "2025-11-25" else DIALECT_07


# list method -> the result member that holds its items
LIST_KEYS = {"tools/list": "tools", "resources/list": "resources", "resources/templates/list": "resourceTemplates", "prompts/list": "prompts"}
# why a walk stopped (Listing.stop): "end" (no nextCursor), "error" (a page failed), "loop" (the
# last page's nextCursor came back again), "limit" (still a fresh nextCursor after the page
# bound), "unadvertised" (one request for a capability the server did not advertise: not walked)
WALKED = ("end", "error", "loop", "limit")


@check(
    "list.pagination",
    category="protocol.pagination",
    severity="high",
    title="List pagination terminates (no cursor loops) and yields well-formed pages",
    scope="listing",
    rule="T2/RS2/PG1",
    level="MUST",
)
def pagination(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    walked = [m for m, why in listing.stop.items() if why in WALKED and listing.pages.get(m)]
    if not walked:
        raise Skip("the server advertises no list to page through")
    for method in walked:
        pages, why = listing.pages[method], listing.stop[method]
        last = pages[-1].result if isinstance(pages[-1].result, dict) else {}
        loop = last.get("nextCursor") if why == "loop" else None
        yield from check_pages(method, pages, LIST_KEYS.get(method, "items"), loop, why == "limit")


def check_pages(method: str, pages: list[Exchange], key: str, loop: str | None, limit_hit: bool) -> Iterator[Violation]:
    ev = [e for p in pages[-3:] for e in p.evidence()]
    if loop is not None:
        yield Violation(f"{method} pagination loops: cursor {loop!r} came back again", ev, key=f"{method}/loop")
    elif limit_hit:
        yield Violation(f"{method} still had a nextCursor after {len(pages)} pages", ev, key=f"{method}/limit", severity=Severity.medium)
    for p in pages:
        if not p.ok:
            continue
        items = p.result.get(key) if isinstance(p.result, dict) else None
        if not isinstance(items, list):
            yield Violation(f"{method} result has no '{key}' array", p.evidence(), path=f"/result/{key}", key=f"{method}/items")
        nc = p.result.get("nextCursor") if isinstance(p.result, dict) else None
        if nc is not None and not isinstance(nc, str):
            yield Violation(f"{method} nextCursor is {nc!r}, not a string", p.evidence(), path="/result/nextCursor", key=f"{method}/cursor-type")


def check_bad_cursor(ex: Exchange) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok:
        yield Violation(f"{ex.method} accepted an invalid cursor and returned a page", ex.evidence(), severity=Severity.info, key="accepted")
    elif ex.error_code != -32602:
        yield Violation(f"{ex.method} answered an invalid cursor with {ex.error_code!r}, expected -32602", ex.evidence(), key="code")


def check_tool_names(tools: list[dict[str, Any]], evidence: list) -> Iterator[Violation]:
    seen: set[str] = set()
    for t in tools:
        name = t.get("name")
        if not isinstance(name, str):
            continue  # schema check reports it
        if name in seen:
            yield Violation(f"tool name {name!r} is listed more than once", evidence, tool=name, key=f"dup/{name}", severity=Severity.high)
        seen.add(name)
        if not TOOL_NAME_RE.match(name):
            yield Violation(f"tool name {name!r} is not 1-128 chars of [A-Za-z0-9_.-]", evidence, tool=name, key=f"re/{name}")


def _meta_validate(schema: Any, revision: str | None, where: str, tool: str, evidence: list, require_object: bool) -> Iterator[Violation]:
    if not isinstance(schema, dict):
        yield Violation(f"tool {tool!r}: {where} is {type(schema).__name__}, not a JSON Schema object", evidence, tool=tool, path=f"/{where}", key=f"{tool}/{where}/type")
        return
    if require_object and schema.get("type") != "object":
        yield Violation(f"tool {tool!r}: {where} root has type {schema.get('type')!r}, must be \"object\"", evidence, tool=tool, path=f"/{where}/type", key=f"{tool}/{where}/root")
    declared = schema.get("$schema")
    default = validators.validator_for({"$schema": default_dialect(revision)})
    cls = validators.validator_for(schema, default=default)
    if declared is not None and cls is default and declared.rstrip("#") != default_dialect(revision).rstrip("#"):
        yield Violation(f"tool {tool!r}: {where} declares unknown dialect {declared!r}", evidence, tool=tool, severity=Severity.low, key=f"{tool}/{where}/dialect")
        return
    try:
        cls.check_schema(schema)
    except js_exceptions.SchemaError as exc:
        path = "/" + "/".join(str(p) for p in exc.absolute_path)
        yield Violation(f"tool {tool!r}: {where} is not a valid {cls.__name__.replace('Validator', '')} schema: {exc.message} (at {path})", evidence, tool=tool, path=f"/{where}{path if path != '/' else ''}", key=f"{tool}/{where}/meta")
    for ref in _refs(schema):
        if not ref.startswith("#"):
            yield Violation(f"tool {tool!r}: {where} has a non-local $ref {ref!r} (clients must not fetch it)", evidence, tool=tool, severity=Severity.medium, key=f"{tool}/{where}/ref/{ref}")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("$ref", "$dynamicRef") and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def check_input_schema(tool: dict[str, Any], revision: str | None, evidence: list) -> Iterator[Violation]:
    name = str(tool.get("name"))
    if "inputSchema" not in tool:
        yield Violation(f"tool {name!r} has no inputSchema", evidence, tool=name, key=f"{name}/missing")
        return
    yield from _meta_validate(tool["inputSchema"], revision, "inputSchema", name, evidence, require_object=True)


def check_output_schema(tool: dict[str, Any], revision: str | None, evidence: list) -> Iterator[Violation]:
    if "outputSchema" not in tool:
        return
    name = str(tool.get("name"))
    yield from _meta_validate(tool["outputSchema"], revision, "outputSchema", name, evidence, require_object=(revision or "") < "2026-07-28")


def check_annotations(tool: dict[str, Any], evidence: list) -> Iterator[Violation]:
    ann = tool.get("annotations")
    if not isinstance(ann, dict):
        return
    name = str(tool.get("name"))
    for k in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
        if k in ann and not isinstance(ann[k], bool):
            yield Violation(f"tool {name!r}: annotations.{k} is {ann[k]!r}, not a boolean", evidence, tool=name, key=f"{name}/{k}", severity=Severity.medium)
    if ann.get("readOnlyHint") is True and ann.get("destructiveHint") is True:
        yield Violation(f"tool {name!r} is annotated both readOnlyHint and destructiveHint", evidence, tool=name, key=f"{name}/ro-destructive")


def _tools_listed(ctx: ListingContext, listing: Listing) -> tuple[list[dict[str, Any]], list]:
    """The listed tools and the evidence (tools/list's first page), or Skip when there is none."""
    if "tools" not in ctx.capabilities or not listing.pages.get("tools/list"):
        raise Skip("the server does not advertise tools")
    if not listing.tools:
        raise Skip("the server lists no tools")
    return listing.tools, listing.pages["tools/list"][0].evidence()


@check(
    "tools.names",
    category="tool.schema",
    severity="medium",
    title="Tool names are unique, 1-128 chars of [A-Za-z0-9_.-]",
    scope="listing",
    rule="T6",
    level="SHOULD",
    revisions="2025-11-25..",
)
def tool_names(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    tools, ev = _tools_listed(ctx, listing)
    return check_tool_names(tools, ev)


@check(
    "tools.input_schema",
    category="tool.schema",
    severity="high",
    title="Every inputSchema is an object schema, valid in its JSON Schema dialect",
    scope="listing",
    rule="T3/T4",
    level="MUST",
)
def input_schema(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    tools, ev = _tools_listed(ctx, listing)
    for tool in tools:
        yield from check_input_schema(tool, ctx.revision, ev)


@check(
    "tools.output_schema",
    category="tool.schema",
    severity="high",
    title="Every outputSchema is valid in its dialect (an object schema before 2026-07-28)",
    scope="listing",
    rule="T12/T4",
    level="MUST",
    revisions="2025-06-18..",
)
def output_schema(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    if (ctx.revision or "") < "2025-06-18":
        raise Skip(f"outputSchema is defined from 2025-06-18 on (this era is {ctx.revision})")
    tools, ev = _tools_listed(ctx, listing)
    declared = [t for t in tools if "outputSchema" in t]
    if not declared:
        raise Skip("no listed tool declares an outputSchema")
    for tool in declared:
        yield from check_output_schema(tool, ctx.revision, ev)


@check(
    "tools.annotations",
    category="tool.schema",
    severity="low",
    title="Tool annotations are consistent (readOnlyHint tools are not destructive)",
    scope="listing",
    rule="T13",
    level="hint",
)
def annotations(ctx: ListingContext, listing: Listing) -> Iterator[Violation]:
    tools, ev = _tools_listed(ctx, listing)
    annotated = [t for t in tools if isinstance(t.get("annotations"), dict)]
    if not annotated:
        raise Skip("no listed tool carries annotations")
    for tool in annotated:
        yield from check_annotations(tool, ev)


def check_read(ex: Exchange, uri: str) -> Iterator[Violation]:
    if ex.response is None:
        return
    if not ex.ok:
        yield Violation(f"reading listed resource {uri!r} failed: {ex.error}", ex.evidence(), key=uri)
        return
    contents = ex.result.get("contents") if isinstance(ex.result, dict) else None
    if not isinstance(contents, list) or not contents:
        yield Violation(f"reading listed resource {uri!r} returned no contents", ex.evidence(), path="/result/contents", key=uri)
        return
    for i, c in enumerate(contents):
        if isinstance(c, dict) and isinstance(c.get("blob"), str):
            try:
                base64.b64decode(c["blob"], validate=True)
            except ValueError:
                yield Violation(f"resource {uri!r} contents[{i}].blob is not valid base64", ex.evidence(), path=f"/result/contents/{i}/blob", key=f"{uri}/b64")


def check_unknown_resource(ex: Exchange, uri: str, stateless: bool) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok:
        contents = ex.result.get("contents") if isinstance(ex.result, dict) else None
        if not contents:
            yield Violation(f"unknown resource {uri!r} answered with empty contents instead of an error", ex.evidence(), key="empty", severity=Severity.high if stateless else Severity.medium)
        else:
            yield Violation(f"unknown resource {uri!r} answered with contents (the server may synthesise any URI)", ex.evidence(), severity=Severity.info, key="served")
        return
    expected = (-32602,) if stateless else (-32002, -32602)
    if ex.error_code not in expected:
        yield Violation(f"unknown resource answered with code {ex.error_code!r}, expected {' or '.join(map(str, expected))}", ex.evidence(), severity=Severity.low, key="code")


def check_prompt_get(ex: Exchange, name: str, placeholder_args: bool = False) -> Iterator[Violation]:
    if ex.response is None:
        return
    if not ex.ok:
        if placeholder_args and ex.error_code != -32601:
            # Our argument values were guesses; a prompt may legitimately refuse them.
            yield Violation(f"prompts/get {name!r} refused mcpcheck's placeholder arguments: {ex.error}", ex.evidence(), severity=Severity.info, key=name)
        else:
            yield Violation(f"prompts/get {name!r} failed: {ex.error}", ex.evidence(), key=name)
        return
    msgs = ex.result.get("messages") if isinstance(ex.result, dict) else None
    if not isinstance(msgs, list):
        yield Violation(f"prompts/get {name!r} result has no messages array", ex.evidence(), path="/result/messages", key=f"{name}/msgs")


def check_expected_error(ex: Exchange, what: str, expected: int, *, success_severity: Severity | None = None) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok:
        result = ex.result if isinstance(ex.result, dict) else {}
        if result.get("isError") is True:
            yield Violation(f"{what}: answered with an isError result, not a JSON-RPC error {expected}", ex.evidence(), severity=Severity.info, key="iserror")
        else:
            yield Violation(f"{what}: answered with a success result", ex.evidence(), severity=success_severity, key="success")
    elif ex.error_code != expected:
        yield Violation(f"{what}: error code {ex.error_code!r}, expected {expected}", ex.evidence(), key="code")


def check_arguments_rejected(ex: Exchange, what: str) -> Iterator[Violation]:
    if ex.response is None:
        return
    if ex.ok and not (isinstance(ex.result, dict) and ex.result.get("isError") is True):
        yield Violation(f"{what}: accepted and executed", ex.evidence(), key="accepted")


def check_completion(ex: Exchange) -> Iterator[Violation]:
    if not ex.ok:
        return
    comp = ex.result.get("completion") if isinstance(ex.result, dict) else None
    values = comp.get("values") if isinstance(comp, dict) else None
    if not isinstance(values, list):
        yield Violation("completion/complete result has no completion.values array", ex.evidence(), path="/result/completion/values", key="values")
        return
    if len(values) > 100:
        yield Violation(f"completion/complete returned {len(values)} values (max 100)", ex.evidence(), path="/result/completion/values", key="max")
    if not all(isinstance(v, str) for v in values):
        yield Violation("completion/complete values are not all strings", ex.evidence(), path="/result/completion/values", key="types")


@check(
    "errors.reserved_codes",
    category="protocol.error_codes",
    severity="medium",
    title="No undefined codes from the reserved -32020..-32099 range; no -32002/-32042 in 2026-07-28",
    scope="exchange",
    rule="J10",
    level="MUST NOT",
    revisions="2026-07-28",
)
def reserved_codes(ctx: ExchangeContext, ex: Exchange) -> Iterator[Violation]:
    if not ctx.stateless or ctx.deliberate or ex.response is None:
        raise Skip("judged on answers to ordinary requests in the stateless era")
    return check_reserved_code(ex)


def check_reserved_code(ex: Exchange) -> Iterator[Violation]:
    code = ex.error_code
    if not isinstance(code, int):
        return
    if -32099 <= code <= -32020 and code not in (-32020, -32021, -32022):
        yield Violation(f"{ex.method}: error code {code} is in the reserved -32020..-32099 range but undefined", ex.evidence(), key=str(code))
    if code in (-32002, -32042):
        yield Violation(f"{ex.method}: error code {code} must not be used in 2026-07-28", ex.evidence(), key=str(code))


def check_burst(pairs: list[tuple[str, Exchange]]) -> Iterator[Violation]:
    """Each exchange must get the kind of answer its request asks for: a list result for the
    real method, -32601 for the made-up one. A swapped id shows up as the wrong kind."""
    for kind, ex in pairs:
        if ex.response is None:
            continue
        if kind == "unknown" and ex.ok:
            yield Violation(f"under concurrency, the unknown-method request id {ex.request.get('id')!r} got a result (responses mixed up?)", ex.evidence(), key="mixed")
            return
        if kind == "known" and not ex.ok:
            yield Violation(f"under concurrency, the {ex.method} request id {ex.request.get('id')!r} got an error {ex.error} (responses mixed up?)", ex.evidence(), key="mixed")
            return

"""The MCP spec rules mcpcheck tests against, and which check tests each one.

`RULES` lists every testable rule of the MCP specification digest mcpcheck is built from (ids such
as J4, T10, HS9: JSON-RPC, tools, stateless HTTP ...): its RFC 2119 level as the spec words it,
the protocol revisions it applies to, a one-line summary, and, for a rule that no check cites,
why (`why`): either a client cannot test it at all, or a client could but mcpcheck does not yet
(`open=True`, with what such a check would need).

Revisions use the digest's tags: R1 2024-11-05, R2 2025-03-26, R3 2025-06-18, R4 2025-11-25,
R5 2026-07-28; "→R4" is R1..R4, "R3→" is R3 and later, "all" is R1..R5.

`coverage(checks)` joins the table with the checks' `rule` metadata ("J1/J4/J5" cites three
rules); `mcpcheck list-checks --rules` prints it and docs/rules.md is its markdown rendering
(`mcpcheck list-checks --rules --format markdown > docs/rules.md`). Low layer: imports nothing
from mcpcheck.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

REVISION_TAGS = {"R1": "2024-11-05", "R2": "2025-03-26", "R3": "2025-06-18", "R4": "2025-11-25", "R5": "2026-07-28"}


@dataclass(frozen=True)
class Rule:
    id: str
    level: str  # as the spec words it: MUST, SHOULD NOT, "MUST / SHOULD", "—" (no keyword) ...
    revisions: str  # digest notation: all, →R4, R3→, R5, R2–R4, R2 only ...
    title: str
    why: str | None = None  # why no check cites it (None: some check must)
    open: bool = False  # `why` says what a check would need: a client could test it, mcpcheck does not yet


def _r(id: str, level: str, revisions: str, title: str, why: str | None = None, open: bool = False) -> Rule:
    return Rule(id, level, revisions, title, why, open)


_FACT = "a revision fact, not a requirement: mcpcheck uses it to detect the eras a server speaks (connect.detect) and to scope each check's revisions"

RULES: tuple[Rule, ...] = (
    # ---- 0. revisions
    _r("R1", "—", "2024-11-05", "Revision 2024-11-05: handshake, stdio and two-endpoint HTTP+SSE", _FACT),
    _r("R2", "—", "2025-03-26", "Revision 2025-03-26: Streamable HTTP, batching, OAuth, tool annotations", _FACT),
    _r("R3", "—", "2025-06-18", "Revision 2025-06-18: no batching, structured output, resource-server auth, elicitation", _FACT),
    _r("R4", "—", "2025-11-25", "Revision 2025-11-25: last handshake revision; JSON Schema 2020-12, tasks, 403 on bad Origin", _FACT),
    _r("R5", "—", "2026-07-28", "Revision 2026-07-28: stateless core, server/discover, MRTR, subscriptions/listen", _FACT),
    # ---- 1. JSON-RPC
    _r("J1", "MUST", "all", "Every message is UTF-8 JSON-RPC 2.0"),
    _r("J2", "MUST", "all", "Request ids are strings or integers, never null"),
    _r("J3", "MUST", "→R4", "A sender never reuses a request id within the session"),
    _r("J4", "MUST", "all", "A response echoes the request id (same type) and has exactly one of result/error"),
    _r("J5", "MUST", "all", "error.code is an integer and error.message a string"),
    _r("J6", "(JSON-RPC)", "all", "An unreadable request is answered with a null or absent id"),
    _r("J7", "MUST NOT", "all", "Notifications are never answered"),
    _r("J8", "—", "all", "Standard error codes: -32700, -32600, -32601, -32602, -32603"),
    _r("J9", "SHOULD", "→R4", "Resource not found is -32002"),
    _r("J10", "MUST", "R5", "2026 error codes -32020/-32021/-32022; no undefined code from the reserved range"),
    _r("J11", "MUST", "R2 only", "2025-03-26 receivers accept JSON-RPC batches"),
    _r("J12", "—", "R3→", "Batches are gone: an array is refused, never partly executed"),
    _r("J13", "MUST", "R3→", "_meta keys follow the prefix/name syntax; MCP prefixes are reserved"),
    _r("J14", "MUST", "R5", "Every result carries resultType"),
    _r("J15", "MUST", "R5", "Requests without protocolVersion/clientCapabilities in _meta are malformed (-32602)"),
    _r("J16", "SHOULD", "R5", "Results carry serverInfo in _meta"),
    # ---- 2.1 lifecycle
    _r("L1", "MUST", "→R4", "initialize comes first and returns protocolVersion, capabilities, serverInfo"),
    _r("L2", "MUST / SHOULD", "→R4", "Version negotiation: echo a supported version, else offer the latest supported"),
    _r("L3", "MUST (R3→) / SHOULD (R1–R2)", "→R4", "Only negotiated capabilities are used"),
    _r("L4", "SHOULD NOT", "→R4", "No server requests but ping before notifications/initialized"),
    _r("L5", "MUST", "→R4", "ping is answered promptly with {}"),
    _r("L6", "MAY / —", "→R4", "stdio shutdown: the client closes stdin; the server may exit"),
    _r("L7", "MUST NOT", "→R4", "initialize is never cancelled",
       "a duty of the client (it must not cancel initialize); a server has nothing to obey or break here"),
    # ---- 2.2 stateless versioning
    _r("V1", "MUST", "R5", "Unsupported protocolVersion in _meta: -32022 with supported/requested"),
    _r("V2", "MUST", "R5", "server/discover is implemented and truthful about capabilities"),
    _r("V3", "MUST NOT", "R5", "No request relies on an earlier one for version, capabilities or identity"),
    _r("V4", "SHOULD", "R5", "A modern-only server refusing initialize names the versions it supports"),
    _r("V5", "MUST", "R5", "An extension is used only when the request declared it"),
    _r("V6", "—", "R5", "Removed methods (initialize, ping, logging/setLevel, resources/subscribe ...) answer -32601 on a modern-only server"),
    _r("V7", "MAY", "R5", "A dual-era server may serve the handshake and stateless eras side by side",
       "a permission with nothing to violate; mcpcheck detects both eras (connect.detect) and runs every campaign once per era a server speaks"),
    # ---- 3.1 tools
    _r("T1", "MUST", "all", "A server with tools declares the tools capability"),
    _r("T2", "—", "all", "tools/list paginates with cursor/nextCursor; tools have name and inputSchema"),
    _r("T3", "MUST", "all", "inputSchema is a JSON Schema object with root type object"),
    _r("T4", "MUST", "R4→", "Schemas are valid in their dialect (2020-12 by default)"),
    _r("T5", "MUST NOT / SHOULD", "R5", "No network $ref fetching; unresolved external $ref rejected; bounded composition",
       "binds the implementation that validates a schema, i.e. what the server does inside its own argument validation: "
       "whether it fetched a network $ref is visible only from the network it would fetch from, and mcpcheck talks to "
       "loopback only. mcpcheck's own validators resolve $ref offline (tools.input_schema judges a schema that cannot be resolved so)"),
    _r("T6", "SHOULD", "R4→", "Tool names: 1-128 chars of [A-Za-z0-9_.-], unique per server"),
    _r("T7", "MUST NOT / SHOULD", "R5", "tools/list does not vary per connection or as a side effect; stable order"),
    _r("T8", "MUST", "R5", "Complete list results carry ttlMs and cacheScope, the same scope on every page"),
    _r("T9", "—", "all", "Unknown tool or malformed tools/call is a JSON-RPC error (-32602)"),
    _r("T10", "SHOULD (spirit)", "R4→", "Tool failures are isError results; valid arguments never earn -32602"),
    _r("T11", "MUST", "all", "Servers validate inputs and sanitize outputs: no crash, hang or leak"),
    _r("T12", "MUST", "R3→", "With outputSchema, results carry conforming structuredContent"),
    _r("T13", "— (hints)", "R2→", "Tool annotations are hints (readOnly, destructive, idempotent, openWorld)"),
    _r("T14", "SHOULD", "all", "tools list_changed only when listChanged was declared (R5: only on a listen stream)"),
    _r("T15", "MUST", "all", "Content blocks are well formed: base64 data/blob with a MIME type"),
    _r("T16", "MUST / SHOULD", "R4", "A taskSupport=required tool called without a task answers -32601"),
    # ---- 3.2 MRTR, elicitation, sampling, roots
    _r("M1", "MUST", "→R4", "No sampling/elicitation/roots requests without the client capability"),
    _r("M2", "MUST NOT / MUST", "R4→", "No secrets through form elicitation; URL mode for sensitive flows, bound to the user",
       "a conforming server elicits only from a client that declared elicitation, and answering elicitations means acting "
       "as the user; whether a form field asks for a secret is a judgement of meaning (a field-name heuristic would raise false "
       "alarms), and binding a URL flow to its user needs a browser and two real users"),
    _r("M3", "MUST", "R5", "No server requests: input_required results (only on tools/call, prompts/get, resources/read)"),
    _r("M4", "MUST / -32021", "R5", "inputRequests only for capabilities the same request declared, else -32021"),
    _r("M5", "MUST", "R5", "requestState is integrity-protected when it carries authority",
       "whether requestState carries authority, and whether a tampered one changed the tool's semantics, depends on what the "
       "tool means; a client sees a different answer but cannot tell a rejected tamper from a legitimate fresh one without "
       "knowing the tool's business rules and a second principal"),
    _r("M6", "SHOULD", "R5", "Missing/partial inputResponses earn a new input_required, not an error"),
    # ---- 3.3 resources
    _r("RS1", "MUST", "all", "A server with resources declares the resources capability"),
    _r("RS2", "—", "all", "resources/list and templates/list paginate; templates are RFC 6570"),
    _r("RS3", "—", "all", "resources/read returns contents with text or base64 blob"),
    _r("RS4", "SHOULD (→R4) / MUST (R5)", "all", "Unknown resource: -32002 (→R4) or -32602 (R5), never empty contents"),
    _r("RS5", "MUST", "all", "URIs are validated; file paths sanitized against traversal"),
    _r("RS6", "—", "→R4", "resources/subscribe and unsubscribe work when subscribe is declared"),
    _r("RS7", "—", "R5", "Resource updates arrive only on a subscriptions/listen stream that asked for the URI"),
    # ---- 3.4 prompts, completion, pagination
    _r("P1", "MUST", "all", "prompts capability; prompts/get returns messages"),
    _r("P2", "SHOULD", "all", "Unknown prompt or missing required argument: -32602"),
    _r("P3", "MUST", "all", "Image/audio prompt content is base64 with a valid MIME type"),
    _r("C1", "MUST (if supported)", "R2→", "completion/complete returns at most 100 values"),
    _r("PG1", "MUST / SHOULD", "all", "Cursors are opaque; invalid cursors answer -32602"),
    # ---- 3.5 logging
    _r("LG1", "MUST", "all", "notifications/message only with the logging capability"),
    _r("LG2", "SHOULD", "→R4", "logging/setLevel answers {}; afterwards only messages at or above the level"),
    _r("LG3", "MUST NOT", "R5", "No log notifications for a request without the logLevel _meta key"),
    _r("LG4", "MUST NOT", "all", "Logs carry no credentials, secrets or attack-useful internals"),
    # ---- 3.6 progress
    _r("PR1", "MUST", "all", "Progress only for a token of an active request, strictly increasing"),
    _r("PR2", "MUST", "all", "No progress after the request's response"),
    _r("PR3", "—", "R5", "Progress and log notifications go only on the request's own response stream"),
    # ---- 3.7 cancellation
    _r("CN1", "SHOULD / MAY", "→R4", "A cancelled request is stopped and not answered"),
    _r("CN2", "MUST NOT", "R5", "Nothing more for a cancelled request; closing the SSE stream is the cancel"),
    _r("CN3", "MUST", "R5", "The server sends notifications/cancelled only to end a listen stream"),
    # ---- 3.8 subscriptions and caching
    _r("SB1", "MUST", "R5", "subscriptions/listen is acknowledged first, with the honoured subset"),
    _r("SB2", "MUST", "R5", "Listen notifications carry the subscription id; no unrequested kinds"),
    _r("SB3", "SHOULD", "R5", "A server ending a listen stream sends a final result first",
       "binds only an end the server decides on, and no client action makes a conforming server decide it: a client's "
       "own end (cancel, closing the HTTP stream, stdin EOF) is an abrupt close with no result due (the official Python "
       "SDK answers the open listen -32000 'Connection closed' on stdin EOF), and a signal ends the process without the "
       "graceful path (the SDK stdio server exits on SIGTERM with nothing written; its MCPServer never calls the "
       "graceful ListenHandler.close() on shutdown). The SDK ends a stream itself only when server code calls close() or "
       "a stream's backlog of unread events passes its cap (1024), which only events the server chooses to publish "
       "fill. A check would need a server-specific trigger (an admin action, a tool that publishes many list_changed "
       "events), not a generic one"),
    _r("CA1", "MUST", "R5", "ttlMs and cacheScope on the cacheable complete results"),
    _r("CA2", "MUST", "R5", "cacheScope is never access control; public only for user-independent data",
       "needs two principals (two sets of credentials for the same server) to see whether a result marked public differs "
       "between users; mcpcheck runs with one identity per target"),
    # ---- 3.9 tasks
    _r("TK1", "MUST", "R4 (experimental)", "Experimental tasks: legal states, tasks/result, unknown taskId -32602"),
    _r("TK2", "MUST", "R5 (tasks extension)", "Tasks extension: task results only when the request declared the extension"),
    # ---- 4.1 stdio
    _r("S1", "MUST NOT", "all", "stdout carries only MCP messages, one per line"),
    _r("S2", "MAY", "all", "Logs may go to stderr; clients must not treat stderr as an error",
       "a permission for the server and a duty of the client: mcpcheck keeps stderr only as evidence (crash findings) and never "
       "files stderr output as a finding"),
    _r("S3", "MUST NOT", "R5", "No JSON-RPC requests on stdout"),
    _r("S4", "SHOULD", "R5", "Exit promptly on stdin EOF"),
    _r("S5", "—", "all", "Survive garbage input and keep serving"),
    # ---- 4.2 Streamable HTTP, session era
    _r("H1", "MUST", "R2–R4", "One endpoint for POST and GET; GET opens an SSE stream or answers 405"),
    _r("H2", "MUST", "R2→", "Origin is validated; an invalid Origin gets 403"),
    _r("H3", "MUST", "R2–R4", "Accepted notifications/responses get 202 with an empty body"),
    _r("H4", "MUST", "R2→", "A POSTed request is answered as application/json or text/event-stream"),
    _r("H5", "SHOULD / MAY", "R2–R4", "SSE from a POST ends with the response; events carry JSON-RPC"),
    _r("H6", "MUST NOT", "R2–R4", "The GET stream carries no responses; no message is broadcast on two streams"),
    _r("H7", "MUST", "R2–R4", "Event ids unique across a session's streams; Last-Event-ID replays one stream"),
    _r("H8", "MAY/MUST/SHOULD", "R2–R4", "Mcp-Session-Id: visible ASCII, random, 400 without, 404 after end"),
    _r("H9", "MUST / SHOULD", "R3–R4", "MCP-Protocol-Version header: an invalid value gets 400"),
    # ---- 4.3 Streamable HTTP, stateless
    _r("HS1", "MUST / SHOULD", "R5", "POST only (GET/DELETE 405); no session ids"),
    _r("HS2", "MUST", "R5", "Origin is validated (403)"),
    _r("HS3", "MUST", "R5", "One message per body; notification 202; request JSON or SSE"),
    _r("HS4", "MUST NOT / SHOULD", "R5", "The request's SSE stream carries only its notifications and final response"),
    _r("HS5", "MUST", "R5", "MCP-Protocol-Version header equals the _meta version, else 400 -32020"),
    _r("HS6", "MUST", "R5", "Status mapping: 400 -32022, 404 -32601, 400 -32602/-32021"),
    _r("HS7", "MUST", "R5", "Mcp-Method / Mcp-Name headers required and matched (-32020)"),
    _r("HS8", "MUST", "R5", "Non-ASCII header values use the base64 sentinel and are decoded"),
    _r("HS9", "MUST", "R5", "x-mcp-header parameters mirrored as Mcp-Param-* headers and validated"),
    _r("HS10", "MUST", "R5", "Closing the SSE response stream cancels the request",
       'the cancellation is visible only in what the cancelled tool would have done after the close (a side effect), which a black-box client cannot observe unless the tool exposes it; on stdio the explicit cancel is judged by stateful.cancel'),
    # ---- 5. authorization
    _r("A1", "MUST", "R2 only", "2025-03-26: the server is its own OAuth authorization server"),
    _r("A2", "MUST", "R3→", "Resource server with RFC 9728 metadata listing authorization servers"),
    _r("A3", "MUST", "R3", "401 carries WWW-Authenticate with resource_metadata"),
    _r("A4", "MUST", "R4→", "At least one discovery route to the protected resource metadata"),
    _r("A5", "MUST", "R2→", "Tokens are validated (audience included); invalid ones get 401"),
    _r("A6", "MUST NOT", "R3→", "No token passthrough to upstream APIs",
       "server-to-upstream token passthrough is visible only at the upstream: it needs an instrumented upstream API the server "
       "talks to, which a black-box client does not control (tokens minted for another audience: see A5)"),
    _r("A7", "MUST (client)", "R3→", "Tokens only in the Authorization header, never in the query string"),
    _r("A8", "MUST / SHOULD", "R3→ / R4→", "Insufficient scope: 403 with an insufficient_scope challenge"),
    _r("A9", "MUST", "R5", "Access control is checked on every request",
       "needs two principals with different rights on the same server (two sets of credentials) to see one denied what the "
       "other may do; mcpcheck runs with one identity per target"),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

_RULE_TOKEN = re.compile(r"\b([A-Z]{1,2}\d{1,2})\b")


def cited(rule_field: str | None) -> list[str]:
    """The digest rule ids a check's `rule` metadata names ("J1/J4/J5", "T10/T11"); anything else
    in the field (a section reference such as "§6.8") is ignored."""
    return [m for m in _RULE_TOKEN.findall(rule_field or "") if m in BY_ID]


@dataclass
class RuleCoverage:
    rule: Rule
    checks: list[str]

    @property
    def status(self) -> str:
        if self.checks:
            return "covered"
        return "explained" if self.rule.why else "neither"

    def to_dict(self) -> dict[str, Any]:
        r = self.rule
        return {
            "rule": r.id,
            "level": r.level,
            "revisions": r.revisions,
            "title": r.title,
            "status": self.status,
            "checks": self.checks,
            "why": None if self.checks else r.why,
            "open": bool(r.open and not self.checks),
        }


def coverage(checks: Iterable[tuple[str, str | None]]) -> list[RuleCoverage]:
    """Every rule with the ids of the checks citing it; `checks` is (check id, rule field) pairs."""
    by_rule: dict[str, list[str]] = {r.id: [] for r in RULES}
    for check_id, rule_field in checks:
        for rid in cited(rule_field):
            if check_id not in by_rule[rid]:
                by_rule[rid].append(check_id)
    return [RuleCoverage(r, sorted(by_rule[r.id])) for r in RULES]


def summary(rows: list[RuleCoverage]) -> str:
    covered = sum(1 for c in rows if c.status == "covered")
    explained = [c for c in rows if c.status == "explained"]
    neither = sum(1 for c in rows if c.status == "neither")
    opened = sum(1 for c in explained if c.rule.open)
    return (
        f"{covered} of {len(rows)} rules covered by a check, {len(explained)} explained "
        f"({opened} of them testable but not built yet), {neither} neither"
    )


def render_markdown(rows: list[RuleCoverage]) -> str:
    """docs/rules.md: every rule with its checks or the reason no check tests it."""
    out = [
        "# Spec rules and the checks that test them",
        "",
        "Generated by `mcpcheck list-checks --rules --format markdown > docs/rules.md` from",
        "`conformance/rules.py` (the rule table) and each registered check's `rule` metadata; a test keeps",
        "it current. Revisions: R1 2024-11-05, R2 2025-03-26, R3 2025-06-18, R4 2025-11-25, R5 2026-07-28;",
        "`→R4` is R1..R4, `R3→` is R3 and later. A rule no check cites says why: a client cannot test it,",
        "or (marked *open*) a client could and mcpcheck does not yet, with what that check would need.",
        "",
        summary(rows) + ".",
        "",
        "| Rule | Level | Revisions | Requirement | Checks, or why none |",
        "|---|---|---|---|---|",
    ]
    for c in rows:
        r = c.rule
        if c.checks:
            what = ", ".join(f"`{i}`" for i in c.checks)
        elif r.why:
            what = ("*open:* " if r.open else "") + r.why
        else:
            what = "**no check and no reason**"
        out.append(f"| {r.id} | {r.level} | {r.revisions} | {r.title} | {what.replace('|', '/')} |")
    return "\n".join(out) + "\n"

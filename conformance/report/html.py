"""The HTML view (`report.html`): one self-contained page, no network asset and no script.

Top to bottom: the executive summary (READY / NOT READY, score, why, top findings, what to fix
first), targets, findings with their evidence, suppressed findings and the baseline, the
per-tool constraint-enforcement table, load charts (embedded from the report directory as data:
URIs, SVG preferred over PNG), corpus entries, observations and every check.

Machine-readable hooks for tests and scrapers: `data-status`, `data-score` on the summary,
`data-findings-count` on the findings section, `data-severity` / `data-finding-id` on each
finding.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shlex
from pathlib import Path
from typing import Any, Iterable

from ..findings import Finding
from .executive import executive, headline
from .json_report import visible
from .model import RunReport, TargetResult

CHART_NAMES = ("latency_over_time", "latency_distribution", "server_resources")
CHART_LIMIT = 4 * 1024 * 1024  # bytes; a larger chart is linked, not embedded
_CHARTS_NOTE = re.compile(r"^load: figures and charts in (.+)$")

CSS = """
:root{--bg:#fff;--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;--soft:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;
--crit:#8b0000;--high:#cf222e;--med:#bc4c00;--low:#9a6700;--info:#0969da}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:24px}h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:0}.meta{color:var(--mute);margin:0}code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-all;max-height:360px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--soft)}
.exec{border:2px solid var(--line);border-radius:10px;padding:4px 20px 16px;margin-top:16px}.exec h2{margin-top:12px}.exec.ready{border-color:var(--ok)}.exec.notready{border-color:var(--bad)}
.verdict{display:flex;gap:24px;align-items:center;flex-wrap:wrap}.badge{font-size:22px;font-weight:700;padding:6px 14px;border-radius:8px;color:#fff}
.ready .badge{background:var(--ok)}.notready .badge{background:var(--bad)}.score{font-size:32px;font-weight:700}.score small{font-size:14px;color:var(--mute)}
.bars{display:grid;grid-template-columns:120px 1fr 48px;gap:4px 8px;align-items:center;max-width:560px;margin:12px 0}
.bar{background:var(--soft);border:1px solid var(--line);height:12px;border-radius:6px;overflow:hidden}.bar span{display:block;height:100%;background:var(--ok)}
.bar span.warn{background:var(--med)}.bar span.bad{background:var(--bad)}
.sev{display:inline-block;min-width:64px;text-align:center;border-radius:10px;color:#fff;font-size:12px;font-weight:600;padding:0 8px}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.finding{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:6px;padding:10px 14px;margin:10px 0}
.finding.sev-critical,.finding.sev-high,.finding.sev-medium,.finding.sev-low,.finding.sev-info{background:none}
.finding[data-severity=critical]{border-left-color:var(--crit)}.finding[data-severity=high]{border-left-color:var(--high)}
.finding[data-severity=medium]{border-left-color:var(--med)}.finding[data-severity=low]{border-left-color:var(--low)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dl.facts dt{color:var(--mute)}dl.facts dd{margin:0;word-break:break-word}
.yes{color:var(--ok);font-weight:600}.no{color:var(--bad);font-weight:600}figure{margin:12px 0}figure img{max-width:100%;border:1px solid var(--line);border-radius:6px}
figcaption{color:var(--mute);font-size:12px}.muted{color:var(--mute)}
"""


def esc(value: Any) -> str:
    return html.escape(visible("" if value is None else str(value), controls=True), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _sev(sev: str) -> str:
    return f'<span class="sev sev-{esc(sev)}">{esc(sev)}</span>'


def _where(f: Finding) -> str:
    return f.target + (f" / {f.tool}" if f.tool else "")


# --------------------------------------------------------------------------- sections


def _summary(report: RunReport) -> str:
    ex = executive(report)
    cls = "ready" if ex.status == "READY" else "notready"
    bars = []
    for group, score in ex.groups.items():
        tone = "" if score >= 80 else ("warn" if score >= 50 else "bad")
        bars.append(f'<div>{esc(group)}</div><div class="bar"><span class="{tone}" style="width:{max(0.0, min(100.0, score)):.1f}%"></span></div><div>{score:g}</div>')
    parts = [
        f'<section id="summary" class="exec {cls}" data-status="{esc(ex.status)}" data-score="{ex.score:g}" data-exit-code="{ex.exit_code}">',
        "<h2>Executive summary</h2>",
        f'<div class="verdict"><div class="badge">{esc(ex.status)}</div><div class="score">{ex.score:g}<small> / 100 (threshold {ex.threshold:g})</small></div>'
        f'<div>exit code <b>{ex.exit_code}</b>; {"the gate decides the exit code" if ex.gate_decides else "gate advisory (enable with <code>--gate</code>)"}</div></div>',
        f'<p class="muted">{esc(headline(ex))}</p>',
    ]
    if bars:
        parts.append('<div class="bars" aria-label="score by group">' + "".join(bars) + "</div>")
    if ex.reasons:
        parts.append("<h3>Why not ready</h3><ul>" + "".join(f"<li>{esc(r)}</li>" for r in ex.reasons) + "</ul>")
    if ex.expired:
        parts.append("<h3>Expired suppressions (no longer suppressing)</h3><ul>" + "".join(f"<li>{esc(e)}</li>" for e in ex.expired) + "</ul>")
    if ex.top:
        items = "".join(
            f'<li>{_sev(f.severity.value)} <a href="#f-{_slug(f.id)}"><code>{esc(f.check)}</code></a> on {esc(_where(f))}: {esc(" ".join(f.title.split()))}</li>'
            for f in ex.top
        )
        parts.append(f"<h3>Top findings</h3><ul>{items}</ul>")
    if ex.fix_first:
        parts.append('<h3>What to fix first</h3><ol class="fix-first">' + "".join(f"<li>{esc(s)}</li>" for s in ex.fix_first) + "</ol>")
    parts.append("</section>")
    return "".join(parts)


def _server(t: TargetResult) -> str:
    info = t.server_info or {}
    return " ".join(str(info[k]) for k in ("name", "version") if info.get(k)) or "-"


def _targets(report: RunReport) -> str:
    rows = []
    for t in report.targets:
        status = f'<span class="no">could not be tested</span>: {esc(t.error)}' if t.error else f'<span class="yes">tested</span> in {t.duration_s:g} s'
        rows.append([esc(t.name), esc(f"{t.transport}: {t.description}"), esc(_server(t)), esc(", ".join(t.eras) or "-"), esc(", ".join(t.tools) or "-"), status])
    out = ['<section id="targets"><h2>Targets</h2>', _table(["target", "transport", "server", "eras", "tools", "status"], rows)]
    notes = [(t.name, n) for t in report.targets for n in t.notes]
    if notes:
        out.append("<details><summary>Notes from the campaigns (" + str(len(notes)) + ")</summary><ul>" + "".join(f"<li><b>{esc(a)}</b>: {esc(n)}</li>" for a, n in notes) + "</ul></details>")
    for t in report.targets:
        if t.error and t.stderr_tail.strip():
            out.append(f"<p>Last lines {esc(t.name)} wrote to stderr:</p><pre>{esc(t.stderr_tail.rstrip())}</pre>")
    out.append("</section>")
    return "".join(out)


def _finding(f: Finding, extra: str = "") -> str:
    facts = [
        ("id", f"<code>{esc(f.id)}</code>"),
        ("target", esc(f.target or "-") + (f", revision {esc(f.revision)}" if f.revision else "")),
        ("tool", f"<code>{esc(f.tool)}</code>" if f.tool else ""),
        ("category", esc(f.category)),
        ("spec rule", esc(" ".join(p for p in (f.rule, f"({f.spec_level})" if f.spec_level else "") if p))),
        ("path", f"<code>{esc(f.path)}</code>" if f.path else ""),
        ("reproduce", f"<code>{esc(f.reproduce)}</code>" if f.reproduce else ""),
    ]
    out = [
        f'<article class="finding" id="f-{_slug(f.id)}" data-finding-id="{esc(f.id)}" data-severity="{esc(f.severity.value)}">',
        f"<h3>{_sev(f.severity.value)} <code>{esc(f.check)}</code> {esc(' '.join(f.title.split()))}</h3>",
        f"<p>{esc(f.detail.strip())}</p>",
        extra,
        '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts if v) + "</dl>",
    ]
    if f.input is not None:
        out.append(f"<p>Minimal input:</p><pre>{esc(json.dumps(f.input, indent=2, ensure_ascii=False, default=str))}</pre>")
    if f.evidence:
        lines = []
        for e in f.evidence:
            where = " ".join(p for p in (e.direction, e.channel) if p)
            if e.http:
                where += " " + " ".join(str(e.http[k]) for k in ("method", "url", "status") if e.http.get(k) is not None)
            lines.append(f"{where.strip() or 'wire'}: {e.raw}" + (f"  ({e.note})" if e.note else ""))
        out.append(f"<details open><summary>Evidence ({len(f.evidence)})</summary><pre>{esc(chr(10).join(lines))}</pre></details>")
    out.append("</article>")
    return "".join(out)


def _findings(report: RunReport) -> str:
    n = len(report.findings)
    out = [f'<section id="findings" data-findings-count="{n}"><h2>Findings (<span class="count">{n}</span>)</h2>']
    if not n:
        out.append("<p>None: no check found a violation at severity <code>low</code> or above.</p>")
    out += [_finding(f) for f in report.findings]
    out.append("</section>")
    return "".join(out)


def _suppressed(report: RunReport) -> str:
    if not report.suppressed and report.baseline is None and report.diff is None:
        return ""
    out = [f'<section id="suppressed" data-suppressed-count="{len(report.suppressed)}"><h2>Baseline and changes</h2>']
    b = report.baseline
    if b is not None:
        out.append(f"<p>Baseline <code>{esc(b.file)}</code>: {b.suppressed} suppressed; {len(b.expired)} expired entries; {len(b.unused)} unused entries.</p>")
        if b.expired:
            out.append("<p>Expired (these no longer suppress):</p><ul>" + "".join(f"<li>{esc(e)}</li>" for e in b.expired) + "</ul>")
        if b.unused:
            out.append("<p>Unused (matched nothing; remove them?):</p><ul>" + "".join(f"<li><code>{esc(e)}</code></li>" for e in b.unused) + "</ul>")
    d = report.diff
    if d is not None:
        out.append(f"<p>Against <code>{esc(d.against)}</code>: <b>{len(d.new)} new</b>, {len(d.fixed)} fixed, {len(d.unchanged)} unchanged.</p>")
        if d.new:
            out.append("<p>New:</p><ul>" + "".join(f'<li><a href="#f-{_slug(i)}"><code>{esc(i)}</code></a></li>' for i in d.new) + "</ul>")
        if d.fixed:
            out.append("<p>Fixed:</p><ul>" + "".join(f"<li><code>{esc(i)}</code></li>" for i in d.fixed) + "</ul>")
    if report.suppressed:
        out.append(f"<h3>Suppressed findings ({len(report.suppressed)})</h3>")
        for s in report.suppressed:
            note = f'<p class="muted">Accepted: {esc(s.reason)}' + (f" (until {esc(s.expires)})" if s.expires else "") + f"; entry <code>{esc(s.entry)}</code></p>"
            out.append(_finding(s.finding, note).replace('class="finding"', 'class="finding suppressed"', 1))
    out.append("</section>")
    return "".join(out)


_NOTE_TABLE = re.compile(r"^fuzz: (?P<tool>.+?) \[(?P<engine>[^\]]*)\] (?P<calls>\d+) calls; constraints: (?P<table>.+)$")


def _constraint_rows(t: TargetResult) -> list[tuple[str, str, int, str | None, dict[str, bool]]]:
    if t.constraints:
        return [(c.tool, c.engine, c.calls, c.skipped, c.enforced) for c in t.constraints]
    rows = []  # a report written before the structured table: read the fuzz notes
    for n in t.notes:
        m = _NOTE_TABLE.match(n)
        if m:
            enforced = {}
            for item in m.group("table").split(", "):
                key, _, value = item.rpartition("=")
                if key:
                    enforced[key] = value == "enforced"
            rows.append((m.group("tool"), m.group("engine"), int(m.group("calls")), None, enforced))
    return rows


def _constraints(report: RunReport) -> str:
    blocks = []
    for t in report.targets:
        rows = _constraint_rows(t)
        if not rows:
            continue
        body = []
        for tool, engine, calls, skipped, enforced in rows:
            if skipped:
                body.append([f"<code>{esc(tool)}</code>", esc(engine or "-"), str(calls), f'<span class="muted">not called: {esc(skipped)}</span>', ""])
            elif not enforced:
                body.append([f"<code>{esc(tool)}</code>", esc(engine or "-"), str(calls), '<span class="muted">no constraint exercised</span>', ""])
            for c, ok in sorted(enforced.items()):
                mark = '<span class="yes">enforced</span>' if ok else '<span class="no">NOT enforced</span>'
                body.append([f"<code>{esc(tool)}</code>", esc(engine or "-"), str(calls), f"<code>{esc(c)}</code>", mark])
        total = sum(len(r[4]) for r in rows)
        held = sum(sum(r[4].values()) for r in rows)
        blocks.append(f"<h3>{esc(t.name)}: {held} of {total} constraints enforced</h3>" + _table(["tool", "generator", "calls", "constraint", "enforced"], body, "constraints"))
    if not blocks:
        return ""
    return '<section id="constraints"><h2>Constraint enforcement (fuzz)</h2><p class="muted">For each schema constraint the fuzzer violated on purpose: did the server reject every such input?</p>' + "".join(blocks) + "</section>"


def _chart_dirs(report: RunReport, directory: Path | None) -> list[tuple[str, Path]]:
    seen: list[tuple[str, Path]] = []

    def add(name: str, p: Path) -> None:
        try:
            key = p.resolve()
        except OSError:
            return
        if p.is_dir() and all(k.resolve() != key for _, k in seen):
            seen.append((name, p))

    for t in report.targets:
        for n in t.notes:
            m = _CHARTS_NOTE.match(n)
            if m:
                p = Path(m.group(1))
                add(t.name, p)
                if not p.is_absolute() and directory is not None:
                    add(t.name, directory / "load" / p.name)
    if directory is not None and (directory / "load").is_dir():
        for sub in sorted((directory / "load").iterdir()):
            add(sub.name, sub)
    return seen


def _img(path: Path) -> str:
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{esc(path.stem.replace("_", " "))}" src="data:{mime};base64,{data}">'


def _charts(report: RunReport, directory: Path | None) -> str:
    figures = []
    for name, folder in _chart_dirs(report, directory):
        for chart in CHART_NAMES:
            for ext in (".svg", ".png"):
                path = folder / f"{chart}{ext}"
                if not path.is_file():
                    continue
                size = path.stat().st_size
                if size > CHART_LIMIT:
                    figures.append(f'<figure><figcaption>{esc(name)}: {esc(chart)} ({size} bytes, not embedded): {esc(path)}</figcaption></figure>')
                else:
                    figures.append(f'<figure class="chart" data-chart="{esc(chart)}">{_img(path)}<figcaption>{esc(name)}: {esc(chart.replace("_", " "))} ({esc(path.name)})</figcaption></figure>')
                break
    if not figures:
        return ""
    return f'<section id="load" data-charts-count="{len(figures)}"><h2>Load charts</h2>' + "".join(figures) + "</section>"


def _corpus(report: RunReport) -> str:
    rows = []
    for t in report.targets:
        for c in t.corpus:
            tone = {"fixed": "yes", "still failing": "no"}.get(c.status, "muted")
            rows.append([esc(t.name), f"<code>{esc(c.tool)}</code>", f"<code>{esc(c.check)}</code>", esc(c.mode), esc(c.first_seen), f'<span class="{tone}">{esc(c.status)}</span>', f"<code>{esc(c.file)}</code>"])
    if not rows:
        return ""
    return f'<section id="corpus" data-corpus-count="{len(rows)}"><h2>Corpus entries ({len(rows)})</h2><p class="muted">Stored minimal failing inputs; <code>mcpcheck run --campaign replay</code> re-runs them.</p>' + _table(["target", "tool", "check", "mode", "first seen", "status", "file"], rows) + "</section>"


def _observations(report: RunReport) -> str:
    if not report.observations:
        return '<section id="observations"><h2>Observations</h2><p>None.</p></section>'
    rows = [[f"<code>{esc(o.check)}</code>", esc(o.target), esc(o.revision or "-"), esc(o.detail), f"<code>{esc(o.id)}</code>"] for o in report.observations]
    return f'<section id="observations"><h2>Observations ({len(rows)})</h2><p class="muted">Behaviour worth knowing that no spec rule forbids (severity info).</p>' + _table(["check", "target", "revision", "detail", "id"], rows) + "</section>"


def _checks(report: RunReport) -> str:
    failed = {(f.target, f.check, f.revision) for f in report.findings}
    rows = []
    for c in report.checks:
        status = c.status
        if status == "failed" and (c.target, c.id, c.revision) not in failed:
            status = "observed"
        tone = {"passed": "yes", "failed": "no"}.get(status, "muted")
        rows.append([f"<code>{esc(c.id)}</code>", esc(c.target), esc(c.revision or "-"), f'<span class="{tone}">{esc(status)}</span>', _sev(c.severity.value), esc(c.rule or "-"), esc(c.reason or "")])
    s = report.summary
    head = f"<h2>Checks</h2><p>{s.checks_passed} passed, {s.checks_failed} failed, {s.checks_observed} observed (observations only), {s.checks_skipped} skipped.</p>"
    if not rows:
        return f'<section id="checks">{head}<p>No check ran.</p></section>'
    body = _table(["check", "target", "revision", "status", "severity", "rule", "reason"], rows)
    return f'<section id="checks">{head}<details><summary>every check ({len(rows)})</summary>{body}</details></section>'


def render_html(report: RunReport, directory: str | Path | None = None) -> str:
    """The page; `directory` (the report directory) is where load charts are looked for."""
    directory = Path(directory) if directory is not None else None
    ex = executive(report)
    title = f"mcpcheck: {ex.status} ({ex.score:g}/100)"
    seed = f"; seed {report.seed}" if report.seed is not None else ""
    meta = (
        f"Started {esc(report.started_at)}, took {report.duration_s:g} s; campaigns: {esc(', '.join(report.campaigns))}{esc(seed)}; "
        f"fail on <code>{esc(report.fail_on.value)}</code>; {esc(report.tool.get('name', 'mcpcheck'))} {esc(report.tool.get('version', ''))}"
    )
    sections = [
        _summary(report),
        _targets(report),
        _findings(report),
        _suppressed(report),
        _constraints(report),
        _charts(report, directory),
        _corpus(report),
        _observations(report),
        _checks(report),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body><main>"
        f'<header><h1>mcpcheck report</h1><p class="meta">{meta}</p><p class="meta">Command: <code>{esc(shlex.join(report.command))}</code></p></header>\n'
        + "\n".join(s for s in sections if s)
        + "\n<footer><p class=\"muted\">Generated by mcpcheck from report.json (the canonical report; schema: <code>mcpcheck schema</code>).</p></footer>"
        "</main></body></html>\n"
    )

"""The SARIF 2.1.0 view (`mcpcheck.sarif`), for GitHub code scanning and other SARIF consumers.

- `tool.driver.rules`: every check that appears in the report (run, or with a finding), described
  by the check registry (mcpcheck.registry.REGISTRY: title, description, spec rule, level,
  revisions, origin); `defaultConfiguration.level` from the check's severity;
  `properties.security-severity` for security checks (GitHub ranks alerts with it). This module
  reads the registry as it is: the caller loads the checks first (the CLI's `load_checks`:
  built-ins and plugins). A check the registry does not know (a report from an older version, a
  plugin not loaded now) is described from what the report recorded about it.
- `results`: one per finding (severity low and up), and one per suppressed finding carrying a
  SARIF `suppressions` entry (status accepted, the baseline's reason). `partialFingerprints`
  holds the stable finding id, so an alert keeps its identity across runs.
- Locations: always a logical location (the target, and the tool when there is one). GitHub code
  scanning also needs a physical location, so a result is anchored to a real file of the
  repository when there is one, in this order: the finding's corpus/ entry (the stored failing
  input), the server's entry-point script from the stdio command, the GitHub workflow file that
  ran mcpcheck (`GITHUB_WORKFLOW_REF`). Paths are relative to `GITHUB_WORKSPACE` (else the
  current directory); a file that does not exist there is never named.
- `invocations[0]` records the command line, exit code and start/end time; an unreachable
  target is a tool execution notification. The gate verdict and score are in `run.properties`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from ..findings import Finding, Severity
from ..registry import REGISTRY
from .json_report import visible
from .model import RunReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://modelcontextprotocol.io/specification"
FINGERPRINT = "mcpcheckFindingId/v1"
LEVEL = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}
# GitHub code scanning: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
SECURITY_SEVERITY = {
    Severity.critical: "9.5",
    Severity.high: "8.0",
    Severity.medium: "5.5",
    Severity.low: "3.0",
    Severity.info: "0.0",
}


def _text(value: Any) -> str:
    return visible("" if value is None else str(value), controls=True)


def _rule_name(check_id: str) -> str:
    """`errors.unknown_method` -> `ErrorsUnknownMethod` (SARIF wants a readable identifier)."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", check_id) if p) or "Check"


def _utc(iso: str) -> str:
    try:
        t = _dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return t.isoformat(timespec="seconds") + "Z"


def _rules(report: RunReport, findings: list[Finding]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}  # what the report itself says about each check
    for c in report.checks:
        seen.setdefault(c.id, {"category": c.category, "severity": c.severity, "title": c.title, "rule": c.rule, "origin": c.origin})
    for f in findings:
        seen.setdefault(f.check, {"category": f.category, "severity": f.severity, "title": f.title, "rule": f.rule, "level": f.spec_level})
    rules = []
    for check_id in sorted(seen):
        info = seen[check_id]
        spec = REGISTRY.get(check_id)
        category = spec.category if spec else info["category"]
        severity = spec.severity if spec else info["severity"]
        title = spec.title if spec else info["title"]
        rule_id = spec.rule if spec else info.get("rule")
        level = spec.level if spec else info.get("level")
        revisions = spec.revisions if spec else "?"
        origin = REGISTRY.check(check_id).origin if spec else info.get("origin")
        description = (spec.description if spec else "") or title
        spec_ref = f"MCP spec rule {rule_id}" + (f" ({level})" if level else "") if rule_id else "no single spec rule (robustness / security property)"
        help_text = f"{title}. {spec_ref}; protocol revisions: {revisions}; category: {category}; default severity: {severity.value}."
        tags = [category, category.split(".")[0]]
        if level:
            tags.append(level)
        props: dict[str, Any] = {
            "category": category,
            "severity": severity.value,
            "tags": tags,
            "precision": "high",
            "revisions": revisions,
        }
        if rule_id:
            props["specRule"] = rule_id
        if origin and origin != "mcpcheck":
            props["origin"] = origin  # the plugin that registered the check
        if category.startswith("security."):
            props["security-severity"] = SECURITY_SEVERITY[severity]
        props["tags"] = list(dict.fromkeys(tags))  # SARIF: tags are unique
        rules.append(
            {
                "id": check_id,
                "name": _rule_name(check_id),
                "shortDescription": {"text": _text(title)},
                "fullDescription": {"text": _text(description if description.endswith(".") else description + ".") + " " + spec_ref + "."},
                "help": {
                    "text": _text(help_text),
                    "markdown": _text(
                        f"**{title}**\n\n- spec: {spec_ref}\n- protocol revisions: `{revisions}`\n"
                        f"- category: `{category}`\n- default severity: `{severity.value}`\n\n"
                        f"List every check: `mcpcheck list-checks`."
                    ),
                },
                "defaultConfiguration": {"level": LEVEL[severity], "enabled": True},
                "properties": props,
            }
        )
    return rules


def _workspace() -> Path:
    """Where artifact URIs are relative to: the repository in GitHub Actions, else the cwd."""
    return Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())


def _in_workspace(path: str | Path, root: Path) -> str | None:
    """`path` as a POSIX path relative to `root`, when it is an existing file inside it."""
    p = Path(path)
    full = p if p.is_absolute() else root / p
    try:
        if not full.is_file():
            return None
        rel = full.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return rel.as_posix()


_SCRIPT = re.compile(r"\.(py|js|mjs|cjs|ts|sh|rb|go|java|php)$")


def _anchors(report: RunReport) -> tuple[dict[tuple[str, str, str], str], dict[str, str], str | None]:
    """Real files to anchor results to (GitHub code scanning needs a physical location):
    (corpus file by (target, check, tool), server entry-point script by target, workflow file)."""
    root = _workspace()
    corpus: dict[tuple[str, str, str], str] = {}
    scripts: dict[str, str] = {}
    for t in report.targets:
        for c in t.corpus:
            rel = _in_workspace(c.file, root)
            if rel:
                corpus.setdefault((t.name, c.check, c.tool), rel)
        if t.transport == "stdio":
            try:
                words = shlex.split(t.description)
            except ValueError:
                words = t.description.split()
            for w in words[1:]:
                rel = _in_workspace(w, root) if _SCRIPT.search(w) else None
                if rel:
                    scripts[t.name] = rel
                    break
    workflow = None
    ref = os.environ.get("GITHUB_WORKFLOW_REF", "")  # owner/repo/.github/workflows/ci.yml@refs/...
    m = re.match(r"^[^/]+/[^/]+/(.+?)@", ref)
    if m:
        workflow = _in_workspace(m.group(1), root)
    return corpus, scripts, workflow


def _locations(f: Finding, anchors: tuple[dict, dict, str | None]) -> list[dict[str, Any]]:
    target = _text(f.target or "target")
    logical = [{"name": target, "fullyQualifiedName": target, "kind": "module"}]
    if f.tool:
        tool = _text(f.tool)
        logical.insert(0, {"name": tool, "fullyQualifiedName": f"{target}/{tool}", "kind": "function"})
    location: dict[str, Any] = {"logicalLocations": logical}
    corpus, scripts, workflow = anchors
    uri = corpus.get((f.target, f.check, f.tool or "")) or scripts.get(f.target) or workflow
    if uri:  # a real file in the repository, never an invented one
        location["physicalLocation"] = {"artifactLocation": {"uri": uri}}  # relative: to the repository root
    return [location]


def _result(f: Finding, index: dict[str, int], anchors: tuple, suppression: dict[str, Any] | None = None) -> dict[str, Any]:
    message = f"{' '.join(f.title.split())}: {f.detail.strip()}"
    if f.reproduce:
        message += f"\nReproduce: {f.reproduce}"
    props: dict[str, Any] = {"severity": f.severity.value, "category": f.category, "target": f.target}
    for key in ("tool", "revision", "rule", "spec_level", "path", "reproduce"):
        value = getattr(f, key)
        if value:
            props[key] = _text(value)
    if f.input is not None:
        props["input"] = _text(json.dumps(f.input, ensure_ascii=False, default=str))[:4000]
    if f.evidence:
        props["evidence"] = [_text(f"{e.direction or ''} {e.channel or ''}: {e.raw}".strip())[:2000] for e in f.evidence[:4]]
    if f.category.startswith("security."):
        props["security-severity"] = SECURITY_SEVERITY[f.severity]
    result: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": index[f.check],
        "kind": "fail",
        "level": LEVEL[f.severity],
        "message": {"text": _text(message)},
        "locations": _locations(f, anchors),
        "partialFingerprints": {FINGERPRINT: f.id},
        "properties": props,
    }
    if suppression is not None:
        result["suppressions"] = [suppression]
    return result


def sarif_log(report: RunReport) -> dict[str, Any]:
    suppressed = [s for s in report.suppressed if s.finding.severity > Severity.info]
    all_findings = [*report.findings, *(s.finding for s in suppressed)]
    rules = _rules(report, all_findings)
    index = {r["id"]: i for i, r in enumerate(rules)}
    anchors = _anchors(report)
    results = [_result(f, index, anchors) for f in report.findings]
    for s in suppressed:
        justification = s.reason + (f" (until {s.expires})" if s.expires else "") + f" [{s.entry}]"
        results.append(_result(s.finding, index, anchors, {"kind": "external", "status": "accepted", "justification": _text(justification)}))
    started = _dt.datetime.fromisoformat(report.started_at) if report.started_at else None
    invocation: dict[str, Any] = {
        "executionSuccessful": report.exit_code != 2,
        "exitCode": report.exit_code,
        "commandLine": _text(" ".join(report.command)),
        "arguments": [_text(a) for a in report.command[1:]],
    }
    if started is not None:
        invocation["startTimeUtc"] = _utc(report.started_at)
        invocation["endTimeUtc"] = _utc((started + _dt.timedelta(seconds=report.duration_s)).isoformat())
    notes = [
        {"level": "error", "message": {"text": _text(f"target {t.name} could not be tested: {t.error}")}}
        for t in report.targets
        if t.error
    ]
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run_props: dict[str, Any] = {"campaigns": report.campaigns, "failOn": report.fail_on.value, "summary": report.summary.model_dump(mode="json")}
    if report.gate is not None:
        run_props["gate"] = report.gate.model_dump(mode="json")
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": report.tool.get("name", "mcpcheck"),
                        "version": report.tool.get("version", "0"),
                        "semanticVersion": report.tool.get("version", "0") if re.fullmatch(r"\d+\.\d+\.\d+", report.tool.get("version", "")) else None,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": run_props,
            }
        ],
    }


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def render_sarif(report: RunReport) -> str:
    return json.dumps(_drop_none(sarif_log(report)), indent=2, ensure_ascii=False) + "\n"

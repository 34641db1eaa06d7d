"""The canonical JSON view (`report.json`), its JSON Schema, and docs/report-schema.md.

Fuzzed servers echo anything back, lone UTF-16 surrogates included; those cannot be encoded as
UTF-8, so every string is passed through `visible()` first and a surrogate becomes the text
`\\udXXX`. The other views use the same helper (with `controls=True`) before writing.
"""

from __future__ import annotations

import json
import re
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .model import RunReport

_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Characters XML 1.0 cannot hold and a terminal would interpret: C0 controls but tab, LF and CR,
# DEL, surrogates, and the two non-characters U+FFFE / U+FFFF.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, controls: bool = False) -> str:
    """`text` made safe to write: lone surrogates (and, with controls=True, control characters)
    replaced by their escape as visible text, e.g. `\\ud800`, `\\x00`."""
    return (_UNPRINTABLE if controls else _SURROGATE).sub(_escape, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def render_json(report: RunReport) -> str:
    return json.dumps(_scrub(report.model_dump(mode="json")), indent=2, ensure_ascii=False) + "\n"


def schema_json() -> str:
    return json.dumps(RunReport.model_json_schema(), indent=2) + "\n"


# --------------------------------------------------------------------------- docs/report-schema.md

def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _reachable(model: type[BaseModel], seen: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """`model` and every model its fields use, depth first in field order (each once)."""
    if model not in seen:
        seen.append(model)
        for field in model.model_fields.values():
            for sub in _models_in(field.annotation):
                _reachable(sub, seen)
    return seen


# Every model in report.json, documented in this order: RunReport, TargetResult, ..., Finding, Evidence, ...
DOC_MODELS: tuple[type[BaseModel], ...] = tuple(_reachable(RunReport, []))

# Where each model appears in the document (the line under its heading; default: the model's docstring).
MODEL_NOTES = {
    "RunReport": "The document (`report.json`).",
    "TargetResult": "`targets[]`: one server under test.",
    "CheckResult": "`checks[]`: one check under one protocol revision on one target.",
    "Finding": "`findings[]` (severity `low` and up) and `observations[]` (severity `info`).",
    "Evidence": "`findings[].evidence[]`: a slice of the wire log.",
    "Summary": "`summary`.",
    "ToolConstraints": "`targets[].constraints[]`: per tool, from the fuzz campaign, which schema constraints the server "
    "enforces.",
    "CorpusRef": "`targets[].corpus[]`: a corpus/ entry (a stored minimal failing input) of this target.",
    "GateResult": "`gate`: the deployment-readiness gate (docs/gate.md), a quality score and READY / NOT READY.",
    "Suppressed": "`suppressed[]`: a finding accepted by the baseline file, kept out of the exit code and the gate.",
    "BaselineStatus": "`baseline`: what the baseline (suppressions) file did in this run.",
    "DiffSummary": "`diff`: findings compared by stable id with an earlier report (`--fail-on-new OLD.json`).",
}

# Descriptions for the fields whose model gives none (a model description wins).
FIELD_NOTES = {
    "RunReport.schema_version": "version of this report format; bumped on incompatible changes",
    "RunReport.tool": "the tool that wrote the report: `name` and `version`",
    "RunReport.started_at": "when the run started (ISO 8601, seconds)",
    "RunReport.duration_s": "wall-clock duration of the whole run, in seconds",
    "RunReport.command": "the mcpcheck command line that produced the report",
    "RunReport.campaigns": "campaigns run, in order (conformance, fuzz, stateful, replay)",
    "RunReport.seed": "random seed for generated inputs, when one was given",
    "RunReport.fail_on": "lowest severity that makes the run fail (exit code 1)",
    "RunReport.exit_code": "0 = nothing at or above `fail_on`; 1 = findings at or above it; "
    "2 = a target could not be started or reached",
    "RunReport.targets": "one entry per server under test",
    "RunReport.checks": "one entry per (target, check, protocol revision): passed, failed or skipped",
    "RunReport.summary": "counts, for dashboards and badges",
    "TargetResult.name": "target name (from the config, or derived from the command / URL)",
    "TargetResult.transport": "`stdio`, `http` (Streamable HTTP) or `sse` (legacy HTTP+SSE)",
    "TargetResult.description": "the command line or the URL",
    "TargetResult.server_info": "`serverInfo` the server reported (name, version, ...)",
    "TargetResult.capabilities": "capabilities the server advertised",
    "TargetResult.tools": "names of the tools the server listed",
    "TargetResult.resources": "number of resources listed",
    "TargetResult.prompts": "number of prompts listed",
    "TargetResult.duration_s": "time spent on this target, in seconds",
    "TargetResult.stderr_tail": "last lines the server wrote to stderr (stdio)",
    "TargetResult.notes": "remarks from the campaigns (tools skipped for safety, replay results, ...)",
    "CheckResult.id": "stable check id (`mcpcheck list-checks`)",
    "CheckResult.category": "taxonomy category, e.g. `protocol.jsonrpc_shape`",
    "CheckResult.severity": "the check's default severity",
    "CheckResult.title": "what the check requires, in one line",
    "CheckResult.rule": "spec-digest rule id",
    "CheckResult.target": "target name",
    "CheckResult.revision": "protocol revision the check ran under",
    "CheckResult.status": "`passed`, `failed` (at least one finding or observation; `summary.checks_failed` counts only those with a finding) or `skipped`",
    "Finding.check": "id of the check that produced it",
    "Finding.category": "taxonomy category",
    "Finding.severity": "`info` (observation), `low`, `medium`, `high` or `critical`",
    "Finding.title": "the check's title",
    "Finding.detail": "what exactly was wrong, in one or two sentences",
    "Finding.target": "target name",
    "Finding.tool": "tool involved, if any",
    "Finding.evidence": "wire excerpts that show it (at most 8)",
    "Evidence.seq": "position in the wire log",
    "Evidence.t": "seconds since the session started",
    "Evidence.direction": "`out` (mcpcheck to server) or `in` (server to mcpcheck)",
    "Evidence.channel": "`stdin`, `stdout`, `stderr`, `http`, `sse` or `event` (not a message: exit, timeout)",
    "Evidence.raw": "exactly what crossed the wire (long entries truncated; secret-looking values masked as `***`, mcpcheck's canaries kept: conformance/redact.py)",
    "Evidence.http": "HTTP method, url, status and headers, for HTTP exchanges",
    "Evidence.note": "what the engine noted about the entry",
    "Summary.findings_by_severity": "number of findings per severity `low` .. `critical`",
    "Summary.observations": "number of observations (severity `info`)",
    "Summary.checks_run": "checks evaluated (not skipped)",
    "Summary.checks_passed": "checks that passed",
    "Summary.checks_failed": "checks with at least one finding (severity low and up; baseline-suppressed ones do not count)",
    "Summary.checks_observed": "checks that saw something, but only observations (severity info) or suppressed findings",
    "Summary.checks_skipped": "checks skipped (the reason is in `checks[].reason`)",
    "Summary.targets": "number of targets",
    "Summary.targets_unreachable": "targets that could not be started or reached",
}

_INTRO = """\
# mcpcheck report schema

<!-- Generated by `mcpcheck schema --format markdown > docs/report-schema.md`; do not edit by hand.
     tests/test_report_schema_doc.py fails when this file and the models drift apart. -->

`mcpcheck run` writes one canonical JSON document, `report.json`; `report.md` (Markdown),
`junit.xml` (JUnit XML), `mcpcheck.sarif` (SARIF 2.1.0) and `report.html` (one self-contained
page) are views of it, and `mcpcheck report report.json --format markdown|junit|sarif|html`
re-renders them from a saved file. `mcpcheck schema` prints the JSON Schema below.

Severity `info` results are *observations* (behaviour worth knowing that no spec rule forbids)
and are listed under `observations`; everything from `low` up is a *finding*, listed under
`findings` (most severe first). Severity order: `info` < `low` < `medium` < `high` < `critical`.

Exit codes: `0` no finding at or above `fail_on`; `1` at least one; `2` usage error, bad
configuration, or a target that could not be started or reached. Findings the baseline file
suppresses (`suppressed`) never count; with `--fail-on-new` only new findings (`diff.new`) count;
with the readiness gate enabled (`gate.enabled`, docs/gate.md) the exit code is `0` READY and
`1` NOT READY.
"""

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def type_name(annotation: Any) -> str:
    """A field's type for the doc tables: `string[]`, `integer | null`, `object of string`, ..."""
    if annotation is Any:
        return "any"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, (BaseModel, Enum)):
        return annotation.__name__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"{type_name(args[0])}[]"
    if origin is dict:
        return "object" if args[1] is Any else f"object of {type_name(args[1])}"
    raise TypeError(f"no doc name for the type {annotation!r}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_table(model: type[BaseModel]) -> str:
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        description = field.description or FIELD_NOTES.get(f"{model.__name__}.{name}", "")
        required = "yes" if field.is_required() else "no"
        rows.append(f"| `{name}` | {_cell(type_name(field.annotation))} | {required} | {_cell(description)} |")
    return "\n".join(rows) + "\n"


def render_schema_doc() -> str:
    parts = [_INTRO]
    for model in DOC_MODELS:
        note = MODEL_NOTES.get(model.__name__) or (model.__doc__ or "").strip().split("\n\n")[0]
        parts.append(f"## {model.__name__}\n\n" + (f"{note}\n\n" if note else "") + model_table(model))
    parts.append(f"## JSON Schema\n\n```json\n{schema_json()}```\n")
    return "\n".join(parts)

"""The two generators behind ``plan_valid`` (and behind every mutant in mutations.py).

* hypothesis-jsonschema (``from_schema``): the mandated generator for the draft-04..07 keyword
  set. It *ignores* 2019-09/2020-12 keywords (so its output may violate them) and raises on
  recursive ``$ref`` (library-notes 1.2), which is why inputs.py only hands it schemas without
  those keywords.
* schemathesis (``as_strategy``): its own JSON Schema generator handles prefixItems,
  unevaluated*, dependent*, min/maxContains and recursion. Reached through public API only: the
  tool schema becomes the request body of a fake ``POST /tool`` in an OpenAPI 3.1 document. The
  whole schema is stored as one component and every local ``$ref`` is rewritten to point into
  it, so ``#``, ``#/$defs/x`` and ``#/properties/a`` references all keep resolving (library-notes
  3.5 moved ``$defs`` instead; that breaks refs to the root).

Neither generator is trusted: callers filter every draw through the real validator.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.errors import NoSuchExample

from .formats import GENERATORS
from .keywords import subschemas

HJS = "hypothesis-jsonschema"
SCHEMATHESIS = "schemathesis"
APPROXIMATE = "approximate"

# Exceptions a generator may raise while drawing when it cannot handle a schema. Hypothesis'
# own control-flow exceptions (StopTest, Frozen, UnsatisfiedAssumption) are not in this list.
try:  # pragma: no cover - import shape differs between versions
    from hypothesis_jsonschema._canonicalise import HypothesisRefResolutionError as _RefErr
except Exception:  # noqa: BLE001
    _RefErr = RuntimeError  # type: ignore[misc,assignment]


def generator_errors() -> tuple[type[BaseException], ...]:
    import re

    from hypothesis.errors import InvalidArgument, Unsatisfiable

    errs: list[type[BaseException]] = [InvalidArgument, Unsatisfiable, _RefErr, re.error, RecursionError, KeyError, ValueError]
    try:
        from schemathesis.core.errors import InvalidSchema, UnsatisfiableSchema

        errs += [UnsatisfiableSchema, InvalidSchema]
    except Exception:  # noqa: BLE001 - older/newer schemathesis layouts
        pass
    return tuple(errs)


# keywords a closed object schema may carry and still be generated key by key
_FLAT_OBJECT_KEYS = {"type", "properties", "required", "additionalProperties", "title", "description", "default", "examples", "$comment"}


def hjs_strategy(schema: Any) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema on an already ref-inlined, draft-04..07-compatible schema."""
    from hypothesis_jsonschema import from_schema

    s = copy.deepcopy(schema)
    if isinstance(s, dict):
        s.pop("$schema", None)  # semantics already normalised by refs.py; avoid meta re-checks
    flat = _closed_object(s)
    if flat is not None:
        return flat
    return from_schema(s, custom_formats=dict(GENERATORS))


def _closed_object(s: Any) -> st.SearchStrategy[Any] | None:
    """A closed object schema (declared properties only, no count or name constraints) as
    `st.fixed_dictionaries`, each property's strategy built once. hypothesis-jsonschema re-derives
    an object's key plan on every draw (about 3 ms for a typical tool schema, more than the tool
    call itself); this is the same set of instances, drawn several times faster. The plan's
    validity oracle still filters every draw."""
    if not (isinstance(s, dict) and s.get("type") == "object" and s.get("additionalProperties") is False and set(s) <= _FLAT_OBJECT_KEYS):
        return None
    props = s.get("properties") or {}
    required = s.get("required") or []
    if not isinstance(props, dict) or not isinstance(required, list) or not set(required) <= set(props):
        return None
    if any(not isinstance(v, (dict, bool)) for v in props.values()):
        return None
    each = {k: (st.nothing() if v is False else hjs_strategy(v if isinstance(v, dict) else {})) for k, v in props.items()}
    if any(each[k].is_empty for k in required):
        return None
    return st.fixed_dictionaries(
        {k: each[k] for k in required},
        optional={k: v for k, v in each.items() if k not in required and v is not False and props[k] is not False},
    )


# ---------------------------------------------------------------- schemathesis


def to_2020_12(schema: Any) -> Any:
    """Rewrite draft-04..07 spellings into 2020-12 ones, for a generator that speaks 2020-12.

    ``items: [..]`` -> ``prefixItems``, ``additionalItems`` -> ``items``, ``dependencies`` ->
    ``dependentRequired``/``dependentSchemas``, boolean ``exclusiveMinimum/Maximum`` (draft-04)
    -> numeric, ``definitions`` refs stay valid because the document keeps both names.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "items" and isinstance(value, list):
            out["prefixItems"] = list(value)
            if "additionalItems" in schema:
                out["items"] = schema["additionalItems"]
        elif key == "additionalItems":
            if not isinstance(schema.get("items"), list):
                continue  # ignored unless items is a tuple
        elif key == "dependencies" and isinstance(value, dict):
            req = {k: v for k, v in value.items() if isinstance(v, list)}
            sch = {k: v for k, v in value.items() if isinstance(v, (dict, bool))}
            if req:
                out["dependentRequired"] = req
            if sch:
                out["dependentSchemas"] = sch
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in schema:
                out[key] = schema[bound]
        elif key in ("minimum", "maximum") and schema.get("exclusive" + key.capitalize()) is True:
            continue
        elif key == "$schema":
            continue
        else:
            out[key] = value
    for rel, sub in list(subschemas(out)):
        _set(out, rel, to_2020_12(sub))
    return out


def _set(node: dict[str, Any], rel: tuple[str | int, ...], value: Any) -> None:
    cur: Any = node
    for t in rel[:-1]:
        cur = cur[t]
    cur[rel[-1]] = value


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (prefix + v[1:] if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite_refs(v, prefix))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def tool_to_openapi(schema: Any, name: str = "tool") -> dict[str, Any]:
    """An OpenAPI 3.1 document whose only operation's JSON body is ``schema``."""
    component = _rewrite_refs(schema, f"#/components/schemas/{name}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "mcpcheck tool arguments", "version": "0"},
        "paths": {
            f"/{name}": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": {name: component}},
    }


def schemathesis_strategy(schema: Any, *, legacy: bool = False) -> st.SearchStrategy[Any]:
    """schemathesis' positive generator for ``schema`` (draft-07 spellings converted first)."""
    import schemathesis
    from schemathesis import GenerationMode

    body = to_2020_12(schema) if legacy else copy.deepcopy(schema)
    if isinstance(body, dict):
        body.pop("$schema", None)
    if body is True:
        body = {}
    operation = schemathesis.openapi.from_dict(tool_to_openapi(body))["/tool"]["POST"]
    # Note: importing schemathesis runs its setup(), which replaces Hypothesis' failure printer
    # process-wide (falsifying examples print as "x=,"). Left alone here: this package stays
    # free of global patches; see the pytest option -p no:schemathesis.
    cases = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    return cases.map(lambda case: case.body)


# ---------------------------------------------------------------- probing


PROBE_SETTINGS = settings(
    database=None,
    max_examples=15,
    phases=[Phase.generate],
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def probe(strategy: st.SearchStrategy[Any], accept: Any) -> str | None:
    """Draw until one value passes ``accept``. None = fine; else why the engine is unusable.

    Needed because both generators fail lazily, at draw time (hypothesis-jsonschema wraps its
    build errors in a strategy that raises when drawn). Uses the public ``find``, which may not
    run inside a test (nested @given); there the probe is skipped and reported as such.
    """
    if currently_in_test_context():
        return None
    try:
        find(strategy, accept, settings=PROBE_SETTINGS)
    except NoSuchExample:
        return f"no valid value in {PROBE_SETTINGS.max_examples} probe draws"
    except Exception as exc:  # noqa: BLE001 - any generator failure disqualifies the engine
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {text[:200]}"
    return None


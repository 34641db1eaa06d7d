"""mcpcheck strategies: JSON Schema in, Hypothesis strategies out. Pure: no I/O, no network.

Modules, by what they hold:

* ``dialect``    which JSON Schema dialect judges a tool schema; the offline validator (oracle)
* ``formats``    format checkers/generators the libraries lack; near-miss bad examples
* ``refs``       offline ``$ref`` inlining, recursion detection
* ``keywords``   sub-schema positions, keyword scans, type inference
* ``closing``    ``additionalProperties: false`` where provably safe (valid campaign)
* ``engines``    hypothesis-jsonschema / schemathesis wrappers and the engine probe
* ``inputs``     ``plan_valid`` / ``valid``: valid arguments, engine choice explained
* ``mutations``  ``invalid`` / ``mutation_targets``: labelled invalid arguments
* ``payloads``   hostile payload families with canaries and execution markers
* ``injected``   valid arguments carrying payloads in string fields
* ``jsonrpc``    malformed JSON-RPC envelopes labelled with the required answer
"""

from __future__ import annotations

from .dialect import default_dialect, errors, is_valid, make_validator, validator_for
from .errors import UnresolvableRef, UnsupportedDialect, UnsupportedSchema
from .injected import InjectedCase, Injection, InjectionPoint, injected, injection_points
from .inputs import ValidPlan, plan_valid, simplest, valid
from .inputs import clear_cache as _clear_plans
from .jsonrpc import RawMessage, malformed_envelopes
from .mutations import KINDS as INVALID_KINDS
from .mutations import clear_cache as _clear_mutations
from .mutations import InvalidCase, MutationTarget, invalid, mutation_targets, sweep_case
from .payloads import (
    CANARY_RE,
    DEFAULT_FAMILIES,
    FAMILIES,
    Payload,
    PayloadTemplate,
    canary,
    make_canary,
    oversized_payloads,
    path_payloads,
    payloads,
    render_all,
    shell_payloads,
    sql_payloads,
    ssrf_payloads,
    template_payloads,
    templates,
    unicode_payloads,
)



def clear_caches() -> None:
    """Forget every built plan, mutation target and mutant strategy (long-lived processes)."""
    _clear_plans()
    _clear_mutations()


__all__ = [
    "simplest",
    "sweep_case",
    "CANARY_RE",
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "INVALID_KINDS",
    "InjectedCase",
    "Injection",
    "InjectionPoint",
    "InvalidCase",
    "MutationTarget",
    "Payload",
    "PayloadTemplate",
    "RawMessage",
    "UnresolvableRef",
    "UnsupportedDialect",
    "UnsupportedSchema",
    "ValidPlan",
    "canary",
    "clear_caches",
    "default_dialect",
    "errors",
    "injected",
    "injection_points",
    "invalid",
    "is_valid",
    "make_canary",
    "make_validator",
    "malformed_envelopes",
    "mutation_targets",
    "oversized_payloads",
    "path_payloads",
    "payloads",
    "plan_valid",
    "render_all",
    "shell_payloads",
    "sql_payloads",
    "ssrf_payloads",
    "template_payloads",
    "templates",
    "unicode_payloads",
    "valid",
    "validator_for",
]

"""Every response under load is still judged: ids, shape, isError, and a known answer.

Pure functions over an `Exchange` (no I/O), shared by the load engine and the Locust user.

* A response matched only by coercing the id type, a result that is not a CallToolResult, or an
  answer that is the stable answer of ANOTHER input (seen twice for it before the run) instead
  of this input's own are mix-ups: under concurrency the server (or a proxy) delivered someone
  else's response.
* Errors are classified (tool_error = isError result, rpc_error = JSON-RPC error, timeout,
  transport) and marked *load-induced* unless the same input already failed the same way when
  called alone before the run.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .pool import PoolItem


def normalize(result: Any) -> str:
    """A result's comparable form: canonical JSON without `_meta` (per-response metadata)."""
    if isinstance(result, dict) and "_meta" in result:
        result = {k: v for k, v in result.items() if k != "_meta"}
    return json.dumps(result, sort_keys=True, separators=(",", ":"), default=str)


def judge(
    ex: Any,
    item: PoolItem,
    validate_output: Callable[[Any], bool] | None = None,
    owners: dict[str, PoolItem] | None = None,
) -> tuple[str, str | None]:
    """(outcome, problem). outcome is one of metrics.OUTCOMES; problem explains a mix-up.

    `owners` maps each reference answer to the input that gets it: an answer that differs from
    the input's own reference AND is another input's reference was delivered to the wrong
    request. (A merely different answer is not called a mix-up: state may have changed.)"""
    if ex.transport_error is not None:
        return "transport", None
    if ex.timed_out or ex.response is None:
        return "timeout", None
    if ex.loose_id_match:
        sent = ex.request.get("id") if isinstance(ex.request, dict) else None
        got = ex.response.get("id")
        return "mixup", f"the response to request id {sent!r} carried id {got!r} (another type)"
    resp = ex.response
    if "error" in resp:
        if "result" in resp:
            return "mixup", "the response carries both result and error"
        return "rpc_error", None
    result = resp.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("content"), list):
        return "mixup", (
            f"tools/call {item.tool!r} got a result that is not a CallToolResult "
            f"(no content list): {json.dumps(result, default=str)[:200]}"
        )
    if item.has_reference and owners:
        bare = result if "_meta" not in result else {k: v for k, v in result.items() if k != "_meta"}
        if bare != item.reference_value:  # dict equality: cheap; serialize only on a mismatch
            got = normalize(result)
            owner = owners.get(got)
            if owner is not None and owner is not item:
                return "mixup", (
                    f"tools/call {item.tool!r} with {json.dumps(item.args, default=str)[:200]} was answered, under "
                    f"load, with what {owner.tool!r} with {json.dumps(owner.args, default=str)[:200]} gets "
                    f"({got[:300]}); called alone (twice) it answered {str(item.reference)[:300]}"
                )
    if result.get("isError") is True:
        return "tool_error", None
    if validate_output is not None and "structuredContent" in result and item.calib_outcome == "ok":
        if not validate_output(result.get("structuredContent")):
            return "mixup", (
                f"tools/call {item.tool!r}: structuredContent does not match the tool's outputSchema under "
                f"load (it did when the same input was called alone): {json.dumps(result.get('structuredContent'), default=str)[:200]}"
            )
    return "ok", None


def is_load_error(outcome: str, item: PoolItem) -> bool:
    """Errors the same input did not produce when called alone count against the server's
    behaviour under load; timeouts, transport failures and dropped calls always do. Mix-ups are
    counted apart (they are protocol.concurrency findings, not load errors)."""
    if outcome in ("ok", "mixup"):
        return False
    if outcome in ("tool_error", "rpc_error"):
        return item.calib_outcome != outcome
    return True

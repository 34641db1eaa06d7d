"""A hand-written stdio JSON-RPC server (handshake era only, no SDK) that answers malformed
envelopes by the book except for ONE wrong error code, which it gives to every message that is
JSON but not a valid request: -32603 "Internal error" instead of -32600 (or -32700, J6 allows
either). One root cause, many messages: the envelope campaign must report it as one finding
listing the others as instances.

  argv[1] (optional): the code for unknown methods (default -32601; mcp 1.x answers -32602),
  a second root cause, owned by errors.unknown_method (conformance and envelope campaigns).

  not JSON            -> -32700, id null
  not a request       -> -32603 (the defect), id echoed when readable
  unknown method      -> argv[1] or -32601
  params not object   -> -32602
  notifications       -> never answered
"""

import sys

from stdio_rpc import error, messages, readable_id, send

UNKNOWN_METHOD_CODE = int(sys.argv[1]) if len(sys.argv) > 1 else -32601


for msg in messages():  # not JSON, or not UTF-8: -32700 (stdio_rpc)
    if isinstance(msg, list):
        error(None, -32600, "Invalid Request: batches are not supported")
        continue
    if not isinstance(msg, dict):
        error(None, -32603, "Internal error")  # the defect
        continue
    if "method" not in msg and ("result" in msg or "error" in msg):
        continue  # a response to nothing we asked: ignore
    if msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str) or ("id" in msg and readable_id(msg) is None):
        error(readable_id(msg), -32603, "Internal error")  # the defect
        continue
    method, rid = msg["method"], msg.get("id")
    if "id" not in msg:
        continue  # notifications are never answered
    if "params" in msg and not isinstance(msg["params"], dict):
        error(rid, -32602, "Invalid params: params must be an object")
    elif method == "initialize":
        version = (msg.get("params") or {}).get("protocolVersion", "2025-11-25")
        if version not in ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"):
            version = "2025-11-25"
        send({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": version, "capabilities": {}, "serverInfo": {"name": "envelope-wrong-code", "version": "0"}}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": rid, "result": {}})
    else:
        error(rid, UNKNOWN_METHOD_CODE, f"Method not found: {method}")

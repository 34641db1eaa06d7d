"""A hand-written stdio JSON-RPC server (handshake era only, no SDK) that answers malformed
envelopes by the book, except one: a request whose id is an object or an array crashes it
(it keys a dict by the id: TypeError, unhandled, exit 1). The envelope campaign must find that
and shrink it to the smallest such message; everything else it sends is answered correctly.

  not JSON            -> -32700, id null
  not a request       -> -32600 (id echoed when readable)
  unknown method      -> -32601
  params not object   -> -32602
  notifications       -> never answered
"""

from stdio_rpc import error, messages, readable_id, send

in_flight = {}


for msg in messages():  # not JSON, or not UTF-8: -32700 (stdio_rpc)
    if not isinstance(msg, dict):
        error(None, -32600, "Invalid Request")
        continue
    if "method" not in msg and ("result" in msg or "error" in msg):
        continue  # a response to nothing we asked: ignore
    if "id" in msg:
        in_flight[msg["id"]] = msg  # BUG: an object or array id is unhashable -> TypeError -> the process dies
    if msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str) or ("id" in msg and readable_id(msg) is None):
        error(readable_id(msg), -32600, "Invalid Request")
        continue
    method, rid = msg["method"], msg.get("id")
    if "id" not in msg:
        continue  # notifications are never answered
    in_flight.pop(rid, None)
    if "params" in msg and not isinstance(msg["params"], dict):
        error(rid, -32602, "Invalid params: params must be an object")
    elif method == "initialize":
        version = (msg.get("params") or {}).get("protocolVersion", "2025-11-25")
        send({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "envelope-crash", "version": "0"}}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": rid, "result": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": rid, "result": {"tools": []}})
    else:
        error(rid, -32601, f"Method not found: {method}")

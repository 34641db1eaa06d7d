"""A raw stdio JSON-RPC peer whose behaviour is chosen by argv[1]:

  echo       answer every request with {"result": {"echo": <method>}} (and initialize properly)
  hang       never answer anything
  die        exit(7) on the first request after initialize
  reverse    collect 5 requests, then answer them in reverse order
  late       answer each request after 0.2 s, from a thread (overlapping)
  mute       answer initialize (handshake era), then never answer anything else
  garbage    print two lines that are not JSON-RPC (stdout and stderr) and exit 3 at once
"""

import json
import sys
import threading
import time

mode = sys.argv[1]
if mode == "garbage":
    print("Welcome to my server v1.2 (not JSON-RPC)", flush=True)
    print("error: config file missing", file=sys.stderr, flush=True)
    sys.exit(3)
pending = []
lock = threading.Lock()


def send(msg):
    with lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


def answer(msg):
    if msg.get("method") == "initialize":
        return {"jsonrpc": "2.0", "id": msg["id"], "result": {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {}, "serverInfo": {"name": "scripted", "version": "0"}}}
    return {"jsonrpc": "2.0", "id": msg["id"], "result": {"echo": msg.get("method")}}


initialized = False
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    if mode == "hang" or (mode == "mute" and msg.get("method") != "initialize"):
        continue
    if mode == "die" and initialized:
        sys.exit(7)
    if msg.get("method") == "initialize":
        initialized = True
        send(answer(msg))
        continue
    if mode == "reverse":
        pending.append(msg)
        if len(pending) == 5:
            for m in reversed(pending):
                send(answer(m))
            pending.clear()
    elif mode == "late":
        threading.Timer(0.2, send, args=(answer(msg),)).start()
    else:
        send(answer(msg))

#!/usr/bin/env python3
"""A Singer target that emits the states it receives, then writes `line_mb` MB to stdout without
a newline (a runaway line) and waits to be stopped.

Config keys: line_mb (default 400), marker (ignored).
"""
import json
import sys
import time

args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
for line in sys.stdin:
    msg = json.loads(line)
    if msg["type"] == "STATE":
        print(json.dumps(msg["value"]), flush=True)
chunk = b"x" * (1024 * 1024)
out = sys.stdout.buffer
for _ in range(int(config.get("line_mb", 400))):
    out.write(chunk)
out.flush()
time.sleep(60)

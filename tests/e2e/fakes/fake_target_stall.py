#!/usr/bin/env python3
"""A Singer target that emits the states it receives, notes each one in a side file, and after
`stall_after` states stops reading and sleeps (a target stuck in a slow load).

Config keys: emitted (path of the side file: one JSON state per line, written after the state
reached stdout), stall_after (default 3), marker (ignored).
"""
import json
import sys
import time

args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
emitted = open(config["emitted"], "a")
stall_after = int(config.get("stall_after", 3))
states = 0
for line in sys.stdin:
    msg = json.loads(line)
    if msg["type"] != "STATE":
        continue
    print(json.dumps(msg["value"]), flush=True)
    emitted.write(json.dumps(msg["value"]) + "\n")
    emitted.flush()
    states += 1
    if states >= stall_after:
        time.sleep(3600)

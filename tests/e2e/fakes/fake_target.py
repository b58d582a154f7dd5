#!/usr/bin/env python3
"""A Singer target that misbehaves on purpose (the fault is the subject of the test).

Config keys: mode: ok (emit each state after the records before it) | crash_after
(exit 2 after `records` records, having emitted the states before) | never_read
(sleep `sleep` seconds without reading, then exit 1) | bad_state (print a non-JSON
line before each state) | count (read everything, emit {"bytes": N, "lines": M}) |
echo_config (emit its own config as the state).
"""
import json
import sys
import time

args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
mode = config.get("mode", "ok")
if mode == "echo_config":  # print the config it was given, as if it were a state
    sys.stdin.read()
    print(json.dumps(config), flush=True)
    sys.exit(0)
if mode == "never_read":
    time.sleep(float(config.get("sleep", 2)))
    sys.stderr.write("fake-target: giving up without reading\n")
    sys.exit(1)
if mode == "count":
    size = lines = 0
    for line in sys.stdin.buffer:
        size += len(line)
        lines += 1
    print(json.dumps({"bytes": size, "lines": lines}), flush=True)
    sys.exit(0)
records = 0
limit = int(config.get("records", 10**9))
for line in sys.stdin:
    msg = json.loads(line)
    if msg["type"] == "RECORD":
        records += 1
        if mode == "crash_after" and records > limit:
            sys.stderr.write("fake-target: crashing on purpose\n")
            sys.exit(2)
    elif msg["type"] == "STATE":
        if mode == "bad_state":
            print("this is not json", flush=True)
        print(json.dumps(msg["value"]), flush=True)

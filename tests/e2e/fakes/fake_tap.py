#!/usr/bin/env python3
"""A Singer tap that misbehaves on purpose (the fault is the subject of the test).

Config keys: records (how many), state_every, mode: ok | crash (exit 3 after
`records`) | malformed (a non-JSON line after `records`) | slow (sleep between
records) | huge (one record of `huge_mb` MB), marker (ignored: tags the command line).
"""
import json
import sys
import time

args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
state = json.load(open(args[args.index("--state") + 1])) if "--state" in args else {}
mode = config.get("mode", "ok")
n = int(config.get("records", 10))
every = int(config.get("state_every", 5))
start = int(state.get("bookmarks", {}).get("things", {}).get("id", 0))
out = sys.stdout
out.write(json.dumps({"type": "SCHEMA", "stream": "things", "key_properties": ["id"],
                      "schema": {"type": "object", "properties": {"id": {"type": "integer"},
                                                                   "v": {"type": "string"}}}}) + "\n")
if mode == "huge":
    out.write(json.dumps({"type": "RECORD", "stream": "things",
                          "record": {"id": 1, "v": "x" * (int(config.get("huge_mb", 200)) * 1024 * 1024)}}) + "\n")
    out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"things": {"id": 1}}}}) + "\n")
    sys.exit(0)
for i in range(start + 1, start + n + 1):
    out.write(json.dumps({"type": "RECORD", "stream": "things", "record": {"id": i, "v": f"row {i}"}}) + "\n")
    if i % every == 0:
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"things": {"id": i}}}}) + "\n")
    if mode == "slow":
        out.flush()
        # the Singer SDK's record counter, as a tap logs it (the host's progress line counts it)
        sys.stderr.write('fake-tap: info: METRIC: {"type":"counter","metric":"record_count","value":1,'
                         '"tags":{"stream":"things"}}\n')
        sys.stderr.flush()
        time.sleep(0.2)
out.flush()
if mode == "crash":
    sys.stderr.write("fake-tap: boom, crashing on purpose\n")
    sys.exit(3)
if mode == "malformed":
    out.write("this is {not json\n")
    out.flush()
out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"things": {"id": start + n}}}}) + "\n")

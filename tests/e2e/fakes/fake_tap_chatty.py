#!/usr/bin/env python3
"""A Singer tap that logs `lines` lines of about 100 bytes on stderr, then emits one record and
its state.

Config keys: lines (default 5000), marker (ignored).
"""
import json
import sys

args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
for i in range(int(config.get("lines", 5000))):
    sys.stderr.write(f"chatty line {i:06d} " + "." * 80 + "\n")
sys.stderr.flush()
print(json.dumps({"type": "SCHEMA", "stream": "things", "key_properties": ["id"],
                  "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}))
print(json.dumps({"type": "RECORD", "stream": "things", "record": {"id": 1}}))
print(json.dumps({"type": "STATE", "value": {"bookmarks": {"things": {"id": 1}}}}), flush=True)

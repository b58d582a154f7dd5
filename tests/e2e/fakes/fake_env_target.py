#!/usr/bin/env python3
"""A Singer target that writes the environment it was given to $ENVDUMP_DIR/target.json, reads its
input and emits the last state it saw."""
import json
import os
import sys

with open(os.path.join(os.environ["ENVDUMP_DIR"], "target.json"), "w") as f:
    json.dump(dict(os.environ), f, indent=1, sort_keys=True)
state = None
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("type") == "STATE":
        state = msg["value"]
print("fake-env-target: done", file=sys.stderr, flush=True)
if state is not None:
    print(json.dumps(state), flush=True)

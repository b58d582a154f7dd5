#!/usr/bin/env python3
"""A Singer target that writes the environment it was given (and the text of the logging
configuration files it names, as "file:<VAR>") to $ENVDUMP_DIR/target.json, reads its input and
emits the last state it saw."""
import json
import os
import sys

# the logging configurations it was pointed to, read now (smelt removes them after the run)
files = {}
for var in ("SINGER_SDK_LOG_CONFIG", "LOGGING_CONF_FILE"):
    if os.path.isfile(os.environ.get(var, "")):
        with open(os.environ[var]) as f:
            files[f"file:{var}"] = f.read()
with open(os.path.join(os.environ["ENVDUMP_DIR"], "target.json"), "w") as f:
    json.dump({**os.environ, **files}, f, indent=1, sort_keys=True)
state = None
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("type") == "STATE":
        state = msg["value"]
print("fake-env-target: done", file=sys.stderr, flush=True)
if state is not None:
    print(json.dumps(state), flush=True)

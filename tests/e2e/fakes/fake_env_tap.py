#!/usr/bin/env python3
"""A Singer tap that writes the environment it was given (and the text of the logging configuration
files it names, as "file:<VAR>") to $ENVDUMP_DIR/tap-<mode>.json (mode: discover or sync), then
behaves: one stream `things` with two records and a state.  With ENVDUMP_LEAK set it first prints
its password on stderr, as a careless tap would."""
import json
import os
import sys

args = sys.argv[1:]
mode = "discover" if "--discover" in args else "sync"
# the logging configurations it was pointed to, read now (smelt removes them after the run)
files = {}
for var in ("SINGER_SDK_LOG_CONFIG", "LOGGING_CONF_FILE"):
    if os.path.isfile(os.environ.get(var, "")):
        with open(os.environ[var]) as f:
            files[f"file:{var}"] = f.read()
with open(os.path.join(os.environ["ENVDUMP_DIR"], f"tap-{mode}.json"), "w") as f:
    json.dump({**os.environ, **files}, f, indent=1, sort_keys=True)
if os.environ.get("ENVDUMP_LEAK"):  # a careless tap: its secret on stderr (smelt must scrub it)
    print(f"fake-env-tap: {mode} with password {os.environ.get('TAP_ENVDUMP_PASSWORD')}", file=sys.stderr, flush=True)
schema = {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"}}}
if mode == "discover":
    json.dump({"streams": [{"tap_stream_id": "things", "stream": "things", "schema": schema,
                            "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "available",
                                                                         "selected-by-default": True}},
                                         {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
                                         {"breadcrumb": ["properties", "v"], "metadata": {"inclusion": "available"}}]}]},
              sys.stdout)
    sys.exit(0)
print("fake-env-tap: starting sync", file=sys.stderr, flush=True)
out = [{"type": "SCHEMA", "stream": "things", "key_properties": ["id"], "schema": schema},
       {"type": "RECORD", "stream": "things", "record": {"id": 1, "v": "a"}},
       {"type": "RECORD", "stream": "things", "record": {"id": 2, "v": "b"}},
       {"type": "STATE", "value": {"bookmarks": {"things": {"id": 2}}}}]
for msg in out:
    print(json.dumps(msg))

#!/bin/sh
# Prepares the venv the e2e tests run in: pytest, PyYAML (the loopback hub
# serves tests/fixtures/hub's YAML as JSON) and uv (smelt's installer uses uv when
# it is on PATH, which makes the tools' installs several times faster),
# websocket-client (Chromium's DevTools protocol), jsonschema (test_serve and the
# OpenLineage events of test_lineage), openlineage-python (test_lineage) and
# schemathesis (test_api_schema).
set -eu
venv=$1
python=${2:-python3}
want="pytest pyyaml uv websocket-client openlineage-python jsonschema schemathesis"
if [ ! -x "$venv/bin/python" ]; then
	"$python" -m venv "$venv"
fi
missing=""
for p in $want; do
	"$venv/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	"$venv/bin/python" -m pip install -q --disable-pip-version-check $missing
fi

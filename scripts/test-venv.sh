#!/bin/sh
# Prepares the venv the e2e tests run in (pytest and the tests' own helpers).
set -eu
venv=$1
python=${2:-python3}
if [ ! -x "$venv/bin/pytest" ]; then
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install -q --disable-pip-version-check pytest
fi

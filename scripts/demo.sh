#!/bin/sh
# make demo: the main job on the embedded default.  Grows with the project;
# for now it shows the adapters this build loads.
set -eu
smelt=$1
"$smelt" --version
"$smelt" adapters list

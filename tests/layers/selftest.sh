#!/bin/sh
# selftest.sh - scripts/check-layers.sh fails on each kind of broken
# include graph and passes on a clean one (ctest layers.selftest).
#
#   tests/layers/selftest.sh path/to/check-layers.sh
set -eu

check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tree NAME: an empty host/src-like tree with every layer folder
tree() {
	for d in util store project settings hub install adapters run cli; do
		mkdir -p "$tmp/$1/$d"
	done
	printf '#include "cli/cli.h"\n' >"$tmp/$1/main.c"
}

# expect_fail NAME TEXT: the check fails on tree NAME and says TEXT
expect_fail() {
	if out=$(sh "$check" "$tmp/$1" 2>&1); then
		echo "FAIL: check-layers passed on $1:"
		echo "$out"
		exit 1
	fi
	case $out in
	*"$2"*) echo "ok: $1" ;;
	*)
		echo "FAIL: check-layers on $1 does not say '$2':"
		echo "$out"
		exit 1
		;;
	esac
}

tree clean
printf '#include "project/project.h"\n#include "util/log.h"\n#include <stdio.h>\n' >"$tmp/clean/run/a.c"
printf '#include "store/store.h"\n' >"$tmp/clean/settings/a.h"
out=$(sh "$check" "$tmp/clean") || { echo "FAIL: check-layers failed on a clean tree:"; echo "$out"; exit 1; }
echo "ok: clean ($out)"

tree model_knows_cli
printf '#include "util/log.h"\n#include "cli/cli.h"\n' >"$tmp/model_knows_cli/project/a.c"
expect_fail model_knows_cli 'project/a.c:2: project/ includes cli/'

tree util_up
printf '#include "store/store.h"\n' >"$tmp/util_up/util/a.h"
expect_fail util_up 'util/a.h:1: util/ includes store/'

tree upward
printf '#  include "run/proc.h"\n' >"$tmp/upward/store/a.c"
expect_fail upward 'store/a.c:1: store/ includes run/, a higher layer'

tree cycle
printf '#include "settings/settings.h"\n' >"$tmp/cycle/store/a.c"
printf '#include "store/store.h"\n' >"$tmp/cycle/settings/b.c"
expect_fail cycle 'cycles in the include graph'

tree unknown
mkdir -p "$tmp/unknown/extra"
printf '#include "util/log.h"\n' >"$tmp/unknown/extra/a.c"
expect_fail unknown "folder 'extra' is not in the layer list"

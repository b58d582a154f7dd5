#!/bin/sh
# check-layers.sh - the include graph between the folders of host/src follows
# host/LAYERS.md: every `#include "folder/..."` from one folder of host/src to
# another goes down the layer list below, so the graph has no cycle.
#
#   scripts/check-layers.sh [host/src]
#
# Prints each forbidden include (file:line and the rule it breaks) and any
# cycle between folders, and exits 1; exits 0 when the graph is clean.
# Run by ctest as `layers.include_graph`.
set -eu

src=${1:-$(dirname "$0")/../host/src}
[ -d "$src" ] || { echo "check-layers: no folder '$src'" >&2; exit 2; }
cd "$src"

# The layers, lowest first (host/LAYERS.md).  A folder may include its own
# files and the folders of lower layers only.  `main` is host/src/main.c.
LAYERS="util store project settings hub install adapters run serve cli main"

rank() {
	i=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# file line from to, one per cross-folder include (quoted includes only:
# <...> names system and SDK headers)
find . -name '*.[ch]' | sort | while IFS= read -r f; do
	f=${f#./}
	case $f in
	*/*) from=${f%%/*} ;;
	*) from=main ;;
	esac
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]*/' "$f" |
		sed 's/^\([0-9]*\):[^"]*"\([^"/]*\)\/.*/\1 \2/' |
		while read -r line to; do
			[ -d "$to" ] || continue
			[ "$to" = "$from" ] || echo "$f $line $from $to"
		done
done >"$edges"

status=0
while read -r f line from to; do
	rf=$(rank "$from")
	rt=$(rank "$to")
	if [ "$rf" -lt 0 ]; then
		echo "$f: folder '$from' is not in the layer list of scripts/check-layers.sh (host/LAYERS.md)"
		status=1
	elif [ "$rt" -lt 0 ]; then
		echo "$f:$line: folder '$to' is not in the layer list of scripts/check-layers.sh (host/LAYERS.md)"
		status=1
	elif [ "$to" = cli ] && [ "$from" != main ]; then
		echo "$f:$line: $from/ includes cli/: only main.c and cli/ know the command line"
		status=1
	elif [ "$from" = util ]; then
		echo "$f:$line: util/ includes $to/: util/ depends on nothing else of host/src"
		status=1
	elif [ "$rt" -ge "$rf" ]; then
		echo "$f:$line: $from/ includes $to/, a higher layer (lowest first: $LAYERS)"
		status=1
	fi
done <"$edges"

# Cycles between folders (each also breaks the order above; named here so
# the loop is plain to see).
cycles=$(awk '{ print $3, $4 }' "$edges" | sort -u | tsort 2>&1 >/dev/null |
	awk '/input contains a loop/ { if (c != "") print c; c = ""; next }
	     { sub(/^tsort: /, ""); c = c == "" ? $0 : c " -> " $0 }
	     END { if (c != "") print c }' || true)
if [ -n "$cycles" ]; then
	echo "cycles in the include graph between folders of host/src:"
	echo "$cycles" | sed 's/^/  /'
	status=1
fi

if [ $status -eq 0 ]; then
	echo "include graph of host/src: $(awk '{ print $3, $4 }' "$edges" | sort -u | wc -l | tr -d ' ') edges between folders, all downward, no cycle"
fi
exit $status

#!/bin/sh
# make fuzz: build every harness of tests/fuzz with clang's libFuzzer (plus
# ASan and UBSan) and run each for FUZZ_SECONDS (default 60) on a copy of its
# seed corpus.  Crashes are left as crash-* files in build-fuzz/tests/fuzz/.
set -eu
seconds=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "fuzz: clang is missing: apt-get install clang" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DSMELT_LIBFUZZER=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
status=0
for harness in build-fuzz/tests/fuzz/fuzz_*; do
	name=$(basename "$harness")
	corpus=build-fuzz/tests/fuzz/corpus-$name
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	echo "== $name ($seconds s)"
	(cd build-fuzz/tests/fuzz && ./"$name" -max_total_time="$seconds" -print_final_stats=1 "corpus-$name") 2>&1 |
		grep -E "stat::number_of_executed_units|ERROR|Done" || true
	[ -z "$(ls build-fuzz/tests/fuzz/crash-* 2>/dev/null)" ] || status=1
done
exit $status

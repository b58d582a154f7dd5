#!/bin/sh
# make fuzz: build every harness of tests/fuzz with clang's libFuzzer (plus
# ASan and UBSan) and run each for FUZZ_SECONDS on a copy of its seed corpus.
#   FUZZ_SECONDS=60    the smoke (default); FUZZ_SECONDS=600 is the long campaign
#   FUZZ_ONLY="a b"    run only these harnesses (e.g. "fuzz_cron fuzz_dotenv")
#   FUZZ_MERGE=1       afterwards, add the inputs that reach new coverage to
#                      tests/fuzz/corpus/<name>/ (libFuzzer -merge=1)
#   FUZZ_ARGS="..."    more libFuzzer flags; "-fork=1 -ignore_crashes=1" goes on
#                      past a known crash (see tests/fuzz/findings/) and keeps
#                      every crash found
# Prints one line per harness: runs, seconds, result.  A crash is left as
# build-fuzz/tests/fuzz/crash-<name>-* and makes the script exit 1.
set -eu
seconds=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "fuzz: clang is missing: apt-get install clang libclang-rt-dev" >&2; exit 1; }
[ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ] ||
	{ echo "fuzz: clang has no libFuzzer runtime: apt-get install libclang-rt-dev" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DSMELT_LIBFUZZER=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
dir=build-fuzz/tests/fuzz
# the adapters' data (plugin types' extras, definitions), as smelt finds it beside its binary
SMELT_ADAPTER_PATH=$(pwd)/build-fuzz/stage/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' build-fuzz/CMakeCache.txt)/smelt/adapters
export SMELT_ADAPTER_PATH
status=0
printf '%-22s %12s %8s  %s\n' harness runs seconds result
for harness in "$dir"/fuzz_*; do
	[ -x "$harness" ] && [ -f "$harness" ] || continue
	name=$(basename "$harness")
	if [ -n "${FUZZ_ONLY:-}" ]; then
		case " $FUZZ_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	corpus=$dir/corpus-$name
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	log=$dir/$name.log
	start=$(date +%s)
	touch "$dir/.start-$name" # crashes newer than this are this run's
	# -rss_limit_mb: the harnesses read whole inputs; 2 GB catches runaway growth
	(cd "$dir" && ./"$name" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
		-artifact_prefix="crash-$name-" ${FUZZ_ARGS:-} "corpus-$name") >"$log" 2>&1 || true
	took=$(($(date +%s) - start))
	# the stats line, or in fork mode the last progress line "#<runs>: cov: ..."
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
	crashes=$(find "$dir" -maxdepth 1 -name "crash-$name-*" -newer "$dir/.start-$name" | wc -l)
	crash=$(find "$dir" -maxdepth 1 -name "crash-$name-*" -newer "$dir/.start-$name" | head -n 1)
	if [ -n "$crash" ]; then
		result="CRASH x$crashes: $crash ($(grep -m 1 -E 'ERROR|FUZZ_FAIL|fuzz_[a-z_]+: ' "$log" || echo see $log))"
		status=1
	elif grep -q -E "^Done|fuzzing done|exiting: 0" "$log"; then
		result=ok
	else
		result="did not finish, see $log"
		status=1
	fi
	printf '%-22s %12s %8s  %s\n' "$name" "${runs:-?}" "$took" "$result"
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -z "$crash" ]; then
		mkdir -p tests/fuzz/corpus/"$name"
		(cd "$dir" && ./"$name" -merge=1 "../../../tests/fuzz/corpus/$name" "corpus-$name") >/dev/null 2>&1 || true
	fi
done
exit $status

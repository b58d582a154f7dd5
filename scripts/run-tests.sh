#!/bin/sh
# Runs ctest in the plain build, then in the sanitizer build, and prints
# one summary line for both.  Exit 0 only when every test passed in both.
set -u
total_pass=0
total_fail=0
status=0
for dir in "$@"; do
	echo "== ctest in $dir"
	log="$dir/ctest-summary.log"
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
	ctest --test-dir "$dir" --output-on-failure -j "${SMELT_TEST_JOBS:-2}" 2>&1 | tee "$log"
	line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "no ctest summary in $dir" >&2
		status=1
		continue
	fi
	failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
	all=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
	total_pass=$((total_pass + all - failed))
	total_fail=$((total_fail + failed))
	[ "$failed" = 0 ] || status=1
done
echo "total: $total_pass passed, $total_fail failed"
exit $status

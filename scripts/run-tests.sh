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
	# intercept_tls_get_addr=0: GCC 12's sanitizer runtime (Debian 12) can take a dynamic TLS block
	# (adapters are dlopen()ed) for a pre-2.25 glibc header by coincidence of its address, and then
	# LeakSanitizer's tracer dies at exit ("Tracer caught signal 11"), with no leak to report.
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0:${ASAN_OPTIONS:-}" \
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

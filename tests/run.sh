#!/bin/bash
# Runs unit test programs ($BUILD_DIR/tests/*) and integration scripts (tests/integ/*.sh),
# counts their TAP lines and ends with "N passed, N failed".
# Usage: tests/run.sh --unit|--integ|--all|--deb [REGEX]
set -u
cd "$(dirname "$0")/.."
kind=${1:---all}
filter=${2:-.}
: "${BUILD_DIR:?BUILD_DIR must be set}"
export BUILD_DIR
logdir="$BUILD_DIR/test-logs"
mkdir -p "$logdir"
passed=0 failed=0
failures=()

# run_one NAME COMMAND...: runs one test, its output in $logdir/NAME.log; writes
# "ok nok seconds" to $logdir/NAME.result.
run_one() {
	local name=$1; shift
	local log="$logdir/$name.log" start end rc ok nok
	start=$(date +%s.%N)
	if [ -n "${VALGRIND:-}" ] && [ "$kind_of" = unit ]; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			--trace-children=yes "$@" >"$log" 2>&1
	else
		"$@" >"$log" 2>&1
	fi
	rc=$?
	end=$(date +%s.%N)
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		nok=$((nok + 1))
		echo "not ok - sanitizer report in $name" >>"$log"
	fi
	echo "$ok $nok $(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" >"$logdir/$name.result"
}

# report NAME: adds a finished test's counts and prints its line.
report() {
	local name=$1 ok nok secs
	read -r ok nok secs <"$logdir/$name.result"
	passed=$((passed + ok))
	failed=$((failed + nok))
	printf '%-40s %3d passed %3d failed  %5.1fs\n' "$name" "$ok" "$nok" "$secs"
	if [ "$nok" -gt 0 ]; then
		failures+=("$name")
		grep -E '^(not ok|#)' "$logdir/$name.log" | head -40 | sed 's/^/    /'
	fi
}

# Integration scripts run TEST_JOBS at a time (default 3: they mostly wait on timers and
# daemons; each has its own directory and port-0 servers); lines are printed in file order.
TEST_JOBS=${TEST_JOBS:-3}
pending=()
flush_done() {		# prints the finished tests at the head of the queue, in order
	while [ ${#pending[@]} -gt 0 ] && [ -f "$logdir/${pending[0]}.result" ]; do
		report "${pending[0]}"
		pending=("${pending[@]:1}")
	done
}

if [ "$kind" = --unit ] || [ "$kind" = --all ]; then
	kind_of=unit
	for t in tests/unit/*.c; do
		[ -e "$t" ] || continue
		n=$(basename "$t" .c)
		echo "$n" | grep -qE -- "$filter" || continue
		if [ ! -x "$BUILD_DIR/tests/$n" ]; then
			echo "not built: $n"; failed=$((failed + 1)); failures+=("$n"); continue
		fi
		rm -f "$logdir/$n.result"
		run_one "$n" "$BUILD_DIR/tests/$n"
		report "$n"
	done
fi
if [ "$kind" = --integ ] || [ "$kind" = --all ]; then
	kind_of=integ
	# Daemons and tools leave memory to exit(); leaks are checked by the unit tests and
	# by `make check VALGRIND=1`.  Memory errors still fail the test.
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
	for t in tests/integ/*.sh; do
		[ -e "$t" ] || continue
		n=$(basename "$t" .sh)
		[ "$n" = lib ] && continue
		echo "$n" | grep -qE -- "$filter" || continue
		rm -f "$logdir/$n.result"
		while [ "$(jobs -rp | wc -l)" -ge "$TEST_JOBS" ]; do
			wait -n
			flush_done
		done
		run_one "$n" timeout -k 5 300 bash "$t" &
		pending+=("$n")
	done
	wait
	flush_done
fi
if [ "$kind" = --deb ]; then
	kind_of=deb
	# make check-deb: the Debian package's test (tests/deb/*.sh, root; installs the package).
	for t in tests/deb/*.sh; do
		[ -e "$t" ] || continue
		n=deb_$(basename "$t" .sh)
		echo "$n" | grep -qE -- "$filter" || continue
		rm -f "$logdir/$n.result"
		run_one "$n" timeout -k 5 600 bash "$t"
		report "$n"
	done
fi
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $logdir)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# make check VALGRIND=1: the daemon and its three children under valgrind memcheck for one
# run (start, a few seconds of work against the devnet when it is built, stop): no error.
source "$(dirname "$0")/lib.sh"
if [ -z "${VALGRIND:-}" ]; then
	echo "ok 1 - # SKIP only with make check VALGRIND=1"
	finish
fi
command -v valgrind >/dev/null || { echo "ok 1 - # SKIP valgrind is not installed"; finish; }
D=$T/a
mkdir -p "$D"
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$T/vg.%p.log"
if [ -x "$DEVNET" ]; then
	start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 10 --window 8 \
		--account "$TEST_ADDRESS_1:100000000000"
	e2e_conf "$D" "$DEVNET_PORT" 67
else
	e2e_conf "$D" 9 67
fi
sed -i 's/^heartbeat_ms = .*/heartbeat_ms = 3000/; s/^stop_timeout_ms = .*/stop_timeout_ms = 20000/' "$D/w.conf"
AW_CHILD_WRAPPER="$VG" start_bg "$D/daemon.log" $VG "$WORKERD" -f -c "$D/w.conf"
pid=$BG_PID
check "the daemon under valgrind becomes ready" wait_for 60 sh -c "'$CTL' -c '$D/w.conf' status --json | grep -q '\"ready\": true'"
sleep 8
kill -TERM "$pid"
wait "$pid"; rc=$?
check "it stops with status 0 ($rc)" test $rc -eq 0
errs=$(cat "$T"/vg.*.log 2>/dev/null | grep -v '^==[0-9]*== *$' | head -40)
check "valgrind reports nothing" test -z "$errs"
[ -n "$errs" ] && echo "$errs" | sed 's/^/# /'
finish

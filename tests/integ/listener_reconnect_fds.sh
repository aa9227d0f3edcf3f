#!/bin/bash
# Issue 15: the listener frees every dead websocket connection.  Against a node that sends
# one block and closes (allora-devnet --ws-one-block), connections die faster than the
# listener's one-second tick; after 200 such drops its descriptor count is where it was
# after the first few (within 5), and it still sees windows.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
DROPS=${DROPS:-200}
start_devnet "$D" --chain-id devnet-1 --block-ms 30 --topics 67 --epoch 1000 --window 6 \
	--ws-one-block --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's/^polling_interval = .*/polling_interval = 3600/' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
LOG=$D/state/logs/worker_output.log
LP=$(status_json "$D/w.conf" | json - '[c["pid"] for c in d["children"] if c["role"] == "listener"][0]')
drops() { grep -c 'websocket .*: the server closed the connection; reconnecting' "$LOG"; }
fds() { ls "/proc/$LP/fd" 2>/dev/null | wc -l; }
at_least() { [ "$(drops)" -ge "$1" ]; }
check "the node drops the listener (10 drops)" wait_for 20 at_least 10
base=$(fds)
max=$base
# Up to 200 drops, sampling the descriptors on the way (bounded: about 4 drops a second).
end=$((SECONDS + 120))
while [ "$(drops)" -lt "$DROPS" ] && [ $SECONDS -lt $end ]; do
	n=$(fds)
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.2
done
n=$(drops)
final=$(fds)
diag "after $n drops: $final descriptors (after 10: $base, most seen: $max)"
check "$DROPS drops happened ($n)" test "$n" -ge "$DROPS"
check "the listener's descriptors stayed flat: $base -> $final, within 5" \
	test "$final" -le $((base + 5))
# A sample taken during a reconnect also counts the connection and DNS sockets in flight
# (a slow build, ASan, shows a few more); a leak grows with the drops, by one or two each.
check "and never grew on the way: at most $max, within 10 of $base" test "$max" -le $((base + 10))
check "the same listener throughout (pid $LP)" test "$(status_json "$D/w.conf" | json - '[c["pid"] for c in d["children"] if c["role"] == "listener"][0]')" = "$LP"
check "stop" "$CTL" -c "$D/w.conf" stop
finish

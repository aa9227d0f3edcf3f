#!/bin/bash
# Issue 24, the long run (make check-cluster, also in .ci/run; about 3.5 minutes): three
# etcd members, two daemons on one devnet with one wallet and two topics, fast blocks; the
# leader's supervisor is killed with SIGKILL every 20 s for 3 minutes and restarted each
# time.  Every window with more than TTL + 2 blocks left when a leader died is accepted
# exactly once, and the devnet's record never holds a second transaction for a nonce.
source "$(dirname "$0")/../integ/lib.sh"
source "$(dirname "$0")/etcd_lib.sh"
[ -x "$ETCD_BIN" ] || { not_ok "etcd-server is not installed (scripts/deps.sh)"; finish; }
BLOCK_MS=250
LEASE_TTL=2
TTL_BLOCKS=$((LEASE_TTL * 1000 / BLOCK_MS))
RUN_S=${CLUSTER_RUN_S:-180}
etcd_cluster 3 || { not_ok "three etcd members start"; finish; }
ok "three etcd members on loopback"
start_devnet "$T/dn" --chain-id devnet-1 --block-ms $BLOCK_MS --topics 67,68 --epoch 20 \
	--window 16 --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
REC=$T/dn/record.jsonl
for h in a b; do
	e2e_conf "$T/$h" "$DEVNET_PORT" 67 68
	cluster_conf "$T/$h" "host-$h"
done
check "host-a starts" "$CTL" -c "$T/a/w.conf" start
check "host-b starts" "$CTL" -c "$T/b/w.conf" start
FROM=$(height)
check "windows get accepted" wait_for 30 accepted_after "$REC" 1
leader_host() {
	local h
	for h in a b; do is_leader "$T/$h/w.conf" && { echo "$h"; return 0; }; done
	return 1
}
events=()
kills=0 restarts=0
end=$((SECONDS + RUN_S))
while [ $SECONDS -lt $end ]; do
	next=$((SECONDS + 20))
	L=""
	wait_for 10 leader_host && L=$(leader_host)
	if [ -z "$L" ]; then
		not_ok "a leader before kill $((kills + 1))"
		break
	fi
	events+=("K:$(height)")
	kill -KILL "$(cat "$T/$L/run/host-$L.pid")"
	kills=$((kills + 1))
	# Restarted at once: the survivor takes over when the lease ends (or the restarted one
	# wins the campaign); either way exactly one signs.
	wait_for 5 bash -c "! kill -0 \$(cat '$T/$L/run/host-$L.pid') 2>/dev/null"
	if "$CTL" -c "$T/$L/w.conf" start >>"$T/restart.log" 2>&1; then
		restarts=$((restarts + 1))
	else
		diag "restart of host-$L failed:"; tail -3 "$T/restart.log" | sed 's/^/# /'
	fi
	while [ $SECONDS -lt $next ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
done
check "killed the leader $kills times, restarted it $restarts times" test "$kills" -ge 8 -a "$restarts" -eq "$kills"
N=$(accepted_count "$REC")
check "service goes on after the last kill" wait_for 20 accepted_after "$REC" "$N"
"$CTL" -c "$T/a/w.conf" stop >/dev/null
"$CTL" -c "$T/b/w.conf" stop >/dev/null
check "every window with more than TTL + 2 blocks left accepted exactly once; no second transaction for any nonce" \
	cluster_record_ok "$REC" "$TTL_BLOCKS" "$FROM" "${events[@]}"
check "no host wrote missed for a window the leader served" \
	bash -c "! grep -h '\"missed\"' '$T'/a/state/ledger/*.jsonl '$T'/b/state/ledger/*.jsonl"
finish

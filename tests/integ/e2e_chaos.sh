#!/bin/bash
# Issue 6, chaos (seeded, bounded): kill -9 of a random child every 1-5 s, websocket drops,
# 10 % HTTP 500s, one injected sequence mismatch, one fee spike.  Afterwards every window that
# closed while the daemon ran got exactly one accepted payload, no (topic, nonce) got a
# second transaction after one passed CheckTx, and every delivered one is accepted in the
# ledger (issue 13's stricter count; tests/integ/record_check.py).
source "$(dirname "$0")/lib.sh"
SEED=${CHAOS_SEED:-4242}
DURATION=${CHAOS_SECONDS:-75}
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 67 --epoch 24 --window 20 \
	--account "$TEST_ADDRESS_1:100000000000" --seed "$SEED" --drop-ws-every 7 \
	--http-error-rate 0.1 --seq-mismatch-once --fee-spike-once || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
check "start" "$CTL" -c "$D/w.conf" start
t0=$(date +%s.%N)
RANDOM=$SEED
end=$((SECONDS + DURATION))
kills=0
while [ $SECONDS -lt $end ]; do
	sleep $((1 + RANDOM % 5))
	roles=(listener trainer submitter)
	role=${roles[$((RANDOM % 3))]}
	p=$(status_json "$D/w.conf" 2>/dev/null | json - "[c['pid'] for c in d['children'] if c['role']=='$role'][0]" 2>/dev/null)
	if [ -n "$p" ] && [ "$p" != None ]; then kill -9 "$p" 2>/dev/null && kills=$((kills + 1)); fi
done
diag "$kills children killed"
# Let the last windows finish, then stop.
sleep 6
t1=$(date +%s.%N)
check "the daemon is still running after the chaos" "$CTL" -c "$D/w.conf" status
"$CTL" -c "$D/w.conf" stop >/dev/null
# Issue 13: the distinct transactions that reached CheckTx per (topic, nonce) are counted:
# none may follow one that passed CheckTx, and every delivered one is accepted in the ledger.
check "every closed window has exactly one accepted payload (up to 2 around the kills); no second transaction; every delivered one accepted in the ledger" \
	python3 "$REPO/tests/integ/record_check.py" "$D/record.jsonl" "$D/state/ledger" "$t0" "$t1" 250 --allow-missing 2
check "the sequence mismatch was recovered without a multi-second pause" grep -q "sequence" "$D/state/logs/worker_output.log"
finish

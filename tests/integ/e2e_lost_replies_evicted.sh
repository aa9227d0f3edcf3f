#!/bin/bash
# Issue 13, defect 1 as a real node produces it: the node's mempool cache is small
# (--mempool-cache-size 1, CometBFT's mempool.cache_size) so that a transaction sent again
# after its answer was lost is no longer in it and reaches CheckTx: once included, it gets
# code 32 "expected N+1".  That is no reason to sign a second, different transaction: every
# window is accepted exactly once and no nonce gets a second transaction.
source "$(dirname "$0")/lib.sh"
DURATION=${LOST_SECONDS:-25}
BLOCK_MS=250
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms $BLOCK_MS --topics 67,68 --epoch 20 --window 16 \
	--account "$TEST_ADDRESS_1:100000000000" --seed 7 --lose-reply-rate 0.5 \
	--mempool-cache-size 1 || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
check "start" "$CTL" -c "$D/w.conf" start
t0=$(date +%s.%N)
end=$((SECONDS + DURATION))
while [ $SECONDS -lt $end ]; do sleep 0.5; done
t1=$(date +%s.%N)
"$CTL" -c "$D/w.conf" stop >/dev/null
check "answers were lost" grep -q "answer lost" "$D/devnet.log"
check "no second transaction, every window closed while running accepted once" \
	python3 "$REPO/tests/integ/record_check.py" "$D/record.jsonl" "$D/state/ledger" "$t0" "$t1" $BLOCK_MS \
	--delivered-before "$(python3 -c "import sys; print(float(sys.argv[1]) - 5)" "$t1")"
finish

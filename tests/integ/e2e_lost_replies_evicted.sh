#!/bin/bash
# Issue 13, lost broadcast answers against nodes that help less:
#  1. defect 1 as a real node produces it: the node's mempool cache is small
#     (--mempool-cache-size 1, CometBFT's mempool.cache_size), so a transaction sent again
#     after its answer was lost is no longer in it and reaches CheckTx: once included it gets
#     code 32 "expected N+1", which is no reason to sign a second, different transaction;
#  2. a node without unconfirmed_txs (--no-unconfirmed-txs): lookups by hash only.
# The connection of a lost answer is closed after 300 ms (a connection lost before the answer),
# before the next block (2 s), so the transaction is looked up while it is still pending.  In both, every window that closed while the daemon ran is
# accepted exactly once, no nonce gets a second transaction, no delivered one is missed.
source "$(dirname "$0")/lib.sh"
DURATION=${LOST_SECONDS:-20}
BLOCK_MS=2000
phase() {	# NAME DEVNET_ARGS...
	local name=$1; shift
	D=$T/$name
	mkdir -p "$D"
	start_devnet "$D" --chain-id devnet-1 --block-ms $BLOCK_MS --topics 67,68 --epoch 5 \
		--window 4 --account "$TEST_ADDRESS_1:100000000000" --seed 7 --lose-reply-rate 0.5 \
		--lose-reply-hold-ms 300 \
		"$@" || { not_ok "$name: devnet"; return; }
	e2e_conf "$D" "$DEVNET_PORT" 67 68
	sed -i "s/^instance = .*/instance = $name/" "$D/w.conf"
	check "$name: start" sh -c '"$1" -c "$2" start >/dev/null' _ "$CTL" "$D/w.conf"
	local t0 t1 end=$((SECONDS + DURATION))
	t0=$(date +%s.%N)
	while [ $SECONDS -lt $end ]; do sleep 0.5; done
	t1=$(date +%s.%N)
	"$CTL" -c "$D/w.conf" stop >/dev/null
	kill -TERM "$DEVNET_PID"; wait "$DEVNET_PID" 2>/dev/null
	check "$name: answers were lost" grep -q "answer lost" "$D/devnet.log"
	check "$name: no second transaction, every window closed while running accepted once" \
		python3 "$REPO/tests/integ/record_check.py" "$D/record.jsonl" "$D/state/ledger" "$t0" \
		"$t1" $BLOCK_MS --delivered-before "$(python3 -c "import sys; print(float(sys.argv[1]) - 5)" "$t1")"
}
phase evicted --mempool-cache-size 1
phase nomempool --no-unconfirmed-txs
check "nomempool: the daemon noticed that the node offers no unconfirmed_txs" \
	grep -q "offers no unconfirmed_txs" "$T/nomempool/state/logs/worker_output.log"
finish

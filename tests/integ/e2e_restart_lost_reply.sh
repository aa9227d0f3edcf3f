#!/bin/bash
# Issue 13: a restart between a lost broadcast answer and its resolution.  Every answer is
# lost (the devnet processes the broadcast and holds the connection); the daemon is killed
# (-9, supervisor and children) right after the first broadcast was processed, before the
# next block includes it, and started again: the same transaction is found (in the mempool,
# then on the chain) and the ledger says accepted with its hash; nothing is ever re-signed.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 10000 --topics 67 --epoch 100 --window 6 \
	--account "$TEST_ADDRESS_1:100000000000" --lose-reply-rate 1 --lose-reply-hold-ms 60000 \
	|| { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
start_bg "$D/daemon1.log" "$WORKERD" -f -c "$D/w.conf"
P1=$BG_PID
check "the first broadcast is processed and its answer lost" wait_for 8 grep -q "answer lost" "$D/devnet.log"
kids=$(pgrep -P "$P1")
kill -9 "$P1" $kids 2>/dev/null
wait "$P1" 2>/dev/null
in_mempool() { [ "$(curl -s -X POST -d '{"jsonrpc":"2.0","id":1,"method":"unconfirmed_txs","params":{}}' "$DEVNET_URL/" | json - 'd["result"]["n_txs"]')" = 1 ]; }
check "killed before the block: the transaction is still in the mempool" in_mempool
start_bg "$D/daemon2.log" "$WORKERD" -f -c "$D/w.conf"
acc() { grep -q '"state":"accepted"' "$D/state/ledger/topic-67.jsonl"; }
check "after the restart the window is accepted" wait_for 25 acc
kill -TERM "$BG_PID"; wait "$BG_PID"
check "one transaction for the nonce at the devnet, the ledger signed it once and accepted that hash" \
	python3 - "$D/record.jsonl" "$D/state/ledger/topic-67.jsonl" <<'PY'
import json, sys
tx = [json.loads(l) for l in open(sys.argv[1])]
tx = [r for r in tx if r.get("kind") == "tx" and r["stage"] == "checktx"]
hs = {r["txhash"] for r in tx}
assert len(hs) == 1, ("distinct transactions at CheckTx", hs)
led = [json.loads(l) for l in open(sys.argv[2])]
n = led[0]["nonce"]
signed = [o["txhash"] for o in led if o["state"] == "signed"]
assert len(signed) == 1, ("signed", signed)
acc = [o for o in led if o["state"] == "accepted" and o["nonce"] == n]
assert acc and acc[-1]["txhash"] == signed[0] and signed[0] in hs, (acc, signed, hs)
assert not [o for o in led if o["state"] == "missed"], "a false miss"
PY
check "the restart resolved by hash (event log)" grep -q '"reason":"resolve"' "$D/state/logs/worker_continuous.log"
finish

#!/bin/bash
# Issue 13: a websocket that announces windows the chain does not have (20 % of them, the
# devnet's --fake-window-rate): nothing is ever signed for them (the chain's
# IsWorkerNonceUnfulfilled says no; the ledger records window_not_open, not a miss), and
# every real window that closed while the daemon ran is accepted.
source "$(dirname "$0")/lib.sh"
BLOCK_MS=200
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms $BLOCK_MS --topics 67,68 --epoch 10 --window 6 \
	--account "$TEST_ADDRESS_1:100000000000" --seed 20 --fake-window-rate 0.2 \
	|| { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
check "start" "$CTL" -c "$D/w.conf" start
t0=$(date +%s.%N)
fakes() { [ "$(grep -c fake_window "$D/record.jsonl")" -ge 3 ]; }
check "the websocket announced fake windows" wait_for 40 fakes
sleep 2.5	# the last fake's confirmation and a real window after it
t1=$(date +%s.%N)
"$CTL" -c "$D/w.conf" stop >/dev/null
check "nothing signed for the fake windows; every real window accepted; no false miss" \
	python3 "$REPO/tests/integ/record_check.py" "$D/record.jsonl" "$D/state/ledger" "$t0" "$t1" $BLOCK_MS
check "the ledger says window_not_open for them" python3 - "$D/record.jsonl" "$D/state/ledger" <<'PY'
import json, sys
fakes = [json.loads(l) for l in open(sys.argv[1]) if '"fake_window"' in l]
led = {}
for t in (67, 68):
    for l in open("%s/topic-%d.jsonl" % (sys.argv[2], t)):
        o = json.loads(l)
        led[(t, o["nonce"])] = o
seen = [f for f in fakes if (f["topic"], f["nonce"]) in led]
assert seen, "the daemon never heard a fake window"
bad = [(f["topic"], f["nonce"], led[(f["topic"], f["nonce"])]) for f in seen
       if led[(f["topic"], f["nonce"])].get("reason") != "window_not_open"]
assert not bad, bad
PY
check "the event log names it" grep -q '"reason":"window_not_open"' "$D/state/logs/worker_continuous.log"
finish

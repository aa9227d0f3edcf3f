#!/bin/bash
# Issue 6, happy path: 20 windows on the devnet, 20 accepted payloads recorded by the devnet,
# values equal to the trainer's predictions, the ledger says accepted for each.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
check "start" "$CTL" -c "$D/w.conf" start
twenty() { [ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["accepted"]')" -ge 20 ]; }
check "20 windows accepted (status)" wait_for 90 twenty
check "and 20 payloads accepted by the devnet" test "$(accepted_count "$D/record.jsonl")" -ge 20
"$CTL" -c "$D/w.conf" status --json >"$T/s.json"
check "stop" "$CTL" -c "$D/w.conf" stop
check "every accepted payload is in the ledger as accepted, with the same value and hash" \
	python3 - "$D/record.jsonl" "$D/state/ledger/topic-67.jsonl" <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
acc = {r["nonce"]: r for r in rec if r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0}
led = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    led.setdefault(o["nonce"], []).append(o)
assert len(acc) >= 20, len(acc)
for nonce, r in acc.items():
    states = [o["state"] for o in led[nonce]]
    assert "accepted" in states or states[-1] in ("broadcast", "signed"), (nonce, states)
    pred = [o for o in led[nonce] if o["state"] == "predicted"][-1]
    assert pred["value"] == r["value"], (pred["value"], r["value"])
    signed = [o["txhash"] for o in led[nonce] if o["state"] == "signed"]
    assert r["txhash"] in signed, (r["txhash"], signed)
    assert r["worker"] == "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
led_acc = [n for n, l in led.items() if l[-1]["state"] == "accepted"]
assert len(led_acc) >= 20, len(led_acc)
for n in led_acc:
    assert n in acc, ("the ledger says accepted, the devnet does not", n)
# no nonce got two accepted payloads
nonces = [r["nonce"] for r in rec if r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0]
assert len(nonces) == len(set(nonces)), "a nonce was accepted twice"
PY
check "status counted them" python3 -c "
import json; d=json.load(open('$T/s.json')); t=d['topics'][0]
assert t['accepted'] >= 20 and t['last_txhash'] and t['last_value'] is not None, t
assert d['wallets'][0]['address'] == '$TEST_ADDRESS_1', d['wallets']"
check "the event log has window_open, prediction, submission and success events" python3 -c "
import json
ev = {json.loads(l)['event'] for l in open('$D/state/logs/worker_continuous.log')}
assert {'window_open', 'prediction', 'submission', 'success'} <= ev, ev"
finish

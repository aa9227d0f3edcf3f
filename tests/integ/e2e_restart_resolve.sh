#!/bin/bash
# Issue 6: a crash between sign and broadcast (test hook AW_TEST_CRASH_AFTER_SIGN=1: the
# submitter exits right after the supervisor acknowledged SIGNED) — after the restart the same
# transaction is resolved (re-broadcast byte for byte), never a second, different one.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 20 --window 12 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
AW_TEST_CRASH_AFTER_SIGN=1 start_bg "$D/daemon.log" "$WORKERD" -f -c "$D/w.conf"
one() { [ "$(accepted_count "$D/record.jsonl")" -ge 2 ]; }
check "windows are still accepted" wait_for 60 one
kill -TERM "$BG_PID"; wait "$BG_PID"
check "the submitter died after signing (the hook fired)" grep -q "AW_TEST_CRASH_AFTER_SIGN" "$D/daemon.log"
check "no nonce has two different transactions at the devnet, and each signed hash is unique per nonce" \
	python3 - "$D/record.jsonl" "$D/state/ledger/topic-67.jsonl" <<'PY'
import json, sys
txs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r.get("nonce") is not None:
        txs.setdefault(r["nonce"], set()).add(r["txhash"])
for n, hs in txs.items():
    assert len(hs) == 1, (n, hs)
signed = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    if o["state"] == "signed":
        signed.setdefault(o["nonce"], set()).add(o["txhash"])
for n, hs in signed.items():
    assert len(hs) == 1, ("signed twice", n, hs)
PY
finish

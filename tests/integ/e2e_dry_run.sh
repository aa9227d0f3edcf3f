#!/bin/bash
# Issue 6: --dry-run does everything but the broadcast: windows are predicted, the would-be
# transaction is built, signed and simulated and logged; the chain receives nothing, not even
# a transaction signed by an earlier run and found in the ledger (issue 13).
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
# Issue 13: a transaction signed by an earlier (real) run, in the ledger: a dry run must not
# resolve it by sending its bytes; it says what it would do.
TX=$("$CTL" tx build --mnemonic-file "$D/key" --chain-id devnet-1 --account-number 101 \
	--sequence 0 --topic 67 --nonce 1 --value 0.5 --gas 300000 --fee 3000000)
H=$(python3 -c "import base64,hashlib,sys; print(hashlib.sha256(base64.b64decode(sys.argv[1])).hexdigest().upper())" "$TX")
mkdir -p "$D/state/ledger"
printf '{"time":"2026-01-01T00:00:00Z","nonce":1,"state":"seen","source":"ws","window_end":900}\n{"time":"2026-01-01T00:00:01Z","nonce":1,"state":"signed","sequence":0,"txhash":"%s","tx":"%s","value":"0.5"}\n' "$H" "$TX" >"$D/state/ledger/topic-67.jsonl"
chmod 600 "$D/state/ledger/topic-67.jsonl"
check "start --dry-run" "$CTL" -c "$D/w.conf" start --dry-run
three_dry() {
	[ "$(grep -c '"reason":"dry_run"' "$D/state/ledger/topic-67.jsonl" 2>/dev/null)" -ge 3 ]
}
check "three windows end as missed with reason dry_run" wait_for 40 three_dry
"$CTL" -c "$D/w.conf" status --json >"$D/status.json"
check "status says dry run" json "$D/status.json" 'd["dry_run"] is True'
check "stop" "$CTL" -c "$D/w.conf" stop
check "the devnet received no transaction" python3 - "$D/record.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["kind"] == "window" for r in recs), "no window opened"
tx = [r for r in recs if r["kind"] == "tx"]
assert not tx, tx
PY
check "the signed transaction of the ledger is reported as what a real run would resolve" \
	grep -q "dry run: topic 67 nonce 1 was signed before (tx $H" "$D/state/logs/worker_output.log"
check "and left unresolved in the ledger (a real run still resolves it)" sh -c \
	"grep '\"nonce\":1,' '$D/state/ledger/topic-67.jsonl' | tail -1 | grep -q '\"state\":\"signed\"'"
check "the would-be transactions were simulated and logged with gas and fee" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
dry = [e for e in ev if "dry run" in e.get("message", "") and "signed before" not in e["message"]]
assert len(dry) >= 3, len(dry)
assert all("gas" in e["data"] and "fee" in e["data"] for e in dry
           if "would fail" not in e["message"]), dry[:2]
PY
check "the ledger has the predictions and signatures of the dry run" python3 - "$D/state/ledger/topic-67.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
dry = {r["nonce"] for r in recs if r.get("reason") == "dry_run"}
for n in dry:
    states = [r["state"] for r in recs if r["nonce"] == n]
    assert "predicted" in states and "broadcast" not in states, (n, states)
PY
finish

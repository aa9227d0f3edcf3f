#!/bin/bash
# Issue 9: .env compatibility.  A Python worker's .env (MNEMONIC, TOPIC_ID, plus ALLORA_RPC
# and ALLORA_CHAIN_ID off testnet) and `alloractl start` are enough to submit on the devnet;
# ALLORA_WALLET_ADDR must match the wallet's derived address or the daemon refuses to start.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D/w1" "$D/w2"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 8 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
# The Python worker's .env, test-only mnemonic.
dotenv() {
	cat <<EOC
# test-only mnemonic: never fund it on a real network
MNEMONIC="$TEST_MNEMONIC_1"
TIINGO_API_KEY=
TOPIC_ID=67
ALLORA_WALLET_ADDR=$1
ALLORA_RPC=http://127.0.0.1:$DEVNET_PORT
ALLORA_CHAIN_ID=devnet-1
EOC
}
( umask 077; dotenv "$TEST_ADDRESS_1" >"$D/w1/.env" )
ctl() { (cd "$1" && shift && "$CTL" --state-dir "$D/state-$(basename "$PWD")" --run-dir "$D/run" "$@"); }
# alloractl never holds the .env's mnemonic: its key child reads the .env itself.
ctl "$D/w1" check >"$D/check.out" 2>&1
check "alloractl check with only a .env: the key child loads the .env's mnemonic" \
	grep -qE "^ok .*$TEST_ADDRESS_1" "$D/check.out"
check "alloractl start with only a .env" ctl "$D/w1" start
two_accepted() { [ "$(accepted_count "$D/record.jsonl")" -ge 2 ]; }
check "windows are submitted and accepted" wait_for 60 two_accepted
ctl "$D/w1" status --json >"$D/status.json"
check "status: instance topic-67, topic 67, the .env's wallet" python3 - "$D/status.json" "$TEST_ADDRESS_1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["instance"] == "topic-67", d["instance"]
assert [t.get("id", t.get("topic_id")) for t in d["topics"]] == [67], d["topics"]
assert d["wallets"][0]["address"] == sys.argv[2], d["wallets"]
PY
check "stop" ctl "$D/w1" stop
check "the submissions were signed by the .env's wallet" python3 - "$D/record.jsonl" "$TEST_ADDRESS_1" <<'PY'
import json, sys
acc = [json.loads(l) for l in open(sys.argv[1])]
acc = [r for r in acc if r["kind"] == "tx" and r["stage"] == "deliver" and r["code"] == 0]
assert acc and all(r["worker"] == sys.argv[2] and r["topic"] == 67 for r in acc), acc
PY
check "without market data the fallback was used, with the reason logged as the Python worker does" \
	grep -q "Prediction function failed: .*TIINGO_API_KEY" "$D/state-w1/logs/worker_output.log"

# A wrong ALLORA_WALLET_ADDR: refused, both addresses named.
WRONG=allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
( umask 077; dotenv "$WRONG" >"$D/w2/.env" )
ctl "$D/w2" start >"$D/w2.out" 2>&1
rc=$?
check "a mismatching ALLORA_WALLET_ADDR: start fails (exit 1)" test "$rc" -eq 1
check "the message names both addresses" grep -q "$WRONG" "$D/state-w2/logs/worker_output.log"
check "... the derived one too" grep -q "$TEST_ADDRESS_1" "$D/state-w2/logs/worker_output.log"
check "the start failure says what to do" grep -qi "ALLORA_WALLET_ADDR" "$D/w2.out" "$D/state-w2/logs/worker_output.log"
gone() { ! ctl "$D/w2" status >/dev/null 2>&1; }
check "and no daemon is left running" wait_for 10 gone
finish

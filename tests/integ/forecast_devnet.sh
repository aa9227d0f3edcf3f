#!/bin/bash
# Issue 22, the devnet's forecasts: a bundle with a forecast that alloractl signs is accepted
# at delivery and its --record tx line says how many elements it carried
# ("forecast_elements"; null for a bundle without forecast).  The rules the devnet refuses,
# the filter and the kept forecasts are in tests/unit/devnet_forecast.c.
source "$(dirname "$0")/lib.sh"
K=$T/key; write_test_mnemonic "$K" 1
K2=$T/key2; write_test_mnemonic "$K2" 2
A2=$("$CTL" keys show --mnemonic-file "$K2")

rpc() { curl -s -X POST -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$DEVNET_URL/"; }
code_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["code"])'; }
line_of() {	# txhash -> the deliver record line
	grep '"stage":"deliver"' "$T/record.jsonl" | grep "$1"
}
build() {
	"$CTL" tx build --mnemonic-file "$K" --chain-id devnet-1 --account-number 12345 \
		--topic 67 --nonce 6626395 --gas 300000 --fee 3000000 "$@"
}
start_devnet "$T" --chain-id devnet-1 --start-height 6626395 --epoch 1000 --window 600 \
	--block-ms 200 --topics 67 --max-elements-per-forecast 3 \
	--account "$TEST_ADDRESS_1:100000000000:12345:7" --account "$A2:100000000000:12346:0" ||
	{ not_ok "devnet"; finish; }

printf '[{"inferer": "%s", "value": "-1.75E-1"}, {"inferer": "allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy", "value": "2"}]\n' "$A2" >"$T/f.json"
TX=$(build --sequence 7 --value 0.5 --forecast "$T/f.json")
H=$("$CTL" tx decode "$TX" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tx_hash"])')
check "a bundle with a forecast passes CheckTx" test "$(rpc broadcast_tx_sync "{\"tx\":\"$TX\"}" | code_of)" = 0
wait_for 5 sh -c "grep '\"stage\":\"deliver\"' '$T/record.jsonl' | grep -q $H"
check "it is accepted at delivery, the record line says 2 forecast elements" python3 - "$(line_of "$H")" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["code"] == 0, r
assert r["forecast_elements"] == 2, r
PY
# Another worker, the same window: a bundle without forecast.
TX=$("$CTL" tx build --mnemonic-file "$K2" --chain-id devnet-1 --account-number 12346 --topic 67 \
	--nonce 6626395 --sequence 0 --value 0.25)
H=$("$CTL" tx decode "$TX" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tx_hash"])')
rpc broadcast_tx_sync "{\"tx\":\"$TX\"}" >/dev/null
wait_for 5 sh -c "grep '\"stage\":\"deliver\"' '$T/record.jsonl' | grep -q $H"
check "a bundle without forecast: forecast_elements null in its record line" python3 - "$(line_of "$H")" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["code"] == 0 and r["forecast_elements"] is None, r
PY
check "--max-elements-per-forecast refuses a bad number" sh -c "! '$DEVNET' --port 0 --max-elements-per-forecast x >/dev/null 2>&1"
finish

#!/bin/bash
# Issue 16: topic ids are 32 bits. Every entry point refuses an id above 4294967295 with exit
# status 2 and a message naming the limit (before, `tx build --topic 4294967296` printed nothing).
source "$(dirname "$0")/lib.sh"

refuse() {	# description, command...
	local what=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 2 ] && echo "$out" | grep -q "4294967295"; then
		ok "$what: exit 2, \"$(echo "$out" | head -1 | sed "s|$T/||")\""
	else
		not_ok "$what: exit $rc, output: $out"
	fi
}

BIG=4294967296
write_test_mnemonic "$T/key"
printf '[topic %s]\n' "$BIG" >"$T/big.conf"
printf 'unix,close\n' >"$T/bars.csv"
refuse "tx build --topic $BIG" "$CTL" tx build --mnemonic-file "$T/key" --chain-id c \
	--account-number 1 --sequence 0 --topic "$BIG" --nonce 10 --value 1
refuse "predict --topic $BIG" "$CTL" predict --topic "$BIG" --csv "$T/bars.csv"
refuse "backtest --topic $BIG" "$CTL" backtest --csv "$T/bars.csv" --topic "$BIG"
refuse "register --topic $BIG" "$CTL" register --topic "$BIG"
refuse "[topic $BIG] in the configuration (allora-workerd)" "$WORKERD" -f -c "$T/big.conf"
refuse "[topic $BIG] in the configuration (alloractl check)" "$CTL" -c "$T/big.conf" check
refuse "TOPIC_ID=$BIG in the environment" env TOPIC_ID=$BIG "$WORKERD" -f -c /dev/null

# The largest id is a topic like any other.
out=$("$CTL" tx build --mnemonic-file "$T/key" --chain-id c --account-number 1 --sequence 0 \
	--topic 4294967295 --nonce 10 --value 1 --json 2>&1)
if echo "$out" | grep -q '4294967295'; then ok "tx build --topic 4294967295 is accepted"
else not_ok "tx build --topic 4294967295: $out"; fi
# Above 2147483647 the id is still printed as itself (event log, ledger, status, devnet record),
# never as a negative int (json_pack's "i" takes an int: the events said topic -1).
D=$T/a
mkdir -p "$D"
MAXT=4294967295
if start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics $MAXT --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000"; then
	e2e_conf "$D" "$DEVNET_PORT" $MAXT
	check "start with [topic $MAXT]" "$CTL" -c "$D/w.conf" start
	one() { [ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["accepted"]')" -ge 1 ]; }
	check "a window of topic $MAXT accepted" wait_for 60 one
	check "status says topic $MAXT" test "$(status_json "$D/w.conf" | json - 'd["topics"][0]["id"]')" = $MAXT
	"$CTL" -c "$D/w.conf" stop >/dev/null 2>&1
	check "every topic in the event log, the ledger and the devnet record is $MAXT" python3 - \
		"$D/state/logs/worker_continuous.log" "$D/state/ledger/topic-$MAXT.jsonl" "$D/record.jsonl" <<'PY'
import json, sys
seen = {}
for f in sys.argv[1:]:
    for l in open(f):
        o = json.loads(l)
        d = o.get("data", o) if f.endswith(".log") else o
        if isinstance(d, dict) and d.get("topic") is not None:
            seen.setdefault(f, set()).add(d["topic"])
assert len(seen) == 3, seen
for f, ts in seen.items():
    assert ts == {4294967295}, (f, ts)
PY
else
	not_ok "devnet with --topics $MAXT"
fi
finish

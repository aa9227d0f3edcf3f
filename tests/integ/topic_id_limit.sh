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
finish

#!/bin/bash
# Issue 7, alloractl register --topic N against the devnet: an unregistered wallet gets its
# RegisterRequest included, the registration is visible afterwards (check says ok), a second
# run has nothing to do; failures (insufficient funds, RPC down, an account the chain does not
# know, a topic the chain does not have, the wrong chain) say why and exit non-zero, without
# a transaction.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
A1=$TEST_ADDRESS_1
A2=$(address_of_test_mnemonic 2)
"$CTL" keys new --out "$D/key3" >/dev/null || not_ok "keys new"	# never funded (test-only)
# The devnet's registration fee is 1000000 uallo; the transaction's fee 300000 x 10.
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68 --epoch 6 --window 4 \
	--account "$A1:100000000000" --account "$A2:3500000" \
	--unregistered "$A1:67" --unregistered "$A2:67" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
write_test_mnemonic "$D/key2" 2
sed "s|^mnemonic_file = .*|mnemonic_file = $D/key2|" "$D/w.conf" >"$D/w2.conf"
sed "s|^mnemonic_file = .*|mnemonic_file = $D/key3|" "$D/w.conf" >"$D/w3.conf"
sed "s|^rpc = .*|rpc = http://127.0.0.1:9|" "$D/w.conf" >"$D/down.conf"
sed "s|^chain_id = .*|chain_id = allora-testnet-1|" "$D/w.conf" >"$D/chainid.conf"
sed "s|^\[topic 68\]|[topic 70]|" "$D/w.conf" >"$D/t70.conf"
txs() { grep -c '"kind":"tx"' "$D/record.jsonl" 2>/dev/null; }

"$CTL" -c "$D/w.conf" check >"$T/before.out"; rc=$?
check "before: check says not registered (exit 1)" sh -c "[ $rc = 1 ] && grep -q '^error *topic 67 registration .*is not registered' '$T/before.out'"
check "before: topic 68 is registered" grep -q "^ok *topic 68 registration" "$T/before.out"

out=$("$CTL" -c "$D/w.conf" register --topic 67 2>"$T/reg.err"); rc=$?
check "register --topic 67 succeeds (exit 0)" test $rc = 0
diag "$out"
sed 's/^/# /' "$T/reg.err"
check "it reports the address, the transaction and its block" sh -c "echo '$out' | grep -Eq '^registered $A1 as a worker in topic 67 \(tx [0-9A-F]{64}, block [0-9]+\)$'"
hash=$(echo "$out" | sed -n 's/.*(tx \([0-9A-F]*\), block.*/\1/p')
check "the devnet delivered that transaction with code 0 in that block" python3 - "$D/record.jsonl" "$hash" "$out" <<'PY'
import json, re, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
d = [r for r in rec if r.get("kind") == "tx" and r["stage"] == "deliver" and r["txhash"] == sys.argv[2]]
assert len(d) == 1, d
assert d[0]["code"] == 0 and d[0]["topic"] == 67, d[0]
assert str(d[0]["height"]) == re.search(r"block (\d+)", sys.argv[3])[1], (d[0], sys.argv[3])
PY
"$CTL" -c "$D/w.conf" check >"$T/after.out"; rc=$?
check "after: check reports ok (exit 0)" test $rc = 0
check "after: the registration line is ok" grep -q "^ok *topic 67 registration *$A1 is registered" "$T/after.out"
check "the registration fee and the transaction fee were paid" \
	grep -q "^ok *wallet main balance *99996000000 uallo" "$T/after.out"

n=$(txs)
out=$("$CTL" -c "$D/w.conf" register --topic 67 2>&1); rc=$?
check "a second register has nothing to do (exit 0)" sh -c "[ $rc = 0 ] && echo '$out' | grep -q 'already registered in topic 67: nothing to do'"
check "and sends no transaction" test "$(txs)" = "$n"

# failures: run NAME CONF EXPECTED_STATUS TEXT
fails() {
	local what=$1 conf=$2 want=$3 text=$4 out rc
	n=$(txs)
	out=$("$CTL" -c "$conf" register --topic "${5:-67}" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -q -- "$text" && [ "$(txs)" = "$n" ]; then
		ok "$what"
	else
		not_ok "$what"; diag "status $rc: $out"
	fi
}
fails "insufficient funds: exit 1, says so with the amounts, no transaction" "$D/w2.conf" 1 \
	"insufficient funds: $A2 has 3500000 uallo, registering costs 4000000 uallo (registration fee 1000000 + transaction fee 3000000); fund the wallet first"
fails "RPC down: exit 1, the chain does not answer" "$D/down.conf" 1 \
	"alloractl register: the chain does not answer: http://127.0.0.1:9"
fails "an account the chain does not know: exit 1, fund it first" "$D/w3.conf" 1 \
	"not found on the chain (fund it first)"
fails "the wrong chain: exit 1, names both chain ids" "$D/chainid.conf" 1 \
	'serves chain "devnet-1", the configuration says "allora-testnet-1"'
fails "a topic the chain does not have: exit 1" "$D/t70.conf" 1 \
	"topic 70 does not exist on this chain" 70
fails "a topic that is not configured: exit 2" "$D/w.conf" 2 "topic 69 is not in" 69
out=$("$CTL" -c "$D/w.conf" register 2>&1); rc=$?
check "register without --topic: exit 2" test $rc = 2
check "register --help: exit 0 with the usage" sh -c "'$CTL' register --help | grep -q 'usage: alloractl \[-c FILE\] register --topic N'"
"$CTL" -c "$D/w2.conf" check >"$T/w2.out"
check "the wallet that could not pay is still not registered" \
	grep -q "^error *topic 67 registration .*is not registered" "$T/w2.out"

# The key is loaded by the one-shot child only.
key_opened_by_child_only "register opens the key file in a child, never in alloractl itself" "$D/key" \
	"$CTL" -c "$D/w.conf" register --topic 68
finish

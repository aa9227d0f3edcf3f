#!/bin/bash
# Issue 3: alloractl keys and tx against the vectors; refused inputs and their exit statuses.
source "$(dirname "$0")/lib.sh"
V="$REPO/tests/vectors/allora-tx.json"
K=$T/key; write_test_mnemonic "$K"
check "keys show prints the vector address" test "$("$CTL" keys show --mnemonic-file "$K")" = "$TEST_ADDRESS_1"
check "keys show --json as INTERFACES.md" sh -c "'$CTL' keys show --mnemonic-file '$K' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d==dict(address=\"$TEST_ADDRESS_1\", pubkey=\"024f4e2ad99c34d60b9ba6283c9431a8418af8673212961f97a77b6377fcd05b62\", hd_path=\"m/44\x27/118\x27/0\x27/0/0\"), d'"
check "keys show --hd-path m/44'/118'/0'/0/1 gives the second vector" test "$("$CTL" keys show --mnemonic-file "$K" --hd-path "m/44'/118'/0'/0/1")" = allo1jrkmdcwgq94uaamx6zax2luewlhf7u4kjtujpm
for which in tx_v9 tx_v10; do
	em=${which#tx_}
	out=$("$CTL" tx build --mnemonic-file "$K" --chain-id allora-testnet-1 --account-number 12345 \
		--sequence 7 --topic 67 --nonce 6626395 --value -0.0123456789 --gas 300000 \
		--fee 3000000uallo --timeout-height 6627115 --emissions "$em")
	check "tx build ($em) prints the vector's TxRaw base64 and nothing else" test "$out" = "$(json "$V" "d['$which']['tx_raw_base64']")"
	check "tx build --json ($em) has every intermediate of the vector" python3 - "$V" "$which" <<PY
import json, subprocess, sys
v = json.load(open(sys.argv[1])); w = sys.argv[2]
out = json.loads(subprocess.check_output(["$CTL", "tx", "build", "--mnemonic-file", "$K",
    "--chain-id", "allora-testnet-1", "--account-number", "12345", "--sequence", "7",
    "--topic", "67", "--nonce", "6626395", "--value", "-0.0123456789", "--fee", "3000000",
    "--timeout-height", "6627115", "--emissions", "$em", "--json"]))
for k, x in list(v[w].items()) + list(v["payload"].items()):
    assert out.get(k) == x, (k, out.get(k), x)
PY
	check "tx decode of the $which vector gives back every field" python3 - "$V" "$which" <<PY
import json, subprocess, sys
v = json.load(open(sys.argv[1])); w = sys.argv[2]; t = v[w]; p = v["payload"]
d = json.loads(subprocess.check_output(["$CTL", "tx", "decode", t["tx_raw_base64"],
    "--chain-id", t["chain_id"], "--account-number", t["account_number"]]))
m = d["body"]["messages"][0]; b = m["worker_data_bundle"]; i = b["inference"]
assert m["type_url"] == t["type_url"]
assert str(d["body"]["timeout_height"]) == t["timeout_height"]
assert str(d["auth_info"]["sequence"]) == t["sequence"] and str(d["auth_info"]["gas_limit"]) == t["gas_limit"]
assert d["auth_info"]["fee"][0]["amount"] + d["auth_info"]["fee"][0]["denom"] == t["fee"]
assert d["signatures_hex"] == [t["tx_signature_rs_hex"]] and d["tx_hash"] == t["tx_hash_hex_upper"]
assert str(b["nonce"]) == p["nonce_block_height"] and str(b["topic_id"]) == p["topic_id"]
assert i["value"] == p["value"] and b["signature_hex"] == p["bundle_signature_rs_hex"]
assert d["bundle_signature_ok"] is True and d["tx_signature_ok"] is True
assert d["auth_info"]["pubkey_hex"] == v["keys"]["pubkey_compressed_hex"] == b["pubkey"]
for k in ("body", "auth_info", "signatures_hex", "tx_hash", "bundle_signature_ok", "tx_signature_ok"):
    assert k in d
PY
done
d=$("$CTL" tx decode "$(json "$V" "d['tx_v10']['tx_raw_base64']")")
check "tx decode without chain id: tx_signature_ok is null" sh -c "echo '$d' | grep -q '\"tx_signature_ok\": null'"

refused() {	# what, expected status, expected stderr regex, command...
	local what=$1 want=$2 re=$3 out rc; shift 3
	out=$("$@" 2>"$T/err"); rc=$?
	if [ $rc -eq "$want" ] && [ -z "$out" ] && grep -qE -- "$re" "$T/err"; then ok "$what (exit $rc: $(head -1 "$T/err"))"
	else not_ok "$what: exit $rc, stdout '$out', stderr '$(cat "$T/err")'"; fi
}
bad() { ( umask 077; echo "$1" >"$T/bad" ); }
bad "abandon abandon abandon abandon abandonx abandon abandon abandon abandon abandon abandon about"
refused "a wrong word names its position, never the words" 2 "word 5 is not in the BIP39" "$CTL" keys show --mnemonic-file "$T/bad"
grep -q abandon "$T/err" && not_ok "the mnemonic was echoed" || ok "the mnemonic is not echoed"
bad "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"
refused "a bad checksum" 2 "checksum" "$CTL" keys show --mnemonic-file "$T/bad"
bad "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
refused "11 words" 2 "not 11" "$CTL" keys show --mnemonic-file "$T/bad"
bad "$(printf 'abandon %.0s' $(seq 25))"
refused "25 words" 2 "not 25" "$CTL" keys show --mnemonic-file "$T/bad"
cp "$K" "$T/open"; chmod 644 "$T/open"
refused "a world-readable key file (mode named)" 2 "mode 0644 lets group or others read" "$CTL" keys show --mnemonic-file "$T/open"
TXA=(tx build --mnemonic-file "$K" --chain-id c --account-number 1 --sequence 0 --topic 67 --nonce 10)
refused "value NaN" 2 "NaN" "$CTL" "${TXA[@]}" --value NaN
refused "value 1e41" 2 "bounds" "$CTL" "${TXA[@]}" --value 1e41
refused "value abc" 2 "not a decimal" "$CTL" "${TXA[@]}" --value abc
refused "a missing flag" 2 "required" "$CTL" tx build --mnemonic-file "$K" --value 1
refused "a bad number" 2 "--sequence" "$CTL" "${TXA[@]}" --value 1 --sequence x
refused "decode of garbage" 2 "not" "$CTL" tx decode "!!!!"

check "keys new writes a 0600 file and prints only the address" sh -c "'$CTL' keys new --out '$T/new.m' | grep -qx 'allo1[02-9ac-hj-np-z]*' && test \$(stat -c %a '$T/new.m') = 600"
check "the new file holds a valid 24-word mnemonic" sh -c "test \$(wc -w <'$T/new.m') = 24 && '$CTL' keys show --mnemonic-file '$T/new.m' >/dev/null"
refused "keys new refuses to overwrite" 1 "refusing to overwrite" "$CTL" keys new --out "$T/new.m"
finish

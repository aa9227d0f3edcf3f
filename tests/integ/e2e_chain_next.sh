#!/bin/bash
# Issue 21, against the devnet: a multi-output topic served by an exec: model that returns
# labelled values (accepted), the same kind of topic with the built-in single-value model
# (refused at start with the message, and by `check`); --no-bundle-signature (the first
# simulation calls fields 5/6 unknown, the submitter retries without them, remembers it for
# the chain id, every later transaction omits them, all accepted).
source "$(dirname "$0")/lib.sh"

# ---- arity and labelled values ----
D=$T/a
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 67,68,69 --epoch 16 --window 12 \
	--emissions v10 --topic-arity 68:multi --topic-arity 69:multi \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
printf '#!/bin/sh\necho "{\\"labels\\": {\\"up\\": \\"0.75\\", \\"down\\": \\"-2.5e-9\\"}}"\n' >"$D/labels.sh"
chmod 755 "$D/labels.sh"
printf '[topic 68]\nwallet = main\ndata_source = csv:%s/bars.csv\nmodel = exec:%s/labels.sh\npredict_timeout_s = 5\n' "$D" "$D" >>"$D/w.conf"
printf '[topic 69]\nwallet = main\ndata_source = csv:%s/bars.csv\ntrain_span_hours = 720\npredict_timeout_s = 5\n' "$D" >>"$D/w.conf"
"$CTL" -c "$D/w.conf" check >"$D/check.out" 2>&1
check "check: topic 69 (multi, built-in model) is an error naming topic and arity" \
	grep -q 'topic 69 requires labelled values (output arity multi): model "default"' "$D/check.out"
check "check: topic 68 (multi, exec:) is fine, topic 67 single" sh -c "grep 'topic 68 arity' '$D/check.out' | grep -q multi && grep 'topic 67 arity' '$D/check.out' | grep -q single"
check "start" env MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$D/w.conf" start
accepted_topic() {	# accepted_topic RECORD TOPIC [N]: N windows of TOPIC delivered with code 0
	python3 - "$1" "$2" "${3:-1}" <<'PY'
import json, sys
n = sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)]
        if r.get("kind") == "tx" and r.get("stage") == "deliver" and r.get("code") == 0
        and r.get("topic") == int(sys.argv[2]))
sys.exit(0 if n >= int(sys.argv[3]) else 1)
PY
}
check "topic 68: the exec: model's labelled values are accepted" wait_for 40 accepted_topic "$D/record.jsonl" 68
check "topic 67 (single) is still served alongside" wait_for 20 accepted_topic "$D/record.jsonl" 67
check "topic 69 is refused at start: stopped, with the message" python3 - "$CTL" "$D/w.conf" <<'PY'
import json, subprocess, sys
d = json.loads(subprocess.run([sys.argv[1], "-c", sys.argv[2], "status", "--json"], capture_output=True, text=True).stdout)
t = [t for t in d["topics"] if t["id"] == 69][0]
assert t["state"] == "stopped", t
assert "topic 69 requires labelled values (output arity multi)" in (t.get("reason") or ""), t
PY
check "the event log names topic 69 and its arity" grep -q '"reason": *"arity"' "$D/state/logs/worker_continuous.log"
check "topic 69 never sent a transaction" sh -c "! accepted_topic '$D/record.jsonl' 69 2>/dev/null; ! grep -q '\"topic\": *69, *\"nonce\": *[0-9]*, *\"worker\"' '$D/record.jsonl'"
check "the labelled transaction decodes with its labels, sorted, and no single value" python3 - "$CTL" "$D/state/ledger/topic-68.jsonl" <<'PY'
import json, subprocess, sys
tx = [json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["state"] == "signed"][0]["tx"]
d = json.loads(subprocess.run([sys.argv[1], "tx", "decode", tx], capture_output=True, text=True, check=True).stdout)
i = d["body"]["messages"][0]["worker_data_bundle"]["inference"]
assert i["values"] == [{"label": "down", "value": "-2.5E-9"}, {"label": "up", "value": "0.75"}], i
assert i["value"] == "", i
PY
check "stop" "$CTL" -c "$D/w.conf" stop

# ---- a single value for a multi-output topic is refused before signing ----
D=$T/b
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 68 --epoch 16 --window 12 \
	--emissions v10 --arity multi --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i '/^\[topic 67\]/,$d' "$D/w.conf"
printf '[topic 68]\nwallet = main\ndata_source = csv:%s/bars.csv\nmodel = exec:/bin/echo 0.5\npredict_timeout_s = 5\n' "$D" >>"$D/w.conf"
check "start (an exec: model on a multi-output topic)" env MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$D/w.conf" start
rejected_arity() {
	grep -q 'topic 68 requires labelled values (output arity multi): a single value (0.5) is refused' "$D/state/logs/worker_continuous.log"
}
check "a single value from it is refused before signing, with the message" wait_for 30 rejected_arity
check "nothing reached the chain" sh -c "! grep -q '\"kind\": *\"tx\"' '$D/record.jsonl'"
check "stop" "$CTL" -c "$D/w.conf" stop

# ---- bundles without signature fields ----
D=$T/c
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 67 --epoch 12 --window 10 \
	--emissions v10 --no-bundle-signature --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
check "start" env MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$D/w.conf" start
check "three windows accepted on a chain without fields 5/6" wait_for 60 accepted_topic "$D/record.jsonl" 67 3
check "stop" "$CTL" -c "$D/w.conf" stop
check "the retry was logged once, naming the chain id" sh -c "test \$(grep -c 'bundle_signature_unknown' '$D/state/logs/worker_continuous.log') -eq 1 && grep -q 'chain devnet-1 does not know InputWorkerDataBundle fields 5/6' '$D/state/logs/worker_continuous.log'"
check "every transaction omits fields 5/6; the devnet refused none of them" python3 - "$CTL" "$D/state/ledger/topic-67.jsonl" "$D/record.jsonl" <<'PY'
import json, subprocess, sys
txs = [json.loads(l)["tx"] for l in open(sys.argv[2]) if json.loads(l)["state"] == "signed"]
assert len(txs) >= 3, len(txs)
for tx in txs:
    d = json.loads(subprocess.run([sys.argv[1], "tx", "decode", tx], capture_output=True, text=True, check=True).stdout)
    b = d["body"]["messages"][0]["worker_data_bundle"]
    assert b["signature_hex"] == "" and b["pubkey"] == "", b
bad = [r for l in open(sys.argv[3]) for r in [json.loads(l)] if r.get("kind") == "tx" and r.get("code") != 0]
assert not bad, bad
PY
check "it is remembered for the chain id, and check shows it" sh -c "grep -q '\"bundle_signature_fields\": *false' '$D/state/chain-devnet-1.json' && '$CTL' -c '$D/w.conf' check 2>&1 | grep 'bundle signature' | grep -q 'does not know InputWorkerDataBundle fields 5/6'"
check "the devnet rejects a bundle with fields 5/6 at decode (unknown field, code 2)" python3 - "$CTL" "$D" "$DEVNET_URL" <<'PY'
import json, subprocess, sys, urllib.request
ctl, d, url = sys.argv[1:]
acct = json.loads(urllib.request.urlopen(url + "/status").read())
b64 = subprocess.run([ctl, "tx", "build", "--mnemonic-file", d + "/key", "--chain-id", "devnet-1",
    "--account-number", "0", "--sequence", "0", "--topic", "67", "--nonce", "5", "--value", "0.1"],
    capture_output=True, text=True, check=True).stdout.strip()
r = json.loads(urllib.request.urlopen(url + "/broadcast_tx_sync?tx=\"%s\"" % urllib.parse.quote(b64)).read())["result"]
assert r["code"] == 2 and 'errUnknownField "emissions.v10.InputWorkerDataBundle": {TagNum: 5' in r["log"], r
PY
check "the devnet rejects a v9 message on a v10 chain" python3 - "$CTL" "$D" "$DEVNET_URL" <<'PY'
import json, subprocess, sys, urllib.request, urllib.parse
ctl, d, url = sys.argv[1:]
b64 = subprocess.run([ctl, "tx", "build", "--mnemonic-file", d + "/key", "--chain-id", "devnet-1",
    "--account-number", "0", "--sequence", "0", "--topic", "67", "--nonce", "5", "--value", "0.1",
    "--emissions", "v9", "--no-bundle-signature"], capture_output=True, text=True, check=True).stdout.strip()
r = json.loads(urllib.request.urlopen(url + "/broadcast_tx_sync?tx=\"%s\"" % urllib.parse.quote(b64)).read())["result"]
assert r["code"] == 2 and "emissions.v9.InsertWorkerPayloadRequest" in r["log"], r
PY
finish

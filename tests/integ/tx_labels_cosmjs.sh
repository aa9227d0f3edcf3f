#!/bin/bash
# Issue 21: tx build --labels / tx decode of v10 InputInference field 7 (repeated
# InputLabeledValue {label = 1, value = 2}) and of bundles without fields 5/6, checked against
# an independent encoder: cosmjs's protobuf writer (cosmjs-types/binary) encodes every message
# from the field numbers of allora-chain's v10 inputworker.proto, @cosmjs/crypto verifies the
# bundle signature and cosmjs signs the same SignDoc; the other way, alloractl decodes a
# transaction cosmjs built.  The label rules are refused before signing.  The npm setup is
# lib.sh's cosmjs_setup (shared with tx_granter_cosmjs.sh).
source "$(dirname "$0")/lib.sh"
write_test_mnemonic "$T/key" 1
build() {	# build NAME ARGS...
	local name=$1; shift
	"$CTL" tx build --mnemonic-file "$T/key" --chain-id allora-testnet-1 --account-number 1234 \
		--sequence 7 --topic 68 --nonce 6626395 --json "$@" >"$T/$name.json" 2>"$T/$name.err"
}
printf '{"ETH": "3512.25", "BTC": "-0.0123456789", "SOL": "1e-7"}\n' >"$T/lab_multi.json"
printf '{"only": "0.042"}\n' >"$T/lab_one.json"
check "tx build --labels (multi-output topic, three labels)" build multi --labels "$T/lab_multi.json" --arity multi
check "tx build --labels (one label, single-output topic)" build one --labels "$T/lab_one.json" --arity single
check "tx build --labels --no-bundle-signature" build nosig --labels "$T/lab_multi.json" --arity multi --no-bundle-signature
check "tx build --value --no-bundle-signature" build vnosig --value 0.5 --no-bundle-signature
check "tx build --json shows the labels sorted, values canonical, value null" python3 -c "
import json
d = json.load(open('$T/multi.json'))
assert d['value'] is None, d['value']
assert [v['label'] for v in d['values']] == ['BTC', 'ETH', 'SOL'], d['values']
n = json.load(open('$T/nosig.json'))
assert n['bundle_signature_rs_hex'] is None
"
# The label rules, before signing (exit 2, the rule named).
refused() {	# refused WHAT PATTERN LABELS_JSON ARGS...
	local what=$1 pat=$2 js=$3; shift 3
	printf '%s\n' "$js" >"$T/bad.json"
	check "$what" sh -c "! '$CTL' tx build --mnemonic-file '$T/key' --chain-id c --account-number 1 --sequence 1 --topic 68 --nonce 5 --labels '$T/bad.json' $* 2>'$T/bad.err'; test \$? -eq 0 && grep -q '$pat' '$T/bad.err'"
}
refused "two labels on a single-output topic are refused" "at most one" '{"a": "1", "b": "2"}' --arity single
refused "a repeated label is refused" "duplicate" '{"a": "1", "a": "2"}' --arity multi
refused "an empty label is refused" "empty" '{"": "1"}' --arity multi
refused "a value out of the chain's bounds is refused" "label \"a\"" '{"a": "1e41"}' --arity multi
refused "a value that is not a decimal string is refused" "decimal" '{"a": 1.5}' --arity multi
refused "labels on emissions v9 are refused" "v10" '{"a": "1"}' --arity multi --emissions v9
check "--value and --labels together are refused" sh -c "! '$CTL' tx build --mnemonic-file '$T/key' --chain-id c --account-number 1 --sequence 1 --topic 68 --nonce 5 --value 1 --labels '$T/lab_one.json' 2>/dev/null"

cosmjs_setup || finish
cp "$REPO/tests/integ/payload_enc.js" "$T/"
cat >"$T/labels.js" <<'JS'
const fs = require("fs");
const { TxRaw, TxBody } = require("cosmjs-types/cosmos/tx/v1beta1/tx");
const ps = require("@cosmjs/proto-signing");
const { Secp256k1, Secp256k1Signature, sha256 } = require("@cosmjs/crypto");
const { hex, unhex, eq, inputInference, bundle, workerDataBundle, request } = require("./payload_enc.js");
(async () => {
  const [mnemonic, ...files] = process.argv.slice(2);
  const wallet = await ps.DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "allo" });
  const [acct] = await wallet.getAccounts();
  const pubhex = hex(acct.pubkey);
  for (const f of files) {
    const v = JSON.parse(fs.readFileSync(f, "utf8"));
    const inf = inputInference(v.topic_id, v.nonce_block_height, acct.address, v.value, v.values);
    eq(f + " InputInference", v.input_inference_hex, hex(inf));
    const b = bundle(inf);
    eq(f + " bundle", v.input_inference_forecast_bundle_hex, hex(b));
    let sig = null;
    if (v.bundle_signature_rs_hex !== null) {
      sig = unhex(v.bundle_signature_rs_hex);
      const ok = await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(sig), sha256(b), acct.pubkey);
      if (!ok) { console.error(f + ": the bundle signature does not verify"); process.exit(1); }
    }
    const wdb = workerDataBundle(acct.address, v.nonce_block_height, v.topic_id, b, sig, sig ? pubhex : null);
    eq(f + " InputWorkerDataBundle", v.worker_data_bundle_hex, hex(wdb));
    const req = request(acct.address, wdb);
    eq(f + " InsertWorkerPayloadRequest", v.insert_worker_payload_request_hex, hex(req));
    const raw = TxRaw.decode(unhex(v.tx_raw_hex));
    const bb = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: v.type_url, value: req }] })).finish();
    eq(f + " tx_body", v.tx_body_hex, hex(bb));
    const sd = ps.makeSignDoc(bb, raw.authInfoBytes, v.chain_id, BigInt(v.account_number));
    eq(f + " sign_doc", v.sign_doc_hex, hex(ps.makeSignBytes(sd)));
    const { signature } = await wallet.signDirect(acct.address, sd);
    eq(f + " signature", v.tx_signature_rs_hex, Buffer.from(signature.signature, "base64").toString("hex"));
  }
  // The other way: cosmjs builds a labelled payload (no bundle signature) for alloractl.
  const v = JSON.parse(fs.readFileSync(files[0], "utf8"));
  const raw = TxRaw.decode(unhex(v.tx_raw_hex));
  const inf = inputInference(68, 777, acct.address, "", [{ label: "up", value: "0.75" }, { label: "down", value: "-2.5E-9" }]);
  const req = request(acct.address, workerDataBundle(acct.address, 777, 68, bundle(inf), null, null));
  const bb = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: "/emissions.v10.InsertWorkerPayloadRequest", value: req }] })).finish();
  const sd = ps.makeSignDoc(bb, raw.authInfoBytes, "allora-testnet-1", 1234n);
  const { signature } = await wallet.signDirect(acct.address, sd);
  const tr = TxRaw.encode(TxRaw.fromPartial({ bodyBytes: bb, authInfoBytes: raw.authInfoBytes, signatures: [Buffer.from(signature.signature, "base64")] })).finish();
  console.log(Buffer.from(tr).toString("base64"));
})().catch((e) => { console.error(e); process.exit(1); });
JS
if node "$T/labels.js" "$TEST_MNEMONIC_1" "$T/multi.json" "$T/one.json" "$T/nosig.json" "$T/vnosig.json" >"$T/cross.out" 2>"$T/cross.err"; then
	ok "cosmjs encodes the same InputInference (field 7), bundle, InputWorkerDataBundle (with and without fields 5/6), TxBody, SignDoc and signature"
else
	not_ok "cosmjs encodes the same InputInference (field 7), bundle, InputWorkerDataBundle (with and without fields 5/6), TxBody, SignDoc and signature"
	sed 's/^/# /' "$T/cross.err"
fi
"$CTL" tx decode "$(cat "$T/cross.out")" --chain-id allora-testnet-1 --account-number 1234 >"$T/dec.json" 2>"$T/dec.err"
check "tx decode of cosmjs's labelled transaction: values in order, no single value, no signature fields, tx signature verifies" python3 - "$T/dec.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["body"]["messages"][0]["worker_data_bundle"]
i = m["inference"]
assert i["values"] == [{"label": "up", "value": "0.75"}, {"label": "down", "value": "-2.5E-9"}], i
assert i["value"] == "" and i["value_canonical"] is True, i
assert m["signature_hex"] == "" and m["pubkey"] == "", m
assert d["tx_signature_ok"] is True, d
PY
check "tx decode of our vector gives back its labels; a single-value one has empty values" python3 - "$T/multi.json" "$T/vnosig.json" <<'PY'
import json, subprocess, sys, os
ctl = os.path.join(os.environ["BUILD_DIR"], "alloractl")
for f in sys.argv[1:]:
    v = json.load(open(f))
    d = json.loads(subprocess.run([ctl, "tx", "decode", v["tx_raw_base64"]], capture_output=True, text=True, check=True).stdout)
    i = d["body"]["messages"][0]["worker_data_bundle"]["inference"]
    assert i["values"] == v["values"], (f, i["values"], v["values"])
PY
finish

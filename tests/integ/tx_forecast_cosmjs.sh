#!/bin/bash
# Issue 22: tx build --forecast / tx decode of the bundle's InputForecast (emissions
# InputInferenceForecastBundle field 2: InputForecast {topic_id = 1, block_height = 2,
# forecaster = 3, repeated InputForecastElement forecast_elements = 4 {inferer = 1, value = 2},
# extra_data = 5}; PROTOCOL.md §1.2), checked against an independent encoder: cosmjs's
# protobuf writer encodes every message from those field numbers, @cosmjs/crypto verifies
# that the bundle signature covers the forecast, cosmjs signs the same SignDoc; the other
# way, alloractl decodes a forecast cosmjs built.  Each element rule is refused offline
# (exit 2, the element and the rule named) and values are rewritten in canonical form.
source "$(dirname "$0")/lib.sh"
write_test_mnemonic "$T/key" 1
write_test_mnemonic "$T/key2" 2
A2=$("$CTL" keys show --mnemonic-file "$T/key2")
A3=allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy
build() {	# build NAME ARGS...
	local name=$1; shift
	"$CTL" tx build --mnemonic-file "$T/key" --chain-id allora-testnet-1 --account-number 1234 \
		--sequence 7 --topic 67 --nonce 6626395 --json "$@" >"$T/$name.json" 2>"$T/$name.err"
}
printf '[{"inferer": "%s", "value": "-1.75E-1"}, {"inferer": "%s", "value": "0.0000001"}]\n' "$A2" "$A3" >"$T/in_fc.json"
check "tx build --forecast (two elements)" build fc --value 0.5 --forecast "$T/in_fc.json"
check "tx build --forecast --emissions v9" build fc9 --value 0.5 --forecast "$T/in_fc.json" --emissions v9
check "tx build --forecast --no-bundle-signature" build fcnosig --value 0.5 --forecast "$T/in_fc.json" --no-bundle-signature
check "tx build --json shows the forecast: values canonical (-1.75E-1 -> -0.175), forecaster ours, height = nonce" python3 - "$T/fc.json" "$A2" "$A3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["forecast"]
assert f == {"topic_id": 67, "block_height": 6626395, "forecaster": "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv",
             "forecast_elements": [{"inferer": sys.argv[2], "value": "-0.175"}, {"inferer": sys.argv[3], "value": "1E-7"}],
             "extra_data": ""}, f
assert d["payload"]["forecast"] == f
PY
build plain --value 0.5
check "tx build --forecast gives the bytes of tests/vectors/forecast-tx.json (the vector the cosmjs check below verifies)" python3 - "$T/fc.json" "$REPO/tests/vectors/forecast-tx.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = json.load(open(sys.argv[2]))["tx_v10_forecast"]
for k in v:
    assert d[k] == v[k], (k, d[k], v[k])
PY
check "tx build --json without --forecast: forecast null" python3 -c "import json; assert json.load(open('$T/plain.json'))['forecast'] is None"
check "tx decode shows the forecast exactly as INTERFACES.md says, the bundle signature verifies" python3 - "$T/fc.json" <<'PY'
import json, subprocess, sys, os
ctl = os.path.join(os.environ["BUILD_DIR"], "alloractl")
v = json.load(open(sys.argv[1]))
d = json.loads(subprocess.run([ctl, "tx", "decode", v["tx_raw_base64"]], capture_output=True, text=True, check=True).stdout)
f = d["body"]["messages"][0]["worker_data_bundle"]["forecast"]
assert list(f) == ["topic_id", "block_height", "forecaster", "forecast_elements", "extra_data"], list(f)
assert f == v["forecast"], (f, v["forecast"])
assert d["bundle_signature_ok"] is True
p = json.loads(subprocess.run([ctl, "tx", "decode", json.load(open(sys.argv[1].replace("fc.json", "plain.json")))["tx_raw_base64"]], capture_output=True, text=True, check=True).stdout)
assert p["body"]["messages"][0]["worker_data_bundle"]["forecast"] is None
PY
# The element rules, offline (exit 2, the element and the rule named).
refused() {	# refused WHAT PATTERN FORECAST_JSON ARGS...
	local what=$1 pat=$2 js=$3; shift 3
	printf '%s\n' "$js" >"$T/bad.json"
	check "$what" sh -c "'$CTL' tx build --mnemonic-file '$T/key' --chain-id c --account-number 1 --sequence 1 --topic 67 --nonce 5 --value 1 --forecast '$T/bad.json' $* >'$T/bad.out' 2>'$T/bad.err'; test \$? -eq 2 && grep -q -- '$pat' '$T/bad.err' && ! test -s '$T/bad.out'"
}
refused "not an array is refused" "\[not_array\]" "{\"inferer\": \"$A2\", \"value\": \"1\"}"
refused "no element is refused" "\[empty\]" "[]"
refused "an invalid address is refused, naming the element" "element 2: inferer \"allo1xyz\" is not a valid bech32.*\[bad_address\]" "[{\"inferer\": \"$A2\", \"value\": \"1\"}, {\"inferer\": \"allo1xyz\", \"value\": \"1\"}]"
refused "an address of another chain is refused" "\[bad_address\]" '[{"inferer": "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a", "value": "1"}]'
refused "our own address is refused" "element 1: inferer allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv is this worker.s own address.*\[own_address\]" '[{"inferer": "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv", "value": "1"}]'
refused "a duplicate inferer is refused" "element 2: inferer $A2 appears twice (also element 1).*\[duplicate\]" "[{\"inferer\": \"$A2\", \"value\": \"1\"}, {\"inferer\": \"$A2\", \"value\": \"2\"}]"
refused "more elements than --max-forecast-elements are refused" "at most 1.*\[too_many\]" "[{\"inferer\": \"$A2\", \"value\": \"1\"}, {\"inferer\": \"$A3\", \"value\": \"2\"}]" --max-forecast-elements 1
refused "a value out of the chain's bounds is refused" "element 1 (inferer $A2): value \"1e41\".*\[bad_value\]" "[{\"inferer\": \"$A2\", \"value\": \"1e41\"}]"
refused "a value that is not decimal text is refused" "\[bad_value\]" "[{\"inferer\": \"$A2\", \"value\": \"0x10\"}]"
refused "a value that is a JSON number is refused" "JSON string.*\[bad_value\]" "[{\"inferer\": \"$A2\", \"value\": 0.5}]"
refused "an element with another key is refused" "unknown key.*\[bad_element\]" "[{\"inferer\": \"$A2\", \"value\": \"1\", \"weight\": 2}]"
refused "a file that is not JSON is refused with file:line" "bad.json:[0-9]" "[{"

cosmjs_setup || finish
cp "$REPO/tests/integ/payload_enc.js" "$T/"
cat >"$T/forecast.js" <<'JS'
const fs = require("fs");
const { TxRaw, TxBody } = require("cosmjs-types/cosmos/tx/v1beta1/tx");
const ps = require("@cosmjs/proto-signing");
const { Secp256k1, Secp256k1Signature, sha256 } = require("@cosmjs/crypto");
const { hex, unhex, eq, inputInference, inputForecast, bundle, workerDataBundle, request } = require("./payload_enc.js");
(async () => {
  const [mnemonic, ...files] = process.argv.slice(2);
  const wallet = await ps.DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "allo" });
  const [acct] = await wallet.getAccounts();
  const pubhex = hex(acct.pubkey);
  for (const f of files) {
    const v = JSON.parse(fs.readFileSync(f, "utf8"));
    const inf = inputInference(v.topic_id, v.nonce_block_height, acct.address, v.value);
    eq(f + " InputInference", v.input_inference_hex, hex(inf));
    const fc = inputForecast(v.topic_id, v.nonce_block_height, acct.address, v.forecast.forecast_elements);
    eq(f + " InputForecast", v.input_forecast_hex, hex(fc));
    const b = bundle(inf, fc);
    eq(f + " bundle", v.input_inference_forecast_bundle_hex, hex(b));
    let sig = null;
    if (v.bundle_signature_rs_hex !== null) {
      sig = unhex(v.bundle_signature_rs_hex);
      const ok = await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(sig), sha256(b), acct.pubkey);
      if (!ok) { console.error(f + ": the bundle signature does not verify over the bundle with its forecast"); process.exit(1); }
      const ok2 = await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(sig), sha256(bundle(inf, null)), acct.pubkey);
      if (ok2) { console.error(f + ": the bundle signature verifies without the forecast"); process.exit(1); }
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
  // The other way: cosmjs builds and signs a bundle with a forecast for alloractl to decode.
  const v = JSON.parse(fs.readFileSync(files[0], "utf8"));
  const raw = TxRaw.decode(unhex(v.tx_raw_hex));
  const inf = inputInference(67, 777, acct.address, "0.5");
  const fc = inputForecast(67, 777, acct.address, [{ inferer: "allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy", value: "-2.5E-9" }, { inferer: "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc", value: "3" }]);
  const b = bundle(inf, fc);
  const priv = (await wallet.getAccountsWithPrivkeys())[0].privkey;
  const s = await Secp256k1.createSignature(sha256(b), priv);
  const sig = new Uint8Array([...s.r(32), ...s.s(32)]);
  const req = request(acct.address, workerDataBundle(acct.address, 777, 67, b, sig, pubhex));
  const bb = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: "/emissions.v10.InsertWorkerPayloadRequest", value: req }] })).finish();
  const sd = ps.makeSignDoc(bb, raw.authInfoBytes, "allora-testnet-1", 1234n);
  const { signature } = await wallet.signDirect(acct.address, sd);
  const tr = TxRaw.encode(TxRaw.fromPartial({ bodyBytes: bb, authInfoBytes: raw.authInfoBytes, signatures: [Buffer.from(signature.signature, "base64")] })).finish();
  console.log(Buffer.from(tr).toString("base64"));
})().catch((e) => { console.error(e); process.exit(1); });
JS
if node "$T/forecast.js" "$TEST_MNEMONIC_1" "$T/fc.json" "$T/fc9.json" "$T/fcnosig.json" >"$T/cross.out" 2>"$T/cross.err"; then
	ok "cosmjs encodes the same InputForecast, bundle (field 2), InputWorkerDataBundle, TxBody, SignDoc and signature; the bundle signature covers the forecast"
else
	not_ok "cosmjs encodes the same InputForecast, bundle (field 2), InputWorkerDataBundle, TxBody, SignDoc and signature; the bundle signature covers the forecast"
	sed 's/^/# /' "$T/cross.err"
fi
"$CTL" tx decode "$(cat "$T/cross.out")" --chain-id allora-testnet-1 --account-number 1234 >"$T/dec.json" 2>"$T/dec.err"
check "tx decode of cosmjs's forecast: its elements in order, forecaster, height, signatures verify" python3 - "$T/dec.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["body"]["messages"][0]["worker_data_bundle"]["forecast"]
assert f == {"topic_id": 67, "block_height": 777, "forecaster": "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv",
             "forecast_elements": [{"inferer": "allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy", "value": "-2.5E-9"},
                                   {"inferer": "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc", "value": "3"}],
             "extra_data": ""}, f
assert d["bundle_signature_ok"] is True and d["tx_signature_ok"] is True, d
PY
finish

#!/bin/bash
# Issue 20: tx build --fee-granter / tx decode vectors checked against an independent encoder,
# cosmjs (@cosmjs/proto-signing, cosmjs-types from npm, installed by this test into a cache
# folder, $AW_NPM_DIR or BUILD_DIR/npm).  Both ways: cosmjs re-encodes TxBody, AuthInfo (with
# Fee.granter), SignDoc and TxRaw from our fields and signs with the same mnemonic (RFC 6979:
# the same signature), and alloractl decodes a transaction cosmjs built.  Skipped, with the
# reason, when npm cannot reach the registry; nothing else in the tree needs npm.
source "$(dirname "$0")/lib.sh"
cosmjs_setup || finish
write_test_mnemonic "$T/key" 1
G=$(address_of_test_mnemonic 2)
n=0
vec() {	# vec NAME ARGS...: one vector from alloractl tx build --json
	local name=$1; shift
	"$CTL" tx build --mnemonic-file "$T/key" --chain-id allora-testnet-1 --account-number 1234 \
		--sequence 7 --topic 67 --nonce 6626395 --value -0.0123456789 --json "$@" >"$T/$name.json"
}
check "tx build --fee-granter (v10)" vec g10 --fee-granter "$G" --gas 144000 --fee 36000000000000 --emissions v10
check "tx build --fee-granter (v9, memo, timeout height)" vec g9 --fee-granter "$G" --emissions v9 --memo "fees issue 20" --timeout-height 6627115
check "tx build without a granter" vec none --emissions v10
check "tx build --json names the granter (null without one)" python3 -c "
import json, sys
assert json.load(open('$T/g10.json'))['fee_granter'] == '$G'
assert json.load(open('$T/none.json'))['fee_granter'] is None"
check "a memo over 256 bytes is refused before signing" sh -c "! '$CTL' tx build --mnemonic-file '$T/key' --chain-id c --account-number 1 --sequence 1 --topic 67 --nonce 5 --value 1 --memo $(printf 'x%.0s' $(seq 257)) 2>'$T/memo.err' && grep -q 'at most 256' '$T/memo.err'"
check "a granter that is not an address is refused" sh -c "! '$CTL' tx build --mnemonic-file '$T/key' --chain-id c --account-number 1 --sequence 1 --topic 67 --nonce 5 --value 1 --fee-granter allo1xyz 2>/dev/null"

cp "$REPO/tests/integ/payload_enc.js" "$T/"
cat >"$T/cross.js" <<'JS'
const fs = require("fs");
const { TxRaw, TxBody, AuthInfo } = require("cosmjs-types/cosmos/tx/v1beta1/tx");
const { SignMode } = require("cosmjs-types/cosmos/tx/signing/v1beta1/signing");
const ps = require("@cosmjs/proto-signing");
const { hex, unhex, eq } = require("./payload_enc.js");
(async () => {
  const [mnemonic, ...files] = process.argv.slice(2);
  const wallet = await ps.DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "allo" });
  const [acct] = await wallet.getAccounts();
  for (const f of files) {
    const v = JSON.parse(fs.readFileSync(f, "utf8"));
    const raw = TxRaw.decode(unhex(v.tx_raw_hex));
    const ai = AuthInfo.decode(raw.authInfoBytes);
    eq(f + " Fee.granter", v.fee_granter === null ? "" : v.fee_granter, ai.fee.granter);
    // AuthInfo from the fields, by cosmjs
    const pubkey = ps.encodePubkey({ type: "tendermint/PubKeySecp256k1", value: Buffer.from(acct.pubkey).toString("base64") });
    const feeAmount = [{ denom: "uallo", amount: v.fee.replace(/uallo$/, "") }];
    const aib = ps.makeAuthInfoBytes([{ pubkey, sequence: BigInt(v.sequence) }], feeAmount,
      Number(v.gas_limit), v.fee_granter === null ? undefined : v.fee_granter, undefined, SignMode.SIGN_MODE_DIRECT);
    eq(f + " auth_info", v.auth_info_hex, hex(aib));
    // TxBody: our message bytes in cosmjs's envelope
    const body = TxBody.decode(raw.bodyBytes);
    const bb = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: v.type_url, value: body.messages[0].value }],
      memo: body.memo, timeoutHeight: BigInt(v.timeout_height || 0) })).finish();
    eq(f + " tx_body", v.tx_body_hex, hex(bb));
    const sd = ps.makeSignDoc(bb, aib, v.chain_id, BigInt(v.account_number));
    eq(f + " sign_doc", v.sign_doc_hex, hex(ps.makeSignBytes(sd)));
    const { signature } = await wallet.signDirect(acct.address, sd);
    eq(f + " signature", v.tx_signature_rs_hex, Buffer.from(signature.signature, "base64").toString("hex"));
    const tr = TxRaw.encode(TxRaw.fromPartial({ bodyBytes: bb, authInfoBytes: aib, signatures: [Buffer.from(signature.signature, "base64")] })).finish();
    eq(f + " tx_raw", v.tx_raw_hex, hex(tr));
  }
  // The other way: a transaction cosmjs builds, with another granter, for alloractl to decode.
  const v = JSON.parse(fs.readFileSync(files[0], "utf8"));
  const raw = TxRaw.decode(unhex(v.tx_raw_hex));
  const pubkey = ps.encodePubkey({ type: "tendermint/PubKeySecp256k1", value: Buffer.from(acct.pubkey).toString("base64") });
  const aib = ps.makeAuthInfoBytes([{ pubkey, sequence: 8n }], [{ denom: "uallo", amount: "1440000" }], 144000, acct.address, undefined);
  const sd = ps.makeSignDoc(raw.bodyBytes, aib, "allora-testnet-1", 1234n);
  const { signature } = await wallet.signDirect(acct.address, sd);
  const tr = TxRaw.encode(TxRaw.fromPartial({ bodyBytes: raw.bodyBytes, authInfoBytes: aib, signatures: [Buffer.from(signature.signature, "base64")] })).finish();
  console.log(Buffer.from(tr).toString("base64") + " " + acct.address);
})().catch((e) => { console.error(e); process.exit(1); });
JS
if node "$T/cross.js" "$TEST_MNEMONIC_1" "$T/g10.json" "$T/g9.json" "$T/none.json" >"$T/cross.out" 2>"$T/cross.err"; then
	ok "cosmjs encodes the same TxBody, AuthInfo (Fee.granter), SignDoc, signature and TxRaw"
else
	not_ok "cosmjs encodes the same TxBody, AuthInfo (Fee.granter), SignDoc, signature and TxRaw"
	sed 's/^/# /' "$T/cross.err"
fi
read -r B64 ADDR <"$T/cross.out"
"$CTL" tx decode "$B64" --chain-id allora-testnet-1 --account-number 1234 >"$T/dec.json" 2>"$T/dec.err"
check "tx decode of cosmjs's transaction: auth_info.fee_granter, fee, gas, and both signatures verify" python3 - "$T/dec.json" "$ADDR" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["auth_info"]
assert a["fee_granter"] == sys.argv[2], a
assert a["fee"] == [{"denom": "uallo", "amount": "1440000"}] and a["gas_limit"] == 144000 and a["sequence"] == 8, a
assert d["tx_signature_ok"] is True and d["bundle_signature_ok"] is True, d
PY
check "tx decode of our vector shows the granter; without one it is null" python3 - "$T/g10.json" "$T/none.json" "$G" <<'PY'
import json, subprocess, sys, os
ctl = os.path.join(os.environ["BUILD_DIR"], "alloractl")
for f, want in ((sys.argv[1], sys.argv[3]), (sys.argv[2], None)):
    b64 = json.load(open(f))["tx_raw_base64"]
    d = json.loads(subprocess.run([ctl, "tx", "decode", b64], capture_output=True, text=True, check=True).stdout)
    assert d["auth_info"]["fee_granter"] == want, (f, d["auth_info"])
PY
finish

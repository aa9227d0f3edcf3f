// The independent encoder of the cosmjs cross-checks (tx_labels_cosmjs, tx_forecast_cosmjs,
// tx_granter_cosmjs): the emissions payload written field by field with cosmjs-types'
// BinaryWriter, never through our code.  allora-chain x/emissions/proto/emissions/v10 and v9
// inputworker.proto (ba91cd4, 28e8862; 916e751): gogoproto field order, proto3 defaults
// omitted.  Each test copies this file beside its script and requires "./payload_enc.js".
const { BinaryWriter } = require("cosmjs-types/binary");

const hex = (u) => Buffer.from(u).toString("hex");
const unhex = (h) => Uint8Array.from(Buffer.from(h, "hex"));
function eq(what, a, b) { if (a !== b) { console.error(what + " differs:\n ours   " + a + "\n cosmjs " + b); process.exit(1); } }
function inputInference(topic, height, inferer, value, values) {
  const w = new BinaryWriter();
  w.uint32(8).uint64(BigInt(topic));
  w.uint32(16).int64(BigInt(height));
  w.uint32(26).string(inferer);
  if (value) w.uint32(34).string(value);
  for (const lv of values || []) {
    w.uint32(58).fork();
    w.uint32(10).string(lv.label);
    w.uint32(18).string(lv.value);
    w.ldelim();
  }
  return w.finish();
}
function inputForecast(topic, height, forecaster, elements) {
  const w = new BinaryWriter();
  w.uint32(8).uint64(BigInt(topic));
  w.uint32(16).int64(BigInt(height));
  w.uint32(26).string(forecaster);
  for (const e of elements) {
    w.uint32(34).fork();
    w.uint32(10).string(e.inferer);
    w.uint32(18).string(e.value);
    w.ldelim();
  }
  return w.finish();
}
function bundle(inf, fc) { const w = new BinaryWriter(); w.uint32(10).bytes(inf); if (fc) w.uint32(18).bytes(fc); return w.finish(); }
function workerDataBundle(worker, height, topic, b, sig, pubhex) {
  const w = new BinaryWriter();
  w.uint32(10).string(worker);
  w.uint32(18).fork().uint32(8).int64(BigInt(height)).ldelim();
  w.uint32(24).uint64(BigInt(topic));
  w.uint32(34).bytes(b);
  if (sig) w.uint32(42).bytes(sig);
  if (pubhex) w.uint32(50).string(pubhex);
  return w.finish();
}
function request(sender, wdb) { const w = new BinaryWriter(); w.uint32(10).string(sender); w.uint32(18).bytes(wdb); return w.finish(); }

module.exports = { hex, unhex, eq, inputInference, inputForecast, bundle, workerDataBundle, request };

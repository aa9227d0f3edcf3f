#!/bin/bash
# Issue 19: shadow models.  A devnet run with `shadow = momentum, exec:OK, exec:HANG,
# exec:/bin/false` beside the submitted default model: the ledger gets `shadow` records
# (model, value) after each window's predicted record, the hanging and the failing shadow
# lose only their own rows, the devnet never sees a shadow value (only the submitted
# model's), status and the metrics show the running losses, `history --shadow` shows both
# working models, and `history --report DIR` draws 1200x800 PNGs.  The bars run 3 hours
# past now and target_hours is 1, so every window's ground truth is known at once.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 67 --epoch 16 --window 12 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
# Generated (not real) hourly bars up to 3 hours after now: the trainer drops the future
# ones (partial or not yet begun), the history's ground truth reads them.
python3 - "$D/bars.csv" <<'PY'
import math, random, sys, time
random.seed(19)
now = int(time.time()) // 3600 * 3600
p = 50000.0
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(-1199, 4):
        p *= math.exp(random.gauss(0, 0.005))
        f.write(f"{now + i * 3600},{p:.2f}\n")
PY
printf '#!/bin/sh\necho 0.00123456\n' >"$D/ok.sh"
printf '#!/bin/sh\nsleep 30\necho 0.5\n' >"$D/hang.sh"
chmod 755 "$D/ok.sh" "$D/hang.sh"
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
python3 - "$D/w.conf" "$D" <<'PY'
import sys
conf, d = sys.argv[1:]
t = open(conf).read()
t = t.replace("predict_timeout_s = 5\n", "predict_timeout_s = 2\ntarget_hours = 1\n"
    "loss_method = zptae\nshadow = momentum, exec:%s/ok.sh, exec:%s/hang.sh, exec:/bin/false\n"
    % (d, d), 1)
open(conf, "w").write(t)
PY

# The configuration check: each shadow model is validated like `model`, with file:line.
cp "$D/w.conf" "$T/bad.conf"
sed -i 's|^shadow = .*|shadow = momentum, nosuchmodel|' "$T/bad.conf"
"$CTL" -c "$T/bad.conf" status --json >"$T/bad.out" 2>&1
check "a bad shadow model is refused, naming file:line and the model" \
	grep -q "bad.conf:[0-9]*: \[topic 67\] shadow: model \"nosuchmodel\" is not one of" "$T/bad.out"
sed -i 's|^shadow = .*|shadow = momentum, momentum|' "$T/bad.conf"
"$CTL" -c "$T/bad.conf" status --json >"$T/bad.out" 2>&1
check "a shadow model listed twice is refused" grep -q 'shadow: model "momentum" is listed twice' "$T/bad.out"

check "start" "$CTL" -c "$D/w.conf" start
L=$D/state/ledger/topic-67.jsonl
rounds() {
	python3 - "$L" <<'PY'
import json, sys
by = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["state"] == "shadow":
        by.setdefault(o["nonce"], {})[o["model"]] = o
full = [n for n, m in by.items() if len(m) == 4 and m["momentum"].get("value") is not None]
sys.exit(0 if len(full) >= 3 else 1)
PY
}
check "three windows with a shadow record of each of the 4 models" wait_for 90 rounds
acc3() { [ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["accepted"]')" -ge 3 ]; }
check "windows accepted meanwhile" wait_for 30 acc3
scored() {
	status_json "$D/w.conf" >"$T/s.json" && python3 - "$T/s.json" <<'PY'
import json, sys
sh = {e["model"]: e for e in json.load(open(sys.argv[1]))["topics"][0]["shadow"]}
sys.exit(0 if sh.get("momentum", {}).get("n", 0) >= 2 and
         sh.get("exec:" + "", {}) is not None and
         all(e["n"] >= 2 for m, e in sh.items() if m.endswith("ok.sh")) else 1)
PY
}
check "status: the running losses of the shadow models" wait_for 30 scored
check "status --json: topics[].shadow entries with model, n, loss, zero and submitted loss, loss_minus_zero, ci" \
	python3 - "$T/s.json" "$D" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
t = d["topics"][0]
for k in ("id", "state", "last_state", "score", "loss_method"):
    assert k in t, k                          # the existing keys stay
sh = {e["model"]: e for e in t["shadow"]}
D = sys.argv[2]
assert list(sh) == ["momentum", "exec:%s/ok.sh" % D, "exec:%s/hang.sh" % D, "exec:/bin/false"], list(sh)
keys = {"model", "n", "loss", "zero_loss", "submitted_loss", "loss_minus_zero", "ci"}
for m, e in sh.items():
    assert set(e) == keys, (m, set(e) ^ keys)
for m in ("momentum", "exec:%s/ok.sh" % D):
    e = sh[m]
    assert e["n"] >= 2 and e["loss"] > 0 and e["zero_loss"] > 0, e
    assert math.isclose(e["loss_minus_zero"], e["loss"] - e["zero_loss"], rel_tol=1e-9, abs_tol=1e-12), e
    eps = 1e-9 * max(1, abs(e["loss_minus_zero"]))
    assert e["ci"] is not None and e["ci"][0] - eps <= e["loss_minus_zero"] <= e["ci"][1] + eps, e
    assert e["submitted_loss"] is not None, e
for m in ("exec:%s/hang.sh" % D, "exec:/bin/false"):
    assert sh[m]["n"] == 0 and sh[m]["loss"] is None and sh[m]["ci"] is None, sh[m]
PY
MADDR=$(json "$T/s.json" 'd["metrics"]')
check "metrics: the running loss minus zero's per shadow model" sh -c \
	"curl -s 'http://$MADDR/metrics' | grep -E '^allora_worker_shadow_loss_minus_zero\{topic=\"67\",model=\"momentum\"\} ' >/dev/null &&
	 curl -s 'http://$MADDR/metrics' | grep -E '^allora_worker_shadow_windows\{topic=\"67\",model=\"exec:/bin/false\"\} 0' >/dev/null"
check "stop" "$CTL" -c "$D/w.conf" stop

check "the ledger: each shadow record after its window's predicted record; the hanging and the failing shadow lose only their rows" \
	python3 - "$L" "$D" <<'PY'
import json, sys
D = sys.argv[2]
recs = [json.loads(l) for l in open(sys.argv[1])]
first_pred = {}
for i, o in enumerate(recs):
    if o["state"] == "predicted":
        first_pred.setdefault(o["nonce"], i)
sh = [(i, o) for i, o in enumerate(recs) if o["state"] == "shadow"]
assert len(sh) >= 12, len(sh)
for i, o in sh:
    assert o["nonce"] in first_pred and first_pred[o["nonce"]] < i, ("shadow before predicted", o)
    assert set(o) >= {"time", "topic", "nonce", "state", "model"}, o
    if o["model"] == "exec:%s/hang.sh" % D:
        assert o.get("value") is None and "did not answer within 2.0 s" in o["reason"], o
    elif o["model"] == "exec:/bin/false":
        assert o.get("value") is None and "exited with status 1" in o["reason"], o
    elif o["model"] == "exec:%s/ok.sh" % D:
        assert o["value"] == "0.00123456", o
# the windows whose shadows hung were still submitted and accepted
done = {o["nonce"] for o in recs if o["state"] == "accepted"}
hung = {o["nonce"] for i, o in sh if o["model"].endswith("hang.sh")}
assert len(hung & done) >= 3, (hung, done)
# a shadow record never changes the nonce's state (the replay's last state)
PY
check "the devnet received only the submitted model's values, never a shadow's" \
	python3 - "$D/record.jsonl" "$L" <<'PY'
import json, sys
txs = [json.loads(l) for l in open(sys.argv[1])]
txs = [r for r in txs if r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0]
recs = [json.loads(l) for l in open(sys.argv[2])]
pred = {o["nonce"]: o["value"] for o in recs if o["state"] == "predicted"}
shadow = {o["value"] for o in recs if o["state"] == "shadow" and o.get("value")}
assert len(txs) >= 3
for r in txs:
    assert r["value"] == pred[r["nonce"]], (r, pred.get(r["nonce"]))
    assert r["value"] not in shadow or r["value"] == pred[r["nonce"]], r
assert "0.00123456" not in {r["value"] for r in txs}
PY
# After a restart the replay gives each nonce its state and value, never a shadow's.
cp "$L" "$T/ledger.before"
sed -i 's/^shadow = .*/shadow = /' "$D/w.conf"
check "restart (no shadow models now)" "$CTL" -c "$D/w.conf" start
status_json "$D/w.conf" >"$T/s2.json"
check "stop again" "$CTL" -c "$D/w.conf" stop
check "status after the restart: the last nonce's state and value are its own, not a shadow's" \
	python3 - "$T/ledger.before" "$T/s2.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
own = {}
for o in recs:
    if o["state"] != "shadow":
        own.setdefault(o["nonce"], {}).update(o)
t = json.load(open(sys.argv[2]))["topics"][0]
assert t["last_state"] != "shadow", t
assert t["shadow"] == [], t
last = max(own)
if t["last_nonce"] == last:
    assert t["last_state"] == own[last]["state"], (t, own[last])
    assert t["last_value"] == own[last].get("value"), (t, own[last])
PY

"$CTL" -c "$D/w.conf" history --topic 67 --shadow --json >"$T/h.json"
check "history --shadow --json: each row's shadow values and losses of both working models" \
	python3 - "$T/h.json" "$D" "$T/ledger.before" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
D = sys.argv[2]
pred = {}
for l in open(sys.argv[3]):
    o = json.loads(l)
    if o["state"] == "predicted":
        pred[o["nonce"]] = o["value"]
with_sh = [r for r in rows if r["shadow"].get("momentum", {}).get("value") is not None]
assert len(with_sh) >= 3, rows[-3:]
for r in with_sh:
    assert r["realized"] is not None and r["loss"] is not None, r
    assert isinstance(r["shadow"]["momentum"]["loss"], float), r
    ok = r["shadow"].get("exec:%s/ok.sh" % D)
    assert ok is not None and ok["value"] == "0.00123456" and isinstance(ok["loss"], float), r
    assert r["value"] == pred[r["nonce"]] and r["state"] != "shadow", (r, pred.get(r["nonce"]))
hung = [r["shadow"]["exec:%s/hang.sh" % D] for r in with_sh if "exec:%s/hang.sh" % D in r["shadow"]]
assert len(hung) >= 2 and all(h["value"] is None and h["loss"] is None and
    "did not answer" in h["reason"] for h in hung), hung
PY
"$CTL" -c "$D/w.conf" history --topic 67 --json >"$T/h0.json"
check "history without --shadow has no shadow key (INTERFACES.md)" \
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r and all("shadow" not in x for x in r)' "$T/h0.json"
"$CTL" -c "$D/w.conf" history --topic 67 --shadow >"$T/h.txt"
check "history --shadow: the summary names both working models with windows and an interval" \
	python3 - "$T/h.txt" "$D" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
D = sys.argv[2]
assert "shadow models (loss zptae" in t, t[-800:]
summ = t.split("shadow models (loss")[1]
for m in ("momentum", "exec:%s/ok.sh" % D):
    line = [l for l in summ.splitlines() if l.startswith(m[:32])]
    assert line, (m, summ)
    f = line[0][32:].split()
    assert int(f[0]) >= 3 and re.match(r"\[[-0-9.e]+,", f[5]), line
PY

check "history --report DIR" "$CTL" -c "$D/w.conf" history --topic 67 --report "$T/rep"
check "history --report: valid 1200x800 PNGs and report.json" python3 - "$T/rep" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
for name in ("cumulative_loss.png", "scatter.png", "calibration.png"):
    b = open(os.path.join(d, name), "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", name
    assert b[12:16] == b"IHDR" and struct.unpack(">II", b[16:24]) == (1200, 800), name
    assert len(b) > 15000, (name, len(b))
r = json.load(open(os.path.join(d, "report.json")))
assert [p["file"] if isinstance(p, dict) and "file" in p else p for p in r["pictures"]], r
cum = r["cumulative_loss_minus_zero"]
assert {"zero", "ours", "momentum"} <= set(cum), cum
assert r["decisions"] >= 3 and r["loss"] == "zptae", r
assert json.load(open(os.path.join(d, "history.json")))["rows"]
PY
finish

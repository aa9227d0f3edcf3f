#!/bin/bash
# Issue 22, the forecaster end to end on the devnet (4 noisy peers, scored one epoch later):
# topic 67 with forecast = builtin submits bundles whose forecast the devnet accepts (the
# record says forecast_elements > 0, the ledger says included and the same count) and its
# values are the hand computation from the devnet's loss history (--record "losses"); the
# forecaster score reaches status.  Topics 68..73 have external forecasters that fail each
# way (garbage, duplicates, invalid address, unknown inferer, too many, late): each time the
# forecast is dropped for the nonce with that reason and the inference is accepted alone;
# topic 74's external forecaster (etc/examples/forecaster.py) and topic 75's server are valid
# and included.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68,69,70,71,72,73,74,75 \
	--epoch 20 --window 15 --peers 4 --truth-lag 1 --active 3 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68 69 70 71 72 73 74 75
# Topic 75's forecaster is a server: it answers the POSTed input document's inferers.
cat >"$D/fcserver.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        d = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.headers["Content-Type"] == "application/json" and d["topic"] == 75
        body = json.dumps([{"inferer": a, "value": "0.5"} for a in d["inferers"]] if ok else "no")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())
    def log_message(self, *a):
        pass
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_port))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
start_bg "$D/fcserver.log" python3 "$D/fcserver.py" "$D/fcport"
wait_for 10 test -s "$D/fcport" || not_ok "the forecast server did not start"
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
printf '#!/bin/sh\necho 0.001\n' >"$D/model.sh"
chmod 755 "$D/model.sh"
cat >"$D/fc.py" <<'PY'
# A test forecaster: reads FORECAST_INPUT and answers one way or another.
import json, os, sys, time
mode = sys.argv[1]
d = json.load(open(os.environ["FORECAST_INPUT"]))
inf = d["inferers"]
sys.stderr.write("forecaster %s: topic %s nonce %s, %d inferer(s)\n" %
                 (mode, os.environ["TOPIC_ID"], os.environ["NONCE"], len(inf)))
el = lambda a, v="0.5": {"inferer": a, "value": v}
if mode == "garbage":
    print("this is not a forecast")
elif mode == "duplicate":
    print(json.dumps([el(inf[0]), el(inf[0], "0.25")]))
elif mode == "invalid":
    print(json.dumps([el("allo1devnetpeer01")]))
elif mode == "unknown":
    print(json.dumps([el("allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy")]))
elif mode == "too_many":
    print(json.dumps([el(a) for a in inf] + [el("allo1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du")]))
elif mode == "late":
    time.sleep(8)
    print(json.dumps([el(a) for a in inf]))
PY
python3 - "$D/w.conf" "$D/model.sh" "$D/fc.py" "$REPO" "$D/fcport" <<'PY'
import sys
conf, model, fc, repo, fcport = sys.argv[1:]
t = open(conf).read()
modes = {67: None, 68: "garbage", 69: "duplicate", 70: "invalid", 71: "unknown",
         72: "too_many", 73: "late", 74: "valid", 75: "http"}
for topic, mode in modes.items():
    f = "builtin" if mode is None else "exec:/usr/bin/python3 %s %s" % (fc, mode)
    if mode == "valid":     # the README's example forecaster
        f = "exec:/usr/bin/python3 %s/etc/examples/forecaster.py" % repo
    if mode == "http":
        f = "http://127.0.0.1:%s/forecast" % open(fcport).read()
    extra = "cache_ttl = 0\nmodel = exec:%s\nforecast = %s\n" % (model, f)
    if mode == "late":
        extra += "predict_timeout_s = 2\n"
    t = t.replace("[topic %d]\n" % topic, "[topic %d]\n%s" % (topic, extra), 1)
open(conf, "w").write(t)
PY
sed -i '/^\[topic 73\]$/,/^\[/{/^predict_timeout_s = 5$/d}' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start

# signed RECORDS TOPIC: the ledger's signed records of a topic, as JSON lines
included() {
	python3 - "$D/state/ledger/topic-67.jsonl" "$D/record.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
dev = [json.loads(l) for l in open(sys.argv[2])]
ok = 0
for r in recs:
    if r["state"] == "signed" and r.get("forecast") == "included" and r["forecast_elements"] > 0:
        for x in dev:
            if (x.get("kind") == "tx" and x.get("stage") == "deliver" and x["code"] == 0 and
                    x["txhash"] == r["txhash"] and x.get("forecast_elements") == r["forecast_elements"]):
                ok += 1
sys.exit(0 if ok >= 2 else 1)
PY
}
check "builtin: bundles with forecasts accepted, ledger included with the record's count" \
	wait_for 60 included

check "builtin: the forecast values are the hand computation from the devnet's losses" \
	python3 - "$D/state/ledger/topic-67.jsonl" "$D/record.jsonl" "$CTL" "$TEST_ADDRESS_1" <<'PY'
import json, math, subprocess, sys
ledger, record, ctl, me = sys.argv[1:]
losses = {}
for l in open(record):
    x = json.loads(l)
    if x.get("kind") == "losses" and x["topic"] == 67:
        losses[x["nonce"]] = {a: float(v) for a, v in x["values"].items()}
def find(o):
    if isinstance(o, dict):
        if isinstance(o.get("forecast_elements"), list):
            return o
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
    return None
def builtin(newest):
    # the newest 8 bundles at or before newest, weights 0.5^age (epoch 20), log10 of the mean
    ns = sorted([n for n in losses if n <= newest], reverse=True)[:8]
    out = {}
    for a in set(a for n in ns for a in losses[n]):
        if a == me:
            continue
        if a not in losses[ns[0]]:
            continue    # the active set: the newest bundle's inferers
        sw = s = 0.0
        for n in ns:
            if a in losses[n]:
                w = 0.5 ** ((ns[0] - n) / 20)
                sw += w; s += w * losses[n][a]
        out[a] = math.log10(s / sw)
    return out
checked = 0
for l in open(ledger):
    r = json.loads(l)
    if r["state"] != "signed" or r.get("forecast") != "included":
        continue
    dec = json.loads(subprocess.check_output([ctl, "tx", "decode", r["tx"]]))
    f = find(dec)
    got = {e["inferer"]: float(e["value"]) for e in f["forecast_elements"]}
    assert me not in got, got
    match = False
    for newest in sorted(losses):
        exp = builtin(newest)
        if set(exp) == set(got) and all(abs(exp[a] - got[a]) <= 1e-9 * max(1, abs(exp[a])) for a in exp):
            match = True
    assert match, (r["nonce"], got, {n: builtin(n) for n in sorted(losses)})
    checked += 1
assert checked >= 2, checked
PY

# dropped REASON TOPIC: a signed record of the topic whose forecast was dropped for REASON,
# and the devnet accepted that transaction with no forecast in it.
dropped() {
	python3 - "$D/state/ledger/topic-$2.jsonl" "$D/record.jsonl" "$1" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
dev = [json.loads(l) for l in open(sys.argv[2])]
for r in recs:
    if r["state"] == "signed" and r.get("forecast") == "dropped" and r.get("forecast_reason") == sys.argv[3]:
        assert r["forecast_elements"] == 0, r
        for x in dev:
            if (x.get("kind") == "tx" and x.get("stage") == "deliver" and x["code"] == 0 and
                    x["txhash"] == r["txhash"] and x.get("forecast_elements") is None):
                sys.exit(0)
sys.exit(1)
PY
}
check "garbage: dropped (garbage), the inference accepted" wait_for 60 dropped garbage 68
check "duplicates: dropped (duplicate), the inference accepted" wait_for 30 dropped duplicate 69
check "an invalid address: dropped (invalid_address), the inference accepted" \
	wait_for 30 dropped invalid_address 70
check "an unknown inferer: dropped (unknown_inferer), the inference accepted" \
	wait_for 30 dropped unknown_inferer 71
check "too many elements: dropped (too_many), the inference accepted" wait_for 30 dropped too_many 72
check "late: dropped (late), the inference accepted in its window" wait_for 30 dropped late 73
ext_ok() {
	python3 - "$D/state/ledger/topic-$1.jsonl" <<'PY'
import json, sys
sys.exit(0 if any(json.loads(l).get("forecast") == "included" for l in open(sys.argv[1])) else 1)
PY
}
check "a valid external forecaster (etc/examples/forecaster.py): included" wait_for 30 ext_ok 74
check "an http forecaster (POST of the input document): included" wait_for 30 ext_ok 75
check "the event log: a warning names each nonce's dropped forecast and its reason" \
	python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, sys
seen = set()
for l in open(sys.argv[1]):
    e = json.loads(l)
    d = e.get("data") or {}
    if e["event"] == "warning" and d.get("reason") == "forecast_dropped":
        seen.add(d.get("forecast_reason"))
need = {"garbage", "duplicate", "invalid_address", "unknown_inferer", "too_many", "late"}
assert need <= seen, need - seen
PY
check "the forecaster's stderr is in the log" grep -q 'forecaster: forecaster garbage: topic 68' \
	"$D/state/logs/worker_output.log"
fscore() {
	[ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["forecast"]["score_ema"] is not None and d["topics"][0]["forecast"]["elements_submitted"] > 0')" = True ]
}
check "status: forecast elements submitted and the forecaster score from the chain" wait_for 40 fscore
status_json "$D/w.conf" >"$T/s.json"
check "status: the forecast object's keys" python3 - "$T/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["topics"][0]["forecast"]
keys = {"mode", "elements_submitted", "last_elements", "last_nonce", "last_outcome",
        "last_reason", "score_ema", "score_height", "inferers", "data_height"}
assert set(f) == keys, set(f) ^ keys
assert f["mode"] == "builtin" and f["inferers"] >= 3, f
assert d["topics"][5]["forecast"]["last_outcome"] in ("dropped", "included"), d["topics"][5]
PY
check "status table: the forecaster line" sh -c "'$CTL' -c '$D/w.conf' status |
	grep -Eq 'forecaster builtin: [1-9][0-9]* elements submitted, last included'"
M=$(json "$T/s.json" 'd["metrics"]')
check "metrics: forecasts counted by outcome and reason" sh -c "curl -s http://$M/metrics >'$T/m.txt' &&
	grep -q 'allora_worker_forecasts_total{topic=\"67\",outcome=\"included\"}' '$T/m.txt' &&
	grep -q 'allora_worker_forecasts_total{topic=\"68\",outcome=\"dropped\",reason=\"garbage\"}' '$T/m.txt' &&
	grep -q 'allora_worker_forecaster_score_ema{topic=\"67\"}' '$T/m.txt'"
check "history: forecast elements of the nonces" sh -c "'$CTL' -c '$D/w.conf' history --topic 67 --json |
	python3 -c 'import json,sys; h=json.load(sys.stdin); assert any((r[\"forecast_elements\"] or 0) > 0 for r in h), h'"
check "stop" "$CTL" -c "$D/w.conf" stop
finish

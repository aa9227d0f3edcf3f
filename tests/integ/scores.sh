#!/bin/bash
# Issue 18: scores, standing and rewards from the chain.  The devnet's reward loop with 5
# noisy peers; topic 67 served by a test-only predictor that reads the devnet's future
# series (it must reach the active set and the top rank, earn rewards into the ledger, and
# status, history and metrics must show it); topic 68 by pure noise (it must end outside
# the active set).  After kill -9 and a restart the same score shows (from the chain).
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
python3 - "$D/truth.csv" <<'PY'
import math, random, sys
random.seed(18); p = 30000.0
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(4000):
        p *= math.exp(random.gauss(0, 0.01))
        f.write(f"{1700000000 + i * 3600},{p:.4f}\n")
PY
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 67,68 --epoch 6 --window 4 \
	--peers 5 --truth "$D/truth.csv" --truth-lag 2 --score-alpha 0.5 --active 3 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
ORACLE=$REPO/tests/data/oracle_predictor.sh
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
python3 - "$D/w.conf" "$ORACLE" "$D/truth.csv" <<'PY'
import sys
conf, oracle, truth = sys.argv[1:]
t = open(conf).read()
t = t.replace("[topic 67]\n", "[topic 67]\ncache_ttl = 0\nmodel = exec:%s %s 1 6 2\n" % (oracle, truth), 1)
t = t.replace("[topic 68]\n", "[topic 68]\ncache_ttl = 0\nmodel = exec:%s --noise 0.5\n" % oracle, 1)
open(conf, "w").write(t)
PY
check "start" "$CTL" -c "$D/w.conf" start
score() { status_json "$D/w.conf" | json - "$1"; }
top() {
	[ "$(score 'd["topics"][0]["score"]["active"] is True and d["topics"][0]["score"]["rank"] == 1 and int(d["topics"][0]["score"]["rewards_uallo"]) > 0')" = True ]
}
check "the oracle worker reaches the active set and the top rank, and earns" wait_for 60 top
out68() {
	[ "$(score 'd["topics"][1]["score"]["active"] is False and d["topics"][1]["score"]["rank"] > 3')" = True ]
}
check "the noise worker ends outside the active set" wait_for 60 out68
enough() {
	[ "$(grep -c '"scored"' "$D/state/ledger/topic-67.jsonl")" -ge 4 ] &&
	[ "$(grep -c '"rewarded"' "$D/state/ledger/topic-67.jsonl")" -ge 3 ]
}
check "scored and rewarded records accumulate in the ledger" wait_for 60 enough
status_json "$D/w.conf" >"$T/s1.json"
check "status --json: loss_method and the score object with the keys of INTERFACES.md" \
	python3 - "$T/s1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["topics"][0]
assert t["loss_method"] == "zptae", t
s = t["score"]
keys = {"ema", "height", "active", "lowest_active_ema", "gap", "rank", "active_count",
        "last_reward_uallo", "rewards_uallo", "network_value", "network_nonce"}
assert set(s) == keys, set(s) ^ keys
assert s["active_count"] == 3 and isinstance(s["height"], int), s
assert float(s["gap"]) >= 0 and float(s["ema"]) >= float(s["lowest_active_ema"]), s
assert s["network_value"] is not None and s["network_nonce"] > 0, s
n = d["topics"][1]["score"]
assert float(n["gap"]) < 0 and n["last_reward_uallo"] in (None, "0") or True, n
PY
check "the ledger: scored and rewarded after accepted, rewards sum to the status figure" \
	python3 - "$D/state/ledger/topic-67.jsonl" "$T/s1.json" <<'PY'
import json, sys
from decimal import Decimal
recs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in recs:
    by.setdefault(r["nonce"], []).append(r["state"])
scored = [r for r in recs if r["state"] == "scored"]
rew = [r for r in recs if r["state"] == "rewarded"]
assert len(scored) >= 3 and len(rew) >= 2, (len(scored), len(rew))
for r in scored:
    st = by[r["nonce"]]
    assert st.index("scored") > st.index("accepted"), st
    assert isinstance(r["score_ema"], str) and r["active"] in (True, False), r
for r in rew:
    assert r["reward_uallo"] == str(int(Decimal(r["reward"]))), r
    assert "accepted" in by[r["nonce"]], by[r["nonce"]]
total = sum(int(r["reward_uallo"]) for r in rew)
s = json.load(open(sys.argv[2]))["topics"][0]["score"]
assert int(s["rewards_uallo"]) <= total + 10**9 and int(s["rewards_uallo"]) > 0, (s, total)
PY
check "history --json: one row per nonce, newest last, with the score and reward" \
	sh -c "'$CTL' -c '$D/w.conf' history --topic 67 --json >'$T/h.json'" 
check "history rows" python3 - "$T/h.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
keys = {"nonce", "time", "value", "source", "network_value", "realized", "loss",
        "score_ema", "active", "reward_uallo", "state"}
assert rows and all(set(r) == keys for r in rows), rows[:1]
n = [r["nonce"] for r in rows]
assert n == sorted(n), n
sc = [r for r in rows if r["score_ema"] is not None]
assert len(sc) >= 3 and any(r["reward_uallo"] for r in rows), rows[-5:]
assert any(r["active"] is True for r in sc), sc
assert all(r["network_value"] is None or float(r["network_value"]) == float(r["network_value"]) for r in rows)
PY
check "history --last 2 gives the newest two" sh -c "'$CTL' -c '$D/w.conf' history --topic 67 --last 2 --json | python3 -c 'import json,sys; r=json.load(sys.stdin); assert len(r)==2, r'"
check "history table" sh -c "'$CTL' -c '$D/w.conf' history --topic 67 --last 3 | grep -q 'SCORE EMA'"
check "status table shows the score line" sh -c "'$CTL' -c '$D/w.conf' status | grep -Eq 'score .* active yes, rank 1 \\(active set of 3\\)'"
M=$(json "$T/s1.json" 'd.get("metrics") or ""')
scrape() { curl -sf "http://$M/metrics"; }
scrape >"$T/m1"
check "metrics: the score families with HELP" sh -c "for f in score_ema active score_gap rewards_uallo_total network_inference; do grep -q \"^# HELP allora_worker_\$f \" '$T/m1' || exit 1; done"
check "metrics: active 1 for 67, 0 for 68" sh -c "grep -q '^allora_worker_active{topic=\"67\",wallet=\"main\"} 1' '$T/m1' && grep -q '^allora_worker_active{topic=\"68\",wallet=\"main\"} 0' '$T/m1'"
moved() { scrape >"$T/m2"; [ "$(grep '^allora_worker_rewards_uallo_total{topic="67"' "$T/m2")" != "$(grep '^allora_worker_rewards_uallo_total{topic="67"' "$T/m1")" ]; }
check "metrics move between two scrapes" wait_for 30 moved
check "event log: info on entering the active set" grep -q '"active_set_entered"' "$D/state/logs/worker_continuous.log"
outside24() { grep -q '"reason":"outside_active_set","epochs":24' "$D/state/logs/worker_continuous.log"; }
check "event log: a warning after 24 scored epochs outside the active set (topic 68)" wait_for 90 outside24
# Kill and restart: the score shown again comes from the chain.
PID=$(json "$T/s1.json" 'd["pid"]')
kill -9 "$PID"
wait_for 10 sh -c "! kill -0 $PID 2>/dev/null"
check "restart after kill -9" "$CTL" -c "$D/w.conf" start
back() { [ "$(score 'd["topics"][0]["score"]["ema"] is not None')" = True ]; }
check "the score is shown again after the restart" wait_for 30 back
status_json "$D/w.conf" >"$T/s2.json"
check "the score shown is the chain's for that nonce (the devnet's record), rewards kept" \
	python3 - "$T/s2.json" "$D/record.jsonl" "$T/s1.json" "$TEST_ADDRESS_1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["topics"][0]["score"]
rec = [json.loads(l) for l in open(sys.argv[2])]
chain = {r["nonce"]: r["ema"] for r in rec if r.get("kind") == "score" and r["topic"] == 67
         and r["address"] == sys.argv[4]}
assert chain.get(s["height"]) == s["ema"], (s, sorted(chain.items())[-3:])
before = json.load(open(sys.argv[3]))["topics"][0]["score"]
assert int(s["rewards_uallo"]) >= int(before["rewards_uallo"]) > 0, (s, before)
PY
check "stop" "$CTL" -c "$D/w.conf" stop
finish

#!/bin/bash
# Issue 25: the supervisor is killed (SIGKILL) during a group commit of 10 `signed` records
# (10 topics, one wallet each, windows opening in the same block; test hooks
# AW_TEST_GROUP_COMMIT_GATHER_MS widens the gather window so that the 10 make one batch,
# AW_TEST_CRASH_IN_GROUP_COMMIT=10 kills it after their write, before the sync and the
# SIGNED_ACKs).  Then the records of that batch are dropped from the ledgers, the worst a
# power loss could do to unsynced data, and the daemon starts again: no transaction whose
# record was lost was ever broadcast, and every transaction the chain saw has its signed
# record.
source "$(dirname "$0")/lib.sh"
D=$T/a
N=10
mkdir -p "$D/keys"
ACC=()
for i in $(seq 1 $N); do
	a=$("$CTL" keys new --out "$D/keys/k$i") || { not_ok "keys new"; finish; }
	ACC+=(--account "$a:100000000000")
done
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics "$(seq -s, 1 $N)" --epoch 30 \
	--window 20 "${ACC[@]}" || { not_ok "devnet"; finish; }
base_conf "$D"
gen_bars "$D/bars.csv" 1200
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = devnet-1
rpc = http://127.0.0.1:$DEVNET_PORT
polling_interval = 2
request_timeout_ms = 2000
EOC
for i in $(seq 1 $N); do
	printf '[wallet w%d]\nmnemonic_file = %s/keys/k%d\n' "$i" "$D" "$i" >>"$D/w.conf"
	printf '[topic %d]\nwallet = w%d\ndata_source = csv:%s/bars.csv\ntrain_span_hours = 720\npredict_timeout_s = 10\n' \
		"$i" "$i" "$D" >>"$D/w.conf"
done
AW_TEST_GROUP_COMMIT_GATHER_MS=3000 AW_TEST_CRASH_IN_GROUP_COMMIT=$N \
	start_bg "$D/daemon1.log" "$WORKERD" -f -c "$D/w.conf"
P1=$BG_PID
check "the supervisor was killed in a group commit of $N records" \
	wait_for 90 grep -q "AW_TEST_CRASH_IN_GROUP_COMMIT: killing the supervisor in a group commit of [0-9]* records" "$D/daemon1.log"
wait "$P1" 2>/dev/null
grep -o "group commit of [0-9]* records" "$D/daemon1.log" | sed 's/^/# /'
sleep 0.3	# the children notice the supervisor is gone
# The batch: each ledger's signed records not yet followed by anything (their ACK never went).
python3 - "$D/state/ledger" "$D/lost.json" <<'PY'
import glob, json, sys
lost = []
for p in glob.glob(sys.argv[1] + "/topic-*.jsonl"):
    lines = open(p).read().splitlines(True)
    recs = [json.loads(l) for l in lines]
    if recs and recs[-1]["state"] == "signed":
        lost.append(recs[-1]["txhash"])
        open(p, "w").write("".join(lines[:-1]))	# what a power loss may take
json.dump(lost, open(sys.argv[2], "w"))
PY
check "the batch held $N signed records" python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))) == $N" "$D/lost.json"
never_broadcast() {
	python3 - "$D/record.jsonl" "$D/lost.json" <<'PY'
import json, sys
lost = set(json.load(open(sys.argv[2])))
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert not (r.get("kind") == "tx" and r.get("txhash") in lost), ("broadcast, record lost", r)
PY
}
check "none of the batch's transactions was broadcast" never_broadcast
start_bg "$D/daemon2.log" "$WORKERD" -f -c "$D/w.conf"
P2=$BG_PID
all_accepted() {
	python3 - "$D/record.jsonl" $N <<'PY'
import json, sys
topics = set()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r.get("stage") == "deliver" and r.get("code") == 0:
        topics.add(r["topic"])
sys.exit(0 if len(topics) >= int(sys.argv[2]) else 1)
PY
}
check "after the restart every topic gets an accepted transaction" wait_for 90 all_accepted
kill -TERM "$P2"; wait "$P2"
check "every transaction the chain saw has its signed record, one per nonce" \
	python3 - "$D/record.jsonl" "$D/state/ledger" <<'PY'
import glob, json, sys
signed = {}
for p in glob.glob(sys.argv[2] + "/topic-*.jsonl"):
    for l in open(p):
        r = json.loads(l)
        if r["state"] == "signed":
            signed.setdefault((r["topic"], r["nonce"]), set()).add(r["txhash"])
seen = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r.get("nonce") is not None:
        k = (r["topic"], r["nonce"])
        assert r["txhash"] in signed.get(k, set()), ("no signed record", r)
        seen.setdefault(k, set()).add(r["txhash"])
for k, hs in seen.items():
    assert len(hs) == 1, (k, hs)
PY
finish

#!/bin/bash
# Built-in trainings run at most (CPUs, 1 to 4) at once: 8 topics whose windows open in the
# same block, each needing a fresh training (cache_ttl = 0), never have more training
# helpers alive at once than that, and every topic still gets its windows accepted.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 61,62,63,64,65,66,67,68 \
	--epoch 40 --window 36 --account "$TEST_ADDRESS_1:100000000000" ||
	{ not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 61 62 63 64 65 66 67 68
# XGBoost on 4000 h: a training takes long enough (~0.3 s) to be seen.
gen_bars "$D/bars.csv" 6000
sed -i 's/^train_span_hours = 720/train_span_hours = 4000\ncache_ttl = 0\nmodel = xgboost\npredict_timeout_s = 20/;
	/^predict_timeout_s = 5/d' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
TRAINER=$(status_json "$D/w.conf" | json - '[c["pid"] for c in d["children"] if c["role"] == "trainer"][0]')
MAX=$(nproc); [ "$MAX" -gt 4 ] && MAX=4
peak=0
all_accepted() {
	python3 - "$D/record.jsonl" <<'PY'
import json, sys
acc = {json.loads(l)["topic"] for l in open(sys.argv[1])
       if '"deliver"' in l and json.loads(l)["code"] == 0}
sys.exit(0 if acc >= set(range(61, 69)) else 1)
PY
}
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
	n=$(pgrep -P "$TRAINER" | wc -l)
	[ "$n" -gt "$peak" ] && peak=$n
	all_accepted && break
	sleep 0.02
done
check "every topic got a window accepted" all_accepted
check "at most $MAX training helpers at once (saw $peak)" test "$peak" -le "$MAX"
check "and training did happen in helpers (saw $peak)" test "$peak" -ge 1
check "stop" "$CTL" -c "$D/w.conf" stop
finish

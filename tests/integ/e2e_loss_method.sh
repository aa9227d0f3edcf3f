#!/bin/bash
# Issue 17: the topic's loss method reaches the trainer in the PREDICT frame (configured
# loss_method, not auto); status --json shows it and what default resolved to; the event log
# has a model_resolved event saying why.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
printf 'loss_method = czar\n' >>"$D/w.conf"
check "start --dry-run" "$CTL" -c "$D/w.conf" start --dry-run
predicted() {
	grep -q '"state":"predicted"' "$D/state/ledger/topic-67.jsonl" 2>/dev/null &&
	[ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["model_resolved"] is not None')" = True ]
}
check "a window is predicted" wait_for 40 predicted
status_json "$D/w.conf" >"$D/status.json"
check "status --json: loss_method czar and model_resolved" python3 - "$D/status.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["topics"][0]
assert t["loss_method"] == "czar", t
assert t["model_resolved"].startswith("ridge k=0"), t
PY
check "stop" "$CTL" -c "$D/w.conf" stop
check "the event log says what default resolved to under czar, and why" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
r = [e for e in ev if e.get("event") == "model_resolved"]
assert r, "no model_resolved event"
d = r[0]["data"]
assert d["topic"] == 67 and d["loss_method"] == "czar" and d["model_resolved"].startswith("ridge"), d
assert "czar" in d["why"] and "second half" in d["why"], d
pr = [e for e in ev if e.get("event") == "prediction"]
assert pr, "no prediction event"
PY
finish

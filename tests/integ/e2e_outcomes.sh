#!/bin/bash
# Issue 6: the chain's refusals, each with its own log line, ledger state and metric reason:
# not registered (clear message naming `alloractl register`, the topic keeps trying), not
# whitelisted (the topic stops, clear message), while the other topic goes on being accepted.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68,69 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" --unregistered "$TEST_ADDRESS_1:68" \
	--not-whitelisted "$TEST_ADDRESS_1:69" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68 69
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/^metrics_listen = off/metrics_listen = 127.0.0.1:$MPORT/" "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
st() { status_json "$D/w.conf" | json - "[t for t in d['topics'] if t['id'] == $1][0]$2"; }
two_68() { [ "$(grep -c '"reason":"not_registered"' "$D/state/ledger/topic-68.jsonl")" -ge 2 ]; }
check "not registered: windows rejected with reason not_registered, and it keeps trying" \
	wait_for 40 two_68
stopped_69() { [ "$(st 69 "['state']")" = stopped ]; }
check "not whitelisted: the topic stops" wait_for 40 stopped_69
five_67() { [ "$(st 67 "['accepted']")" -ge 5 ]; }
check "the other topic keeps being accepted" wait_for 40 five_67
curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$D/metrics.txt"
"$CTL" -c "$D/w.conf" status --json >"$D/status.json"
check "stop" "$CTL" -c "$D/w.conf" stop
check "the not-registered message names alloractl register" \
	grep -q "is not registered in topic 68; run .alloractl register --topic 68." \
	"$D/state/logs/worker_output.log"
check "the not-whitelisted message is clear" \
	grep -q "is not whitelisted on topic 69" "$D/state/logs/worker_output.log"
check "topic 69 submitted nothing after the refusal" python3 - "$D/record.jsonl" <<'PY'
import json, sys
tx = [json.loads(l) for l in open(sys.argv[1])]
tx = [r for r in tx if r["kind"] == "tx" and r["stage"] == "deliver" and r["topic"] == 69]
# Refused at simulation or at delivery: at most one transaction, none accepted.
assert len(tx) <= 1 and all(r["code"] != 0 for r in tx), tx
PY
check "the metrics count the reasons" python3 - "$D/metrics.txt" <<'PY'
import re, sys
m = open(sys.argv[1]).read()
def has(reason, topic):
    return re.search(r'^allora_worker_\w+_total\{[^}]*topic="%s"[^}]*(reason|outcome)="%s"[^}]*\} [1-9]' % (topic, reason), m, re.M) or \
        re.search(r'^allora_worker_\w+_total\{[^}]*(reason|outcome)="%s"[^}]*topic="%s"[^}]*\} [1-9]' % (reason, topic), m, re.M)
assert has("not_registered", 68), [l for l in m.splitlines() if "68" in l]
assert has("not_whitelisted", 69), [l for l in m.splitlines() if "69" in l]
PY
check "status shows each topic's state and reason" python3 - "$D/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["id"]: x for x in d["topics"]}
assert t[67]["state"] == "serving" and t[69]["state"] == "stopped", t
assert "whitelist" in json.dumps(t[69]), t[69]
PY
finish

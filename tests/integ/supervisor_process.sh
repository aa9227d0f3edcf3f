#!/bin/bash
# Issue 2: start, status, kill -9 of each child, stop; nothing left behind.
source "$(dirname "$0")/lib.sh"

D=$T/a
base_conf "$D"
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
wallet = main
data_source = csv:$D/bars.csv
EOC
write_test_mnemonic "$D/key"

check "alloractl start exits 0" "$CTL" -c "$D/w.conf" start
status_json "$D/w.conf" >"$T/s1.json"
check "status --json shows three running children" \
	test "$(json "$T/s1.json" '" ".join(c["role"]+":"+c["state"] for c in d["children"])')" = \
	"listener:running trainer:running submitter:running"
check "status --json has the documented keys" python3 - "$T/s1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("instance", "pid", "version", "ready", "children", "topics", "wallets"):
    assert k in d, k
t = d["topics"][0]
for k in ("id", "state", "wallet", "last_nonce", "last_state", "last_value", "last_source",
          "last_txhash", "accepted", "missed", "seconds_since_accepted"):
    assert k in t, k
assert t["id"] == 67 and t["state"] == "serving" and t["wallet"] == "main"
for c in d["children"]:
    for k in ("role", "pid", "state", "restarts", "uptime_s", "reason"):
        assert k in c, k
PY
daemon_pid=$(json "$T/s1.json" 'd["pid"]')
all_pids="$daemon_pid"
sleep 1.1	# every child has been ready for 1 s: a death is restarted at once
for role in listener trainer submitter; do
	old=$(status_json "$D/w.conf" | json - "[c['pid'] for c in d['children'] if c['role']=='$role'][0]")
	all_pids="$all_pids $old"
	kill -9 "$old"
	back() {
		status_json "$D/w.conf" | python3 -c "
import json,sys
d=json.load(sys.stdin)
c=[c for c in d['children'] if c['role']=='$role'][0]
sys.exit(0 if c['state']=='running' and c['pid']!=$old and c['restarts']==1 else 1)"
	}
	check "$role killed with -9 is back with a new pid within 2 s, restarts = 1" wait_for 2 back
	all_pids="$all_pids $(status_json "$D/w.conf" | json - "[c['pid'] for c in d['children'] if c['role']=='$role'][0]")"
	sleep 1.1
done
check "the human log names the restart" grep -q "trainer killed by signal 9; restarting it" "$D/state/logs/worker_output.log"
check "the event log is JSON lines with timestamp, event, message, data" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines
events = set()
for l in lines:
    o = json.loads(l)
    assert set(o) == {"timestamp", "event", "message", "data"}, o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", o["timestamp"]), o
    events.add(o["event"])
assert "startup" in events and "warning" in events, events
PY

check "alloractl stop exits 0" "$CTL" -c "$D/w.conf" stop
left=""
for p in $all_pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
check "no process of ours is left (pids$left)" test -z "$left"
check "no socket file is left" test ! -e "$T/run/w.sock"
check "no pid file is left" test ! -e "$T/run/w.pid"
check "the topic lock is free" flock -n "$T/run/locks/topic-67.lock" true
"$CTL" -c "$D/w.conf" status >/dev/null 2>&1
check "status after stop exits 4" test $? -eq 4
"$CTL" -c "$D/w.conf" stop >/dev/null 2>&1
check "stop when not running exits 4" test $? -eq 4
check "the event log ends with the shutdown" sh -c "tail -1 '$D/state/logs/worker_continuous.log' | grep -q '\"event\":\"shutdown\"'"
finish

#!/bin/bash
# Issue 2: a child that crashes at start-up is throttled with growing spacing and ends
# failed after restart_limit; exit status 78 is failed at once; the others keep running.
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

AW_TEST_CRASH=trainer start_bg "$D/daemon.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
failed() {
	status_json "$D/w.conf" | python3 -c "
import json,sys
d=json.load(sys.stdin)
c={c['role']:c for c in d['children']}
sys.exit(0 if c['trainer']['state']=='failed' else 1)"
}
check "the crashing trainer ends failed" wait_for 20 failed
status_json "$D/w.conf" >"$T/s.json"
check "its reason names the crash loop" grep -q "crash loop" "$T/s.json"
check "it was restarted restart_limit-1 = 4 times" test "$(json "$T/s.json" '[c["restarts"] for c in d["children"] if c["role"]=="trainer"][0]')" = 4
check "listener and submitter keep running" test "$(json "$T/s.json" '" ".join(c["state"] for c in d["children"] if c["role"]!="trainer")')" = "running running"
check "the topic shows failed" test "$(json "$T/s.json" 'd["topics"][0]["state"]')" = failed
check "restart spacing grows: 100, 200, 400, 800 ms" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, sys
b = [json.loads(l)["data"].get("backoff_ms") for l in open(sys.argv[1])]
b = [x for x in b if x is not None]
assert b == [100, 200, 400, 800], b
PY
check "the daemon still answers" "$CTL" -c "$D/w.conf" status
kill -TERM "$DPID"
check "SIGTERM stops it" wait_for 5 sh -c "! kill -0 $DPID 2>/dev/null"
wait "$DPID"; check "exit status 0 after SIGTERM" test $? -eq 0

# Exit status 78 (EX_CONFIG): failed at once, never restarted.
AW_TEST_CRASH=submitter:78 start_bg "$D/daemon2.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
sfailed() { status_json "$D/w.conf" | grep -q '"reason": "submitter exited with status 78"'; }
check "a child exiting 78 is failed" wait_for 5 sfailed
sleep 0.5
status_json "$D/w.conf" >"$T/s2.json"
check "and never restarted" test "$(json "$T/s2.json" '[c["restarts"] for c in d["children"] if c["role"]=="submitter"][0]')" = 0
kill -TERM "$DPID"; wait "$DPID"

# alloractl start fails (exit 1, reason printed) when a child fails before readiness.
out=$(AW_TEST_CRASH=submitter:78 "$CTL" -c "$D/w.conf" start 2>&1); rc=$?
check "start exits 1 when a child fails permanently before ready ($rc)" test $rc -eq 1
check "and says why" sh -c "echo \"\$1\" | grep -q 'submitter exited with status 78'" _ "$out"
check "and leaves no daemon" wait_for 5 sh -c "! '$CTL' -c '$D/w.conf' status >/dev/null 2>&1"

# A child that stops answering heartbeats is killed and restarted.
start_bg "$D/daemon3.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
wait_for 5 "$CTL" -c "$D/w.conf" status
sleep 1.1
lp=$(status_json "$D/w.conf" | json - "[c['pid'] for c in d['children'] if c['role']=='listener'][0]")
kill -STOP "$lp"
back() { status_json "$D/w.conf" | python3 -c "
import json,sys
d=json.load(sys.stdin)
c=[c for c in d['children'] if c['role']=='listener'][0]
sys.exit(0 if c['state']=='running' and c['pid']!=$lp else 1)"; }
check "a stopped (frozen) child misses 3 heartbeats and is replaced" wait_for 5 back
check "the log says so" grep -q "missed 3 heartbeats" "$D/state/logs/worker_output.log"
kill -TERM "$DPID"; wait "$DPID"
finish

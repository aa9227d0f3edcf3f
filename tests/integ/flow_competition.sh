#!/bin/bash
# Competition window: before the start a topic waits ("Competition starts in X hours"), after
# the end it stops; when no topic is left the daemon exits 0 ("Competition ended - shutting down").
source "$(dirname "$0")/lib.sh"
D=$T/a
base_conf "$D"
future=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
past=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
soon=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
data_source = csv:$D/bars.csv
competition_start = $future
[topic 68]
data_source = csv:$D/bars.csv
competition_end = $past
EOC
write_test_mnemonic "$D/key"
check "start" "$CTL" -c "$D/w.conf" start
status_json "$D/w.conf" >"$T/s.json"
check "topic 67 (start in 3 h) is waiting" test "$(json "$T/s.json" '[t["state"] for t in d["topics"] if t["id"]==67][0]')" = waiting
check "topic 68 (ended an hour ago) is stopped" test "$(json "$T/s.json" '[t["state"] for t in d["topics"] if t["id"]==68][0]')" = stopped
check "the log says when the competition starts" grep -q "Competition starts in 3.0 hours (topic 67)" "$D/state/logs/worker_output.log"
check "and that topic 68's ended" grep -q "Competition ended for topic 68" "$D/state/logs/worker_output.log"
"$CTL" -c "$D/w.conf" stop >/dev/null

# Every topic over: the daemon shuts itself down with status 0.
base_conf "$D"
cat >>"$D/w.conf" <<EOC
[wallet main]
mnemonic_file = $D/key
[topic 67]
data_source = csv:$D/bars.csv
competition_end = $soon
EOC
start_bg "$D/fg.log" "$WORKERD" -f -c "$D/w.conf"
pid=$BG_PID
check "with the last topic ending, the daemon exits by itself" wait_for 15 sh -c "! kill -0 $pid 2>/dev/null"
wait "$pid"; rc=$?
check "with status 0" test $rc -eq 0
check "saying Competition ended - shutting down" grep -q "Competition ended - shutting down" "$D/state/logs/worker_output.log"
check "and no socket or pid file is left" sh -c "! ls '$T/run/w.sock' '$T/run/w.pid' 2>/dev/null"

# Every topic already over when the daemon starts: it stops before any child runs, status 0
# (it crashed stopping children it had not started yet).
sed -i "s|^competition_end = .*|competition_end = $past|" "$D/w.conf"
"$WORKERD" -f -c "$D/w.conf" >"$D/fg2.log" 2>&1; rc=$?
check "every competition over at start: exits by itself with status 0 (was $rc)" test $rc -eq 0
finish

#!/bin/bash
# SIGHUP / alloractl reload: topics added are locked and served, removed ones released; an
# invalid configuration is refused and the running one kept; SIGHUP reopens the logs.
source "$(dirname "$0")/lib.sh"
D=$T/a
base_conf "$D"
cat >"$D/tail" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
data_source = csv:$D/bars.csv
EOC
cp "$D/w.conf" "$D/head"
cat "$D/head" "$D/tail" >"$D/w.conf"
write_test_mnemonic "$D/key"
check "start" "$CTL" -c "$D/w.conf" start
pid=$(status_json "$D/w.conf" | json - 'd["pid"]')

printf '[topic 68]\ndata_source = csv:%s/bars.csv\n' "$D" >>"$D/w.conf"
kill -HUP "$pid"
has68() { status_json "$D/w.conf" | json - '" ".join(str(t["id"]) for t in d["topics"])' | grep -qx "67 68"; }
check "after SIGHUP topic 68 is served too" wait_for 5 has68
check "and its lock is held" sh -c "! flock -n '$T/run/locks/topic-68.lock' true"

cat "$D/head" "$D/tail" | sed 's/\[topic 67\]/[topic 68]/' >"$D/w.conf"
check "alloractl reload with topic 67 removed succeeds" "$CTL" -c "$D/w.conf" reload
check "only topic 68 is left" test "$(status_json "$D/w.conf" | json - '" ".join(str(t["id"]) for t in d["topics"])')" = 68
check "topic 67's lock is released" flock -n "$T/run/locks/topic-67.lock" true

echo "[topic 69]" >>"$D/w.conf"; echo "bogus = 1" >>"$D/w.conf"
out=$("$CTL" -c "$D/w.conf" reload 2>&1); rc=$?
check "an invalid configuration is refused (exit 2)" test $rc -eq 2
check "with FILE:LINE" sh -c "echo \"\$1\" | grep -q 'w.conf:[0-9]*: unknown key \"bogus\"'" _ "$out"
kill -HUP "$pid"
check "SIGHUP with it logs the refusal" wait_for 3 grep -q "configuration reload refused" "$D/state/logs/worker_output.log"
check "the daemon keeps running" kill -0 "$pid"
cat "$D/head" "$D/tail" | sed 's/\[topic 67\]/[topic 68]/' >"$D/w.conf"
check "with the old configuration (topic 68 only)" test "$(status_json "$D/w.conf" | json - '" ".join(str(t["id"]) for t in d["topics"])')" = 68

mv "$D/state/logs/worker_output.log" "$D/state/logs/worker_output.log.1"
kill -HUP "$pid"
check "SIGHUP reopens the human log (logrotate)" wait_for 3 test -s "$D/state/logs/worker_output.log"
cat "$D/head" "$D/tail" | sed 's/\[topic 67\]/[topic 68]/' >"$D/w.conf"
check "stop" "$CTL" -c "$D/w.conf" stop
finish

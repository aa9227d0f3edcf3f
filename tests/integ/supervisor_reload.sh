#!/bin/bash
# SIGHUP / alloractl reload: topics added are locked and served, removed ones released; an
# invalid configuration is refused and the running one kept; SIGHUP reopens the logs.
# Then against the devnet: with topics 67 and 68 submitting, a SIGHUP with 68 removed and 69
# added: 68 stops getting submissions, 69 starts, 67 keeps getting windows accepted
# throughout; an invalid configuration then is refused and both keep being accepted.
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

# ---- against the devnet, while windows are submitted ----
E=$T/b
mkdir -p "$E"
start_devnet "$E" --chain-id devnet-1 --block-ms 200 --topics 67,68,69 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$E" "$DEVNET_PORT" 67 68
sed -i 's/^instance = .*/instance = w2/' "$E/w.conf"
cp "$E/w.conf" "$E/two.conf"
# accepted TOPIC [AFTER]: payloads the devnet accepted for TOPIC (sent after wall time AFTER).
accepted() {
	python3 - "$E/record.jsonl" "$1" "${2:-0}" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if (r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0 and
            r["topic"] == int(sys.argv[2]) and r["time"] > float(sys.argv[3])):
        n += 1
print(n)
PY
}
at_least() { [ "$(accepted "$1" "${3:-0}")" -ge "$2" ]; }
check "devnet run: start with topics 67 and 68" "$CTL" -c "$E/w.conf" start
pid2=$(status_json "$E/w.conf" | json - 'd["pid"]')
check "67 and 68 get payloads accepted" wait_for 60 sh -c "$(declare -f accepted at_least); E='$E'; at_least 67 2 && at_least 68 2"
# 68 removed, 69 added.
sed -e 's/^\[topic 68\]/[topic 69]/' "$E/two.conf" >"$E/w.conf"
t_hup=$(date +%s.%N)
kill -HUP "$pid2"
topics() { status_json "$E/w.conf" | json - '" ".join(str(t["id"]) for t in d["topics"])'; }
is_67_69() { [ "$(topics)" = "67 69" ]; }
check "after SIGHUP the daemon serves 67 and 69" wait_for 10 is_67_69
t_done=$(date +%s.%N)
check "topic 69's lock is taken, 68's released" sh -c "! flock -n '$T/run/locks/topic-69.lock' true && flock -n '$T/run/locks/topic-68.lock' true"
check "69 gets payloads accepted" wait_for 60 at_least 69 3
check "67 got payloads accepted after the reload too" wait_for 60 at_least 67 3 "$t_done"
check "68 sent nothing for the windows opened after the reload" python3 - "$E/record.jsonl" "$t_done" <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
t = float(sys.argv[2])
late = {r["nonce"] for r in rec if r.get("kind") == "window" and r["topic"] == 68 and r["time"] > t}
assert late, "no window of 68 opened after the reload"
sent = [r for r in rec if r.get("kind") == "tx" and r["topic"] == 68 and r["nonce"] in late]
assert not sent, sent
PY
check "67 had every window accepted across the reload" python3 - "$E/record.jsonl" "$t_hup" <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
t = float(sys.argv[2])
h = max(r["height"] for r in rec if r.get("kind") == "tx" and r["stage"] == "deliver")
wins = [r for r in rec if r.get("kind") == "window" and r["topic"] == 67]
# Windows from the last one opened before the SIGHUP to the last one that has closed.
before = [w["nonce"] for w in wins if w["time"] <= t]
span = [w["nonce"] for w in wins if w["nonce"] >= max(before) and w["end"] < h]
acc = {r["nonce"] for r in rec if r.get("kind") == "tx" and r["stage"] == "deliver"
       and r["code"] == 0 and r["topic"] == 67}
missing = [n for n in span if n not in acc]
print("# windows of 67 from the SIGHUP on:", span, "missing:", missing)
assert len(span) >= 3 and not missing, (span, missing)
PY
check "the ledger of 69 records accepted windows" grep -q '"state":"accepted"' "$E/state/ledger/topic-69.jsonl"

# An invalid configuration: refused, logged, the running one keeps submitting.
cp "$E/w.conf" "$E/good.conf"
printf '[topic 70]\nwallet = nobody\n' >>"$E/w.conf"
t_bad=$(date +%s.%N)
kill -HUP "$pid2"
check "SIGHUP with an invalid configuration logs the refusal" wait_for 5 grep -q "configuration reload refused.*wallet \"nobody\"" "$E/state/logs/worker_output.log"
cp "$E/good.conf" "$E/w.conf"
check "the daemon still serves 67 and 69" is_67_69
check "and keeps getting both accepted" wait_for 60 sh -c "$(declare -f accepted at_least); E='$E'; at_least 67 2 $t_bad && at_least 69 2 $t_bad"
check "the refusal is an error event in the JSON log" python3 - "$E/state/logs/worker_continuous.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert any(e["event"] == "error" and "reload refused" in e["message"] for e in ev)
PY
check "devnet run: stop" "$CTL" -c "$E/w.conf" stop
finish

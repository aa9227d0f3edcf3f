#!/bin/bash
# Issue 9: bring your own model, end to end on the devnet.  exec: predictors that print a
# value, sleep past the deadline, print garbage, exit 1, print 1e50; HTTP model servers
# answering a bare number, a JSON number, 500, and never.  Each leads to the right submitted
# value, or to the fallback with its reason.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
EX=$REPO/etc/examples
# A 9 s window: a predictor that times out (predict_timeout_s 3) still leaves six seconds to
# sign and include the fallback, also in the sanitizer build on a loaded machine.
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --topics 11,12,13,14,15,16,17,18,19,20 \
	--epoch 40 --window 36 --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }

# The example model server, and a broken one (500 on /fail, no answer on /hang).
start_bg "$D/ms.log" python3 "$EX/model_server.py" --port 0 --port-file "$D/ms.port" \
	--bars "$D/bars.csv"
start_bg "$D/bad.log" python3 -c '
import http.server, socketserver, sys, time, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[1] + ".paths", "a") as f:
            f.write(self.path + "\n")
        if self.path.startswith("/hang"):
            time.sleep(120)
        self.send_response(500); self.send_header("Content-Length", "6"); self.end_headers()
        self.wfile.write(b"boom!\n")
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
s = S(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()' "$D/bad.port"

e2e_conf "$D" "$DEVNET_PORT" 11
check "model servers started" wait_for 10 test -s "$D/ms.port" -a -s "$D/bad.port"
MS=http://127.0.0.1:$(cat "$D/ms.port")
BAD=http://127.0.0.1:$(cat "$D/bad.port")
printf '#!/bin/sh\necho "about to fail" >&2\nexit 1\n' >"$D/fail.sh"
printf '#!/bin/sh\nsleep 30\necho 0.5\n' >"$D/slow.sh"
printf '#!/bin/sh\nenv >%s/env.txt\necho garbage\n' "$D" >"$D/garbage.sh"
chmod 755 "$D/fail.sh" "$D/slow.sh" "$D/garbage.sh"
topic() {
	printf '[topic %s]\nwallet = main\ndata_source = csv:%s/bars.csv\npredict_timeout_s = 3\nticker = btcusd\nmodel = %s\n' \
		"$1" "$D" "$2" >>"$D/w.conf"
}
# Topic 11 is already there with the built-in model: make it the example predictor.
sed -i '/^\[topic 11\]/,$d' "$D/w.conf"
topic 11 "exec:$EX/predictor.py --scale 0.1"
topic 12 "exec:$D/slow.sh"
topic 13 "exec:$D/garbage.sh"
topic 14 "exec:$D/fail.sh"
topic 15 "exec:/bin/echo 1e50"
topic 16 "$MS/inference/{Token}/bare"
topic 17 "$MS/inference/{Token}?topic={TopicId}&height={BlockHeight}"
topic 18 "$BAD/fail/{Token}/{TopicId}/{BlockHeight}"
topic 19 "$BAD/hang/{Token}"
topic 20 "exec:/bin/echo 'unterminated"

# What the example predictor prints by hand, with the same bars.
WANT=$(BARS_CSV=$D/bars.csv TARGET_HOURS=168 python3 "$EX/predictor.py" --scale 0.1)
check "the example predictor prints a number by hand ($WANT)" test -n "$WANT"
check "alloractl predict runs the exec: predictor and says so" python3 - "$CTL" "$D/w.conf" "$WANT" <<'PY'
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "-c", sys.argv[2], "predict", "--topic", "11"],
                     capture_output=True, text=True)
d = json.loads(out.stdout)
assert out.returncode == 0, out
assert d["value"] == sys.argv[3] and d["source"] == "fresh", d
assert d["model"].startswith("exec:"), d
PY
check "alloractl predict: a predictor printing garbage gives the fallback, exit 1" python3 - "$CTL" "$D/w.conf" <<'PY'
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "-c", sys.argv[2], "predict", "--topic", "13"],
                     capture_output=True, text=True)
d = json.loads(out.stdout)
assert out.returncode == 1, out
assert d["source"] == "fallback" and "garbage" in d["reason"], d
PY

# Secrets in the daemon's environment must not reach a predictor.
check "start" env MNEMONIC="$TEST_MNEMONIC_1" TIINGO_API_KEY=tiingo-secret-42 \
	"$CTL" -c "$D/w.conf" start
every_topic_done() {
	python3 - "$D/state/ledger" <<'PY'
import json, os, sys
for t in range(11, 21):
    p = os.path.join(sys.argv[1], "topic-%d.jsonl" % t)
    if not os.path.exists(p):
        sys.exit(1)
    if not any(json.loads(l)["state"] in ("accepted", "missed", "rejected") for l in open(p)):
        sys.exit(1)
PY
}
check "every topic got a window through to a final state" wait_for 60 every_topic_done
"$CTL" -c "$D/w.conf" status --json >"$D/status.json"
check "stop" "$CTL" -c "$D/w.conf" stop

# first_final TOPIC: "value|source|reason|final state" of the first window of the topic.
result() {
	python3 - "$D/state/ledger/topic-$1.jsonl" "$D/record.jsonl" "$1" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
acc = [json.loads(l) for l in open(sys.argv[2])]
acc = {(r["topic"], r["nonce"]): r["value"] for r in acc
       if r.get("kind") == "tx" and r.get("stage") == "deliver" and r.get("code") == 0}
final = [r for r in recs if r["state"] in ("accepted", "missed", "rejected")][0]
pred = [r for r in recs if r["state"] == "predicted" and r["nonce"] == final["nonce"]]
p = pred[-1] if pred else {}
print("%s\x1f%s\x1f%s\x1f%s\x1f%s" % (p.get("value"), p.get("source"), p.get("reason") or "",
      final["state"], acc.get((int(sys.argv[3]), final["nonce"]))))
PY
}
expect() {	# expect WHAT TOPIC VALUE SOURCE REASON-SUBSTRING
	local r; r=$(result "$2")
	IFS=$'\x1f' read -r v s why st chain <<<"$r"
	if [ "$v" = "$3" ] && [ "$s" = "$4" ] && [ "$st" = accepted ] && [ "$chain" = "$3" ] &&
		[[ "$why" == *"$5"* ]]; then
		ok "$1"
	else
		not_ok "$1"; diag "topic $2: got value=$v source=$s reason=$why state=$st chain=$chain"
	fi
}
expect "exec: the predictor's value is submitted as printed" 11 "$WANT" fresh ""
expect "exec: past predict_timeout_s -> fallback 0.0" 12 0.0 fallback "did not answer within"
expect "exec: garbage -> fallback with what it printed" 13 0.0 fallback 'printed "garbage"'
expect "exec: exit 1 -> fallback with the status" 14 0.0 fallback "exited with status 1"
expect "exec: 1e50 -> fallback (out of the chain's bounds)" 15 0.0 fallback "1e50"
expect "http: a bare number is submitted" 16 "$WANT" fresh ""
expect "http: a JSON number is submitted, as text" 17 "$WANT" fresh ""
expect "http: 500 -> fallback" 18 0.0 fallback "HTTP 500"
expect "http: no answer -> fallback" 19 0.0 fallback "model server unreachable"
expect "exec: a command line that cannot be split -> fallback" 20 0.0 fallback "unterminated"
check "the predictor's standard error reached the log" \
	grep -q "topic 14: predictor: about to fail" "$D/state/logs/worker_output.log"
check "the template's placeholders were filled" python3 - "$D/bad.port.paths" "$D/state/ledger/topic-18.jsonl" <<'PY'
import json, sys
paths = open(sys.argv[1]).read().split()
nonces = {json.loads(l)["nonce"] for l in open(sys.argv[2])}
assert any(p in ["/fail/btcusd/18/%d" % n for n in nonces] for p in paths), (paths, nonces)
PY
check "a predictor's environment is exactly the documented one" python3 - "$D/env.txt" <<'PY'
import sys
env = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l)
names = set(env) - {"PWD", "SHLVL", "_"}	# added by /bin/sh itself
assert names == {"PATH", "HOME", "LANG", "TOPIC_ID", "NONCE", "TICKER", "TARGET_HOURS",
                 "BARS_CSV"}, names
assert env["TOPIC_ID"] == "13" and env["TICKER"] == "btcusd" and env["TARGET_HOURS"] == "168"
assert env["BARS_CSV"].endswith("/bars.csv") and int(env["NONCE"]) > 0, env
assert "tiingo-secret-42" not in open(sys.argv[1]).read()
PY
check "the external value was cached" test -s "$D/state/cache/topic-11/prediction.json"
no_slow() { ! pgrep -f "$D/slow.sh" >/dev/null; }
check "no predictor process is left behind" no_slow
finish

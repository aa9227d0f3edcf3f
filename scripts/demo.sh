#!/bin/bash
# make demo: a local devnet, a fresh test wallet, the daemon against them, and windows being
# opened, predicted, submitted and accepted until DEMO_WINDOWS (default 5) were accepted.
# Ctrl-C at any time stops everything.
set -u
: "${BUILD_DIR:?run through make demo}"
DEMO_WINDOWS=${DEMO_WINDOWS:-5}
CTL="$BUILD_DIR/alloractl"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/allora-demo.XXXXXX")
DEVNET_PID=""
CONF="$DIR/allora-worker.conf"

cleanup() {
	trap - EXIT INT TERM
	[ -f "$CONF" ] && "$CTL" -c "$CONF" stop >/dev/null 2>&1
	[ -n "$DEVNET_PID" ] && kill "$DEVNET_PID" 2>/dev/null && wait "$DEVNET_PID" 2>/dev/null
	[ -f "$DIR/run/demo.pid" ] && kill "$(cat "$DIR/run/demo.pid")" 2>/dev/null
	[ -n "${KEEP_DEMO_DIR:-}" ] && echo "demo files kept in $DIR" || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: stopping"; exit 130' INT TERM

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

say "a fresh test wallet (for this demo only)"
"$CTL" keys new --out "$DIR/demo.mnemonic" >"$DIR/address" || exit 1
ADDR=$(grep -o 'allo1[0-9a-z]*' "$DIR/address" | head -1)
echo "address $ADDR"

say "market data: a GENERATED hourly BTC-like series up to the current hour (not real prices)"
python3 - "$DIR/bars.csv" <<'PY'
import math, random, sys, time
random.seed(67)
now = int(time.time()) // 3600 * 3600
n = 24 * 120
price = 60000.0
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(n):
        t = now - (n - 1 - i) * 3600
        price *= math.exp(random.gauss(0.00002, 0.006))
        f.write(f"{t},{price:.2f}\n")
PY
echo "$(($(wc -l <"$DIR/bars.csv") - 1)) hourly bars in $DIR/bars.csv"

say "local devnet (blocks every 500 ms, a window for topic 67 every 10 blocks; 5 synthetic peers, scored 2 windows later, active set of 3)"
"$BUILD_DIR/allora-devnet" --port 0 --port-file "$DIR/port" --chain-id demo-1 \
	--block-ms 500 --topics 67 --epoch 10 --window 6 \
	--peers 5 --truth-lag 2 --score-alpha 0.3 --active 3 \
	--account "$ADDR:100000000000" --record "$DIR/record.jsonl" >"$DIR/devnet.log" 2>&1 &
DEVNET_PID=$!
for _ in $(seq 100); do [ -s "$DIR/port" ] && break; sleep 0.1; done
[ -s "$DIR/port" ] || { echo "the devnet did not start:"; cat "$DIR/devnet.log"; exit 1; }
PORT=$(cat "$DIR/port")
echo "devnet on 127.0.0.1:$PORT"

cat >"$CONF" <<EOC
[global]
instance = demo
state_dir = $DIR/state
run_dir = $DIR/run
metrics_listen = off
[chain]
chain_id = demo-1
rpc = http://127.0.0.1:$PORT
polling_interval = 5
gas_price = 10
[wallet main]
mnemonic_file = $DIR/demo.mnemonic
[topic 67]
wallet = main
data_source = csv:$DIR/bars.csv
train_span_hours = 2160
EOC

say "starting the daemon"
"$CTL" -c "$CONF" start || { tail -20 "$DIR/state/logs/worker_output.log" 2>/dev/null; exit 1; }

say "waiting for $DEMO_WINDOWS accepted submissions"
LOG="$DIR/state/logs/worker_output.log"
tail -n +1 -F "$LOG" 2>/dev/null | grep --line-buffered -E "🔔|🎯|📤|✅|❌|⚠️" &
TAIL_PID=$!
accepted=0
for _ in $(seq 1800); do	# at most 3 minutes
	accepted=$(grep -c '"event":"success"' "$DIR/state/logs/worker_continuous.log" 2>/dev/null)
	[ "${accepted:-0}" -ge "$DEMO_WINDOWS" ] && break
	kill -0 "$DEVNET_PID" 2>/dev/null || { echo "the devnet died"; break; }
	sleep 0.1
done
kill "$TAIL_PID" 2>/dev/null; wait "$TAIL_PID" 2>/dev/null
echo
say "waiting for the chain to score the worker (ground truth 2 windows later)"
for _ in $(seq 600); do	# at most 60 s
	"$CTL" -c "$CONF" status --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["topics"][0]["score"]
sys.exit(0 if s["ema"] is not None and s["rank"] is not None else 1)' && break
	sleep 0.1
done
echo
say "status"
"$CTL" -c "$CONF" status
echo
say "what the devnet recorded (accepted payloads)"
grep '"stage":"deliver"' "$DIR/record.jsonl" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print("height %s  topic %s  nonce %s  value %s  code %s  %s" % (r["height"], r["topic"], r["nonce"], r["value"], r["code"], r["log"][:40]))'
echo
say "the worker's score and rank among the devnet's peers (EventEMAScoresSet of the newest scored window)"
python3 - "$DIR/record.jsonl" "$ADDR" <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
sc = [r for r in rec if r.get("kind") == "score" and r["topic"] == 67]
if not sc:
    print("not scored yet")
    sys.exit(0)
last = max(r["nonce"] for r in sc if r["address"] == sys.argv[2]) if any(r["address"] == sys.argv[2] for r in sc) else None
if last is None:
    print("the worker has no score yet")
    sys.exit(0)
rows = sorted((r for r in sc if r["nonce"] == last), key=lambda r: -float(r["ema"]))
for i, r in enumerate(rows, 1):
    who = "this worker" if r["address"] == sys.argv[2] else r["address"]
    print("%d. %-45s EMA %-24s %s" % (i, who, r["ema"], "active" if r["active"] else "outside"))
PY
echo
say "history (alloractl history --topic 67 --last 8)"
"$CTL" -c "$CONF" history --topic 67 --last 8
if [ "${accepted:-0}" -ge "$DEMO_WINDOWS" ]; then
	say "done: $accepted windows submitted and accepted"
	exit 0
fi
say "only ${accepted:-0} of $DEMO_WINDOWS windows accepted in 3 minutes"
exit 1

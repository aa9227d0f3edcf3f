#!/bin/bash
# Issue 4, the listener on the devnet: two topics, every window the devnet opens is
# reported exactly once (one window_open per (topic, nonce), nonces in order, the devnet's
# window end), in four runs side by side:
#   plain       - a healthy devnet;
#   drops       - the devnet drops every websocket every 2 s;
#   failover    - the first RPC endpoint is dead, the second answers 500 to everything;
#                 the third is the devnet;
#   malformed   - 30% of the websocket frames are malformed: no crash, still every window;
#   wsfailover  - no websocket configured and the first RPC endpoint is dead: the websocket
#                 fails over to the second endpoint's like the RPC calls.
source "$(dirname "$0")/lib.sh"
EPOCHS=20

dead_port() {	# a loopback port nobody listens on
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# run NAME DEVNET_ARGS...: a devnet and a daemon for topics 67 and 68.
run() {
	local name=$1; shift
	local D=$T/$name
	start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68 --epoch 6 --window 4 \
		--account "$TEST_ADDRESS_1:100000000000" --seed 11 "$@" || return 1
	e2e_conf "$D" "$DEVNET_PORT" 67 68
	sed -i "s/^instance = .*/instance = $name/; s|^run_dir = .*|run_dir = $D/run|" "$D/w.conf"
	echo "$DEVNET_PORT" >"$D/devnet_port"
}

check "devnet plain" run plain
check "devnet with websocket drops" run drops --drop-ws-every 2
check "devnet with malformed frames" run malformed --malformed-rate 0.3
# Failover: endpoint 1 refuses connections, endpoint 2 answers 500, endpoint 3 works.
check "devnet answering 500" start_devnet "$T/bad500" --chain-id devnet-1 --block-ms 200 \
	--topics 67,68 --http-error-rate 1
BAD500=$DEVNET_PORT
check "devnet for failover" run failover
FP=$(cat "$T/failover/devnet_port")
sed -i "s|^rpc = .*|rpc = http://127.0.0.1:$(dead_port), http://127.0.0.1:$BAD500, http://127.0.0.1:$FP\nwebsocket = ws://127.0.0.1:$FP/websocket|" \
	"$T/failover/w.conf"
check "devnet for websocket failover" run wsfailover
WP=$(cat "$T/wsfailover/devnet_port")
sed -i "s|^rpc = .*|rpc = http://127.0.0.1:$(dead_port), http://127.0.0.1:$WP|" "$T/wsfailover/w.conf"

for n in plain drops malformed failover wsfailover; do
	check "$n: start" "$CTL" -c "$T/$n/w.conf" start
done

# enough NAME: the daemon logged window_open for $EPOCHS windows of each topic.
enough() {
	python3 - "$T/$1/state/logs/worker_continuous.log" "$EPOCHS" <<'PY'
import json, sys
c = {67: 0, 68: 0}
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("event") == "window_open":
        c[o["data"]["topic"]] = c.get(o["data"]["topic"], 0) + 1
sys.exit(0 if min(c.values()) >= int(sys.argv[2]) else 1)
PY
}

# verify NAME: every window the devnet opened between the first and the last one reported
# was reported exactly once, in order, with the devnet's end; none was invented.
verify() {
	python3 - "$T/$1/record.jsonl" "$T/$1/state/logs/worker_continuous.log" <<'PY'
import json, sys
opened = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "window":
        opened[(r["topic"], r["nonce"])] = r["end"]
seen = {}
src = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    if o.get("event") != "window_open":
        continue
    d = o["data"]
    assert o["message"] == "Submission window opened (nonce=%d)" % d["nonce"], o["message"]
    assert d["source"] in ("ws", "poll"), d
    k = (d["topic"], d["nonce"])
    assert k in opened, ("a window the devnet never opened", k)
    assert d["window_end"] in (None, opened[k]), ("wrong end", k, d["window_end"], opened[k])
    seen.setdefault(d["topic"], []).append(d["nonce"])
    src[d["topic"]] = src.get(d["topic"], 0) + (d["source"] == "ws")
for topic in (67, 68):
    ns = seen.get(topic, [])
    assert len(ns) == len(set(ns)), ("a window reported twice", topic, ns)
    assert ns == sorted(ns), ("out of order", topic, ns)
    want = sorted(n for (t, n) in opened if t == topic and ns[0] <= n <= ns[-1])
    missing = sorted(set(want) - set(ns))
    assert not missing, ("missed windows", topic, missing)
    print("# topic %d: %d windows, %d from the websocket" % (topic, len(ns), src[topic]))
PY
}

for n in plain drops malformed failover wsfailover; do
	check "$n: $EPOCHS windows of each topic" wait_for 120 enough "$n"
	check "$n: every window exactly once, in order, with its end" verify "$n"
done
check "drops: the listener reconnected" grep -q 'reconnecting in' "$T/drops/state/logs/"*.log
check "failover: the chain checks went through the third endpoint" \
	grep -q 'emissions version v10 (detected)' "$T/failover/state/logs/worker_continuous.log"
check "wsfailover: the websocket moved to the second endpoint" \
	grep -q "websocket ws://127.0.0.1:$WP/websocket connected" "$T/wsfailover/state/logs/worker_continuous.log"
check "malformed: the listener dropped malformed frames" grep -rq 'malformed frame' "$T/malformed/state/logs/"
for n in plain drops malformed failover wsfailover; do
	check "$n: status shows no listener restart" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.check_output(['$CTL', '-c', '$T/$n/w.conf', 'status', '--json']))
ch = [c for c in d.get('children', []) if c.get('role') == 'listener']
assert ch and all(c.get('restarts', 0) == 0 for c in ch), ch"
	check "$n: stop" "$CTL" -c "$T/$n/w.conf" stop
done
finish

#!/bin/bash
# Issue 23: /healthz and /readyz on the metrics listener (INTERFACES.md "Health endpoints"),
# with curl: 200 {"status":"ok","reasons":[]} while healthy / ready, 503 with the reasons
# otherwise: no chain yet, the chain gone quiet, a child failed (and its topic).
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"

# code URL OUTFILE: the HTTP status; the body in OUTFILE.
code() { curl -s -o "$2" -w '%{http_code}' "$1"; }
body_is() {	# FILE STATUS REGEX-OF-A-REASON (or "" for no reason)
	python3 - "$@" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"status", "reasons"}, d
assert d["status"] == sys.argv[2], d
assert all(isinstance(r, str) for r in d["reasons"]), d
if sys.argv[3]:
    assert any(re.search(sys.argv[3], r) for r in d["reasons"]), d
else:
    assert d["reasons"] == [], d
PY
}

# 1. Against the devnet: live, then ready.
check "start" "$CTL" -c "$D/w.conf" start
M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""')
H="http://$M/healthz"; R="http://$M/readyz"
check "/healthz is 200 while running" test "$(code "$H" "$T/h1")" = 200
check "/healthz body is {status: ok, reasons: []}" body_is "$T/h1" ok ""
check "/healthz content type is JSON" sh -c "curl -s -D - -o /dev/null '$H' | grep -qi '^content-type: application/json'"
ready() { [ "$(code "$R" "$T/r1")" = 200 ]; }
check "/readyz becomes 200 once the chain answers" wait_for 20 ready
check "/readyz body is {status: ok, reasons: []}" body_is "$T/r1" ok ""
check "/readyz?verbose=1 (a query string) is the same endpoint" test "$(code "$R?verbose=1" "$T/r1q")" = 200

# 2. The chain goes away: still live, not ready, and says why (ws_silence_s = 5).
kill -TERM "$DEVNET_PID"; wait "$DEVNET_PID" 2>/dev/null
unready() { [ "$(code "$R" "$T/r2")" = 503 ]; }
check "/readyz turns 503 when the chain stops answering" wait_for 20 unready
check "its reason: the chain has not answered for N s" body_is "$T/r2" fail "the chain has not answered for [0-9]+ s"
check "/healthz stays 200 (a quiet chain is no failure of ours)" test "$(code "$H" "$T/h2")" = 200
"$CTL" -c "$D/w.conf" stop >/dev/null

# 3. No chain at all from the start: live, not ready.
sed -i 's|^rpc = .*|rpc = http://127.0.0.1:9|' "$D/w.conf"
check "start without a chain" "$CTL" -c "$D/w.conf" start
M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""')
check "/healthz is 200" test "$(code "http://$M/healthz" "$T/h3")" = 200
check "/readyz is 503" test "$(code "http://$M/readyz" "$T/r3")" = 503
check "its reason: the chain has not answered yet" body_is "$T/r3" fail "the chain has not answered yet"
"$CTL" -c "$D/w.conf" stop >/dev/null

# 4. A child failed for good (exit 78, test hook): neither live nor ready, with the reason.
AW_TEST_CRASH=submitter:78 start_bg "$D/daemon.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
up() { M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""') && [ -n "$M" ]; }
wait_for 10 up
M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""')
dead() { [ "$(code "http://$M/healthz" "$T/h4")" = 503 ]; }
check "/healthz is 503 when a child failed" wait_for 10 dead
check "its reason names the child and why" body_is "$T/h4" fail "^submitter failed: submitter exited with status 78"
check "/readyz is 503 too" test "$(code "http://$M/readyz" "$T/r4")" = 503
check "and names the failed topic" body_is "$T/r4" fail "^topic 67 failed"
check "/metrics still answers" test "$(code "http://$M/metrics" /dev/null)" = 200
kill -TERM "$DPID"; wait "$DPID"
finish

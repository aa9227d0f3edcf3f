#!/bin/bash
# Issue 14: the supervisor is killed with SIGKILL between the durable `signed` record and the
# broadcast (test hook AW_TEST_CRASH_AFTER_LEDGER_SIGN=1); its parent never reaps it, so it
# stays a zombie; the test appends a torn line to the ledger, as a crash in the middle of a
# write leaves it, and starts the daemon again.  The zombie does not block the start (the pid
# file is decided by its lock), the torn line is cut and logged, the next records are not
# glued to it, and the nonce is resolved with the transaction already signed: never signed
# twice, never two transactions at the chain.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 40 --window 30 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
L=$D/state/ledger/topic-67.jsonl

# The daemon's parent is a subshell that exec's sleep: it never reaps the dead supervisor.
( AW_TEST_CRASH_AFTER_LEDGER_SIGN=1 "$WORKERD" -f -c "$D/w.conf" >"$D/daemon1.log" 2>&1 &
  echo $! >"$D/sup1.pid"; exec sleep 120 ) &
_bg_pids+=("$!")
check "the supervisor killed itself after the signed record (the hook fired)" \
	wait_for 60 grep -q "AW_TEST_CRASH_AFTER_LEDGER_SIGN" "$D/daemon1.log"
SUP1=$(cat "$D/sup1.pid")
zombie() { grep -q '^State:[[:space:]]*Z' "/proc/$SUP1/status"; }
check "the killed supervisor is an unreaped zombie" wait_for 10 zombie
NONCE=$(python3 - "$L" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([r for r in s if r["state"] == "signed"][-1]["nonce"])
PY
)
HASH=$(python3 - "$L" "$NONCE" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([r for r in s if r["state"] == "signed" and r["nonce"] == int(sys.argv[2])][-1]["txhash"])
PY
)
diag "signed before the crash: nonce $NONCE tx $HASH"
nobroadcast() {
	python3 - "$D/record.jsonl" "$HASH" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert not (r.get("kind") == "tx" and r.get("txhash") == sys.argv[2]), r
PY
}
check "that transaction was not broadcast before the crash" nobroadcast
# A line that is not a record and a NUL run (what a power loss may leave), then the torn
# line a crash in the middle of an append leaves (no newline).
printf 'not a record\n\0\0\0\0\0\0\0\0\n' >>"$L"
SIZE=$(stat -c %s "$L")
printf '{"time":"2026-12-01T00:00:00.000000Z","topic":67,"nonce":%s,"sta' "$((NONCE + 1))" >>"$L"
TORN=$(( $(stat -c %s "$L") - SIZE ))

start_bg "$D/daemon2.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
running() { status_json "$D/w.conf" >/dev/null; }
check "the daemon starts again while the killed one is still a zombie" wait_for 20 running
check "the zombie was still there when it started" zombie
check "the torn line was cut and logged with its size and start" \
	grep -q "cut a torn last line of $TORN byte(s) at offset $SIZE, starting \"{" "$D/daemon2.log"
bad_lines() { [ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["ledger_bad_lines"]')" = 1 ]; }
check "status counts the line that is not a record (ledger_bad_lines 1, the NUL run not)" bad_lines
check "and the text status says so" sh -c '"$1" -c "$2" status | grep -q "ledger: 1 line(s) that are not records"' _ "$CTL" "$D/w.conf"
check "the warning names the file and the count" grep -q "ledger $L: 1 line(s) that are not records skipped" "$D/daemon2.log"
resolved() {
	python3 - "$L" "$NONCE" <<'PY'
import json, sys
def recs(p):
    for l in open(p, errors="replace"):
        l = l.strip("\0\n")
        if l.startswith("{"):
            yield json.loads(l)
st = [r["state"] for r in recs(sys.argv[1]) if r["nonce"] == int(sys.argv[2])]
assert st[-1] in ("accepted", "rejected", "missed") and "broadcast" in st, st
PY
}
check "the signed nonce is resolved after the restart" wait_for 40 resolved
kill -TERM "$DPID"; wait "$DPID"
check "every ledger line is a record (nothing glued to the torn line)" python3 - "$L" <<'PY'
import json, sys
for l in open(sys.argv[1], errors="replace"):
    l = l.strip("\0\n")
    if l in ("", "not a record"):
        continue
    r = json.loads(l)
    assert isinstance(r, dict) and "state" in r, l
PY
check "the nonce was signed once, and only that transaction reached the chain" \
	python3 - "$D/record.jsonl" "$L" "$NONCE" "$HASH" <<'PY'
import json, sys
n, h = int(sys.argv[3]), sys.argv[4]
signed = {}
for l in open(sys.argv[2], errors="replace"):
    l = l.strip("\0\n")
    if not l.startswith("{"):
        continue	# the line planted by the test
    o = json.loads(l)
    if o["state"] == "signed":
        signed.setdefault(o["nonce"], set()).add(o["txhash"])
assert signed[n] == {h}, signed[n]
for k, hs in signed.items():
    assert len(hs) == 1, ("signed twice", k, hs)
txs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r.get("nonce") is not None:
        txs.setdefault(r["nonce"], set()).add(r["txhash"])
assert txs.get(n) == {h}, txs.get(n)
for k, hs in txs.items():
    assert len(hs) == 1, (k, hs)
PY
finish

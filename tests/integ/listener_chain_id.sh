#!/bin/bash
# Issue 4: the listener checks the chain id first; a mismatch is a permanent failure
# (exit status 78, never restarted) and no window is ever reported.
source "$(dirname "$0")/lib.sh"
D=$T/a
start_devnet "$D" --chain-id other-chain-7 --block-ms 200 --topics 67 --epoch 4 --window 3 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
LOG=$D/state/logs/worker_continuous.log
# The listener is ready before it reaches the chain (an unreachable chain must not block the
# start), so whether start itself fails depends on timing; what follows does not.
"$CTL" -c "$D/w.conf" start >"$T/start.out" 2>&1
mismatch() {
	python3 - "$LOG" <<'PY'
import json, sys
ok = False
for l in open(sys.argv[1]):
    o = json.loads(l)
    d = o.get("data") or {}
    if d.get("reason") == "chain_id_mismatch":
        assert d["expected"] == "devnet-1" and d["node"] == "other-chain-7", d
        ok = True
sys.exit(0 if ok else 1)
PY
}
check "the listener logged the mismatch, with both chain ids" wait_for 20 mismatch
check "the supervisor saw exit status 78 and does not restart the listener" \
	wait_for 10 grep -q 'listener exited with status 78.*permanent failure' "$LOG"
sleep 3
check "the listener was started once" test "$(grep -c 'chain id mismatch' "$LOG")" -eq 1
check "no window was reported" bash -c "! grep -q '\"window_open\"' '$LOG'"
"$CTL" -c "$D/w.conf" stop >/dev/null 2>&1
finish

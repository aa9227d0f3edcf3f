#!/bin/bash
# Issue 14: ENOSPC before a `signed` record, the way the kernel gives it (the ledger directory
# is a tiny tmpfs, filled up by the test; root only, skipped otherwise): no broadcast for that
# nonce, an `error` event with the reason, and the topic goes on at the next window once
# space is back.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D/state/ledger"
MNT=$D/state/ledger
umount_it() { umount -l "$MNT" 2>/dev/null; _cleanup; }
if [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP needs root to mount a tiny tmpfs for the ledger"
	finish
fi
if ! mount -t tmpfs -o size=64k,mode=0750 tmpfs "$MNT" 2>/dev/null; then
	ok "# SKIP cannot mount a tmpfs here"
	finish
fi
trap umount_it EXIT
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 10 --window 8 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
start_bg "$D/daemon.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
one() { [ "$(accepted_count "$D/record.jsonl")" -ge 1 ]; }
check "a first window is accepted" wait_for 60 one
# Fill the file system up (a page at a time, then byte by byte).
dd if=/dev/zero of="$MNT/filler" bs=4096 >/dev/null 2>&1
dd if=/dev/zero of="$MNT/filler" bs=1 oflag=append conv=notrunc >/dev/null 2>&1
JL=$D/state/logs/worker_continuous.log
refused() {
	python3 - "$JL" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    d = r.get("data") or {}
    if r.get("event") == "error" and d.get("reason") == "ledger_write_failed" and \
            "No space left on device" in (d.get("error") or ""):
        print(d["nonce"]); sys.exit(0)
sys.exit(1)
PY
}
check "ENOSPC on the signed record: an error event with the reason" wait_for 60 refused
NONCE=$(refused)
diag "refused nonce $NONCE"
rm -f "$MNT/filler"
after() {
	python3 - "$D/record.jsonl" "$NONCE" <<'PY'
import json, sys
n = int(sys.argv[2])
ok = any(r.get("kind") == "tx" and r.get("stage") == "deliver" and r.get("code") == 0 and
         (r.get("nonce") or 0) > n for r in map(json.loads, open(sys.argv[1])))
sys.exit(0 if ok else 1)
PY
}
check "space is back: a later window is accepted" wait_for 60 after
kill -TERM "$DPID"; wait "$DPID"
check "no transaction for the refused nonce reached the chain" python3 - "$D/record.jsonl" "$NONCE" <<'PY'
import json, sys
n = int(sys.argv[2])
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert not (r.get("kind") == "tx" and r.get("nonce") == n), r
PY
check "the ledger has no half record" python3 - "$MNT/topic-67.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    json.loads(l)
PY
finish

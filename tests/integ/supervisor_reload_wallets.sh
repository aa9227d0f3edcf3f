#!/bin/bash
# Issue 13: a reload that adds or switches a wallet restarts the submitter with the new set:
# topic 67 moves from wallet 1 to a new wallet 2 and is accepted from wallet 2's address.
# Then a switch to a wallet whose mnemonic cannot be used: the new submitter fails, and the
# windows waiting on it end at their close as missed with the reason (never "predicted"
# forever).
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
ADDR2=$(address_of_test_mnemonic 2)
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 8 --window 5 \
	--account "$TEST_ADDRESS_1:100000000000" --account "$ADDR2:100000000000" \
	|| { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
write_test_mnemonic "$D/key2" 2
cp "$D/w.conf" "$D/one.conf"
check "start with wallet main" "$CTL" -c "$D/w.conf" start
from() {	# ADDRESS [AFTER]: payloads accepted from ADDRESS (delivered after wall time AFTER)
	python3 - "$D/record.jsonl" "$1" "${2:-0}" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)]
          if r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0
          and r["worker"] == sys.argv[2] and r["time"] > float(sys.argv[3])))
PY
}
has() { [ "$(from "$1" "${2:-0}")" -ge 1 ]; }
check "accepted from wallet 1" wait_for 30 has "$TEST_ADDRESS_1"
spid() { status_json "$D/w.conf" | json - '[c["pid"] for c in d["children"] if c["role"] == "submitter"][0]'; }
old=$(spid)
pid=$(status_json "$D/w.conf" | json - 'd["pid"]')
# Topic 67 switched to a new wallet "second".
sed -e 's/^wallet = main$/wallet = second/' "$D/one.conf" >"$D/w.conf"
printf '[wallet second]\nmnemonic_file = %s\n' "$D/key2" >>"$D/w.conf"
t_hup=$(date +%s.%N)
kill -HUP "$pid"
check "the reload restarts the submitter" wait_for 10 sh -c "p=\$(\"\$1\" -c \"\$2\" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([c[\"pid\"] for c in d[\"children\"] if c[\"role\"] == \"submitter\" and c[\"state\"] == \"running\"][0])' 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != \"$old\" ]" _ "$CTL" "$D/w.conf"
check "and the log says why" wait_for 5 grep -q "wallet second added: restarting the submitter" "$D/state/logs/worker_output.log"
check "topic 67 is accepted from wallet 2 after the reload" wait_for 30 has "$ADDR2" "$t_hup"
# A wallet the submitter cannot load: it fails (exit 78); waiting windows end as missed.
echo "these words are not a mnemonic at all" >"$D/key3"; chmod 600 "$D/key3"
sed -e 's/^wallet = main$/wallet = third/' "$D/one.conf" >"$D/w.conf"
printf '[wallet third]\nmnemonic_file = %s\n' "$D/key3" >>"$D/w.conf"
kill -HUP "$pid"
failed() { status_json "$D/w.conf" | json - '[c["state"] for c in d["children"] if c["role"] == "submitter"][0]' | grep -qx failed; }
check "the new submitter fails on the unusable key" wait_for 10 failed
missed() { grep -q '"reason":"submitter_failed"' "$D/state/ledger/topic-67.jsonl"; }
check "a window waiting on it ends at its close as missed with the reason" wait_for 20 missed
check "status counts it" sh -c "\"\$1\" -c \"\$2\" status --json | grep -q '\"submitter_failed\": *[1-9]'" _ "$CTL" "$D/w.conf"
check "stop" "$CTL" -c "$D/w.conf" stop
finish

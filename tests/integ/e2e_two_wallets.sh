#!/bin/bash
# Issue 6: two topics, two wallets in one daemon: each topic's transactions are signed by its
# own wallet.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
ADDR2=$(address_of_test_mnemonic 2)
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" --account "$ADDR2:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67 68
write_test_mnemonic "$D/key2" 2
python3 - "$D/w.conf" "$D/key2" <<'PY'
import sys
p, k = sys.argv[1:]
s = open(p).read()
s = s.replace("[topic 68]\nwallet = main", "[topic 68]\nwallet = second")
s += f"[wallet second]\nmnemonic_file = {k}\n"
open(p, "w").write(s)
PY
check "start" "$CTL" -c "$D/w.conf" start
both() { python3 - "$D/record.jsonl" <<'PY'
import json, sys
seen = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r["stage"] == "deliver" and r["code"] == 0:
        seen.setdefault(r["topic"], []).append(r["worker"])
sys.exit(0 if len(seen.get(67, [])) >= 3 and len(seen.get(68, [])) >= 3 else 1)
PY
}
check "both topics get accepted payloads" wait_for 60 both
"$CTL" -c "$D/w.conf" stop >/dev/null
check "topic 67 only by wallet main, topic 68 only by wallet second" python3 - "$D/record.jsonl" "$TEST_ADDRESS_1" "$ADDR2" <<'PY'
import json, sys
a1, a2 = sys.argv[2:]
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r["stage"] == "deliver":
        want = a1 if r["topic"] == 67 else a2
        assert r["worker"] == want, r
PY
finish

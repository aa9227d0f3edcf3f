#!/bin/bash
# Issue 6: the balance is checked at start and after each submission: a warning below the
# cost of 24 submissions (fee + data-sending fee), and the wallet stops submitting below the
# cost of one, before the chain would refuse the transaction.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
# One submission costs at most 300000 gas x 10 uallo + the 1000000 data-sending fee = 4 M;
# 20 M is about five of them.
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--data-sending-fee 1000000 --account "$TEST_ADDRESS_1:20000000" ||
	{ not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
check "start" "$CTL" -c "$D/w.conf" start
stopped() { grep -q "stops submitting" "$D/state/logs/worker_output.log"; }
check "the wallet stops submitting when the balance is below one submission" wait_for 60 stopped
missed_funds() { grep -q '"reason":"insufficient_funds"' "$D/state/ledger/topic-67.jsonl"; }
check "the next window is missed with reason insufficient_funds" wait_for 20 missed_funds
"$CTL" -c "$D/w.conf" status --json >"$D/status.json"
check "stop" "$CTL" -c "$D/w.conf" stop
check "a low-balance warning was logged at start, naming the wallet" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ev = [dict(e.get("data") or {}, event=e["event"]) for e in ev]
w = [e for e in ev if e.get("reason") == "low_balance"]
assert w and w[0]["wallet"] == "main", w
e = [e for e in ev if e.get("reason") == "insufficient_funds" and e.get("event") == "error"]
assert e and int(e[0]["balance"]) < e[0]["needed"], e
PY
check "windows were accepted until then, and the chain never refused one for funds" python3 - "$D/record.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
acc = [r for r in recs if r["kind"] == "tx" and r["stage"] == "deliver" and r["code"] == 0]
bad = [r for r in recs if r["kind"] == "tx" and r["code"] not in (0,)]
assert len(acc) >= 2, len(acc)
assert not [r for r in bad if "funds" in r["log"]], bad
PY
check "status shows the wallet's balance" json "$D/status.json" 'int(d["wallets"][0]["balance_uallo"]) < 4000000'
finish

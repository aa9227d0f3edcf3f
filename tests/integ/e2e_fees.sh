#!/bin/bash
# Issue 20: fees as the chain sets them, against the devnet.
#  - a fee over max_fee misses the window with reason fee_cap, naming both numbers in uallo
#    and ALLO, and nothing is ever signed (no audit line, no transaction at the devnet);
#  - a wallet with a fee grant and a zero balance submits while the allowance lasts
#    (Fee.granter set, the granter pays), then misses with fee_allowance without signing;
#  - alloractl check: the gas price line (feemarket, or the node's minimum without the
#    module), the fee per submission and per day, the grant's allowance (warning when it
#    does not last a day);
#  - network = mainnet: the preset's chain id refuses a node of another chain (check and
#    start), an explicit rpc overrides the preset's endpoint.
source "$(dirname "$0")/lib.sh"
A1=$TEST_ADDRESS_1
G=$(address_of_test_mnemonic 2)

# ---- fee cap ----
D=$T/cap
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --epoch 6 --window 4 \
	--min-gas-price 250000000 --account "$A1:1000000000000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's|^\[chain\]|[chain]\nmax_fee = 1000000000|' "$D/w.conf"
check "start (max_fee 1000000000 uallo, price 250000000 uallo/gas)" "$CTL" -c "$D/w.conf" start
capped() { [ "$(grep -c '"reason":"fee_cap"' "$D/state/ledger/topic-67.jsonl" 2>/dev/null)" -ge 2 ]; }
check "windows are missed with reason fee_cap" wait_for 30 capped
"$CTL" -c "$D/w.conf" stop >/dev/null
check "the message names the fee and max_fee, in uallo and ALLO" python3 - "$D/state/ledger/topic-67.jsonl" <<'PY'
import json, re, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r.get("reason") == "fee_cap"]
d = recs[0].get("error") or recs[0].get("detail")
assert recs[0]["state"] == "missed", recs[0]
assert "max_fee 1000000000 uallo (0.000000001 ALLO)" in d, d
fee = re.search(r"the fee ([0-9]+) uallo \(([0-9.]+) ALLO\)", d)
assert fee and int(fee.group(1)) > 1000000000, d
assert abs(int(fee.group(1)) / 1e18 - float(fee.group(2))) < 1e-12, d
PY
check "nothing was signed: no audit record, no transaction reached the devnet" sh -c "
	! [ -s '$D/state/audit/main.jsonl' ] && ! grep -q '\"kind\":\"tx\"' '$D/record.jsonl'"

# ---- fee grant, zero balance ----
D=$T/grant
# 144000 gas (120000 simulated x 1.2) at 10 uallo/gas = 1440000 uallo a submission: the
# allowance pays three.
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --epoch 6 --window 4 --data-sending-fee 0 \
	--account "$A1:0" --account "$G:1000000000" --fee-grant "$G:$A1:4400000" ||
	{ not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i "s|^\[wallet main\]|[wallet main]\nfee_granter = $G|" "$D/w.conf"
"$CTL" -c "$D/w.conf" check >"$T/grant-check.out" 2>&1
check "check: the grant's allowance is shown and is less than a day of fees (a warning)" \
	grep -q "^warning *wallet main fee grant *from $G: BasicAllowance, 4400000 uallo (0.0000000000044 ALLO) left, no expiry; less than a day" "$T/grant-check.out"
check "check: a zero balance is enough when the grant pays the fees" \
	grep -q "^ok *wallet main balance *0 uallo" "$T/grant-check.out"
check "start" "$CTL" -c "$D/w.conf" start
spent() { python3 -c "
import json, sys
sys.exit(not any(r.get('state') == 'missed' and r.get('reason') == 'fee_allowance'
                 for r in map(json.loads, open(sys.argv[1]))))" "$D/state/ledger/topic-67.jsonl"; }
check "the allowance runs out: missed with fee_allowance (not signed)" wait_for 40 spent
three() { test "$(accepted_count "$D/record.jsonl")" = 3; }
check "three windows were accepted while the allowance lasted" wait_for 5 three
"$CTL" -c "$D/w.conf" stop >/dev/null
"$CTL" -c "$D/w.conf" check >"$T/grant-check2.out" 2>&1
check "the wallet's balance is still 0: the granter paid" \
	grep -q "^ok *wallet main balance *0 uallo" "$T/grant-check2.out"
check "and check shows what is left of the allowance (80000 uallo), as a warning" \
	grep -q "^warning *wallet main fee grant *from $G: BasicAllowance, 80000 uallo" "$T/grant-check2.out"
check "the transactions carry Fee.granter" python3 - "$D" "$A1" "$G" <<'PY'
import json, subprocess, sys, os
d, a1, g = sys.argv[1:4]
audit = [json.loads(l) for l in open(os.path.join(d, "state/audit/main.jsonl"))]
# three paid; at most one more was signed before the allowance was read again, and the
# chain refused it (feegrant: fee limit exceeded)
assert len(audit) in (3, 4), audit
led = [json.loads(l) for l in open(os.path.join(d, "state/ledger/topic-67.jsonl"))]
txs = [r["tx"] for r in led if r.get("state") == "signed"]
ctl = os.path.join(os.environ["BUILD_DIR"], "alloractl")
for t in txs:
    dec = json.loads(subprocess.run([ctl, "tx", "decode", t], capture_output=True, text=True, check=True).stdout)
    assert dec["auth_info"]["fee_granter"] == g, dec["auth_info"]
miss = [r for r in led if r.get("reason") == "fee_allowance" and r.get("state") == "missed"][0]
md = miss.get("error") or ""
assert "left, the fee is" in md and "not signed" in md, miss
PY

# ---- check: gas price lines ----
D=$T/chk
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --epoch 10 --min-gas-price 250000000 \
	--account "$A1:1000000000000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sleep 0.5
"$CTL" -c "$D/w.conf" check >"$T/chk.out" 2>&1
check "check: the gas price on its own line, from the feemarket" \
	grep -q "^ok *gas price *250000000 uallo/gas (feemarket)$" "$T/chk.out"
check "check: the fee per submission in uallo and ALLO, and max_fee 0.01 ALLO" \
	grep -q "^ok *fee *75000000000000 uallo (0.000075 ALLO) per submission (300000 gas); max_fee 10000000000000000 uallo (0.01 ALLO)$" "$T/chk.out"
check "check: the fee per day at the topic's epoch length and the measured block time" python3 - "$T/chk.out" <<'PY'
import re, sys
l = [x for x in open(sys.argv[1]) if "topic 67 fees" in x][0]
m = re.search(r"per submission, ([0-9]+) uallo \([0-9.]+ ALLO\) per day \(([0-9.]+) submissions at 10 blocks an epoch, ([0-9.]+) s a block\)", l)
assert m, l
k = 86400 / (10 * float(m.group(3)))
assert abs(float(m.group(2)) - k) < 0.1 * k and 0.1 < float(m.group(3)) < 0.5, l
assert abs(int(m.group(1)) - 75000000000000 * float(m.group(2))) < 1e-3 * int(m.group(1)), l
PY
kill "$DEVNET_PID"
D=$T/nofm
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --min-gas-price 12 --no-feemarket \
	--account "$A1:1000000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
"$CTL" -c "$D/w.conf" check >"$T/nofm.out" 2>&1
check "check without the feemarket module: the node's minimum gas price" \
	grep -q "^ok *gas price *12 uallo/gas (node minimum)$" "$T/nofm.out"
sed -i 's|^\[chain\]|[chain]\ngas_price = 0.5|' "$D/w.conf"
"$CTL" -c "$D/w.conf" check >"$T/fixed.out" 2>&1
check "gas_price = 0.5: the configured price" grep -q "^ok *gas price *0.5 uallo/gas (configured)$" "$T/fixed.out"
check "the fee at the configured price: 300000 gas x 0.5 = 150000 uallo" \
	grep -q "^ok *fee *150000 uallo" "$T/fixed.out"

# ---- out of gas at delivery: simulate again, a new transaction in the same window ----
D=$T/gas
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --epoch 12 --window 10 --gas-used 150000 \
	--account "$A1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's|^\[chain\]|[chain]\ngas_limit = 100000|' "$D/w.conf"
check "start (gas_limit 100000, the transaction uses 150000)" "$CTL" -c "$D/w.conf" start
twice() { [ "$(accepted_count "$D/record.jsonl")" -ge 2 ]; }
check "windows are accepted anyway" wait_for 30 twice
"$CTL" -c "$D/w.conf" stop >/dev/null
check "each accepted after one out-of-gas delivery (code 11) of the same window, re-simulated" \
	python3 - "$D/record.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"tx"' in l]
dl = [r for r in recs if r["stage"] == "deliver"]
ok = [r for r in dl if r["code"] == 0]
assert len(ok) >= 2, dl
for r in ok:
    oog = [x for x in dl if x["nonce"] == r["nonce"] and x["code"] == 11]
    assert oog and "out of gas" in oog[0]["log"], ("no out-of-gas first", r["nonce"], dl)
PY

# ---- CanSubmitWorkerPayload at start, before any window ----
D=$T/wl
start_devnet "$D" --chain-id devnet-1 --block-ms 250 --epoch 400 --start-height 10 \
	--account "$A1:100000000000" --not-whitelisted "$A1:67" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
check "start (not whitelisted in topic 67)" "$CTL" -c "$D/w.conf" start
wl() { grep -q "may not submit to topic 67 (CanSubmitWorkerPayload is false" "$D/state/logs/worker_output.log"; }
check "the submitter says so at start, before the next window (100 s away)" wait_for 15 wl
"$CTL" -c "$D/w.conf" stop >/dev/null

# ---- network preset ----
D=$T/net
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i -e 's|^chain_id = .*|network = mainnet|' "$D/w.conf"
"$CTL" -c "$D/w.conf" check >"$T/net.out" 2>&1
check "network = mainnet: check shows the preset" \
	grep -q "^ok *network *mainnet preset: chain allora-mainnet-1, rpc http://127.0.0.1:$DEVNET_PORT, websocket ws://127.0.0.1:$DEVNET_PORT/websocket, emissions v9" "$T/net.out"
check "and refuses the devnet, which serves another chain" \
	grep -q "^error *chain id *http://127.0.0.1:$DEVNET_PORT serves chain \"devnet-1\", the configuration says \"allora-mainnet-1\"" "$T/net.out"
"$CTL" -c "$D/w.conf" start >"$T/net-start.out" 2>&1
rc=$?
sed 's/^/# /' "$T/net-start.out"
check "start refuses it too (exit 1, chain id mismatch)" sh -c "[ $rc = 1 ] && grep -q 'chain id' '$T/net-start.out'"
"$CTL" -c "$D/w.conf" stop >/dev/null 2>&1
sed -i -e 's|^network = mainnet|network = mainnet\nchain_id = devnet-1\nemissions = v10|' "$D/w.conf"
"$CTL" -c "$D/w.conf" check >"$T/net2.out" 2>&1
check "explicit chain_id and emissions override the preset" grep -q "^ok *chain id *devnet-1" "$T/net2.out"
finish

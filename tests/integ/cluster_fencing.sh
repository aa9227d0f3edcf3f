#!/bin/bash
# Issue 24: two daemons ("hosts", separate state and run directories) on one devnet, one
# wallet, two topics, a three-member etcd (Debian's etcd-server) with lease_ttl_s = 2:
# exactly one signs; SIGSTOP of the leader past the TTL hands over to the standby and the
# old one's fencing transaction fails when it resumes; one etcd member down changes
# nothing; two down and no host signs (both say why, alloractl check exits 1); back up and
# service resumes.  The devnet's record must never hold a second transaction for a nonce.
# Both hosts are ready by /readyz (issue 23: the standby with a reason naming its wallet).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/etcd_lib.sh"
[ -x "$ETCD_BIN" ] || { ok "# SKIP etcd-server is not installed (scripts/deps.sh)"; finish; }
BLOCK_MS=250
LEASE_TTL=2
TTL_BLOCKS=$((LEASE_TTL * 1000 / BLOCK_MS))
etcd_cluster 3 || { not_ok "three etcd members start"; finish; }
ok "three etcd members on loopback"
start_devnet "$T/dn" --chain-id devnet-1 --block-ms $BLOCK_MS --topics 67,68 --epoch 20 \
	--window 16 --account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
REC=$T/dn/record.jsonl
for h in a b; do
	e2e_conf "$T/$h" "$DEVNET_PORT" 67 68
	cluster_conf "$T/$h" "host-$h"
done
sed -i 's/^metrics_listen = off/metrics_listen = 127.0.0.1:0/' "$T/a/w.conf" "$T/b/w.conf"
check "host-a starts (alloractl start returns 0)" "$CTL" -c "$T/a/w.conf" start
check "host-b starts too (a standby is ready)" "$CTL" -c "$T/b/w.conf" start
FROM=$(height)
check "host-a leads wallet main" wait_for 10 is_leader "$T/a/w.conf"
check "host-b stands by and names host-a as the leader" wait_for 10 standby_of "$T/b/w.conf" host-a
check "status: etcd endpoints, etcd_ok, lease_expires_in_s" python3 - "$T/a/w.conf" "$CTL" <<'PY'
import json, subprocess, sys
d = json.loads(subprocess.check_output([sys.argv[2], "-c", sys.argv[1], "status", "--json"]))
c = d["cluster"]
assert c["name"] == "host-a" and len(c["etcd"]) == 3 and c["etcd_ok"] is True, c
w = c["wallets"][0]
assert w["name"] == "main" and w["me"] is True and 0 < w["lease_expires_in_s"] <= 2, w
PY
check "status (text): the cluster and who serves" bash -c "'$CTL' -c '$T/a/w.conf' status | grep -q 'wallet main *leader host-a (this host: serving)' && '$CTL' -c '$T/b/w.conf' status | grep -q 'wallet main *leader host-a (this host stands by, signs nothing)'"
metric() {
	local conf=$1 addr
	addr=$(status_json "$conf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"])')
	curl -s "http://$addr/metrics" | grep '^allora_worker_leader{wallet="main"}' | awk '{print $2}'
}
check "metrics: allora_worker_leader is 1 on host-a, 0 on host-b" \
	test "$(metric "$T/a/w.conf")/$(metric "$T/b/w.conf")" = "1/0"
# Issue 23: a standby is ready (INTERFACES.md "Health endpoints"): /readyz is 200, "ok", with
# a reason naming the wallet it stands by for; the leader's reasons are empty.
readyz() {	# CONF STATUS WANT-REASON-REGEX ("" for none)
	local addr out code
	addr=$(status_json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"])')
	out=$(curl -s -w '\n%{http_code}' "http://$addr/readyz") || return 1
	code=${out##*$'\n'}
	[ "$code" = "$2" ] || { echo "# /readyz of $1: $out"; return 1; }
	python3 - "${out%$'\n'*}" "$3" <<'PY'
import json, re, sys
d = json.loads(sys.argv[1])
assert d["status"] == "ok", d
if sys.argv[2]:
    assert [r for r in d["reasons"] if re.search(sys.argv[2], r)], d
else:
    assert d["reasons"] == [], d
PY
}
check "/readyz of the standby (host-b): 200 ok, standing by for wallet main (leader host-a)" \
	readyz "$T/b/w.conf" 200 'standby for wallet main \(leader host-a\)'
check "/readyz of the leader (host-a): 200 ok, no reason" readyz "$T/a/w.conf" 200 ""
check "windows get accepted" wait_for 30 accepted_after "$REC" 3
check "host-b signed nothing and wrote no missed" \
	bash -c "! cat '$T'/b/state/audit/*.jsonl 2>/dev/null | grep -q . && ! grep -q missed '$T'/b/state/ledger/*.jsonl"

# SIGSTOP the leader's supervisor past the TTL.
APID=$(cat "$T/a/run/host-a.pid")
N=$(accepted_count "$REC")
H1=$(height)
kill -STOP "$APID"
check "host-b takes over while host-a is stopped" wait_for $((LEASE_TTL + 4)) is_leader "$T/b/w.conf"
check "host-b's transactions are accepted" wait_for 15 accepted_after "$REC" "$N"
AUD=$(cat "$T"/a/state/audit/*.jsonl 2>/dev/null | wc -l)
kill -CONT "$APID"
check "host-a's fencing transaction fails when it resumes" \
	wait_for 10 grep -q "fencing transaction failed" "$T/a/state/logs/worker_output.log"
check "host-a stands by for host-b" wait_for 10 standby_of "$T/a/w.conf" host-b
N=$(accepted_count "$REC")
check "service goes on under host-b" wait_for 15 accepted_after "$REC" $((N + 1))
check "host-a signed nothing after it resumed" \
	test "$(cat "$T"/a/state/audit/*.jsonl 2>/dev/null | wc -l)" -eq "$AUD"
check "the event log records the change of leader" python3 - "$T/b/state/logs/worker_continuous.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ch = [e["data"] for e in ev if e["event"] == "leader"]
assert ch and ch[0]["leader"] == "host-a" and not ch[0]["me"], ch
assert any(c["leader"] == "host-b" and c["me"] and c["wallet"] == "main" for c in ch), ch
PY

# One etcd member down: nothing changes.
etcd_kill 0
N=$(accepted_count "$REC")
check "one etcd member down: service goes on" wait_for 20 accepted_after "$REC" $((N + 1))

# Two down: no quorum, nobody signs.
H2=$(height)
etcd_kill 1
etcd_down() { status_json "$1" | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["cluster"]["etcd_ok"])'; }
check "host-b says etcd is unreachable" wait_for $((LEASE_TTL + 8)) etcd_down "$T/b/w.conf"
check "host-a says etcd is unreachable" wait_for $((LEASE_TTL + 8)) etcd_down "$T/a/w.conf"
check "neither host serves without a quorum" wait_for $((LEASE_TTL + 8)) bash -c \
	"$(declare -f leader_of not_leader status_json); CTL='$CTL'; not_leader '$T/a/w.conf' && not_leader '$T/b/w.conf'"
sleep 0.5
TX=$(tx_count "$REC")
"$CTL" -c "$T/b/w.conf" check >"$T/check.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "^error *etcd .*none of the 3 endpoints" "$T/check.out"; then
	ok "alloractl check exits 1 naming etcd"
else
	not_ok "alloractl check exits 1 naming etcd (rc $rc)"; sed 's/^/# /' "$T/check.out"
fi
# Two windows' worth of blocks (the epoch is 20 blocks) with no quorum.
wait_for 12 bash -c "[ \$(curl -s '$DEVNET_URL/status' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"result\"][\"sync_info\"][\"latest_block_height\"])') -gt $(( $(height) + 40 )) ]"
check "no host signs without a quorum" test "$(tx_count "$REC")" -eq "$TX"
check "both say why in their logs" bash -c \
	"grep -q 'etcd unreachable, so this host signs nothing' '$T/a/state/logs/worker_output.log' && grep -q 'etcd unreachable, so this host signs nothing' '$T/b/state/logs/worker_output.log'"

# Back up: service resumes.
etcd_restart 0
etcd_restart 1
H3=$(height)
N=$(accepted_count "$REC")
check "etcd back: service resumes" wait_for 30 accepted_after "$REC" $((N + 1))
H4=$(height)
"$CTL" -c "$T/a/w.conf" stop >/dev/null
"$CTL" -c "$T/b/w.conf" stop >/dev/null
check "every window accepted exactly once, never a second transaction for a nonce" \
	cluster_record_ok "$REC" "$TTL_BLOCKS" "$FROM" "K:$H1" "O:$H2-$H4"
check "neither host wrote missed for a window" bash -c "! grep -h '\"missed\"' '$T'/a/state/ledger/*.jsonl '$T'/b/state/ledger/*.jsonl"
finish

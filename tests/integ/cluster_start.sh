#!/bin/bash
# Issue 24: a malformed [cluster] is a configuration error (exit 2, FILE:LINE); etcd
# unreachable at start: the daemon starts and is ready, signs nothing, says which endpoint
# failed, alloractl check exits 1, and it recovers without a restart when etcd answers;
# the cluster over https with a CA, server and client certificates made by the test.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/etcd_lib.sh"

# --- configuration errors ---
D=$T/conf
e2e_conf "$D" 1 67
cp "$D/w.conf" "$D/base.conf"
bad() {
	local what=$1 want=$2 body=$3 out rc
	{ cat "$D/base.conf"; printf '%b' "$body"; } >"$D/bad.conf"
	out=$("$CTL" -c "$D/bad.conf" start 2>&1); rc=$?
	if [ $rc -eq 2 ] && echo "$out" | grep -qE -- "$want"; then
		ok "$what: exit 2, \"$(echo "$out" | grep -E -- "$want" | head -1 | sed "s|$T/||")\""
	else
		not_ok "$what (rc $rc)"; echo "$out" | sed 's/^/# /'
	fi
}
L=$(($(wc -l <"$D/base.conf") + 1))
bad "[cluster] without etcd" "bad.conf:$L: \\[cluster\\] needs \"etcd =\"" '[cluster]\nname = a\n'
bad "lease_ttl_s below 2" "bad.conf:$((L + 2)): lease_ttl_s: \"1\" is not a whole number from 2" \
	'[cluster]\netcd = http://127.0.0.1:1\nlease_ttl_s = 1\n'
bad "an endpoint that is not a URL" "bad.conf:$((L + 1)): etcd: \"127.0.0.1:2379\" is not an http:// or https:// URL" \
	'[cluster]\netcd = 127.0.0.1:2379\n'
bad "unknown key" "bad.conf:$((L + 2)): unknown key \"leader\" in \\[cluster\\]" \
	'[cluster]\netcd = http://127.0.0.1:1\nleader = me\n'
bad "a bad name" "bad.conf:$((L + 2)): name \"a b\"" '[cluster]\netcd = http://127.0.0.1:1\nname = a b\n'
bad "[cluster] twice" "bad.conf:$((L + 2)): \\[cluster\\] appears twice \\(first at line $L\\)" \
	'[cluster]\netcd = http://127.0.0.1:1\n[cluster]\n'
touch "$D/client.key" "$D/client.pem"; chmod 644 "$D/client.key"
bad "a key file readable by others" "bad.conf:$((L + 3)): key_file: .* readable by group or others" \
	"[cluster]\netcd = https://127.0.0.1:1\ncert_file = $D/client.pem\nkey_file = $D/client.key\n"
bad "cert_file without key_file" "bad.conf:$L: \\[cluster\\] cert_file and key_file go together" \
	"[cluster]\netcd = https://127.0.0.1:1\ncert_file = $D/client.pem\n"
bad "TLS files with a plain http endpoint" "bad.conf:$L: .*plain http" \
	"[cluster]\netcd = http://127.0.0.1:1\nca_file = $D/client.pem\n"
[ -x "$ETCD_BIN" ] || { ok "# SKIP etcd-server is not installed (scripts/deps.sh)"; finish; }

# --- etcd (https) not running yet ---
etcd_certs "$T/etcd/certs" || { not_ok "test certificates (openssl)"; finish; }
# The daemon is configured with the client port before etcd runs, so these ports cannot be
# picked again on a conflict (the three-member tests do retry).
ETCD_FIXED_PORTS=$(free_ports 2)
set -- $ETCD_FIXED_PORTS
ETCD_SCHEME=https
ETCD_CPORTS[0]=$1
ETCD_URLS="https://127.0.0.1:$1"
start_devnet "$T/dn" --chain-id devnet-1 --block-ms 250 --topics 67 --epoch 12 --window 10 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
REC=$T/dn/record.jsonl
for h in a b; do
	e2e_conf "$T/$h" "$DEVNET_PORT" 67
	LEASE_TTL=2 cluster_conf "$T/$h" "host-$h"
done
check "etcd unreachable: the daemon starts and is ready" "$CTL" -c "$T/a/w.conf" start
says_unreachable() {
	status_json "$T/a/w.conf" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cluster"]
sys.exit(0 if c["etcd_ok"] is False and sys.argv[1] in (c["etcd_error"] or "") and not c["wallets"][0]["me"] else 1)' "$ETCD_URLS"
}
check "status: etcd_ok false, the endpoint named, not the leader" wait_for 10 says_unreachable
check "the log names the endpoint" wait_for 5 grep -q "etcd unreachable, so this host signs nothing until it answers: $ETCD_URLS" "$T/a/state/logs/worker_output.log"
"$CTL" -c "$T/a/w.conf" check >"$T/check.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "^error *etcd *$ETCD_URLS" "$T/check.out"; then
	ok "alloractl check exits 1 with the reason"
else
	not_ok "alloractl check exits 1 with the reason (rc $rc)"; sed 's/^/# /' "$T/check.out"
fi
wait_for 10 grep -q '"kind": *"window"' "$REC"
sleep 0.5
check "nothing signed while etcd is unreachable" test "$(tx_count "$REC")" -eq 0

# --- etcd starts (TLS, client certificates required): recovery without a restart ---
etcd_cluster 1 tls || { not_ok "etcd over https"; finish; }
ok "one etcd member over https with client certificate authentication"
check "host-a recovers without a restart and leads" wait_for 15 is_leader "$T/a/w.conf"
FROM=$(height)
check "windows get accepted over the https cluster" wait_for 20 accepted_after "$REC" 0
check "host-b starts" "$CTL" -c "$T/b/w.conf" start
check "host-b stands by for host-a" wait_for 10 standby_of "$T/b/w.conf" host-a
"$CTL" -c "$T/a/w.conf" check >"$T/check2.out" 2>&1
check "alloractl check: the etcd endpoint answers" grep -q "^ok *etcd *$ETCD_URLS answers" "$T/check2.out"
HSTOP=$(height)
check "a clean stop hands over at once (the lease is revoked)" "$CTL" -c "$T/a/w.conf" stop
check "host-b leads" wait_for 3 is_leader "$T/b/w.conf"
N=$(accepted_count "$REC")
check "service goes on under host-b" wait_for 15 accepted_after "$REC" "$N"
"$CTL" -c "$T/b/w.conf" stop >/dev/null
MIN_WINDOWS=0 check "never a second transaction for a nonce" cluster_record_ok "$REC" 8 "$FROM" "K:$HSTOP"
finish

# etcd for the cluster tests (bash; source after tests/integ/lib.sh).  Debian's etcd-server, members
# on loopback with ports picked free by the test and picked again when one was taken
# meanwhile.  ETCD_N members; ETCD_URLS is the client URL list ("http://127.0.0.1:P,...").
#   etcd_cluster N [tls]     start N members (tls: https with certificates from etcd_certs)
#   etcd_kill I / etcd_restart I   stop (SIGKILL) or restart member I (0-based)
ETCD_BIN=$(command -v etcd || echo /usr/bin/etcd)
ETCD_PIDS=()
ETCD_CPORTS=()
ETCD_PPORTS=()
ETCD_SCHEME=http

free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
PY
}

# etcd_certs DIR: a CA, a server certificate for 127.0.0.1 and a client certificate.
etcd_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=aw-test-ca" >/dev/null 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=127.0.0.1" >/dev/null 2>&1 &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out server.pem -days 2 -extfile ext >/dev/null 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
			-subj "/CN=aw-test-client" >/dev/null 2>&1 &&
		printf 'extendedKeyUsage=clientAuth\n' >cext &&
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out client.pem -days 2 -extfile cext >/dev/null 2>&1 &&
		chmod 600 ./*.key
	)
}

_etcd_start_one() {
	local i=$1 dir="$T/etcd" init="" j
	for j in $(seq 0 $((ETCD_N - 1))); do
		init="$init${init:+,}m$j=$ETCD_SCHEME://127.0.0.1:${ETCD_PPORTS[$j]}"
	done
	local tls=()
	if [ "$ETCD_SCHEME" = https ]; then
		tls=(--cert-file "$dir/certs/server.pem" --key-file "$dir/certs/server.key"
			--trusted-ca-file "$dir/certs/ca.pem" --client-cert-auth
			--peer-cert-file "$dir/certs/server.pem" --peer-key-file "$dir/certs/server.key"
			--peer-trusted-ca-file "$dir/certs/ca.pem" --peer-client-cert-auth)
	fi
	"$ETCD_BIN" --name "m$i" --data-dir "$dir/m$i" \
		--listen-client-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_CPORTS[$i]}" \
		--advertise-client-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_CPORTS[$i]}" \
		--listen-peer-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_PPORTS[$i]}" \
		--initial-advertise-peer-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_PPORTS[$i]}" \
		--initial-cluster "$init" --initial-cluster-state "${ETCD_STATE:-new}" \
		--initial-cluster-token aw-test --heartbeat-interval 50 --election-timeout 500 \
		"${tls[@]}" >>"$dir/m$i.log" 2>&1 &
	ETCD_PIDS[$i]=$!
	_bg_pids+=("$!")
}

# etcd_curl I PATH JSON: one gateway request to member I.
etcd_curl() {
	local i=$1 path=$2 body=$3 tls=()
	[ "$ETCD_SCHEME" = https ] && tls=(--cacert "$T/etcd/certs/ca.pem" \
		--cert "$T/etcd/certs/client.pem" --key "$T/etcd/certs/client.key")
	curl -sS -m 3 "${tls[@]}" "$ETCD_SCHEME://127.0.0.1:${ETCD_CPORTS[$i]}$path" -d "$body"
}

etcd_healthy() {
	local i
	for i in $(seq 0 $((ETCD_N - 1))); do
		[ -n "${ETCD_DOWN[$i]:-}" ] && continue
		etcd_curl "$i" /v3/kv/range '{"key":"aGVhbHRo"}' 2>/dev/null | grep -q '"header"' || return 1
	done
}

etcd_cluster() {
	local n=$1 attempt i ports
	ETCD_N=$n
	ETCD_DOWN=()
	[ "${2:-}" = tls ] && { ETCD_SCHEME=https; [ -f "$T/etcd/certs/ca.pem" ] ||
		etcd_certs "$T/etcd/certs" || return 1; }
	for attempt in 1 2 3 4 5; do
		rm -rf "$T/etcd"/m*
		mkdir -p "$T/etcd"
		if [ -n "${ETCD_FIXED_PORTS:-}" ]; then
			ports=($ETCD_FIXED_PORTS)	# the caller's; no second choice
		else
			ports=($(free_ports $((2 * n))))
		fi
		for i in $(seq 0 $((n - 1))); do
			ETCD_CPORTS[$i]=${ports[$((2 * i))]}
			ETCD_PPORTS[$i]=${ports[$((2 * i + 1))]}
		done
		for i in $(seq 0 $((n - 1))); do _etcd_start_one "$i"; done
		if wait_for 20 etcd_healthy; then
			ETCD_URLS=""
			for i in $(seq 0 $((n - 1))); do
				ETCD_URLS="$ETCD_URLS${ETCD_URLS:+,}$ETCD_SCHEME://127.0.0.1:${ETCD_CPORTS[$i]}"
			done
			return 0
		fi
		# A port taken meanwhile (or a slow start): stop these and pick again.
		grep -h "address already in use" "$T/etcd"/m*.log >/dev/null 2>&1 &&
			diag "etcd: a port was taken meanwhile; picking new ones (attempt $attempt)"
		for i in $(seq 0 $((n - 1))); do kill -KILL "${ETCD_PIDS[$i]}" 2>/dev/null; done
		wait 2>/dev/null
	done
	diag "etcd did not start:"; tail -5 "$T/etcd"/m*.log | sed 's/^/# /'
	return 1
}

etcd_kill() {
	kill -KILL "${ETCD_PIDS[$1]}" 2>/dev/null
	wait "${ETCD_PIDS[$1]}" 2>/dev/null
	ETCD_DOWN[$1]=1
}

etcd_restart() {
	ETCD_STATE=existing _etcd_start_one "$1"
	unset "ETCD_DOWN[$1]"
}

# cluster_conf DIR NAME: appends [cluster] to DIR/w.conf and gives the daemon its own
# run directory (another "host").
cluster_conf() {
	local dir=$1 name=$2
	sed -i "s|^run_dir = .*|run_dir = $dir/run|; s|^instance = .*|instance = $name|" "$dir/w.conf"
	{
		printf '[cluster]\netcd = %s\nname = %s\nlease_ttl_s = %s\n' "$ETCD_URLS" "$name" \
			"${LEASE_TTL:-3}"
		if [ "$ETCD_SCHEME" = https ]; then
			printf 'ca_file = %s\ncert_file = %s\nkey_file = %s\n' "$T/etcd/certs/ca.pem" \
				"$T/etcd/certs/client.pem" "$T/etcd/certs/client.key"
		fi
	} >>"$dir/w.conf"
}

# height: the devnet's current block height.
height() {
	curl -s -m 2 "$DEVNET_URL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])'
}

# leader_of CONF: the leader name this daemon reports for wallet main ("" when none).
leader_of() {
	status_json "$1" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin)
w=d["cluster"]["wallets"][0]; print(w["leader"] or "", "me" if w["me"] else "")'
}
# is_leader CONF / is_standby CONF NAME
is_leader() { [ "$(leader_of "$1" | awk '{print $2}')" = me ]; }
not_leader() { local l m; read -r l m < <(leader_of "$1") || return 1; [ "$m" != me ]; }
standby_of() { local l m; read -r l m < <(leader_of "$1"); [ "$l" = "$2" ] && [ -z "$m" ]; }

# accepted_after RECORD N: more than N transactions delivered with code 0.
accepted_after() { [ "$(accepted_count "$1")" -gt "$2" ]; }

# tx_count RECORD: transactions received (any stage, any code).
tx_count() { grep -c '"kind": *"tx"' "$1"; }

# cluster_record_ok RECORD TTL_BLOCKS FROM EVENT...: no nonce has two transactions that
# passed CheckTx or two deliveries with code 0, and every window opened at or after height
# FROM is accepted exactly once, except: for an event K:H (the leader died at height H) the
# windows open at H with no more than TTL_BLOCKS + 2 blocks left; for O:LO-HI (no quorum, so
# nobody signs) the windows open at any time from LO to HI; and windows still open at the end.
cluster_record_ok() {
	python3 - "$@" <<'PY'
import json, sys
rec, ttlb, frm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kills, outs = [], []
for a in sys.argv[4:]:
    kind, v = a.split(":")
    if kind == "K":
        kills.append(int(v))
    else:
        outs.append(tuple(map(int, v.split("-"))))
wins, passed, delivered, last = {}, {}, {}, 0
for l in open(rec):
    r = json.loads(l)
    if r.get("kind") == "window":
        wins[(r["topic"], r["nonce"])] = (r["height"], r["end"])
        last = max(last, r["height"])
    elif r.get("kind") == "tx" and r.get("topic") is not None:
        k = (r["topic"], r["nonce"])
        if r["stage"] == "checktx" and r["code"] == 0:
            passed.setdefault(k, set()).add(r["txhash"])
        if r["stage"] == "deliver" and r["code"] == 0:
            delivered.setdefault(k, []).append(r["txhash"])
        if r.get("height"):
            last = max(last, r["height"])
bad = []
for k, s in passed.items():
    if len(s) > 1:
        bad.append("second transaction for %s: %s" % (k, sorted(s)))
for k, s in delivered.items():
    if len(s) > 1:
        bad.append("accepted twice %s" % (k,))
served = excused = 0
for k, (h, end) in sorted(wins.items()):
    if h < frm or end >= last - 1:
        continue
    ex = any(h <= kh <= end and end - kh <= ttlb + 2 for kh in kills) or \
        any(h <= hi and end >= lo for lo, hi in outs)
    if ex:
        excused += 1
        continue
    served += 1
    if len(delivered.get(k, [])) != 1:
        bad.append("window %s (opened %d, end %d) accepted %d times" % (k, h, end,
            len(delivered.get(k, []))))
print("# %d windows checked, %d excused" % (served, excused))
for b in bad:
    print("# " + b)
sys.exit(1 if bad or served < int(__import__("os").environ.get("MIN_WINDOWS", "1")) else 0)
PY
}

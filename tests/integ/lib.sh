# Shared helpers of the integration tests (bash).  Each test:
#   source "$(dirname "$0")/lib.sh"
#   ... ok "what" / not_ok "what" / check "what" COMMAND...
#   finish
# Every test gets its own temporary directory ($T) removed at exit, and every process it
# starts through start_bg is killed at exit.
set -u
: "${BUILD_DIR:?BUILD_DIR must be set (make check sets it)}"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORKERD="$BUILD_DIR/allora-workerd"
CTL="$BUILD_DIR/alloractl"
DEVNET="$BUILD_DIR/allora-devnet"
T=$(mktemp -d "${TMPDIR:-/tmp}/aw-test.XXXXXX")
chmod 700 "$T"
_n=0
_failed=0
_bg_pids=()
# No test may see the operator's environment.
unset MNEMONIC TIINGO_API_KEY TOPIC_ID ALLORA_WALLET_ADDR ALLORA_RPC ALLORA_CHAIN_ID \
	ALLORA_WORKER_CONF AW_TEST_CRASH
export XDG_RUNTIME_DIR="$T/xdg-run" XDG_STATE_HOME="$T/xdg-state"
mkdir -p "$XDG_RUNTIME_DIR"

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
diag() { echo "# $*"; }
# check "description" command args...: ok when the command succeeds.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	# Daemons started by alloractl: stop through their pid files.
	for f in "$T"/*/run/*.pid "$T"/run*/*.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	for p in "${_bg_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

finish() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
	exit $?
}

# wait_for SECONDS COMMAND...: polls every 50 ms until the command succeeds.
wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -lt $end ] || [ $SECONDS -eq $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
}

# start_bg LOGFILE COMMAND...: runs a command in the background; its pid is in $BG_PID.
start_bg() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	_bg_pids+=("$BG_PID")
}

# json FILE_OR_- EXPR: evaluates a Python expression on the JSON document (as d).
json() {
	local src=$1 expr=$2
	python3 -c "import json,sys; d=json.load(open(sys.argv[1]) if sys.argv[1] != '-' else sys.stdin); print($expr)" "$src"
}

# status_json CONF: the daemon's status as JSON on stdout.
status_json() { "$CTL" -c "$1" status --json; }

# write_conf DIR [extra ini text on stdin]: a small configuration for tests in DIR/w.conf
# with fast heartbeats and backoff; the caller appends sections.
base_conf() {
	local dir=$1 instance=${2:-w}
	mkdir -p "$dir"
	cat >"$dir/w.conf" <<EOC
[global]
instance = $instance
state_dir = $dir/state
run_dir = $T/run
heartbeat_ms = 200
restart_backoff_min_ms = 100
restart_backoff_max_ms = 800
restart_limit = 5
stop_timeout_ms = 2000
metrics_listen = off
EOC
}

# start_devnet DIR ARGS...: starts allora-devnet on a free port; sets DEVNET_PORT and
# DEVNET_URL; the record is DIR/record.jsonl.
start_devnet() {
	local dir=$1; shift
	mkdir -p "$dir"
	rm -f "$dir/port"
	start_bg "$dir/devnet.log" "$DEVNET" --port 0 --port-file "$dir/port" \
		--record "$dir/record.jsonl" "$@"
	DEVNET_PID=$BG_PID
	if ! wait_for 10 test -s "$dir/port"; then
		diag "devnet did not start:"; sed 's/^/# /' "$dir/devnet.log"
		return 1
	fi
	DEVNET_PORT=$(cat "$dir/port")
	DEVNET_URL="http://127.0.0.1:$DEVNET_PORT"
}

# TEST-ONLY mnemonics (published BIP39 test vectors; never fund them anywhere real).
TEST_MNEMONIC_1="abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
TEST_ADDRESS_1="allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
TEST_MNEMONIC_2="legal winner thank year wave sausage worth useful legal winner thank yellow"
# write_test_mnemonic FILE [1|2]: a 0600 key file holding a test-only mnemonic.
write_test_mnemonic() {
	local f=$1 which=${2:-1}
	( umask 077; if [ "$which" = 2 ]; then echo "$TEST_MNEMONIC_2"; else echo "$TEST_MNEMONIC_1"; fi >"$f" )
}
# address_of_test_mnemonic 1|2
address_of_test_mnemonic() {
	local f="$T/.addr-$1"
	write_test_mnemonic "$f" "$1"
	"$CTL" keys show --mnemonic-file "$f"
}

# e2e_conf DIR PORT [topic ...]: a configuration against the devnet at PORT with the
# test-only wallet 1, generated hourly bars up to now, fast polling.
e2e_conf() {
	local dir=$1 port=$2; shift 2
	local topics=${*:-67}
	base_conf "$dir"
	write_test_mnemonic "$dir/key" 1
	gen_bars "$dir/bars.csv" 1200
	cat >>"$dir/w.conf" <<EOC
[chain]
chain_id = devnet-1
rpc = http://127.0.0.1:$port
polling_interval = 2
ws_silence_s = 5
request_timeout_ms = 2000
[wallet main]
mnemonic_file = $dir/key
EOC
	for t in $topics; do
		printf '[topic %s]\nwallet = main\ndata_source = csv:%s/bars.csv\ntrain_span_hours = 720\npredict_timeout_s = 5\n' \
			"$t" "$dir" >>"$dir/w.conf"
	done
}

# gen_bars FILE HOURS: a generated (not real) hourly series ending at the current hour.
gen_bars() {
	python3 - "$1" "$2" <<'PY'
import math, random, sys, time
random.seed(7)
now = int(time.time()) // 3600 * 3600
n = int(sys.argv[2]); p = 50000.0
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(n):
        p *= math.exp(random.gauss(0, 0.005))
        f.write(f"{now - (n - 1 - i) * 3600},{p:.2f}\n")
PY
}

# accepted_count RECORD: transactions the devnet delivered with code 0.
accepted_count() {
	python3 - "$1" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "tx" and r.get("stage") == "deliver" and r.get("code") == 0:
        n += 1
print(n)
PY
}

# key_opened_by_child_only WHAT KEYFILE COMMAND...: runs the command under strace and checks
# that the key file is opened by one of its children, never by the command's own process
# (skipped, with the reason, where strace cannot trace).
key_opened_by_child_only() {
	local what=$1 key=$2; shift 2
	if ! strace -f -qq -e trace=open,openat -o "$T/strace" true 2>/dev/null; then
		ok "# SKIP strace cannot trace here: key isolation not checked"
		return
	fi
	strace -f -qq -e trace=open,openat -o "$T/strace" "$@" >/dev/null 2>&1
	check "$what" python3 - "$T/strace" "$key" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
main = lines[0].split()[0]
opened = [l.split()[0] for l in lines if '"%s"' % sys.argv[2] in l]
assert opened, "nobody opened the key file"
assert main not in opened, ("alloractl opened the key itself", main, opened)
PY
}

# cosmjs_setup: the independent encoder of the cross-checks (issues 20, 21): @cosmjs/proto-signing
# and cosmjs-types from npm, installed once into a cache folder ($AW_NPM_DIR or BUILD_DIR/npm),
# NODE_PATH set.  Returns 1 (after printing the SKIP line) when node/npm are missing or npm
# cannot reach the registry; the caller then finishes.
cosmjs_setup() {
	NPM_DIR=${AW_NPM_DIR:-$BUILD_DIR/npm}
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		ok "# SKIP node or npm is not installed: cosmjs cross-check not run"
		return 1
	fi
	mkdir -p "$NPM_DIR"
	# Tests run three at a time: one installs while the others wait on the lock, and a
	# marker written after a complete install (not the folders, which appear part-way
	# through one) says the cache is ready.
	(
		flock 9
		if ! [ -f "$NPM_DIR/.installed" ] || ! [ -d "$NPM_DIR/node_modules/@cosmjs/proto-signing" ] ||
			! [ -d "$NPM_DIR/node_modules/cosmjs-types" ]; then
			timeout 180 npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
				@cosmjs/proto-signing@0.32.4 cosmjs-types@0.9.0 >"$T/npm.log" 2>&1 &&
				touch "$NPM_DIR/.installed"
		fi
	) 9>"$NPM_DIR.lock"
	if ! [ -f "$NPM_DIR/.installed" ]; then
		ok "# SKIP npm cannot install @cosmjs/proto-signing and cosmjs-types: $(tail -1 "$T/npm.log" 2>/dev/null)"
		return 1
	fi
	export NODE_PATH="$NPM_DIR/node_modules"
}

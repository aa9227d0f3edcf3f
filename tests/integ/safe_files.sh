#!/bin/bash
# Issue 14: no other local user can redirect our files.  A second uid (created here with
# useradd when running as root) pre-creates the run_dir tree with symbolic links to one of
# our files; the daemon refuses (exit 78, naming the directory and what is wrong), alloractl
# too (exit 2), and the target file is unchanged.  Symbolic links and group/other-writable
# directories of our own uid are refused the same way; a pid file naming a live process we
# did not lock it (pid 1) does not count as "already running": only the pid file's lock does.
source "$(dirname "$0")/lib.sh"
U=
cleanup_user() { [ -n "$U" ] && userdel "$U" >/dev/null 2>&1; _cleanup; }
trap cleanup_user EXIT

conf() {	# dir run_dir
	base_conf "$1"
	sed -i "s|^run_dir = .*|run_dir = $2|" "$1/w.conf"
	cat >>"$1/w.conf" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $1/key
[topic 67]
wallet = main
data_source = csv:$1/bars.csv
EOC
	write_test_mnemonic "$1/key"
}
VICTIM=$T/victim
echo "precious data" >"$VICTIM"
unchanged() { [ "$(cat "$VICTIM")" = "precious data" ]; }
refuses() {	# what conf pattern
	local out rc
	out=$(timeout -k 2 10 "$WORKERD" -f -c "$2" 2>&1); rc=$?
	diag "$out"
	check "$1: the daemon exits 78" test $rc -eq 78
	check "$1: it says what is wrong" sh -c 'echo "$1" | grep -qF -- "$2"' _ "$out" "$3"
	check "$1: the target file is unchanged" unchanged
}

# 1. Another user's tree, planted before us in a shared sticky directory (as /tmp is).
if [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP another uid's tree: not root (cannot useradd)"
else
	U=aw14u$$
	if ! useradd -M -N -r -s /usr/sbin/nologin "$U" >/dev/null 2>&1; then
		U=
		ok "# SKIP another uid's tree: useradd failed"
	else
		chmod 711 "$T"
		mkdir -m 1777 "$T/pub"
		runuser -u "$U" -- sh -c "mkdir -p '$T/pub/run/locks' && chmod 755 '$T/pub/run' &&
			ln -s '$VICTIM' '$T/pub/run/locks/topic-67.lock' &&
			ln -s '$VICTIM' '$T/pub/run/w.pid'"
		conf "$T/a" "$T/pub/run"
		refuses "run_dir owned by another uid" "$T/a/w.conf" \
			"run_dir $T/pub/run: is owned by uid $(id -u "$U") ($U), not by us"
		out=$(timeout -k 2 20 "$CTL" -c "$T/a/w.conf" status 2>&1); rc=$?
		diag "$out"
		check "alloractl status refuses that run_dir with exit 2" test $rc -eq 2
		check "and names it" sh -c 'echo "$1" | grep -qF "$2"' _ "$out" "$T/pub/run: is owned by uid"
		out=$(timeout -k 2 20 "$CTL" -c "$T/a/w.conf" start 2>&1); rc=$?
		check "alloractl start exits 2 too" test $rc -eq 2
		check "the target file is still unchanged" unchanged
	fi
fi

# 2. Our own directories, but unsafe.
mkdir -p "$T/r2"; chmod 777 "$T/r2"
conf "$T/b" "$T/r2"
refuses "a run_dir writable by others" "$T/b/w.conf" "run_dir $T/r2: is writable by others (mode 0777)"

mkdir -p "$T/r3/real"; ln -s "$T/r3/real" "$T/r3/run"
conf "$T/c" "$T/r3/run"
refuses "a run_dir that is a symbolic link" "$T/c/w.conf" "run_dir $T/r3/run: is a symbolic link"

mkdir -p "$T/r4/locks"; chmod 700 "$T/r4"; ln -s "$VICTIM" "$T/r4/locks/topic-67.lock"
conf "$T/d" "$T/r4"
refuses "a lock file that is a symbolic link" "$T/d/w.conf" "$T/r4/locks/topic-67.lock: is a symbolic link"

mkdir -p "$T/r5"; chmod 700 "$T/r5"; ln -s "$VICTIM" "$T/r5/w.pid"
conf "$T/e" "$T/r5"
refuses "a pid file that is a symbolic link" "$T/e/w.conf" "$T/r5/w.pid: is a symbolic link"

conf "$T/f" "$T/r6"
mkdir -p "$T/f/state/logs"; ln -s "$VICTIM" "$T/f/state/logs/worker_output.log"
refuses "a log file that is a symbolic link" "$T/f/w.conf" "worker_output.log: cannot open: it is a symbolic link"

conf "$T/g" "$T/r7"
mkdir -p "$T/g/state" "$T/elsewhere"; ln -s "$T/elsewhere" "$T/g/state/ledger"
refuses "a ledger directory that is a symbolic link" "$T/g/w.conf" "$T/g/state/ledger: is a symbolic link"

conf "$T/h" "$T/r8"
mkdir -p "$T/h/state/ledger"; ln -s "$VICTIM" "$T/h/state/ledger/topic-67.jsonl"
start_bg "$T/h/daemon.log" "$WORKERD" -f -c "$T/h/w.conf"
failed_topic() { [ "$(status_json "$T/h/w.conf" | json - '[t["state"] for t in d["topics"]][0]')" = failed ]; }
check "a ledger file that is a symbolic link stops its topic (failed)" wait_for 20 failed_topic
check "with an error naming the file" grep -qF "$T/h/state/ledger/topic-67.jsonl: is a symbolic link" "$T/h/state/logs/worker_output.log"
check "the target file is unchanged" unchanged
kill -TERM "$BG_PID"; wait "$BG_PID"

# 3. A pid file naming a live process (pid 1) is not "already running": only its lock says so.
conf "$T/i" "$T/r9"
mkdir -p "$T/r9"; chmod 700 "$T/r9"; echo 1 >"$T/r9/w.pid"
start_bg "$T/i/daemon.log" "$WORKERD" -f -c "$T/i/w.conf"
up() { status_json "$T/i/w.conf" >/dev/null; }
check "a pid file naming pid 1 (alive, but not holding the lock) does not block the start" wait_for 20 up
out=$(timeout -k 2 10 "$WORKERD" -f -c "$T/i/w.conf" 2>&1); rc=$?
check "while it runs, a second start is refused by the pid file's lock (exit 3)" test $rc -eq 3
check "naming the running pid" sh -c 'echo "$1" | grep -qF "instance already running (pid $2, pid file"' _ "$out" "$BG_PID"
kill -TERM "$BG_PID"; wait "$BG_PID"
finish

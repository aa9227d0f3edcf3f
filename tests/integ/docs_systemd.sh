#!/bin/bash
# The systemd units and the logrotate example: `systemd-analyze verify` on both units
# (skipped with the reason where systemd-analyze is absent), the directives the daemon's
# contract needs, then the units' own command lines run as systemd would run them
# (NOTIFY_SOCKET, CREDENTIALS_DIRECTORY from LoadCredential=, ExecReload=), and the
# logrotate postrotate script reopening the logs after a rotation.
source "$(dirname "$0")/lib.sh"
U="$REPO/etc/allora-workerd.service"
TU="$REPO/etc/allora-workerd@.service"
LR="$REPO/etc/logrotate.d/allora-workerd"

# The unit with the machine's paths moved into $T (the binary into $BUILD_DIR).
localize() {		# unit instance
	sed -e "s|/usr/local/bin/allora-workerd|$WORKERD|g" \
	    -e "s|/etc/allora-worker/|$T/etc/|g" \
	    -e "s|/var/lib/allora-worker|$T/var-lib|g" \
	    -e "s|/run/allora-worker|$T/run-unit|g" \
	    -e "s|%i|$2|g" "$1"
}
# unit_value UNIT KEY: the value of the first KEY= line.
unit_value() { sed -n "s/^$2=//p" "$1" | head -1; }

# --- systemd-analyze verify ----------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	ok "# SKIP systemd-analyze not available"
else
	V=$T/verify
	mkdir -p "$V" "$T/man/man1" "$T/man/man5" "$T/man/man8"
	# Only ExecStart= changes: verify checks that the program exists.
	sed "s|/usr/local/bin/allora-workerd|$WORKERD|g" "$U" >"$V/allora-workerd.service"
	sed "s|/usr/local/bin/allora-workerd|$WORKERD|g" "$TU" >"$V/allora-workerd@.service"
	# Documentation=man:... is looked up with man(1): give it our pages.
	for p in "$REPO"/man/*.[158]; do cp "$p" "$T/man/man${p##*.}/"; done
	manopt=()
	if ! command -v man >/dev/null 2>&1; then
		manopt=(--man=no)
		diag "man(1) is absent: Documentation= not checked"
	fi
	for unit in allora-workerd.service allora-workerd@main.service; do
		(cd "$V" && MANPATH="$T/man" systemd-analyze verify "${manopt[@]}" "./$unit") \
			>"$T/verify.out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && [ ! -s "$T/verify.out" ]; then
			ok "systemd-analyze verify $unit reports nothing"
		else
			not_ok "systemd-analyze verify $unit reports nothing (status $rc)"
			sed 's/^/# /' "$T/verify.out"
		fi
	done
fi

# --- the directives ------------------------------------------------------------------------
for f in "$U" "$TU"; do
	n=$(basename "$f")
	missing=""
	for want in '^Type=notify$' '^Restart=on-failure$' '^NoNewPrivileges=yes$' \
		'^ProtectSystem=strict$' '^ReadWritePaths=.*/var/lib/allora-worker' \
		'^ReadWritePaths=.*/run/allora-worker' '^LoadCredential=[^:]+:/etc/allora-worker/' \
		'^WatchdogSec=[1-9]' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
		'^ExecStart=/usr/local/bin/allora-workerd -f ' '^RestartPreventExitStatus=.*\b2\b.*\b3\b'; do
		grep -Eq -- "$want" "$f" || missing="$missing [$want]"
	done
	if [ -z "$missing" ]; then
		ok "$n has the directives of the daemon's contract"
	else
		not_ok "$n has the directives of the daemon's contract"
		diag "missing:$missing"
	fi
done

# --- the units' command lines, run as systemd runs them -------------------------------------
# run_unit UNIT INSTANCE CONF: starts ExecStart= with NOTIFY_SOCKET and CREDENTIALS_DIRECTORY,
# waits for READY=1, runs ExecReload=, rotates the logs and runs the logrotate postrotate
# script, stops with SIGTERM.  Writes "MSG ...", "PID n", "RELOADED", "REOPENED", "RC n" to
# $T/run.out.
run_unit() {
	local unit=$1 inst=$2
	localize "$unit" "$inst" >"$T/unit"
	local exec reload cred
	exec=$(unit_value "$T/unit" ExecStart)
	reload=$(unit_value "$T/unit" ExecReload)
	cred=$(unit_value "$T/unit" LoadCredential)
	# systemd copies the credential file into the credentials directory under its name.
	rm -rf "$T/creds"
	mkdir -p "$T/creds"
	cp "${cred#*:}" "$T/creds/${cred%%:*}"
	chmod 0400 "$T/creds/${cred%%:*}"
	sed -n '/^[[:space:]]*postrotate/,/^[[:space:]]*endscript/p' "$LR" | sed '1d;$d' |
		sed "s|/run/allora-worker|$T/run-unit|g" >"$T/postrotate.sh"
	rm -f "$T/notify"
	python3 - "$T/notify" "$T/creds" "$exec" "$reload" "$T/postrotate.sh" \
		"$T/var-lib/$3/logs" >"$T/run.out" 2>&1 <<'PY'
import os, shlex, socket, subprocess, sys, time
path, creds, execline, reload, postrotate, logs = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path, CREDENTIALS_DIRECTORY=creds)
p = subprocess.Popen(shlex.split(execline), env=env, stdout=subprocess.DEVNULL,
                     stderr=open(os.path.join(os.path.dirname(path), "daemon.err"), "w"))
print("PID", p.pid, flush=True)
def wait_msg(prefix, limit):
    end = time.time() + limit
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            if p.poll() is not None:
                return False
            continue
        print("MSG", m.replace("\n", " "), flush=True)
        if m.startswith(prefix):
            return True
    return False
def wait_file(f, text, limit):
    end = time.time() + limit
    while time.time() < end:
        try:
            if text in open(f, encoding="utf-8", errors="replace").read():
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False
out = os.path.join(logs, "worker_output.log")
if wait_msg("READY=1", 20):
    subprocess.run(["sh", "-c", reload], env=dict(os.environ, MAINPID=str(p.pid)))
    if wait_file(out, "SIGHUP", 10):
        print("RELOADED", flush=True)
    for f in ("worker_output.log", "worker_continuous.log"):
        os.rename(os.path.join(logs, f), os.path.join(logs, f + ".1"))
    subprocess.run(["sh", postrotate])
    if wait_file(out, "SIGHUP", 10) and os.path.exists(os.path.join(logs,
                                                                    "worker_continuous.log")):
        print("REOPENED", flush=True)
p.terminate()
wait_msg("STOPPING=1", 10)
try:
    print("RC", p.wait(15), flush=True)
except subprocess.TimeoutExpired:
    p.kill()
    print("RC timeout", flush=True)
PY
}

# write_unit_conf FILE: a configuration whose wallet reads the unit's credential.
write_unit_conf() {
	local f=$1 cred
	cred=$(unit_value "$U" LoadCredential)
	mkdir -p "$(dirname "$f")"
	cat >"$f" <<EOC
[global]
heartbeat_ms = 200
restart_backoff_min_ms = 100
restart_backoff_max_ms = 800
stop_timeout_ms = 2000
metrics_listen = off
[chain]
rpc = http://127.0.0.1:1
[wallet main]
mnemonic_credential = ${cred%%:*}
[topic 67]
data_source = csv:$T/bars.csv
EOC
}

mkdir -p "$T/etc" "$T/var-lib" "$T/run-unit"
write_test_mnemonic "$T/etc/main.mnemonic"
write_unit_conf "$T/etc/allora-worker.conf"
write_unit_conf "$T/etc/main.conf"

# The single unit.
run_unit "$U" main ""
check "allora-workerd.service: READY=1 with the mnemonic from \$CREDENTIALS_DIRECTORY" \
	grep -qx "MSG READY=1" "$T/run.out"
check "allora-workerd.service: ExecReload= makes the daemon reload" grep -qx RELOADED "$T/run.out"
check "logrotate postrotate: the daemon reopens the rotated logs" grep -qx REOPENED "$T/run.out"
check "allora-workerd.service: STOPPING=1 and exit 0 on SIGTERM" \
	bash -c "grep -qx 'MSG STOPPING=1' '$T/run.out' && grep -qx 'RC 0' '$T/run.out'"
check "allora-workerd.service: the pid file is gone after the stop" \
	test ! -e "$T/run-unit/allora-worker.pid"
[ "$_failed" -eq 0 ] || { sed 's/^/# /' "$T/run.out"; sed 's/^/# err: /' "$T/daemon.err"; }

# The template, instance "main": its own state directory, the shared run directory.
run_unit "$TU" main main
check "allora-workerd@main.service: READY=1" grep -qx "MSG READY=1" "$T/run.out"
check "allora-workerd@main.service: logs in /var/lib/allora-worker/main" \
	test -s "$T/var-lib/main/logs/worker_continuous.log"
check "allora-workerd@main.service: ExecReload= makes the daemon reload" \
	grep -qx RELOADED "$T/run.out"
check "allora-workerd@main.service: STOPPING=1 and exit 0 on SIGTERM" \
	bash -c "grep -qx 'MSG STOPPING=1' '$T/run.out' && grep -qx 'RC 0' '$T/run.out'"
[ "$_failed" -eq 0 ] || { sed 's/^/# /' "$T/run.out"; sed 's/^/# err: /' "$T/daemon.err"; }

# Without LoadCredential= (no CREDENTIALS_DIRECTORY) the configuration is refused: status 2,
# which RestartPreventExitStatus= keeps systemd from retrying.
exec_line=$(localize "$U" main | sed -n 's/^ExecStart=//p')
env -u CREDENTIALS_DIRECTORY -u NOTIFY_SOCKET $exec_line >"$T/nocred.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q CREDENTIALS_DIRECTORY "$T/nocred.out"; then
	ok "without CREDENTIALS_DIRECTORY: exit 2 naming it"
else
	not_ok "without CREDENTIALS_DIRECTORY: exit 2 naming it (status $rc)"
	sed 's/^/# /' "$T/nocred.out"
fi

# --- logrotate ---------------------------------------------------------------------------
if ! command -v logrotate >/dev/null 2>&1; then
	ok "# SKIP logrotate not available (logrotate -d not run)"
else
	sed -e "s|/var/lib/allora-worker|$T/var-lib|g" -e "s|/run/allora-worker|$T/run-unit|g" \
	    -e "s|^\([[:space:]]*\)su .*|\1su $(id -un) $(id -gn)|" \
	    -e "s|create 0640 allora-worker allora-worker|create 0640 $(id -un) $(id -gn)|" \
	    "$LR" >"$T/lr.conf"
	if logrotate -d -s "$T/lr.state" "$T/lr.conf" >"$T/lr.out" 2>&1 &&
	    ! grep -qi "error" "$T/lr.out"; then
		ok "logrotate -d accepts etc/logrotate.d/allora-workerd"
	else
		not_ok "logrotate -d accepts etc/logrotate.d/allora-workerd"
		sed 's/^/# /' "$T/lr.out"
	fi
fi
finish

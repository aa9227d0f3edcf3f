#!/bin/bash
# Issue 2: per-topic locks across daemons and configurations; control socket robustness.
source "$(dirname "$0")/lib.sh"

mk() {	# dir instance topic
	base_conf "$1" "$2"
	cat >>"$1/w.conf" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $1/key
[topic $3]
wallet = main
data_source = csv:$1/bars.csv
EOC
	write_test_mnemonic "$1/key"
}
mk "$T/a" alpha 67
mk "$T/b" beta 67
mk "$T/c" gamma 68

check "first daemon (topic 67) starts" "$CTL" -c "$T/a/w.conf" start
apid=$(status_json "$T/a/w.conf" | json - 'd["pid"]')
out=$("$CTL" -c "$T/b/w.conf" start 2>&1); rc=$?
check "a second daemon for topic 67 (other config, other instance) exits 3" test $rc -eq 3
check "its message names the topic and the holder's pid" sh -c "echo \"\$1\" | grep -q 'topic 67 is already served by another daemon (pid $apid, instance alpha'" _ "$out"
diag "$out"
out=$("$WORKERD" -f -c "$T/b/w.conf" 2>&1); rc=$?
check "allora-workerd itself exits 3 too" test $rc -eq 3
check "a daemon with its own configuration and topic 68 starts beside it" "$CTL" -c "$T/c/w.conf" start
check "alloractl -c reaches the first" test "$(status_json "$T/a/w.conf" | json - 'd["instance"]')" = alpha
check "alloractl -c reaches the second" test "$(status_json "$T/c/w.conf" | json - 'd["instance"]')" = gamma
check "-c after the subcommand works the same" test "$("$CTL" status --json -c "$T/c/w.conf" | json - 'd["topics"][0]["id"]')" = 68
out=$("$CTL" -c "$T/a/w.conf" start 2>&1); rc=$?
check "starting the same instance again exits 3" test $rc -eq 3

# Control socket: garbage bytes, an oversized frame, a frame type that is not allowed.
sock="$T/run/alpha.sock"
check "the control socket is mode 0600" test "$(stat -c %a "$sock")" = 600
python3 - "$sock" <<'PY'
import socket, struct, sys, time
p = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(p); return s
s = conn(); s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10); time.sleep(0.1); s.close()
s = conn(); s.sendall(struct.pack(">IHHII", 0xffffffff, 500, 0, 0, 1)); time.sleep(0.1); s.close()
s = conn(); s.sendall(struct.pack(">IHHII", 65537, 500, 0, 0, 1) + b"{" * 100); time.sleep(0.1); s.close()
s = conn(); s.sendall(struct.pack(">IHHII", 2, 1, 0, 0, 1) + b"{}"); time.sleep(0.1); s.close()
s = conn(); s.sendall(struct.pack(">IHHII", 5, 500, 0, 0, 1) + b"[1,2]"); time.sleep(0.1); s.close()
for i in range(40):   # more connections than the daemon keeps
    conn()
PY
check "after garbage the daemon still answers status" "$CTL" -c "$T/a/w.conf" status
check "the same daemon (pid unchanged)" test "$(status_json "$T/a/w.conf" | json - 'd["pid"]')" = "$apid"
check "the rejection is logged" grep -q "control connection dropped" "$T/a/state/logs/worker_output.log"

check "stop the first" "$CTL" -c "$T/a/w.conf" stop
check "topic 67 can now be served by the other configuration" "$CTL" -c "$T/b/w.conf" start
check "stop it" "$CTL" -c "$T/b/w.conf" stop
check "stop the third" "$CTL" -c "$T/c/w.conf" stop
finish

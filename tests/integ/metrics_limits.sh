#!/bin/bash
# Issue 15: nothing a local client sends to metrics_listen exhausts the supervisor.  Header
# floods (endless header lines; one endless request line) of up to 100 MB in a few seconds
# grow its RSS by far less (under 32 MB) and it answers /metrics afterwards; an idle
# connection is dropped after the read timeout; 200 idle connections hold at most the
# connection cap's worth of its descriptors, and the endpoint answers once they are gone.
source "$(dirname "$0")/lib.sh"
D=$T/a
base_conf "$D"
write_test_mnemonic "$D/key" 1
gen_bars "$D/bars.csv" 200
# No chain is needed to be ready (the children retry): port 9 on loopback refuses.
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = devnet-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
wallet = main
data_source = csv:$D/bars.csv
EOC
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
st=$(status_json "$D/w.conf")
SUP=$(echo "$st" | json - 'd["pid"]')
M=$(echo "$st" | json - 'd.get("metrics") or ""')
check "metrics bound ($M)" test -n "$M"
HOST=${M%:*}
PORT=${M##*:}
scrape() { curl -sf -m 5 -o /dev/null "http://$M/metrics"; }
check "scrape before" scrape

# flood KIND SECONDS MAXBYTES: sends to the endpoint from 4 connections at once, each
# reconnecting when the daemon closes it, and samples the supervisor's RSS meanwhile;
# prints "sent_bytes max_rss_growth_kb".
flood() {
	python3 - "$HOST" "$PORT" "$SUP" "$@" <<'PY'
import socket, sys, threading, time
host, port, pid, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
secs, maxbytes = float(sys.argv[5]), int(sys.argv[6])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0
sent = 0; lock = threading.Lock(); end = time.monotonic() + secs
line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
chunk = line * 64 if kind == "headers" else b"a" * len(line) * 64
def run():
    global sent
    while time.monotonic() < end and sent < maxbytes:
        try:
            s = socket.create_connection((host, port), timeout=1)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n" if kind == "headers"
                      else b"GET /")
            while time.monotonic() < end and sent < maxbytes:
                s.sendall(chunk)
                with lock:
                    sent += len(chunk)
        except OSError:
            pass
        finally:
            try: s.close()
            except Exception: pass
base = rss(); top = base
ts = [threading.Thread(target=run) for _ in range(4)]
for t in ts: t.start()
while any(t.is_alive() for t in ts):
    top = max(top, rss()); time.sleep(0.05)
time.sleep(0.3)
top = max(top, rss())
print(sent, top - base)
PY
}
for kind in headers line; do
	read -r sent grew < <(flood "$kind" 3 $((100 << 20)))
	diag "$kind flood: $((sent >> 20)) MB sent, supervisor RSS grew by $((grew >> 10)) MB"
	check "$kind flood: the supervisor's RSS grew by less than 32 MB (${grew} kB)" \
		test "${grew:-999999}" -lt $((32 << 10))
	check "after the $kind flood /metrics answers" wait_for 10 scrape
done

# An idle connection is dropped by the read timeout (5 s).
check "an idle connection is closed by the daemon within 8 s" python3 - "$HOST" "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=8)
t0 = time.monotonic()
try:
    sys.exit(0 if s.recv(1) == b"" else 1)
except socket.timeout:
    sys.exit(1)
PY

fds() { ls "/proc/$SUP/fd" 2>/dev/null | wc -l; }
if [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP not root: the supervisor is not dumpable, its descriptors can be counted by root only"
else
	before=$(fds)
	check "200 idle connections (as many as the kernel queues) hold at most 32 + 5 of the supervisor's descriptors" \
		python3 - "$HOST" "$PORT" "$SUP" "$before" <<'PY'
import os, socket, sys, time
host, port, pid, before = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
conns = []
for i in range(200):
    try:
        conns.append(socket.create_connection((host, port), timeout=2))
    except OSError:
        break
time.sleep(0.5)
n = len(os.listdir(f"/proc/{pid}/fd"))
print(f"# {len(conns)} idle connections: {before} -> {n} descriptors")
for s in conns:
    s.close()
sys.exit(0 if n - before <= 37 else 1)
PY
	check "once they are gone /metrics answers" wait_for 10 scrape
fi
check "stop" "$CTL" -c "$D/w.conf" stop
finish

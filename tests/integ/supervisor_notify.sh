#!/bin/bash
# systemd Type=notify: READY=1 once every child is ready, STATUS=, WATCHDOG=1, STOPPING=1.
source "$(dirname "$0")/lib.sh"
D=$T/a
base_conf "$D"
cat >>"$D/w.conf" <<EOC
[wallet main]
mnemonic_file = $D/key
[topic 67]
data_source = csv:$D/bars.csv
EOC
write_test_mnemonic "$D/key"
python3 - "$WORKERD" "$D/w.conf" "$T/notify" >"$T/out" 2>&1 <<'PY'
import os, socket, subprocess, sys, time
exe, conf, path = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(15)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
p = subprocess.Popen([exe, "-f", "-c", conf], env=env, stderr=subprocess.DEVNULL)
got = []
end = time.time() + 3
while time.time() < end:
    try:
        got.append(s.recv(1000).decode())
    except socket.timeout:
        break
p.terminate()
try:
    while True:
        m = s.recv(1000).decode(); got.append(m)
        if m == "STOPPING=1": break
except socket.timeout:
    pass
p.wait(10)
for m in got: print("MSG", m)
print("RC", p.returncode)
PY
check "READY=1 is sent" grep -qx "MSG READY=1" "$T/out"
check "STATUS= names the topic" grep -q "^MSG STATUS=topic 67 serving" "$T/out"
check "WATCHDOG=1 is sent at half WATCHDOG_USEC (several in 3 s)" test "$(grep -c '^MSG WATCHDOG=1' "$T/out")" -ge 4
check "STOPPING=1 on SIGTERM" grep -qx "MSG STOPPING=1" "$T/out"
check "exit 0" grep -qx "RC 0" "$T/out"
[ "$_failed" -eq 0 ] || sed 's/^/# /' "$T/out"
finish

#!/bin/bash
# Issue 4: the silence watchdog.  The websocket is a server that upgrades and then says
# nothing while the devnet (the RPC endpoint) makes blocks: the listener reconnects with
# backoff, and polling still reports the windows.
source "$(dirname "$0")/lib.sh"
D=$T/a
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 10 --window 8 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
cat >"$T/mute.py" <<'PY'
import base64, hashlib, socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
n = 0
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d: return
        data += d
    key = [l.split(b":", 1)[1].strip() for l in data.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    acc = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")
    while c.recv(4096): pass   # silent: reads the subscribe, never answers
while True:
    c, _ = s.accept(); n += 1
    print("connection", n, flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
start_bg "$T/mute.log" python3 "$T/mute.py" "$T/mute.port"
wait_for 5 test -s "$T/mute.port" || { not_ok "mute websocket server"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i "s/^ws_silence_s = .*/ws_silence_s = 2/; s|^polling_interval = .*|polling_interval = 1\nwebsocket = ws://127.0.0.1:$(cat "$T/mute.port")/websocket|" "$D/w.conf"
LOG=$D/state/logs/worker_continuous.log
check "start" "$CTL" -c "$D/w.conf" start
check "the watchdog saw the silence while the chain made blocks" \
	wait_for 20 grep -q 'no block event for 2 s while the chain is at height' "$LOG"
reconnected() { [ "$(grep -c '^connection' "$T/mute.log")" -ge 3 ]; }
check "and reconnected, more slowly each time" wait_for 15 reconnected
check "with a growing backoff" python3 - "$D/state/logs/worker_continuous.log" <<'PY'
import json, re, sys
ms = [int(m.group(1)) for l in open(sys.argv[1])
      for m in [re.search(r"silent; reconnecting in (\d+) ms", json.loads(l)["message"])] if m]
assert len(ms) >= 2 and ms[-1] > ms[0], ms
PY
polled() { [ "$(grep -c '"source":"poll"' "$LOG")" -ge 3 ]; }
check "polling still reported windows" wait_for 20 polled
check "stop" "$CTL" -c "$D/w.conf" stop
finish

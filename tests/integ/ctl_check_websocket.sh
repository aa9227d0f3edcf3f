#!/bin/bash
# Issue 16: alloractl check's websocket line comes from the listener's own client and
# subscription (listener/preflight.c): a server that upgrades but refuses the listener's
# subscription, or never answers it, is an error on the websocket line; one that accepts it is
# ok; an IPv6 literal endpoint works as the daemon's listener would use it.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67

# A websocket server: upgrades every request, then answers the subscription as $1 says
# (accept | refuse | mute). Prints its port, then the Host header of each upgrade.
cat >"$T/ws.py" <<'PY'
import base64, hashlib, socket, struct, sys, threading
mode, fam = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1" if fam == "6" else "127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
def serve(c):
    c.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d: return
        buf += d
    hdr = buf.split(b"\r\n\r\n")[0].decode()
    key = [l.split(":", 1)[1].strip() for l in hdr.split("\r\n") if l.lower().startswith("sec-websocket-key:")][0]
    host = [l.split(":", 1)[1].strip() for l in hdr.split("\r\n") if l.lower().startswith("host:")][0]
    print("host", host, flush=True)
    acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n\r\n" % acc).encode())
    f = c.recv(4096)                  # the client's (masked) subscribe frame
    if len(f) < 6: return
    n = f[1] & 0x7f; off = 2
    if n == 126: n = struct.unpack(">H", f[2:4])[0]; off = 4
    mask = f[off:off + 4]; data = bytes(b ^ mask[i % 4] for i, b in enumerate(f[off + 4:off + 4 + n]))
    print("got", data.decode(), flush=True)
    if mode == "mute":
        threading.Event().wait(5); return
    if mode == "accept":
        msg = b'{"jsonrpc":"2.0","id":"aw-blocks","result":{}}'
    else:
        msg = (b'{"jsonrpc":"2.0","id":"aw-blocks","error":{"code":-32603,'
               b'"message":"Internal error","data":"max_subscriptions_per_client 5 reached"}}')
    head = bytes([0x81, len(msg)]) if len(msg) < 126 else bytes([0x81, 126]) + struct.pack(">H", len(msg))
    c.sendall(head + msg)
    threading.Event().wait(1)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# ws_case NAME MODE FAMILY: starts the server, runs check with its URL; sets $port.
ws_case() {
	local name=$1 mode=$2 fam=$3 host
	start_bg "$T/$name.srv" python3 "$T/ws.py" "$mode" "$fam"
	wait_for 10 test -s "$T/$name.srv" || { not_ok "$name: server did not start"; return 1; }
	port=$(head -1 "$T/$name.srv")
	host=127.0.0.1; [ "$fam" = 6 ] && host='[::1]'
	sed "s|^rpc = \(.*\)|rpc = \1\nwebsocket = ws://$host:$port/websocket|" "$D/w.conf" \
		>"$D/$name.conf"
	"$CTL" -c "$D/$name.conf" check >"$T/$name.out" 2>&1
	echo $? >"$T/$name.rc"
}

ws_case accept accept 4
if grep -q "^ok *websocket .*accepts the upgrade and the subscription" "$T/accept.out"; then
	ok "a server accepting the listener's subscription: ok on the websocket line"
else
	not_ok "accepting server"; sed 's/^/# /' "$T/accept.out"
fi
check "the subscription check sent the listener's own subscription" \
	grep -q "tm.event='NewBlockEvents'" "$T/accept.srv"

ws_case refuse refuse 4
if grep -q "^error *websocket .*the subscription was refused: Internal error: max_subscriptions" \
	"$T/refuse.out" && [ "$(cat "$T/refuse.rc")" = 1 ]; then
	ok "a server refusing the subscription: error on the websocket line, exit 1"
else
	not_ok "refusing server (exit $(cat "$T/refuse.rc"))"; sed 's/^/# /' "$T/refuse.out"
fi

ws_case mute mute 4
if grep -q "^error *websocket .*upgraded, but no answer to the subscription" "$T/mute.out"; then
	ok "a server that never answers the subscription: error on the websocket line"
else
	not_ok "mute server"; sed 's/^/# /' "$T/mute.out"
fi

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	ws_case v6 accept 6
	if grep -q "^ok *websocket *ws://\[::1\]:$port/websocket accepts" "$T/v6.out" &&
		grep -q "^host \[::1\]:$port$" "$T/v6.srv"; then
		ok "an IPv6 literal endpoint: connected, brackets only in the Host header"
	else
		not_ok "IPv6 literal"; sed 's/^/# /' "$T/v6.out" "$T/v6.srv"
	fi
else
	ok "# skip: no IPv6 loopback on this machine"
fi
finish

#!/bin/bash
# Issue 7, alloractl check against the devnet: everything ok gives exit 0 and the table; then
# each failing line alone (RPC, websocket, chain id, topic missing, topic inactive, not
# registered, not whitelisted, balance low / below one submission, key that does not load,
# market data missing or stale) is a warning or an error on its own line, and an error gives
# exit 1.  The key is loaded in a child process, never in alloractl itself.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
A1=$TEST_ADDRESS_1
A2=$(address_of_test_mnemonic 2)
# A third wallet, generated here (test-only), funded with less than one submission.
"$CTL" keys new --out "$D/key3" >"$D/a3" || not_ok "keys new"
A3=$(cat "$D/a3")
# Topics: 67 all good, 68 not registered, 69 inactive, 71 not whitelisted; 70 does not exist.
# One submission costs 300000 gas x 10 + 10000 data sending fee = 3010000 uallo.
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67,68,69,71 --inactive-topics 69 \
	--epoch 6 --window 4 --peers 2 --account "$A1:100000000000" --account "$A2:10000000" \
	--account "$A3:1000000" --unregistered "$A1:68" --not-whitelisted "$A1:71" ||
	{ not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
cp "$D/w.conf" "$D/base.conf"
write_test_mnemonic "$D/key2" 2

# run NAME [sed expressions]: runs check on a variant of the base configuration; the
# output is in $T/NAME.out, the status in $T/NAME.rc.
run() {
	local name=$1; shift
	local conf="$D/$name.conf"
	cp "$D/base.conf" "$conf"
	for e in "$@"; do sed -i "$e" "$conf"; done
	"$CTL" -c "$conf" check >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}
# expect NAME STATUS [LINE TAG [TEXT]]: the exit status; LINE has TAG (and contains TEXT);
# every other line is ok or skipped; the summary counts the errors and warnings.
expect() {
	python3 - "$T/$1.out" "$(cat "$T/$1.rc")" "$2" "${3:-}" "${4:-}" "${5:-}" <<'PY'
import re, sys
out, rc, want_rc, line, tag, text = sys.argv[1:7]
rows = []
summary = None
for l in open(out):
    l = l.rstrip("\n")
    m = re.match(r"^(\d+) error\(s\), (\d+) warning\(s\)$", l)
    if m:
        summary = (int(m[1]), int(m[2])); continue
    m = re.match(r"^(ok|warning|error|skipped) +(\S.*?) {2,}(\S.*)$", l)
    assert m, "not a table row: %r" % l
    rows.append((m[1], m[2].strip(), m[3]))
assert summary is not None, "no summary line"
assert rc == want_rc, "exit status %s, expected %s" % (rc, want_rc)
errors = sum(1 for r in rows if r[0] == "error")
warnings = sum(1 for r in rows if r[0] == "warning")
assert summary == (errors, warnings), (summary, errors, warnings)
if line:
    hit = [r for r in rows if r[1] == line]
    assert hit, "no %r line in %r" % (line, [r[1] for r in rows])
    assert hit[0][0] == tag, "%r is %s: %s" % (line, hit[0][0], hit[0][2])
    assert text in hit[0][2], "%r does not say %r: %s" % (line, text, hit[0][2])
    for r in rows:
        if r[1] != line:
            assert r[0] in ("ok", "skipped"), "another line is not ok: %r" % (r,)
else:
    for r in rows:
        assert r[0] == "ok", "not ok: %r" % (r,)
PY
}
show() { sed 's/^/# /' "$T/$1.out" "$T/$1.err"; }
case_() {	# what NAME STATUS LINE TAG TEXT
	local what=$1; shift
	if expect "$@"; then ok "$what"; else not_ok "$what"; show "$1"; fi
}

run good
case_ "all ok: exit 0, every line ok" good 0
check "the table has every line" python3 - "$T/good.out" <<'PY'
import sys
names = [l[9:37].strip() for l in open(sys.argv[1]) if l[:1] in "ows"]
want = ["configuration", "rpc", "chain id", "websocket", "emissions", "gas price", "fee",
        "wallet main key", "wallet main balance", "topic 67", "topic 67 active",
        "topic 67 registration", "topic 67 whitelist", "topic 67 fees", "topic 67 loss method",
        "topic 67 score", "topic 67 market data"]
assert names == want, names
PY
check "the key line shows the wallet's address" grep -q "^ok *wallet main key *$A1 " "$T/good.out"
check "the summary says no error, no warning" grep -qx "0 error(s), 0 warning(s)" "$T/good.out"
check "the topic's loss method from the chain" grep -Eq "^ok +topic 67 loss method +zptae " "$T/good.out"
check "whether our worker has a score" grep -Eq "^ok +topic 67 score +$A1 has no score yet" "$T/good.out"

run rpc "s|^rpc = .*|rpc = http://127.0.0.1:9\nwebsocket = ws://127.0.0.1:$DEVNET_PORT/websocket|"
case_ "RPC unreachable: error on the rpc line, exit 1" rpc 1 rpc error "unreachable"
check "and the chain's lines are skipped, not errors" grep -q "^skipped *chain " "$T/rpc.out"

run ws "s|^rpc = \(.*\)|rpc = \1\nwebsocket = ws://127.0.0.1:9/websocket|"
case_ "websocket unreachable: error on the websocket line, exit 1" ws 1 websocket error "cannot connect"
run notws "s|^rpc = \(.*\)|rpc = \1\nwebsocket = ws://127.0.0.1:$DEVNET_PORT/status|"
case_ "a URL that is not a websocket: error on the websocket line" notws 1 websocket error "not a websocket"

run chainid "s|^chain_id = .*|chain_id = allora-testnet-1|"
case_ "wrong chain id: error on the chain id line, exit 1" chainid 1 "chain id" error '"devnet-1"'

run missing "s|^\[topic 67\]|[topic 70]|"
case_ "topic missing: error on the topic line, exit 1" missing 1 "topic 70" error "does not exist"
check "and its active, registration and whitelist lines are skipped" test \
	"$(grep -c '^skipped *topic 70 \(active\|registration\|whitelist\) *no such topic' "$T/missing.out")" = 3

run inactive "s|^\[topic 67\]|[topic 69]|"
case_ "topic inactive: error on the active line, exit 1" inactive 1 "topic 69 active" error "not active"

run unreg "s|^\[topic 67\]|[topic 68]|"
case_ "wallet not registered: error on the registration line, exit 1" unreg 1 \
	"topic 68 registration" error "alloractl register --topic 68"

run notwl "s|^\[topic 67\]|[topic 71]|"
case_ "not whitelisted: error on the whitelist line, exit 1" notwl 1 "topic 71 whitelist" error \
	"CanSubmitWorkerPayload is false"

run low "s|^mnemonic_file = .*|mnemonic_file = $D/key2|"
case_ "balance below 24 submissions: warning on the balance line, exit 0" low 0 \
	"wallet main balance" warning "10000000 uallo: fewer than 24 submissions"

run broke "s|^mnemonic_file = .*|mnemonic_file = $D/key3|"
case_ "balance below one submission: error on the balance line, exit 1" broke 1 \
	"wallet main balance" error "less than one submission (3010000 uallo)"

( umask 077; echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon" >"$D/badkey" )
run badkey "s|^mnemonic_file = .*|mnemonic_file = $D/badkey|"
case_ "a bad mnemonic: error on the key line, exit 1" badkey 1 "wallet main key" error "checksum"
check "and the registration and whitelist lines are skipped" sh -c "grep -q '^skipped *topic 67 registration ' '$T/badkey.out' && grep -q '^skipped *topic 67 whitelist ' '$T/badkey.out'"

cp "$D/key" "$D/key644"; chmod 644 "$D/key644"
run key644 "s|^mnemonic_file = .*|mnemonic_file = $D/key644|"
case_ "a key file of mode 0644: error on the key line, exit 1" key644 1 "wallet main key" error \
	"mode 0644"
check "the mnemonic is never printed" sh -c "! grep -q abandon '$T/key644.out' '$T/badkey.out' '$T/good.out'"

run nodata "s|^data_source = .*|data_source = csv:$D/none.csv|"
case_ "market data missing: error on the market data line, exit 1" nodata 1 "topic 67 market data" \
	error "No such file"

python3 - "$D/old.csv" <<'PY'
import sys, time
now = int(time.time()) // 3600 * 3600 - 10 * 3600
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(800):
        f.write(f"{now - (799 - i) * 3600},{50000 + i}\n")
PY
run stale "s|^data_source = .*|data_source = csv:$D/old.csv|"
case_ "market data stale: warning on the market data line" stale 0 "topic 67 market data" warning \
	"h ago (stale_after_s = 7200): built-in models would submit the fallback"

# Market data sources, served here: Tiingo (fresh hourly bars for the right key, 401 for any
# other), Coinbase and Binance (BTC-USD / BTCUSDT only).
python3 - "$D/md.port" >"$D/md.log" 2>&1 <<'PY' &
import http.server, json, os, sys, time, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        u = urllib.parse.urlparse(self.path); q = urllib.parse.parse_qs(u.query)
        now = int(time.time()) // 3600 * 3600
        hours = [now - h * 3600 for h in range(47, -1, -1)]   # the last is the running hour
        if u.path == "/tiingo/crypto/prices":
            if self.headers.get("Authorization") != "Token test-only-key":
                return self.reply(401, {"detail": "bad key"})
            bars = [{"date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t)), "close": 5e4}
                    for t in hours[:-1]]
            return self.reply(200, [{"ticker": q["tickers"][0], "priceData": bars}])
        if u.path == "/products/BTC-USD/candles":
            return self.reply(200, [[t, 1, 2, 1, 5e4, 9] for t in reversed(hours)])
        if u.path == "/api/v3/klines" and q.get("symbol") == ["BTCUSDT"]:
            return self.reply(200, [[t * 1000, "1", "2", "1", "50000", "9", t * 1000 + 3599999]
                                    for t in hours])
        return self.reply(404, {"error": "not here"})
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(s.server_port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
_bg_pids+=($!)
if wait_for 10 test -s "$D/md.port"; then
	MD=http://127.0.0.1:$(cat "$D/md.port")
	( umask 077; echo test-only-key >"$D/tiingo.key"; echo wrong-key >"$D/tiingo.bad" )
	run tiingo "s|^data_source = .*|data_source = tiingo\ntiingo_url = $MD\ntiingo_key_file = $D/tiingo.key|"
	case_ "tiingo reachable with fresh bars: ok" tiingo 0
	check "and it says how old the newest bar is" grep -q "^ok *topic 67 market data *tiingo: the newest complete bar ended [0-9]* min ago" "$T/tiingo.out"
	run tiingobad "s|^data_source = .*|data_source = tiingo\ntiingo_url = $MD\ntiingo_key_file = $D/tiingo.bad|"
	case_ "tiingo refusing the key: error on the market data line" tiingobad 1 \
		"topic 67 market data" error "HTTP 401"
	run tiingodown "s|^data_source = .*|data_source = tiingo\ntiingo_url = http://127.0.0.1:9\ntiingo_key_file = $D/tiingo.key|"
	case_ "tiingo unreachable: error on the market data line" tiingodown 1 \
		"topic 67 market data" error "unreachable"
	run coinbase "s|^data_source = .*|data_source = coinbase\ndata_url = $MD|"
	case_ "coinbase reachable with fresh bars: ok" coinbase 0
	run binance "s|^data_source = .*|data_source = binance\ndata_url = $MD|"
	case_ "binance reachable with fresh bars: ok" binance 0
	run ethbinance "s|^data_source = .*|data_source = binance\ndata_url = $MD\nticker = ethusd|"
	case_ "binance without bars for the ticker: error on the market data line" ethbinance 1 \
		"topic 67 market data" error "HTTP 404"
else
	not_ok "the fake market data server did not start"; sed 's/^/# /' "$D/md.log"
fi

# The key is read only by a child: alloractl's own process never opens the key file.
key_opened_by_child_only "the key file is opened by a child, never by alloractl itself" "$D/key" \
	"$CTL" -c "$D/good.conf" check
finish

#!/bin/sh
# The README's `alloractl history --report` picture (docs/history-cumulative-loss.png): a
# history replayed from a backtest, not a live run.  The backtest's daily decisions over the
# second half of the real 2018-2022 BTC hourly series become ledger windows of topic 67
# (submitted value 0, what `model = default` submits) with `shadow` records of ridge (the
# backtest's ridge@0.25, shrink 0.25) and momentum; `alloractl history --shadow --report` then scores them against the same bars.
# Usage: scripts/history-picture.sh [BUILD_DIR] (default build; the CSV from shared/data).
set -eu
B=${1:-build}
CSV=${CSV:-/work/shared/data/btc-hourly-bitstamp-2018-2022.csv}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$B/alloractl" backtest --csv "$CSV" --model ridge@0.25,momentum --half second --loss mse \
	--dump "$W/dump.jsonl" --json >/dev/null
mkdir -p "$W/state/ledger"
python3 - "$W/dump.jsonl" "$W/state/ledger/topic-67.jsonl" <<'PY'
import json, sys, datetime
out = open(sys.argv[2], "w")
for l in open(sys.argv[1]):
    d = json.loads(l)
    t = d["time"]
    ts = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    nonce = int(ts.timestamp()) // 3600
    def rec(state, **kw):
        o = {"time": t, "topic": 67, "nonce": nonce, "state": state}
        o.update(kw)
        out.write(json.dumps(o) + "\n")
    rec("seen")
    rec("predicted", value="0", source="fresh", model="default", reason=None)
    for m, name in (("ridge@0.25", "ridge"), ("momentum", "momentum")):
        rec("shadow", model=name, value="%.12g" % d["pred"][m], reason=None)
    rec("accepted")
PY
cat >"$W/w.conf" <<EOC
[global]
state_dir = $W/state
run_dir = $W/run
[chain]
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_env = MNEMONIC
[topic 67]
data_source = csv:$CSV
target_hours = 168
loss_method = mse
shadow = ridge, momentum
EOC
"$B/alloractl" -c "$W/w.conf" history --topic 67 --shadow | tail -5
"$B/alloractl" -c "$W/w.conf" history --topic 67 --report "$W/report"
mkdir -p docs
cp "$W/report/cumulative_loss.png" docs/history-cumulative-loss.png
echo "docs/history-cumulative-loss.png written"

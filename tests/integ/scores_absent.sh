#!/bin/bash
# Issue 18, bad input: a chain without the score queries (the devnet without its reward
# loop) and malformed score events.  The daemon keeps serving, every score field stays null
# (never a made-up 0), the metrics export no score family, and each problem is logged once
# at warning.
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
# Epochs (3 s) longer than the polling interval (1 s): still one query round an epoch.
start_devnet "$D" --chain-id devnet-1 --block-ms 150 --topics 67 --epoch 20 --window 15 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/; s/^polling_interval = .*/polling_interval = 1/; s/^\[global\]$/[global]\nlog_level = debug/' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
acc() { [ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["accepted"]')" -ge 3 ]; }
check "submissions go on" wait_for 60 acc
status_json "$D/w.conf" >"$T/s.json"
check "every score field null, rewards \"0\", the loss method still from GetTopic" \
	python3 - "$T/s.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["topics"][0]
s = t["score"]
assert t["loss_method"] == "zptae", t
for k, v in s.items():
    assert v is None or (k == "rewards_uallo" and v == "0"), (k, v)
PY
M=$(json "$T/s.json" 'd.get("metrics") or ""')
curl -sf "http://$M/metrics" >"$T/m"
check "no score family is exported" sh -c "! grep -Eq '^allora_worker_(score_ema|active|score_gap|rewards_uallo_total|network_inference)[{ ]' '$T/m'"
check "the missing query is logged once at warning" sh -c "[ \$(grep -c 'does not answer GetInfererScoreEma' '$D/state/logs/worker_continuous.log') = 1 ] && grep 'does not answer GetInfererScoreEma' '$D/state/logs/worker_continuous.log' | grep -q '\"event\":\"warning\"'"
check "at most one query round per epoch (polled every second, epochs of 3 s)" python3 - \
	"$D/state/logs/worker_output.log" "$D/record.jsonl" <<'PY'
import json, sys
rounds = sum(1 for l in open(sys.argv[1]) if "score query round for topic 67" in l)
windows = sum(1 for l in open(sys.argv[2]) if json.loads(l).get("kind") == "window")
assert 1 <= rounds <= windows + 1, (rounds, windows)
PY
check "the ledger has no scored or rewarded record" sh -c "! grep -Eq '\"state\":\"(scored|rewarded)\"' '$D/state/ledger/topic-67.jsonl'"
check "stop" "$CTL" -c "$D/w.conf" stop
finish

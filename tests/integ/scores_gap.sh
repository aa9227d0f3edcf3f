#!/bin/bash
# Issue 18: after an event gap (the websocket dropped), `active` is unknown (null, and no
# allora_worker_active metric) until the next EventEMAScoresSet says it again; the EMA score
# itself stays (the queries catch up).
source "$(dirname "$0")/lib.sh"
D=$T/a
mkdir -p "$D"
# Long epochs (4 s), the websocket dropped every 1.5 s: each drop is a gap inside an epoch.
start_devnet "$D" --chain-id devnet-1 --block-ms 100 --topics 67 --epoch 40 --window 30 \
	--peers 2 --truth-lag 1 --active 3 --drop-ws-every 1.5 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:0/' "$D/w.conf"
check "start" "$CTL" -c "$D/w.conf" start
M=$(status_json "$D/w.conf" | json - 'd.get("metrics") or ""')
active_true() {
	[ "$(status_json "$D/w.conf" | json - 'd["topics"][0]["score"]["active"]')" = True ]
}
check "scored and active (the event says so)" wait_for 40 active_true
gap() {
	status_json "$D/w.conf" >"$T/g.json" && curl -sf "http://$M/metrics" >"$T/g.prom" &&
	python3 - "$T/g.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["topics"][0]["score"]
sys.exit(0 if s["active"] is None and s["ema"] is not None else 1)
PY
}
check "after a websocket drop: active null, the EMA still shown" wait_for 20 gap
check "and no allora_worker_active sample while it is unknown" sh -c "! grep -q '^allora_worker_active{' '$T/g.prom' && grep -q '^allora_worker_score_ema{' '$T/g.prom'"
check "the next EventEMAScoresSet tells it again" wait_for 20 active_true
check "stop" "$CTL" -c "$D/w.conf" stop
finish

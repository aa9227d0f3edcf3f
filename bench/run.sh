#!/bin/bash
# make bench: every benchmark of bench/, one table on stdout, $BUILD_DIR/bench/results.json.
# What each figure means and how it is measured: bench/README.md.
#
# Environment:
#   BUILD_DIR          the build folder (make sets it)
#   BENCH_DATA         hourly unix,close CSV for the training benchmark
#                      (default ../shared/data/btc-hourly-bitstamp-2018-2022.csv beside the
#                      repository; read in place, never copied)
#   BENCH_PYTHON       the Python with Debian's python3-sklearn (default /usr/bin/python3)
#   BENCH_TREE_METHOD  which of our tree methods heads the training figures: exact or hist
#                      (default: the one of the trainer's model = reference, xgb_params_gbr)
#   BENCH_QUICK=1      a smoke run (short runs, few folds, 10 s idle intervals): the figures
#                      are not the benchmark's
set -u
: "${BUILD_DIR:?BUILD_DIR must be set (make bench sets it)}"
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
source tests/integ/lib.sh	# start_bg, wait_for, start_devnet, gen_bars; $T removed at exit

OUT=$BUILD_DIR/bench
RAW=$OUT/raw
BIN=$BUILD_DIR/bench
PY=${BENCH_PYTHON:-/usr/bin/python3}
DATA=${BENCH_DATA:-$REPO/../shared/data/btc-hourly-bitstamp-2018-2022.csv}
QUICK=${BENCH_QUICK:-0}
BLOCK_MS=100		# devnet block time of the window runs
EPOCH=10		# blocks: a window for every topic each second
WINDOW=8		# blocks a window stays open
if [ "$QUICK" = 1 ]; then
	RUNS=1; DUR_1=6; DUR_10=6; DUR_50=6; IDLE_S=10; FOLDS=3,3,1
else
	RUNS=3; DUR_1=15; DUR_10=24; DUR_50=12; IDLE_S=60; FOLDS=15,15,5
fi

rm -rf "$RAW"
mkdir -p "$RAW"
START=$(date +%s)
say() { printf '[bench %3ds] %s\n' $(($(date +%s) - START)) "$*" >&2; }

for p in "$WORKERD" "$CTL" "$DEVNET" "$BIN/train_bench" "$BIN/procmon"; do
	[ -x "$p" ] || { echo "bench: $p is missing (run make bench)" >&2; exit 1; }
done
"$PY" -c 'import sklearn, numpy' 2>/dev/null ||
	{ echo "bench: $PY has no scikit-learn (scripts/deps.sh --bench installs python3-sklearn)" >&2; exit 1; }

# Fresh wallets for this run (random mnemonics in $T, never kept), and generated hourly bars
# up to the current hour for the daemon (9,500 h: a full one-year training window).
mkdir -p "$T/keys"
ADDR=()
for i in $(seq 1 50); do
	ADDR[i]=$("$CTL" keys new --out "$T/keys/k$i") || { echo "bench: keys new failed" >&2; exit 1; }
done
gen_bars "$T/bars.csv" 9500

# write_conf DIR PORT NTOPICS NWALLETS [topic keys]: defaults everywhere but the chain, the
# data (csv:), the cache lifetime and the metrics port (off: a shared machine).
write_conf() {
	local dir=$1 port=$2 nt=$3 nw=$4 extra=${5:-} i
	{
		printf '[global]\ninstance = %s\nstate_dir = %s/state\nrun_dir = %s/run\n' \
			"$(basename "$dir")" "$dir" "$dir"
		printf 'metrics_listen = off\n'
		printf '[chain]\nchain_id = devnet-1\nrpc = http://127.0.0.1:%s\n' "$port"
		for i in $(seq 1 "$nw"); do
			printf '[wallet w%d]\nmnemonic_file = %s/keys/k%d\n' "$i" "$T" "$i"
		done
		for i in $(seq 1 "$nt"); do
			printf '[topic %d]\nwallet = w%d\ndata_source = csv:%s/bars.csv\n' \
				"$i" $(( (i - 1) % nw + 1 )) "$T"
			printf 'cache_ttl = 86400\n%b' "$extra"
		done
	} >"$dir/w.conf"
}

# accounts NWALLETS: the devnet's --account arguments.
accounts() {
	local i
	for i in $(seq 1 "$1"); do
		printf -- '--account\n%s:100000000000\n' "${ADDR[i]}"
	done
}

# The daemon runs in the foreground (-f, as under systemd; its log also goes to
# DIR/daemon.log), so that its pid is known at once and procmon follows it from its start.
stop_all() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	kill -TERM "$DEVNET_PID" 2>/dev/null
	wait "$DEVNET_PID" 2>/dev/null
}

# keep NAME DIR: the raw material of a run, for analyze.py.
keep() {
	local name=$1 dir=$2
	mkdir -p "$RAW/$name"
	cp "$dir/record.jsonl" "$dir/meta.json" "$RAW/$name/" 2>/dev/null
	cp "$dir/procmon.json" "$dir/daemon.log" "$RAW/$name/" 2>/dev/null
	cp "$dir/state/logs/worker_continuous.log" "$RAW/$name/events.jsonl" 2>/dev/null
}

# window_run NAME NTOPICS NWALLETS SECONDS: the daemon against the devnet, a window for
# every topic every second, each topic with a cached prediction after its first window;
# procmon samples memory every 2 ms meanwhile.
window_run() {
	local name=$1 nt=$2 nw=$3 secs=$4 dir=$T/$1
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	start_devnet "$dir" --chain-id devnet-1 --block-ms $BLOCK_MS --epoch $EPOCH \
		--window $WINDOW --topics "$(seq -s, 1 "$nt")" $(accounts "$nw") ||
		{ say "$name: the devnet did not start"; return 1; }
	write_conf "$dir" "$DEVNET_PORT" "$nt" "$nw"
	start_bg "$dir/daemon.log" "$WORKERD" -c "$dir/w.conf" -f
	DAEMON_PID=$BG_PID
	"$BIN/procmon" --pid "$DAEMON_PID" --interval-ms 2 --duration-s "$secs" >"$dir/procmon.json"
	kill -0 "$DAEMON_PID" 2>/dev/null ||
		{ say "$name: the daemon exited"; tail -5 "$dir/daemon.log" >&2; }
	printf '{"name": "%s", "topics": %d, "wallets": %d, "seconds": %s, "stop_time": %s, "block_ms": %d, "epoch": %d}\n' \
		"$name" "$nt" "$nw" "$secs" "$(date +%s.%N)" $BLOCK_MS $EPOCH >"$dir/meta.json"
	stop_all
	keep "$name" "$dir"
}

# sync_run: the 10-topic run once more (not used for the latency), its daemon under strace:
# every fsync, fdatasync and syncfs with its file and its duration, so that analyze.py counts
# the syncs of the ledger and the audit log per window and times each group commit's sync.
sync_run() {
	local name=sync-t10 nt=10 dir=$T/sync-t10 spid pid
	command -v strace >/dev/null 2>&1 || { say "$name: no strace here, no sync figures"; return 0; }
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	start_devnet "$dir" --chain-id devnet-1 --block-ms $BLOCK_MS --epoch $EPOCH \
		--window $WINDOW --topics "$(seq -s, 1 "$nt")" $(accounts "$nt") ||
		{ say "$name: the devnet did not start"; return 1; }
	write_conf "$dir" "$DEVNET_PORT" "$nt" "$nt"
	strace -ff -qq -T -y -e trace=fsync,fdatasync,syncfs -o "$dir/strace" \
		"$WORKERD" -c "$dir/w.conf" -f >"$dir/daemon.log" 2>&1 &
	spid=$!
	sleep "$DUR_10"
	pid=$(cat /proc/$spid/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	printf '{"name": "%s", "topics": %d, "wallets": %d, "seconds": %s, "stop_time": %s, "block_ms": %d, "epoch": %d}\n' \
		"$name" "$nt" "$nt" "$DUR_10" "$(date +%s.%N)" $BLOCK_MS $EPOCH >"$dir/meta.json"
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	wait "$spid" 2>/dev/null
	kill -TERM "$DEVNET_PID" 2>/dev/null
	wait "$DEVNET_PID" 2>/dev/null
	keep "$name" "$dir"
	cat "$dir"/strace.* >"$RAW/$name/strace.txt" 2>/dev/null
}

# one_wallet_run: 50 topics sharing one wallet.  The devnet opens a window for every topic
# at its start (the daemon's warm-up: first trainings, gas simulations, all 50 submitted one
# after the other) and again 300 blocks later: that second set is measured, until all 50
# were broadcast.  Windows stay open 290 blocks, so that none closes before its turn.
one_wallet_run() {
	local dir=$T/one-wallet nt=50 nonce=301 i
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	start_devnet "$dir" --chain-id devnet-1 --block-ms $BLOCK_MS --epoch 300 --window 290 \
		--topics "$(seq -s, 1 $nt)" $(accounts 1) || return 1
	write_conf "$dir" "$DEVNET_PORT" $nt 1
	start_bg "$dir/daemon.log" "$WORKERD" -c "$dir/w.conf" -f
	DAEMON_PID=$BG_PID
	for i in $(seq 1 900); do	# at most 90 s
		[ "$(grep -c "\"stage\":\"checktx\".*\"nonce\":$nonce," "$dir/record.jsonl")" -ge $nt ] &&
			break
		sleep 0.1
	done
	printf '{"name": "one-wallet", "topics": %d, "wallets": 1, "nonce": %d, "stop_time": %s}\n' \
		$nt $nonce "$(date +%s.%N)" >"$dir/meta.json"
	stop_all
	keep one-wallet "$dir"
}

# Idle: one topic, defaults, a chain making a block a second and, after the window of its
# first block, no window for days.
# Three consecutive intervals of IDLE_S seconds, measured while the other benchmarks run
# (CPU time is per process: the load of others does not add to it).
idle_start() {
	local dir=$T/idle
	mkdir -p "$dir"
	start_devnet "$dir" --chain-id devnet-1 --block-ms 1000 --epoch 1000000 --window 3 \
		--topics 1 --account "${ADDR[1]}:100000000000" || return 1
	IDLE_DEVNET=$DEVNET_PID
	write_conf "$dir" "$DEVNET_PORT" 1 1
	start_bg "$dir/daemon.log" "$WORKERD" -c "$dir/w.conf" -f
	IDLE_DAEMON=$BG_PID
	(
		pid=$IDLE_DAEMON
		# Settle: connected, the devnet's first window (open at its start, 3 blocks long)
		# answered and closed; then nothing but blocks, heartbeats and polls.
		sleep 5
		for i in 0 1 2 3; do
			[ "$i" -gt 0 ] && sleep "$IDLE_S"
			"$BIN/procmon" --pid "$pid" --once >"$dir/idle$i.json"
			date +%s.%N >"$dir/idle$i.time"
		done
	) &
	IDLE_SAMPLER=$!
}

idle_finish() {
	local dir=$T/idle
	wait "$IDLE_SAMPLER"
	mkdir -p "$RAW/idle"
	cp "$dir"/idle*.json "$dir"/idle*.time "$RAW/idle/"
	cp "$dir/state/logs/worker_continuous.log" "$RAW/idle/events.jsonl"
	cp "$dir/record.jsonl" "$RAW/idle/"
	kill -TERM "$IDLE_DAEMON" 2>/dev/null
	wait "$IDLE_DAEMON" 2>/dev/null
	kill -TERM "$IDLE_DEVNET" 2>/dev/null
	wait "$IDLE_DEVNET" 2>/dev/null
}

say "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "idle daemon: started; ${IDLE_S} s intervals x 3 run in the background"
idle_start || { echo "bench: the idle daemon did not start" >&2; exit 1; }

# Training: ours (in-process, trainer library) and scikit-learn on the same rows.
mkdir -p "$RAW/train"
if [ -r "$DATA" ]; then
	TRAIN_CSV=$DATA
	echo "real: $DATA" >"$RAW/train/data"
else
	say "no $DATA: training on a generated series instead (figures not comparable)"
	gen_bars "$T/train.csv" 37387
	TRAIN_CSV=$T/train.csv
	echo "generated" >"$RAW/train/data"
fi
say "training: ours (XGBoost, C) on 336, 672 and 8760 rows, folds $FOLDS"
"$BIN/train_bench" --csv "$TRAIN_CSV" --out "$RAW/train" --folds "$FOLDS" ||
	{ echo "bench: train_bench failed" >&2; exit 1; }
say "training: scikit-learn GradientBoostingRegressor on the same rows"
"$PY" bench/reference/gbr_reference.py --csv "$TRAIN_CSV" --dir "$RAW/train" ||
	{ echo "bench: the scikit-learn reference failed" >&2; exit 1; }
rm -f "$RAW/train/features.f64" "$RAW/train/target.f64"

# Windows: latency, memory and 50 simultaneous windows, at 1, 10 and 50 topics.
for r in $(seq 1 $RUNS); do
	for nt in 1 10 50; do
		d=DUR_$nt
		say "windows: $nt topic(s), one wallet each, ${!d} s (run $r of $RUNS)"
		window_run "t$nt-r$r" "$nt" "$nt" "${!d}"
	done
done
say "windows: 10 topics, one wallet each, under strace: the syncs of the ledger and the audit log"
sync_run

say "windows: 50 topics sharing one wallet, one window each"
one_wallet_run

say "idle daemon: waiting for the last interval"
idle_finish

python3 bench/analyze.py --raw "$RAW" --out "$OUT/results.json" \
	--tree-method "${BENCH_TREE_METHOD:-}" --quick "$QUICK" || exit 1
say "done: $OUT/results.json"

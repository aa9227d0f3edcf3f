#!/bin/bash
# Issue 5: alloractl backtest on generated series: zero is optimal on a random walk (skill
# <= 0.01 for every model), a planted signal is found (skill > 0.1); refused arguments.
source "$(dirname "$0")/lib.sh"
gen() {	# gen FILE AMPLITUDE NOISE SEED
	python3 - "$@" <<'PY'
import math, random, sys
path, amp, noise, seed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed); rw = 0.0
with open(path, "w") as f:
    f.write("unix,close\n")
    for i in range(20000):
        rw += r.gauss(0, noise)
        f.write("%d,%.8f\n" % (1500000000 + 3600 * i, 20000 * math.exp(rw + amp * math.sin(2 * math.pi * i / 1000))))
PY
}
gen "$T/rw.csv" 0 0.005 1
gen "$T/sine.csv" 0.05 0.001 2
skill() {	# skill JSONFILE MODEL
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["models"][sys.argv[2]]["skill"])' "$1" "$2"
}
"$CTL" backtest --csv "$T/rw.csv" --step 72 --json > "$T/rw-default.json"
check "backtest --json on a random walk has zero, default and reference" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert set(d["models"]) == {"zero", "default", "reference"}, d["models"].keys()
assert d["step_h"] == 72 and d["half"] == "all" and d["decisions"] > 0 and d["weeks"] > 0
assert d["models"]["zero"]["corr"] is None and d["models"]["zero"]["skill"] == 0' "$T/rw-default.json"
check "random walk: default skill <= 0.01" python3 -c "assert $(skill "$T/rw-default.json" default) <= 0.01"
check "random walk: reference skill <= 0.01" python3 -c "assert $(skill "$T/rw-default.json" reference) <= 0.01"
"$CTL" backtest --csv "$T/rw.csv" --model ridge --shrink 1 --window 2000 --json > "$T/rw-ridge.json"
check "random walk: unshrunk ridge skill <= 0.01" python3 -c "assert $(skill "$T/rw-ridge.json" ridge) <= 0.01"
check "--model restricts the models to it and zero" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert set(d["models"]) == {"zero", "ridge"} and d["step_h"] == 24 and d["window_h"] == 2000' "$T/rw-ridge.json"
"$CTL" backtest --csv "$T/sine.csv" --model ridge --shrink 1 --lambda 0.01 --window 2000 --json > "$T/sine.json"
check "planted signal: ridge skill > 0.1" python3 -c "assert $(skill "$T/sine.json" ridge) > 0.1"
"$CTL" backtest --csv "$T/sine.csv" --model ridge --shrink 1 --lambda 0.01 --window 2000 --half first --json > "$T/first.json"
"$CTL" backtest --csv "$T/sine.csv" --model ridge --shrink 1 --lambda 0.01 --window 2000 --half second --json > "$T/second.json"
check "--half first and second split the decisions" python3 -c '
import json,sys; a,b,c=(json.load(open(x)) for x in sys.argv[1:])
assert a["decisions"] + b["decisions"] == c["decisions"] and a["half"] == "first"' "$T/first.json" "$T/second.json" "$T/sine.json"
"$CTL" backtest --csv "$T/sine.csv" --step 168 > "$T/table.txt"
check "the text table lists zero, default and reference" grep -q '^reference' "$T/table.txt"
check "the text table has the ZPTAE column" grep -q 'zptae/0' "$T/table.txt"
"$CTL" backtest --csv "$T/sine.csv" --model xgboost --shrink 1 --window 2000 --step 240 --json > "$T/sine-xgb.json"
check "planted signal: xgboost (feature set B) skill > 0.1" python3 -c "assert $(skill "$T/sine-xgb.json" xgboost) > 0.1"
"$CTL" backtest --csv "$T/rw.csv" --shrink -1 >/dev/null 2>&1; check "a negative shrink is refused (2)" test $? = 2
"$CTL" backtest --csv "$T/rw.csv" --model magic >/dev/null 2>&1; check "an unknown model is refused (2)" test $? = 2
"$CTL" backtest >/dev/null 2>&1; check "--csv is required (2)" test $? = 2
"$CTL" backtest --csv "$T/nope.csv" 2>"$T/err" >/dev/null; check "a missing file fails (1) with its name" sh -c "test $? = 1 && grep -q nope.csv '$T/err'"
head -500 "$T/rw.csv" > "$T/short.csv"
"$CTL" backtest --csv "$T/short.csv" 2>"$T/err" >/dev/null; check "a short series fails (1) and says how many bars are needed" sh -c "test $? = 1 && grep -q needed '$T/err'"
finish

#!/bin/bash
# Issue 17 (and 19's --report): alloractl loss against the published CZAR values; the
# backtest on a 4-month generated series with --window 720 (where decisions start, errors
# quoting the numbers used), its JSON (loss, first/last decision, czar_rel, loss_rel,
# intervals), --dump, --loss, and --report's PNGs (valid, 1200x800, drawn).
source "$(dirname "$0")/lib.sh"
python3 - "$T/s.csv" <<'PY'
import math, random, sys
r = random.Random(7); lc = 0.0
with open(sys.argv[1], "w") as f:
    f.write("unix,close\n")
    for i in range(3100):
        lc += r.gauss(0, 0.004)
        f.write("%d,%.8f\n" % (1700000000 + 3600 * i, 30000 * math.exp(lc + 0.03 * math.sin(i / 150.0))))
PY

# alloractl loss
out=$("$CTL" loss --method czar --true 1 --pred -0.5,0.5,1.5 --std 1)
check "loss: CZAR's published three-region values (alpha 1, eps 1, tau 0.05 by default)" \
	test "$out" = "$(printf '1.27725710891329\n0.270314256882699\n0.260455524262833')"
"$CTL" loss --method czar --true 1 --pred 0.5 --std 1 --alpha 0 --json > "$T/l.json"
check "loss --json: method, true, std, losses" python3 -c '
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["method"] == "czar" and d["true"] == 1 and d["std"] == 1 and len(d["losses"]) == 1
# alpha 0: atan|z| - atan|zhat| plus the softening term, which is below atan(1)
l = d["losses"][0]; base = math.atan(1) - math.atan(0.5)
assert base < l < base + math.atan(1), l' "$T/l.json"
check "loss: mse of two predictions" test "$("$CTL" loss --method mse --true 0.1 --pred 0,0.3 --std 9 | tr '\n' ' ')" = "0.01 0.04 "
"$CTL" loss --method huber --true 1 --pred 1 --std 1 2>"$T/err" >/dev/null
check "loss: an unknown method is refused (2) by name" sh -c "test $? = 2 && grep -q huber '$T/err'"
"$CTL" loss --method zptae --true 1 --pred 1,x --std 1 2>"$T/err" >/dev/null
check "loss: a bad prediction is refused (2)" sh -c "test $? = 2 && grep -q '\"x\"' '$T/err'"
"$CTL" loss --method czar --true 1 --pred 1 --std 1 --alpha 2 2>"$T/err" >/dev/null
check "loss: alpha outside [0, 1] is refused (2) naming --alpha" sh -c "test $? = 2 && grep -q -- '--alpha' '$T/err'"

# backtest --window 720 on 3,100 hours
"$CTL" backtest --csv "$T/s.csv" --window 720 --step 48 --json > "$T/b.json" 2>"$T/err"
check "backtest runs on a 3,100-hour series with --window 720" test $? = 0
check "decisions start after 336 + 720 + 168 hours; loss mse without -c/--loss" python3 -c '
import json, sys, datetime
d = json.load(open(sys.argv[1]))
t0 = datetime.datetime.fromisoformat(d["first_decision"].replace("Z", "+00:00")).timestamp()
assert int(t0) == 1700000000 + 3600 * 1224, d["first_decision"]
assert d["window_h"] == 720 and d["loss"] == "mse" and d["decisions"] > 30 and d["step_h"] == 48
assert d["last_decision"] > d["first_decision"]' "$T/b.json"
check "every model row has czar_rel, loss_rel and the two intervals" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for name, m in d["models"].items():
    for k in ("czar_rel", "loss_rel", "mse_skill_ci", "corr_ci", "zptae_rel"):
        assert k in m, (name, k)
r = d["models"]["reference"]
assert r["mse_skill_ci"][0] <= r["skill"] <= r["mse_skill_ci"][1]
assert r["corr_ci"][0] <= r["corr"] <= r["corr_ci"][1]
assert d["models"]["zero"]["loss_rel"] == 1 and d["models"]["default"]["loss_rel"] == 1' "$T/b.json"
"$CTL" backtest --csv "$T/s.csv" --window 720 --step 48 --json > "$T/b2.json"
check "the intervals are seeded (the same twice)" sh -c "grep -q mse_skill_ci '$T/b.json' && cmp -s '$T/b.json' '$T/b2.json'"
"$CTL" backtest --csv "$T/s.csv" --window 2900 2>"$T/err" >/dev/null
check "too long a window fails (1) quoting the numbers used" sh -c "test $? = 1 &&
	grep -q 'window 2900' '$T/err' && grep -q '3573 are needed' '$T/err' && ! grep -q 8760 '$T/err'"
"$CTL" backtest --csv "$T/s.csv" 2>"$T/err" >/dev/null
check "without --window the configured 8,760 h decide (and are quoted)" sh -c "test $? = 1 &&
	grep -q 'window 8760' '$T/err'"

# --loss, --dump
"$CTL" backtest --csv "$T/s.csv" --window 720 --loss czar --model ridge@0.5,momentum \
	--dump "$T/d.jsonl" --json > "$T/c.json"
check "--loss czar: loss_rel is czar_rel" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); m = d["models"]["ridge@0.5"]
assert d["loss"] == "czar" and abs(m["loss_rel"] - m["czar_rel"]) < 1e-12
assert set(d["models"]) == {"zero", "ridge@0.5", "momentum"}' "$T/c.json"
check "--dump: one JSON line per decision with time, realized and each model" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); lines = open(sys.argv[2]).read().splitlines()
assert len(lines) == d["decisions"], (len(lines), d["decisions"])
first = json.loads(lines[0]); last = json.loads(lines[-1])
assert first["time"] == d["first_decision"] and last["time"] == d["last_decision"]
for l in lines:
    x = json.loads(l)
    assert set(x) == {"time", "realized", "pred"} and set(x["pred"]) == {"zero", "ridge@0.5", "momentum"}
    assert x["pred"]["zero"] == 0' "$T/c.json" "$T/d.jsonl"
"$CTL" backtest --csv "$T/s.csv" --window 720 --model ridge --dump /nonexistent/d.jsonl >/dev/null 2>"$T/err"
check "--dump to an unwritable path fails (1) naming it" sh -c "test $? = 1 && grep -q /nonexistent '$T/err'"

# --report
"$CTL" backtest --csv "$T/s.csv" --window 720 --model ridge@0.5,momentum --report "$T/rep" >/dev/null
check "--report writes report.json and three PNGs of 1200x800" python3 -c '
import json, os, struct, sys
d = sys.argv[1]; r = json.load(open(os.path.join(d, "report.json")))
names = [p["file"] for p in r["pictures"]]
assert names == ["cumulative_loss.png", "scatter.png", "calibration.png"], names
for n in names:
    b = open(os.path.join(d, n), "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", n
    assert struct.unpack(">II", b[16:24]) == (1200, 800), n
    assert b[-8:-4] == b"IEND" and 15000 < len(b) < 4000000, (n, len(b))
assert r["loss"] == "mse" and r["decisions"] == r["summary"]["decisions"]
assert len(r["calibration"]["momentum"]) == 10' "$T/rep"

# The topic's loss: configuration keys, predict's validation and model_resolved, backtest -c
base_conf "$T/c"
write_test_mnemonic "$T/c/key"
cat >>"$T/c/w.conf" <<EOC
[wallet main]
mnemonic_file = $T/c/key
[topic 67]
wallet = main
data_source = csv:$T/s.csv
train_span_hours = 1500
loss_method = czar
czar_alpha = 0
EOC
"$CTL" -c "$T/c/w.conf" predict --topic 67 --csv "$T/s.csv" > "$T/p.json" 2>"$T/err"
check "predict: validation reports the topic's loss (czar) for the model and zero" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); v = d["validation"]
assert d["loss_method"] == "czar" and "loss_method_note" not in d, d
assert v["loss_method"] == "czar" and v["loss"] > 0 and v["loss_zero"] > 0, v
assert "mse" in v and "da" in v and "log_aspect" in v
assert d["model"] == "default" and d["model_resolved"].startswith("ridge k=0"), d
assert "czar" in d["model_resolved_why"]' "$T/p.json"
"$CTL" -c "$T/c/w.conf" backtest --csv "$T/s.csv" --window 720 --model ridge --json > "$T/bc.json" 2>/dev/null
check "backtest -c: the topic's loss method" python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); assert d["loss"] == "czar", d["loss"]' "$T/bc.json"
sed -i 's/^loss_method = czar/loss_method = auto/' "$T/c/w.conf"
"$CTL" -c "$T/c/w.conf" predict --topic 67 --csv "$T/s.csv" > "$T/p.json" 2>"$T/err"
check "predict: auto and unknown offline is mse, and says so" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["loss_method"] == "mse" and "auto" in d["loss_method_note"], d
assert d["validation"]["loss"] == d["validation"]["mse"]' "$T/p.json"
sed -i 's/^loss_method = auto/loss_method = huber/' "$T/c/w.conf"
"$CTL" -c "$T/c/w.conf" predict --topic 67 --csv "$T/s.csv" >/dev/null 2>"$T/err"
check "a bad loss_method is refused (2) with file:line" sh -c "test $? = 2 &&
	grep -q 'w.conf:[0-9]*.*loss_method' '$T/err'"
sed -i 's/^loss_method = huber/objective = hinge/' "$T/c/w.conf"
"$CTL" -c "$T/c/w.conf" predict --topic 67 --csv "$T/s.csv" >/dev/null 2>"$T/err"
check "a bad objective is refused (2) with file:line" sh -c "test $? = 2 &&
	grep -q 'w.conf:[0-9]*.*objective' '$T/err'"
finish

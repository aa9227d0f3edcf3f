#!/bin/bash
# Issue 15: a noisy exec: predictor cannot fill the disk through the log.  One that writes
# 100000 lines (about 10 MB) to standard error, then its value: at most 100 lines of that
# are logged, the rest counted and reported in one line, and the value is still used.  One
# that writes 1000 lines of 1000 bytes: at most 16 KiB of them logged.  Run by `alloractl predict`, which logs as the trainer does, to stderr.
source "$(dirname "$0")/lib.sh"
D=$T/a
base_conf "$D"
write_test_mnemonic "$D/key" 1
gen_bars "$D/bars.csv" 200
cat >"$D/noisy.py" <<'PY'
import sys
n = 1000 if len(sys.argv) > 1 else 100
line = "noise " + "x" * (n - 6) + "\n"
for i in range(100000 if n == 100 else 1000):
    sys.stderr.write(line)
sys.stderr.flush()
print("0.0125")
PY
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = devnet-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
wallet = main
data_source = csv:$D/bars.csv
predict_timeout_s = 30
model = exec:$(command -v python3) $D/noisy.py
[topic 68]
wallet = main
data_source = csv:$D/bars.csv
predict_timeout_s = 30
model = exec:$(command -v python3) $D/noisy.py 1000
EOC
"$CTL" -c "$D/w.conf" predict --topic 67 >"$D/out.json" 2>"$D/err.txt"
rc=$?
check "alloractl predict succeeds (status $rc)" test "$rc" -eq 0
check "the predictor's value is used" test "$(json "$D/out.json" 'd["value"] + " " + d["source"]')" = "0.0125 fresh"
logged=$(grep -c 'predictor: noise x' "$D/err.txt")
bytes=$(grep 'predictor: noise x' "$D/err.txt" | wc -c)
diag "$logged lines ($bytes bytes with their prefixes) of the predictor's stderr logged"
check "at most 100 lines of its stderr logged ($logged)" test "$logged" -le 100 -a "$logged" -gt 0
check "... about 16 KiB (at most 16 KiB of its text, $bytes bytes logged with prefixes)" \
	test "$bytes" -le $((16384 + 100 * 80))
check "the rest is counted and reported once" \
	test "$(grep -c 'more lines ([0-9]* bytes) of standard error not logged' "$D/err.txt")" -eq 1
check "... with the right count" grep -q "predictor: $((100000 - logged)) more lines ($(((100000 - logged) * 100)) bytes)" "$D/err.txt"

"$CTL" -c "$D/w.conf" predict --topic 68 >"$D/out2.json" 2>"$D/err2.txt"
check "long lines: alloractl predict succeeds" test $? -eq 0
text=$(grep 'predictor: noise x' "$D/err2.txt" | sed 's/.*predictor: //' | wc -c)
logged=$(grep -c 'predictor: noise x' "$D/err2.txt")
diag "$logged lines, $text bytes of their text logged"
check "long lines: at most 16 KiB of the text logged ($text bytes, $logged lines)" \
	test "$text" -le 16384 -a "$logged" -gt 0
check "long lines: the rest reported once" grep -q "predictor: $((1000 - logged)) more lines" "$D/err2.txt"
finish

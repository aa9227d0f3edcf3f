#!/bin/bash
# Issue 2: broken configurations exit 2 with FILE:LINE: what is wrong.
source "$(dirname "$0")/lib.sh"

bad() {	# description, expected "FILE:LINE" regex, file contents
	local what=$1 expect=$2 body=$3 f="$T/bad.conf" out rc
	printf '%s\n' "$body" >"$f"
	out=$("$WORKERD" -f -c "$f" 2>&1); rc=$?
	if [ $rc -eq 2 ] && echo "$out" | grep -qE -- "$expect"; then
		ok "$what: exit 2, \"$(echo "$out" | head -1 | sed "s|$T/||")\""
	else
		not_ok "$what: exit $rc, output: $out"
	fi
	out=$("$CTL" -c "$f" start 2>&1); rc=$?
	if [ $rc -eq 2 ] && echo "$out" | grep -qE -- "$expect"; then
		ok "$what (alloractl start)"
	else
		not_ok "$what (alloractl start): exit $rc, output: $out"
	fi
}

HEAD="[global]
state_dir = $T/state
run_dir = $T/run
[chain]
rpc = http://127.0.0.1:9"

bad "unknown key" "bad.conf:7: unknown key \"colour\" in \\[topic\\]" "$HEAD
[topic 67]
colour = blue"
bad "bad number" "bad.conf:7: cache_ttl: \"12x\" is not a whole number" "$HEAD
[topic 67]
cache_ttl = 12x"
bad "number out of range" "bad.conf:4: polling_interval: \"0\"" "[global]
state_dir = $T/state
[chain]
polling_interval = 0
[topic 67]"
bad "missing topic section" "bad.conf:6: no \\[topic ID\\] section" "$HEAD"
bad "topic naming a missing wallet section" "bad.conf:8: \\[topic 67\\] names wallet \"hot\", but there is no \\[wallet hot\\]" "$HEAD
[wallet main]
mnemonic_env = MNEMONIC
[topic 67]
wallet = hot"
bad "unknown section" "bad.conf:6: unknown section \\[wallets\\]" "$HEAD
[wallets]"
bad "key outside a section" "bad.conf:1: \"rpc\" is outside any section" "rpc = http://x"
bad "bad enum" "bad.conf:3: emissions must be one of auto\\|v9\\|v10" "[topic 67]
[chain]
emissions = v11"
bad "duplicate section" "bad.conf:7: \\[topic 67\\] appears twice \\(first at line 6\\)" "$HEAD
[topic 67]
[topic 67]"
bad "bad time" "bad.conf:7: competition_start: \"next tuesday\"" "$HEAD
[topic 67]
competition_start = next tuesday"
bad "syntax error" "bad.conf:7: syntax error" "$HEAD
[topic 67]
this line has no equals sign"

out=$("$WORKERD" -f -c "$T/missing.conf" 2>&1); rc=$?
check "unreadable (missing) file: exit 2 naming the file" sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'missing.conf:0: cannot read the configuration: No such file'"
printf '%s\n[topic 67]\n' "$HEAD" >"$T/noperm.conf"; chmod 000 "$T/noperm.conf"
if [ "$(id -u)" -ne 0 ]; then
	out=$("$WORKERD" -f -c "$T/noperm.conf" 2>&1); rc=$?
	check "unreadable (mode 000) file: exit 2" sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'Permission denied'"
else
	out=$("$WORKERD" -f -c "$T" 2>&1); rc=$?
	check "a directory as configuration: exit 2 naming it" sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'is a directory'"
fi
"$CTL" start --bogus >/dev/null 2>&1
check "unknown option to start: exit 2" test $? -eq 2
"$CTL" frobnicate >/dev/null 2>&1
check "unknown subcommand: exit 2" test $? -eq 2
for sub in start stop status reload keys tx predict backtest; do
	out=$("$CTL" $sub --help 2>&1); rc=$?
	check "alloractl $sub --help exits 0 with a usage line" sh -c "[ $rc -eq 0 ] && echo \"\$1\" | grep -qi usage" _ "$out"
done
out=$("$WORKERD" --help); check "allora-workerd --help exits 0" test $? -eq 0
# Configuration search: ALLORA_WORKER_CONF, then ./allora-worker.conf.
printf '%s\n[topic 67]\nbogus = 1\n' "$HEAD" >"$T/env.conf"
out=$(ALLORA_WORKER_CONF="$T/env.conf" "$CTL" status 2>&1); rc=$?
check "ALLORA_WORKER_CONF is the default configuration" sh -c "[ $rc -eq 2 ] && echo \"\$1\" | grep -q 'env.conf:7'" _ "$out"
mkdir -p "$T/cwd" && cp "$T/env.conf" "$T/cwd/allora-worker.conf"
out=$(cd "$T/cwd" && "$CTL" status 2>&1); rc=$?
check "./allora-worker.conf is found" sh -c "[ $rc -eq 2 ] && echo \"\$1\" | grep -q 'allora-worker.conf:7'" _ "$out"
finish

#!/bin/bash
# Issue 15, defect 5: the test hooks (AW_CHILD_WRAPPER, AW_TEST_CRASH,
# AW_TEST_CRASH_AFTER_SIGN) are honoured by the test build make check runs ($BUILD_DIR,
# compiled with -DAW_TEST_HOOKS) and by nothing else: the production programs
# ($PROD_BUILD_DIR: what `make`, `make install` and the package ship) ignore all three.
source "$(dirname "$0")/lib.sh"
P=${PROD_BUILD_DIR:?PROD_BUILD_DIR must be set (make check sets it)}
HOOKS="AW_CHILD_WRAPPER AW_TEST_CRASH AW_TEST_CRASH_AFTER_SIGN AW_TEST_CRASH_AFTER_LEDGER_SIGN
	AW_TEST_CRASH_IN_GROUP_COMMIT AW_TEST_GROUP_COMMIT_GATHER_MS"
progs() {
	echo "$1/allora-workerd $1/alloractl $1/libexec/allora-workerd/allora-workerd-listener" \
		"$1/libexec/allora-workerd/allora-workerd-trainer" \
		"$1/libexec/allora-workerd/allora-workerd-submitter"
}
# Every hook is in some test program (so the search below can see one) and in no
# production program.
for h in $HOOKS; do
	# shellcheck disable=SC2046
	check "the test build knows $h" sh -c 'cat "$@" | grep -aq "$0"' "$h" $(progs "$BUILD_DIR")
	for f in $(progs "$P"); do
		check "production $(basename "$f") does not contain $h" sh -c 'test -f "$1" && ! grep -aq "$0" "$1"' "$h" "$f"
	done
done
check "production --version does not say test build" sh -c "! '$P/allora-workerd' -V | grep -q test"
check "the test build's --version says so" sh -c "'$BUILD_DIR/allora-workerd' -V | grep -q 'test build'"

# A wrapper that leaves a mark when it runs.
cat >"$T/wrap.sh" <<EOS
#!/bin/sh
echo "\$@" >>"$T/wrapped"
exec "\$@"
EOS
chmod +x "$T/wrap.sh"

# The production daemon with every hook set serves a window like any other.
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
AW_CHILD_WRAPPER="$T/wrap.sh" AW_TEST_CRASH=trainer AW_TEST_CRASH_AFTER_SIGN=1 \
	start_bg "$D/daemon.log" "$P/allora-workerd" -f -c "$D/w.conf"
DPID=$BG_PID
one() { [ "$(accepted_count "$D/record.jsonl")" -ge 1 ]; }
check "production: a window is accepted with every hook set" wait_for 60 one
status_json "$D/w.conf" >"$T/s.json"
kill -TERM "$DPID"; wait "$DPID"
check "production: AW_CHILD_WRAPPER ran nothing" test ! -e "$T/wrapped"
check "production: no child was restarted (AW_TEST_CRASH, AW_TEST_CRASH_AFTER_SIGN ignored)" \
	test "$(json "$T/s.json" '" ".join(str(c["restarts"]) for c in d["children"])')" = "0 0 0"
check "production: no hook message in the log" sh -c "! grep -q 'AW_TEST_CRASH' '$D/daemon.log'"
check "production: no crash-after-sign marker" test ! -e "$D/state/.test-crash-after-sign"

# The test build honours them (the same configuration, no chain needed for this).
AW_CHILD_WRAPPER="$T/wrap.sh" AW_TEST_CRASH=trainer \
	start_bg "$D/daemon2.log" "$BUILD_DIR/allora-workerd" -f -c "$D/w.conf"
DPID=$BG_PID
crashed() { grep -q "AW_TEST_CRASH set" "$D/daemon2.log"; }
check "test build: AW_TEST_CRASH makes the trainer exit" wait_for 20 crashed
check "test build: AW_CHILD_WRAPPER ran the children" grep -q "allora-workerd-submitter" "$T/wrapped"
kill -TERM "$DPID"; wait "$DPID"
finish

#!/bin/bash
# Issue 23: the supervisor runs one program per role, found relative to its own path (never
# $PATH): from the build tree and from a `make install` tree; a missing one stops it at
# start naming the file; the role programs refuse to run by hand; ps shows each role;
# alloractl predict/backtest go through the trainer's program.
source "$(dirname "$0")/lib.sh"
P=${PROD_BUILD_DIR:-$BUILD_DIR}

D=$T/a
base_conf "$D"
cat >>"$D/w.conf" <<EOC
[chain]
chain_id = test-1
rpc = http://127.0.0.1:9
[wallet main]
mnemonic_file = $D/key
[topic 67]
wallet = main
data_source = csv:$D/bars.csv
EOC
write_test_mnemonic "$D/key"

# A supervisor copied alone: no role programs beside it.
mkdir -p "$T/alone/bin"
cp "$P/allora-workerd" "$T/alone/bin/"
# A decoy on PATH must never be used.
mkdir -p "$T/decoy/libexec/allora-workerd"
for r in listener trainer submitter; do
	printf '#!/bin/sh\ntouch %s/decoy-ran\nexit 1\n' "$T" >"$T/decoy/allora-workerd-$r"
	chmod 755 "$T/decoy/allora-workerd-$r"
done
out=$(PATH="$T/decoy:$PATH" timeout 10 "$T/alone/bin/allora-workerd" -f -c "$D/w.conf" 2>&1); rc=$?
check "without its role programs the supervisor stops at start (exit 1, got $rc)" test "$rc" -eq 1
check "naming the missing file" sh -c "echo \"\$1\" | grep -q 'the listener program $T/alone/libexec/allora-workerd/allora-workerd-listener is missing'" _ "$out"
check "and nothing on PATH was run" test ! -e "$T/decoy-ran"
check "no pid file or lock left" sh -c "! ls '$T'/run/*.pid 2>/dev/null | grep -q ."

# One role program missing from a full tree.
mkdir -p "$T/part/libexec/allora-workerd"
cp "$P/allora-workerd" "$T/part/"
cp "$P/libexec/allora-workerd/allora-workerd-listener" "$P/libexec/allora-workerd/allora-workerd-submitter" \
	"$T/part/libexec/allora-workerd/"
out=$(timeout 10 "$T/part/allora-workerd" -f -c "$D/w.conf" 2>&1); rc=$?
check "one missing (the trainer): exit 1 naming it ($rc)" sh -c "[ $rc -eq 1 ] && echo \"\$1\" | grep -q 'allora-workerd-trainer is missing'" _ "$out"

# An installed tree: bin/ and libexec/allora-workerd/ side by side.
if make -s -C "$REPO" BUILD="$P" DESTDIR="$T/inst" PREFIX=/usr install-files >"$T/install.log" 2>&1; then
	ok "make install-files into DESTDIR"
	check "the roles are installed in PREFIX/libexec/allora-workerd" test -x "$T/inst/usr/libexec/allora-workerd/allora-workerd-trainer"
	start_bg "$D/daemon.log" "$T/inst/usr/bin/allora-workerd" -f -c "$D/w.conf"
	DPID=$BG_PID
	running() { status_json "$D/w.conf" | json - '" ".join(c["state"] for c in d["children"])' | grep -qx "running running running"; }
	check "the installed supervisor runs its installed children" wait_for 20 running
	kids=$(cat /proc/"$DPID"/task/*/children 2>/dev/null)
	exes=$(for k in $kids; do readlink /proc/"$k"/exe; done | sort | tr '\n' ' ')
	check "from ../libexec/allora-workerd ($exes)" test "$exes" = \
		"$T/inst/usr/libexec/allora-workerd/allora-workerd-listener $T/inst/usr/libexec/allora-workerd/allora-workerd-submitter $T/inst/usr/libexec/allora-workerd/allora-workerd-trainer "
	names=$(for k in $kids; do tr '\0' ' ' <"/proc/$k/cmdline"; echo; done | sort | tr '\n' '|')
	check "ps shows each role by name, without arguments ($names)" test "$names" = \
		"allora-workerd-listener |allora-workerd-submitter |allora-workerd-trainer |"
	kill -TERM "$DPID"; wait "$DPID"
else
	not_ok "make install-files into DESTDIR"; sed 's/^/# /' "$T/install.log" | tail -5
fi

# The role programs are not for hands.
for r in listener trainer submitter; do
	out=$("$P/libexec/allora-workerd/allora-workerd-$r" 2>&1 </dev/null 3>&-); rc=$?
	check "allora-workerd-$r run by hand: exit 2 and says who starts it" sh -c "[ $rc -eq 2 ] && echo \"\$1\" | grep -q 'started by it'" _ "$out"
done
check "allora-workerd-trainer --version" sh -c "'$P/libexec/allora-workerd/allora-workerd-trainer' --version | grep -q '^allora-workerd-trainer '"

# alloractl backtest runs the trainer's program (alloractl maps no libxgboost).
gen_bars "$D/bars.csv" 1200
out=$("$P/alloractl" backtest --csv "$D/bars.csv" 2>&1); rc=$?
check "alloractl backtest runs the trainer's code (its answer on too few bars, exit $rc)" sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'hourly bars; at least'" _ "$out"
mkdir -p "$T/ctlonly"
cp "$P/alloractl" "$T/ctlonly/"
out=$("$T/ctlonly/alloractl" backtest --csv "$D/bars.csv" 2>&1); rc=$?
check "without the trainer's program, alloractl backtest exits 1 naming it ($rc)" sh -c "[ $rc -eq 1 ] && echo \"\$1\" | grep -q 'allora-workerd-trainer is missing'" _ "$out"
check "alloractl keys works alone (its own code)" sh -c "'$T/ctlonly/alloractl' keys show --mnemonic-file '$D/key' | grep -q '^$TEST_ADDRESS_1'"
finish

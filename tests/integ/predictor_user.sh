#!/bin/bash
# Issue 23: predictor_user = NAME.  As root, an exec: predictor runs as that user with its
# groups, in its own process group, reads BARS_CSV (a private copy) and cannot reach the
# state directory; its value is accepted on the devnet.  A state_dir open to that user, or a
# daemon without root or CAP_SETUID/CAP_SETGID, is refused at start with a clear error.
# Root only (it creates a user and a group, removed at exit).
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	ok "# SKIP needs root, useradd and setpriv (creates a user)"
	finish
fi
U=awpred$$
G=awpgrp$$
S=$(mktemp -d /tmp/aw-preduser.XXXXXX)
chmod 755 "$S"
groupadd "$G" && useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
	--user-group -G "$G" "$U" || { not_ok "creating user $U"; finish; }
trap 'userdel "$U" 2>/dev/null; groupdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null; rm -rf "$S"; _cleanup' EXIT
UID_U=$(id -u "$U"); GID_G=$(getent group "$G" | cut -d: -f3)

D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
STATE=$S/state
mkdir -m 0750 "$STATE"
sed -i "s|^state_dir = .*|state_dir = $STATE|" "$D/w.conf"
sed -i "s|^\[global\]|[global]\npredictor_user = $U|" "$D/w.conf"
mkdir -m 0777 "$S/out"
cat >"$S/pred.sh" <<EOS
#!/bin/sh
{
	echo "uid=\$(id -u) groups=\$(id -G)"
	echo "pid=\$\$ pgid=\$(ps -o pgid= -p \$\$ | tr -d ' ')"
	echo "bars=\$BARS_CSV lines=\$(wc -l <"\$BARS_CSV")"
	if ls "$STATE" >/dev/null 2>&1; then echo state=reachable; else echo state=closed; fi
} >"$S/out/report.\$\$"
echo 0.0123
EOS
chmod 755 "$S/pred.sh"
echo "model = exec:$S/pred.sh" >>"$D/w.conf"
BARS_LINES=$(wc -l <"$D/bars.csv")

start_bg "$D/daemon.log" "$WORKERD" -f -c "$D/w.conf"
DPID=$BG_PID
one() { [ "$(accepted_count "$D/record.jsonl")" -ge 1 ]; }
check "a window is accepted with the predictor's value" wait_for 60 one
kill -TERM "$DPID"; wait "$DPID"
R=$(cat "$S"/out/report.* 2>/dev/null | head -4)
diag "$(echo "$R" | tr '\n' ' ')"
check "the accepted value is the predictor's" python3 - "$D/record.jsonl" <<'PY'
import json, sys
v = [json.loads(l).get("value") for l in open(sys.argv[1])]
assert "0.0123" in v, v
PY
check "the predictor ran as $U" sh -c "echo '$R' | grep -q '^uid=$UID_U '"
check "with its groups (its supplementary group $G too)" sh -c "echo '$R' | grep '^uid=' | tr ' ' '\n' | grep -qx '$GID_G'"
check "without root's groups" sh -c "! echo '$R' | grep '^uid=' | sed 's/^uid=[0-9]* groups=//' | tr ' ' '\n' | grep -qx 0"
check "in its own process group" sh -c "echo '$R' | grep -Eq '^pid=([0-9]+) pgid=\\1\$'"
check "BARS_CSV is its private copy (/dev/fd/3), all $BARS_LINES lines readable" \
	sh -c "echo '$R' | grep -q '^bars=/dev/fd/3 lines=$BARS_LINES\$'"
check "the state directory is closed to it" sh -c "echo '$R' | grep -q '^state=closed\$'"

# A state_dir open to others: refused at start, exit status 2, saying why.
chmod 0755 "$STATE"
out=$("$WORKERD" -f -c "$D/w.conf" 2>&1); rc=$?
check "a state_dir the predictor user could reach is refused (exit 2, got $rc)" test "$rc" -eq 2
check "and the message names predictor_user and the state_dir" sh -c "echo \"\$1\" | grep -q 'predictor_user = $U could reach state_dir $STATE'" _ "$out"
chmod 0750 "$STATE"

# Not root, only CAP_SETUID and CAP_SETGID (as systemd's AmbientCapabilities= gives them):
# the trainer alone keeps them, the predictor runs as $U, and one past its deadline is
# killed (through a process of $U: the daemon has no CAP_KILL) with the fallback submitted.
DU=awdmn$$
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group "$DU" ||
	{ not_ok "creating user $DU"; finish; }
trap 'userdel "$U" 2>/dev/null; groupdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null; userdel "$DU" 2>/dev/null; groupdel "$DU" 2>/dev/null; rm -rf "$S"; _cleanup' EXIT
CP=$S/cap
mkdir -p "$CP/run"
mkdir -m 0750 "$CP/state"
cp "$D/bars.csv" "$D/key" "$CP/"
printf '#!/bin/sh\nid -u >%s/out/slow.$$\nexec sleep 30\n' "$S" >"$S/slow.sh"
chmod 755 "$S/slow.sh"
sed -e "s|^state_dir = .*|state_dir = $CP/state|" -e "s|^run_dir = .*|run_dir = $CP/run|" \
	-e "s|^mnemonic_file = .*|mnemonic_file = $CP/key|" -e "s|csv:$D/bars.csv|csv:$CP/bars.csv|" \
	-e "s|^model = .*|model = exec:$S/slow.sh|" -e "s|^predict_timeout_s = .*|predict_timeout_s = 1|" \
	"$D/w.conf" >"$CP/w.conf"
chown -R "$DU:$DU" "$CP"
chmod 0750 "$CP/state"
start_bg "$CP/daemon.log" setpriv --reuid="$DU" --regid="$DU" --init-groups \
	--inh-caps=+setuid,+setgid --ambient-caps=+setuid,+setgid \
	env -u XDG_RUNTIME_DIR -u XDG_STATE_HOME "$WORKERD" -f -c "$CP/w.conf"
CPID=$BG_PID
fallback() { grep -q '"state":"predicted".*"source":"fallback"\|"source": *"fallback".*"state": *"predicted"' "$CP/state/ledger/topic-67.jsonl" 2>/dev/null; }
slow_started() { ls "$S"/out/slow.* >/dev/null 2>&1; }
check "with capabilities only: the slow predictor started" wait_for 60 slow_started
check "as $U" sh -c "cat '$S'/out/slow.* | grep -qx '$UID_U'"
check "past its deadline the fallback is recorded" wait_for 30 fallback
gone() { ! pgrep -u "$U" >/dev/null; }
check "and the predictor ($U) was killed although the daemon is not root" wait_for 10 gone
capamb() { awk '/^CapAmb:/{print $2}' "/proc/$1/status"; }
dpid=$(pgrep -u "$DU" -x allora-workerd | head -1)
kids=$(cat /proc/"$dpid"/task/*/children 2>/dev/null)
for k in $kids; do
	n=$(cat /proc/"$k"/comm); a=$(capamb "$k")
	case $(readlink /proc/"$k"/exe) in
	*-trainer) check "the trainer keeps CAP_SETUID/CAP_SETGID (CapAmb $a)" test "$a" = 00000000000000c0 ;;
	*) check "$(basename "$(readlink /proc/"$k"/exe)") holds no capability (CapAmb $a)" sh -c "[ '$a' = 0000000000000000 ] && grep -q '^CapEff:.0000000000000000' /proc/$k/status" ;;
	esac
done
kill -TERM "$CPID" 2>/dev/null; pkill -TERM -u "$DU" -x allora-workerd 2>/dev/null; wait "$CPID" 2>/dev/null

# Without the privilege: a clear error at start (the daemon as $U itself, no capabilities).
NP=$S/np
mkdir -p "$NP"
sed -e "s|^state_dir = .*|state_dir = $NP/state|" -e "s|^run_dir = .*|run_dir = $NP/run|" \
	-e "s|^predictor_user = .*|predictor_user = nobody|" "$D/w.conf" >"$NP/w.conf"
cp "$D/key" "$NP/key"; sed -i "s|^mnemonic_file = .*|mnemonic_file = $NP/key|" "$NP/w.conf"
chown -R "$U:$U" "$NP"
out=$(setpriv --reuid="$U" --regid="$U" --clear-groups --inh-caps=-all \
	env -u XDG_RUNTIME_DIR -u XDG_STATE_HOME "$WORKERD" -f -c "$NP/w.conf" 2>&1); rc=$?
check "without root or CAP_SETUID/CAP_SETGID: exit 2 at start (got $rc)" test "$rc" -eq 2
check "saying what it needs" sh -c "echo \"\$1\" | grep -q 'needs root or the capabilities CAP_SETUID and CAP_SETGID'" _ "$out"
finish

#!/bin/bash
# Issue 15: no process of the daemon's own uid reads the mnemonic from the supervisor.  The
# daemon and a reader run as one unprivileged uid (a test user made with useradd; setpriv
# drops to it): reading the sealed memfd through /proc/<supervisor>/fd/N and reading
# /proc/<supervisor>/mem both fail, while the same reader does read a dumpable child's
# memory (the listener's: the reader and the uid are right).  Root is needed to make the
# user and to switch to it: skipped otherwise.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP not root: cannot create a test user and switch to it (useradd, setpriv)"
	finish
fi
if ! command -v setpriv >/dev/null || ! command -v useradd >/dev/null; then
	ok "# SKIP setpriv or useradd missing"
	finish
fi
USR=aw-unpriv
id -u "$USR" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$USR" \
	2>/dev/null || id -u "$USR" >/dev/null 2>&1 || { not_ok "useradd $USR"; finish; }
UU=$(id -u "$USR")
UG=$(id -g "$USR")
U=$(mktemp -d /tmp/aw-unpriv.XXXXXX)
chmod 755 "$U"
trap '_cleanup; [ -f "$U/run/w.pid" ] && kill -TERM "$(cat "$U/run/w.pid")" 2>/dev/null; rm -rf "$U"' EXIT
as_user() {
	setpriv --reuid="$UU" --regid="$UG" --clear-groups env HOME="$U" \
		XDG_RUNTIME_DIR="$U/xdg-run" XDG_STATE_HOME="$U/xdg-state" "$@"
}

D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 10 --window 6 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$U/a" "$DEVNET_PORT" 67
sed -i -e "s|^run_dir = .*|run_dir = $U/run|" -e "s|^mnemonic_file = .*|mnemonic_env = MNEMONIC|" \
	"$U/a/w.conf"
mkdir -p "$U/run" "$U/xdg-run"
chown -R "$UU:$UG" "$U"
chmod 700 "$U/run" "$U/xdg-run"

check "the daemon starts as $USR with MNEMONIC in its environment" \
	as_user env MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$U/a/w.conf" start
st=$(as_user "$CTL" -c "$U/a/w.conf" status --json)
SUP=$(echo "$st" | json - 'd["pid"]')
LST=$(echo "$st" | json - '[c["pid"] for c in d["children"] if c["role"] == "listener"][0]')
if [ -z "$SUP" ] || [ -z "$LST" ]; then
	not_ok "the daemon's processes are known"; finish
fi
check "the supervisor runs as $USR" test "$(awk '/^Uid:/ {print $2}' /proc/"$SUP"/status)" -eq "$UU"
# As root: which descriptor is the memfd, and an address the supervisor has mapped.
N=$(for f in /proc/"$SUP"/fd/*; do
	[ "$(readlink "$f")" = "/memfd:allora-mnemonics (deleted)" ] && basename "$f"
done | head -1)
check "the supervisor holds the sealed memfd (fd ${N:-none})" test -n "$N"
check "root reads it (the memfd holds the mnemonic)" grep -q "$TEST_MNEMONIC_1" "/proc/$SUP/fd/${N:-x}"
addr_of() {	# PID: the start of its first readable mapping (its program's), in decimal
	local a
	a=$(awk '$2 ~ /^r/ { split($1, a, "-"); print a[1]; exit }' "/proc/$1/maps")
	[ -n "$a" ] && printf '%d\n' "0x$a"
}
SA=$(addr_of "$SUP")
LA=$(addr_of "$LST")
check "both have memory mapped (${SA:-none}, ${LA:-none})" test -n "$SA" -a -n "$LA"
readmem() {	# PID ADDR: 16 bytes of its memory, as the test user
	as_user dd if="/proc/$1/mem" bs=16 count=1 skip="$2" iflag=skip_bytes status=none | wc -c |
		grep -qx 16
}
check "control: $USR reads the listener's memory (/proc/$LST/mem)" readmem "$LST" "$LA"
readfd() { as_user cat "/proc/$1/fd/$2" 2>/dev/null | grep -q .; }
not() { ! "$@"; }
check "$USR cannot read the sealed memfd through /proc/$SUP/fd/$N" not readfd "$SUP" "${N:-x}"
check "$USR cannot read /proc/$SUP/mem" not readmem "$SUP" "$SA"
check "$USR cannot list the supervisor's descriptors" not as_user ls "/proc/$SUP/fd"
check "stop" as_user "$CTL" -c "$U/a/w.conf" stop
finish

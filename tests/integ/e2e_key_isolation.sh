#!/bin/bash
# Issue 6: the private key and the mnemonic exist only in the submitter.  With the daemon
# running, search /proc/<pid>/mem of the supervisor, listener and trainer for the private key
# bytes and the mnemonic text: not found; found in the submitter (the search works).
# Once with a mnemonic file, once with MNEMONIC in the environment.
source "$(dirname "$0")/lib.sh"
if [ "${SANITIZE:-}" = 1 ]; then
	# ASan reserves terabytes of shadow and allocator space, where the heap then lives: a
	# full scan of /proc/<pid>/mem is impractical, a partial one would prove nothing.
	ok "# SKIP under SANITIZE=1 (ASan's address space cannot be scanned); the plain build runs it"
	finish
fi
# The test-only key of TEST_MNEMONIC_1 at m/44'/118'/0'/0/0 (tests/vectors/cosmos-keys.json).
PRIV=c4a48e2fce1481cd3294b4490f6678090ea98d3d0e5cd984558ab0968741b104
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 10 --window 6 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }

search() {	# conf label
	local pids
	pids=$(status_json "$1" | json - '" ".join(c["role"] + ":" + str(c["pid"]) for c in d["children"]) + " supervisor:" + str(d["pid"])')
	python3 - "$PRIV" "$TEST_MNEMONIC_1" $pids <<'PY'
import re, sys
priv = bytes.fromhex(sys.argv[1]); mnem = sys.argv[2].encode()
found = {}
for arg in sys.argv[3:]:
    role, pid = arg.split(":")
    hits = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            lo, hi, perm = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            if "r" not in perm or "[vvar]" in line or "[vsyscall]" in line:
                continue
            pos, tail = lo, b""
            while pos < hi:	# 16 MiB at a time, overlapping by a needle's length
                try:
                    mem.seek(pos); chunk = tail + mem.read(min(hi - pos, 1 << 24))
                except OSError:
                    break
                if priv in chunk: hits.add("key")
                if mnem in chunk: hits.add("mnemonic")
                tail = chunk[-len(mnem):]
                pos += 1 << 24
    found[role] = hits
    print(role, pid, sorted(hits))
bad = [r for r in ("supervisor", "listener", "trainer") if found.get(r)]
ok_sub = "key" in found.get("submitter", set())
sys.exit(0 if not bad and ok_sub else 1)
PY
}

e2e_conf "$D" "$DEVNET_PORT" 67
check "start with a mnemonic file" "$CTL" -c "$D/w.conf" start
sleep 1
check "mnemonic file: key only in the submitter" search "$D/w.conf"
"$CTL" -c "$D/w.conf" stop >/dev/null

sed -i "s|^mnemonic_file = .*|mnemonic_env = MNEMONIC|" "$D/w.conf"
MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$D/w.conf" start >/dev/null
check "started with MNEMONIC in the environment" "$CTL" -c "$D/w.conf" status
sleep 1
check "MNEMONIC: key and mnemonic only in the submitter" search "$D/w.conf"
spid=$(status_json "$D/w.conf" | json - 'd["pid"]')
check "MNEMONIC is not in the supervisor's environment" sh -c "! tr '\0' '\n' </proc/$spid/environ | grep -q '^MNEMONIC='"
for role in listener trainer submitter; do
	p=$(status_json "$D/w.conf" | json - "[c['pid'] for c in d['children'] if c['role']=='$role'][0]")
	check "MNEMONIC is not in the $role's environment" sh -c "! tr '\0' '\n' </proc/$p/environ | grep -q '^MNEMONIC='"
done
"$CTL" -c "$D/w.conf" stop >/dev/null
finish

#!/bin/bash
# Issues 6 and 15: the private key and the mnemonic exist only in the submitter, in every
# start mode.  With the daemon running, search /proc/<pid>/mem of the supervisor, listener
# and trainer for the private key bytes and the mnemonic text: not found; found in the
# submitter (the search works).  And /proc/<pid>/environ of every process of the daemon
# holds no variable named like a mnemonic nor the mnemonic's text; TIINGO_API_KEY reaches
# the trainer and no other child.  Start modes: `alloractl start` with a mnemonic file, with
# MNEMONIC named by the wallet, with an exported MNEMONIC no wallet names, with an env_file
# holding MNEMONIC while the wallet reads a file; `allora-workerd -f`; the environment
# systemd builds from EnvironmentFile=; a .env alone.
source "$(dirname "$0")/lib.sh"
# The test-only key of TEST_MNEMONIC_1 at m/44'/118'/0'/0/0 (tests/vectors/cosmos-keys.json).
PRIV=c4a48e2fce1481cd3294b4490f6678090ea98d3d0e5cd984558ab0968741b104
D=$T/a
mkdir -p "$D"
start_devnet "$D" --chain-id devnet-1 --block-ms 300 --topics 67 --epoch 10 --window 6 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }

# pids CTL-ARGS...: "role:pid ..." of the daemon's processes, the supervisor last.
pids() {
	"$CTL" "$@" status --json | json - '" ".join(c["role"] + ":" + str(c["pid"]) for c in d["children"]) + " supervisor:" + str(d["pid"])'
}

# search "role:pid ...": the key and the mnemonic in the submitter's memory only.
search() {
	if [ "${SANITIZE:-}" = 1 ]; then
		# ASan reserves terabytes of shadow and allocator space, where the heap then
		# lives: a full scan of /proc/<pid>/mem is impractical, a partial one would
		# prove nothing.  The plain build runs it; the environment checks run here too.
		return 0
	fi
	python3 - "$PRIV" "$TEST_MNEMONIC_1" "$@" <<'PY'
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
    print("#", role, pid, sorted(hits))
bad = [r for r in ("supervisor", "listener", "trainer") if found.get(r)]
ok_sub = "key" in found.get("submitter", set())
sys.exit(0 if not bad and ok_sub else 1)
PY
}

# environ_clean "role:pid ...": no process's environment block names or holds a mnemonic;
# TIINGO_API_KEY (when the daemon had one) in the trainer's alone among the children.
environ_clean() {
	python3 - "$TEST_MNEMONIC_1" "${TIINGO:-}" "$@" <<'PY'
import os, sys
mnem = sys.argv[1].encode(); tiingo = sys.argv[2].encode()
sanitize = os.environ.get("SANITIZE") == "1"	# ASan builds pass their *SAN_OPTIONS on
bad = []
for arg in sys.argv[3:]:
    role, pid = arg.split(":")
    raw = open(f"/proc/{pid}/environ", "rb").read()
    names = [e.split(b"=", 1)[0] for e in raw.split(b"\0") if e]
    if mnem in raw:
        bad.append(f"{role}: the mnemonic's text")
    bad += [f"{role}: {n.decode()}" for n in names if b"MNEMONIC" in n.upper()]
    if tiingo and role in ("listener", "submitter") and tiingo in raw:
        bad.append(f"{role}: TIINGO_API_KEY")
    if tiingo and role == "trainer" and b"TIINGO_API_KEY=" + tiingo not in raw.split(b"\0"):
        bad.append("trainer: no TIINGO_API_KEY")
    if role in ("listener", "trainer", "submitter"):
        extra = [n.decode() for n in names if n not in (b"PATH", b"HOME", b"TZ", b"LANG",
                 b"TIINGO_API_KEY") and not n.startswith(b"LC_")
                 and not n.startswith(b"AW_TEST_CRASH")
                 and not (sanitize and n.endswith(b"SAN_OPTIONS"))]
        if extra:
            bad.append(f"{role}: variables outside the allow-list: {extra}")
for b in bad:
    print("#", b)
sys.exit(1 if bad else 0)
PY
}

# isolated WHAT CTL-ARGS...: both checks on the running daemon, then stop it.
isolated() {
	local what=$1 p; shift
	if ! p=$(pids "$@") || [ -z "$p" ]; then
		not_ok "$what: daemon running"; return
	fi
	if [ "${SANITIZE:-}" = 1 ]; then
		ok "# SKIP $what: memory not scanned under SANITIZE=1"
	else
		check "$what: key and mnemonic only in the submitter's memory" search $p
	fi
	check "$what: no mnemonic in any process's environment" environ_clean $p
	"$CTL" "$@" stop >/dev/null
}

ready() { "$CTL" "$@" status --json 2>/dev/null | json - 'd["ready"]' | grep -qx True; }

e2e_conf "$D" "$DEVNET_PORT" 67
cp "$D/w.conf" "$D/file.conf"

# 1. alloractl start, the wallet reads a mnemonic file.
check "start with a mnemonic file" "$CTL" -c "$D/file.conf" start
isolated "mnemonic file" -c "$D/file.conf"

# 2. alloractl start, MNEMONIC in the shell's environment, named by the wallet; the
# Tiingo key reaches the trainer only.
sed "s|^mnemonic_file = .*|mnemonic_env = MNEMONIC|" "$D/file.conf" >"$D/env.conf"
check "start with MNEMONIC in the environment" env MNEMONIC="$TEST_MNEMONIC_1" \
	TIINGO_API_KEY=tiingo-test-secret-15 "$CTL" -c "$D/env.conf" start
TIINGO=tiingo-test-secret-15 isolated "MNEMONIC named by the wallet" -c "$D/env.conf"

# 3. An exported MNEMONIC (and another MNEMONIC-like variable) that no wallet names.
check "start with an exported MNEMONIC no wallet names" env MNEMONIC="$TEST_MNEMONIC_1" \
	OLD_WALLET_MNEMONIC="$TEST_MNEMONIC_1" "$CTL" -c "$D/file.conf" start
isolated "unused MNEMONIC" -c "$D/file.conf"

# 4. env_file holding MNEMONIC while the wallet reads a mnemonic file.
( umask 077; printf 'MNEMONIC="%s"\n' "$TEST_MNEMONIC_1" >"$D/secrets.env" )
sed "s|^\[global\]|[global]\nenv_file = $D/secrets.env|" "$D/file.conf" >"$D/envfile.conf"
check "start with an env_file holding MNEMONIC, the wallet reading a file" \
	"$CTL" -c "$D/envfile.conf" start
isolated "env_file MNEMONIC unused" -c "$D/envfile.conf"

# 5. allora-workerd -f (MNEMONIC named by the wallet).
start_bg "$D/fg.log" env MNEMONIC="$TEST_MNEMONIC_1" "$WORKERD" -f -c "$D/env.conf"
check "allora-workerd -f is ready" wait_for 20 ready -c "$D/env.conf"
isolated "allora-workerd -f" -c "$D/env.conf"

# 6. As systemd runs the unit: an environment of its own making (env -i) with the
# variables of EnvironmentFile= in it, the wallet reading a file (the credential).
start_bg "$D/unit.log" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$D" \
	XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" INVOCATION_ID=0123456789abcdef \
	MNEMONIC="$TEST_MNEMONIC_1" TIINGO_API_KEY=tiingo-from-envfile \
	"$WORKERD" -f -c "$D/file.conf"
check "systemd-style start (EnvironmentFile= variables) is ready" wait_for 20 ready -c "$D/file.conf"
TIINGO=tiingo-from-envfile isolated "EnvironmentFile= MNEMONIC unused" -c "$D/file.conf"

# 7. A .env alone (the Python worker's way), started from its directory.
mkdir -p "$D/dotenv"
( umask 077; cat >"$D/dotenv/.env" <<EOC
# test-only mnemonic: never fund it on a real network
MNEMONIC="$TEST_MNEMONIC_1"
TOPIC_ID=67
ALLORA_RPC=http://127.0.0.1:$DEVNET_PORT
ALLORA_CHAIN_ID=devnet-1
EOC
)
dctl() { (cd "$D/dotenv" && "$CTL" --state-dir "$D/dotenv/state" --run-dir "$T/run" "$@"); }
check "start with a .env alone" dctl start
if p=$(cd "$D/dotenv" && pids --state-dir "$D/dotenv/state" --run-dir "$T/run"); then
	[ "${SANITIZE:-}" = 1 ] && ok "# SKIP .env alone: memory not scanned under SANITIZE=1" ||
		check ".env alone: key and mnemonic only in the submitter's memory" search $p
	check ".env alone: no mnemonic in any process's environment" environ_clean $p
else
	not_ok ".env alone: daemon running"
fi
dctl stop >/dev/null
finish

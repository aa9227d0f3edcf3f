#!/bin/bash
# Issue 23 (make check-deb): the Debian package.  Builds it (scripts/deb.sh: dpkg-buildpackage
# in a temporary copy, lintian without errors), inspects it (dpkg-deb -c and -I), installs
# it, runs the installed daemon as the package's user allora-worker against the devnet until
# one window is accepted, and purges it, leaving only what README ("The Debian package")
# says is kept.  Skipped, with the reason, where dpkg-buildpackage cannot run or not root.
source "$(dirname "$0")/../integ/lib.sh"
for t in dpkg-buildpackage dh lintian dpkg setpriv; do
	command -v "$t" >/dev/null 2>&1 || { ok "# SKIP $t is missing (scripts/deps.sh --deb)"; finish; }
done
if [ "$(id -u)" -ne 0 ]; then
	ok "# SKIP installing a package needs root"
	finish
fi
if dpkg-query -W -f='${Status}' allora-workerd 2>/dev/null | grep -q installed; then
	ok "# SKIP allora-workerd is installed on this machine: not replacing it"
	finish
fi
had_user=0; getent passwd allora-worker >/dev/null && had_user=1
had_state=0; [ -e /var/lib/allora-worker ] && had_state=1
R=$(mktemp -d /tmp/aw-deb-run.XXXXXX)
deb_cleanup() {
	[ -n "${DPID:-}" ] && kill -TERM "$DPID" 2>/dev/null
	dpkg-query -W allora-workerd >/dev/null 2>&1 && dpkg --purge allora-workerd >/dev/null 2>&1
	[ "$had_state" = 0 ] && rm -rf /var/lib/allora-worker /run/allora-worker
	[ "$had_user" = 0 ] && { userdel allora-worker 2>/dev/null; groupdel allora-worker 2>/dev/null; }
	rm -rf "$R"
	_cleanup
}
trap deb_cleanup EXIT

# --- build -------------------------------------------------------------------------------
O=$T/out
if ! BUILD_DIR=$O "$REPO/scripts/deb.sh" 2>"$T/deb.err"; then
	not_ok "make deb's script builds the package"; sed 's/^/# /' "$T/deb.err" | tail -20
	finish
fi
ok "the package builds (dpkg-buildpackage in a temporary copy)"
V=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
A=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$O/allora-workerd_${V}_${A}.deb
check "it is named allora-workerd_${V}_${A}.deb" test -f "$DEB"
check "lintian reports no error" sh -c "! grep -q '^E:' '$O/lintian.txt'"
grep -E '^(E|W):' "$O/lintian.txt" | sed 's/^/# lintian: /'

# --- inspect -----------------------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$T/files"
for f in /usr/bin/allora-workerd /usr/bin/alloractl \
	/usr/libexec/allora-workerd/allora-workerd-listener \
	/usr/libexec/allora-workerd/allora-workerd-trainer \
	/usr/libexec/allora-workerd/allora-workerd-submitter \
	/usr/share/man/man8/allora-workerd.8.gz /usr/share/man/man8/alloractl.8.gz \
	/usr/share/man/man5/allora-worker.conf.5.gz \
	/lib/systemd/system/allora-workerd.service /lib/systemd/system/allora-workerd@.service \
	/etc/allora-worker/allora-worker.conf /etc/logrotate.d/allora-workerd \
	/usr/lib/sysusers.d/allora-workerd.conf /usr/lib/tmpfiles.d/allora-workerd.conf \
	/usr/share/doc/allora-workerd/examples/predictor.py \
	/usr/share/doc/allora-workerd/examples/model_server.py \
	/usr/share/doc/allora-workerd/allora-worker.env.example /usr/share/doc/allora-workerd/copyright; do
	check "dpkg-deb -c: $f" grep -qx "$f" "$T/files"
done
check "dpkg-deb -c: no test tool (allora-devnet)" sh -c "! grep -q devnet '$T/files'"
dpkg-deb -I "$DEB" >"$T/info"
dpkg-deb -f "$DEB" Depends >"$T/depends"
for p in libc6 libevent-2.1-7 libjansson4 libsecp256k1-1 libssl3 libprotobuf-c1 libwslay1 \
	libinih1; do
	check "dpkg-deb -I: Depends (from shlibs) names $p" grep -q "\\b$p\\b" "$T/depends"
done
# Loaded at run time (dlopen), so named by hand in debian/control (HACKING.md).
for p in libcurl4 libxgboost0 libcairo2 libfontconfig1; do
	check "dpkg-deb -I: Depends (by hand, dlopen) names $p" grep -q "\\b$p\\b" "$T/depends"
done
check "dpkg-deb -I: the configuration is a conffile" sh -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xOf - ./conffiles | grep -qx /etc/allora-worker/allora-worker.conf"
dpkg-deb -x "$DEB" "$T/x"
check "the packaged unit runs /usr/bin/allora-workerd" grep -q '^ExecStart=/usr/bin/allora-workerd ' "$T/x/lib/systemd/system/allora-workerd.service"
check "the packaged unit is hardened as etc/'s (same directives)" bash -c "diff <(grep -E '^(NoNewPrivileges|ProtectSystem|ProtectHome|PrivateTmp|CapabilityBoundingSet|MemoryDenyWriteExecute|RestrictAddressFamilies|SystemCallArchitectures)=' '$REPO/etc/allora-workerd.service') <(grep -E '^(NoNewPrivileges|ProtectSystem|ProtectHome|PrivateTmp|CapabilityBoundingSet|MemoryDenyWriteExecute|RestrictAddressFamilies|SystemCallArchitectures)=' '$T/x/lib/systemd/system/allora-workerd.service')"
check "the packaged programs hold no test hook" sh -c "! grep -aqE 'AW_CHILD_WRAPPER|AW_TEST_CRASH' '$T'/x/usr/bin/* '$T'/x/usr/libexec/allora-workerd/*"

# --- install -----------------------------------------------------------------------------
check "dpkg -i installs it" sh -c "dpkg -i '$DEB' >'$T/install.log' 2>&1" || sed 's/^/# /' "$T/install.log"
check "the system user allora-worker exists (sysusers.d)" sh -c 'u=$(id -u allora-worker) && [ "$u" -lt 1000 ]'
check "/var/lib/allora-worker belongs to it, 0750 (tmpfiles.d)" test "$(stat -c '%U %a' /var/lib/allora-worker 2>/dev/null)" = "allora-worker 750"
check "/run/allora-worker belongs to it, 0700" test "$(stat -c '%U %a' /run/allora-worker 2>/dev/null)" = "allora-worker 700"
check "the unit is not enabled (--no-enable)" sh -c '! ls /etc/systemd/system/*.wants/allora-workerd.service 2>/dev/null | grep -q .'
check "the installed alloractl runs" sh -c '/usr/bin/alloractl --version | grep -q "^alloractl "'
check "the installed alloractl finds the trainer for backtest" sh -c '/usr/bin/alloractl backtest --help >/dev/null'

# --- run as allora-worker against the devnet ----------------------------------------------
D=$R/w
mkdir -p "$D"
chmod 755 "$R"
start_devnet "$D" --chain-id devnet-1 --block-ms 200 --topics 67 --epoch 6 --window 4 \
	--account "$TEST_ADDRESS_1:100000000000" || { not_ok "devnet"; finish; }
e2e_conf "$D" "$DEVNET_PORT" 67
sed -i -e "s|^state_dir = .*|state_dir = /var/lib/allora-worker/test|" \
	-e "s|^run_dir = .*|run_dir = /run/allora-worker|" \
	-e "s|^metrics_listen = .*|metrics_listen = 127.0.0.1:0|" "$D/w.conf"
chown -R allora-worker:allora-worker "$D"
setpriv --reuid=allora-worker --regid=allora-worker --init-groups --inh-caps=-all \
	env -u XDG_RUNTIME_DIR -u XDG_STATE_HOME HOME=/var/lib/allora-worker \
	/usr/bin/allora-workerd -f -c "$D/w.conf" >"$T/daemon.log" 2>&1 &
DPID=$!
one() { [ "$(accepted_count "$D/record.jsonl")" -ge 1 ]; }
if check "the installed daemon, as allora-worker, gets a window accepted" wait_for 60 one; then :; else
	sed 's/^/# /' "$T/daemon.log" | tail -20
fi
kids=$(cat /proc/"$DPID"/task/*/children 2>/dev/null)
exes=$(for k in $kids; do readlink /proc/"$k"/exe; done | sort | tr '\n' ' ')
check "its children are the installed role programs ($exes)" test "$exes" = \
	"/usr/libexec/allora-workerd/allora-workerd-listener /usr/libexec/allora-workerd/allora-workerd-submitter /usr/libexec/allora-workerd/allora-workerd-trainer "
check "every process runs as allora-worker" sh -c "for p in $DPID $kids; do [ \"\$(stat -c %U /proc/\$p)\" = allora-worker ] || exit 1; done"
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
check "it stops cleanly on SIGTERM (status $rc)" test "$rc" -eq 0

# --- purge -------------------------------------------------------------------------------
check "dpkg --purge removes it" sh -c "dpkg --purge allora-workerd >'$T/purge.log' 2>&1"
for f in /usr/bin/allora-workerd /usr/bin/alloractl /usr/libexec/allora-workerd \
	/etc/allora-worker/allora-worker.conf /etc/logrotate.d/allora-workerd \
	/lib/systemd/system/allora-workerd.service /usr/lib/sysusers.d/allora-workerd.conf; do
	check "purged: $f" test ! -e "$f"
done
check "kept (README): /var/lib/allora-worker with the ledger" test -s /var/lib/allora-worker/test/ledger/topic-67.jsonl
check "kept (README): the allora-worker user" getent passwd allora-worker
finish

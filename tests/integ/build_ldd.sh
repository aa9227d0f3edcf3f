#!/bin/bash
# Issue 23: every program links only what its role uses.  The NEEDED entries of the
# production programs match HACKING.md's table ("What each program links") exactly, ldd's
# closure keeps libxgboost/libstdc++ in the trainer and libsecp256k1 in the submitter and
# alloractl, and no program defines a symbol of another role's library.
source "$(dirname "$0")/lib.sh"
P=${PROD_BUILD_DIR:-$BUILD_DIR}
LX=$P/libexec/allora-workerd

prog_path() {
	case $1 in
	allora-workerd | alloractl) echo "$P/$1" ;;
	*) echo "$LX/$1" ;;
	esac
}

# The table between the needed-libs markers: "program lib lib ...".
table=$(sed -n '/<!-- needed-libs: begin -->/,/<!-- needed-libs: end -->/p' "$REPO/HACKING.md" |
	sed -n 's/^| `\([a-z-]*\)` | \(.*\) |$/\1 \2/p')
check "HACKING.md lists the five programs" test "$(echo "$table" | grep -c .)" -eq 5

sorted() { tr ' ' '\n' | grep -v '^$' | sort; }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vE '^lib(asan|ubsan)\.'; }

while read -r prog libs; do
	f=$(prog_path "$prog")
	if [ ! -x "$f" ]; then
		not_ok "$prog: $f is built"
		continue
	fi
	want=$(echo "$libs" | sorted)
	got=$(needed "$f" | sorted)
	if [ "$want" = "$got" ]; then
		ok "$prog links exactly what HACKING.md lists"
	else
		not_ok "$prog links exactly what HACKING.md lists"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
	fi
done <<<"$table"

closure() { ldd "$1" | awk '{print $1}'; }
for prog in allora-workerd alloractl allora-workerd-listener allora-workerd-trainer \
	allora-workerd-submitter; do
	f=$(prog_path "$prog")
	[ -x "$f" ] || continue
	c=$(closure "$f")
	if [ "$prog" != allora-workerd-trainer ]; then
		check "$prog maps no libxgboost" eval '! echo "$c" | grep -q "^libxgboost"'
		if [ "${SANITIZE:-}" = 1 ]; then
			diag "SANITIZE=1: libubsan needs libstdc++, so its absence is not checked"
		else
			check "$prog maps no libstdc++" eval '! echo "$c" | grep -q "^libstdc++"'
		fi
	fi
	case $prog in
	allora-workerd-submitter | alloractl) ;;
	*) check "$prog maps no libsecp256k1" eval '! echo "$c" | grep -q "^libsecp256k1"' ;;
	esac
done
f=$(prog_path allora-workerd)
# The supervisor talks to etcd's HTTP gateway ([cluster], issue 24) through libcurl; it maps
# no library of the roles' (models, keys, protobuf, websocket).
check "the supervisor maps no libxgboost, libsecp256k1, libprotobuf-c or libwslay" \
	eval '! closure "$f" | grep -qE "^(libxgboost|libsecp256k1|libprotobuf-c|libwslay)"'

# Code of one role's library never sits in another role's program.
defs() { nm --defined-only -g "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' | sort -u; }
for r in listener trainer submitter supervisor; do
	defs "$P/lib$r.a" >"$T/lib$r.syms"
done
for r in listener trainer submitter; do
	defs "$LX/allora-workerd-$r" >"$T/$r.prog"
	for o in listener trainer submitter supervisor; do
		[ "$o" = "$r" ] && continue
		n=$(comm -12 "$T/$r.prog" "$T/lib$o.syms" | wc -l)
		check "allora-workerd-$r holds none of lib$o's code" test "$n" -eq 0
		[ "$n" -eq 0 ] || comm -12 "$T/$r.prog" "$T/lib$o.syms" | head -5 | sed 's/^/# /'
	done
done
defs "$P/allora-workerd" >"$T/sup.prog"
for o in listener trainer submitter; do
	n=$(comm -12 "$T/sup.prog" "$T/lib$o.syms" | wc -l)
	check "allora-workerd (supervisor) holds none of lib$o's code" test "$n" -eq 0
done
defs "$P/alloractl" >"$T/ctl.prog"
# alloractl check uses the trainer's market-data code; the models stay out (predict and
# backtest run the trainer's program).
for o in model features modelspec xgb ctl_backtest trainer prediction compute; do
	if [ -f "$P/obj/trainer/$o.o" ]; then
		defs "$P/obj/trainer/$o.o" >"$T/$o.osyms"
		check "alloractl holds none of trainer/$o.c" \
			test "$(comm -12 "$T/ctl.prog" "$T/$o.osyms" | wc -l)" -eq 0
	else
		not_ok "trainer/$o.o is built"
	fi
done
check "the submitter has no HTTP model client (trainer/extpred.c)" \
	eval '! grep -q "^extpred_" "$T/submitter.prog"'
finish

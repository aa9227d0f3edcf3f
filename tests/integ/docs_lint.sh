#!/bin/bash
# mandoc -Tlint on every man page: any message fails, with one exception that depends on
# the machine, not on the page: "referenced manual not found" (mandoc looks the .Xr targets
# up in the manuals installed under /usr/share/man and /usr/local/man only).  Our own pages
# are checked here instead: every .Xr to one of ours must name a page in man/.  The page
# set, names and sections are checked as well.
source "$(dirname "$0")/lib.sh"

command -v mandoc >/dev/null || { not_ok "mandoc is installed (scripts/deps.sh)"; finish; }
pages=("$REPO"/man/*.[1-9])
expected="allora-devnet.1 allora-worker.conf.5 allora-workerd.8 alloractl.8"
have=$(for p in "${pages[@]}"; do basename "$p"; done | sort | tr '\n' ' ' | sed 's/ $//')
if [ "$have" = "$expected" ]; then
	ok "man/ holds the four pages"
else
	not_ok "man/ holds the four pages"
	diag "have: $have; expected: $expected"
fi

for p in "${pages[@]}"; do
	[ -f "$p" ] || continue
	name=$(basename "$p")
	mandoc -Tlint "$p" >"$T/lint.out" 2>&1
	# Installation-dependent lines only: the not-found cross-references and a stale
	# mandoc.db of the machine.
	grep -v -e ': STYLE: referenced manual not found: Xr ' -e '^mandoc: outdated mandoc.db' \
		"$T/lint.out" >"$T/lint.rest"
	if [ -s "$T/lint.rest" ]; then
		not_ok "mandoc -Tlint reports nothing on $name"
		sed 's/^/# /' "$T/lint.rest"
	else
		ok "mandoc -Tlint reports nothing on $name"
	fi
	grep ': STYLE: referenced manual not found: Xr ' "$T/lint.out" |
		sed 's/.*Xr \([^ ]*\) \([0-9]\).*/\1 \2/' >"$T/xr"
	bad=""
	while read -r xn xs; do
		case $xn in
		allora*) [ -f "$REPO/man/$xn.$xs" ] || bad="$bad $xn($xs)" ;;
		*) diag "$name: $xn($xs) is not installed on this machine" ;;
		esac
	done <"$T/xr"
	if [ -z "$bad" ]; then
		ok "$name: its references to our pages name pages of man/"
	else
		not_ok "$name: its references to our pages name pages of man/"
		diag "no such page in man/:$bad"
	fi
	# .Dt NAME SECTION matches the file name.
	dt=$(sed -n 's/^\.Dt \([^ ]*\) \([0-9]\).*/\1.\2/p' "$p" | tr 'A-Z' 'a-z')
	check "$name: .Dt matches the file name" [ "$dt" = "$name" ]
	# The rendered page has the sections an operator looks for.
	mandoc -Tascii "$p" 2>/dev/null | col -b >"$T/page.txt"
	missing=""
	for s in NAME DESCRIPTION "SEE ALSO"; do
		grep -q "^$s\$" "$T/page.txt" || missing="$missing $s"
	done
	case $name in
	*.8 | *.1) for s in SYNOPSIS "EXIT STATUS" EXAMPLES; do
			grep -q "^$s\$" "$T/page.txt" || missing="$missing $s"
		done ;;
	*.5) grep -q "^EXAMPLES\$" "$T/page.txt" || missing="$missing EXAMPLES" ;;
	esac
	if [ -z "$missing" ]; then
		ok "$name renders with its sections"
	else
		not_ok "$name renders with its sections"
		diag "missing:$missing"
	fi
done
# allora-workerd(8): the signals, environment variables and files the daemon relies on.
wd="$REPO/man/allora-workerd.8"
missing=""
for w in SIGTERM SIGINT SIGHUP SIGUSR2 MNEMONIC TIINGO_API_KEY TOPIC_ID ALLORA_WALLET_ADDR \
	ALLORA_RPC ALLORA_CHAIN_ID ALLORA_WORKER_CONF CREDENTIALS_DIRECTORY NOTIFY_SOCKET \
	worker_output.log worker_continuous.log; do
	grep -q -- "$w" "$wd" || missing="$missing $w"
done
if [ -z "$missing" ]; then
	ok "allora-workerd.8 documents the signals, environment and log files"
else
	not_ok "allora-workerd.8 documents the signals, environment and log files"
	diag "missing:$missing"
fi
# The Markdown documents hold each section once (issue 16: bench/README.md had "Memory" and
# "Training" twice, the older copy describing what later commits removed).
for md in README.md HACKING.md bench/README.md trainer/README.md; do
	[ -f "$REPO/$md" ] || continue
	dups=$(awk '/^```/ { code = !code; next } !code && /^#+ / { sub(/^#+ +/, ""); print }' \
		"$REPO/$md" | sort | uniq -d)
	if [ -z "$dups" ]; then
		ok "$md has no two headings with the same text"
	else
		not_ok "$md has no two headings with the same text"
		diag "repeated: $(echo "$dups" | tr '\n' ';')"
	fi
done
finish

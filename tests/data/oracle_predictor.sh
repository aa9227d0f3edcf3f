#!/bin/sh
# TEST-ONLY predictor for the devnet's reward loop (tests/integ/scores.sh).  It reads the
# devnet's own truth series (the future, which no real predictor has) and prints the value the
# devnet will realise for this window: ln(close[k + lag] / close[k]), window k =
# (NONCE - start) / epoch.  With --noise S it prints pure noise of standard deviation S.
# Usage: oracle_predictor.sh TRUTH.csv START EPOCH LAG | --noise S   (NONCE from the trainer)
if [ "$1" = "--noise" ]; then
	exec awk -v s="$2" -v seed="$NONCE" 'BEGIN {
		srand(seed); u = rand(); if (u < 1e-12) u = 1e-12
		v = s * sqrt(-2 * log(u)) * cos(6.283185307179586 * rand())
		if (v < 1e-8 && v > -1e-8) print "0"; else printf "%.8f\n", v }'
fi
exec awk -F, -v k=$(( (NONCE - $2) / $3 )) -v lag="$4" '
	/^[0-9]/ { n++; if (n == k + 1) a = $2; if (n == k + 1 + lag) { b = $2; exit } }
	END { v = log(b / a); if (v < 1e-8 && v > -1e-8) print "0"; else printf "%.8f\n", v }' "$1"

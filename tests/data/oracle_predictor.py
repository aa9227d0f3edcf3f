#!/usr/bin/env python3
# TEST-ONLY predictor for the devnet's reward loop (tests/integ/scores.sh): it reads the
# devnet's own truth series (the future, which no real predictor has) and prints the value
# the devnet will realise for this window: ln(close[k + lag] / close[k]), window k =
# (NONCE - start) / epoch.  With --noise S it prints pure noise of that size instead.
import math, os, random, sys

args = sys.argv[1:]
if args and args[0] == "--noise":
    random.seed(os.environ.get("NONCE", "0"))
    v = random.gauss(0, float(args[1]))
else:
    truth, start, epoch, lag = args[0], int(args[1]), int(args[2]), int(args[3])
    closes = [float(l.split(",")[1]) for l in open(truth) if l[0].isdigit()]
    k = (int(os.environ["NONCE"]) - start) // epoch
    v = math.log(closes[k + lag] / closes[k])
s = "%.8f" % v
if abs(v) < 1e-8:
    s = "0"
print(s)

#!/usr/bin/env python3
"""An example predictor program for allora-workerd:  model = exec:/path/to/predictor.py

The trainer runs it once per prediction (no shell), with a clean environment:
  TOPIC_ID, NONCE (the window's block height), TICKER, TARGET_HOURS, BARS_CSV (the cached
  hourly bars, "unix,close", possibly empty when there are none), PATH, HOME, LANG.
It must print one decimal number on standard output and exit 0, within predict_timeout_s.
Anything on standard error goes to the daemon's log.  A non-zero exit, no number, a number
out of the chain's bounds, or no answer in time: the topic's fallback is submitted instead,
with the reason.

This one is a toy, not a model to run for money: the log return of the last TARGET_HOURS
hours, damped by --scale (default 0.1) and printed with six decimals.  Standard library only.
"""
import math
import os
import sys


def main():
    scale = 0.1
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--scale":
        scale = float(args[1])
    elif args:
        print("usage: predictor.py [--scale K]", file=sys.stderr)
        return 2
    path = os.environ.get("BARS_CSV", "")
    hours = int(os.environ.get("TARGET_HOURS", "168"))
    if not path:
        print("no bars yet (BARS_CSV is empty)", file=sys.stderr)
        return 1
    closes = []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) == 2 and parts[0].isdigit():
                closes.append(float(parts[1]))
    if len(closes) <= hours:
        print("%d bars, %d needed" % (len(closes), hours + 1), file=sys.stderr)
        return 1
    print("%.6f" % (scale * math.log(closes[-1] / closes[-1 - hours])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

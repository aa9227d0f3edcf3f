#!/usr/bin/env python3
"""An example external forecaster for allora-workerd (forecast = exec:/path/forecaster.py).

Reads the input document from FORECAST_INPUT (allora-worker.conf(5), "forecast") and prints
one element per active inferer: the exponentially weighted mean of its recent losses (an
epoch k epochs older weighs 0.5^k), as log10 unless the topic allows negative losses --
what `forecast = builtin` does, to start your own from.  Standard library only.
"""
import json
import math
import os
import sys


def main():
    d = json.load(open(os.environ["FORECAST_INPUT"]))
    losses = d.get("losses") or []
    if not losses:
        print("no losses yet", file=sys.stderr)
        return 1
    newest = losses[0]["nonce"]
    epoch = d.get("epoch_length") or 0
    out = []
    for inferer in d.get("inferers") or []:
        sw = s = 0.0
        for k, b in enumerate(losses):
            age = (newest - b["nonce"]) / epoch if epoch else k
            for v in b["values"]:
                if v["inferer"] == inferer:
                    w = 0.5 ** age
                    sw += w
                    s += w * float(v["loss"])
                    break
        if sw == 0:
            continue
        m = s / sw
        if not d.get("allow_negative"):
            if m <= 0:
                continue
            m = math.log10(m)
        out.append({"inferer": inferer, "value": repr(m)})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

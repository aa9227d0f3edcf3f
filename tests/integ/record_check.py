#!/usr/bin/env python3
# Issue 13: what the devnet's --record and the daemon's ledgers must agree on after a run
# with faults.  Usage:
#   record_check.py RECORD LEDGER_DIR T_READY T_STOP BLOCK_MS [--allow-missing N]
#                   [--delivered-before T]
# Checks, per (topic, nonce):
#  - no second transaction: the distinct transactions that reached CheckTx, in the order
#    they first did; none may come after one that passed CheckTx (on the devnet, which
#    delivers its whole mempool every block, such a one is always delivered);
#  - at most one delivered with code 0;
#  - every delivered one with code 0 has the ledger's final state accepted (or a later
#    scored / rewarded) with that hash; no nonce delivered with code 0 is "missed" (a false
#    miss) or anything else (with --delivered-before T, those delivered up to T);
#  - every window that opened after T_READY and closed before T_STOP was accepted exactly
#    once (up to --allow-missing N of them may lack it);
#  - nothing reached CheckTx for a window the websocket invented (kind "fake_window").
# Prints a summary line; exits non-zero with the reason on the first failure.
import glob, json, os, sys

rec_path, ledger_dir = sys.argv[1], sys.argv[2]
t_ready, t_stop, block_s = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]) / 1000
allow_missing = int(sys.argv[sys.argv.index("--allow-missing") + 1]) if "--allow-missing" in sys.argv else 0
delivered_before = float(sys.argv[sys.argv.index("--delivered-before") + 1]) if "--delivered-before" in sys.argv else None

recs = [json.loads(l) for l in open(rec_path) if l.strip()]
tx = [r for r in recs if r.get("kind") == "tx" and r.get("nonce") is not None]
fails = []

order, passed, delivered = {}, {}, {}
for r in tx:
    k = (r["topic"], r["nonce"])
    if r["stage"] == "checktx":
        hs = order.setdefault(k, [])
        if r["txhash"] not in hs:
            hs.append(r["txhash"])
        if r["code"] == 0:
            passed.setdefault(k, set()).add(r["txhash"])
    elif r["stage"] == "deliver":
        delivered.setdefault(k, []).append(r)

second = []
for k, hs in order.items():
    first_ok = next((i for i, h in enumerate(hs) if h in passed.get(k, ())), None)
    if first_ok is not None and first_ok < len(hs) - 1:
        second.append((k, hs))
if second:
    fails.append(("second transaction for a nonce whose first passed CheckTx", second[:3]))

accepted = {}
for k, ds in delivered.items():
    ok = [d["txhash"] for d in ds if d["code"] == 0]
    if len(ok) > 1:
        fails.append(("accepted twice", k, ok))
    if ok:
        accepted[k] = ok[0]

final = {}
for path in glob.glob(os.path.join(ledger_dir, "topic-*.jsonl")):
    topic = int(os.path.basename(path)[6:-6])
    for l in open(path):
        try:
            o = json.loads(l)
        except ValueError:
            continue
        final[(topic, o["nonce"])] = o
for k, h in accepted.items():
    o = final.get(k)
    t_del = min(d["time"] for d in delivered[k] if d["code"] == 0)
    if delivered_before is not None and t_del > delivered_before:
        continue
    if o is None or o["state"] not in ("accepted", "scored", "rewarded"):
        fails.append(("delivered with code 0 but the ledger says", k,
                      None if o is None else (o["state"], o.get("reason"))))
    elif o.get("txhash") not in (None, h) and o["state"] == "accepted":
        fails.append(("the ledger accepted another hash", k, o.get("txhash"), h))

fakes = {(r["topic"], r["nonce"]) for r in recs if r.get("kind") == "fake_window"}
signed_fake = [k for k in fakes if k in order]
if signed_fake:
    fails.append(("transactions for windows the chain does not have", signed_fake))

missing, counted = [], 0
for w in recs:
    if w.get("kind") != "window":
        continue
    opened = w["time"]
    closes = opened + (w["end"] - w["height"] + 1) * block_s
    if opened < t_ready or closes > t_stop:
        continue
    counted += 1
    if (w["topic"], w["nonce"]) not in accepted:
        missing.append((w["topic"], w["nonce"], final.get((w["topic"], w["nonce"]), {}).get("state")))
if len(missing) > allow_missing:
    fails.append(("closed windows without an accepted payload", missing))

refused = sum(len(hs) - 1 for hs in order.values() if len(hs) > 1)
print("# %d windows closed while running, %d accepted, %d missing %s; %d fake windows; "
      "%d replaced transactions refused at CheckTx" % (counted, len(accepted), len(missing),
                                                       missing, len(fakes), refused))
if fails:
    for f in fails:
        print("# FAIL:", f)
    sys.exit(1)

#!/usr/bin/env python3
"""Turns the raw material of bench/run.sh into results.json and the table (bench/README.md
says what each figure means).  Standard library only.

Usage: analyze.py --raw DIR --out results.json [--tree-method hist|exact] [--quick 0|1]
"""
import argparse
import datetime
import glob
import json
import re
import os
import platform
import statistics
import subprocess
import sys
import time


def load_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


# The event log's timestamps are taken when the supervisor writes the line (children's
# events come to it as frames), so each stage ends when the supervisor has handled it.
STAGES = ("window event -> supervisor", "prediction from the cache",
          "sign (audit + ledger writes)", "group-commit syncs, ACK -> broadcast")


def ts(s):
    """Seconds since the epoch of an event-log timestamp (2026-11-28T13:14:15.123456Z)."""
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def pct(v, p):
    """Percentile p (0-100) of v, linear interpolation (numpy's default)."""
    if not v:
        return None
    s = sorted(v)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def window_run(d):
    """Latencies of one window run: devnet window record -> first broadcast_tx_sync."""
    meta = json.load(open(os.path.join(d, "meta.json")))
    rec = load_jsonl(os.path.join(d, "record.jsonl"))
    ev = load_jsonl(os.path.join(d, "events.jsonl"))
    pm = json.load(open(os.path.join(d, "procmon.json")))
    opened, bcast = {}, {}
    for r in rec:
        key = (r.get("topic"), r.get("nonce"))
        if r.get("kind") == "window":
            opened[key] = r["time"]
        elif r.get("kind") == "tx" and r.get("stage") == "checktx":
            bcast[key] = min(bcast.get(key, r["time"]), r["time"])
    source = {}
    seen = {"window_open": {}, "prediction": {}, "submission": {}}
    for e in ev:
        name = e.get("event")
        if name in seen:
            dd = e.get("data") or {}
            key = (dd.get("topic"), dd.get("nonce"))
            seen[name].setdefault(key, ts(e.get("timestamp")))
            if name == "prediction":
                source[key] = dd.get("source")
    if not opened:
        return None
    # Steady state (the warm-up has first trainings, gas simulations, connections): from
    # the first epoch after one whose windows were all answered from the cache and all
    # broadcast before the next epoch opened, and never before the third epoch.  The end:
    # windows opened in the last second before the stop may be unanswered.
    nonces = sorted({n for _, n in opened})
    topics = sorted({t for t, _ in opened})
    at = {n: min(t for (_, nn), t in opened.items() if nn == n) for n in nonces}
    start = None
    for prev, cur in zip(nonces[1:], nonces[2:]):
        if all((t, prev) in bcast and bcast[(t, prev)] < at[cur]
               and source.get((t, prev)) == "cache" for t in topics):
            start = cur
            break
    counted = [] if start is None else [
        k for k, t in opened.items() if k[1] >= start and t < meta["stop_time"] - 1.0]
    lat, missed, not_cached = [], 0, 0
    blocks = {}
    for k in counted:
        if source.get(k) not in (None, "cache"):
            not_cached += 1
        if k in bcast:
            ms = (bcast[k] - opened[k]) * 1000
            lat.append(ms)
            blocks.setdefault(k[1], []).append((opened[k], bcast[k]))
        else:
            missed += 1
            blocks.setdefault(k[1], []).append((opened[k], None))
    # Where the time goes, from the devnet's record and the daemon's event log.
    stages = {k: [] for k in STAGES}
    for k in counted:
        t = [opened[k], seen["window_open"].get(k), seen["prediction"].get(k),
             seen["submission"].get(k), bcast.get(k)]
        if all(x is not None for x in t):
            for i, name in enumerate(STAGES):
                stages[name].append((t[i + 1] - t[i]) * 1000)
    last = []
    for n, l in sorted(blocks.items()):
        if len(l) == meta["topics"] and all(b is not None for _, b in l):
            last.append((max(b for _, b in l) - min(o for o, _ in l)) * 1000)
    return {"name": meta["name"], "topics": meta["topics"], "wallets": meta["wallets"],
            "steady_from_nonce": start, "windows": len(counted), "broadcast": len(lat), "missed": missed,
            "not_cached": not_cached, "latencies_ms": lat,
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": max(lat) if lat else None,
            "last_broadcast_ms": last, "stages_ms": stages,
            "rss_kb": pm["core_rss_kb"], "pss_kb": pm["core_pss_kb"],
            "hwm_kb": pm["core_hwm_kb"], "peak_kb": pm["peak_total_kb"],
            "peak_rss_sum_kb": pm["peak_rss_sum_kb"],
            "peak_pss_kb": pm.get("peak_pss_sum_kb"), "helpers": len(pm["helpers"]),
            "max_helpers_alive": pm["max_helpers_alive"],
            "helper_hwm_kb": max([h["hwm_kb"] for h in pm["helpers"]], default=None),
            "procmon_samples": pm["samples"]}


def one_wallet(d):
    try:
        meta = json.load(open(os.path.join(d, "meta.json")))
    except OSError:
        return None
    rec = load_jsonl(os.path.join(d, "record.jsonl"))
    n = meta["nonce"]
    opened = [r["time"] for r in rec if r.get("kind") == "window" and r.get("nonce") == n]
    bc = {}
    for r in rec:
        if r.get("kind") == "tx" and r.get("stage") == "checktx" and r.get("nonce") == n:
            bc[r["topic"]] = min(bc.get(r["topic"], r["time"]), r["time"])
    if not opened or len(bc) < meta["topics"]:
        return {"complete": False, "broadcast": len(bc), "topics": meta["topics"]}
    t = sorted(bc.values())
    gaps = [(b - a) * 1000 for a, b in zip(t, t[1:])]
    return {"complete": True, "topics": meta["topics"],
            "first_broadcast_ms": (t[0] - min(opened)) * 1000,
            "last_broadcast_ms": (t[-1] - min(opened)) * 1000,
            "median_gap_ms": statistics.median(gaps)}


def idle(d):
    snaps, times = [], []
    for i in range(4):
        try:
            snaps.append(json.load(open(os.path.join(d, f"idle{i}.json"))))
            times.append(float(open(os.path.join(d, f"idle{i}.time")).read()))
        except (OSError, ValueError):
            return None
    ev = load_jsonl(os.path.join(d, "events.jsonl"))
    windows = sum(1 for e in ev if e.get("event") == "window_open")
    ahead = [e["timestamp"] for e in ev if "ahead of time" in (e.get("message") or "")]
    iv = []
    for i in range(3):
        a, b = snaps[i], snaps[i + 1]
        secs = times[i + 1] - times[i]
        pids_a = {p["pid"] for p in a["core"]}
        pids_b = {p["pid"] for p in b["core"]}
        iv.append({"seconds": secs, "same_processes": pids_a == pids_b,
                   "sched_percent": (b["sched_ns"] - a["sched_ns"]) / 1e9 / secs * 100,
                   "ticks_percent": (b["cpu_ms"] - a["cpu_ms"]) / 1000 / secs * 100})
    return {"intervals": iv, "windows_seen": windows, "refreshes_ahead_of_time": ahead,
            "sched_percent": med([x["sched_percent"] for x in iv]),
            "ticks_percent": med([x["ticks_percent"] for x in iv]),
            "rss_kb": snaps[-1]["core_rss_kb"], "pss_kb": snaps[-1]["core_pss_kb"]}


def training(d, method):
    ours = json.load(open(os.path.join(d, "ours.json")))
    sk = json.load(open(os.path.join(d, "sklearn.json")))
    data = open(os.path.join(d, "data")).read().strip()
    method = method or ours["reference_variant"]
    out = {"data": data, "tree_method": method, "reference_variant": ours["reference_variant"],
           "variants": sorted(next(iter(ours["windows"].values()))["variants"]),
           "sklearn_version": sk["sklearn"],
           "feature_check_max_abs_diff": sk["feature_check_max_abs_diff"],
           "trainer_features_max_abs_diff": ours.get("trainer_features_max_abs_diff"),
           "windows": {}}
    for w, o in ours["windows"].items():
        s = sk["windows"][w]
        vv = o["variants"]
        row = {"rows": o["rows"], "folds": o["folds"], "ridge_train_ms": o["ridge_train_ms"],
               "sklearn_train_ms": s["train_ms"], "sklearn_mse": s["mse"],
               "mse_zero": s["mse_zero"], "holdout_rows": s["holdout_rows"],
               "sklearn_fit_ms": [f["train_ms"] for f in s["fits"]], "variants": {}}
        skf = {f["T"]: f["mse"] for f in s["fits"]}
        for name, v in vv.items():
            # Paired by fold (the folds lie far apart: nearly independent): the mean of
            # (ours - sklearn) and its standard error; "worse" only when significantly so.
            d = [f["mse"] - skf[f["T"]] for f in v["fits"] if f["T"] in skf]
            se = statistics.stdev(d) / len(d) ** 0.5 if len(d) > 1 else None
            row["variants"][name] = {
                "train_ms": v["train_ms"], "mse": v["mse"],
                "speedup": s["train_ms"] / v["train_ms"],
                "mse_ratio": v["mse"] / s["mse"],
                "mse_diff_mean": statistics.mean(d), "mse_diff_se": se,
                "folds_no_worse": sum(1 for x in d if x <= 0),
                "significantly_worse": se is not None and statistics.mean(d) > 2 * se,
                "fit_ms": [f["train_ms"] for f in v["fits"]]}
        for k in ("train_ms", "mse", "speedup", "mse_ratio", "mse_diff_mean", "mse_diff_se",
                  "folds_no_worse", "significantly_worse"):
            row[k] = row["variants"][method][k]
        out["windows"][w] = row
    return out


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "commit": commit,
            "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


SYNC_RE = re.compile(r'^(?:\d+\s+)?(fsync|fdatasync|syncfs)\((\d+)<([^>]*)>\)\s*=\s*(-?\d+)'
                     r'.*<([0-9.]+)>\s*$')


def sync_run(d):
    """Syncs of the ledger and the audit log in the 10-topic run under strace (issue 25)."""
    try:
        meta = json.load(open(os.path.join(d, "meta.json")))
        lines = open(os.path.join(d, "strace.txt")).read().splitlines()
    except (OSError, ValueError):
        return None
    rec = load_jsonl(os.path.join(d, "record.jsonl"))
    windows = {(r.get("topic"), r.get("nonce")) for r in rec
               if r.get("kind") == "window" and r["time"] < meta["stop_time"]}
    out = {"ledger": [], "audit": []}
    calls = {"ledger": {}, "audit": {}}
    for l in lines:
        m = SYNC_RE.match(l)
        if not m:
            continue
        path = m.group(3)
        kind = "ledger" if "/ledger/" in path else "audit" if "/audit/" in path else None
        if kind is None:
            continue
        out[kind].append(float(m.group(5)) * 1000)
        calls[kind][m.group(1)] = calls[kind].get(m.group(1), 0) + 1
    n = len(windows)
    total = len(out["ledger"]) + len(out["audit"])
    return {"windows": n, "ledger_syncs": len(out["ledger"]), "audit_syncs": len(out["audit"]),
            "calls": calls,
            "syncs_per_window": total / n if n else None,
            "windows_per_ledger_sync": n / len(out["ledger"]) if out["ledger"] else None,
            "ledger_sync_ms_p50": pct(out["ledger"], 50), "ledger_sync_ms_p99": pct(out["ledger"], 99),
            "audit_sync_ms_p50": pct(out["audit"], 50), "audit_sync_ms_p99": pct(out["audit"], 99)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tree-method", default="",
                    help="our variant heading the figures (default: the trainer's reference)")
    ap.add_argument("--quick", default="0")
    a = ap.parse_args()

    runs = [r for r in (window_run(d) for d in sorted(glob.glob(os.path.join(a.raw, "t*-r*"))))
            if r is not None]
    by = {}
    for r in runs:
        by.setdefault(r["topics"], []).append(r)
    growth = {}
    for nt, rr in sorted(by.items()):
        lat = [x for r in rr for x in r["latencies_ms"]]
        growth[nt] = {
            "runs": len(rr), "windows": sum(r["windows"] for r in rr),
            "missed": sum(r["missed"] for r in rr),
            "not_cached": sum(r["not_cached"] for r in rr),
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": max(lat) if lat else None,
            "p50_ms_runs": [r["p50_ms"] for r in rr], "p99_ms_runs": [r["p99_ms"] for r in rr],
            "p99_ms_median_of_runs": med([r["p99_ms"] for r in rr]),
            "rss_kb": med([r["rss_kb"] for r in rr]), "pss_kb": med([r["pss_kb"] for r in rr]),
            "peak_kb": med([r["peak_kb"] for r in rr]),
            "peak_pss_kb": med([r["peak_pss_kb"] for r in rr]),
            "peak_rss_sum_kb": med([r["peak_rss_sum_kb"] for r in rr]),
            "hwm_kb": med([r["hwm_kb"] for r in rr]),
            "max_helpers_alive": max(r["max_helpers_alive"] for r in rr),
            "helper_hwm_kb": med([r["helper_hwm_kb"] for r in rr]),
            "last_broadcast_ms": med([x for r in rr for x in r["last_broadcast_ms"]]),
            "last_broadcast_blocks": sum(len(r["last_broadcast_ms"]) for r in rr),
            "stages_p50_ms": {k: pct([x for r in rr for x in r["stages_ms"][k]], 50)
                              for k in STAGES},
            "stages_p99_ms": {k: pct([x for r in rr for x in r["stages_ms"][k]], 99)
                              for k in STAGES}}
    tr = training(os.path.join(a.raw, "train"), a.tree_method)
    idl = idle(os.path.join(a.raw, "idle"))
    ow = one_wallet(os.path.join(a.raw, "one-wallet"))
    sy = sync_run(os.path.join(a.raw, "sync-t10"))
    g1, g10, g50 = growth.get(1, {}), growth.get(10, {}), growth.get(50, {})
    W = tr["windows"]

    res = {
        "latency_p50_ms": g10.get("p50_ms"),
        "latency_p99_ms": g10.get("p99_ms"),
        "latency_windows": g10.get("windows"),
        "train_ms_336h": W["336"]["train_ms"],
        "train_ms_672h": W["672"]["train_ms"],
        "train_ms_8760h": W["8760"]["train_ms"],
        "sklearn_train_ms_336h": W["336"]["sklearn_train_ms"],
        "sklearn_train_ms_672h": W["672"]["sklearn_train_ms"],
        "sklearn_train_ms_8760h": W["8760"]["sklearn_train_ms"],
        "train_speedup_336h": W["336"]["speedup"],
        "train_speedup_672h": W["672"]["speedup"],
        "train_speedup_8760h": W["8760"]["speedup"],
        "val_mse_336h": W["336"]["mse"], "sklearn_val_mse_336h": W["336"]["sklearn_mse"],
        "val_mse_672h": W["672"]["mse"], "sklearn_val_mse_672h": W["672"]["sklearn_mse"],
        "val_mse_8760h": W["8760"]["mse"], "sklearn_val_mse_8760h": W["8760"]["sklearn_mse"],
        "zero_val_mse_672h": W["672"]["mse_zero"], "zero_val_mse_8760h": W["8760"]["mse_zero"],
        "rss_total_kb": g1.get("rss_kb"),
        "rss_peak_kb": g1.get("peak_kb"),
        "pss_total_kb": g1.get("pss_kb"),
        "pss_peak_kb": g1.get("peak_pss_kb"),
        "idle_cpu_percent": idl["sched_percent"] if idl else None,
        "idle_cpu_percent_ticks": idl["ticks_percent"] if idl else None,
        "topics50_last_broadcast_ms": g50.get("last_broadcast_ms"),
        "topics50_one_wallet_last_broadcast_ms":
            ow["last_broadcast_ms"] if ow and ow.get("complete") else None,
        "syncs_per_window_10topics": sy["syncs_per_window"] if sy else None,
        "sync_10topics": sy,
        "cost_growth": {str(k): {kk: vv for kk, vv in v.items()} for k, v in growth.items()},
        "training": tr, "idle": idl, "one_wallet": ow, "machine": machine(),
        "quick": a.quick == "1",
    }
    for k in ("latency_p50_ms", "latency_p99_ms", "rss_total_kb", "rss_peak_kb",
              "idle_cpu_percent", "topics50_last_broadcast_ms"):
        if res[k] is None:
            print(f"bench: no figure for {k}", file=sys.stderr)
    json.dump(res, open(a.out, "w"), indent=1)
    print_table(res)
    return 0 if all(res[k] is not None for k in (
        "latency_p50_ms", "latency_p99_ms", "rss_total_kb", "rss_peak_kb",
        "idle_cpu_percent", "topics50_last_broadcast_ms")) else 1


def f(x, fmt="{:.1f}"):
    return "-" if x is None else fmt.format(x)


def mb(kb):
    return "-" if kb is None else f"{kb / 1024:.1f} MB"


def verdict(ok):
    return "met" if ok else "MISSED"


def print_table(r):
    m = r["machine"]
    tr = r["training"]
    W = tr["windows"]
    g = r["cost_growth"]
    rows = []

    def add(what, value, goal="", ok=None):
        rows.append((what, value, goal, "" if ok is None else verdict(ok)))

    add(f"window -> broadcast p50 (10 topics, {r['latency_windows']} windows)",
        f(r["latency_p50_ms"]) + " ms")
    add("window -> broadcast p99", f(r["latency_p99_ms"]) + " ms", "< 50 ms",
        r["latency_p99_ms"] is not None and r["latency_p99_ms"] < 50)
    names = {"336": "14 d (336 rows)", "672": "28 d (672 rows)", "8760": "1 y (8760 rows)"}
    goals = {"672": 5, "8760": 20}
    for w in ("336", "672", "8760"):
        x = W[w]
        ok = None
        if w in goals:
            ok = x["speedup"] >= goals[w] and not x["significantly_worse"]
        add(f"training {names[w]}: ours ({tr['tree_method']}) / sklearn",
            f"{x['train_ms']:.0f} / {x['sklearn_train_ms']:.0f} ms = {x['speedup']:.1f}x",
            f">= {goals[w]}x, MSE no worse" if w in goals else "", ok)
        add(f"  holdout MSE x1e3 ours / sklearn / zero",
            f"{x['mse'] * 1e3:.2f} / {x['sklearn_mse'] * 1e3:.2f} / {x['mse_zero'] * 1e3:.2f}")
        add(f"  ours - sklearn by fold x1e3 (folds ours <=)",
            f"{x['mse_diff_mean'] * 1e3:+.2f} +- {f(x['mse_diff_se'] and x['mse_diff_se'] * 1e3, '{:.2f}')}"
            f" ({x['folds_no_worse']}/{x['folds']})"
            + (" significantly worse" if x["significantly_worse"] else ""))
    other = [v for v in tr["variants"] if v != tr["tree_method"]]
    for v in other:
        s = ", ".join(f"{W[w]['variants'][v]['train_ms']:.0f} ms = "
                      f"{W[w]['variants'][v]['speedup']:.1f}x" for w in ("336", "672", "8760"))
        add(f"  ours with tree_method {v} (14 d, 28 d, 1 y)", s)
        add(f"  its holdout MSE x1e3 (ours - sklearn by fold)", ", ".join(
            f"{W[w]['variants'][v]['mse'] * 1e3:.2f} ({W[w]['variants'][v]['mse_diff_mean'] * 1e3:+.2f}"
            + ("*" if W[w]['variants'][v]['significantly_worse'] else "") + ")"
            for w in ("336", "672", "8760")))
    add("  ridge, the daemon's default model (1 y)", f"{W['8760']['ridge_train_ms']:.1f} ms")
    add("RSS of the four, steady (1 topic)", mb(r["rss_total_kb"]), "< 20 MB",
        r["rss_total_kb"] is not None and r["rss_total_kb"] < 20 * 1024)
    add("  same as PSS (shared pages counted once)", mb(r["pss_total_kb"]))
    add("RSS peak during training (1 topic, 1 y)", mb(r["rss_peak_kb"]), "< 20 MB",
        r["rss_peak_kb"] is not None and r["rss_peak_kb"] < 20 * 1024)
    add("  same as PSS (sampled every 50 ms)", mb(r["pss_peak_kb"]))
    add("idle CPU, 60 s without windows", f(r["idle_cpu_percent"], "{:.3f}") + " %", "< 0.1 %",
        r["idle_cpu_percent"] is not None and r["idle_cpu_percent"] < 0.1)
    add("50 topics, same block -> last broadcast", f(r["topics50_last_broadcast_ms"]) + " ms",
        "< 1000 ms", r["topics50_last_broadcast_ms"] is not None
        and r["topics50_last_broadcast_ms"] < 1000)
    add("  same, one wallet for all 50", f(r["topics50_one_wallet_last_broadcast_ms"], "{:.0f}")
        + " ms")
    # Issue 25 (group commit of the ledger and the audit log).
    add("window -> broadcast p99, 10 topics in one block", f(r["latency_p99_ms"]) + " ms",
        "< 5 ms", r["latency_p99_ms"] is not None and r["latency_p99_ms"] < 5)
    add("50 topics in one block -> last broadcast", f(r["topics50_last_broadcast_ms"]) + " ms",
        "< 20 ms", r["topics50_last_broadcast_ms"] is not None
        and r["topics50_last_broadcast_ms"] < 20)
    add("  same, one wallet for all 50", f(r["topics50_one_wallet_last_broadcast_ms"], "{:.0f}")
        + " ms", "< 20 ms", r["topics50_one_wallet_last_broadcast_ms"] is not None
        and r["topics50_one_wallet_last_broadcast_ms"] < 20)
    sy = r.get("sync_10topics")
    add("ledger + audit syncs per window (10 topics, strace run)",
        f(r.get("syncs_per_window_10topics"), "{:.2f}"), "< 0.3",
        r.get("syncs_per_window_10topics") is not None and r["syncs_per_window_10topics"] < 0.3)
    if sy:
        add("  ledger sync per group commit p50 / p99",
            f(sy["ledger_sync_ms_p50"], "{:.2f}") + " / " + f(sy["ledger_sync_ms_p99"], "{:.2f}")
            + f" ms ({sy['ledger_syncs']} syncs, {sy['windows']} windows)")
        add("  audit sync per group commit p50 / p99",
            f(sy["audit_sync_ms_p50"], "{:.2f}") + " / " + f(sy["audit_sync_ms_p99"], "{:.2f}")
            + f" ms ({sy['audit_syncs']} syncs)")

    w1 = max(len(x[0]) for x in rows)
    w2 = max(len(x[1]) for x in rows)
    w3 = max(len(x[2]) for x in rows)
    print(f"allora-workerd benchmark, {m['date']}, {m['commit']}: {m['nproc']} x {m['cpu']}, "
          f"Linux {m['kernel']}, load {' '.join(m['loadavg_at_end'])}"
          + (" (QUICK: not the benchmark's figures)" if r["quick"] else ""))
    print()
    print(f"{'figure':<{w1}}  {'value':<{w2}}  {'goal':<{w3}}  verdict")
    for a, b, c, d in rows:
        print(f"{a:<{w1}}  {b:<{w2}}  {c:<{w3}}  {d}".rstrip())
    print()
    print("cost growth (one wallet per topic, a window for every topic each second):")
    print(f"{'topics':>6}  {'windows':>7}  {'missed':>6}  {'p50 ms':>7}  {'p99 ms':>7}  "
          f"{'max ms':>7}  {'last of block ms':>16}  {'RSS':>8}  {'PSS':>8}  {'peak RSS':>8}  "
          f"{'peak PSS':>8}")
    for k in sorted(g, key=int):
        x = g[k]
        print(f"{k:>6}  {x['windows']:>7}  {x['missed']:>6}  {f(x['p50_ms']):>7}  "
              f"{f(x['p99_ms']):>7}  {f(x['max_ms']):>7}  {f(x['last_broadcast_ms']):>16}  "
              f"{mb(x['rss_kb']):>8}  {mb(x['pss_kb']):>8}  {mb(x['peak_kb']):>8}  "
              f"{mb(x['peak_pss_kb']):>8}")
    print()
    print("where the time goes, p50 / p99 ms (devnet record and the daemon's event log):")
    w = max(len(k) for k in STAGES)
    print(f"{'stage':<{w}}  " + "  ".join(f"{k + ' topics':>15}" for k in sorted(g, key=int)))
    for st in STAGES:
        print(f"{st:<{w}}  " + "  ".join(
            f"{f(g[k]['stages_p50_ms'][st]) + ' / ' + f(g[k]['stages_p99_ms'][st]):>15}"
            for k in sorted(g, key=int)))


if __name__ == "__main__":
    sys.exit(main())

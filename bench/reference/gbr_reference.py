#!/usr/bin/python3
"""The Python worker's training recipe with scikit-learn, timed in-process.

run_worker.py at 46676b3 (MODEL.md section 2.1) fits
GradientBoostingRegressor(n_estimators=100, max_depth=3, learning_rate=0.1) on 18 features of
hourly log returns (lags 1, 2, 3, 6, 12, 24, 48, 72 h; rolling means and sample standard
deviations over 6, 12, 24, 48, 72 h) against the 168 h forward log return.

This script reads the rows bench/train_bench.c exported (features.f64, target.f64, folds.json
in DIR), first checks that they are the worker's features by recomputing them from the CSV the
way the worker does (pandas-equivalent numpy), then fits the same folds with scikit-learn,
timing model.fit() alone with time.perf_counter() (no interpreter start-up, no imports, no
data loading), and predicts the same holdout rows.  Writes DIR/sklearn.json.

Usage: gbr_reference.py --csv FILE --dir DIR
Needs Debian's python3-sklearn (scripts/deps.sh --bench installs it).
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import GradientBoostingRegressor

LAGS = (1, 2, 3, 6, 12, 24, 48, 72)
ROLLS = (6, 12, 24, 48, 72)


def worker_features(close):
    """The worker's feature columns and target, as pandas would compute them."""
    n = len(close)
    lr = np.full(n, np.nan)
    lr[1:] = np.log(close[1:] / close[:-1])   # log(close / close.shift(1))
    cols = []
    for k in LAGS:                             # log_return.shift(k)
        c = np.full(n, np.nan)
        c[k:] = lr[:-k]
        cols.append(c)
    win = np.lib.stride_tricks.sliding_window_view
    for k in ROLLS:                            # log_return.rolling(k).mean()
        c = np.full(n, np.nan)
        c[k:] = win(lr[1:], k).mean(axis=1)
        cols.append(c)
    for k in ROLLS:                            # log_return.rolling(k).std()  (ddof=1)
        c = np.full(n, np.nan)
        c[k:] = win(lr[1:], k).std(axis=1, ddof=1)
        cols.append(c)
    y = np.full(n, np.nan)                     # log_return.shift(-168).rolling(168).sum()
    y[:-168] = np.log(close[168:] / close[:-168])
    return np.column_stack(cols), y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()

    folds = json.load(open(f"{a.dir}/folds.json"))
    n, nf = folds["n"], folds["nf"]
    X = np.fromfile(f"{a.dir}/features.f64", dtype="<f8").reshape(n, nf)
    y = np.fromfile(f"{a.dir}/target.f64", dtype="<f8")
    data = np.loadtxt(a.csv, delimiter=",", skiprows=1)
    if len(data) != n:
        sys.exit(f"gbr_reference: {a.csv} has {len(data)} rows, the export {n}")
    Xw, yw = worker_features(data[:, 1])
    ok = ~np.isnan(Xw)
    if not (np.array_equal(ok, ~np.isnan(X)) and np.allclose(X[ok], Xw[ok], rtol=1e-9, atol=1e-12)
            and np.allclose(y[~np.isnan(y)], yw[~np.isnan(yw)], rtol=1e-9, atol=1e-12)):
        sys.exit("gbr_reference: the exported rows are not the worker's features")
    feat_diff = float(np.max(np.abs(X[ok] - Xw[ok])))

    def model():
        return GradientBoostingRegressor(n_estimators=100, max_depth=3, learning_rate=0.1,
                                         random_state=42)

    # One untimed fit first, as train_bench does.
    f0 = folds["windows"][min(folds["windows"], key=int)][0]
    model().fit(X[f0["train"][0]:f0["train"][1]], y[f0["train"][0]:f0["train"][1]])

    out = {"impl": "scikit-learn GradientBoostingRegressor", "sklearn": sklearn.__version__,
           "numpy": np.__version__,
           "params": {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1,
                      "criterion": "friedman_mse", "subsample": 1.0},
           "feature_check_max_abs_diff": feat_diff, "windows": {}}
    for w, fl in folds["windows"].items():
        times, se, se0, nv, fits = [], 0.0, 0.0, 0, []
        for f in fl:
            a0, a1 = f["train"]
            h0, h1 = f["hold"]
            Xt, yt = np.ascontiguousarray(X[a0:a1]), np.ascontiguousarray(y[a0:a1])
            if np.isnan(Xt).any() or np.isnan(yt).any():
                sys.exit(f"gbr_reference: undefined values in the training rows of {w} h")
            m = model()
            t0 = time.perf_counter()
            m.fit(Xt, yt)
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            p = m.predict(X[h0:h1])
            se += float(np.sum((p - y[h0:h1]) ** 2))
            se0 += float(np.sum(y[h0:h1] ** 2))
            nv += h1 - h0
            fits.append({"T": f["T"], "train_ms": ms,
                         "mse": float(np.mean((p - y[h0:h1]) ** 2)), "pred": p.tolist()})
        out["windows"][w] = {"folds": len(fl), "rows": a1 - a0,
                             "train_ms": statistics.median(times),
                             "mse": se / nv, "mse_zero": se0 / nv, "holdout_rows": nv,
                             "fits": fits}
    json.dump(out, open(f"{a.dir}/sklearn.json", "w"), indent=1)


if __name__ == "__main__":
    main()

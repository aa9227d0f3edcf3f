/*
 * Walk-forward backtest (MODEL.md §5.3): at each decision time T (every `step` hours) a
 * model is trained on rows t in [T - h - W + 1, T - h] (the purge: every training target
 * ends by T), features come from bars <= T only, and its prediction of ln(c[T+h]/c[T]) is
 * scored against the zero baseline.
 */
#ifndef AW_BACKTEST_H
#define AW_BACKTEST_H

#include <stddef.h>

#include "model.h"

struct bt_model {
	const char	*name;
	long		 window;	/* training rows W (hours) */
	double		 lambda;
	double		 shrink;	/* k */
	double		 clip_sigma;	/* <= 0: no clip */
	int		 xgb;		/* 1: XGBoost (MODEL.md §5.2 settings), 0: ridge */
	int		 features_b;	/* 1: feature set B (features_b_at), 0: features_at */
};

struct bt_score {
	double	 mse, skill, mae, da, da_low, da_high, corr, log_aspect;
	size_t	 n_da;			/* decisions with y != 0 and a non-zero prediction */
};

enum bt_half { BT_ALL, BT_FIRST, BT_SECOND };

#define BT_MAXMODELS	4

struct bt_result {
	size_t		 decisions;
	double		 weeks;		/* independent weeks: decisions * step / h */
	size_t		 nmodels;	/* zero is models[0] */
	const char	*names[BT_MAXMODELS];
	struct bt_score	 s[BT_MAXMODELS];
};

/*
 * Runs the models (at most BT_MAXMODELS - 1) and zero on b.  Decisions start after a
 * 336 h feature warm-up, max(start_window, the longest model window) and one horizon, so
 * runs with different windows are scored on the same decisions.  -1 with err when the
 * series is too short for one decision.
 */
int	 backtest_run(const struct bars *, long horizon, long step, enum bt_half,
	    long start_window, const struct bt_model *, size_t nmodels, struct bt_result *, char *err, size_t errlen);

#endif

/*
 * Walk-forward backtest (MODEL.md §5.3): at each decision time T (every `step` hours) a
 * model is trained on rows t in [T - h - W + 1, T - h] (the purge: every training target
 * ends by T), features come from bars <= T only, and its prediction of ln(c[T+h]/c[T]) is
 * scored against the zero baseline.  The training and the output rule are the daemon's
 * (model_fit), so the backtest scores what the daemon would have submitted.
 */
#ifndef AW_BACKTEST_H
#define AW_BACKTEST_H

#include <stddef.h>

#include "model.h"

struct bt_score {
	double	 mse, skill, mae, da, da_low, da_high, corr, log_aspect;
	double	 zptae_rel;	/* mean ZPTAE / the zero baseline's */
	size_t	 n_da;		/* decisions with y != 0 and a non-zero prediction */
};

enum bt_half { BT_ALL, BT_FIRST, BT_SECOND };

#define BT_MAXMODELS	6

struct bt_result {
	size_t		 decisions;
	double		 weeks;		/* independent weeks: decisions * step / h */
	size_t		 nmodels;	/* zero is models[0] */
	const char	*names[BT_MAXMODELS];
	struct bt_score	 s[BT_MAXMODELS];
};

/*
 * ZPTAE of MODEL.md §2.3 (α 0.25, β 2, the 0.01 term to the 4th power), returns as
 * z-scores around 0 with scale sigma: |pt(y/σ) - pt(p/σ)| + (0.01 |p/σ - y/σ|)^4,
 * pt(x) = x / (1 + |x|^β)^((1 - α)/β).
 */
double	 zptae(double y, double p, double sigma);

/*
 * Runs the models (at most BT_MAXMODELS - 1; their horizon is set to `horizon`) and zero
 * on b.  Decisions start after the feature warm-up (at least 336 h), max(start_window, the
 * longest model window) and one horizon, so runs with different windows are scored on the
 * same decisions.  The ZPTAE scale at T is the standard deviation of the realised targets
 * of the rows [T - h - Ws + 1, T - h], Ws = max(720, that window).  -1 with err when the
 * series is too short for one decision.
 */
int	 backtest_run(const struct bars *, long horizon, long step, enum bt_half,
	    long start_window, const struct model_spec *, size_t nmodels, struct bt_result *,
	    char *err, size_t errlen);

#endif

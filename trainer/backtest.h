/*
 * Walk-forward backtest (MODEL.md §5.3): at each decision time T (every `step` hours) a
 * model is trained on rows t in [T - h - W + 1, T - h] (the purge: every training target
 * ends by T), features come from bars <= T only, and its prediction of ln(c[T+h]/c[T]) is
 * scored against the zero baseline under MSE, ZPTAE and CZAR (trainer/loss.h), with
 * 4-week block-bootstrap intervals.  The training and the output rule are the daemon's
 * (model_fit), so the backtest scores what the daemon would have submitted.
 */
#ifndef AW_BACKTEST_H
#define AW_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "loss.h"
#include "model.h"

struct bt_score {
	double	 mse, skill, mae, da, da_low, da_high, corr, log_aspect;
	double	 zptae_rel;	/* mean ZPTAE / the zero baseline's */
	double	 czar_rel;	/* mean CZAR (α of the options) / zero's */
	double	 loss_rel;	/* the same for the options' loss method */
	double	 mse_skill_ci[2];	/* 95 % block-bootstrap intervals */
	double	 corr_ci[2];
	double	 loss_rel_ci[2];
	size_t	 n_da;		/* decisions with y != 0 and a non-zero prediction */
};

enum bt_half { BT_ALL, BT_FIRST, BT_SECOND };

#define BT_MAXMODELS	10
#define BT_BLOCK_HOURS	672	/* bootstrap blocks of 4 weeks */
#define BT_BOOT		1000	/* bootstrap resamples */
#define BT_SEED		20260201ULL

struct bt_opts {
	enum loss_method loss;		/* loss_rel's method (MSE) */
	double		 czar_alpha;	/* CZAR's α for scoring (CZAR_ALPHA_EVAL) */
	long		 start_window;	/* H: decisions start after warm-up + H + h; <= 0: the
					 * longest model window */
	int		 keep;		/* keep the per-decision series (dump, report) */
	uint64_t	 seed;		/* of the bootstrap (BT_SEED) */
	int		 nboot;		/* resamples (BT_BOOT); 0: no intervals */
};

struct bt_result {
	size_t		 decisions;
	double		 weeks;		/* independent weeks: decisions * step / h */
	size_t		 nmodels;	/* zero is models[0] */
	const char	*names[BT_MAXMODELS];
	struct bt_score	 s[BT_MAXMODELS];
	enum loss_method loss;
	double		 czar_alpha;	/* CZAR's α used */
	long		 start_window;	/* H used */
	long		 warmup;	/* feature warm-up used */
	int64_t		 first_decision, last_decision;	/* unix s of the bars */
	/* with opts.keep: one entry per decision (backtest_free releases them) */
	int64_t		*time;
	double		*realized, *sigma;
	double		*pred[BT_MAXMODELS];
};

/* ZPTAE of MODEL.md §2.3 (loss.h's loss_zptae). */
double	 zptae(double y, double p, double sigma);

/*
 * Runs the models (at most BT_MAXMODELS - 1; their horizon is set to `horizon`) and zero
 * on b.  Decisions start after the feature warm-up (at least 336 h), H (opts->start_window,
 * else the longest model window) and one horizon, so runs with different windows are
 * scored on the same decisions.  The loss scale at T is fmat_sigma(T, H).  opts NULL: the
 * defaults above.  -1 with err (quoting the numbers used) when the series is too short.
 */
int	 backtest_run_opts(const struct bars *, long horizon, long step, enum bt_half,
	    const struct model_spec *, size_t nmodels, const struct bt_opts *,
	    struct bt_result *, char *err, size_t errlen);
/* The same with start_window and the default options. */
int	 backtest_run(const struct bars *, long horizon, long step, enum bt_half,
	    long start_window, const struct model_spec *, size_t nmodels, struct bt_result *,
	    char *err, size_t errlen);
void	 backtest_free(struct bt_result *);

#endif

/*
 * Market data, features and the ridge model of the trainer.  Pure functions: no I/O but
 * reading a CSV file and the cache files.
 */
#ifndef AW_MODEL_H
#define AW_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct bars {
	int64_t	*t;		/* unix seconds, hourly, ascending */
	double	*close;
	size_t	 n;
	size_t	 gaps;		/* missing hours inside the series */
};

/* Reads "unix,close" lines (a header line is allowed).  -1 with err (file:line). */
int	 bars_read_csv(const char *path, struct bars *, char *err, size_t errlen);
/* Parses the same from memory. */
int	 bars_parse_csv(const char *text, size_t len, const char *name, struct bars *,
	    char *err, size_t errlen);
void	 bars_free(struct bars *);

#define NFEAT	10
#define NFEAT_B	13
#define NFMAX	16

/*
 * Features at index i, from closes at or before i only (never a row from the future):
 * log returns over 1, 6, 24, 72 and 168 hours, realised volatility over 24 and 168 hours,
 * log distance from the 24 h and 168 h means, and the 24 h return of the previous day.
 * Returns -1 when i has too little history (168 h).
 */
int	 features_at(const struct bars *, size_t i, double f[NFEAT]);
/*
 * Feature set B of MODEL.md §5.2 at index i (closes at or before i only): std of hourly log
 * returns over 24, 168 and 720 h; momentum ln(c_i / c_{i-k}) / (σ720 √k) for k = 24, 168,
 * 720; ln c_i − mean(ln c) over 24, 168 and 720 h; σ24/σ720 and σ168/σ720; ln c_i − max and
 * ln c_i − min of ln c over 720 h.  -1 with less than 721 h of history or a flat σ720.
 */
int	 features_b_at(const struct bars *, size_t i, double f[NFEAT_B]);
/* ln(close[i + h] / close[i]); NAN when i + h is past the end. */
double	 target_at(const struct bars *, size_t i, long h);

struct ridge {
	int	 nf;		/* number of features */
	double	 w[NFMAX];
	double	 b;
	double	 mean[NFMAX];
	double	 sd[NFMAX];
	double	 target_sd;	/* of the training targets, for the clip */
	double	 lambda;
	size_t	 rows;
};

/*
 * Fits ridge regression on rows [from, to) whose targets end at or before `to_limit`
 * (the purge: no training target may reach past the decision time).  -1 when fewer than
 * min_rows rows were usable.
 */
int	 ridge_fit(const struct bars *, size_t from, size_t to, size_t to_limit, long horizon,
	    double lambda, size_t min_rows, struct ridge *);
/* The same on a row-major matrix X (r x ncol, ncol <= NFMAX) and targets Y. */
int	 ridge_fit_xy(const double *X, const double *Y, size_t r, int ncol, double lambda,
	    struct ridge *);
double	 ridge_predict(const struct ridge *, const double *f);

/* Gradient boosting (XGBoost C API; deterministic: seed, nthread 1, base_score 0). */
struct xgb_params {
	int	 n_trees;
	int	 max_depth;
	double	 eta, subsample, colsample, min_child_weight, lambda;
	long	 seed;
};
struct xgb;

void	 xgb_params_default(struct xgb_params *);	/* MODEL.md §5.2 */
/* X row-major rows x ncol (ncol <= 1000).  NULL with err on failure. */
struct xgb *xgb_train(const double *X, const double *Y, size_t rows, int ncol,
	    const struct xgb_params *, char *err, size_t errlen);
int	 xgb_predict(const struct xgb *, const double *x, double *out);
/* UBJSON, written to a temporary name and renamed. */
int	 xgb_save(const struct xgb *, const char *path, char *err, size_t errlen);
struct xgb *xgb_load(const char *path, int ncol, char *err, size_t errlen);
void	 xgb_free(struct xgb *);

struct validation {
	double	 mse;
	double	 mse_zero;
	double	 da;		/* directional accuracy */
	double	 log_aspect;	/* log10(sd(pred) / sd(y)) */
	size_t	 n;
};

/* Purged holdout: train on rows before (end - holdout - horizon), test on the last
 * holdout rows with complete targets. */
int	 validate(const struct bars *, size_t end, long horizon, long holdout, long span,
	    double lambda, double shrink, struct validation *);

#endif

/*
 * Market data, features and models of the trainer.  Pure functions: no I/O but reading a
 * CSV file, the bar cache and writing the model file.
 */
#ifndef AW_MODEL_H
#define AW_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "loss.h"

struct bars {
	int64_t	*t;		/* unix seconds of each bar's start, ascending */
	double	*close;
	size_t	 n;
	size_t	 gaps;		/* missing hours inside the series (as read) */
	uint32_t *bad;		/* NULL, or n + 1 running counts of hours that are no real
				 * bar (inside a long gap, see bars_regularize) */
};

#define BARS_MAX_TIME	253402300799LL	/* 9999-12-31T23:59:59Z */
/* Closes outside these are refused as garbage (their log ratios stay finite). */
#define BARS_MIN_PRICE	1e-12
#define BARS_MAX_PRICE	1e15
#define BARS_PRICE_OK(c) ((c) >= BARS_MIN_PRICE && (c) <= BARS_MAX_PRICE)

/* Reads "unix,close" lines (a header line is allowed).  -1 with err (file:line). */
int	 bars_read_csv(const char *path, struct bars *, char *err, size_t errlen);
/* Parses the same from memory. */
int	 bars_parse_csv(const char *text, size_t len, const char *name, struct bars *,
	    char *err, size_t errlen);
void	 bars_free(struct bars *);
/* Drops the bars whose hour has not ended by now (partial); returns how many. */
size_t	 bars_drop_partial(struct bars *, double now);
/*
 * Puts the bars on a regular hourly grid (anchored at the first bar; a second bar in the
 * same hour replaces the first).  Missing hours are filled with the previous close; those
 * of a gap longer than max_fill hours are marked bad, so that no feature row whose
 * lookback touches them and no target ending on them is used (MODEL.md §5.3).  When the
 * series spans more than max_hours, its oldest bars are dropped.  Returns the number of
 * hours inserted; *nbad (may be NULL) gets the number marked bad.
 */
size_t	 bars_regularize(struct bars *, long max_fill, size_t max_hours, size_t *nbad);

/* Feature sets. */
enum fset {
	FS_A,		/* 10 features (features_at) */
	FS_B,		/* MODEL.md §5.2 feature set B, 20 features (features_b_at) */
	FS_REF,		/* the Python worker's 18 features (features_ref_at) */
	FS_MOM,		/* MODEL.md §5.4 volatility-scaled 4-week momentum (features_mom_at) */
};
#define NFEAT		10
#define NFEAT_B		20
#define NFEAT_REF	18
#define NFEAT_MOM	1
#define NFMAX		20

/*
 * Features at index i, from closes at or before i only (never a row from the future):
 * log returns over 1, 6, 24, 72 and 168 hours, realised volatility over 24 and 168 hours,
 * log distance from the 24 h and 168 h means, and the 24 h return of the previous day.
 * Returns -1 when i has too little history (336 h) or its lookback touches a bad hour.
 */
int	 features_at(const struct bars *, size_t i, double f[NFEAT]);
/*
 * Feature set B of MODEL.md §5.2 at index i (closes at or before i only):
 *  0-2	 std of hourly log returns over 24, 168 and 720 h (σ24, σ168, σ720);
 *  3-5	 momentum ln(c_i / c_{i-k}) / (σ720 √k) for k = 24, 168, 720;
 *  6-8	 ln c_i − mean(ln c) over 24, 168 and 720 h;
 *  9-10 σ24/σ720 and σ168/σ720;
 * 11-12 ln c_i − max and ln c_i − min of ln c over 720 h;
 * 13-19 momentum ln(c_i / c_{i-k}) for k = 1, 6, 24, 72, 168, 336, 720.
 * -1 with less than 721 h of history, a flat σ720 or a bad hour in the lookback.
 */
int	 features_b_at(const struct bars *, size_t i, double f[NFEAT_B]);
/*
 * The Python worker's 18 features (MODEL.md §2.1) at index i, r[j] = ln(c_j / c_{j-1}):
 *  0-7	  lr_lag_{1,2,3,6,12,24,48,72}h = r[i - lag] (r[i] itself is not a feature);
 *  8-12  lr_ma_{6,12,24,48,72}h = mean of r[i-w+1 .. i];
 * 13-17  lr_std_{6,12,24,48,72}h = sample standard deviation (n - 1) of the same.
 * Computed from the newest row i, not from the row 168 h old that the Python worker used.
 * -1 with less than 73 h of history or a bad hour in the lookback.
 */
int	 features_ref_at(const struct bars *, size_t i, double f[NFEAT_REF]);
/*
 * MODEL.md §5.4's momentum signal at i: x = ln(c_i / c_{i-672}) / (σ_h √672), σ_h the
 * standard deviation of the 720 hourly log returns up to i.  -1 with less than 721 h of
 * history, a flat σ_h or a bad hour in the lookback.
 */
int	 features_mom_at(const struct bars *, size_t i, double f[NFEAT_MOM]);
int	 fset_nf(enum fset);
long	 fset_lookback(enum fset);	/* hours of history before a row: 336, 721, 73, 721 */
int	 fset_at(const struct bars *, enum fset, size_t i, double *f);
const char *fset_name(enum fset);	/* "default", "b", "reference", "momentum" */
/* ln(close[i + h] / close[i]); NAN when i + h is past the end or on a bad hour. */
double	 target_at(const struct bars *, size_t i, long h);

struct ridge {
	int	 nf;		/* number of features */
	double	 w[NFMAX];
	double	 b;
	double	 mean[NFMAX];
	double	 sd[NFMAX];
	double	 target_sd;	/* of the training targets */
	double	 lambda;
	size_t	 rows;
};

/*
 * Fits ridge regression on the 10 features of rows [from, to) whose targets end at or
 * before `to_limit` (the purge: no training target may reach past the decision time).
 * -1 when fewer than min_rows rows were usable.
 */
int	 ridge_fit(const struct bars *, size_t from, size_t to, size_t to_limit, long horizon,
	    double lambda, size_t min_rows, struct ridge *);
/* The same on a row-major matrix X (r x ncol, ncol <= NFMAX) and targets Y. */
int	 ridge_fit_xy(const double *X, const double *Y, size_t r, int ncol, double lambda,
	    struct ridge *);
double	 ridge_predict(const struct ridge *, const double *f);

/* Gradient boosting (XGBoost C API; deterministic: seed, nthread 1). */
#define XGB_MAX_TREES	10000
#define XGB_MAX_DEPTH	20
struct xgb_params {
	int	 n_trees;
	int	 max_depth;
	double	 eta, subsample, colsample, min_child_weight, lambda;
	long	 seed;
	int	 exact;		/* tree_method exact (else hist) */
	int	 base_mean;	/* base_score = mean of the training targets (else 0) */
	int	 czar;		/* objective: CZAR (loss.h) instead of squared error */
	double	 czar_alpha;	/* its α (CZAR_ALPHA_TRAIN) */
};
struct xgb;

void	 xgb_params_default(struct xgb_params *);	/* MODEL.md §5.2 */
/* sklearn's GradientBoostingRegressor(100, depth 3, lr 0.1) as XGBoost settings. */
void	 xgb_params_gbr(struct xgb_params *);
/* X row-major rows x ncol (ncol <= 1000).  NULL with err on failure. */
struct xgb *xgb_train(const double *X, const double *Y, size_t rows, int ncol,
	    const struct xgb_params *, char *err, size_t errlen);
/*
 * The same with S, the CZAR scale σ of each row (used when p->czar): the CZAR gradient and
 * Hessian (Hessian floored at CZAR_HESS_FLOOR / σ²) of the current margins are handed to
 * XGBoosterBoostOneIter at each round.
 */
struct xgb *xgb_train_s(const double *X, const double *Y, const double *S, size_t rows,
	    int ncol, const struct xgb_params *, char *err, size_t errlen);
int	 xgb_predict(const struct xgb *, const double *x, double *out);
/* UBJSON, written to a temporary name and renamed. */
int	 xgb_save(const struct xgb *, const char *path, char *err, size_t errlen);
struct xgb *xgb_load(const char *path, int ncol, char *err, size_t errlen);
void	 xgb_free(struct xgb *);

/*
 * A model as the daemon and the backtest use it: what is trained, on which features and
 * rows, and how its output becomes the submitted value ŷ = clip(k · f(x)).
 */
enum model_kind { MK_RIDGE, MK_XGB, MK_MOMENTUM };

struct model_spec {
	char		 name[32];	/* default | ridge | xgboost | reference | momentum */
	enum model_kind	 kind;
	enum fset	 fs;
	long		 horizon;	/* h: the target is ln(c[t+h] / c[t]) */
	long		 window;	/* the most training rows (hours) */
	long		 min_rows;	/* fewer usable rows: "Insufficient data" */
	long		 purge;		/* gap before the validation holdout (>= h) */
	long		 holdout;	/* validation rows, 0 = none */
	double		 lambda;	/* ridge penalty */
	double		 shrink;	/* k */
	double		 clip_sigma;	/* c: |ŷ| <= c σ168 √h, σ168 the std of the hourly
					 * log returns of the last 168 h; <= 0: no clip */
	struct xgb_params xp;
	enum loss_method loss;		/* the topic's: what validation reports */
	double		 czar_alpha;	/* CZAR's α for validation (CZAR_ALPHA_EVAL) */
	char		 resolved[96];	/* default: what it resolved to */
	char		 resolved_why[200];	/* and why */
};

/* The tuned default output shrink k (trainer/README.md). */
#define MODEL_DEFAULT_SHRINK	0.0
#define MODEL_DEFAULT_LAMBDA	1.0
#define MODEL_DEFAULT_WINDOW	8760
#define MODEL_DEFAULT_CLIP	2.0
#define MODEL_XGB_SHRINK	0.1	/* model = xgboost without shrink (MODEL.md §5.4) */
#define MODEL_MOMENTUM_SHRINK	0.5	/* model = momentum without shrink (MODEL.md §5.4) */
#define MODEL_EXPANDING		(24L * 366 * 30)	/* "every row since the start" */
#define MODEL_REFERENCE_WINDOW	336	/* the Python worker's 14 days of training rows */

/*
 * The built-in settings of a model name; -1 for an unknown name.  "default" is what
 * model_default_resolve gives for MSE.
 */
int	 model_spec_named(const char *name, struct model_spec *);
/*
 * What `model = default` is under loss method m (MODEL.md §5.3's selection, the table in
 * trainer/README.md): s gets that model's settings, named "default", with s->resolved and
 * s->resolved_why saying what and why.
 */
void	 model_default_resolve(enum loss_method, struct model_spec *);
struct config_topic;
/*
 * The spec of a topic: its model with the topic's keys, `default` resolved for loss method
 * m (the topic's: from the chain or its loss_method key), the topic's objective and
 * czar_alpha.  -1 with err (not built in).
 */
int	 model_spec_topic_loss(const struct config_topic *, enum loss_method m,
	    struct model_spec *, char *err, size_t errlen);
/* The same with the topic's configured loss method (auto: MSE). */
int	 model_spec_topic(const struct config_topic *, struct model_spec *, char *err,
	    size_t errlen);
/* The loss method configured for a topic: 0, or -1 for auto. */
int	 topic_loss_config(const struct config_topic *, enum loss_method *);
void	 model_describe_spec(const struct model_spec *, char *buf, size_t len);

/* A trained model (ridge or XGBoost) of a spec: train, predict, save, load, describe. */
struct model;
struct model *model_train(const struct model_spec *, const double *X, const double *Y,
	    size_t rows, char *err, size_t errlen);
/* The same with S, each row's CZAR scale (NULL unless the objective is CZAR). */
struct model *model_train_s(const struct model_spec *, const double *X, const double *Y,
	    const double *S, size_t rows, char *err, size_t errlen);
int	 model_predict(const struct model *, const double *f, double *out);	/* f(x) */
/* "model.ubj" (XGBoost) or "model.json" (ridge): the name model_save uses. */
const char *model_file_name(const struct model_spec *);
/* Written to a temporary name and renamed. */
int	 model_save(const struct model *, const char *path, char *err, size_t errlen);
struct model *model_load(const struct model_spec *, const char *path, char *err,
	    size_t errlen);
void	 model_describe(const struct model *, char *buf, size_t len);
void	 model_free(struct model *);

/* Features and targets of every row of a series in one feature set. */
struct fmat {
	enum fset fs;
	int	 nf;
	long	 h;
	size_t	 n;
	double	*X;		/* n x nf */
	double	*Y;		/* target_at(i, h), NAN when unknown */
	char	*ok;		/* 1: X of the row is usable */
	double	*cs, *cs2;	/* n + 1 running sums of the known targets and squares */
	size_t	*cn;		/* and their count (every row, `from` or not) */
};

/* The trailing window of the CZAR/ZPTAE scale: max(720, the training window). */
#define SIGMA_MIN_WINDOW	720
/*
 * The scale σ of the losses at decision row T (MODEL.md §2.3, §5.1): the standard deviation
 * of the realised targets of rows [T - h - Ws + 1, T - h], Ws = max(720, window): the same
 * in validation, the backtest and training.  NAN with fewer than 2 known targets.
 */
double	 fmat_sigma(const struct fmat *, size_t T, long window);

/* Rows before `from` are left out (ok = 0). */
void	 fmat_build(const struct bars *, enum fset, long h, size_t from, struct fmat *);
void	 fmat_free(struct fmat *);

struct validation {
	double	 mse;
	double	 mse_zero;
	enum loss_method loss;	/* the topic's loss method */
	double	 loss_model;	/* its mean over the holdout, the model's and zero's */
	double	 loss_zero;
	double	 da;		/* directional accuracy */
	double	 log_aspect;	/* log10(sd(pred) / sd(y)) */
	size_t	 n;
};

struct fit {
	double		 value;		/* ŷ = clip(k · f(x)) */
	double		 raw;		/* f(x) */
	double		 clip;		/* the bound used, 0 = none */
	size_t		 rows;		/* training rows */
	size_t		 first;		/* the oldest training row */
	int		 have_val;
	struct validation val;
};

#define FIT_FAILED	-1	/* training failed */
#define FIT_SHORT	-2	/* too few usable rows (err: "Insufficient data: …") */

/*
 * One decision at row T (the newest bar the decision may see): trains the spec on rows
 * t in [T - h - W + 1, T - h] with usable features and targets (every training target ends
 * by T: the purge), predicts from the features of row T, and with `validate` scores a
 * purged holdout first: a model trained the same way on rows before
 * T - h - holdout + 1 - purge, tested on the last `holdout` rows whose targets end by T.
 * keep (may be NULL) receives the trained model.  0, or FIT_FAILED / FIT_SHORT with err.
 */
int	 model_fit(const struct bars *, const struct fmat *, size_t T,
	    const struct model_spec *, int validate, struct fit *, struct model **keep,
	    char *err, size_t errlen);
/* The standard deviation of the hourly log returns of the 168 h up to row T. */
double	 sigma168(const struct bars *, size_t T);

/* Gaps up to this many hours are filled forward; longer ones are bad hours. */
#define BARS_MAX_FILL	2

struct config;
struct topic_fit {
	double		 value;		/* the value to submit */
	double		 raw;		/* f(x) */
	double		 data_from;	/* the oldest training row's bar (unix s) */
	double		 data_to;	/* the newest bar */
	size_t		 rows;
	int		 have_val;
	struct validation val;
	char		 resolved[96];	/* model = default: what it resolved to, and why */
	char		 resolved_why[200];
};

/*
 * One training for topic t: its model (model_spec_topic) on its bars (csv: that file,
 * whose newest bar counts as now; else the topic's CSV or bar cache, partial last bar
 * dropped, gaps filled up to BARS_MAX_FILL hours and reported), from the newest complete
 * bar, with the purged validation.  save: writes the model file to
 * state_dir/cache/topic-<id>/ (model_file_name).  -1 with the reason of the fallback
 * ("Insufficient data: …", "stale data: …", "training failed: …").  lm: the topic's loss
 * method (validation reports it; `default` resolves for it).
 */
int	 topic_fit(const struct config *, const struct config_topic *, const char *csv,
	    int save, enum loss_method lm, struct topic_fit *, char *why, size_t whylen);

#endif

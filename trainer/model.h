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

/*
 * Features at index i, from closes at or before i only (never a row from the future):
 * log returns over 1, 6, 24, 72 and 168 hours, realised volatility over 24 and 168 hours,
 * log distance from the 24 h and 168 h means, and the 24 h return of the previous day.
 * Returns -1 when i has too little history (168 h).
 */
int	 features_at(const struct bars *, size_t i, double f[NFEAT]);
/* ln(close[i + h] / close[i]); NAN when i + h is past the end. */
double	 target_at(const struct bars *, size_t i, long h);

struct ridge {
	double	 w[NFEAT];
	double	 b;
	double	 mean[NFEAT];
	double	 sd[NFEAT];
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
/* The same on a row-major matrix X (r x NFEAT) and targets Y. */
int	 ridge_fit_xy(const double *X, const double *Y, size_t r, double lambda, struct ridge *);
double	 ridge_predict(const struct ridge *, const double f[NFEAT]);

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

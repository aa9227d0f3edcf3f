/*
 * train_bench: times our gradient boosting (trainer/xgb.c, the XGBoost C API) on the Python
 * worker's recipe, in-process, and exports the very same rows for the scikit-learn
 * reference (bench/reference/gbr_reference.py).
 *
 * The recipe (MODEL.md §2.1, run_worker.py at 46676b3): hourly closes, r_t = ln(c_t/c_{t-1}),
 * 18 features (r lagged by 1, 2, 3, 6, 12, 24, 48, 72 h; rolling mean and sample standard
 * deviation of r over 6, 12, 24, 48, 72 h), target ln(c_{t+168}/c_t), 100 trees of depth 3,
 * learning rate 0.1.  XGBoost is set up like scikit-learn's GradientBoostingRegressor by the
 * trainer's xgb_params_gbr() (the daemon's model = reference): no L2 term (lambda 0),
 * min_child_weight 1 (one row), no row or column subsampling, first guess the mean target,
 * exact greedy splits.  It is timed as it is and with the other tree method ("hist",
 * XGBoost's histogram method, which model = xgboost uses).
 *
 * For each training window W (hours) the program picks K decision times T spread over the
 * series.  At T it trains on rows t in [T-168-W+1, T-168] (every target has ended by T: the
 * purge) and validates on the 168 rows after T.  The training time of each fit is measured
 * around xgb_train() alone; the figure is the median over the K fits.
 *
 * Writes to DIR: features.f64 (n x 18 doubles, row-major, NaN where undefined), target.f64
 * (n doubles), folds.json (the rows of every fit) and ours.json (times and errors).  Its
 * features are checked against the trainer's own features_ref_at() first.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "trainer/model.h"
#include "util.h"

#define NF		18
#define HORIZON		168
#define HOLDOUT		168
#define WARMUP		73	/* first row with every feature (lag 72 needs c[t-73]) */
#define MAXW		8

static const int	 lags[] = { 1, 2, 3, 6, 12, 24, 48, 72 };
static const int	 rolls[] = { 6, 12, 24, 48, 72 };
static const char	*fnames[NF] = {
	"lr_lag_1h", "lr_lag_2h", "lr_lag_3h", "lr_lag_6h", "lr_lag_12h", "lr_lag_24h",
	"lr_lag_48h", "lr_lag_72h", "lr_ma_6h", "lr_ma_12h", "lr_ma_24h", "lr_ma_48h",
	"lr_ma_72h", "lr_std_6h", "lr_std_12h", "lr_std_24h", "lr_std_48h", "lr_std_72h"
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: train_bench --csv FILE --out DIR [--windows 336,672,8760] "
	    "[--folds 15,15,5]\n"
	    "  Times XGBoost on the Python worker's recipe and writes the rows for the\n"
	    "  scikit-learn reference.\n");
}

/* Feature set A at every row; NaN where a feature is undefined. */
static void
features_a(const struct bars *b, double *X, double *Y)
{
	double *r = xcalloc(b->n, sizeof(double));
	size_t n = b->n, t, i, k;
	double s, m, ss;

	r[0] = NAN;
	for (t = 1; t < n; t++)
		r[t] = log(b->close[t] / b->close[t - 1]);
	for (t = 0; t < n; t++) {
		double *f = X + t * NF;

		for (i = 0; i < NF; i++)
			f[i] = NAN;
		Y[t] = t + HORIZON < n ? log(b->close[t + HORIZON] / b->close[t]) : NAN;
		for (i = 0; i < sizeof(lags) / sizeof(lags[0]); i++)
			if (t >= (size_t)lags[i] + 1)
				f[i] = r[t - (size_t)lags[i]];
		for (i = 0; i < sizeof(rolls) / sizeof(rolls[0]); i++) {
			size_t w = (size_t)rolls[i];

			if (t < w)
				continue;
			for (s = 0, k = t + 1 - w; k <= t; k++)
				s += r[k];
			m = s / (double)w;
			for (ss = 0, k = t + 1 - w; k <= t; k++)
				ss += (r[k] - m) * (r[k] - m);
			f[8 + i] = m;
			f[13 + i] = sqrt(ss / (double)(w - 1));	/* ddof = 1, as pandas */
		}
	}
	free(r);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
write_f64(const char *dir, const char *name, const double *v, size_t n)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	int rc = 0;

	if (fp == NULL || fwrite(v, sizeof(double), n, fp) != n)
		rc = -1;
	if (fp != NULL && fclose(fp) != 0)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, "train_bench: %s: %s\n", path, strerror(errno));
	free(path);
	return rc;
}

static int
parse_list(const char *s, long *out, int max, long lo, long hi)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == max || parse_long(tok, lo, hi, &out[n]) == -1) {
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	return n;
}

/*
 * The timed variants: the trainer's xgb_params_gbr() as it is (the daemon's model =
 * reference), then the same with the other tree method.
 */
static int
variants(struct xgb_params *xp, const char **names)
{
	xgb_params_gbr(&xp[0]);
	names[0] = xp[0].exact ? "exact" : "hist";
	xp[1] = xp[0];
	xp[1].exact = !xp[0].exact;
	names[1] = xp[1].exact ? "exact" : "hist";
	return 2;
}

/* The largest difference between our features and the trainer's features_ref_at(). */
static double
check_trainer_features(const struct bars *b, const double *X)
{
	double f[NF], d = 0;
	size_t i;
	int k;

	for (i = WARMUP; i < b->n; i++) {
		if (features_ref_at(b, i, f) == -1)
			return INFINITY;
		for (k = 0; k < NF; k++)
			if (fabs(f[k] - X[i * NF + k]) > d)
				d = fabs(f[k] - X[i * NF + k]);
	}
	return d;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "windows", required_argument, NULL, 'w' },
		{ "folds", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *csv = NULL, *out = NULL, *vname[2];
	long win[MAXW] = { 336, 672, 8760 }, folds[MAXW] = { 15, 15, 5 };
	int nwin = 3, nfold = 3, ch, wi, nv, v;
	struct bars b;
	struct xgb_params xp[2];
	struct xgb *m;
	struct ridge rm;
	char err[512], key[32];
	double *X, *Y, t0, pred, fdiff;
	json_t *jfolds, *jours, *jw, *jv;
	size_t n, i, k, tmin, tmax, T, from;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			csv = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			if ((nwin = parse_list(optarg, win, MAXW, 24, 100000)) <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'k':
			if ((nfold = parse_list(optarg, folds, MAXW, 1, 1000)) <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (csv == NULL || out == NULL || nfold != nwin) {
		usage(stderr);
		return 2;
	}
	if (bars_read_csv(csv, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "train_bench: %s\n", err);
		return 1;
	}
	n = b.n;
	X = xcalloc(n * NF, sizeof(double));
	Y = xcalloc(n, sizeof(double));
	features_a(&b, X, Y);
	if (write_f64(out, "features.f64", X, n * NF) == -1 ||
	    write_f64(out, "target.f64", Y, n) == -1)
		return 1;
	fdiff = check_trainer_features(&b, X);
	if (fdiff > 1e-12) {
		fprintf(stderr, "train_bench: our features differ from the trainer's "
		    "features_ref_at() by %g\n", fdiff);
		return 1;
	}
	nv = variants(xp, vname);

	jfolds = json_pack("{s:I, s:i, s:i, s:i, s:o, s:o}", "n", (json_int_t)n, "nf", NF,
	    "horizon", HORIZON, "holdout", HOLDOUT, "features", json_array(), "windows",
	    json_object());
	for (i = 0; i < NF; i++)
		json_array_append_new(json_object_get(jfolds, "features"), json_string(fnames[i]));
	jours = json_pack("{s:s, s:s, s:f, s:o, s:o}", "impl", "xgboost (trainer/xgb.c, C API)",
	    "reference_variant", vname[0], "trainer_features_max_abs_diff", fdiff, "variants",
	    json_object(), "windows", json_object());
	for (v = 0; v < nv; v++)
		json_object_set_new(json_object_get(jours, "variants"), vname[v], json_pack(
		    "{s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:s, s:i}", "n_trees", xp[v].n_trees,
		    "max_depth", xp[v].max_depth, "eta", xp[v].eta, "lambda", xp[v].lambda,
		    "min_child_weight", xp[v].min_child_weight, "subsample", xp[v].subsample,
		    "colsample", xp[v].colsample, "tree_method", vname[v], "nthread", 1));

	/* One untimed fit of each variant first (library initialisation), as the reference. */
	for (v = 0; v < nv; v++) {
		m = xgb_train(X + WARMUP * NF, Y + WARMUP, 336, NF, &xp[v], err, sizeof(err));
		if (m == NULL) {
			fprintf(stderr, "train_bench: %s\n", err);
			return 1;
		}
		xgb_free(m);
	}

	for (wi = 0; wi < nwin; wi++) {
		size_t W = (size_t)win[wi], K = (size_t)folds[wi];
		double *times = xcalloc(K, sizeof(double)), *rtimes = xcalloc(K, sizeof(double));
		json_t *jwv = json_object();

		tmin = WARMUP + W + HORIZON - 1;
		if (n < HORIZON + HOLDOUT + 1 || tmin > n - 1 - HORIZON - HOLDOUT) {
			fprintf(stderr, "train_bench: %zu rows are too few for a %zu h window\n",
			    n, W);
			return 1;
		}
		tmax = n - 1 - HORIZON - HOLDOUT;
		jw = json_array();
		for (k = 0; k < K; k++) {
			T = K == 1 ? tmax : tmin + (tmax - tmin) * k / (K - 1);
			from = T - HORIZON - W + 1;
			json_array_append_new(jw, json_pack("{s:I, s:[I, I], s:[I, I]}", "T",
			    (json_int_t)T, "train", (json_int_t)from, (json_int_t)(from + W), "hold",
			    (json_int_t)(T + 1), (json_int_t)(T + 1 + HOLDOUT)));
			/*
			 * For reference: the daemon's ridge model on its own 10 features
			 * (trainer/model.c) over the same window.
			 */
			t0 = mono_s();
			ridge_fit(&b, from, T - HORIZON + 1, T, HORIZON, 10, 20, &rm);
			rtimes[k] = (mono_s() - t0) * 1000;
		}
		for (v = 0; v < nv; v++) {
			double se = 0, se0 = 0, fse;
			size_t nh = 0;
			json_t *fits = json_array();

			for (k = 0; k < K; k++) {
				T = (size_t)json_integer_value(json_object_get(json_array_get(jw, k),
				    "T"));
				from = T - HORIZON - W + 1;
				t0 = mono_s();
				m = xgb_train(X + from * NF, Y + from, W, NF, &xp[v], err, sizeof(err));
				times[k] = (mono_s() - t0) * 1000;
				if (m == NULL) {
					fprintf(stderr, "train_bench: %s\n", err);
					return 1;
				}
				jv = json_pack("{s:I, s:f, s:[]}", "T", (json_int_t)T, "train_ms",
				    times[k], "pred");
				fse = 0;
				for (i = T + 1; i < T + 1 + HOLDOUT; i++) {
					if (xgb_predict(m, X + i * NF, &pred) == -1) {
						fprintf(stderr, "train_bench: prediction failed\n");
						return 1;
					}
					json_array_append_new(json_object_get(jv, "pred"),
					    json_real(pred));
					fse += (pred - Y[i]) * (pred - Y[i]);
					se0 += Y[i] * Y[i];
					nh++;
				}
				se += fse;
				json_object_set_new(jv, "mse", json_real(fse / HOLDOUT));
				xgb_free(m);
				json_array_append_new(fits, jv);
			}
			json_object_set_new(jwv, vname[v], json_pack("{s:f, s:f, s:f, s:I, s:o}",
			    "train_ms", median(times, K), "mse", se / (double)nh, "mse_zero",
			    se0 / (double)nh, "holdout_rows", (json_int_t)nh, "fits", fits));
		}
		snprintf(key, sizeof(key), "%zu", W);
		json_object_set_new(json_object_get(jfolds, "windows"), key, jw);
		json_object_set_new(json_object_get(jours, "windows"), key, json_pack(
		    "{s:i, s:I, s:f, s:o}", "folds", (int)K, "rows", (json_int_t)W,
		    "ridge_train_ms", median(rtimes, K), "variants", jwv));
		free(times);
		free(rtimes);
	}
	for (i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", out, i == 0 ? "folds.json" : "ours.json");

		if (json_dump_file(i == 0 ? jfolds : jours, path, JSON_INDENT(1)) == -1) {
			fprintf(stderr, "train_bench: cannot write %s\n", path);
			return 1;
		}
		free(path);
	}
	json_decref(jfolds);
	json_decref(jours);
	free(X);
	free(Y);
	bars_free(&b);
	return 0;
}

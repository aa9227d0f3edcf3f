/*
 * Ridge regression, trained models (ridge, xgboost through xgb.c, momentum: train, predict,
 * save, load), one decision of a model on a feature matrix (model_fit, with its purged
 * holdout) and one training of a topic (topic_fit); see model.h.  The features are in
 * features.c, the model table in modelspec.c.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "fetch.h"
#include "log.h"
#include "model.h"
#include "util.h"

/* Solves A x = y for symmetric positive definite A (n x n) by Cholesky; -1 if singular. */
static int
cholesky_solve(double *A, double *y, int n)
{
	int i, j, k;
	double s;

	for (j = 0; j < n; j++) {
		s = A[j * n + j];
		for (k = 0; k < j; k++)
			s -= A[j * n + k] * A[j * n + k];
		if (s <= 1e-12)
			return -1;
		A[j * n + j] = sqrt(s);
		for (i = j + 1; i < n; i++) {
			s = A[i * n + j];
			for (k = 0; k < j; k++)
				s -= A[i * n + k] * A[j * n + k];
			A[i * n + j] = s / A[j * n + j];
		}
	}
	for (i = 0; i < n; i++) {
		s = y[i];
		for (k = 0; k < i; k++)
			s -= A[i * n + k] * y[k];
		y[i] = s / A[i * n + i];
	}
	for (i = n - 1; i >= 0; i--) {
		s = y[i];
		for (k = i + 1; k < n; k++)
			s -= A[k * n + i] * y[k];
		y[i] = s / A[i * n + i];
	}
	return 0;
}

int
ridge_fit(const struct bars *b, size_t from, size_t to, size_t to_limit, long h, double lambda,
    size_t min_rows, struct ridge *m)
{
	double f[NFEAT], tgt;
	double *X = NULL, *Y = NULL;
	size_t i, r = 0, cap = 0;
	int a;

	memset(m, 0, sizeof(*m));
	m->lambda = lambda;
	for (i = from; i < to; i++) {
		if (i + (size_t)h > to_limit)	/* purge: the target must end by the decision */
			break;
		if (features_at(b, i, f) == -1)
			continue;
		tgt = target_at(b, i, h);
		if (isnan(tgt))
			continue;
		if (r == cap) {
			cap = cap ? cap * 2 : 1024;
			X = xrealloc(X, cap * NFEAT * sizeof(double));
			Y = xrealloc(Y, cap * sizeof(double));
		}
		memcpy(X + r * NFEAT, f, sizeof(f));
		Y[r++] = tgt;
	}
	if (r < min_rows) {
		free(X);
		free(Y);
		return -1;
	}
	a = ridge_fit_xy(X, Y, r, NFEAT, lambda, m);
	free(X);
	free(Y);
	return a;
}

int
ridge_fit_xy(const double *X, const double *Y, size_t r, int nf, double lambda,
    struct ridge *m)
{
	double A[NFMAX * NFMAX], y[NFMAX], ymean = 0, yss = 0;
	size_t i;
	int a, c;

	memset(m, 0, sizeof(*m));
	m->lambda = lambda;
	if (nf <= 0 || nf > NFMAX || r < 2 * (size_t)nf)
		return -1;
	m->nf = nf;
	for (a = 0; a < nf; a++) {
		double s = 0, ss = 0;

		for (i = 0; i < r; i++)
			s += X[i * nf + a];
		m->mean[a] = s / (double)r;
		for (i = 0; i < r; i++)
			ss += (X[i * nf + a] - m->mean[a]) * (X[i * nf + a] - m->mean[a]);
		m->sd[a] = sqrt(ss / (double)r);
		if (m->sd[a] < 1e-12)
			m->sd[a] = 1;
	}
	for (i = 0; i < r; i++)
		ymean += Y[i];
	ymean /= (double)r;
	for (i = 0; i < r; i++)
		yss += (Y[i] - ymean) * (Y[i] - ymean);
	m->target_sd = sqrt(yss / (double)r);
	memset(A, 0, sizeof(A));
	memset(y, 0, sizeof(y));
	for (i = 0; i < r; i++) {
		double z[NFMAX];

		for (a = 0; a < nf; a++)
			z[a] = (X[i * nf + a] - m->mean[a]) / m->sd[a];
		for (a = 0; a < nf; a++) {
			y[a] += z[a] * (Y[i] - ymean);
			for (c = 0; c < nf; c++)
				A[a * nf + c] += z[a] * z[c];
		}
	}
	for (a = 0; a < nf; a++)
		A[a * nf + a] += lambda * (double)r;
	if (cholesky_solve(A, y, nf) == -1)
		return -1;
	memcpy(m->w, y, (size_t)nf * sizeof(double));
	m->b = ymean;
	m->rows = r;
	return 0;
}

double
ridge_predict(const struct ridge *m, const double *f)
{
	double p = m->b;
	int a;

	for (a = 0; a < m->nf; a++)
		p += m->w[a] * (f[a] - m->mean[a]) / m->sd[a];
	return p;
}

/* ---- trained models ---- */

struct model {
	enum model_kind	 kind;
	enum fset	 fs;
	int		 nf;
	size_t		 rows;
	struct ridge	 r;
	struct xgb	*x;
	struct xgb_params xp;
	double		 beta;		/* momentum: the OLS slope through 0 */
};

struct model *
model_train(const struct model_spec *s, const double *X, const double *Y, size_t rows,
    char *err, size_t errlen)
{
	return model_train_s(s, X, Y, NULL, rows, err, errlen);
}

struct model *
model_train_s(const struct model_spec *s, const double *X, const double *Y, const double *S,
    size_t rows, char *err, size_t errlen)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->kind = s->kind;
	m->fs = s->fs;
	m->nf = fset_nf(s->fs);
	m->rows = rows;
	m->xp = s->xp;
	if (s->kind == MK_XGB) {
		if (s->xp.czar && S == NULL) {
			snprintf(err, errlen, "xgboost: the CZAR objective needs the scale of "
			    "each row");
			free(m);
			return NULL;
		}
		m->x = xgb_train_s(X, Y, S, rows, m->nf, &s->xp, err, errlen);
		if (m->x == NULL) {
			free(m);
			return NULL;
		}
	} else if (s->kind == MK_MOMENTUM) {
		double sxy = 0, sxx = 0;
		size_t i;

		for (i = 0; i < rows; i++) {
			sxy += X[i] * Y[i];
			sxx += X[i] * X[i];
		}
		if (rows < 2 || !(sxx > 0) || !isfinite(sxy / sxx)) {
			snprintf(err, errlen, "momentum: no variation of the signal (%zu rows)",
			    rows);
			free(m);
			return NULL;
		}
		m->beta = sxy / sxx;
	} else if (ridge_fit_xy(X, Y, rows, m->nf, s->lambda, &m->r) == -1) {
		snprintf(err, errlen, "ridge: singular system (%zu rows)", rows);
		free(m);
		return NULL;
	}
	return m;
}

int
model_predict(const struct model *m, const double *f, double *out)
{
	if (m->kind == MK_XGB)
		return xgb_predict(m->x, f, out);
	if (m->kind == MK_MOMENTUM) {
		*out = (m->beta > 0 ? m->beta : 0) * f[0];
		return isfinite(*out) ? 0 : -1;
	}
	*out = ridge_predict(&m->r, f);
	return isfinite(*out) ? 0 : -1;
}

const char *
model_file_name(const struct model_spec *s)
{
	return s->kind == MK_XGB ? "model.ubj" : "model.json";
}

static json_t *
jarr(const double *v, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

int
model_save(const struct model *m, const char *path, char *err, size_t errlen)
{
	json_t *j;
	char *s;
	int rc;

	if (m->kind == MK_XGB)
		return xgb_save(m->x, path, err, errlen);
	if (m->kind == MK_MOMENTUM)
		j = json_pack("{s:s, s:s, s:I, s:f}", "kind", "momentum", "features",
		    fset_name(m->fs), "rows", (json_int_t)m->rows, "beta", m->beta);
	else
		j = json_pack("{s:s, s:s, s:i, s:f, s:I, s:f, s:f, s:o, s:o, s:o}", "kind", "ridge",
	    "features", fset_name(m->fs), "nf", m->nf, "lambda", m->r.lambda, "rows",
	    (json_int_t)m->rows, "intercept", m->r.b, "target_sd", m->r.target_sd, "w",
	    jarr(m->r.w, m->nf), "mean", jarr(m->r.mean, m->nf), "sd", jarr(m->r.sd, m->nf));
	s = j != NULL ? json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(j);
	if (s == NULL) {
		snprintf(err, errlen, "%s: a model that is not finite", path);
		return -1;
	}
	rc = write_file_atomic(path, s, strlen(s), 0640);
	free(s);
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return rc;
}

static int
jget(json_t *a, int n, double *out)
{
	int i;

	if (!json_is_array(a) || json_array_size(a) != (size_t)n)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(a, (size_t)i);

		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return -1;
		out[i] = json_number_value(v);
	}
	return 0;
}

struct model *
model_load(const struct model_spec *s, const char *path, char *err, size_t errlen)
{
	struct model *m;
	json_error_t je;
	json_t *j, *v;
	const char *fs;
	int a;

	m = xcalloc(1, sizeof(*m));
	m->kind = s->kind;
	m->fs = s->fs;
	m->nf = fset_nf(s->fs);
	m->xp = s->xp;
	if (s->kind == MK_XGB) {
		m->x = xgb_load(path, m->nf, err, errlen);
		if (m->x == NULL) {
			free(m);
			return NULL;
		}
		return m;
	}
	m->r.nf = m->nf;
	if ((j = json_load_file(path, 0, &je)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, je.text);
		free(m);
		return NULL;
	}
	if (s->kind == MK_MOMENTUM) {
		const char *kind = json_string_value(json_object_get(j, "kind"));

		v = json_object_get(j, "beta");
		if (kind == NULL || strcmp(kind, "momentum") != 0 || !json_is_number(v) ||
		    !isfinite(json_number_value(v))) {
			snprintf(err, errlen, "%s: not a momentum model", path);
			json_decref(j);
			free(m);
			return NULL;
		}
		m->beta = json_number_value(v);
		m->rows = (size_t)json_integer_value(json_object_get(j, "rows"));
		json_decref(j);
		return m;
	}
	fs = json_string_value(json_object_get(j, "features"));
	v = json_object_get(j, "rows");
	if (!json_is_object(j) || json_integer_value(json_object_get(j, "nf")) != m->nf ||
	    fs == NULL || strcmp(fs, fset_name(s->fs)) != 0 || !json_is_integer(v) ||
	    json_integer_value(v) < 0 ||
	    jget(json_object_get(j, "w"), m->nf, m->r.w) == -1 ||
	    jget(json_object_get(j, "mean"), m->nf, m->r.mean) == -1 ||
	    jget(json_object_get(j, "sd"), m->nf, m->r.sd) == -1 ||
	    !json_is_number(json_object_get(j, "intercept")) ||
	    !isfinite(m->r.b = json_number_value(json_object_get(j, "intercept")))) {
		if (json_is_object(j) && json_is_array(json_object_get(j, "w")) &&
		    json_array_size(json_object_get(j, "w")) != (size_t)m->nf)
			snprintf(err, errlen, "%s: a model of %zu features, %d expected", path,
			    json_array_size(json_object_get(j, "w")), m->nf);
		else
			snprintf(err, errlen, "%s: not a ridge model of the %s features", path,
			    fset_name(s->fs));
		json_decref(j);
		free(m);
		return NULL;
	}
	for (a = 0; a < m->nf; a++)
		if (!(m->r.sd[a] > 0)) {
			snprintf(err, errlen, "%s: a feature scale that is not positive", path);
			json_decref(j);
			free(m);
			return NULL;
		}
	m->rows = (size_t)json_integer_value(v);
	m->r.rows = m->rows;
	m->r.lambda = json_number_value(json_object_get(j, "lambda"));
	m->r.target_sd = json_number_value(json_object_get(j, "target_sd"));
	json_decref(j);
	return m;
}

void
model_describe(const struct model *m, char *buf, size_t len)
{
	if (m->kind == MK_MOMENTUM)
		snprintf(buf, len, "momentum (beta %.6g) on the momentum signal, %zu rows",
		    m->beta, m->rows);
	else if (m->kind == MK_RIDGE)
		snprintf(buf, len, "ridge (lambda %g) on the %s features (%d), %zu rows",
		    m->r.lambda, fset_name(m->fs), m->nf, m->rows);
	else
		snprintf(buf, len, "xgboost (%d trees, depth %d, eta %g, subsample %g, "
		    "colsample %g, min_child_weight %g, lambda %g, seed %ld, %s) on the %s "
		    "features (%d), %zu rows", m->xp.n_trees, m->xp.max_depth, m->xp.eta,
		    m->xp.subsample, m->xp.colsample, m->xp.min_child_weight, m->xp.lambda,
		    m->xp.seed, m->xp.exact ? "exact" : "hist", fset_name(m->fs), m->nf, m->rows);
}

void
model_free(struct model *m)
{
	if (m == NULL)
		return;
	xgb_free(m->x);
	free(m);
}

/* ---- one decision ---- */

/*
 * Usable rows of [lo, hi] into X, Y and (S not NULL) their loss scale at window W (room for
 * hi - lo + 1 rows); returns the count.
 */
static size_t
gather(const struct fmat *fm, size_t lo, size_t hi, double *X, double *Y, double *S, long W,
    size_t *first)
{
	size_t i, r = 0, nf = (size_t)fm->nf;

	*first = 0;
	for (i = lo; i <= hi && i < fm->n; i++) {
		if (!fm->ok[i] || isnan(fm->Y[i]))
			continue;
		if (S != NULL && !isfinite(S[r] = fmat_sigma(fm, i, W)))
			continue;	/* no scale yet: not a CZAR training row */
		if (r == 0)
			*first = i;
		memcpy(X + r * nf, fm->X + i * nf, nf * sizeof(double));
		Y[r++] = fm->Y[i];
	}
	return r;
}

/* k · f(x), clipped at c σ168 √h; *lim gets the bound (0: none). */
static double
output(const struct bars *b, const struct model_spec *s, size_t T, double raw, double *lim)
{
	double v = s->shrink * raw, sg;

	*lim = 0;
	if (s->clip_sigma > 0 && isfinite(sg = sigma168(b, T)) && sg > 0) {
		*lim = s->clip_sigma * sg * sqrt((double)s->horizon);
		v = v > *lim ? *lim : v < -*lim ? -*lim : v;
	}
	return fabs(v) < 1e-30 ? 0 : v;
}

static size_t
min_rows(const struct model_spec *s)
{
	size_t need = (size_t)(s->min_rows < s->window ? s->min_rows : s->window);

	if (need < 2 * (size_t)fset_nf(s->fs))
		need = 2 * (size_t)fset_nf(s->fs);
	return need;
}

/* The purged holdout of model_fit. */
static int
holdout(const struct bars *b, const struct fmat *fm, size_t T, const struct model_spec *s,
    double *X, double *Y, double *S, struct validation *v)
{
	struct model *m;
	struct czar_params cp = { s->czar_alpha, CZAR_EPSILON, CZAR_TAU };
	char err[256];
	size_t h = (size_t)s->horizon, test_from, tl, lo, rows, first, i, n = 0, nda = 0,
	    agree = 0, nl = 0;
	double se = 0, sz = 0, sp = 0, spp = 0, sy = 0, syy = 0, p, y, lim, sg, lm = 0, lz = 0;

	memset(v, 0, sizeof(*v));
	v->loss = s->loss;
	if (s->holdout <= 0 || T + 1 < h + (size_t)s->holdout + (size_t)s->purge + 1)
		return -1;
	test_from = T - h - (size_t)s->holdout + 1;
	tl = test_from - 1 - (size_t)s->purge;
	lo = tl + 1 > (size_t)s->window ? tl + 1 - (size_t)s->window : 0;
	rows = gather(fm, lo, tl, X, Y, S, s->window, &first);
	if (rows < min_rows(s) || (m = model_train_s(s, X, Y, S, rows, err, sizeof(err))) ==
	    NULL)
		return -1;
	for (i = test_from; i <= T - h; i++) {
		if (!fm->ok[i] || isnan(y = fm->Y[i]) ||
		    model_predict(m, fm->X + i * (size_t)fm->nf, &p) == -1)
			continue;
		p = output(b, s, i, p, &lim);
		se += (p - y) * (p - y);
		sz += y * y;
		/* The scale as of the holdout row's own decision time i + h. */
		if (isfinite(sg = fmat_sigma(fm, i + h, s->window))) {
			lm += loss_value(s->loss, y, p, sg, &cp);
			lz += loss_value(s->loss, y, 0, sg, &cp);
			nl++;
		}
		if (p != 0 && y != 0) {
			nda++;
			agree += (p > 0) == (y > 0);
		}
		sp += p;
		spp += p * p;
		sy += y;
		syy += y * y;
		n++;
	}
	model_free(m);
	if (n == 0)
		return -1;
	v->n = n;
	v->mse = se / (double)n;
	v->mse_zero = sz / (double)n;
	v->loss_model = nl > 0 ? lm / (double)nl : NAN;
	v->loss_zero = nl > 0 ? lz / (double)nl : NAN;
	v->da = nda > 0 ? (double)agree / (double)nda : NAN;
	{
		double vp = spp / (double)n - (sp / (double)n) * (sp / (double)n);
		double vy = syy / (double)n - (sy / (double)n) * (sy / (double)n);

		v->log_aspect = vp > 1e-300 && vy > 0 ? 0.5 * log10(vp / vy) : NAN;
	}
	return 0;
}

int
model_fit(const struct bars *b, const struct fmat *fm, size_t T, const struct model_spec *s,
    int validate_, struct fit *fit, struct model **keep, char *err, size_t errlen)
{
	struct model *m;
	double *X, *Y, *S = NULL;
	size_t h = (size_t)s->horizon, W = (size_t)s->window, lo, rows, need, cap;
	char e[256];

	memset(fit, 0, sizeof(*fit));
	if (keep != NULL)
		*keep = NULL;
	if (s->horizon <= 0 || s->window <= 0 || fm->fs != s->fs || fm->h != s->horizon) {
		snprintf(err, errlen, "training failed: the model and its features disagree");
		return FIT_FAILED;
	}
	if (T >= fm->n || !fm->ok[T]) {
		if (T < (size_t)fset_lookback(s->fs) || T >= fm->n)
			snprintf(err, errlen, "Insufficient data: no %s features for the newest "
			    "bar (%zu hourly bars, %ld needed)", fset_name(s->fs), T + 1,
			    fset_lookback(s->fs) + 1);
		else
			snprintf(err, errlen, "Insufficient data: no %s features for the newest "
			    "bar (a gap of more than %d hours in their lookback, or flat prices)",
			    fset_name(s->fs), BARS_MAX_FILL);
		return FIT_SHORT;
	}
	need = min_rows(s);
	if (T < h) {
		snprintf(err, errlen, "Insufficient data: 0 usable training rows, %zu needed", need);
		return FIT_SHORT;
	}
	lo = T - h + 1 > W ? T - h + 1 - W : 0;
	cap = T - h + 1 - lo;		/* at most W rows, fewer with a short history */
	X = xcalloc(cap, (size_t)fm->nf * sizeof(double));
	Y = xcalloc(cap, sizeof(double));
	if (s->kind == MK_XGB && s->xp.czar)
		S = xcalloc(cap, sizeof(double));
	rows = gather(fm, lo, T - h, X, Y, S, s->window, &fit->first);
	if (rows < need) {
		snprintf(err, errlen, "Insufficient data: %zu usable training rows, %zu needed",
		    rows, need);
		free(X);
		free(Y);
		free(S);
		return FIT_SHORT;
	}
	if ((m = model_train_s(s, X, Y, S, rows, e, sizeof(e))) == NULL ||
	    model_predict(m, fm->X + T * (size_t)fm->nf, &fit->raw) == -1) {
		snprintf(err, errlen, "training failed: %s", m == NULL ? e :
		    "the prediction is not a number");
		model_free(m);
		free(X);
		free(Y);
		free(S);
		return FIT_FAILED;
	}
	fit->rows = rows;
	fit->value = output(b, s, T, fit->raw, &fit->clip);
	if (validate_)
		fit->have_val = holdout(b, fm, T, s, X, Y, S, &fit->val) == 0;
	free(X);
	free(Y);
	free(S);
	if (keep != NULL)
		*keep = m;
	else
		model_free(m);
	return 0;
}

/* ---- one training for a topic (the trainer and alloractl predict) ---- */

int
topic_fit(const struct config *c, const struct config_topic *t, const char *csv, int save,
    enum loss_method lm, struct topic_fit *out, char *why, size_t whylen)
{
	struct model_spec s;
	struct model *m = NULL, **keep;
	struct fmat fm;
	struct fit fit;
	struct bars b;
	char err[512], *cache = NULL, desc[512];
	const char *path, *ds = t->data_source;
	double now = wall_s(), age;
	size_t n, T, nbad, span, from;
	int rc;

	memset(out, 0, sizeof(*out));
	if (model_spec_topic_loss(t, lm, &s, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s", err);
		return -1;
	}
	snprintf(out->resolved, sizeof(out->resolved), "%s", s.resolved);
	snprintf(out->resolved_why, sizeof(out->resolved_why), "%s", s.resolved_why);
	if (csv != NULL)
		path = csv;
	else if (strncmp(ds, "csv:", 4) == 0)
		path = ds + 4;
	else if (strcmp(ds, "tiingo") == 0 || strcmp(ds, "coinbase") == 0 ||
	    strcmp(ds, "binance") == 0)
		path = cache = bar_cache_path(c, t);	/* kept up to date by fetch.c */
	else {
		snprintf(why, whylen, "market data source %.60s is not available in this build",
		    ds);
		return -1;
	}
	rc = bars_read_csv(path, &b, err, sizeof(err));
	free(cache);
	if (rc == -1) {
		snprintf(why, whylen, "Insufficient data: %s", err);
		return -1;
	}
	if (csv != NULL && b.n > 0)
		now = (double)b.t[b.n - 1] + 3600;	/* the newest bar of the file is now */
	else
		bars_drop_partial(&b, now);		/* its hour has not ended */
	if (b.n == 0) {
		bars_free(&b);
		snprintf(why, whylen, "Insufficient data: no complete hourly bar");
		return -1;
	}
	span = (size_t)(s.window + 2 * s.horizon + s.holdout + s.purge + fset_lookback(s.fs)) +
	    48;
	if (bars_regularize(&b, BARS_MAX_FILL, span, &nbad) > 0)
		log_warnx("topic %u: %zu missing hours in the market data, filled forward; %zu "
		    "in gaps longer than %d h, whose rows are not used", t->id, b.gaps, nbad,
		    BARS_MAX_FILL);
	n = b.n;
	T = n - 1;
	age = now - ((double)b.t[T] + 3600);
	if (age > (double)t->stale_after_s) {
		snprintf(why, whylen, "stale data: the newest bar ended %.1f hours ago (more "
		    "than stale_after_s = %ld s)", age / 3600, t->stale_after_s);
		bars_free(&b);
		return -1;
	}
	span = (size_t)(s.window + 2 * s.horizon + s.holdout + s.purge);
	from = T > span ? T - span : 0;
	fmat_build(&b, s.fs, s.horizon, from, &fm);
	keep = save ? &m : NULL;
	rc = model_fit(&b, &fm, T, &s, 1, &fit, keep, why, whylen);
	fmat_free(&fm);
	if (rc != 0) {
		bars_free(&b);
		return -1;
	}
	out->value = fit.value;
	out->raw = fit.raw;
	out->rows = fit.rows;
	out->data_from = (double)b.t[fit.first];
	out->data_to = (double)b.t[T];
	out->have_val = fit.have_val;
	out->val = fit.val;
	model_describe_spec(&s, desc, sizeof(desc));
	log_debug("topic %u: %s; %zu rows, f(x) = %.6g, value %.6g", t->id, desc, fit.rows,
	    fit.raw, fit.value);
	bars_free(&b);
	if (m != NULL) {
		char *dir = xasprintf("%s/cache/topic-%u", c->state_dir, t->id);
		char *mp = xasprintf("%s/%s", dir, model_file_name(&s));
		char *other = xasprintf("%s/%s", dir, s.kind == MK_XGB ? "model.json" :
		    "model.ubj");

		if (mkdir_p(dir, 0750) == -1)
			log_warn("topic %u: %s", t->id, dir);
		else if (model_save(m, mp, err, sizeof(err)) == -1)
			log_warnx("topic %u: saving the model: %s", t->id, err);
		else
			(void)unlink(other);	/* a model of the other kind is out of date */
		free(dir);
		free(mp);
		free(other);
		model_free(m);
	}
	return 0;
}

/*
 * The trainer's features (see model.h): the hourly series made regular (bars_regularize),
 * the feature sets (default, b, reference, momentum) of one row, the target and the
 * 168-hour volatility, and the feature matrices of a series (fmat_*).  No model and no
 * xgboost here: model.c, modelspec.c and xgb.c use these.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

/* Whole hours from t0 to t (t >= t0), rounded. */
static size_t
hours(int64_t t, int64_t t0)
{
	return (size_t)(((uint64_t)t - (uint64_t)t0 + 1800) / 3600);
}

size_t
bars_regularize(struct bars *b, long max_fill, size_t max_hours, size_t *nbad)
{
	int64_t *t, t0, hlast;
	double *c;
	char *real;
	uint32_t *bad = NULL;
	size_t i, k, m, pos, run, inserted = 0, nb = 0;

	if (nbad != NULL)
		*nbad = 0;
	if (b->n == 0)
		return 0;
	if (max_hours == 0)
		max_hours = 1;
	free(b->bad);
	b->bad = NULL;
	/* Hours since the first bar, rounded; the oldest bars go when the span is too long. */
	t0 = b->t[0];
	hlast = (int64_t)hours(b->t[b->n - 1], t0);
	for (k = 0; k < b->n; k++)
		if ((uint64_t)(hlast - (int64_t)hours(b->t[k], t0)) < max_hours)
			break;
	t0 = b->t[k];
	m = hours(b->t[b->n - 1], t0) + 1;
	t = xcalloc(m, sizeof(*t));
	c = xcalloc(m, sizeof(*c));
	real = xcalloc(m, 1);
	for (i = k; i < b->n; i++) {
		pos = hours(b->t[i], t0);
		c[pos] = b->close[i];	/* a later bar of the same hour replaces */
		real[pos] = 1;
	}
	for (pos = 0; pos < m; pos++)
		t[pos] = t0 + (int64_t)pos * 3600;
	for (pos = 1; pos < m; pos += run) {
		run = 1;
		if (real[pos])
			continue;
		while (pos + run < m && !real[pos + run])
			run++;
		for (i = pos; i < pos + run; i++)
			c[i] = c[pos - 1];
		inserted += run;
		if ((long)run > max_fill) {
			if (bad == NULL)
				bad = xcalloc(m + 1, sizeof(*bad));
			for (i = pos; i < pos + run; i++)
				real[i] = 2;
			nb += run;
		}
	}
	if (bad != NULL)
		for (i = 0; i < m; i++)
			bad[i + 1] = bad[i] + (real[i] == 2);
	free(real);
	free(b->t);
	free(b->close);
	b->t = t;
	b->close = c;
	b->n = m;
	b->gaps = inserted;
	b->bad = bad;
	if (nbad != NULL)
		*nbad = nb;
	return inserted;
}

/* Hours [from, to] are all real bars. */
static int
span_ok(const struct bars *b, size_t from, size_t to)
{
	return b->bad == NULL || b->bad[to + 1] == b->bad[from];
}

static double
lr(const struct bars *b, size_t i, size_t k)
{
	return log(b->close[i] / b->close[i - k]);
}

int
features_at(const struct bars *b, size_t i, double f[NFEAT])
{
	double s24 = 0, s168 = 0, v24 = 0, v168 = 0, r;
	size_t k;

	if (i < 336 || i >= b->n || !span_ok(b, i - 168, i))
		return -1;
	f[0] = lr(b, i, 1);
	f[1] = lr(b, i, 6);
	f[2] = lr(b, i, 24);
	f[3] = lr(b, i, 72);
	f[4] = lr(b, i, 168);
	for (k = 0; k < 168; k++) {
		r = lr(b, i - k, 1);
		v168 += r * r;
		s168 += b->close[i - k];
		if (k < 24) {
			v24 += r * r;
			s24 += b->close[i - k];
		}
	}
	f[5] = sqrt(v24 / 24);
	f[6] = sqrt(v168 / 168);
	f[7] = log(b->close[i] / (s24 / 24));
	f[8] = log(b->close[i] / (s168 / 168));
	f[9] = lr(b, i - 24, 24);
	return 0;
}

int
features_b_at(const struct bars *b, size_t i, double f[NFEAT_B])
{
	static const size_t K[3] = { 24, 168, 720 };
	static const size_t M[7] = { 1, 6, 24, 72, 168, 336, 720 };
	double sd[3], lc, mx, mn, l;
	size_t w, k;

	if (i < 721 || i >= b->n || !span_ok(b, i - 720, i))
		return -1;
	lc = mx = mn = log(b->close[i]);
	for (w = 0; w < 3; w++) {
		double s = 0, ss = 0, sl = 0, r;

		for (k = 0; k < K[w]; k++) {
			r = lr(b, i - k, 1);
			s += r;
			ss += r * r;
			sl += log(b->close[i - k]);
		}
		s /= (double)K[w];
		sd[w] = sqrt(fmax(0, ss / (double)K[w] - s * s));
		f[w] = sd[w];
		f[6 + w] = lc - sl / (double)K[w];
	}
	if (sd[2] < 1e-12)
		return -1;
	for (w = 0; w < 3; w++)
		f[3 + w] = lr(b, i, K[w]) / (sd[2] * sqrt((double)K[w]));
	f[9] = sd[0] / sd[2];
	f[10] = sd[1] / sd[2];
	for (k = 0; k < 720; k++) {
		l = log(b->close[i - k]);
		mx = l > mx ? l : mx;
		mn = l < mn ? l : mn;
	}
	f[11] = lc - mx;
	f[12] = lc - mn;
	for (k = 0; k < 7; k++)
		f[13 + k] = lr(b, i, M[k]);
	return 0;
}

int
features_ref_at(const struct bars *b, size_t i, double f[NFEAT_REF])
{
	static const size_t LAG[8] = { 1, 2, 3, 6, 12, 24, 48, 72 };
	static const size_t WIN[5] = { 6, 12, 24, 48, 72 };
	double r[73], mean, ss;
	size_t k, w;

	if (i < 73 || i >= b->n || !span_ok(b, i - 73, i))
		return -1;
	for (k = 0; k <= 72; k++)	/* r[k] = log return of row i - k */
		r[k] = lr(b, i - k, 1);
	for (k = 0; k < 8; k++)
		f[k] = r[LAG[k]];
	for (w = 0; w < 5; w++) {
		mean = 0;
		for (k = 0; k < WIN[w]; k++)
			mean += r[k];
		mean /= (double)WIN[w];
		ss = 0;
		for (k = 0; k < WIN[w]; k++)
			ss += (r[k] - mean) * (r[k] - mean);
		f[8 + w] = mean;
		f[13 + w] = sqrt(ss / (double)(WIN[w] - 1));
	}
	return 0;
}

int
features_mom_at(const struct bars *b, size_t i, double f[NFEAT_MOM])
{
	double s = 0, ss = 0, r, m, sd;
	size_t k;

	if (i < 721 || i >= b->n || !span_ok(b, i - 720, i))
		return -1;
	for (k = 0; k < 720; k++) {
		r = lr(b, i - k, 1);
		s += r;
		ss += r * r;
	}
	m = s / 720;
	sd = sqrt(fmax(0, (ss - 720 * m * m) / 719));
	if (sd < 1e-12)
		return -1;
	f[0] = lr(b, i, 672) / (sd * sqrt(672.0));
	return 0;
}

int
fset_nf(enum fset fs)
{
	return fs == FS_B ? NFEAT_B : fs == FS_REF ? NFEAT_REF : fs == FS_MOM ? NFEAT_MOM :
	    NFEAT;
}

long
fset_lookback(enum fset fs)
{
	return fs == FS_B || fs == FS_MOM ? 721 : fs == FS_REF ? 73 : 336;
}

int
fset_at(const struct bars *b, enum fset fs, size_t i, double *f)
{
	return fs == FS_B ? features_b_at(b, i, f) : fs == FS_REF ? features_ref_at(b, i, f) :
	    fs == FS_MOM ? features_mom_at(b, i, f) : features_at(b, i, f);
}

const char *
fset_name(enum fset fs)
{
	return fs == FS_B ? "b" : fs == FS_REF ? "reference" : fs == FS_MOM ? "momentum" :
	    "default";
}

double
target_at(const struct bars *b, size_t i, long h)
{
	if (h <= 0 || i >= b->n || (size_t)h >= b->n - i)
		return NAN;
	if (!span_ok(b, i, i) || !span_ok(b, i + (size_t)h, i + (size_t)h))
		return NAN;
	return log(b->close[i + (size_t)h] / b->close[i]);
}

double
sigma168(const struct bars *b, size_t T)
{
	double s = 0, ss = 0, r, m;
	size_t k;

	if (T < 168 || T >= b->n)
		return NAN;
	for (k = 0; k < 168; k++) {
		r = lr(b, T - k, 1);
		s += r;
		ss += r * r;
	}
	m = s / 168;
	return sqrt(fmax(0, (ss - 168 * m * m) / 167));
}

/* ---- feature matrices ---- */

void
fmat_build(const struct bars *b, enum fset fs, long h, size_t from, struct fmat *fm)
{
	size_t i;

	memset(fm, 0, sizeof(*fm));
	fm->fs = fs;
	fm->nf = fset_nf(fs);
	fm->h = h;
	fm->n = b->n;
	fm->X = xcalloc(b->n ? b->n : 1, (size_t)fm->nf * sizeof(double));
	fm->Y = xcalloc(b->n ? b->n : 1, sizeof(double));
	fm->ok = xcalloc(b->n ? b->n : 1, 1);
	fm->cs = xcalloc(b->n + 1, sizeof(double));
	fm->cs2 = xcalloc(b->n + 1, sizeof(double));
	fm->cn = xcalloc(b->n + 1, sizeof(size_t));
	for (i = 0; i < b->n; i++) {
		double y = target_at(b, i, h);

		fm->Y[i] = i >= from ? y : NAN;
		fm->ok[i] = i >= from && fset_at(b, fs, i, fm->X + i * (size_t)fm->nf) == 0;
		fm->cs[i + 1] = fm->cs[i] + (isnan(y) ? 0 : y);
		fm->cs2[i + 1] = fm->cs2[i] + (isnan(y) ? 0 : y * y);
		fm->cn[i + 1] = fm->cn[i] + !isnan(y);
	}
}

void
fmat_free(struct fmat *fm)
{
	free(fm->X);
	free(fm->Y);
	free(fm->ok);
	free(fm->cs);
	free(fm->cs2);
	free(fm->cn);
	memset(fm, 0, sizeof(*fm));
}

double
fmat_sigma(const struct fmat *fm, size_t T, long window)
{
	size_t ws = (size_t)(window > SIGMA_MIN_WINDOW ? window : SIGMA_MIN_WINDOW), hi, lo, n;
	double m;

	if (fm->cn == NULL || T >= fm->n || T + 1 < (size_t)fm->h + 1)
		return NAN;
	hi = T - (size_t)fm->h + 1;		/* rows [lo, hi) */
	lo = hi > ws ? hi - ws : 0;
	n = fm->cn[hi] - fm->cn[lo];
	if (n < 2)
		return NAN;
	m = (fm->cs[hi] - fm->cs[lo]) / (double)n;
	return sqrt(fmax(0, (fm->cs2[hi] - fm->cs2[lo]) / (double)n - m * m));
}

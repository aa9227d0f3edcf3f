/* Bars, features and ridge regression (see model.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

void
bars_free(struct bars *b)
{
	free(b->t);
	free(b->close);
	memset(b, 0, sizeof(*b));
}

int
bars_parse_csv(const char *text, size_t len, const char *name, struct bars *b, char *err,
    size_t errlen)
{
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;

	memset(b, 0, sizeof(*b));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[256], *comma, *e1, *e2;
		long long t;
		double c;

		lineno++;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "%s:%zu: line too long", name, lineno);
			goto fail;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (ll > 0 && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		p = nl ? nl + 1 : end;
		if (line[0] == '\0')
			continue;
		if (!isdigit((unsigned char)line[0])) {
			if (lineno == 1)
				continue;	/* header */
			snprintf(err, errlen, "%s:%zu: expected \"unix,close\"", name, lineno);
			goto fail;
		}
		comma = strchr(line, ',');
		if (comma == NULL) {
			snprintf(err, errlen, "%s:%zu: expected \"unix,close\"", name, lineno);
			goto fail;
		}
		*comma = '\0';
		errno = 0;
		t = strtoll(line, &e1, 10);
		c = strtod(comma + 1, &e2);
		if (errno != 0 || *e1 != '\0' || (*e2 != '\0' && *e2 != ',') || !isfinite(c) ||
		    c <= 0 || t <= 0) {
			snprintf(err, errlen, "%s:%zu: bad time or price", name, lineno);
			goto fail;
		}
		if (b->n > 0 && t <= b->t[b->n - 1]) {
			snprintf(err, errlen, "%s:%zu: times must increase", name, lineno);
			goto fail;
		}
		if (b->n == cap) {
			cap = cap ? cap * 2 : 1024;
			b->t = xrealloc(b->t, cap * sizeof(*b->t));
			b->close = xrealloc(b->close, cap * sizeof(*b->close));
		}
		if (b->n > 0 && t - b->t[b->n - 1] > 3600)
			b->gaps += (size_t)((t - b->t[b->n - 1]) / 3600 - 1);
		b->t[b->n] = t;
		b->close[b->n] = c;
		b->n++;
	}
	return 0;
fail:
	bars_free(b);
	return -1;
}

int
bars_read_csv(const char *path, struct bars *b, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, (size_t)1 << 30, &len);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = bars_parse_csv(text, len, path, b, err, errlen);
	free(text);
	return rc;
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

	if (i < 336 || i >= b->n)
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
	double sd[3], lc = log(b->close[i < b->n ? i : 0]), mx = lc, mn = lc, l;
	size_t w, k;

	if (i < 721 || i >= b->n)
		return -1;
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
	return 0;
}

double
target_at(const struct bars *b, size_t i, long h)
{
	if (h <= 0 || i + (size_t)h >= b->n)
		return NAN;
	return log(b->close[i + (size_t)h] / b->close[i]);
}

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

int
validate(const struct bars *b, size_t end, long h, long holdout, long span, double lambda,
    double shrink, struct validation *v)
{
	struct ridge m;
	size_t test_from, i, n = 0, agree = 0;
	size_t train_to;
	double f[NFEAT], se = 0, sz = 0, sp = 0, spp = 0, sy = 0, syy = 0, p, y;

	memset(v, 0, sizeof(*v));
	if (holdout <= 0 || end < (size_t)(holdout + 2 * h + 400))
		return -1;
	/* Test rows need complete targets: the last ones end at `end`. */
	test_from = end - (size_t)h - (size_t)holdout;
	train_to = test_from - (size_t)h;	/* purge gap >= horizon */
	if (ridge_fit(b, train_to > (size_t)span ? train_to - (size_t)span : 0, train_to,
	    train_to, h, lambda, 48, &m) == -1)
		return -1;
	for (i = test_from; i + (size_t)h < end + 1 && i < test_from + (size_t)holdout; i++) {
		if (features_at(b, i, f) == -1 || isnan(y = target_at(b, i, h)))
			continue;
		p = shrink * ridge_predict(&m, f);
		se += (p - y) * (p - y);
		sz += y * y;
		agree += (p > 0) == (y > 0);
		sp += p;
		spp += p * p;
		sy += y;
		syy += y * y;
		n++;
	}
	if (n == 0)
		return -1;
	v->n = n;
	v->mse = se / (double)n;
	v->mse_zero = sz / (double)n;
	v->da = (double)agree / (double)n;
	{
		double vp = spp / (double)n - (sp / (double)n) * (sp / (double)n);
		double vy = syy / (double)n - (sy / (double)n) * (sy / (double)n);

		v->log_aspect = vp > 0 && vy > 0 ? 0.5 * log10(vp / vy) : NAN;
	}
	return 0;
}

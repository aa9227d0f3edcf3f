/* Walk-forward backtest (see backtest.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "util.h"

struct acc {
	double	 se, ae, sp, spp, sy, syy, spy;
	size_t	 n, agree, n_da;
};

static void
acc_add(struct acc *a, double p, double y)
{
	a->se += (p - y) * (p - y);
	a->ae += fabs(p - y);
	a->sp += p;
	a->spp += p * p;
	a->sy += y;
	a->syy += y * y;
	a->spy += p * y;
	a->n++;
	if (y != 0 && p != 0) {
		a->n_da++;
		a->agree += (p > 0) == (y > 0);
	}
}

/* Wilson score interval for k successes in n trials at 95 %, n possibly fractional. */
static void
wilson(double phat, double n, double *lo, double *hi)
{
	const double z = 1.959964;
	double d, c, w;

	if (n <= 0) {
		*lo = *hi = NAN;
		return;
	}
	d = 1 + z * z / n;
	c = (phat + z * z / (2 * n)) / d;
	w = z * sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / d;
	*lo = c - w;
	*hi = c + w;
}

static void
acc_score(const struct acc *a, double mse_zero, double neff_per_decision, struct bt_score *s)
{
	double n = (double)a->n, vp, vy, cov;

	s->mse = a->se / n;
	s->skill = mse_zero > 0 ? 1 - s->mse / mse_zero : NAN;
	s->mae = a->ae / n;
	s->n_da = a->n_da;
	if (a->n_da > 0) {
		s->da = (double)a->agree / (double)a->n_da;
		wilson(s->da, (double)a->n_da * neff_per_decision, &s->da_low, &s->da_high);
	} else
		s->da = s->da_low = s->da_high = NAN;
	vp = a->spp / n - (a->sp / n) * (a->sp / n);
	vy = a->syy / n - (a->sy / n) * (a->sy / n);
	cov = a->spy / n - (a->sp / n) * (a->sy / n);
	s->corr = vp > 1e-300 && vy > 0 ? cov / sqrt(vp * vy) : NAN;
	s->log_aspect = vp > 1e-300 && vy > 0 ? 0.5 * log10(vp / vy) : NAN;
}

int
backtest_run(const struct bars *b, long h, long step, enum bt_half half,
    long start_window, const struct bt_model *models, size_t nm, struct bt_result *r,
    char *err, size_t errlen)
{
	double *XA, *XB = NULL, *X, *Y, *xs, *ys, f[NFMAX], y, p, lim;
	char *okA, *okB = NULL, *ok;
	int nf, anyb = 0;
	struct acc acc[BT_MAXMODELS];
	struct ridge m;
	long wmax = 0;
	size_t i, k, n = b->n, start, T, mid = b->n / 2, rows;

	memset(r, 0, sizeof(*r));
	memset(acc, 0, sizeof(acc));
	if (h <= 0 || step <= 0 || nm + 1 > BT_MAXMODELS) {
		snprintf(err, errlen, "bad horizon, step or number of models");
		return -1;
	}
	for (k = 0; k < nm; k++) {
		if (models[k].window < 2 * NFEAT) {
			snprintf(err, errlen, "model %s: window of %ld hours is too short",
			    models[k].name, models[k].window);
			return -1;
		}
		if (models[k].window > wmax)
			wmax = models[k].window;
		anyb |= models[k].features_b;
	}
	if (start_window > wmax)
		wmax = start_window;
	start = (anyb ? 721 : 336) + (size_t)wmax + (size_t)h;
	if (n < start + (size_t)h + 1) {
		snprintf(err, errlen, "%zu hourly bars; at least %zu are needed for one decision "
		    "(336 warm-up + window %ld + 2 x horizon %ld)", n, start + (size_t)h + 1, wmax,
		    h);
		return -1;
	}
	XA = xcalloc(n, NFEAT * sizeof(double));
	Y = xcalloc(n, sizeof(double));
	okA = xcalloc(n, 1);
	xs = xcalloc((size_t)wmax, NFMAX * sizeof(double));
	ys = xcalloc((size_t)wmax, sizeof(double));
	for (i = 0; i < n; i++) {
		okA[i] = features_at(b, i, XA + i * NFEAT) == 0;
		Y[i] = target_at(b, i, h);
	}
	if (anyb) {
		XB = xcalloc(n, NFEAT_B * sizeof(double));
		okB = xcalloc(n, 1);
		for (i = 0; i < n; i++)
			okB[i] = features_b_at(b, i, XB + i * NFEAT_B) == 0;
	}
	r->nmodels = nm + 1;
	r->names[0] = "zero";
	for (k = 0; k < nm; k++)
		r->names[k + 1] = models[k].name;
	for (T = start; T + (size_t)h < n; T += (size_t)step) {
		if ((half == BT_FIRST && T >= mid) || (half == BT_SECOND && T < mid))
			continue;
		if (!okA[T] || (anyb && !okB[T]) || isnan(y = Y[T]))
			continue;
		acc_add(&acc[0], 0, y);
		for (k = 0; k < nm; k++) {
			size_t from = T - (size_t)h - (size_t)models[k].window + 1;

			X = models[k].features_b ? XB : XA;
			ok = models[k].features_b ? okB : okA;
			nf = models[k].features_b ? NFEAT_B : NFEAT;
			memcpy(f, X + T * (size_t)nf, (size_t)nf * sizeof(double));
			/* Training rows end at T - h: their targets end by T (purge). */
			for (rows = 0, i = from; i <= T - (size_t)h; i++) {
				if (!ok[i] || isnan(Y[i]))
					continue;
				memcpy(xs + rows * (size_t)nf, X + i * (size_t)nf, (size_t)nf *
				    sizeof(double));
				ys[rows++] = Y[i];
			}
			if (models[k].xgb) {
				struct xgb_params xp;
				struct xgb *xm;
				char xe[256];
				double s1 = 0, s2 = 0;

				xgb_params_default(&xp);
				for (i = 0; i < rows; i++) {
					s1 += ys[i];
					s2 += ys[i] * ys[i];
				}
				xm = rows > 0 ? xgb_train(xs, ys, rows, nf, &xp, xe, sizeof(xe)) :
				    NULL;
				if (xm == NULL || xgb_predict(xm, f, &p) == -1)
					p = 0;
				xgb_free(xm);
				p *= models[k].shrink;
				s1 /= rows > 0 ? (double)rows : 1;
				lim = rows > 0 ? models[k].clip_sigma * sqrt(fmax(0, s2 /
				    (double)rows - s1 * s1)) : 0;
				if (lim > 0)
					p = p > lim ? lim : p < -lim ? -lim : p;
			} else if (ridge_fit_xy(xs, ys, rows, nf, models[k].lambda, &m) == -1)
				p = 0;
			else {
				p = models[k].shrink * ridge_predict(&m, f);
				lim = models[k].clip_sigma * m.target_sd;
				if (lim > 0)
					p = p > lim ? lim : p < -lim ? -lim : p;
			}
			acc_add(&acc[k + 1], p, y);
		}
		r->decisions++;
	}
	free(XA);
	free(XB);
	free(Y);
	free(okA);
	free(okB);
	free(xs);
	free(ys);
	if (r->decisions == 0) {
		snprintf(err, errlen, "no decision time in this half of the series");
		return -1;
	}
	r->weeks = (double)r->decisions * (double)step / (double)h;
	if (r->weeks > (double)r->decisions)
		r->weeks = (double)r->decisions;
	for (k = 0; k <= nm; k++)
		acc_score(&acc[k], acc[0].se / (double)acc[0].n, r->weeks / (double)r->decisions,
		    &r->s[k]);
	return 0;
}

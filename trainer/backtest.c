/* Walk-forward backtest (see backtest.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "util.h"

struct acc {
	double	 se, ae, sp, spp, sy, syy, spy, zl;
	size_t	 n, agree, n_da, nz;
};

double
zptae(double y, double p, double sigma)
{
	const double alpha = 0.25, beta = 2;
	double zt = y / sigma, zp = p / sigma, d;

	d = 0.01 * fabs(zp - zt);
	return fabs(zt / pow(1 + pow(fabs(zt), beta), (1 - alpha) / beta) -
	    zp / pow(1 + pow(fabs(zp), beta), (1 - alpha) / beta)) + d * d * d * d;
}

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
acc_score(const struct acc *a, const struct acc *zero, double neff_per_decision,
    struct bt_score *s)
{
	double n = (double)a->n, vp, vy, cov, mse_zero = zero->se / (double)zero->n;

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
	s->zptae_rel = a->nz > 0 && zero->zl > 0 ? (a->zl / (double)a->nz) /
	    (zero->zl / (double)zero->nz) : NAN;
}

/* The same model but for k: its f(x) can be reused. */
static int
same_but_shrink(const struct model_spec *a, const struct model_spec *b)
{
	const struct xgb_params *x = &a->xp, *y = &b->xp;

	return a->kind == b->kind && a->fs == b->fs && a->horizon == b->horizon &&
	    a->window == b->window && a->min_rows == b->min_rows && a->lambda == b->lambda &&
	    a->clip_sigma == b->clip_sigma && (a->kind == MK_RIDGE || (x->n_trees ==
	    y->n_trees && x->max_depth == y->max_depth && x->eta == y->eta && x->subsample ==
	    y->subsample && x->colsample == y->colsample && x->min_child_weight ==
	    y->min_child_weight && x->lambda == y->lambda && x->seed == y->seed &&
	    x->exact == y->exact && x->base_mean == y->base_mean));
}

int
backtest_run(const struct bars *b, long h, long step, enum bt_half half,
    long start_window, const struct model_spec *models, size_t nm, struct bt_result *r,
    char *err, size_t errlen)
{
	struct model_spec ms[BT_MAXMODELS];
	struct fmat fm[3];
	struct acc acc[BT_MAXMODELS];
	struct fit fit[BT_MAXMODELS];
	int rc[BT_MAXMODELS], used[3] = { 0, 0, 0 };
	double *cs, *cs2, y, p, sg, lim;
	size_t *cn;
	long wmax = 0, warm = 336, ws;
	size_t i, j, k, n = b->n, start, T, mid = b->n / 2, lo, hi;
	char e[256];

	memset(r, 0, sizeof(*r));
	memset(acc, 0, sizeof(acc));
	if (h <= 0 || step <= 0 || nm + 1 > BT_MAXMODELS) {
		snprintf(err, errlen, "bad horizon, step or number of models");
		return -1;
	}
	for (k = 0; k < nm; k++) {
		ms[k] = models[k];
		ms[k].horizon = h;
		if (ms[k].window < 2 * fset_nf(ms[k].fs)) {
			snprintf(err, errlen, "model %s: window of %ld hours is too short",
			    ms[k].name, ms[k].window);
			return -1;
		}
		if (ms[k].window > wmax)
			wmax = ms[k].window;
		if (fset_lookback(ms[k].fs) > warm)
			warm = fset_lookback(ms[k].fs);
		used[ms[k].fs] = 1;
	}
	if (start_window > wmax)
		wmax = start_window;
	start = (size_t)warm + (size_t)wmax + (size_t)h;
	if (n < start + (size_t)h + 1) {
		snprintf(err, errlen, "%zu hourly bars; at least %zu are needed for one decision "
		    "(%ld warm-up + window %ld + 2 x horizon %ld)", n, start + (size_t)h + 1,
		    warm, wmax, h);
		return -1;
	}
	for (j = 0; j < 3; j++)
		if (used[j])
			fmat_build(b, (enum fset)j, h, 0, &fm[j]);
	/* Running sums of the realised targets, for the ZPTAE scale. */
	ws = wmax > 720 ? wmax : 720;
	cs = xcalloc(n + 1, sizeof(double));
	cs2 = xcalloc(n + 1, sizeof(double));
	cn = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		y = target_at(b, i, h);
		cs[i + 1] = cs[i] + (isnan(y) ? 0 : y);
		cs2[i + 1] = cs2[i] + (isnan(y) ? 0 : y * y);
		cn[i + 1] = cn[i] + !isnan(y);
	}
	r->nmodels = nm + 1;
	r->names[0] = "zero";
	for (k = 0; k < nm; k++)
		r->names[k + 1] = models[k].name;
	for (T = start; T + (size_t)h < n; T += (size_t)step) {
		if ((half == BT_FIRST && T >= mid) || (half == BT_SECOND && T < mid))
			continue;
		if (isnan(y = target_at(b, T, h)))
			continue;
		for (j = 0; j < 3; j++)
			if (used[j] && !fm[j].ok[T])
				break;
		if (j < 3)
			continue;
		hi = T - (size_t)h + 1;
		lo = hi > (size_t)ws ? hi - (size_t)ws : 0;
		sg = NAN;
		if (cn[hi] - cn[lo] > 1) {
			double m = (cs[hi] - cs[lo]) / (double)(cn[hi] - cn[lo]);

			sg = sqrt(fmax(0, (cs2[hi] - cs2[lo]) / (double)(cn[hi] - cn[lo]) - m * m));
		}
		acc_add(&acc[0], 0, y);
		if (isfinite(sg) && sg > 0) {
			acc[0].zl += zptae(y, 0, sg);
			acc[0].nz++;
		}
		for (k = 0; k < nm; k++) {
			for (j = 0; j < k; j++)
				if (same_but_shrink(&ms[j], &ms[k]))
					break;
			if (j < k) {
				fit[k] = fit[j];
				rc[k] = rc[j];
			} else
				rc[k] = model_fit(b, &fm[ms[k].fs], T, &ms[k], 0, &fit[k], NULL, e,
				    sizeof(e));
			if (rc[k] != 0)
				p = 0;
			else {
				p = ms[k].shrink * fit[k].raw;
				lim = fit[k].clip;
				if (lim > 0)
					p = p > lim ? lim : p < -lim ? -lim : p;
			}
			acc_add(&acc[k + 1], p, y);
			if (isfinite(sg) && sg > 0) {
				acc[k + 1].zl += zptae(y, p, sg);
				acc[k + 1].nz++;
			}
		}
		r->decisions++;
	}
	for (j = 0; j < 3; j++)
		if (used[j])
			fmat_free(&fm[j]);
	free(cs);
	free(cs2);
	free(cn);
	if (r->decisions == 0) {
		snprintf(err, errlen, "no decision time in this half of the series");
		return -1;
	}
	r->weeks = (double)r->decisions * (double)step / (double)h;
	if (r->weeks > (double)r->decisions)
		r->weeks = (double)r->decisions;
	for (k = 0; k <= nm; k++)
		acc_score(&acc[k], &acc[0], r->weeks / (double)r->decisions, &r->s[k]);
	return 0;
}

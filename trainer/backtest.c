/* Walk-forward backtest (see backtest.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "resample.h"
#include "util.h"

double
zptae(double y, double p, double sigma)
{
	return loss_zptae(y, p, sigma);
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

/* Sums over a (re)sample of decisions for one model. */
struct sums {
	double	 se, sz, sp, spp, sy, syy, spy, lm, lz;
	size_t	 n, nl;
};

static void
sums_add(struct sums *a, double p, double y, double lm, double lz)
{
	a->se += (p - y) * (p - y);
	a->sz += y * y;
	a->sp += p;
	a->spp += p * p;
	a->sy += y;
	a->syy += y * y;
	a->spy += p * y;
	a->n++;
	if (isfinite(lm) && isfinite(lz)) {
		a->lm += lm;
		a->lz += lz;
		a->nl++;
	}
}

static double
sums_skill(const struct sums *a)
{
	return a->sz > 0 ? 1 - a->se / a->sz : NAN;
}

static double
sums_corr(const struct sums *a)
{
	double n = (double)a->n, vp, vy, cov;

	if (a->n < 2)
		return NAN;
	vp = a->spp / n - (a->sp / n) * (a->sp / n);
	vy = a->syy / n - (a->sy / n) * (a->sy / n);
	cov = a->spy / n - (a->sp / n) * (a->sy / n);
	return vp > 1e-300 && vy > 0 ? cov / sqrt(vp * vy) : NAN;
}

static double
sums_loss_rel(const struct sums *a)
{
	return a->nl > 0 && a->lz > 0 ? a->lm / a->lz : NAN;
}

/* Mean loss of p relative to zero's under m, over the decisions with a scale. */
static double
rel_loss(enum loss_method m, const struct czar_params *cp, const double *p, const double *y,
    const double *sg, size_t n)
{
	double lm = 0, lz = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!isfinite(sg[i]))
			continue;
		lm += loss_value(m, y[i], p[i], sg[i], cp);
		lz += loss_value(m, y[i], 0, sg[i], cp);
		k++;
	}
	return k > 0 && lz > 0 ? lm / lz : NAN;
}

/* The 2.5 and 97.5 % points of the finite values of v (sorted in place). */
static void
percentiles(double *v, size_t n, double ci[2])
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	if (k < 20) {
		ci[0] = ci[1] = NAN;
		return;
	}
	qsort(v, k, sizeof(double), resample_cmp_dbl);
	ci[0] = v[(size_t)floor(0.025 * (double)(k - 1))];
	ci[1] = v[(size_t)ceil(0.975 * (double)(k - 1))];
}

/*
 * Circular moving-block bootstrap: blocks of L consecutive decisions, started at random,
 * until n decisions are drawn; the intervals of MSE skill, correlation and loss_rel.
 */
static void
bootstrap(struct bt_result *r, double *const *pred, const double *y, double *const *lv,
    size_t n, size_t L, int nboot, uint64_t seed)
{
	double *skill, *corr, *lrel;
	struct sums *s;
	size_t b, i, j, k, start, nm = r->nmodels;
	uint64_t st = seed ? seed : BT_SEED;

	if (nboot <= 0 || n < 2)
		return;
	if (L < 1)
		L = 1;
	if (L > n)
		L = n;
	skill = xcalloc((size_t)nboot * nm, sizeof(double));
	corr = xcalloc((size_t)nboot * nm, sizeof(double));
	lrel = xcalloc((size_t)nboot * nm, sizeof(double));
	s = xcalloc(nm, sizeof(*s));
	for (b = 0; b < (size_t)nboot; b++) {
		memset(s, 0, nm * sizeof(*s));
		for (i = 0; i < n; ) {
			start = (size_t)(resample_rng(&st) % n);
			for (j = 0; j < L && i < n; j++, i++) {
				size_t d = (start + j) % n;

				for (k = 0; k < nm; k++)
					sums_add(&s[k], pred[k][d], y[d], lv[k][d], lv[0][d]);
			}
		}
		for (k = 0; k < nm; k++) {
			skill[k * (size_t)nboot + b] = sums_skill(&s[k]);
			corr[k * (size_t)nboot + b] = sums_corr(&s[k]);
			lrel[k * (size_t)nboot + b] = sums_loss_rel(&s[k]);
		}
	}
	for (k = 0; k < nm; k++) {
		percentiles(skill + k * (size_t)nboot, (size_t)nboot, r->s[k].mse_skill_ci);
		percentiles(corr + k * (size_t)nboot, (size_t)nboot, r->s[k].corr_ci);
		percentiles(lrel + k * (size_t)nboot, (size_t)nboot, r->s[k].loss_rel_ci);
	}
	free(skill);
	free(corr);
	free(lrel);
	free(s);
}

/* The scores of one model over the n decisions. */
static void
score(struct bt_score *o, const double *p, const double *y, const double *sg,
    const double *lv, const double *lz, size_t n, double neff_per_decision,
    const struct czar_params *cp)
{
	struct sums a;
	double vp, vy, nn = (double)n, ae = 0;
	size_t i, agree = 0, nda = 0;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		sums_add(&a, p[i], y[i], lv[i], lz[i]);
		ae += fabs(p[i] - y[i]);
		if (y[i] != 0 && p[i] != 0) {
			nda++;
			agree += (p[i] > 0) == (y[i] > 0);
		}
	}
	o->mse = a.se / nn;
	o->skill = sums_skill(&a);
	o->mae = ae / nn;
	o->n_da = nda;
	if (nda > 0) {
		o->da = (double)agree / (double)nda;
		wilson(o->da, (double)nda * neff_per_decision, &o->da_low, &o->da_high);
	} else
		o->da = o->da_low = o->da_high = NAN;
	o->corr = sums_corr(&a);
	vp = a.spp / nn - (a.sp / nn) * (a.sp / nn);
	vy = a.syy / nn - (a.sy / nn) * (a.sy / nn);
	o->log_aspect = vp > 1e-300 && vy > 0 ? 0.5 * log10(vp / vy) : NAN;
	o->zptae_rel = rel_loss(LOSS_ZPTAE, cp, p, y, sg, n);
	o->czar_rel = rel_loss(LOSS_CZAR, cp, p, y, sg, n);
	o->loss_rel = sums_loss_rel(&a);
	o->mse_skill_ci[0] = o->mse_skill_ci[1] = NAN;
	o->corr_ci[0] = o->corr_ci[1] = NAN;
	o->loss_rel_ci[0] = o->loss_rel_ci[1] = NAN;
}

/* The same model but for k: its f(x) can be reused. */
static int
same_but_shrink(const struct model_spec *a, const struct model_spec *b)
{
	const struct xgb_params *x = &a->xp, *y = &b->xp;

	return a->kind == b->kind && a->fs == b->fs && a->horizon == b->horizon &&
	    a->window == b->window && a->min_rows == b->min_rows && a->lambda == b->lambda &&
	    a->clip_sigma == b->clip_sigma && (a->kind != MK_XGB || (x->n_trees ==
	    y->n_trees && x->max_depth == y->max_depth && x->eta == y->eta && x->subsample ==
	    y->subsample && x->colsample == y->colsample && x->min_child_weight ==
	    y->min_child_weight && x->lambda == y->lambda && x->seed == y->seed &&
	    x->exact == y->exact && x->base_mean == y->base_mean && x->czar == y->czar &&
	    x->czar_alpha == y->czar_alpha));
}

void
backtest_free(struct bt_result *r)
{
	size_t k;

	free(r->time);
	free(r->realized);
	free(r->sigma);
	for (k = 0; k < BT_MAXMODELS; k++)
		free(r->pred[k]);
	r->time = NULL;
	r->realized = r->sigma = NULL;
	memset(r->pred, 0, sizeof(r->pred));
}

int
backtest_run(const struct bars *b, long h, long step, enum bt_half half,
    long start_window, const struct model_spec *models, size_t nm, struct bt_result *r,
    char *err, size_t errlen)
{
	struct bt_opts o;

	memset(&o, 0, sizeof(o));
	o.loss = LOSS_MSE;
	o.czar_alpha = CZAR_ALPHA_EVAL;
	o.start_window = start_window;
	o.seed = BT_SEED;
	o.nboot = BT_BOOT;
	return backtest_run_opts(b, h, step, half, models, nm, &o, r, err, errlen);
}

int
backtest_run_opts(const struct bars *b, long h, long step, enum bt_half half,
    const struct model_spec *models, size_t nm, const struct bt_opts *opts,
    struct bt_result *r, char *err, size_t errlen)
{
	struct bt_opts o;
	struct model_spec ms[BT_MAXMODELS];
	struct fmat fm[4];
	struct fit fit[BT_MAXMODELS];
	struct czar_params cp;
	int rc[BT_MAXMODELS], used[4] = { 0, 0, 0, 0 };
	double *pred[BT_MAXMODELS], *lv[BT_MAXMODELS], *ys, *sgs, y, p, sg, lim;
	int64_t *ts;
	long wmax = 0, warm = 336, H;
	size_t j, k, n = b->n, start, T, mid = b->n / 2, cap, nd = 0;
	char e[256];

	memset(r, 0, sizeof(*r));
	if (opts == NULL) {
		memset(&o, 0, sizeof(o));
		o.loss = LOSS_MSE;
		o.czar_alpha = CZAR_ALPHA_EVAL;
		o.seed = BT_SEED;
		o.nboot = BT_BOOT;
	} else
		o = *opts;
	cp = (struct czar_params){ o.czar_alpha, CZAR_EPSILON, CZAR_TAU };
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
		if (ms[k].window > wmax && ms[k].window != MODEL_EXPANDING)
			wmax = ms[k].window;
		if (fset_lookback(ms[k].fs) > warm)
			warm = fset_lookback(ms[k].fs);
		used[ms[k].fs] = 1;
	}
	H = o.start_window > 0 ? o.start_window : wmax > 0 ? wmax : MODEL_DEFAULT_WINDOW;
	r->start_window = H;
	r->warmup = warm;
	r->loss = o.loss;
	r->czar_alpha = o.czar_alpha;
	start = (size_t)warm + (size_t)H + (size_t)h;
	if (n < start + (size_t)h + 1) {
		snprintf(err, errlen, "%zu hourly bars; at least %zu are needed for one decision "
		    "(%ld warm-up + window %ld + 2 x horizon %ld)", n, start + (size_t)h + 1,
		    warm, H, h);
		return -1;
	}
	for (j = 0; j < 4; j++)
		if (used[j])
			fmat_build(b, (enum fset)j, h, 0, &fm[j]);
	if (!used[FS_A])	/* the loss scale comes from fm[FS_A] */
		fmat_build(b, FS_A, h, n, &fm[FS_A]);
	cap = (n - start) / (size_t)step + 2;
	ts = xcalloc(cap, sizeof(*ts));
	ys = xcalloc(cap, sizeof(double));
	sgs = xcalloc(cap, sizeof(double));
	for (k = 0; k <= nm; k++) {
		pred[k] = xcalloc(cap, sizeof(double));
		lv[k] = xcalloc(cap, sizeof(double));
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
		for (j = 0; j < 4; j++)
			if (used[j] && !fm[j].ok[T])
				break;
		if (j < 4)
			continue;
		sg = fmat_sigma(&fm[FS_A], T, H);
		ts[nd] = b->t[T];
		ys[nd] = y;
		sgs[nd] = sg;
		pred[0][nd] = 0;
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
			pred[k + 1][nd] = p;
		}
		for (k = 0; k <= nm; k++)
			lv[k][nd] = isfinite(sg) ? loss_value(o.loss, y, pred[k][nd], sg, &cp) : NAN;
		nd++;
	}
	for (j = 0; j < 4; j++)
		if (used[j] || j == FS_A)
			fmat_free(&fm[j]);
	r->decisions = nd;
	if (nd == 0) {
		snprintf(err, errlen, "no decision time in this half of the series (decisions "
		    "start at hour %zu of %zu: %ld warm-up + window %ld + horizon %ld)", start, n,
		    warm, H, h);
		free(ts);
		free(ys);
		free(sgs);
		for (k = 0; k <= nm; k++) {
			free(pred[k]);
			free(lv[k]);
		}
		return -1;
	}
	r->first_decision = ts[0];
	r->last_decision = ts[nd - 1];
	r->weeks = (double)nd * (double)step / (double)h;
	if (r->weeks > (double)nd)
		r->weeks = (double)nd;
	for (k = 0; k <= nm; k++)
		score(&r->s[k], pred[k], ys, sgs, lv[k], lv[0], nd, r->weeks / (double)nd, &cp);
	bootstrap(r, pred, ys, lv, nd, (size_t)((BT_BLOCK_HOURS + step / 2) / step), o.nboot,
	    o.seed);
	for (k = 0; k <= nm; k++)
		free(lv[k]);
	if (o.keep) {
		r->time = ts;
		r->realized = ys;
		r->sigma = sgs;
		for (k = 0; k <= nm; k++)
			r->pred[k] = pred[k];
	} else {
		free(ts);
		free(ys);
		free(sgs);
		for (k = 0; k <= nm; k++)
			free(pred[k]);
	}
	return 0;
}

/*
 * The ground truth of past windows and the shadow scores (see truth.h): owns the rule
 * "realised = ln(close(T + H) / close(T)), T the hour of the row", and the shadow models'
 * running losses with their block-bootstrap interval.  Pure: the bars file is read,
 * nothing is written.  Used by `alloractl history` and by the trainer's shadow scores
 * (trainer/shadow.c) that status and metrics show.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "truth.h"
#include "resample.h"
#include "fetch.h"
#include "util.h"

#define TRUTH_BLOCK_S	(672 * 3600.0)	/* bootstrap blocks of 4 weeks */
#define TRUTH_BOOT	1000
#define TRUTH_SEED	0x9e3779b97f4a7c15ULL

static int
cmp_nonce(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t p = json_integer_value(json_object_get(x, "nonce"));
	json_int_t q = json_integer_value(json_object_get(y, "nonce"));

	return p < q ? -1 : p > q;
}

json_t **
truth_rows(json_t *all, size_t *n)
{
	json_t **rows = xcalloc(json_object_size(all) + 1, sizeof(json_t *)), *rec;
	const char *k;

	*n = 0;
	json_object_foreach(all, k, rec)
		rows[(*n)++] = rec;
	qsort(rows, *n, sizeof(rows[0]), cmp_nonce);
	return rows;
}

/* The close of the bar starting at hour t (exact), or NAN. */
static double
close_at(const struct bars *b, int64_t t)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->t[lo] == t ? b->close[lo] : NAN;
}

static double
horizon_sd(const struct bars *b, long h)
{
	double s = 0, s2 = 0, c;
	size_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		c = close_at(b, b->t[i] + h * 3600);
		if (isnan(c))
			continue;
		s += log(c / b->close[i]);
		s2 += log(c / b->close[i]) * log(c / b->close[i]);
		n++;
	}
	if (n < 2)
		return NAN;
	return sqrt(fmax(s2 / (double)n - (s / (double)n) * (s / (double)n), 0));
}

void
truth_load(struct truth *tr, const struct config *c, const struct config_topic *t,
    enum loss_method m)
{
	char err[512];

	memset(tr, 0, sizeof(*tr));
	tr->sd = NAN;
	tr->h = t->target_hours;
	tr->m = m;
	/* The bars: the csv: file, or the trainer's cache. */
	tr->path = strncmp(t->data_source, "csv:", 4) == 0 ? xstrdup(t->data_source + 4) :
	    bar_cache_path(c, t);
	if (tr->path != NULL && bars_read_csv(tr->path, &tr->bars, err, sizeof(err)) == 0) {
		tr->have_bars = 1;
		tr->sd = horizon_sd(&tr->bars, t->target_hours);
	}
}

void
truth_free(struct truth *tr)
{
	if (tr->have_bars)
		bars_free(&tr->bars);
	free(tr->path);
	memset(tr, 0, sizeof(*tr));
}

double
truth_when(json_t *r)
{
	json_t *first = json_object_get(r, "seen_time");
	double when = 0;

	if (!json_is_string(first))
		first = json_object_get(r, "time");
	if (json_is_string(first))
		parse_iso8601(json_string_value(first), &when);
	return when;
}

double
truth_realized(const struct truth *tr, double when)
{
	int64_t h0;
	double c0, c1;

	if (!tr->have_bars || when <= 0)
		return NAN;
	h0 = (int64_t)when / 3600 * 3600;
	c0 = close_at(&tr->bars, h0);
	c1 = close_at(&tr->bars, h0 + tr->h * 3600);
	return !isnan(c0) && !isnan(c1) ? log(c1 / c0) : NAN;
}

double
truth_loss(const struct truth *tr, double y, double v)
{
	double l;

	if (isnan(y) || isnan(v))
		return NAN;
	l = loss_value(tr->m, y, v, tr->sd, NULL);
	return isfinite(l) ? l : NAN;
}

/* ---- shadow scores ---- */

/*
 * The 95 % circular moving-block bootstrap interval of the mean of d[0..n): blocks of L
 * consecutive windows started at random until n are drawn (as the backtest resamples).
 */
static int
boot_ci(const double *d, size_t n, size_t L, double ci[2])
{
	double *m;
	size_t b, i, j;
	uint64_t st = TRUTH_SEED;

	if (n < 2)
		return -1;
	if (L < 1)
		L = 1;
	if (L > n)
		L = n;
	m = xcalloc(TRUTH_BOOT, sizeof(double));
	for (b = 0; b < TRUTH_BOOT; b++) {
		double s = 0;

		for (i = 0; i < n; ) {
			size_t start = (size_t)(resample_rng(&st) % n);

			for (j = 0; j < L && i < n; j++, i++)
				s += d[(start + j) % n];
		}
		m[b] = s / (double)n;
	}
	qsort(m, TRUTH_BOOT, sizeof(double), resample_cmp_dbl);
	ci[0] = m[(size_t)floor(0.025 * (TRUTH_BOOT - 1))];
	ci[1] = m[(size_t)ceil(0.975 * (TRUTH_BOOT - 1))];
	free(m);
	return 0;
}

static json_t *
num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
score_one(const struct truth *tr, json_t **rows, size_t n, const char *model)
{
	double *d = xcalloc(n + 1, sizeof(double)), sl = 0, sz = 0, ss = 0, t0 = 0, t1 = 0;
	double ci[2], v, y;
	size_t i, k = 0, ks = 0;
	json_t *o;

	for (i = 0; i < n; i++) {
		json_t *sh = json_object_get(json_object_get(rows[i], "shadow"), model);
		const char *val = json_string_value(json_object_get(sh, "value"));
		const char *sub = json_string_value(json_object_get(rows[i], "value"));
		double when = truth_when(rows[i]), lm, lz, lsub;

		if (val == NULL || parse_double(val, &v) == -1)
			continue;
		y = truth_realized(tr, when);
		lm = truth_loss(tr, y, v);
		lz = truth_loss(tr, y, 0);
		if (isnan(lm) || isnan(lz))
			continue;
		if (k == 0)
			t0 = when;
		t1 = when;
		d[k++] = lm - lz;
		sl += lm;
		sz += lz;
		if (sub != NULL && parse_double(sub, &v) == 0 && !isnan(lsub = truth_loss(tr, y,
		    v))) {
			ss += lsub;
			ks++;
		}
	}
	o = json_pack("{s:s, s:I}", "model", model, "n", (json_int_t)k);
	json_object_set_new(o, "loss", num_or_null(k > 0 ? sl / (double)k : NAN));
	json_object_set_new(o, "zero_loss", num_or_null(k > 0 ? sz / (double)k : NAN));
	json_object_set_new(o, "submitted_loss", num_or_null(ks > 0 ? ss / (double)ks : NAN));
	json_object_set_new(o, "loss_minus_zero", num_or_null(k > 0 ? (sl - sz) / (double)k :
	    NAN));
	{
		/*
		 * Blocks of 4 weeks of windows at the rate the windows came, but no longer
		 * than the cube root of the windows: a block as long as the series would
		 * resample nothing but shifts of it (an interval of width 0).
		 */
		double per = k > 1 ? (t1 - t0) / (double)(k - 1) : 0;
		size_t L = per > 0 ? (size_t)fmax(1, round(TRUTH_BLOCK_S / per)) : 1;

		if ((double)L > ceil(cbrt((double)k)))
			L = (size_t)ceil(cbrt((double)k));

		if (boot_ci(d, k, L, ci) == 0)
			json_object_set_new(o, "ci", json_pack("[f, f]", ci[0], ci[1]));
		else
			json_object_set_new(o, "ci", json_null());
	}
	free(d);
	return o;
}

json_t *
truth_shadow_scores(const struct truth *tr, json_t **rows, size_t n, char *const *models)
{
	json_t *out = json_array(), *seen = json_object(), *v;
	const char *k;
	size_t i;

	for (i = 0; models != NULL && models[i] != NULL; i++) {
		json_object_set_new(seen, models[i], json_true());
		json_array_append_new(out, score_one(tr, rows, n, models[i]));
	}
	/* Then the models no longer configured but still in the ledger. */
	for (i = 0; i < n; i++)
		json_object_foreach(json_object_get(rows[i], "shadow"), k, v)
			if (json_object_get(seen, k) == NULL)
				json_object_set_new(seen, k, json_false());
	json_object_foreach(seen, k, v)
		if (json_is_false(v))
			json_array_append_new(out, score_one(tr, rows, n, k));
	json_decref(seen);
	return out;
}

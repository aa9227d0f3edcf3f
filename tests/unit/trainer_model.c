/*
 * Trainer: CSV bars, the hourly grid (gaps, partial bars), the three feature sets, target
 * alignment, purge, ridge and XGBoost (the reference recipe included), model files, model
 * specs from the configuration, ZPTAE and the walk-forward backtest.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

#include "trainer/backtest.h"
#include "config.h"
#include "ctl.h"
#include "trainer/model.h"
#include "util.h"
#include "synth.h"

static int
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

T_TEST(csv_parse)
{
	static const char ok[] = "unix,close\r\n1600000000,100.5\r\n1600003600,101\n\n"
	    "1600014400,102.25\n";
	struct bars b;
	char err[256];

	T_ASSERT(bars_parse_csv(ok, sizeof(ok) - 1, "t.csv", &b, err, sizeof(err)) == 0);
	T_EQ_INT(b.n, 3);
	T_EQ_INT(b.t[2], 1600014400);
	T_ASSERT(b.close[2] == 102.25);
	T_EQ_INT(b.gaps, 2);	/* two missing hours */
	bars_free(&b);
}

T_TEST(csv_errors)
{
	static const char *bad[] = {
		"1600000000,100\n1600000000,101\n",	/* times must increase */
		"1600003600,100\n1600000000,101\n",
		"1600000000,-1\n",
		"1600000000,0\n",
		"1600000000,nan\n",
		"1600000000,inf\n",
		"1600000000 100\n",
		"1600000000x,100\n",
		"1600000000,100abc\n",
		"99999999999999999999999,1\n",
		"unix,close\n1600000000,1\nfoo,bar\n",
	};
	struct bars b;
	char err[256], longline[600];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (bars_parse_csv(bad[i], strlen(bad[i]), "bad.csv", &b, err, sizeof(err)) != -1)
			T_FAIL("accepted: %s", bad[i]);
		T_CHECK(strncmp(err, "bad.csv:", 8) == 0);
		T_CHECK(b.t == NULL && b.n == 0);
	}
	memset(longline, '1', sizeof(longline));
	T_ASSERT(bars_parse_csv(longline, sizeof(longline), "l.csv", &b, err, sizeof(err)) == -1);
	T_ASSERT(bars_read_csv("/nonexistent/x.csv", &b, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "/nonexistent/x.csv") != NULL);
}

/* ln c[i] = 0.001 i: every hourly log return is 0.001. */
static void
linear(struct bars *b, size_t n)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->t = xcalloc(n, sizeof(*b->t));
	b->close = xcalloc(n, sizeof(*b->close));
	b->n = n;
	b->gaps = 0;
	for (i = 0; i < n; i++) {
		b->t[i] = 1600000000 + (int64_t)i * 3600;
		b->close[i] = 100 * exp(0.001 * (double)i);
	}
}

T_TEST(features_hand_checked)
{
	struct bars b;
	double f[NFEAT], m24 = 0, m168 = 0;
	size_t n = 400, k;

	linear(&b, n);
	T_ASSERT(features_at(&b, 335, f) == -1);	/* too little history */
	T_ASSERT(features_at(&b, n, f) == -1);		/* past the end */
	T_ASSERT(features_at(&b, n - 1, f) == 0);
	T_CHECK(near(f[0], 0.001, 1e-12));
	T_CHECK(near(f[1], 0.006, 1e-12));
	T_CHECK(near(f[2], 0.024, 1e-12));
	T_CHECK(near(f[3], 0.072, 1e-12));
	T_CHECK(near(f[4], 0.168, 1e-12));
	T_CHECK(near(f[5], 0.001, 1e-12));		/* RMS of hourly returns */
	T_CHECK(near(f[6], 0.001, 1e-12));
	for (k = 0; k < 24; k++)
		m24 += exp(-0.001 * (double)k) / 24;
	for (k = 0; k < 168; k++)
		m168 += exp(-0.001 * (double)k) / 168;
	T_CHECK(near(f[7], -log(m24), 1e-12));
	T_CHECK(near(f[8], -log(m168), 1e-12));
	T_CHECK(near(f[9], 0.024, 1e-12));

	/* The newest row is the one used: a jump in the last close shows at once. */
	b.close[n - 1] *= exp(0.1);
	T_ASSERT(features_at(&b, n - 1, f) == 0);
	T_CHECK(near(f[0], 0.101, 1e-12));
	T_CHECK(near(f[4], 0.268, 1e-12));
	T_CHECK(near(f[9], 0.024, 1e-12));		/* the previous day is unchanged */
	/* ... and not in the features of an earlier row. */
	T_ASSERT(features_at(&b, n - 2, f) == 0);
	T_CHECK(near(f[0], 0.001, 1e-12));
	bars_free(&b);
}

/* ln c alternates 0, a, 0, a...: hourly returns are +-a, their std is a on even windows. */
T_TEST(features_b_hand_checked)
{
	struct bars b;
	double f[NFEAT_B], a = 0.01;
	size_t n = 800, i;

	memset(&b, 0, sizeof(b));
	b.t = xcalloc(n, sizeof(*b.t));
	b.close = xcalloc(n, sizeof(*b.close));
	b.n = n;
	b.gaps = 0;
	for (i = 0; i < n; i++) {
		b.t[i] = 1600000000 + (int64_t)i * 3600;
		b.close[i] = 100 * exp(a * (double)(i % 2));
	}
	T_ASSERT(features_b_at(&b, 720, f) == -1);	/* needs 721 h of history */
	T_ASSERT(features_b_at(&b, 798, f) == 0);	/* even: ln c = ln 100 */
	for (i = 0; i < 3; i++)
		T_CHECK(near(f[i], a, 1e-12));		/* std 24, 168, 720 */
	for (i = 3; i < 6; i++)
		T_CHECK(near(f[i], 0, 1e-12));		/* momentum over even spans */
	for (i = 6; i < 9; i++)
		T_CHECK(near(f[i], -a / 2, 1e-12));	/* below the mean by a/2 */
	T_CHECK(near(f[9], 1, 1e-9) && near(f[10], 1, 1e-9));
	T_CHECK(near(f[11], -a, 1e-12));		/* below the max */
	T_CHECK(near(f[12], 0, 1e-12));			/* at the min */
	/* The newest row: the odd one sits at the max. */
	T_ASSERT(features_b_at(&b, 799, f) == 0);
	T_CHECK(near(f[11], 0, 1e-12) && near(f[12], a, 1e-12));
	T_CHECK(near(f[6], a / 2, 1e-12));
	/* A flat series has no sigma: refused. */
	for (i = 0; i < n; i++)
		b.close[i] = 100;
	T_ASSERT(features_b_at(&b, 799, f) == -1);
	bars_free(&b);
}

T_TEST(features_b_momentum)
{
	struct bars b;
	double f[NFEAT_B];
	static const double k[7] = { 1, 6, 24, 72, 168, 336, 720 };
	size_t i;

	linear(&b, 800);
	T_ASSERT(features_b_at(&b, 799, f) == 0);
	for (i = 0; i < 7; i++)
		T_CHECK(near(f[13 + i], 0.001 * k[i], 1e-12));
	bars_free(&b);
}

/*
 * ln c alternates 0, a: the hourly returns alternate -a (even rows) and +a (odd rows).
 * At an even row i: r[i - lag] = -a for even lags, +a for odd ones; rolling means over even
 * windows are 0 and sample standard deviations a sqrt(w / (w - 1)).
 */
T_TEST(features_reference_hand_checked)
{
	static const int lag[8] = { 1, 2, 3, 6, 12, 24, 48, 72 };
	static const int win[5] = { 6, 12, 24, 48, 72 };
	struct bars b;
	double f[NFEAT_REF], g[NFEAT_REF], a = 0.01;
	size_t n = 400, i;

	memset(&b, 0, sizeof(b));
	b.t = xcalloc(n, sizeof(*b.t));
	b.close = xcalloc(n, sizeof(*b.close));
	b.n = n;
	for (i = 0; i < n; i++) {
		b.t[i] = 1600000000 + (int64_t)i * 3600;
		b.close[i] = 100 * exp(a * (double)(i % 2));
	}
	T_ASSERT(features_ref_at(&b, 72, f) == -1);	/* needs 73 h of history */
	T_ASSERT(features_ref_at(&b, 73, f) == 0);
	T_ASSERT(features_ref_at(&b, n, f) == -1);
	T_ASSERT(features_ref_at(&b, n - 2, f) == 0);	/* even */
	for (i = 0; i < 8; i++)
		T_CHECK(near(f[i], lag[i] % 2 ? a : -a, 1e-12));
	for (i = 0; i < 5; i++) {
		T_CHECK(near(f[8 + i], 0, 1e-12));
		T_CHECK(near(f[13 + i], a * sqrt((double)win[i] / (win[i] - 1)), 1e-12));
	}
	/*
	 * The newest row is the one used (not the row 168 h old): a jump in the last close
	 * shows in the rolling mean and std at once, and not in the lags (r[t] is not one).
	 */
	T_ASSERT(features_ref_at(&b, n - 1, g) == 0);
	b.close[n - 1] *= exp(0.06);
	T_ASSERT(features_ref_at(&b, n - 1, f) == 0);
	for (i = 0; i < 8; i++)
		T_CHECK(f[i] == g[i]);
	T_CHECK(near(f[8], g[8] + 0.06 / 6, 1e-12));
	T_CHECK(near(f[12], g[12] + 0.06 / 72, 1e-12));
	T_CHECK(f[13] > g[13]);
	/* ... and the row an hour later has it as its first lag. */
	bars_free(&b);
	linear(&b, 200);
	b.close[198] *= exp(0.05);
	T_ASSERT(features_ref_at(&b, 199, f) == 0);
	T_CHECK(near(f[0], 0.051, 1e-12));		/* lr_lag_1h = r[198] */
	T_CHECK(near(f[1], 0.001, 1e-12));
	bars_free(&b);
}

T_TEST(grid_gaps_and_partial_bars)
{
	/*
	 * Hours 1-5, 7 (hour 6 missing: filled), 8, 17 (8 hours missing: a long gap), 18 and
	 * 18 again (65000 s rounds to the same hour).
	 */
	static const char ok[] = "3600,100\n7200,101\n10800,102\n14400,103\n18000,104\n"
	    "25200,106\n28800,107\n61200,116\n64800,117\n65000,118\n";
	struct bars b;
	char err[128];
	size_t nbad, i;

	T_ASSERT(bars_parse_csv(ok, sizeof(ok) - 1, "g", &b, err, sizeof(err)) == 0);
	T_EQ_INT(b.gaps, 9);
	T_EQ_INT(bars_regularize(&b, 2, 1000, &nbad), 9);
	T_EQ_INT(nbad, 8);
	T_EQ_INT(b.n, 18);		/* 65000 is the same hour as 64800: it replaces it */
	for (i = 0; i < b.n; i++)
		T_CHECK(b.t[i] == 3600 + 3600 * (int64_t)i);
	T_CHECK(b.close[5] == 104);	/* filled forward */
	T_CHECK(b.close[17] == 118);
	T_CHECK(b.bad != NULL && b.bad[18] == 8);
	T_CHECK(!isnan(target_at(&b, 0, 6)));		/* to hour 7: real */
	T_CHECK(isnan(target_at(&b, 0, 8)));		/* ends in the long gap */
	T_CHECK(!isnan(target_at(&b, 0, 16)));		/* both ends real */
	/* Drop a partial last bar: at 68000 s the bar of 64800 has not ended. */
	T_EQ_INT(bars_drop_partial(&b, 68000), 1);
	T_EQ_INT(b.n, 17);
	T_EQ_INT(bars_drop_partial(&b, 1e12), 0);
	bars_free(&b);
	/* A span longer than max_hours keeps the newest hours. */
	T_ASSERT(bars_parse_csv(ok, sizeof(ok) - 1, "g", &b, err, sizeof(err)) == 0);
	bars_regularize(&b, 2, 5, NULL);
	T_EQ_INT(b.n, 2);
	T_EQ_INT(b.t[0], 61200);
	bars_free(&b);
}

T_TEST(features_skip_long_gaps)
{
	struct bars b;
	double f[NFMAX];
	size_t i, nbad;

	linear(&b, 1000);
	/* Remove hours 500-509 (10 h: a long gap). */
	for (i = 510; i < b.n; i++) {
		b.t[i - 10] = b.t[i];
		b.close[i - 10] = b.close[i];
	}
	b.n -= 10;
	T_ASSERT(bars_regularize(&b, 2, 100000, &nbad) == 10 && nbad == 10);
	T_EQ_INT(b.n, 1000);
	T_ASSERT(features_at(&b, 499, f) == 0);
	T_ASSERT(features_at(&b, 500, f) == -1);
	T_ASSERT(features_at(&b, 509 + 168, f) == -1);	/* the lookback touches it */
	T_ASSERT(features_at(&b, 510 + 168, f) == 0);
	T_ASSERT(features_ref_at(&b, 509 + 73, f) == -1);
	T_ASSERT(features_ref_at(&b, 510 + 73, f) == 0);
	T_ASSERT(features_b_at(&b, 999, f) == -1);	/* 720 h back */
	T_CHECK(isnan(target_at(&b, 400, 100)));
	T_CHECK(!isnan(target_at(&b, 400, 99)));
	bars_free(&b);
}

T_TEST(target_alignment)
{
	struct bars b;

	linear(&b, 500);
	b.close[400] = 123;
	T_CHECK(near(target_at(&b, 232, 168), log(123 / b.close[232]), 1e-12));
	T_CHECK(near(target_at(&b, 10, 168), 0.168, 1e-12));
	T_CHECK(near(target_at(&b, 10, 1), 0.001, 1e-12));
	T_CHECK(!isnan(target_at(&b, 500 - 169, 168)));
	T_CHECK(isnan(target_at(&b, 500 - 168, 168)));	/* c[t+h] not known yet */
	T_CHECK(isnan(target_at(&b, 10, 0)));
	bars_free(&b);
}

T_TEST(purge)
{
	struct bars b;
	struct ridge m1, m2;
	size_t T = 2000, from = 336, i;
	long h = 168;

	synth(&b, 3000, 0.05, 700, 0.004, 7);
	T_ASSERT(ridge_fit(&b, from, b.n, T, h, 1.0, 10, &m1) == 0);
	/* Exactly the rows whose target ends by T. */
	T_EQ_INT(m1.rows, T - (size_t)h - from + 1);
	/* Nothing after T matters: rewrite the future and fit again. */
	for (i = T + 1; i < b.n; i++)
		b.close[i] *= 3 + (double)(i % 7);
	T_ASSERT(ridge_fit(&b, from, b.n, T, h, 1.0, 10, &m2) == 0);
	T_EQ_MEM(&m1, &m2, sizeof(m1));
	/* Too few rows. */
	T_ASSERT(ridge_fit(&b, from, b.n, from + (size_t)h + 5, h, 1.0, 10, &m2) == -1);
	bars_free(&b);
}

T_TEST(ridge_deterministic_and_planted_signal)
{
	struct bars b;
	struct ridge m1, m2;
	double f[NFEAT], p, y, sp = 0, spp = 0, sy = 0, syy = 0, spy = 0, r;
	size_t i, n = 0, T = 4000;

	synth(&b, 6000, 0.05, 1000, 0.001, 11);
	T_ASSERT(ridge_fit(&b, 0, b.n, T, 168, 0.01, 100, &m1) == 0);
	T_ASSERT(ridge_fit(&b, 0, b.n, T, 168, 0.01, 100, &m2) == 0);
	T_EQ_MEM(&m1, &m2, sizeof(m1));
	for (i = T; i + 168 < b.n; i += 6) {
		T_ASSERT(features_at(&b, i, f) == 0);
		p = ridge_predict(&m1, f);
		T_ASSERT(ridge_predict(&m2, f) == p);
		y = target_at(&b, i, 168);
		sp += p;
		spp += p * p;
		sy += y;
		syy += y * y;
		spy += p * y;
		n++;
	}
	r = (spy / (double)n - sp * sy / ((double)n * (double)n)) / sqrt((spp / (double)n -
	    sp * sp / ((double)n * (double)n)) * (syy / (double)n - sy * sy / ((double)n *
	    (double)n)));
	if (!(r > 0.5))
		T_FAIL("out-of-sample correlation %f on a planted signal", r);
	bars_free(&b);
}

/* Sklearn's GBR starts from the mean of the targets: so does the reference's XGBoost. */
T_TEST(reference_recipe_is_gbr)
{
	struct xgb_params gp, dp;
	struct xgb *m;
	double X[200 * 2], Y[200], p;
	char err[256];
	size_t i;

	for (i = 0; i < 200; i++) {
		X[2 * i] = (double)i;
		X[2 * i + 1] = (double)(i % 7);
		Y[i] = 0.05;
	}
	xgb_params_gbr(&gp);
	T_EQ_INT(gp.n_trees, 100);
	T_EQ_INT(gp.max_depth, 3);
	T_CHECK(gp.eta == 0.1 && gp.subsample == 1 && gp.colsample == 1);
	T_CHECK(gp.lambda == 0 && gp.min_child_weight == 1 && !gp.exact && gp.base_mean);
	m = xgb_train(X, Y, 200, 2, &gp, err, sizeof(err));
	T_ASSERT(m != NULL);
	T_ASSERT(xgb_predict(m, X, &p) == 0);
	T_CHECK(near(p, 0.05, 1e-6));		/* a constant target is its own mean */
	xgb_free(m);
	/* MODEL.md §5.2's settings start from 0 and shrink the leaves (lambda 10). */
	xgb_params_default(&dp);
	m = xgb_train(X, Y, 200, 2, &dp, err, sizeof(err));
	T_ASSERT(m != NULL);
	T_ASSERT(xgb_predict(m, X, &p) == 0);
	T_CHECK(p < 0.05 - 1e-4);
	xgb_free(m);
	/* Bad settings are refused, not passed on. */
	dp.eta = 0;
	T_ASSERT(xgb_train(X, Y, 200, 2, &dp, err, sizeof(err)) == NULL);
	dp.eta = 0.1;
	dp.n_trees = XGB_MAX_TREES + 1;
	T_ASSERT(xgb_train(X, Y, 200, 2, &dp, err, sizeof(err)) == NULL);
}

T_TEST(model_files_round_trip)
{
	static const char *names[3] = { "ridge", "xgboost", "reference" };
	struct bars b;
	struct model_spec s;
	struct fmat fm;
	struct model *m1, *m2;
	struct fit fit;
	char err[256], path[64], desc[512];
	double p1, p2;
	size_t i, k;

	synth(&b, 3000, 0.05, 1000, 0.002, 13);
	for (k = 0; k < 3; k++) {
		T_ASSERT(model_spec_named(names[k], &s) == 0);
		s.window = 1500;
		s.xp.n_trees = k == 2 ? 100 : 50;
		fmat_build(&b, s.fs, 168, 0, &fm);
		T_ASSERT(model_fit(&b, &fm, b.n - 1, &s, 0, &fit, &m1, err, sizeof(err)) == 0);
		T_ASSERT(m1 != NULL);
		snprintf(path, sizeof(path), "/tmp/trainer_mf_%d_%s", (int)getpid(),
		    model_file_name(&s));
		T_ASSERT(model_save(m1, path, err, sizeof(err)) == 0);
		m2 = model_load(&s, path, err, sizeof(err));
		if (m2 == NULL)
			T_FAIL("%s", err);
		T_ASSERT(m2 != NULL);
		model_describe(m2, desc, sizeof(desc));
		T_ASSERT(strstr(desc, fset_name(s.fs)) != NULL);
		for (i = b.n - 500; i < b.n; i += 7) {
			if (!fm.ok[i])
				continue;
			T_ASSERT(model_predict(m1, fm.X + i * (size_t)fm.nf, &p1) == 0);
			T_ASSERT(model_predict(m2, fm.X + i * (size_t)fm.nf, &p2) == 0);
			T_ASSERT(memcmp(&p1, &p2, sizeof(p1)) == 0);	/* exactly */
		}
		T_ASSERT(model_predict(m1, fm.X + (b.n - 1) * (size_t)fm.nf, &p1) == 0);
		T_ASSERT(p1 == fit.raw);
		/* A model of another feature set is refused. */
		s.fs = s.fs == FS_A ? FS_B : FS_A;
		T_ASSERT(model_load(&s, path, err, sizeof(err)) == NULL);
		T_ASSERT(strstr(err, path) != NULL);
		unlink(path);
		model_free(m1);
		model_free(m2);
		fmat_free(&fm);
	}
	/* Garbled ridge files. */
	T_ASSERT(model_spec_named("ridge", &s) == 0);
	snprintf(path, sizeof(path), "/tmp/trainer_mf_%d.json", (int)getpid());
	{
		static const char *bad[] = { "", "[]", "{\"features\":\"default\",\"nf\":10}",
		    "{\"features\":\"default\",\"nf\":10,\"rows\":5,\"intercept\":0,"
		    "\"w\":[1,2,3,4,5,6,7,8,9,10],\"mean\":[1,2,3,4,5,6,7,8,9,10],"
		    "\"sd\":[1,2,3,4,5,6,7,8,9,0]}",
		    "{\"features\":\"default\",\"nf\":10,\"rows\":5,\"intercept\":0,"
		    "\"w\":[1,2,3,4,5,6,7,8,9],\"mean\":[1,2,3,4,5,6,7,8,9,10],"
		    "\"sd\":[1,2,3,4,5,6,7,8,9,10]}" };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			T_ASSERT(write_file_atomic(path, bad[i], strlen(bad[i]), 0600) == 0);
			if (model_load(&s, path, err, sizeof(err)) != NULL)
				T_FAIL("loaded: %s", bad[i]);
		}
	}
	unlink(path);
	bars_free(&b);
}

T_TEST(model_fit_purge_and_adaptive_window)
{
	struct bars b;
	struct model_spec s;
	struct fmat fm;
	struct fit f1, f2;
	char err[256];
	size_t T = 2500, i;

	synth(&b, 3200, 0.05, 700, 0.004, 17);
	T_ASSERT(model_spec_named("xgboost", &s) == 0);
	s.window = 1000;
	s.xp.n_trees = 30;
	s.shrink = 1;
	fmat_build(&b, s.fs, 168, 0, &fm);
	T_ASSERT(model_fit(&b, &fm, T, &s, 1, &f1, NULL, err, sizeof(err)) == 0);
	T_EQ_INT(f1.rows, 1000);
	T_EQ_INT(f1.first, T - 168 - 1000 + 1);		/* rows [T-h-W+1, T-h] */
	T_ASSERT(f1.have_val && f1.val.n == 168);
	/* Nothing after T matters (features, targets, training): rewrite the future. */
	fmat_free(&fm);
	for (i = T + 1; i < b.n; i++)
		b.close[i] *= 2 + (double)(i % 5);
	fmat_build(&b, s.fs, 168, 0, &fm);
	T_ASSERT(model_fit(&b, &fm, T, &s, 1, &f2, NULL, err, sizeof(err)) == 0);
	T_ASSERT(memcmp(&f1.raw, &f2.raw, sizeof(f1.raw)) == 0);
	T_ASSERT(memcmp(&f1.val, &f2.val, sizeof(f1.val)) == 0);
	/* Adaptive: with less history than the window, all there is (if enough). */
	s.window = 8760;
	s.min_rows = 336;
	T_ASSERT(model_fit(&b, &fm, T, &s, 0, &f1, NULL, err, sizeof(err)) == 0);
	T_EQ_INT(f1.rows, T - 168 - 721 + 1);		/* from the first row with features */
	T_ASSERT(model_fit(&b, &fm, 721 + 168 + 300, &s, 0, &f1, NULL, err, sizeof(err)) ==
	    FIT_SHORT);
	T_ASSERT(strstr(err, "Insufficient data: 301 usable training rows, 336 needed") != NULL);
	T_ASSERT(model_fit(&b, &fm, 700, &s, 0, &f1, NULL, err, sizeof(err)) == FIT_SHORT);
	T_ASSERT(strncmp(err, "Insufficient data", 17) == 0);
	/* The clip: |value| <= c sigma168 sqrt(h). */
	s.shrink = 10;
	s.clip_sigma = 0.01;
	T_ASSERT(model_fit(&b, &fm, T, &s, 0, &f1, NULL, err, sizeof(err)) == 0);
	T_CHECK(near(f1.clip, 0.01 * sigma168(&b, T) * sqrt(168), 1e-15));
	T_CHECK(fabs(f1.value) <= f1.clip);
	fmat_free(&fm);
	bars_free(&b);
}

T_TEST(model_spec_from_configuration)
{
	struct config_topic t;
	struct model_spec s;
	char err[256];

	memset(&t, 0, sizeof(t));
	t.model = "xgboost";
	t.target_hours = 168;
	t.train_span_hours = 4000;
	t.min_train_hours = 336;
	t.validation_span_hours = 168;
	t.purge_hours = 100;		/* less than the horizon: the horizon */
	t.shrink = -1;
	t.clip_sigma = 3;
	t.n_estimators = 150;
	t.max_depth = 4;
	t.learning_rate = 0.05;
	t.subsample = 0.7;
	t.seed = 7;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.kind == MK_XGB && s.fs == FS_B);
	T_CHECK(s.window == 4000 && s.purge == 168 && s.holdout == 168);
	T_CHECK(s.shrink == MODEL_XGB_SHRINK && s.clip_sigma == 3);
	T_CHECK(s.xp.n_trees == 150 && s.xp.max_depth == 4 && s.xp.eta == 0.05);
	T_CHECK(s.xp.subsample == 0.7 && s.xp.seed == 7 && s.xp.colsample == 0.8);
	T_CHECK(s.xp.min_child_weight == 50 && s.xp.lambda == 10 && !s.xp.exact);
	t.features = "reference";
	t.shrink = 0.5;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.fs == FS_REF && s.shrink == 0.5);
	t.max_depth = 40;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "max_depth") != NULL);
	/* default: ridge, the 10 features, k = 0. */
	t.model = "default";
	t.features = NULL;
	t.shrink = -1;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.kind == MK_RIDGE && s.fs == FS_A && s.shrink == 0 && s.lambda == 1);
	t.ridge_lambda = 3;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.lambda == 3);
	/* reference: the recipe, whatever the keys say (but shrink). */
	t.model = "reference";
	t.features = "b";
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.kind == MK_XGB && s.fs == FS_REF && s.window == 336 && s.shrink == 1);
	T_CHECK(s.clip_sigma == 0 && s.xp.n_trees == 100 && s.xp.max_depth == 3);
	T_CHECK(s.xp.eta == 0.1 && s.xp.base_mean && s.min_rows == 336);
	t.model = "exec:/bin/true";
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == -1);
}

T_TEST(zptae_values)
{
	/* pt(1) = 1 / 2^(3/8) */
	T_CHECK(zptae(0, 0, 0.1) == 0);
	T_CHECK(zptae(0.05, 0.05, 0.1) == 0);
	T_CHECK(near(zptae(0.1, 0, 0.1), pow(2, -0.375) + 1e-8, 1e-12));
	T_CHECK(near(zptae(-0.1, 0, 0.1), zptae(0.1, 0, 0.1), 1e-15));
	/* Far out: 2 pt(100) and (0.01 * 200)^4. */
	T_CHECK(near(zptae(10, -10, 0.1), 2 * 100 / pow(10001, 0.375) + 16, 1e-9));
	/* The wrong sign costs more than zero; a right-signed undershoot less. */
	T_CHECK(zptae(0.1, -0.02, 0.1) > zptae(0.1, 0, 0.1));
	T_CHECK(zptae(0.1, 0.02, 0.1) < zptae(0.1, 0, 0.1));
}

/* Features and targets of rows [from, to) into a matrix. */
static size_t
matrix(const struct bars *b, size_t from, size_t to, double **X, double **Y)
{
	size_t i, r = 0;

	*X = xcalloc(to - from, NFEAT * sizeof(double));
	*Y = xcalloc(to - from, sizeof(double));
	for (i = from; i < to; i++)
		if (features_at(b, i, *X + r * NFEAT) == 0 && !isnan((*Y)[r] = target_at(b, i,
		    168)))
			r++;
	return r;
}

T_TEST(xgb_deterministic_save_load_planted)
{
	struct bars b;
	struct xgb_params xp;
	struct xgb *m1, *m2, *m3;
	double *X, *Y, f[NFEAT], p1, p2, p3, y, sp = 0, spp = 0, sy = 0, syy = 0, spy = 0, r;
	char err[256], path[] = "/tmp/trainer_xgb_XXXXXX";
	size_t rows, i, n = 0;
	int fd;

	synth(&b, 6000, 0.05, 1000, 0.001, 11);
	rows = matrix(&b, 336, 4000 - 168, &X, &Y);
	T_ASSERT(rows > 3000);
	xgb_params_default(&xp);
	xp.n_trees = 100;
	xp.max_depth = 4;
	xp.eta = 0.1;
	xp.min_child_weight = 10;
	m1 = xgb_train(X, Y, rows, NFEAT, &xp, err, sizeof(err));
	T_ASSERT(m1 != NULL);
	m2 = xgb_train(X, Y, rows, NFEAT, &xp, err, sizeof(err));
	T_ASSERT(m2 != NULL);
	fd = mkstemp(path);
	close(fd);
	T_ASSERT(xgb_save(m1, path, err, sizeof(err)) == 0);
	m3 = xgb_load(path, NFEAT, err, sizeof(err));
	T_ASSERT(m3 != NULL);
	for (i = 4000; i + 168 < b.n; i += 6) {
		T_ASSERT(features_at(&b, i, f) == 0);
		T_ASSERT(xgb_predict(m1, f, &p1) == 0);
		T_ASSERT(xgb_predict(m2, f, &p2) == 0);
		T_ASSERT(xgb_predict(m3, f, &p3) == 0);
		T_ASSERT(memcmp(&p1, &p2, sizeof(p1)) == 0);	/* bit-identical */
		T_ASSERT(memcmp(&p1, &p3, sizeof(p1)) == 0);	/* save/load round trip */
		y = target_at(&b, i, 168);
		sp += p1;
		spp += p1 * p1;
		sy += y;
		syy += y * y;
		spy += p1 * y;
		n++;
	}
	r = (spy / (double)n - sp * sy / ((double)n * (double)n)) / sqrt((spp / (double)n -
	    sp * sp / ((double)n * (double)n)) * (syy / (double)n - sy * sy / ((double)n *
	    (double)n)));
	if (!(r > 0.5))
		T_FAIL("out-of-sample correlation %f on a planted signal", r);
	/* A model of another width, and a garbled file, are refused. */
	T_ASSERT(xgb_load(path, NFEAT + 1, err, sizeof(err)) == NULL);
	T_ASSERT(write_file_atomic(path, "garbage", 7, 0600) == 0);
	T_ASSERT(xgb_load(path, NFEAT, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, path) != NULL);
	T_ASSERT(xgb_load("/nonexistent/m.ubj", NFEAT, err, sizeof(err)) == NULL);
	unlink(path);
	xgb_free(m1);
	xgb_free(m2);
	xgb_free(m3);
	free(X);
	free(Y);
	bars_free(&b);
}

/* A model as alloractl backtest builds it. */
static struct model_spec
spec(const char *name, long window, double lambda, double shrink, double clip,
    enum fset fs)
{
	struct model_spec s;

	if (model_spec_named(name, &s) == -1)
		abort();
	s.window = window;
	s.lambda = lambda;
	s.shrink = shrink;
	s.clip_sigma = clip;
	s.fs = fs;
	return s;
}

T_TEST(backtest_zero_optimal)
{
	struct bars b;
	struct model_spec m[2] = {
		spec("default", 2000, 1.0, 0.0, 2.0, FS_A),
		spec("ridge", 2000, 1.0, 1.0, 2.0, FS_A),
	};
	struct model_spec g[2] = {
		spec("xgboost", 2000, 0, 1.0, 2.0, FS_B),
		spec("reference", 336, 0, 1.0, 0, FS_REF),
	};
	struct bt_result r;
	char err[256];

	synth(&b, 7000, 0, 1, 0.005, 3);
	T_ASSERT(backtest_run(&b, 168, 72, BT_ALL, 0, m, 2, &r, err, sizeof(err)) == 0);
	T_EQ_INT(r.nmodels, 3);
	T_EQ_STR(r.names[0], "zero");
	T_ASSERT(r.decisions > 40);
	T_CHECK(r.s[0].skill == 0);
	T_CHECK(isnan(r.s[0].corr) && isnan(r.s[0].da));
	T_CHECK(r.s[1].skill <= 0.01);
	T_CHECK(r.s[1].mse == r.s[0].mse);	/* k = 0 is the zero prediction */
	if (!(r.s[2].skill <= 0.01))
		T_FAIL("skill %f on a random walk", r.s[2].skill);
	/* ZPTAE relative to zero: 1 for zero and for k = 0. */
	T_CHECK(r.s[0].zptae_rel == 1);
	T_CHECK(r.s[1].zptae_rel == 1);
	/* The gradient boosting models (fewer decisions: they take longer). */
	T_ASSERT(backtest_run(&b, 168, 144, BT_ALL, 0, g, 2, &r, err, sizeof(err)) == 0);
	T_ASSERT(r.decisions > 20);
	if (!(r.s[1].skill <= 0.01))
		T_FAIL("xgboost skill %f on a random walk", r.s[1].skill);
	if (!(r.s[2].skill <= 0.01))
		T_FAIL("reference skill %f on a random walk", r.s[2].skill);
	T_CHECK(r.s[2].zptae_rel > 1);		/* fitting noise costs */
	bars_free(&b);
}

T_TEST(backtest_planted_signal)
{
	struct bars b;
	struct model_spec m[1] = { spec("ridge", 2000, 0.01, 1.0, 3.0, FS_A) };
	struct bt_result r;
	char err[256];

	synth(&b, 7000, 0.05, 1000, 0.001, 5);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r, err, sizeof(err)) == 0);
	if (!(r.s[1].skill > 0.1))
		T_FAIL("skill %f with a planted signal", r.s[1].skill);
	if (!(r.s[1].zptae_rel < 0.9))
		T_FAIL("ZPTAE relative to zero %f with a planted signal", r.s[1].zptae_rel);
	T_CHECK(r.s[1].da > 0.6 && r.s[1].da_low < r.s[1].da && r.s[1].da_high > r.s[1].da);
	T_CHECK(r.s[1].corr > 0.3);
	T_CHECK(near(r.weeks, (double)r.decisions * 24 / 168, 1e-9));
	/* Halves split the decisions. */
	{
		struct bt_result r1, r2;

		T_ASSERT(backtest_run(&b, 168, 24, BT_FIRST, 0, m, 1, &r1, err, sizeof(err)) == 0);
		T_ASSERT(backtest_run(&b, 168, 24, BT_SECOND, 0, m, 1, &r2, err, sizeof(err)) == 0);
		T_EQ_INT(r1.decisions + r2.decisions, r.decisions);
	}
	bars_free(&b);
}

T_TEST(backtest_planted_signal_xgb)
{
	struct bars b;
	struct model_spec m[1] = { spec("xgboost", 2000, 0, 1.0, 3.0, FS_A) };
	struct bt_result r;
	char err[256];

	synth(&b, 7000, 0.05, 1000, 0.001, 5);
	T_ASSERT(backtest_run(&b, 168, 120, BT_ALL, 0, m, 1, &r, err, sizeof(err)) == 0);
	if (!(r.s[1].skill > 0.1))
		T_FAIL("xgb skill %f with a planted signal", r.s[1].skill);
	bars_free(&b);
}

T_TEST(backtest_planted_signal_features_b)
{
	struct bars b;
	struct model_spec m[1] = { spec("ridge", 2000, 0.01, 1.0, 3.0, FS_B) };
	struct bt_result r;
	char err[256];

	synth(&b, 7000, 0.05, 1000, 0.001, 5);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r, err, sizeof(err)) == 0);
	if (!(r.s[1].skill > 0.1))
		T_FAIL("feature set B skill %f with a planted signal", r.s[1].skill);
	bars_free(&b);
}

T_TEST(backtest_too_short)
{
	struct bars b;
	struct model_spec m[1] = { spec("ridge", 2000, 1.0, 1.0, 2.0, FS_A) };
	struct bt_result r;
	char err[256] = "";

	synth(&b, 2600, 0, 1, 0.005, 3);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "needed") != NULL);
	bars_free(&b);
}

/* alloractl backtest --json on a generated file, stdout captured. */
static char *
run_ctl(int argc, char **argv, int *rc)
{
	char path[] = "/tmp/trainer_bt_XXXXXX";
	int fd = mkstemp(path), saved;
	size_t len;
	char *out;
	struct ctl_opts o;

	memset(&o, 0, sizeof(o));
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	*rc = ctl_backtest(&o, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	out = read_file(path, 1 << 20, &len);
	unlink(path);
	return out;
}

T_TEST(ctl_backtest_json)
{
	char csv[] = "/tmp/trainer_csv_XXXXXX";
	int fd = mkstemp(csv), rc;
	FILE *fp = fdopen(fd, "w");
	struct bars b;
	size_t i;
	char *out;
	char *argv[] = { "backtest", "--csv", csv, "--json", "--window", "1000", "--shrink",
	    "1", "--lambda", "0.01", NULL };
	char *bad[] = { "backtest", "--csv", csv, "--shrink", "-3", NULL };

	synth(&b, 10400, 0.05, 1000, 0.002, 9);
	fprintf(fp, "unix,close\n");
	for (i = 0; i < b.n; i++)
		fprintf(fp, "%lld,%.10g\n", (long long)b.t[i], b.close[i]);
	fclose(fp);
	bars_free(&b);
	out = run_ctl(10, argv, &rc);
	T_EQ_INT(rc, 0);
	T_ASSERT(out != NULL);
	T_ASSERT(strstr(out, "\"models\"") != NULL && strstr(out, "\"zero\"") != NULL &&
	    strstr(out, "\"reference\"") != NULL && strstr(out, "\"default\"") != NULL);
	T_ASSERT(strstr(out, "\"zptae_rel\": null") == NULL);
	T_ASSERT(strstr(out, "\"zptae_rel\": 1.0") != NULL);	/* zero */
	free(out);
	out = run_ctl(5, bad, &rc);
	T_EQ_INT(rc, 2);
	free(out);
	unlink(csv);
}

int
main(void)
{
	T_RUN(csv_parse);
	T_RUN(csv_errors);
	T_RUN(features_hand_checked);
	T_RUN(features_b_hand_checked);
	T_RUN(features_b_momentum);
	T_RUN(features_reference_hand_checked);
	T_RUN(grid_gaps_and_partial_bars);
	T_RUN(features_skip_long_gaps);
	T_RUN(target_alignment);
	T_RUN(purge);
	T_RUN(ridge_deterministic_and_planted_signal);
	T_RUN(xgb_deterministic_save_load_planted);
	T_RUN(reference_recipe_is_gbr);
	T_RUN(model_files_round_trip);
	T_RUN(model_fit_purge_and_adaptive_window);
	T_RUN(model_spec_from_configuration);
	T_RUN(zptae_values);
	T_RUN(backtest_zero_optimal);
	T_RUN(backtest_planted_signal);
	T_RUN(backtest_planted_signal_xgb);
	T_RUN(backtest_planted_signal_features_b);
	T_RUN(backtest_too_short);
	T_RUN(ctl_backtest_json);
	return t_done();
}

/*
 * Trainer, issue 17 and 19: the backtest's --window (where decisions start, the numbers in
 * its errors), its losses (loss_rel, czar_rel), seeded 4-week block-bootstrap intervals,
 * --dump, --report (valid PNGs of the size asked), the momentum model, the CZAR objective
 * of XGBoost, validation under the topic's loss, and `default` resolved per loss method.
 * Every series is generated.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "t.h"

#include "trainer/backtest.h"
#include "trainer/loss.h"
#include "trainer/model.h"
#include "trainer/report.h"
#include "config.h"
#include "ctl.h"
#include "util.h"
#include "synth.h"

/*
 * A series with persistent 4-week momentum: the hourly drift follows a slow AR(1), so the
 * past 672 h return predicts the next 168 h.
 */
static void
synth_trend(struct bars *b, size_t n, double noise, uint64_t seed)
{
	double lc = 0, mu = 0;
	size_t i;

	rng_s = seed;
	memset(b, 0, sizeof(*b));
	b->t = xcalloc(n, sizeof(*b->t));
	b->close = xcalloc(n, sizeof(*b->close));
	b->n = n;
	for (i = 0; i < n; i++) {
		mu = 0.9995 * mu + 0.00002 * nrand();
		lc += mu + noise * nrand();
		b->t[i] = 1600000000 + (int64_t)i * 3600;
		b->close[i] = 20000 * exp(lc);
	}
}

static char *
write_csv(const struct bars *b)
{
	char *path = xstrdup("/tmp/trainer_bt17_XXXXXX");
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	size_t i;

	fprintf(fp, "unix,close\n");
	for (i = 0; i < b->n; i++)
		fprintf(fp, "%lld,%.12g\n", (long long)b->t[i], b->close[i]);
	fclose(fp);
	return path;
}

/* ctl_backtest with stdout (and stderr) captured. */
static char *
run_ctl(int argc, char **argv, int *rc, char **errout)
{
	char path[] = "/tmp/trainer_bt17o_XXXXXX", epath[] = "/tmp/trainer_bt17e_XXXXXX";
	int fd = mkstemp(path), efd = mkstemp(epath), saved, esaved;
	size_t len;
	char *out;
	struct ctl_opts o;

	memset(&o, 0, sizeof(o));
	fflush(stdout);
	fflush(stderr);
	saved = dup(1);
	esaved = dup(2);
	dup2(fd, 1);
	dup2(efd, 2);
	*rc = ctl_backtest(&o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(esaved, 2);
	close(saved);
	close(esaved);
	close(fd);
	close(efd);
	out = read_file(path, 1 << 22, &len);
	if (errout != NULL)
		*errout = read_file(epath, 1 << 20, &len);
	unlink(path);
	unlink(epath);
	return out;
}

static struct model_spec
spec(const char *name, long window, double shrink)
{
	struct model_spec s;

	if (model_spec_named(name, &s) == -1)
		abort();
	if (window > 0)
		s.window = window;
	s.shrink = shrink;
	return s;
}

/* A 3,100-hour series (about 4 months) with --window 720: decisions start at warm-up +
 * 720 + 168, and an error quotes the window actually used. */
T_TEST(window_decides_start)
{
	struct bars b;
	char *csv, *out, *err = NULL;
	int rc;
	json_t *j;
	char *argv[] = { "backtest", "--csv", NULL, "--window", "720", "--json", NULL };
	char *argv2[] = { "backtest", "--csv", NULL, "--window", "2900", NULL };

	synth(&b, 3100, 0, 1, 0.004, 11);
	csv = write_csv(&b);
	argv[2] = argv2[2] = csv;
	out = run_ctl(6, argv, &rc, &err);
	T_EQ_INT(rc, 0);
	T_ASSERT(out != NULL && (j = json_loads(out, 0, NULL)) != NULL);
	T_EQ_INT(json_integer_value(json_object_get(j, "window_h")), 720);
	/* 336 h warm-up + 720 + 168: the first decision is bar 1224. */
	{
		double t0;

		T_ASSERT(parse_iso8601(json_string_value(json_object_get(j, "first_decision")),
		    &t0) == 0);
		T_EQ_INT((long long)t0, (long long)b.t[1224]);
	}
	T_ASSERT(json_integer_value(json_object_get(j, "decisions")) >= 70);
	json_decref(j);
	free(out);
	free(err);
	/* Too long a window: the error names the numbers used. */
	out = run_ctl(5, argv2, &rc, &err);
	T_EQ_INT(rc, 1);
	T_ASSERT(err != NULL);
	if (strstr(err, "window 2900") == NULL || strstr(err, "3100 hourly bars") == NULL ||
	    strstr(err, "3573") == NULL)
		T_FAIL("error: %s", err);
	T_ASSERT(strstr(err, "8760") == NULL);
	free(out);
	free(err);
	unlink(csv);
	free(csv);
	bars_free(&b);
}

static int
ci_ok(json_t *m, const char *key)
{
	json_t *a = json_object_get(m, key);

	return json_is_array(a) && json_array_size(a) == 2 &&
	    json_is_number(json_array_get(a, 0)) && json_is_number(json_array_get(a, 1)) &&
	    json_number_value(json_array_get(a, 0)) <= json_number_value(json_array_get(a, 1));
}

/* The JSON of INTERFACES.md: loss, first/last decision, czar_rel, loss_rel, intervals. */
T_TEST(json_shape_and_default_is_mse)
{
	struct bars b;
	char *csv, *out;
	int rc;
	json_t *j, *ms, *d, *z;
	char *argv[] = { "backtest", "--csv", NULL, "--window", "720", "--json", NULL };

	synth(&b, 3100, 0, 1, 0.004, 12);
	csv = write_csv(&b);
	argv[2] = csv;
	out = run_ctl(6, argv, &rc, NULL);
	T_EQ_INT(rc, 0);
	T_ASSERT((j = json_loads(out, 0, NULL)) != NULL);
	T_EQ_STR(json_string_value(json_object_get(j, "loss")), "mse");
	T_ASSERT(json_is_string(json_object_get(j, "first_decision")));
	T_ASSERT(json_is_string(json_object_get(j, "last_decision")));
	ms = json_object_get(j, "models");
	T_ASSERT((d = json_object_get(ms, "default")) != NULL);
	T_ASSERT((z = json_object_get(ms, "zero")) != NULL);
	T_ASSERT(json_object_get(ms, "reference") != NULL);
	T_ASSERT(json_is_number(json_object_get(d, "czar_rel")));
	T_ASSERT(json_is_number(json_object_get(d, "loss_rel")));
	T_CHECK(json_number_value(json_object_get(z, "loss_rel")) == 1);
	T_CHECK(json_number_value(json_object_get(z, "czar_rel")) == 1);
	T_CHECK(ci_ok(json_object_get(ms, "reference"), "mse_skill_ci"));
	T_CHECK(ci_ok(json_object_get(ms, "reference"), "corr_ci"));
	/* zero has no correlation, so no interval. */
	T_CHECK(json_is_null(json_object_get(z, "corr_ci")));
	/* default under mse is the zero-output ridge: loss_rel exactly 1. */
	T_CHECK(json_number_value(json_object_get(d, "loss_rel")) == 1);
	json_decref(j);
	free(out);
	unlink(csv);
	free(csv);
	bars_free(&b);
}

/* Seeded intervals: the same twice; they hold the estimate; a planted signal's is above 0,
 * a random walk's model loses. */
T_TEST(bootstrap_intervals)
{
	struct bars b;
	struct model_spec m[1] = { spec("ridge", 2000, 1.0) };
	struct bt_result r1, r2;
	char err[256];

	m[0].lambda = 0.01;
	m[0].clip_sigma = 3;
	synth(&b, 7000, 0.05, 1000, 0.001, 5);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r1, err, sizeof(err)) == 0);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r2, err, sizeof(err)) == 0);
	T_CHECK(memcmp(r1.s[1].mse_skill_ci, r2.s[1].mse_skill_ci, sizeof(double) * 2) == 0);
	T_CHECK(memcmp(r1.s[1].corr_ci, r2.s[1].corr_ci, sizeof(double) * 2) == 0);
	T_CHECK(r1.s[1].mse_skill_ci[0] <= r1.s[1].skill && r1.s[1].skill <=
	    r1.s[1].mse_skill_ci[1]);
	if (!(r1.s[1].mse_skill_ci[0] > 0 && r1.s[1].corr_ci[0] > 0))
		T_FAIL("planted signal: skill CI [%g, %g], corr CI [%g, %g]",
		    r1.s[1].mse_skill_ci[0], r1.s[1].mse_skill_ci[1], r1.s[1].corr_ci[0],
		    r1.s[1].corr_ci[1]);
	T_CHECK(r1.s[1].loss_rel_ci[1] < 1);	/* loss below zero's */
	T_CHECK(r1.s[1].czar_rel < 1 && r1.s[1].zptae_rel < 1);
	/* Another seed gives other (but overlapping) intervals. */
	{
		struct bt_opts o = { LOSS_MSE, CZAR_ALPHA_EVAL, 0, 0, 7, BT_BOOT };
		struct bt_result r3;

		T_ASSERT(backtest_run_opts(&b, 168, 24, BT_ALL, m, 1, &o, &r3, err,
		    sizeof(err)) == 0);
		T_CHECK(r3.s[1].mse_skill_ci[0] != r1.s[1].mse_skill_ci[0]);
		T_CHECK(r3.s[1].skill == r1.s[1].skill);
	}
	bars_free(&b);
	/* A random walk with an unshrunk model: skill below 0, interval not above 0. */
	synth(&b, 7000, 0, 1, 0.005, 3);
	m[0].lambda = 1;
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 0, m, 1, &r1, err, sizeof(err)) == 0);
	T_CHECK(r1.s[1].skill < 0 && r1.s[1].mse_skill_ci[0] < 0);
	T_CHECK(r1.s[1].mse_skill_ci[0] <= r1.s[1].skill && r1.s[1].skill <=
	    r1.s[1].mse_skill_ci[1]);
	bars_free(&b);
}

/* Under CZAR, loss_rel is czar_rel; the options' α reaches the scores. */
T_TEST(loss_methods_in_backtest)
{
	struct bars b;
	struct model_spec m[1] = { spec("ridge", 2000, 0.5) };
	struct bt_opts o = { LOSS_CZAR, 0, 0, 1, BT_SEED, 200 };
	struct bt_result r;
	char err[256];
	double l = 0, z = 0;
	size_t i;

	synth(&b, 5000, 0.03, 800, 0.002, 8);
	T_ASSERT(backtest_run_opts(&b, 168, 48, BT_ALL, m, 1, &o, &r, err, sizeof(err)) == 0);
	T_CHECK(r.loss == LOSS_CZAR);
	T_CHECK(fabs(r.s[1].loss_rel - r.s[1].czar_rel) < 1e-12);
	T_ASSERT(r.time != NULL && r.pred[1] != NULL);
	/* loss_rel recomputed from the kept series and loss.h. */
	for (i = 0; i < r.decisions; i++) {
		struct czar_params cp = { 0, CZAR_EPSILON, CZAR_TAU };

		l += loss_value(LOSS_CZAR, r.realized[i], r.pred[1][i], r.sigma[i], &cp);
		z += loss_value(LOSS_CZAR, r.realized[i], 0, r.sigma[i], &cp);
	}
	T_CHECK(fabs(l / z - r.s[1].loss_rel) < 1e-9);
	backtest_free(&r);
	o.loss = LOSS_ZPTAE;
	T_ASSERT(backtest_run_opts(&b, 168, 48, BT_ALL, m, 1, &o, &r, err, sizeof(err)) == 0);
	T_CHECK(fabs(r.s[1].loss_rel - r.s[1].zptae_rel) < 1e-12);
	backtest_free(&r);
	bars_free(&b);
}

/* --dump: one JSON line per decision with time, realized and every model's prediction. */
T_TEST(dump_lines)
{
	struct bars b;
	char *csv, *out, dump[] = "/tmp/trainer_bt17d_XXXXXX", *text, *line, *save = NULL;
	int rc, fd = mkstemp(dump), n = 0;
	size_t len;
	json_t *j;
	char *argv[] = { "backtest", "--csv", NULL, "--window", "720", "--model",
	    "ridge@0.5,momentum", "--dump", dump, "--json", NULL };

	close(fd);
	synth(&b, 3100, 0, 1, 0.004, 13);
	csv = write_csv(&b);
	argv[2] = csv;
	out = run_ctl(10, argv, &rc, NULL);
	T_EQ_INT(rc, 0);
	T_ASSERT((j = json_loads(out, 0, NULL)) != NULL);
	T_ASSERT((text = read_file(dump, 1 << 22, &len)) != NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n",
	    &save)) {
		json_t *d = json_loads(line, 0, NULL), *p;
		double t;

		T_ASSERT(d != NULL);
		T_ASSERT(parse_iso8601(json_string_value(json_object_get(d, "time")), &t) == 0);
		T_ASSERT(json_is_number(json_object_get(d, "realized")));
		p = json_object_get(d, "pred");
		T_ASSERT(json_is_number(json_object_get(p, "zero")));
		T_ASSERT(json_is_number(json_object_get(p, "ridge@0.5")));
		T_ASSERT(json_is_number(json_object_get(p, "momentum")));
		T_ASSERT(json_object_get(p, "reference") == NULL);	/* --model restricts */
		if (n == 0)
			T_EQ_STR(json_string_value(json_object_get(d, "time")),
			    json_string_value(json_object_get(j, "first_decision")));
		json_decref(d);
		n++;
	}
	T_EQ_INT(n, json_integer_value(json_object_get(j, "decisions")));
	json_decref(j);
	free(text);
	free(out);
	unlink(dump);
	unlink(csv);
	free(csv);
	bars_free(&b);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A valid PNG of w x h (signature, IHDR first, IEND last) of a plausible size. */
static int
png_ok(const char *path, uint32_t w, uint32_t h, size_t *size)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t len;
	unsigned char *d = (unsigned char *)read_file(path, 1 << 24, &len);
	int ok;

	if (d == NULL)
		return 0;
	*size = len;
	ok = len > 8 + 25 + 12 && memcmp(d, sig, 8) == 0 && be32(d + 8) == 13 &&
	    memcmp(d + 12, "IHDR", 4) == 0 && be32(d + 16) == w && be32(d + 20) == h &&
	    memcmp(d + len - 8, "IEND", 4) == 0;
	free(d);
	return ok;
}

/* --report DIR: report.json and three 1200 x 800 PNGs. */
T_TEST(report_pictures)
{
	static const char *pics[3] = { "cumulative_loss.png", "scatter.png",
	    "calibration.png" };
	struct bars b;
	char *csv, *out, dir[] = "/tmp/trainer_bt17r_XXXXXX", *p, *text;
	int rc, i;
	size_t len, size = 0;
	json_t *j, *a, *cal;
	char *argv[] = { "backtest", "--csv", NULL, "--window", "720", "--model",
	    "ridge@0.5,momentum", "--report", NULL, "--json", NULL };

	T_ASSERT(mkdtemp(dir) != NULL);
	p = xasprintf("%s/sub", dir);	/* created by --report */
	argv[8] = p;
	synth(&b, 3100, 0.03, 900, 0.004, 14);
	csv = write_csv(&b);
	argv[2] = csv;
	out = run_ctl(10, argv, &rc, NULL);
	T_EQ_INT(rc, 0);
	for (i = 0; i < 3; i++) {
		char *f = xasprintf("%s/%s", p, pics[i]);

		if (!png_ok(f, REPORT_W, REPORT_H, &size))
			T_FAIL("%s is not a %dx%d PNG", f, REPORT_W, REPORT_H);
		/* drawn, not blank: a blank 1200x800 RGB PNG compresses to a few KB */
		if (size < 15000 || size > 4000000)
			T_FAIL("%s: %zu bytes", f, size);
		free(f);
	}
	free(out);
	text = xasprintf("%s/report.json", p);
	T_ASSERT((out = read_file(text, 1 << 22, &len)) != NULL);
	T_ASSERT((j = json_loads(out, 0, NULL)) != NULL);
	a = json_object_get(j, "pictures");
	T_EQ_INT(json_array_size(a), 3);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0), "file")), pics[0]);
	T_EQ_INT(json_integer_value(json_object_get(json_array_get(a, 0), "width")), REPORT_W);
	cal = json_object_get(json_object_get(j, "calibration"), "ridge@0.5");
	T_EQ_INT(json_array_size(cal), 10);
	T_ASSERT(json_is_object(json_object_get(json_object_get(j, "summary"), "models")));
	T_ASSERT(json_is_number(json_object_get(json_object_get(j,
	    "cumulative_loss_minus_zero"), "momentum")));
	json_decref(j);
	free(out);
	unlink(text);
	free(text);
	for (i = 0; i < 3; i++) {
		char *f = xasprintf("%s/%s", p, pics[i]);

		unlink(f);
		free(f);
	}
	rmdir(p);
	rmdir(dir);
	free(p);
	unlink(csv);
	free(csv);
	bars_free(&b);
}

/* momentum (MODEL.md §5.4): the signal by hand, β ≥ 0, k 0.5, an expanding fit. */
T_TEST(momentum_model)
{
	struct bars b;
	struct model_spec s;
	struct fmat fm;
	struct fit fit;
	struct bt_result r;
	double f[1], sum = 0, ss = 0, rr, sd, x;
	char err[256];
	size_t i, T = 3000;

	T_ASSERT(model_spec_named("momentum", &s) == 0);
	T_CHECK(s.kind == MK_MOMENTUM && s.fs == FS_MOM && s.shrink == 0.5);
	T_CHECK(s.window == MODEL_EXPANDING && s.clip_sigma == 2);
	synth_trend(&b, 9000, 0.003, 21);
	T_ASSERT(features_mom_at(&b, T, f) == 0);
	for (i = 0; i < 720; i++) {
		rr = log(b.close[T - i] / b.close[T - i - 1]);
		sum += rr;
		ss += rr * rr;
	}
	sd = sqrt((ss - sum * sum / 720) / 719);
	x = log(b.close[T] / b.close[T - 672]) / (sd * sqrt(672.0));
	T_CHECK(fabs(f[0] - x) < 1e-9);
	T_CHECK(features_mom_at(&b, 720, f) == -1);
	/* The fit uses every purged row since the start. */
	fmat_build(&b, FS_MOM, 168, 0, &fm);
	s.horizon = 168;
	T_ASSERT(model_fit(&b, &fm, 8000, &s, 1, &fit, NULL, err, sizeof(err)) == 0);
	T_EQ_INT(fit.first, 721);
	T_CHECK(fit.rows == 8000 - 168 - 721 + 1);
	fmat_free(&fm);
	/* A persistent trend: momentum beats zero. */
	s = spec("momentum", 0, 0.5);
	T_ASSERT(backtest_run(&b, 168, 24, BT_ALL, 2000, &s, 1, &r, err, sizeof(err)) == 0);
	if (!(r.s[1].skill > 0 && r.s[1].corr > 0.1))
		T_FAIL("momentum on a trend: skill %g r %g", r.s[1].skill, r.s[1].corr);
	bars_free(&b);
	/* A mean-reverting series: β < 0 is cut to 0, the prediction is 0. */
	synth(&b, 6000, 0.08, 1400, 0.0005, 4);
	fmat_build(&b, FS_MOM, 168, 0, &fm);
	T_ASSERT(model_fit(&b, &fm, 5500, &s, 0, &fit, NULL, err, sizeof(err)) == 0);
	T_CHECK(fit.value == 0);
	fmat_free(&fm);
	bars_free(&b);
}

/* XGBoost trained on CZAR (α 1) through XGBoosterBoostOneIter: deterministic, learns a
 * planted signal, and differs from squared error. */
T_TEST(xgb_czar_objective)
{
	struct bars b;
	struct model_spec s, q;
	struct fmat fm;
	struct fit f1, f2, f3;
	struct bt_result r;
	char err[256];

	synth(&b, 5000, 0.05, 1000, 0.001, 5);
	s = spec("xgboost", 2000, 1);
	s.fs = FS_A;
	s.xp.czar = 1;
	s.xp.czar_alpha = CZAR_ALPHA_TRAIN;
	s.horizon = 168;
	q = s;
	q.xp.czar = 0;
	fmat_build(&b, FS_A, 168, 0, &fm);
	T_ASSERT(model_fit(&b, &fm, 4000, &s, 0, &f1, NULL, err, sizeof(err)) == 0);
	T_ASSERT(model_fit(&b, &fm, 4000, &s, 0, &f2, NULL, err, sizeof(err)) == 0);
	T_ASSERT(model_fit(&b, &fm, 4000, &q, 0, &f3, NULL, err, sizeof(err)) == 0);
	T_CHECK(isfinite(f1.raw) && f1.raw == f2.raw);
	T_CHECK(f1.raw != f3.raw);
	fmat_free(&fm);
	T_ASSERT(backtest_run(&b, 168, 96, BT_ALL, 0, &s, 1, &r, err, sizeof(err)) == 0);
	if (!(r.s[1].czar_rel < 0.95 && r.s[1].corr > 0.3))
		T_FAIL("czar objective on a planted signal: czar/0 %g r %g", r.s[1].czar_rel,
		    r.s[1].corr);
	/* No scale, no CZAR training. */
	{
		double X[40], Y[20];
		int i;

		for (i = 0; i < 40; i++)
			X[i] = i;
		for (i = 0; i < 20; i++)
			Y[i] = i;
		T_ASSERT(xgb_train_s(X, Y, NULL, 20, 2, &s.xp, err, sizeof(err)) == NULL);
	}
	bars_free(&b);
}

/* The holdout validation reports the topic's loss for the model and for zero. */
T_TEST(validation_reports_loss)
{
	struct bars b;
	struct model_spec s;
	struct fmat fm;
	struct fit fit;
	char err[256];

	synth(&b, 4000, 0.05, 1000, 0.001, 6);
	s = spec("ridge", 2000, 1);
	s.horizon = 168;
	s.loss = LOSS_CZAR;
	s.czar_alpha = 0;
	fmat_build(&b, FS_A, 168, 0, &fm);
	T_ASSERT(model_fit(&b, &fm, 3900, &s, 1, &fit, NULL, err, sizeof(err)) == 0);
	T_ASSERT(fit.have_val);
	T_CHECK(fit.val.loss == LOSS_CZAR);
	T_CHECK(isfinite(fit.val.loss_model) && isfinite(fit.val.loss_zero));
	/* zero's CZAR by hand over the holdout rows, each scaled as of its own decision */
	{
		struct czar_params cp = { 0, CZAR_EPSILON, CZAR_TAU };
		double z = 0, sg;
		size_t i, n = 0;

		for (i = 3900 - 168 - 168 + 1; i <= 3900 - 168; i++) {
			if (!fm.ok[i] || isnan(fm.Y[i]))
				continue;
			sg = fmat_sigma(&fm, i + 168, s.window);
			T_ASSERT(isfinite(sg) && sg > 0);
			z += loss_value(LOSS_CZAR, fm.Y[i], 0, sg, &cp);
			n++;
		}
		T_EQ_INT(n, fit.val.n);
		T_CHECK(fabs(z / (double)n - fit.val.loss_zero) < 1e-12);
	}
	T_CHECK(fit.val.loss_model != fit.val.loss_zero);
	/* The scale by hand: the population std of the targets of rows [T-h-W+1, T-h]. */
	{
		double m = 0, v = 0;
		size_t i, lo = 3000 - 168 - 2000 + 1;

		for (i = lo; i <= 3000 - 168; i++)
			m += fm.Y[i];
		m /= 2000;
		for (i = lo; i <= 3000 - 168; i++)
			v += (fm.Y[i] - m) * (fm.Y[i] - m);
		T_CHECK(fabs(sqrt(v / 2000) - fmat_sigma(&fm, 3000, 2000)) < 1e-12);
		T_CHECK(fabs(fmat_sigma(&fm, 3000, 100) - fmat_sigma(&fm, 3000, 720)) == 0);
		T_CHECK(isnan(fmat_sigma(&fm, 100, 720)));
	}
	s.loss = LOSS_MSE;
	T_ASSERT(model_fit(&b, &fm, 3900, &s, 1, &fit, NULL, err, sizeof(err)) == 0);
	T_CHECK(fabs(fit.val.loss_model - fit.val.mse) < 1e-15);
	T_CHECK(fabs(fit.val.loss_zero - fit.val.mse_zero) < 1e-15);
	fmat_free(&fm);
	bars_free(&b);
}

/* default resolves per loss method, says what and why; topic keys reach the spec. */
T_TEST(default_resolution_and_topic_keys)
{
	struct model_spec s;
	struct config_topic t;
	char err[256];
	enum loss_method m;

	memset(&t, 0, sizeof(t));
	t.model = "default";
	t.target_hours = 168;
	t.shrink = -1;
	t.clip_sigma = 2;
	t.czar_alpha = -1;
	t.loss_method = "auto";
	t.objective = "mse";
	T_CHECK(topic_loss_config(&t, &m) == -1);
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.loss == LOSS_MSE && s.czar_alpha == CZAR_ALPHA_EVAL);
	T_CHECK(s.resolved[0] != '\0' && s.resolved_why[0] != '\0');
	T_CHECK(strstr(s.resolved_why, "mse") != NULL);
	for (m = LOSS_MSE; m <= LOSS_CZAR; m++) {
		model_default_resolve(m, &s);
		T_EQ_STR(s.name, "default");
		T_CHECK(strstr(s.resolved_why, loss_method_name(m)) != NULL);
	}
	t.loss_method = "czar";
	t.czar_alpha = 0.5;
	T_ASSERT(topic_loss_config(&t, &m) == 0 && m == LOSS_CZAR);
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.loss == LOSS_CZAR && s.czar_alpha == 0.5);
	t.model = "xgboost";
	t.objective = "czar";
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.xp.czar == 1 && s.xp.czar_alpha == CZAR_ALPHA_TRAIN);
	T_CHECK(s.shrink == 0.1);	/* xgboost's default shrink */
	T_CHECK(s.resolved[0] == '\0');
	t.model = "momentum";
	t.train_span_hours = 720;
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	T_CHECK(s.window == MODEL_EXPANDING);	/* expanding whatever the span */
}

int
main(void)
{
	T_RUN(window_decides_start);
	T_RUN(json_shape_and_default_is_mse);
	T_RUN(bootstrap_intervals);
	T_RUN(loss_methods_in_backtest);
	T_RUN(dump_lines);
	T_RUN(report_pictures);
	T_RUN(momentum_model);
	T_RUN(xgb_czar_objective);
	T_RUN(validation_reports_loss);
	T_RUN(default_resolution_and_topic_keys);
	return t_done();
}

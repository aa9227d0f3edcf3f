/*
 * trainer/truth.c and common/shadowspec.c (issue 19): the shadow list's syntax, the
 * realised value of a row, and the shadow scores (n, mean losses, loss minus zero's and its
 * block-bootstrap interval) against values computed by hand under MSE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

#include "config.h"
#include "trainer/truth.h"
#include "util.h"

#define NEAR(a, b)	(fabs((a) - (b)) <= 1e-12 * fmax(1, fabs(b)))

T_TEST(shadow_split)
{
	char why[300], **v;
	size_t n;

	v = config_shadow_split("", &n, why, sizeof(why));
	T_ASSERT(v != NULL && n == 0 && v[0] == NULL);
	config_shadow_free(v);
	v = config_shadow_split(" momentum ,exec:/bin/echo 0.5 , https://m.example/x", &n, why,
	    sizeof(why));
	T_ASSERT(v != NULL && n == 3);
	T_EQ_STR(v[0], "momentum");
	T_EQ_STR(v[1], "exec:/bin/echo 0.5");
	T_EQ_STR(v[2], "https://m.example/x");
	T_ASSERT(v[3] == NULL);
	config_shadow_free(v);
	T_ASSERT(config_shadow_split("momentum,,ridge", &n, why, sizeof(why)) == NULL);
	T_ASSERT(strstr(why, "an empty model") != NULL);
	T_ASSERT(config_shadow_split("momentum, nosuch", &n, why, sizeof(why)) == NULL);
	T_ASSERT(strstr(why, "model \"nosuch\" is not one of") != NULL);
	T_ASSERT(config_shadow_split("exec:relative/path", &n, why, sizeof(why)) == NULL);
	T_ASSERT(config_shadow_split("ridge, xgboost, ridge", &n, why, sizeof(why)) == NULL);
	T_ASSERT(strstr(why, "listed twice") != NULL);
	T_ASSERT(config_shadow_split("default,reference,ridge,xgboost,momentum,exec:/a,exec:/b,"
	    "exec:/c,exec:/d", &n, why, sizeof(why)) == NULL);
	T_ASSERT(strstr(why, "more than 8") != NULL);
}

/* Bars: close(hour k) = 100 e^(0.01 k²/100): known log returns. */
static double
closek(int k)
{
	return 100 * exp(0.01 * k * k / 100.0);
}

static void
setup(struct truth *tr, char *path, enum loss_method m)
{
	struct config c;
	struct config_topic t;
	FILE *f;
	int k;
	char ds[300];

	f = fdopen(mkstemp(path), "w");
	fprintf(f, "unix,close\n");
	for (k = 0; k < 200; k++)
		fprintf(f, "%d,%.17g\n", 1700000000 / 3600 * 3600 + k * 3600, closek(k));
	fclose(f);
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	snprintf(ds, sizeof(ds), "csv:%s", path);
	t.data_source = ds;
	t.target_hours = 2;
	truth_load(tr, &c, &t, m);
}

static json_t *
row(int k, const char *ours, const char *a, const char *b)
{
	char ts[40];
	json_t *r = json_pack("{s:i, s:s, s:s?, s:{}}", "nonce", 100 + k, "time",
	    iso8601(1700000000 / 3600 * 3600 + k * 3600 + 125.5, ts, sizeof(ts)), "value", ours,
	    "shadow");

	json_object_set_new(json_object_get(r, "shadow"), "a", json_pack("{s:s?}", "value", a));
	if (b != NULL)
		json_object_set_new(json_object_get(r, "shadow"), "b", json_pack("{s:s}", "value",
		    b));
	return r;
}

T_TEST(realized_and_scores)
{
	struct truth tr;
	char path[] = "/tmp/aw-truth-XXXXXX", *models[] = { "a", "b", "gone", NULL };
	json_t *all = json_object(), **rows, *sc, *e;
	double y, la = 0, lz = 0, ls = 0, d[4];
	size_t n, i;
	const char *av[] = { "0.01", "-0.02", NULL, "0.03", "0.5" };

	setup(&tr, path, LOSS_MSE);
	T_ASSERT(tr.have_bars);
	/* T = the row's hour (its seconds past the hour do not count), H = 2. */
	y = truth_realized(&tr, 1700000000 / 3600 * 3600 + 5 * 3600 + 1799);
	T_ASSERT(NEAR(y, log(closek(7) / closek(5))));
	T_ASSERT(isnan(truth_realized(&tr, 1700000000 / 3600 * 3600 + 198 * 3600)));
	/* rows 10..14; row 12 has no value of a; row 14's truth is not known (hour 199 + 2) */
	for (i = 0; i < 5; i++) {
		int k = i < 4 ? 10 + (int)i : 198;
		char key[16];

		snprintf(key, sizeof(key), "%d", 100 + k);
		json_object_set_new(all, key, row(k, "0.001", av[i], i == 0 ? "0.002" : NULL));
	}
	rows = truth_rows(all, &n);
	T_ASSERT(n == 5);
	T_ASSERT(json_integer_value(json_object_get(rows[0], "nonce")) == 110);
	sc = truth_shadow_scores(&tr, rows, n, models);
	T_ASSERT(json_array_size(sc) == 3);
	for (i = 0, n = 0; i < 4; i++) {
		double v;

		if (av[i] == NULL)
			continue;
		y = log(closek(10 + (int)i + 2) / closek(10 + (int)i));
		v = atof(av[i]);
		la += (y - v) * (y - v);
		lz += y * y;
		ls += (y - 0.001) * (y - 0.001);
		d[n++] = (y - v) * (y - v) - y * y;
	}
	e = json_array_get(sc, 0);
	T_EQ_STR(json_string_value(json_object_get(e, "model")), "a");
	T_EQ_INT(json_integer_value(json_object_get(e, "n")), 3);
	T_ASSERT(NEAR(json_real_value(json_object_get(e, "loss")), la / 3));
	T_ASSERT(NEAR(json_real_value(json_object_get(e, "zero_loss")), lz / 3));
	T_ASSERT(NEAR(json_real_value(json_object_get(e, "submitted_loss")), ls / 3));
	T_ASSERT(NEAR(json_real_value(json_object_get(e, "loss_minus_zero")), (la - lz) / 3));
	{
		json_t *ci = json_object_get(e, "ci");
		double lo = fmin(d[0], fmin(d[1], d[2])), hi = fmax(d[0], fmax(d[1], d[2]));

		T_ASSERT(json_array_size(ci) == 2);
		/* a mean of resampled windows: inside [min d, max d], around the mean */
		T_ASSERT(json_real_value(json_array_get(ci, 0)) >= lo - 1e-15);
		T_ASSERT(json_real_value(json_array_get(ci, 1)) <= hi + 1e-15);
		T_ASSERT(json_real_value(json_array_get(ci, 0)) <= (la - lz) / 3 + 1e-15);
		T_ASSERT(json_real_value(json_array_get(ci, 1)) >= (la - lz) / 3 - 1e-15);
		T_ASSERT(json_real_value(json_array_get(ci, 0)) <
		    json_real_value(json_array_get(ci, 1)));
	}
	/* b: one window, no interval; gone: configured, never answered */
	e = json_array_get(sc, 1);
	T_EQ_INT(json_integer_value(json_object_get(e, "n")), 1);
	T_ASSERT(json_is_null(json_object_get(e, "ci")));
	e = json_array_get(sc, 2);
	T_EQ_STR(json_string_value(json_object_get(e, "model")), "gone");
	T_EQ_INT(json_integer_value(json_object_get(e, "n")), 0);
	T_ASSERT(json_is_null(json_object_get(e, "loss")));
	T_ASSERT(json_is_null(json_object_get(e, "loss_minus_zero")));
	json_decref(sc);
	/* a model only in the rows comes after the configured ones */
	{
		char *only[] = { "b", NULL };

		sc = truth_shadow_scores(&tr, rows, 5, only);
		T_ASSERT(json_array_size(sc) == 2);
		T_EQ_STR(json_string_value(json_object_get(json_array_get(sc, 1), "model")), "a");
		json_decref(sc);
	}
	free(rows);
	json_decref(all);
	truth_free(&tr);
	unlink(path);
}

T_TEST(no_bars)
{
	struct truth tr;
	struct config c;
	struct config_topic t;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	t.data_source = (char *)"csv:/nonexistent/bars.csv";
	t.target_hours = 1;
	truth_load(&tr, &c, &t, LOSS_ZPTAE);
	T_ASSERT(!tr.have_bars);
	T_ASSERT(isnan(truth_realized(&tr, 1700000000)));
	T_ASSERT(isnan(truth_loss(&tr, NAN, 0.1)));
	truth_free(&tr);
}

int
main(void)
{
	T_RUN(shadow_split);
	T_RUN(realized_and_scores);
	T_RUN(no_bars);
	return t_done();
}

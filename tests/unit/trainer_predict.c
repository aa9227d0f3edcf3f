/*
 * Trainer: prediction cache (fresh, stale, corrupt), model files, the built-in models
 * (default, ridge, xgboost, reference), the newest complete bar, gaps, the adaptive
 * training window, stale data, fallbacks with their reasons, skip.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#include "trainer/model.h"
#include "trainer/trainer.h"
#include "util.h"

static char top[] = "/tmp/trainer_predict_XXXXXX", dir[300];
static char csvpath[256], srcbuf[300];

/* n hourly bars ending `age` seconds before the current hour; a noisy sine. */
static void
write_csv(const char *path, size_t n, long age)
{
	FILE *fp = fopen(path, "w");
	long long end = ((long long)time(NULL) / 3600) * 3600 - age;
	size_t i;

	fprintf(fp, "unix,close\n");
	for (i = 0; i < n; i++)
		fprintf(fp, "%lld,%.6f\n", end - (long long)(n - 1 - i) * 3600, 30000 * exp(0.05 *
		    sin((double)i / 150) + 0.01 * sin((double)i * 1.7)));
	fclose(fp);
}

static void
setup(struct config *c, struct config_topic *t, size_t n, long age)
{
	snprintf(dir, sizeof(dir), "%s/XXXXXX", top);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(csvpath, sizeof(csvpath), "%s/btc.csv", dir);
	snprintf(srcbuf, sizeof(srcbuf), "csv:%s", csvpath);
	write_csv(csvpath, n, age);
	memset(c, 0, sizeof(*c));
	memset(t, 0, sizeof(*t));
	c->state_dir = dir;
	t->id = 67;
	t->ticker = "btcusd";
	t->data_source = srcbuf;
	t->target_hours = 168;
	t->train_span_hours = 8760;
	t->min_train_hours = 336;
	t->validation_span_hours = 168;
	t->purge_hours = -1;
	t->cache_ttl = 3600;
	t->fallback = "0.0";
	t->model = "ridge";
	t->stale_after_s = 7200;
	t->shrink = 1;
	t->clip_sigma = 2;
}

static char *
cache_file(void)
{
	return xasprintf("%s/cache/topic-67/prediction.json", dir);
}

T_TEST(cache_fresh_then_served)
{
	struct config c;
	struct config_topic t;
	struct prediction p1, p2;
	char *cf, *text;
	size_t len;

	setup(&c, &t, 2000, 0);
	predict_topic(&c, &t, NULL, 1, &p1);
	T_EQ_STR(p1.source, "fresh");
	T_ASSERT(p1.have_value);
	T_ASSERT(p1.have_val && p1.val.n > 0);
	cf = cache_file();
	text = read_file(cf, 1 << 20, &len);
	T_ASSERT(text != NULL);
	T_ASSERT(strstr(text, p1.value) != NULL);
	free(text);
	/* A second PREDICT (the trainer handles them one at a time) does not train again. */
	predict_topic(&c, &t, NULL, 1, &p2);
	T_EQ_STR(p2.source, "cache");
	T_EQ_STR(p2.value, p1.value);
	T_ASSERT(p2.train_ms == 0);
	/* Without the cache (alloractl predict): trains. */
	predict_topic(&c, &t, NULL, 0, &p2);
	T_EQ_STR(p2.source, "fresh");
	T_EQ_STR(p2.value, p1.value);	/* deterministic */
	free(cf);
}

T_TEST(cache_stale_retrains)
{
	struct config c;
	struct config_topic t;
	struct prediction p;
	char *cf, *text, ts[40];
	size_t len;

	setup(&c, &t, 2000, 0);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	cf = cache_file();
	iso8601(wall_s() - 2 * 3600, ts, sizeof(ts));
	text = xasprintf("{\"topic\": 67, \"value\": \"0.5\", \"source\": \"fresh\", \"model\": "
	    "\"ridge\", \"trained_at\": \"%s\", \"rows\": 10}", ts);
	T_ASSERT(write_file_atomic(cf, text, strlen(text), 0640) == 0);
	free(text);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(strcmp(p.value, "0.5") != 0);
	/* A young one is served as it is. */
	iso8601(wall_s() - 60, ts, sizeof(ts));
	text = xasprintf("{\"topic\": 67, \"value\": \"0.5\", \"source\": \"fresh\", \"model\": "
	    "\"ridge\", \"trained_at\": \"%s\", \"rows\": 10}", ts);
	T_ASSERT(write_file_atomic(cf, text, strlen(text), 0640) == 0);
	free(text);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "cache");
	T_EQ_STR(p.value, "0.5");
	/* Another model's cache is not used. */
	t.model = "default";
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	(void)len;
	free(cf);
}

/*
 * A cache refused (stale here; also another loss method or model) is replaced by the fresh
 * prediction, which the next window is served from: the fresh one carries the topic's
 * model (it had "" once from_cache() had cleared the prediction, so every later window
 * retrained: 30 ms instead of 3 per window in the daemon, a cache never used again).
 */
T_TEST(cache_rewritten_after_a_stale_one)
{
	struct config c;
	struct config_topic t;
	struct prediction p;
	char *cf, *text, ts[40];

	setup(&c, &t, 2000, 0);
	predict_topic(&c, &t, NULL, 1, &p);	/* makes the cache's folder */
	cf = cache_file();
	iso8601(wall_s() - 2 * 3600, ts, sizeof(ts));
	text = xasprintf("{\"topic\": 67, \"value\": \"0.5\", \"source\": \"fresh\", \"model\": "
	    "\"ridge\", \"trained_at\": \"%s\", \"rows\": 10}", ts);
	T_ASSERT(write_file_atomic(cf, text, strlen(text), 0640) == 0);
	free(text);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_STR(p.model, "ridge");
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "cache");
	free(cf);
}

T_TEST(cache_corrupt_discarded)
{
	static const char *bad[] = {
		"{\"value\": \"0.5\"",
		"",
		"[1,2]",
		"{\"value\": \"abc\", \"model\": \"ridge\", \"trained_at\": \"2026-01-01T00:00:00Z\"}",
		"{\"value\": 5, \"model\": \"ridge\"}",
	};
	struct config c;
	struct config_topic t;
	struct prediction p;
	char *cf;
	size_t i;

	setup(&c, &t, 2000, 0);
	predict_topic(&c, &t, NULL, 1, &p);
	cf = cache_file();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_ASSERT(write_file_atomic(cf, bad[i], strlen(bad[i]), 0640) == 0);
		predict_topic(&c, &t, NULL, 1, &p);
		T_EQ_STR(p.source, "fresh");
		T_ASSERT(p.have_value);
	}
	free(cf);
}

T_TEST(fallback_too_few_rows)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 500, 0);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(p.have_value);
	T_ASSERT(strtod(p.value, NULL) == 0);
	T_ASSERT(strncmp(p.reason, "Insufficient data", 17) == 0);
}

T_TEST(fallback_stale_data)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 2000, 3 * 3600);
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "stale") != NULL);
	/* With --csv the newest bar of the file is "now": not stale. */
	predict_topic(&c, &t, csvpath, 0, &p);
	T_EQ_STR(p.source, "fresh");
}

T_TEST(fallback_failing_provider)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 2000, 0);
	t.data_source = "csv:/nonexistent/btc.csv";
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "/nonexistent/btc.csv") != NULL);
	t.data_source = "tiingo";
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(p.reason[0] != '\0');
	/* A garbled file. */
	{
		FILE *fp = fopen(csvpath, "w");

		fputs("unix,close\n1,2\nhello\n", fp);
		fclose(fp);
	}
	t.data_source = srcbuf;
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "Insufficient data") != NULL);
}

T_TEST(models_default_and_reference)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 2000, 0);
	t.shrink = -1;		/* the tuned default: k = 0 (trainer/README.md) */
	t.model = "default";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_STR(p.value, "0");
	T_ASSERT(p.have_val);
	t.model = "reference";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_STR(p.model, "reference");
	T_ASSERT(strcmp(p.value, "0") != 0);
	T_ASSERT(p.rows <= 336);
	t.model = "exec:/bin/true";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
}

/* Bars ending with the one that starts at `last` (unix s), n of them, with a gap. */
static void
write_csv_at(const char *path, size_t n, long long last, size_t gap_at, size_t gap_len)
{
	FILE *fp = fopen(path, "w");
	size_t i;

	fprintf(fp, "unix,close\n");
	for (i = 0; i < n; i++) {
		if (i >= gap_at && i < gap_at + gap_len)
			continue;
		fprintf(fp, "%lld,%.6f\n", last - (long long)(n - 1 - i) * 3600, 30000 *
		    exp(0.05 * sin((double)i / 150) + 0.01 * sin((double)i * 1.7)));
	}
	fclose(fp);
}

T_TEST(xgboost_in_the_daemon_saves_its_model)
{
	struct config c;
	struct config_topic t;
	struct model_spec s;
	struct model *m;
	struct prediction p;
	char *mf, *rf, err[256], desc[512];

	setup(&c, &t, 2000, 0);
	t.model = "xgboost";
	t.shrink = -1;			/* its tuned k */
	t.n_estimators = 40;
	t.max_depth = 2;
	t.train_span_hours = 1000;
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_STR(p.model, "xgboost");
	T_ASSERT(p.have_value && strcmp(p.value, "0") != 0);
	T_EQ_INT(p.rows, 1000);
	T_ASSERT(p.have_val && p.val.n > 0);
	mf = xasprintf("%s/cache/topic-67/model.ubj", dir);
	rf = xasprintf("%s/cache/topic-67/model.json", dir);
	T_ASSERT(access(mf, R_OK) == 0);
	T_ASSERT(access(rf, F_OK) == -1);
	/* The file is the model: feature set B, the configured trees. */
	T_ASSERT(model_spec_topic(&t, &s, err, sizeof(err)) == 0);
	m = model_load(&s, mf, err, sizeof(err));
	T_ASSERT(m != NULL);
	model_describe(m, desc, sizeof(desc));
	T_ASSERT(strstr(desc, "40 trees, depth 2") != NULL);
	T_ASSERT(strstr(desc, "b features (20)") != NULL);
	model_free(m);
	/* Switching to ridge replaces it. */
	t.model = "ridge";
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(access(rf, R_OK) == 0);
	T_ASSERT(access(mf, F_OK) == -1);
	/* alloractl predict (no cache) writes nothing. */
	T_ASSERT(unlink(rf) == 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(access(rf, F_OK) == -1);
	free(mf);
	free(rf);
}

T_TEST(reference_is_the_gbr_recipe)
{
	struct config c;
	struct config_topic t;
	struct prediction p, q;
	char *mf;

	setup(&c, &t, 2000, 0);
	t.model = "reference";
	t.shrink = -1;
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_INT(p.rows, 336);			/* 14 days of training rows */
	mf = xasprintf("%s/cache/topic-67/model.ubj", dir);
	T_ASSERT(access(mf, R_OK) == 0);
	free(mf);
	/* Deterministic. */
	predict_topic(&c, &t, NULL, 0, &q);
	T_EQ_STR(q.value, p.value);
	/* The data range ends with the newest bar, the training rows a week before. */
	T_ASSERT(p.data_to - p.data_from == (336 + 168 - 1) * 3600.0);
}

T_TEST(newest_complete_bar_and_partial_bar)
{
	struct config c;
	struct config_topic t;
	struct prediction p;
	long long hour = ((long long)time(NULL) / 3600) * 3600;

	setup(&c, &t, 2000, 0);
	/* The file ends with the current hour's bar: partial, dropped. */
	write_csv_at(csvpath, 2000, hour, 0, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(p.data_to == (double)(hour - 3600));
	/* With --csv the newest bar of the file is now: kept. */
	predict_topic(&c, &t, csvpath, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(p.data_to == (double)hour);
}

T_TEST(stale_after_s_from_the_end_of_the_newest_bar)
{
	struct config c;
	struct config_topic t;
	struct prediction p;
	long long now = (long long)time(NULL);

	setup(&c, &t, 2000, 0);
	/* The newest bar ended 7000 s ago (started 10600 s ago): fresh enough. */
	write_csv_at(csvpath, 2000, now - 10600, 0, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	/* ... 7400 s ago: stale. */
	write_csv_at(csvpath, 2000, now - 11000, 0, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "stale data") != NULL);
	T_ASSERT(strstr(p.reason, "stale_after_s = 7200") != NULL);
	t.stale_after_s = 8000;
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
}

T_TEST(gaps_filled_or_skipped)
{
	struct config c;
	struct config_topic t;
	struct prediction p, q;
	long long hour = ((long long)time(NULL) / 3600) * 3600;

	setup(&c, &t, 2000, 0);
	write_csv_at(csvpath, 2000, hour - 3600, 0, 0);
	predict_topic(&c, &t, NULL, 0, &q);
	T_EQ_STR(q.source, "fresh");
	/* Two missing hours are filled forward. */
	write_csv_at(csvpath, 2000, hour - 3600, 1000, 2);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_INT(p.rows, q.rows);
	/* Ten missing hours: the rows whose windows touch them are not used. */
	write_csv_at(csvpath, 2000, hour - 3600, 1000, 10);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_ASSERT(p.rows < q.rows - 10);
	/* ... and when the newest row's lookback touches them, nothing is predicted. */
	write_csv_at(csvpath, 2000, hour - 3600, 1950, 10);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "Insufficient data: no default features for the newest bar "
	    "(a gap of more than 2 hours") != NULL);
}

T_TEST(adaptive_training_window)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	/* train_span_hours 8760 but 1200 bars: all the usable rows. */
	setup(&c, &t, 1201, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_INT(p.rows, 1200 - 336 - 168);
	/* 14 days of rows (min_train_hours) are enough ... */
	setup(&c, &t, 336 + 336 + 168 + 1, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fresh");
	T_EQ_INT(p.rows, 336);
	/* ... fewer are not. */
	setup(&c, &t, 336 + 335 + 168 + 1, 0);
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	T_EQ_STR(p.reason, "Insufficient data: 335 usable training rows, 336 needed");
}

T_TEST(fetched_source_without_bars)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 2000, 0);
	t.data_source = "binance";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "bars/binance-btcusd.csv") != NULL);
	t.data_source = "kraken";
	t.model = "xgboost";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	t.data_source = srcbuf;
	t.max_depth = 50;
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(strstr(p.reason, "max_depth") != NULL);
}

T_TEST(fallback_skip)
{
	struct config c;
	struct config_topic t;
	struct prediction p;

	setup(&c, &t, 100, 0);
	t.fallback = "skip";
	predict_topic(&c, &t, NULL, 1, &p);
	T_EQ_STR(p.source, "fallback");
	T_ASSERT(!p.have_value);
	T_ASSERT(p.reason[0] != '\0');
}

int
main(void)
{
	char *cmd;
	int rc;

	if (mkdtemp(top) == NULL) {
		perror(top);
		return 1;
	}
	T_RUN(cache_fresh_then_served);
	T_RUN(cache_stale_retrains);
	T_RUN(cache_rewritten_after_a_stale_one);
	T_RUN(cache_corrupt_discarded);
	T_RUN(fallback_too_few_rows);
	T_RUN(fallback_stale_data);
	T_RUN(fallback_failing_provider);
	T_RUN(models_default_and_reference);
	T_RUN(xgboost_in_the_daemon_saves_its_model);
	T_RUN(reference_is_the_gbr_recipe);
	T_RUN(newest_complete_bar_and_partial_bar);
	T_RUN(stale_after_s_from_the_end_of_the_newest_bar);
	T_RUN(gaps_filled_or_skipped);
	T_RUN(adaptive_training_window);
	T_RUN(fetched_source_without_bars);
	T_RUN(fallback_skip);
	rc = t_done();
	cmd = xasprintf("rm -rf '%s'", top);
	(void)!system(cmd);
	free(cmd);
	return rc;
}

/* Trainer: prediction cache (fresh, stale, corrupt), fallbacks with their reasons, skip. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

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
	T_ASSERT(p.rows <= 672);
	t.model = "exec:/bin/true";
	predict_topic(&c, &t, NULL, 0, &p);
	T_EQ_STR(p.source, "fallback");
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
	T_RUN(cache_corrupt_discarded);
	T_RUN(fallback_too_few_rows);
	T_RUN(fallback_stale_data);
	T_RUN(fallback_failing_provider);
	T_RUN(models_default_and_reference);
	T_RUN(fallback_skip);
	rc = t_done();
	cmd = xasprintf("rm -rf '%s'", top);
	(void)!system(cmd);
	free(cmd);
	return rc;
}

/*
 * Trainer process (trainer_main on fd 3, driven as the supervisor drives it): PREDICTs for
 * one topic that arrive while it trains are answered by one training; the next one from
 * the cache; a topic without data gets the fallback with its reason.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "rolechild.h"
#include "t.h"

#include "config.h"
#include "frame.h"
#include "proc.h"
#include "roles.h"
#include "util.h"

static char top[] = "/tmp/trainer_process_XXXXXX";
static struct event_base *base;
static struct config *conf;
static json_t *answers[8];
static int nanswers, ready, want;

static void
predict(struct peer *p, uint32_t topic, uint32_t seq, long long nonce)
{
	peer_send(p, MSG_PREDICT, topic, seq, json_pack("{s:i, s:I, s:i}", "topic", (int)topic,
	    "nonce", (json_int_t)nonce, "deadline_ms", 30000));
}

static void
on_msg(struct peer *p, struct frame *f, void *arg)
{
	switch (f->type) {
	case MSG_HELLO:
		peer_send(p, MSG_CONFIG, 0, 0, config_to_json(conf));
		break;
	case MSG_READY:
		ready = 1;
		/* Three windows at once: two of topic 67, one of topic 68 (no data). */
		predict(p, 67, 1, 100);
		predict(p, 67, 2, 101);
		predict(p, 68, 3, 102);
		break;
	case MSG_PREDICTION:
		if (nanswers < 8)
			answers[nanswers++] = json_incref(f->payload);
		if (nanswers == 3)
			predict(p, 67, 4, 103);		/* later: the cache */
		if (nanswers == want)
			event_base_loopexit(base, NULL);
		break;
	default:
		break;
	}
}

static void
on_close(struct peer *p, const char *reason, void *arg)
{
	fprintf(stderr, "# trainer channel closed: %s\n", reason);
	event_base_loopexit(base, NULL);
}

static json_t *
answer(long long nonce)
{
	int i;

	for (i = 0; i < nanswers; i++)
		if (json_integer_value(json_object_get(answers[i], "nonce")) == nonce)
			return answers[i];
	return NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

T_TEST(concurrent_predicts_train_once)
{
	char dir[300], path[400], err[1024], *cache;
	struct timeval tmo = { 40, 0 };
	struct peer *sup;
	json_t *a, *b, *c, *d;
	FILE *fp;
	long long hour = ((long long)time(NULL) / 3600) * 3600;
	int supfd, st, i;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/a", top);
	T_ASSERT(mkdir(dir, 0700) == 0);
	/* 3000 hourly bars up to the last complete hour. */
	snprintf(path, sizeof(path), "%s/bars.csv", dir);
	fp = fopen(path, "w");
	fprintf(fp, "unix,close\n");
	for (i = 0; i < 3000; i++)
		fprintf(fp, "%lld,%.4f\n", hour - 3600LL * (3000 - i), 30000 * exp(0.05 *
		    sin(i / 150.0) + 0.01 * sin(i * 1.7)));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/key", dir);
	fp = fopen(path, "w");
	fprintf(fp, "test only\n");
	fclose(fp);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/w.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "[global]\nstate_dir = %s/state\nrun_dir = %s/run\nmetrics_listen = off\n"
	    "[chain]\nchain_id = t-1\nrpc = http://127.0.0.1:1\n[wallet main]\n"
	    "mnemonic_file = %s/key\n[topic 67]\ndata_source = csv:%s/bars.csv\n"
	    "model = xgboost\ntrain_span_hours = 2000\nn_estimators = 100\n"
	    "[topic 68]\ndata_source = csv:%s/none.csv\n", dir, dir, dir, dir, dir);
	fclose(fp);
	conf = config_load(path, NULL, err, sizeof(err));
	if (conf == NULL)
		T_FAIL("%s", err);
	T_ASSERT(conf != NULL);
	pid = rolechild_start(trainer_main, &supfd);
	T_ASSERT(pid != -1);
	base = event_base_new();
	sup = peer_new(base, supfd, on_msg, on_close, NULL);
	want = 4;
	event_base_loopexit(base, &tmo);
	event_base_dispatch(base);
	peer_send(sup, MSG_SHUTDOWN, 0, 0, NULL);
	peer_flush(sup);
	for (i = 0; i < 50 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 50) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	T_ASSERT(ready);
	T_EQ_INT(nanswers, 4);
	a = answer(100);
	b = answer(101);
	c = answer(102);
	d = answer(103);
	T_ASSERT(a != NULL && b != NULL && c != NULL && d != NULL);
	/* One training answered both windows of topic 67. */
	T_EQ_STR(jstr(a, "source"), "fresh");
	T_EQ_STR(jstr(b, "source"), "fresh");
	T_EQ_STR(jstr(a, "model"), "xgboost");
	T_EQ_STR(jstr(a, "trained_at"), jstr(b, "trained_at"));
	T_EQ_STR(jstr(a, "value"), jstr(b, "value"));
	/* The next window: the cached value of that training. */
	T_EQ_STR(jstr(d, "source"), "cache");
	T_EQ_STR(jstr(d, "trained_at"), jstr(a, "trained_at"));
	T_EQ_STR(jstr(d, "value"), jstr(a, "value"));
	/* Topic 68 has no data: the fallback 0.0 with the reason. */
	T_EQ_STR(jstr(c, "source"), "fallback");
	T_EQ_STR(jstr(c, "value"), "0.0");
	T_ASSERT(strstr(jstr(c, "reason"), "Insufficient data") != NULL);
	T_ASSERT(strstr(jstr(c, "reason"), "none.csv") != NULL);
	/* The cache folder holds the model file and prediction.json. */
	cache = xasprintf("%s/state/cache/topic-67/model.ubj", dir);
	T_ASSERT(access(cache, R_OK) == 0);
	free(cache);
	cache = xasprintf("%s/state/cache/topic-67/prediction.json", dir);
	T_ASSERT(access(cache, R_OK) == 0);
	free(cache);
	config_free(conf);
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
	T_RUN(concurrent_predicts_train_once);
	rc = t_done();
	cmd = xasprintf("rm -rf '%s'", top);
	(void)!system(cmd);
	free(cmd);
	return rc;
}

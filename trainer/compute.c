/*
 * The computations of a topic's prediction, asynchronous (see trainer_int.h): a built-in
 * model trained in a forked training helper, a predictor program (exec:, run through
 * predrun.c), or a model server (http:, https:); their answers checked (extpred.c),
 * cached, or turned into the fallback with the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "log.h"
#include "model.h"
#include "trainer.h"
#include "trainer_int.h"
#include "extpred.h"
#include "fetch.h"
#include "http.h"
#include "job.h"
#include "predrun.h"
#include "util.h"

/* ---- external predictors and the training helper ---- */

enum pkind
pkind(const struct config_topic *t)
{
	if (strncmp(t->model, "exec:", 5) == 0)
		return PK_EXEC;
	if (strncmp(t->model, "http://", 7) == 0 || strncmp(t->model, "https://", 8) == 0)
		return PK_HTTP;
	return PK_BUILTIN;
}

/* The bars an external predictor gets (BARS_CSV): whatever there is, stale or not. */
static char *
bars_file(const struct config *c, const struct config_topic *t, const char *csv)
{
	if (csv != NULL)
		return xstrdup(csv);
	if (strncmp(t->data_source, "csv:", 4) == 0)
		return xstrdup(t->data_source + 4);
	return bar_cache_path(c, t);
}

/*
 * One computation of a topic's prediction, asynchronous: a built-in model trained in a
 * forked helper, a predictor program, or a model server.  done() is called exactly once.
 */
struct compute {
	struct event_base	*base;
	struct http_client	*http;
	const struct config	*conf;
	uint32_t		 topic;
	int64_t			 nonce;
	char			*csv;		/* alloractl predict --csv */
	int			 use_cache;
	struct job		*job;
	long			 http_id;
	char			*what;		/* "predictor" | "model server" */
	char			*fail;		/* why it could not start */
	double			 t0;
	compute_fn		 done;
	void			*arg;
	struct extpred_stderr	 errlog;	/* the predictor's stderr, bounded */
};

static void	report_stderr(struct compute *);

void
compute_free(struct compute *k)
{
	report_stderr(k);
	if (k->job != NULL)
		job_cancel(k->job);
	if (k->http_id > 0)
		http_cancel(k->http, k->http_id);
	free(k->csv);
	free(k->what);
	free(k->fail);
	free(k);
}

static void
compute_fail(struct compute *k, const char *why)
{
	const struct config_topic *t = config_topic(k->conf, k->topic);
	struct prediction p;

	memset(&p, 0, sizeof(p));
	if (t == NULL)
		fallback_plain(&p, why);
	else {
		snprintf(p.model, sizeof(p.model), "%s", t->model);
		fallback(t, &p, why);
	}
	k->done(k, &p, k->arg);
}

/* An external value: checked, cached, handed over. */
static void
compute_value(struct compute *k, const char *text, size_t len, int body)
{
	const struct config_topic *t = config_topic(k->conf, k->topic);
	struct prediction p;
	char err[400], why[512];
	int lrc;

	if (t == NULL) {
		compute_fail(k, "the topic is no longer configured");
		return;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.model, sizeof(p.model), "%s", t->model);
	if ((lrc = extpred_parse_labels(text, len, p.value, sizeof(p.value), err,
	    sizeof(err))) == -1 || (lrc == 0 && (body ? extpred_parse_body(text, len, p.value,
	    sizeof(p.value), err, sizeof(err)) : extpred_parse_output(text, len, p.value,
	    sizeof(p.value), err, sizeof(err))) == -1)) {
		snprintf(why, sizeof(why), "%s %s%s", k->what, body ? "answered " : "", err);
		compute_fail(k, why);
		return;
	}
	p.have_value = 1;
	p.source = "fresh";
	p.trained_at = wall_s();
	p.train_ms = (mono_s() - k->t0) * 1000;
	if (k->csv == NULL && k->use_cache)
		cache_write(k->conf, t, &p);
	k->done(k, &p, k->arg);
}

static void
on_predictor_stderr(const char *line, size_t len, void *arg)
{
	struct compute *k = arg;
	char *e;

	if (!extpred_stderr_take(&k->errlog, len))
		return;
	e = log_escape(line, len);
	log_warnx("topic %u: predictor: %s", k->topic, e);
	free(e);
}

static void
report_stderr(struct compute *k)
{
	char msg[256];

	if (extpred_stderr_report(&k->errlog, msg, sizeof(msg)))
		log_warnx("topic %u: predictor: %s", k->topic, msg);
}

static void
on_predictor_done(const struct job_result *r, void *arg)
{
	struct compute *k = arg;
	char why[256];

	k->job = NULL;
	report_stderr(k);
	switch (r->end) {
	case JOB_TIMEOUT:
		snprintf(why, sizeof(why), "predictor did not answer within %.1f s",
		    r->elapsed_ms / 1000);
		break;
	case JOB_TOO_MUCH:
		snprintf(why, sizeof(why), "predictor printed more than %d bytes", EXTPRED_MAX_OUT);
		break;
	case JOB_SIGNALED:
		snprintf(why, sizeof(why), "predictor was killed by signal %d", r->status);
		break;
	case JOB_EXITED:
		if (r->status == 0) {
			compute_value(k, r->out, r->out_len, 0);
			return;
		}
		snprintf(why, sizeof(why), "predictor exited with status %d%s", r->status,
		    r->status == 127 ? " (it could not be run)" : "");
		break;
	default:
		snprintf(why, sizeof(why), "predictor canceled");
	}
	compute_fail(k, why);
}

static void
on_server_answer(const struct http_response *r, void *arg)
{
	struct compute *k = arg;
	char why[400];

	k->http_id = 0;
	if (r->curl_code != 0) {
		snprintf(why, sizeof(why), "model server unreachable: %s", r->error);
		compute_fail(k, why);
	} else if (r->status < 200 || r->status > 299) {
		snprintf(why, sizeof(why), "model server answered HTTP %ld", r->status);
		compute_fail(k, why);
	} else
		compute_value(k, r->body, r->body_len, 1);
}

/* The training helper (a forked copy of the trainer): its log lines go to stderr. */
static void
helper_sink(enum log_level lvl, const char *event, const char *msg, json_t *data, void *arg)
{
	dprintf(2, "%c %s\n", lvl == LOG_LVL_ERROR ? 'E' : lvl == LOG_LVL_WARNING ? 'W' :
	    lvl == LOG_LVL_DEBUG ? 'D' : 'I', msg);
}

static int
helper_main(int fd, void *arg)
{
	struct compute *k = arg;
	const struct config_topic *t = config_topic(k->conf, k->topic);
	struct prediction p;
	json_t *j;
	char *s;
	int rc;

	log_set_sink(helper_sink, NULL);
	if (t == NULL)
		return 2;
	predict_topic(k->conf, t, k->csv, k->use_cache, &p);
	j = prediction_json(t->id, &p);
	if (p.train_ms > 0)
		json_object_set_new(j, "train_ms", json_real(p.train_ms));
	s = json_dumps(j, JSON_COMPACT);
	rc = s != NULL && write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : 1;
	free(s);
	json_decref(j);
	return rc;
}

static void
on_helper_stderr(const char *line, size_t len, void *arg)
{
	char *e = log_escape(len > 2 ? line + 2 : line, len > 2 ? len - 2 : len);

	if (len > 2 && line[1] == ' ' && (line[0] == 'E' || line[0] == 'W'))
		log_warnx("%s", e);
	else if (len > 2 && line[1] == ' ' && line[0] == 'D')
		log_debug("%s", e);
	else
		log_info("%s", e);
	free(e);
}

static void
on_helper_done(const struct job_result *r, void *arg)
{
	struct compute *k = arg;
	struct prediction p;
	json_t *j;
	char why[256];

	k->job = NULL;
	if (r->end == JOB_EXITED && r->status == 0) {
		j = json_loadb(r->out, r->out_len, 0, NULL);
		if (j != NULL && prediction_from_json(j, &p) == 0) {
			json_decref(j);
			k->done(k, &p, k->arg);
			return;
		}
		json_decref(j);
		snprintf(why, sizeof(why), "training failed: the training helper's answer is "
		    "unreadable");
	} else if (r->end == JOB_TIMEOUT)
		snprintf(why, sizeof(why), "training failed: not done after %.0f s",
		    r->elapsed_ms / 1000);
	else if (r->end == JOB_SIGNALED)
		snprintf(why, sizeof(why), "training failed: the training helper was killed by "
		    "signal %d", r->status);
	else
		snprintf(why, sizeof(why), "training failed: the training helper exited with "
		    "status %d", r->status);
	compute_fail(k, why);
}

/* The environment of a predictor program: nothing of ours but what it needs. */
static char **
predictor_env(const struct compute *k, const struct config_topic *t)
{
	char **env = xcalloc(9, sizeof(*env)), *bars = bars_file(k->conf, t, k->csv);
	const char *v;
	size_t n = 0;

	v = getenv("PATH");
	env[n++] = xasprintf("PATH=%s", v != NULL && *v != '\0' ? v :
	    "/usr/local/bin:/usr/bin:/bin");
	v = getenv("HOME");
	env[n++] = xasprintf("HOME=%s", v != NULL && *v != '\0' ? v : "/");
	v = getenv("LANG");
	env[n++] = xasprintf("LANG=%s", v != NULL && *v != '\0' ? v : "C.UTF-8");
	env[n++] = xasprintf("TOPIC_ID=%u", t->id);
	env[n++] = xasprintf("NONCE=%lld", (long long)k->nonce);
	env[n++] = xasprintf("TICKER=%s", t->ticker);
	env[n++] = xasprintf("TARGET_HOURS=%ld", t->target_hours);
	env[n++] = xasprintf("BARS_CSV=%s", access(bars, R_OK) == 0 ? bars : "");
	free(bars);
	return env;
}

static void
on_deferred_fail(evutil_socket_t fd, short ev, void *arg)
{
	struct compute *k = arg;

	compute_fail(k, k->fail);
}

/*
 * A computation that failed to start: its callback runs from the event loop, never from
 * inside compute_start (whose caller still holds what the callback frees).
 */
static struct compute *
compute_defer_fail(struct compute *k, const char *why)
{
	struct timeval tv = { 0, 0 };

	k->fail = xstrdup(why);
	if (event_base_once(k->base, -1, EV_TIMEOUT, on_deferred_fail, k, &tv) == -1) {
		compute_fail(k, why);	/* cannot defer: the caller gets NULL */
		return NULL;
	}
	return k;
}

#define TRAIN_TIMEOUT_MS	(20 * 60 * 1000L)

/*
 * Starts a computation for topic `topic` (nonce: the window's, for NONCE and {BlockHeight};
 * deadline_ms: how long an external predictor may take at most, <= 0 for its
 * predict_timeout_s).  builtin_inline: train in this process (alloractl predict).
 */
struct compute *
compute_start(struct event_base *base, struct http_client *http, const struct config *c,
    uint32_t topic, int64_t nonce, long deadline_ms, const char *csv, int use_cache,
    int builtin_inline, compute_fn done, void *arg)
{
	const struct config_topic *t = config_topic(c, topic);
	struct compute *k = xcalloc(1, sizeof(*k));
	struct job_spec s;
	struct predrun pr;
	struct prediction p;
	char err[256], why[400], **argv = NULL, **envp = NULL;
	long tmo;

	k->base = base;
	k->http = http;
	k->conf = c;
	k->topic = topic;
	k->nonce = nonce;
	k->csv = csv != NULL ? xstrdup(csv) : NULL;
	k->use_cache = use_cache;
	k->done = done;
	k->arg = arg;
	k->t0 = mono_s();
	/*
	 * The supervisor's deadline less a margin, so that the fallback carries our reason
	 * (and still arrives in time) rather than the supervisor's "did not answer".
	 */
	tmo = t->predict_timeout_s * 1000;
	if (deadline_ms > 0 && deadline_ms - (deadline_ms / 10 < 500 ? deadline_ms / 10 : 500) <
	    tmo)
		tmo = deadline_ms - (deadline_ms / 10 < 500 ? deadline_ms / 10 : 500);
	if (tmo < 100)
		tmo = 100;
	memset(&s, 0, sizeof(s));
	switch (pkind(t)) {
	case PK_BUILTIN:
		if (builtin_inline) {
			predict_topic(c, t, csv, use_cache, &p);
			done(k, &p, arg);
			return NULL;
		}
		s.fn = helper_main;
		s.fn_arg = k;
		s.timeout_ms = TRAIN_TIMEOUT_MS;
		s.on_stderr = on_helper_stderr;
		s.line_arg = k;
		k->job = job_start(base, &s, on_helper_done, k, err, sizeof(err));
		if (k->job == NULL) {
			snprintf(why, sizeof(why), "training failed: %s", err);
			return compute_defer_fail(k, why);
		}
		return k;
	case PK_EXEC:
		k->what = xstrdup("predictor");
		argv = job_split(t->model + 5, err, sizeof(err));
		if (argv == NULL) {
			snprintf(why, sizeof(why), "predictor command line: %s", err);
			return compute_defer_fail(k, why);
		}
		envp = predictor_env(k, t);
		s.path = argv[0];
		s.argv = argv;
		s.envp = envp;
		s.timeout_ms = tmo;
		s.max_out = EXTPRED_MAX_OUT;
		s.on_stderr = on_predictor_stderr;
		s.line_arg = k;
		/* predictor_user: as that user, with a private copy of the bars (predrun.c). */
		if (predrun_prepare(c, &s, envp, &pr, err, sizeof(err)) == 0)
			k->job = job_start(base, &s, on_predictor_done, k, err, sizeof(err));
		predrun_done(&pr);
		job_argv_free(argv);
		job_argv_free(envp);
		if (k->job == NULL) {
			snprintf(why, sizeof(why), "predictor: %s", err);
			return compute_defer_fail(k, why);
		}
		return k;
	case PK_HTTP: {
		struct http_request_opts o;
		char *url = extpred_url(t->model, t->ticker, t->id, nonce);

		k->what = xstrdup("model server");
		memset(&o, 0, sizeof(o));
		o.url = url;
		o.timeout_ms = tmo;
		o.max_body = EXTPRED_MAX_BODY;
		k->http_id = http_request(http, &o, on_server_answer, k);
		free(url);
		if (k->http_id == -1) {
			k->http_id = 0;
			return compute_defer_fail(k, "model server: the request could not be "
			    "started");
		}
		return k;
	}
	}
	return NULL;
}

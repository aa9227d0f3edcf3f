/*
 * The trainer: answers PREDICT with a value from the prediction cache (younger than
 * cache_ttl) or by training on the market data, and with the topic's fallback (with the
 * reason) when data is missing, stale or too short.  Also `alloractl predict`.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "ctl.h"
#include "dec.h"
#include "frame.h"
#include "log.h"
#include "model.h"
#include "trainer.h"
#include "extpred.h"
#include "fetch.h"
#include "http.h"
#include "job.h"
#include "proc.h"
#include "predrun.h"
#include "roles.h"
#include "util.h"



static char *
cache_path(const struct config *c, uint32_t topic)
{
	return xasprintf("%s/cache/topic-%u/prediction.json", c->state_dir, topic);
}

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- the topics' loss methods (PREDICT frames) ---- */

static struct topic_loss {
	uint32_t	 topic;
	enum loss_method m;
	char		 resolved[96];	/* the last `default` resolution logged */
} *LOSSES;
static size_t NLOSSES;

static struct topic_loss *
topic_loss_slot(uint32_t topic, int create)
{
	size_t i;

	for (i = 0; i < NLOSSES; i++)
		if (LOSSES[i].topic == topic)
			return &LOSSES[i];
	if (!create)
		return NULL;
	LOSSES = xrealloc(LOSSES, (NLOSSES + 1) * sizeof(*LOSSES));
	memset(&LOSSES[NLOSSES], 0, sizeof(*LOSSES));
	LOSSES[NLOSSES].topic = topic;
	LOSSES[NLOSSES].m = (enum loss_method)-1;
	return &LOSSES[NLOSSES++];
}

void
trainer_set_topic_loss(uint32_t topic, const char *method)
{
	enum loss_method m;
	struct topic_loss *l;

	if (method == NULL || loss_method_parse(method, &m) == -1)
		return;
	l = topic_loss_slot(topic, 1);
	if (l->m != m)
		log_info("topic %u: the topic's loss method is %s", topic, method);
	l->m = m;
}

enum loss_method
trainer_topic_loss(const struct config_topic *t, char *note, size_t notelen)
{
	struct topic_loss *l = topic_loss_slot(t->id, 0);
	enum loss_method m;

	note[0] = '\0';
	if (l != NULL && (int)l->m >= 0)
		return l->m;
	if (topic_loss_config(t, &m) == 0)
		return m;
	snprintf(note, notelen, "loss_method is auto and the chain's is not known yet: "
	    "scoring and resolving default as for mse");
	return LOSS_MSE;
}

static json_t *
prediction_json(uint32_t topic, const struct prediction *p)
{
	char a[40], b[40], c[40];
	json_t *j, *v;

	j = json_pack("{s:I, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:o}", "topic",
	    (json_int_t)topic, "value", p->have_value ? json_string(p->value) : json_null(), "source",
	    p->source, "reason", p->reason[0] ? json_string(p->reason) : json_null(), "model",
	    p->model, "trained_at", p->trained_at > 0 ? json_string(iso8601(p->trained_at, a,
	    sizeof(a))) : json_null(), "data_from", p->data_from > 0 ? json_string(iso8601(
	    p->data_from, b, sizeof(b))) : json_null(), "data_to", p->data_to > 0 ?
	    json_string(iso8601(p->data_to, c, sizeof(c))) : json_null(), "rows",
	    (json_int_t)p->rows, "validation", p->have_val ? json_pack("{s:o, s:o, s:o, s:o}",
	    "mse", jnum(p->val.mse), "mse_zero", jnum(p->val.mse_zero), "da", jnum(p->val.da),
	    "log_aspect", jnum(p->val.log_aspect)) : json_null());
	if (j == NULL)
		return NULL;
	if (p->loss_method != NULL) {
		json_object_set_new(j, "loss_method", json_string(p->loss_method));
		if (p->loss_note[0] != '\0')
			json_object_set_new(j, "loss_method_note", json_string(p->loss_note));
	}
	if (p->model_resolved[0] != '\0') {
		json_object_set_new(j, "model_resolved", json_string(p->model_resolved));
		json_object_set_new(j, "model_resolved_why", json_string(p->resolved_why));
	}
	if ((v = json_object_get(j, "validation")) != NULL && json_is_object(v)) {
		json_object_set_new(v, "loss_method", json_string(loss_method_name(
		    p->val.loss)));
		json_object_set_new(v, "loss", jnum(p->val.loss_model));
		json_object_set_new(v, "loss_zero", jnum(p->val.loss_zero));
	}
	return j;
}

/* The static name of a loss method's text, or NULL. */
static const char *
loss_name_of(const char *s)
{
	enum loss_method m;

	return s != NULL && loss_method_parse(s, &m) == 0 ? loss_method_name(m) : NULL;
}

static void
fallback(const struct config_topic *t, struct prediction *p, const char *why)
{
	char err[128];

	p->source = "fallback";
	snprintf(p->reason, sizeof(p->reason), "%s", why);
	if (strcmp(t->fallback, "skip") == 0 ||
	    dec_value(t->fallback, p->value, sizeof(p->value), err, sizeof(err)) == -1)
		p->have_value = 0;
	else
		p->have_value = 1;
}

static const char *
source_name(const char *s)
{
	if (s != NULL && strcmp(s, "cache") == 0)
		return "cache";
	if (s != NULL && strcmp(s, "fresh") == 0)
		return "fresh";
	return "fallback";
}

/* The inverse of prediction_json (the cache file, the training helper's answer). */
static int
prediction_from_json(json_t *d, struct prediction *p)
{
	const char *val, *model, *reason;
	json_t *v;

	memset(p, 0, sizeof(*p));
	val = json_string_value(json_object_get(d, "value"));
	model = json_string_value(json_object_get(d, "model"));
	reason = json_string_value(json_object_get(d, "reason"));
	if (model == NULL || !json_is_string(json_object_get(d, "source")))
		return -1;
	if (val != NULL) {
		if (val[0] == '{') {
			/* labelled values, cached in their canonical text */
			char e[160], *w = xasprintf("{\"labels\": %s}", val);
			int r = extpred_parse_labels(w, strlen(w), p->value, sizeof(p->value), e,
			    sizeof(e));

			free(w);
			if (r != 1 || strcmp(p->value, val) != 0)
				return -1;
		} else if (dec_value(val, p->value, sizeof(p->value), NULL, 0) == -1)
			return -1;
		p->have_value = 1;
	}
	p->source = source_name(json_string_value(json_object_get(d, "source")));
	snprintf(p->model, sizeof(p->model), "%s", model);
	snprintf(p->reason, sizeof(p->reason), "%s", reason != NULL ? reason : "");
	parse_iso8601(json_string_value(json_object_get(d, "trained_at")) ?: "", &p->trained_at);
	parse_iso8601(json_string_value(json_object_get(d, "data_from")) ?: "", &p->data_from);
	parse_iso8601(json_string_value(json_object_get(d, "data_to")) ?: "", &p->data_to);
	p->rows = (size_t)json_integer_value(json_object_get(d, "rows"));
	p->train_ms = json_number_value(json_object_get(d, "train_ms"));
	p->loss_method = loss_name_of(json_string_value(json_object_get(d, "loss_method")));
	snprintf(p->loss_note, sizeof(p->loss_note), "%s", json_string_value(json_object_get(d,
	    "loss_method_note")) ?: "");
	snprintf(p->model_resolved, sizeof(p->model_resolved), "%s", json_string_value(
	    json_object_get(d, "model_resolved")) ?: "");
	snprintf(p->resolved_why, sizeof(p->resolved_why), "%s", json_string_value(
	    json_object_get(d, "model_resolved_why")) ?: "");
	v = json_object_get(d, "validation");
	if (json_is_object(v)) {
		const char *lm = loss_name_of(json_string_value(json_object_get(v,
		    "loss_method")));

		p->have_val = 1;
		if (lm != NULL)
			(void)loss_method_parse(lm, &p->val.loss);
		p->val.loss_model = json_is_number(json_object_get(v, "loss")) ?
		    json_number_value(json_object_get(v, "loss")) : NAN;
		p->val.loss_zero = json_is_number(json_object_get(v, "loss_zero")) ?
		    json_number_value(json_object_get(v, "loss_zero")) : NAN;
		p->val.mse = json_number_value(json_object_get(v, "mse"));
		p->val.mse_zero = json_number_value(json_object_get(v, "mse_zero"));
		p->val.da = json_number_value(json_object_get(v, "da"));
		p->val.log_aspect = json_is_number(json_object_get(v, "log_aspect")) ?
		    json_number_value(json_object_get(v, "log_aspect")) : NAN;
	}
	return 0;
}

/* A fallback without a topic (it was removed): no value. */
static void
fallback_plain(struct prediction *p, const char *why)
{
	p->source = "fallback";
	p->have_value = 0;
	snprintf(p->reason, sizeof(p->reason), "%s", why);
}

/* A cached built-in prediction was made for the topic's loss method as known now. */
static int
cache_loss_ok(const struct config_topic *t, const struct prediction *p)
{
	char note[160];
	enum loss_method m = trainer_topic_loss(t, note, sizeof(note));

	if (strncmp(t->model, "exec:", 5) == 0 || strncmp(t->model, "http", 4) == 0)
		return 1;
	/* A cache written before loss methods were known was scored and resolved as mse. */
	return strcmp(p->loss_method != NULL ? p->loss_method : "mse", loss_method_name(m)) == 0;
}

/* The cached prediction, when younger than cache_ttl. */
static int
from_cache(const struct config *c, const struct config_topic *t, double now,
    struct prediction *p)
{
	char *path = cache_path(c, t->id);
	json_t *d;
	json_error_t je;

	{
		/* A cache file: never read through a symbolic link (safefs.h). */
		size_t len;
		char *text = read_file_nofollow(path, (size_t)1 << 20, &len);

		d = text != NULL ? json_loadb(text, len, 0, &je) : NULL;
		if (text == NULL)
			snprintf(je.text, sizeof(je.text), "%s", strerror(errno));
		free(text);
	}
	if (d == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("topic %u: discarding an unreadable prediction cache (%s)", t->id,
			    je.text);
		free(path);
		return -1;
	}
	free(path);
	if (prediction_from_json(d, p) == -1 || !p->have_value || strcmp(p->model,
	    t->model) != 0 || p->trained_at <= 0 || now - p->trained_at >= t->cache_ttl ||
	    now < p->trained_at - 60 || !cache_loss_ok(t, p)) {
		json_decref(d);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	p->source = "cache";
	p->reason[0] = '\0';
	p->train_ms = 0;
	json_decref(d);
	return 0;
}

/* Writes the topic's prediction.json (temporary name, then rename). */
static void
cache_write(const struct config *c, const struct config_topic *t, const struct prediction *p)
{
	char *cp = cache_path(c, t->id), *dir = path_dirname(cp), *s;
	json_t *j = prediction_json(t->id, p);

	json_object_set_new(j, "source", json_string("fresh"));
	s = json_dumps(j, JSON_INDENT(1));
	if (mkdir_p(dir, 0750) == -1 || write_file_atomic(cp, s, strlen(s), 0640) == -1)
		log_warn("topic %u: writing %s", t->id, cp);
	free(s);
	json_decref(j);
	free(cp);
	free(dir);
}

/*
 * One prediction for topic t.  csv: a file overriding the data source (its newest bar is
 * "now" for staleness); use_cache: answer from the cache when fresh.
 */
void
predict_topic(const struct config *c, const struct config_topic *t, const char *csv,
    int use_cache, struct prediction *p)
{
	struct topic_fit tf;
	enum loss_method lm;
	char err[512];
	double t0 = mono_s();

	memset(p, 0, sizeof(*p));
	snprintf(p->model, sizeof(p->model), "%s", t->model);
	if (use_cache && from_cache(c, t, wall_s(), p) == 0)
		return;
	lm = trainer_topic_loss(t, p->loss_note, sizeof(p->loss_note));
	p->loss_method = loss_method_name(lm);
	/*
	 * The topic's model (model.c: default, ridge, xgboost, reference, momentum) on its
	 * bars, from the newest complete bar; the model file is saved beside prediction.json.
	 */
	if (topic_fit(c, t, csv, csv == NULL && use_cache, lm, &tf, err, sizeof(err)) == -1) {
		fallback(t, p, err);
		return;
	}
	snprintf(p->model_resolved, sizeof(p->model_resolved), "%s", tf.resolved);
	snprintf(p->resolved_why, sizeof(p->resolved_why), "%s", tf.resolved_why);
	if (dec_from_double(tf.value, p->value, sizeof(p->value), err, sizeof(err)) == -1) {
		fallback(t, p, err);
		return;
	}
	p->have_value = 1;
	p->source = "fresh";
	p->trained_at = wall_s();
	p->data_from = tf.data_from;
	p->data_to = tf.data_to;
	p->rows = tf.rows;
	p->have_val = tf.have_val;
	p->val = tf.val;
	p->train_ms = (mono_s() - t0) * 1000;
	if (csv == NULL && use_cache)
		cache_write(c, t, p);
}

/* ---- external predictors and the training helper ---- */

enum pkind { PK_BUILTIN, PK_EXEC, PK_HTTP };

static enum pkind
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

/* ---- the trainer process ---- */

static struct {
	struct event_base	*base;
	const struct config	*conf;
	struct http_client	*http;
} TR;

static void
send_prediction(uint32_t topic, uint32_t seq, int64_t nonce, const struct prediction *p)
{
	json_t *o;

	if (strcmp(p->source, "fallback") == 0)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s}", "topic", (json_int_t)topic,
		    "nonce", (json_int_t)nonce, "reason", p->reason), "Prediction function failed: "
		    "%s", p->reason);
	else if (strcmp(p->source, "fresh") == 0 && pkind(config_topic(TR.conf, topic)) ==
	    PK_BUILTIN)
		log_info("topic %u: model trained on %zu rows in %.0f ms and prediction generated "
		    "(%s)", topic, p->rows, p->train_ms, p->value);
	else if (strcmp(p->source, "fresh") == 0)
		log_info("topic %u: %s answered %s in %.0f ms", topic, p->model, p->value,
		    p->train_ms);
	if (p->model_resolved[0] != '\0') {
		struct topic_loss *l = topic_loss_slot(topic, 1);

		if (strcmp(l->resolved, p->model_resolved) != 0) {
			snprintf(l->resolved, sizeof(l->resolved), "%s", p->model_resolved);
			log_event(LOG_LVL_INFO, "model_resolved", json_pack("{s:I, s:s, s:s, s:s}",
			    "topic", (json_int_t)topic, "loss_method", p->loss_method ? p->loss_method :
			    "mse", "model_resolved", p->model_resolved, "why", p->resolved_why),
			    "topic %u: model = default is %s under %s: %s%s%s", topic,
			    p->model_resolved, p->loss_method ? p->loss_method : "mse",
			    p->resolved_why, p->loss_note[0] ? "; " : "", p->loss_note);
		}
	}
	o = prediction_json(topic, p);
	json_object_set_new(o, "nonce", json_integer(nonce));
	if (p->train_ms > 0)
		json_object_set_new(o, "train_ms", json_real(p->train_ms));
	child_send(MSG_PREDICTION, topic, seq, o);
	/* Then, never before, the topic's shadow models (trainer/shadow.c). */
	shadow_window(TR.base, TR.http, TR.conf, topic, nonce, p->have_value ? p->value :
	    NULL);
}

/*
 * One piece of work per topic at a time: a market data refresh, then the computation.
 * PREDICTs arriving meanwhile wait for its result.  nonce -2: a refresh ahead of time.
 */
struct waiter {
	uint32_t	 seq;
	int64_t		 nonce;
	struct waiter	*next;
};
struct inflight {
	uint32_t	 topic;
	int64_t		 nonce;		/* the first waiter's */
	int64_t		 deadline;	/* mono_ms, of the first waiter; 0 = none */
	char		 fetch_err[256];
	struct compute	*k;
	struct waiter	*w;
	int		 training;	/* counted in TRAINING */
	struct inflight	*next;
	struct inflight	*wait_next;	/* in TRAIN_WAIT */
};
static struct inflight *INFLIGHT;

/*
 * Built-in trainings run at most TRAIN_MAX at once (the number of CPUs, 1 to 4): with many
 * topics, an hourly refresh would otherwise fork one training helper per topic at once.
 */
static int TRAINING, TRAIN_MAX;
static struct inflight *TRAIN_WAIT, **TRAIN_WAIT_TAIL = &TRAIN_WAIT;
static void	inflight_compute(struct inflight *);

static void
inflight_done(struct compute *k, const struct prediction *pp, void *arg)
{
	struct inflight *in = arg, **ip;
	struct waiter *w, *nw;
	struct prediction p = *pp;

	in->k = NULL;
	if (k != NULL)
		compute_free(k);
	if (in->training) {
		TRAINING--;
		if (TRAIN_WAIT != NULL) {
			struct inflight *next = TRAIN_WAIT;

			TRAIN_WAIT = next->wait_next;
			if (TRAIN_WAIT == NULL)
				TRAIN_WAIT_TAIL = &TRAIN_WAIT;
			inflight_compute(next);
		}
	}
	for (ip = &INFLIGHT; *ip != NULL; ip = &(*ip)->next)
		if (*ip == in) {
			*ip = in->next;
			break;
		}
	if (strcmp(p.source, "fallback") == 0 && in->fetch_err[0] != '\0') {
		char why[sizeof(p.reason)];

		/* The failing provider is the reason the data are missing or stale. */
		snprintf(why, sizeof(why), "%s (%.120s)", in->fetch_err, p.reason);
		snprintf(p.reason, sizeof(p.reason), "%s", why);
	}
	if (in->w == NULL) {	/* ahead of time: nobody to answer */
		if (strcmp(p.source, "fallback") == 0)
			log_warnx("topic %u: refresh ahead of time: %s", in->topic, p.reason);
		else if (strcmp(p.source, "fresh") == 0)
			log_info("topic %u: retrained ahead of time on %zu rows in %.0f ms (%s)",
			    in->topic, p.rows, p.train_ms, p.value);
	}
	for (w = in->w; w != NULL; w = nw) {
		nw = w->next;
		if (config_topic(TR.conf, in->topic) != NULL)
			send_prediction(in->topic, w->seq, w->nonce, &p);
		free(w);
	}
	free(in);
}

static void
inflight_compute(struct inflight *in)
{
	const struct config_topic *t = config_topic(TR.conf, in->topic);
	struct compute *k;
	struct prediction p;
	long left = in->deadline > 0 ? (long)(in->deadline - mono_ms()) : 0;

	if (t == NULL) {
		memset(&p, 0, sizeof(p));
		fallback_plain(&p, "the topic is no longer configured");
		inflight_done(NULL, &p, in);
		return;
	}
	if (in->w == NULL && pkind(t) != PK_BUILTIN) {
		/* External predictors are asked per window, not ahead of time. */
		memset(&p, 0, sizeof(p));
		p.source = "cache";
		inflight_done(NULL, &p, in);
		return;
	}
	if (pkind(t) == PK_BUILTIN) {
		if (TRAIN_MAX == 0) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);

			TRAIN_MAX = n < 1 ? 1 : n > 4 ? 4 : (int)n;
		}
		if (TRAINING >= TRAIN_MAX) {
			in->wait_next = NULL;
			*TRAIN_WAIT_TAIL = in;
			TRAIN_WAIT_TAIL = &in->wait_next;
			return;
		}
		TRAINING++;
		in->training = 1;
	}
	k = compute_start(TR.base, TR.http, TR.conf, in->topic, in->nonce, left > 0 ? left :
	    in->deadline > 0 ? 1 : 0, NULL, 1, 0, inflight_done, in);
	if (k != NULL)		/* NULL: inflight_done has run, in is gone */
		in->k = k;
}

static void
on_refreshed(int ok, const char *err, long retry_after_s, void *arg)
{
	struct inflight *in = arg;

	if (ok != 0) {
		log_warnx("topic %u: market data refresh failed: %s%s", in->topic, err,
		    retry_after_s > 0 ? " (the server asks to retry later)" : "");
		snprintf(in->fetch_err, sizeof(in->fetch_err), "%s", err);
	}
	inflight_compute(in);
}

/* Queues (topic, seq, nonce) behind the topic's work, starting it when there is none. */
static void
enqueue(const struct config_topic *t, uint32_t seq, int64_t nonce, long deadline_ms)
{
	struct inflight *in;
	struct waiter *w = NULL;
	char err[256];

	if (nonce != -2) {
		w = xcalloc(1, sizeof(*w));
		w->seq = seq;
		w->nonce = nonce;
	}
	for (in = INFLIGHT; in != NULL; in = in->next)
		if (in->topic == t->id) {
			if (w != NULL) {
				w->next = in->w;
				in->w = w;
				if (in->nonce == -2)
					in->nonce = nonce;
			}
			return;
		}
	in = xcalloc(1, sizeof(*in));
	in->topic = t->id;
	in->nonce = nonce;
	in->deadline = deadline_ms > 0 ? mono_ms() + deadline_ms : 0;
	in->w = w;
	in->next = INFLIGHT;
	INFLIGHT = in;
	if (fetch_source_known(t->data_source)) {
		if (fetch_refresh(TR.http, TR.conf, t, wall_s(), on_refreshed, in, err,
		    sizeof(err)) == 0)
			return;
		snprintf(in->fetch_err, sizeof(in->fetch_err), "%s", err);
	}
	inflight_compute(in);
}

static void
on_predict(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	long deadline_ms = (long)frame_int(f, "deadline_ms", 0);
	const struct config_topic *t = config_topic(TR.conf, topic);
	struct prediction p;

	if (t == NULL) {
		log_warnx("PREDICT for topic %u, which is not configured", topic);
		return;
	}
	trainer_set_topic_loss(topic, frame_str(f, "loss_method"));
	memset(&p, 0, sizeof(p));
	if (from_cache(TR.conf, t, wall_s(), &p) == 0) {
		send_prediction(topic, f->seq, nonce, &p);
		return;
	}
	enqueue(t, f->seq, nonce, deadline_ms);
}

/* Ahead of time: a minute past every hour, refresh the bars and retrain each topic. */
static void
on_hourly(evutil_socket_t fd, short ev, void *arg)
{
	struct event *self = arg;
	struct timeval tv;
	double now = wall_s();
	size_t i;

	for (i = 0; TR.conf != NULL && i < TR.conf->ntopics; i++)
		enqueue(&TR.conf->topics[i], 0, -2, 0);
	tv.tv_sec = 3600 - ((long)now % 3600) + 60;
	tv.tv_usec = 0;
	evtimer_add(self, &tv);
}

static void
dispatch(struct frame *f, void *arg)
{
	if (f->type == MSG_PREDICT)
		on_predict(f);
	else
		log_warnx("unexpected %s from the supervisor", msg_type_name(f->type));
}

static void
on_config(const struct config *c, json_t *raw, void *arg)
{
	int first = TR.conf == NULL;

	TR.conf = c;
	if (first)
		child_ready(NULL);
}

static void
on_shutdown(void *arg)
{
	shadow_cancel_all();
	job_cancel_all();
	event_base_loopexit(TR.base, NULL);
}

int
trainer_main(void)
{
	struct child_ops ops = { "trainer", on_config, dispatch, on_shutdown, NULL };
	struct event *hourly;
	struct timeval tv = { 3600 - ((long)wall_s() % 3600) + 60, 0 };

	TR.base = event_base_new();
	TR.http = http_client_new(TR.base);
	child_start(TR.base, &ops);
	hourly = evtimer_new(TR.base, on_hourly, event_self_cbarg());
	evtimer_add(hourly, &tv);
	event_base_dispatch(TR.base);
	shadow_cancel_all();
	job_cancel_all();
	return 0;
}

/* ---- alloractl predict ---- */

struct ctl_wait {
	struct event_base	*base;
	struct prediction	*p;
	int			 done;
};

static void
ctl_done(struct compute *k, const struct prediction *p, void *arg)
{
	struct ctl_wait *cw = arg;

	*cw->p = *p;
	cw->done = 1;
	if (k != NULL)
		compute_free(k);
	event_base_loopbreak(cw->base);
}

/* One prediction now, as the trainer would compute it (nonce 0: no window). */
static void
ctl_compute(const struct config *c, const struct config_topic *t, const char *csv,
    struct prediction *p)
{
	struct ctl_wait cw;
	struct http_client *http;

	memset(&cw, 0, sizeof(cw));
	cw.base = event_base_new();
	cw.p = p;
	http = http_client_new(cw.base);
	compute_start(cw.base, http, c, t->id, 0, 0, csv, 0, 1, ctl_done, &cw);
	while (!cw.done)
		event_base_loop(cw.base, EVLOOP_ONCE);
	http_client_free(http);
	event_base_free(cw.base);
}

int
ctl_predict(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "csv", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *c;
	const struct config_topic *t;
	struct prediction p;
	const char *csv = NULL;
	char err[2048], *s;
	long topic = 0;
	uint32_t tid;
	int ch;
	json_t *j;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (topic_arg("alloractl predict", optarg, &tid) == -1)
				return 2;
			topic = tid;
			break;
		case 'f': csv = optarg; break;
		case 'j': break;	/* JSON is the only output */
		case 'h':
			printf("usage: alloractl [-c FILE] predict --topic N [--csv F] [--json]\n"
			    "Computes one prediction for the topic (training as the daemon would; "
			    "the cache is not used\nnor written) and prints it as JSON; nothing is "
			    "submitted.  With --csv, F (unix,close)\nis the market data and its newest "
			    "bar counts as now.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (topic == 0 || optind != argc) {
		fprintf(stderr, "alloractl predict: give --topic N\n");
		return 2;
	}
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return 2;
	}
	t = config_topic(c, (uint32_t)topic);
	if (t == NULL) {
		fprintf(stderr, "alloractl predict: topic %ld is not in %s\n", topic,
		    c->path ? c->path : ".env");
		config_free(c);
		return 2;
	}
	ctl_compute(c, t, csv, &p);
	j = prediction_json(t->id, &p);
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(j);
	config_free(c);
	return strcmp(p.source, "fallback") == 0 ? 1 : 0;
}

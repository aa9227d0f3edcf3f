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
#include "fetch.h"
#include "http.h"
#include "proc.h"
#include "roles.h"
#include "util.h"

#define DEFAULT_SHRINK	0.0	/* chosen by the backtest: see trainer/README.md */
#define DEFAULT_LAMBDA	1.0
#define REFERENCE_SPAN	672	/* 28 days */
#define REFERENCE_LAMBDA	1e-6


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

static json_t *
prediction_json(uint32_t topic, const struct prediction *p)
{
	char a[40], b[40], c[40];

	return json_pack("{s:i, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:o}", "topic",
	    (int)topic, "value", p->have_value ? json_string(p->value) : json_null(), "source",
	    p->source, "reason", p->reason[0] ? json_string(p->reason) : json_null(), "model",
	    p->model, "trained_at", p->trained_at > 0 ? json_string(iso8601(p->trained_at, a,
	    sizeof(a))) : json_null(), "data_from", p->data_from > 0 ? json_string(iso8601(
	    p->data_from, b, sizeof(b))) : json_null(), "data_to", p->data_to > 0 ?
	    json_string(iso8601(p->data_to, c, sizeof(c))) : json_null(), "rows",
	    (json_int_t)p->rows, "validation", p->have_val ? json_pack("{s:o, s:o, s:o, s:o}",
	    "mse", jnum(p->val.mse), "mse_zero", jnum(p->val.mse_zero), "da", jnum(p->val.da),
	    "log_aspect", jnum(p->val.log_aspect)) : json_null());
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

/* The cached prediction, when younger than cache_ttl. */
static int
from_cache(const struct config *c, const struct config_topic *t, double now,
    struct prediction *p)
{
	char *path = cache_path(c, t->id);
	json_t *d, *v;
	json_error_t je;
	double at;
	const char *val, *model;

	d = json_load_file(path, 0, &je);
	if (d == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("topic %u: discarding an unreadable prediction cache (%s)", t->id,
			    je.text);
		free(path);
		return -1;
	}
	free(path);
	val = json_string_value(json_object_get(d, "value"));
	model = json_string_value(json_object_get(d, "model"));
	if (val == NULL || model == NULL || parse_iso8601(json_string_value(json_object_get(d,
	    "trained_at")) ?: "", &at) == -1 || strcmp(model, t->model) != 0 ||
	    dec_value(val, p->value, sizeof(p->value), NULL, 0) == -1 || now - at >= t->cache_ttl ||
	    now < at - 60) {
		json_decref(d);
		return -1;
	}
	p->have_value = 1;
	p->source = "cache";
	snprintf(p->model, sizeof(p->model), "%s", model);
	p->trained_at = at;
	parse_iso8601(json_string_value(json_object_get(d, "data_from")) ?: "", &p->data_from);
	parse_iso8601(json_string_value(json_object_get(d, "data_to")) ?: "", &p->data_to);
	p->rows = (size_t)json_integer_value(json_object_get(d, "rows"));
	v = json_object_get(d, "validation");
	if (json_is_object(v)) {
		p->have_val = 1;
		p->val.mse = json_number_value(json_object_get(v, "mse"));
		p->val.mse_zero = json_number_value(json_object_get(v, "mse_zero"));
		p->val.da = json_number_value(json_object_get(v, "da"));
		p->val.log_aspect = json_is_number(json_object_get(v, "log_aspect")) ?
		    json_number_value(json_object_get(v, "log_aspect")) : NAN;
	}
	json_decref(d);
	return 0;
}

/*
 * One prediction for topic t.  csv: a file overriding the data source (its newest bar is
 * "now" for staleness); use_cache: answer from the cache when fresh.
 */
static void predict_topic1(const struct config *, const struct config_topic *, const char *,
    int, struct prediction *, char **);

void
predict_topic(const struct config *c, const struct config_topic *t, const char *csv,
    int use_cache, struct prediction *p)
{
	char *cache_bars = NULL;

	predict_topic1(c, t, csv, use_cache, p, &cache_bars);
	free(cache_bars);
}

static void
predict_topic1(const struct config *c, const struct config_topic *t, const char *csv,
    int use_cache, struct prediction *p, char **cache_bars)
{
	struct bars b;
	struct ridge m;
	char err[512];
	const char *path;
	double now = wall_s(), f[NFEAT], pred, lim, shrink, lambda, t0 = mono_s();
	long span;
	int ref;
	size_t n, from, need;
	long h = t->target_hours;

	memset(p, 0, sizeof(*p));
	snprintf(p->model, sizeof(p->model), "%s", t->model);
	if (use_cache && from_cache(c, t, now, p) == 0)
		return;
	ref = strcmp(t->model, "reference") == 0;
	if (strcmp(t->model, "default") != 0 && strcmp(t->model, "ridge") != 0 && !ref) {
		fallback(t, p, "this build's trainer has the models default, ridge and "
		    "reference");
		return;
	}
	if (csv != NULL)
		path = csv;
	else if (strncmp(t->data_source, "csv:", 4) == 0)
		path = t->data_source + 4;
	else if (strcmp(t->data_source, "tiingo") == 0 || strcmp(t->data_source, "coinbase") ==
	    0)
		path = *cache_bars = bar_cache_path(c, t);	/* kept up to date by fetch.c */
	else {
		char why[160];

		snprintf(why, sizeof(why), "market data source %s is not available in this "
		    "build; use data_source = csv:FILE", t->data_source);
		fallback(t, p, why);
		return;
	}
	if (bars_read_csv(path, &b, err, sizeof(err)) == -1) {
		char why[600];

		snprintf(why, sizeof(why), "Insufficient data: %s", err);
		fallback(t, p, why);
		return;
	}
	n = b.n;
	if (n == 0) {
		bars_free(&b);
		fallback(t, p, "Insufficient data: no bars");
		return;
	}
	if (csv != NULL)
		now = (double)b.t[n - 1];
	if (now - (double)b.t[n - 1] > (double)t->stale_after_s) {
		char why[160];

		snprintf(why, sizeof(why), "stale data: the newest bar is %.1f hours old",
		    (now - (double)b.t[n - 1]) / 3600);
		bars_free(&b);
		fallback(t, p, why);
		return;
	}
	need = (size_t)t->min_train_hours + (size_t)h + 336;
	if (n < need) {
		char why[160];

		snprintf(why, sizeof(why), "Insufficient data: %zu hourly bars, %zu needed", n, need);
		bars_free(&b);
		fallback(t, p, why);
		return;
	}
	/*
	 * reference: the Python worker's recipe as far as this build has it: the last 28 days,
	 * unregularised, unshrunk, unclipped (a linear stand-in for its GBR).
	 */
	span = ref ? REFERENCE_SPAN : t->train_span_hours;
	lambda = ref ? REFERENCE_LAMBDA : t->ridge_lambda > 0 ? t->ridge_lambda : DEFAULT_LAMBDA;
	from = n > (size_t)span + (size_t)h ? n - (size_t)span - (size_t)h : 0;
	if (ridge_fit(&b, from, n, n - 1, h, lambda, ref ? 2 * NFEAT :
	    (size_t)t->min_train_hours / 2, &m) == -1 ||
	    features_at(&b, n - 1, f) == -1) {
		bars_free(&b);
		fallback(t, p, "training failed: too few usable rows");
		return;
	}
	shrink = t->shrink >= 0 ? t->shrink : ref ? 1 : DEFAULT_SHRINK;
	pred = shrink * ridge_predict(&m, f);
	lim = ref ? 0 : t->clip_sigma * m.target_sd;
	if (lim > 0 && pred > lim)
		pred = lim;
	if (lim > 0 && pred < -lim)
		pred = -lim;
	if (fabs(pred) < 1e-30)
		pred = 0;
	if (dec_from_double(pred, p->value, sizeof(p->value), err, sizeof(err)) == -1) {
		bars_free(&b);
		fallback(t, p, err);
		return;
	}
	p->have_value = 1;
	p->source = "fresh";
	p->trained_at = wall_s();
	p->data_from = (double)b.t[from];
	p->data_to = (double)b.t[n - 1];
	p->rows = m.rows;
	p->have_val = validate(&b, n - 1, h, t->validation_span_hours, span, lambda, shrink,
	    &p->val) == 0;
	p->train_ms = (mono_s() - t0) * 1000;
	bars_free(&b);
	if (csv == NULL) {
		/* Cache it (temporary name, then rename). */
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
}

/* ---- the trainer process ---- */

static struct {
	struct event_base	*base;
	const struct config	*conf;
	struct http_client	*http;
} TR;

static void
answer(uint32_t topic, uint32_t seq, int64_t nonce, const char *fetch_err)
{
	const struct config_topic *t = config_topic(TR.conf, topic);
	struct prediction p;
	json_t *o;

	if (t == NULL)
		return;
	predict_topic(TR.conf, t, NULL, 1, &p);
	if (strcmp(p.source, "fallback") == 0 && fetch_err != NULL) {
		char why[sizeof(p.reason)];

		/* The failing provider is the reason the data are missing or stale. */
		snprintf(why, sizeof(why), "%s (%.120s)", fetch_err, p.reason);
		snprintf(p.reason, sizeof(p.reason), "%s", why);
	}
	if (nonce == -2) {	/* a refresh ahead of time: nobody to answer */
		if (strcmp(p.source, "fallback") == 0)
			log_warnx("topic %u: refresh ahead of time: %s", topic, p.reason);
		else if (strcmp(p.source, "fresh") == 0)
			log_info("topic %u: retrained ahead of time on %zu rows in %.0f ms (%s)",
			    topic, p.rows, p.train_ms, p.value);
		return;
	}
	if (strcmp(p.source, "fallback") == 0)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:i, s:I, s:s}", "topic", (int)topic,
		    "nonce", (json_int_t)nonce, "reason", p.reason), "Prediction function failed: %s",
		    p.reason);
	else if (strcmp(p.source, "fresh") == 0)
		log_info("topic %u: model trained on %zu rows in %.0f ms and prediction generated "
		    "(%s)", topic, p.rows, p.train_ms, p.value);
	o = prediction_json(topic, &p);
	json_object_set_new(o, "nonce", json_integer(nonce));
	if (p.train_ms > 0)
		json_object_set_new(o, "train_ms", json_real(p.train_ms));
	child_send(MSG_PREDICTION, topic, seq, o);
}

/* PREDICTs waiting for a market data refresh of their topic (one refresh per topic). */
struct waiter {
	uint32_t	 topic, seq;
	int64_t		 nonce;
	struct waiter	*next;
};
struct inflight {
	uint32_t	 topic;
	struct waiter	*w;
	struct inflight	*next;
};
static struct inflight *INFLIGHT;

static void
on_refreshed(int ok, const char *err, long retry_after_s, void *arg)
{
	struct inflight *in = arg, **pp;
	struct waiter *w, *nw;

	if (ok != 0)
		log_warnx("topic %u: market data refresh failed: %s%s", in->topic, err,
		    retry_after_s > 0 ? " (the server asks to retry later)" : "");
	for (pp = &INFLIGHT; *pp != NULL; pp = &(*pp)->next)
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	for (w = in->w; w != NULL; w = nw) {
		nw = w->next;
		answer(w->topic, w->seq, w->nonce, ok == 0 ? NULL : err);
		free(w);
	}
	free(in);
}

static int
fetchable(const struct config_topic *t)
{
	return strcmp(t->data_source, "tiingo") == 0 || strcmp(t->data_source, "coinbase") == 0;
}

/* Queues an answer behind a refresh of the topic's bars; 0 when queued. */
static int
refresh_then_answer(const struct config_topic *t, uint32_t seq, int64_t nonce, char *err,
    size_t errlen)
{
	struct inflight *in;
	struct waiter *w = xcalloc(1, sizeof(*w));

	w->topic = t->id;
	w->seq = seq;
	w->nonce = nonce;
	for (in = INFLIGHT; in != NULL; in = in->next)
		if (in->topic == t->id) {
			w->next = in->w;
			in->w = w;
			return 0;
		}
	in = xcalloc(1, sizeof(*in));
	in->topic = t->id;
	in->w = w;
	in->next = INFLIGHT;
	INFLIGHT = in;
	if (fetch_refresh(TR.http, TR.conf, t, wall_s(), on_refreshed, in, err, errlen) == -1) {
		INFLIGHT = in->next;
		free(w);
		free(in);
		return -1;
	}
	return 0;
}

static void
on_predict(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const struct config_topic *t = config_topic(TR.conf, topic);
	struct prediction p;
	char err[256];

	if (t == NULL) {
		log_warnx("PREDICT for topic %u, which is not configured", topic);
		return;
	}
	memset(&p, 0, sizeof(p));
	if (fetchable(t) && from_cache(TR.conf, t, wall_s(), &p) == -1) {
		if (refresh_then_answer(t, f->seq, nonce, err, sizeof(err)) == 0)
			return;
		answer(topic, f->seq, nonce, err);
		return;
	}
	answer(topic, f->seq, nonce, NULL);
}

/* Ahead of time: a minute past every hour, refresh the bars and retrain each topic. */
static void
on_hourly(evutil_socket_t fd, short ev, void *arg)
{
	struct event *self = arg;
	struct timeval tv;
	double now = wall_s();
	size_t i;
	char err[256];

	for (i = 0; TR.conf != NULL && i < TR.conf->ntopics; i++) {
		const struct config_topic *t = &TR.conf->topics[i];

		if (fetchable(t)) {
			if (refresh_then_answer(t, 0, -2, err, sizeof(err)) == -1)
				log_warnx("topic %u: %s", t->id, err);
		} else
			answer(t->id, 0, -2, NULL);
	}
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

int
trainer_main(void)
{
	struct child_ops ops = { "trainer", on_config, dispatch, NULL, NULL };

	struct event *hourly;
	struct timeval tv = { 3600 - ((long)wall_s() % 3600) + 60, 0 };

	TR.base = event_base_new();
	TR.http = http_client_new(TR.base);
	child_start(TR.base, &ops);
	hourly = evtimer_new(TR.base, on_hourly, event_self_cbarg());
	evtimer_add(hourly, &tv);
	event_base_dispatch(TR.base);
	return 0;
}

/* ---- alloractl predict ---- */

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
	int ch;
	json_t *j;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (parse_long(optarg, 1, UINT32_MAX, &topic) == -1) {
				fprintf(stderr, "alloractl predict: --topic: \"%s\" is not a topic\n",
				    optarg);
				return 2;
			}
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
	predict_topic(c, t, csv, 0, &p);
	j = prediction_json(t->id, &p);
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(j);
	config_free(c);
	return strcmp(p.source, "fallback") == 0 ? 1 : 0;
}

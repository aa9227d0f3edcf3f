/*
 * The trainer process: PREDICT frames (answered from the prediction cache or queued behind
 * the topic's work: a market data refresh, then one computation, compute.c), the topics'
 * loss methods as the frames give them, the hourly refresh ahead of time, and `alloractl
 * predict`.  The prediction itself is in prediction.c, the computations in compute.c.
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
#include "trainer_int.h"
#include "shadow.h"
#include "extpred.h"
#include "fetch.h"
#include "http.h"
#include "job.h"
#include "proc.h"
#include "forecaster.h"
#include "predrun.h"
#include "roles.h"
#include "util.h"

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
	/* issue 22: one payload per nonce, the forecast with it (or why not) */
	if (forecaster_attach(config_topic(TR.conf, topic), nonce, seq, o)) {
		/* The forecaster sends it: the shadow models wait for that (shadow.c). */
		shadow_window(TR.base, TR.http, TR.conf, topic, nonce, p->have_value ? p->value :
		    NULL, 1);
		return;
	}
	child_send(MSG_PREDICTION, topic, seq, o);
	/* Then, never before, the topic's shadow models (trainer/shadow.c). */
	shadow_window(TR.base, TR.http, TR.conf, topic, nonce, p->have_value ? p->value :
	    NULL, 0);
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
	forecaster_start(TR.conf, t, nonce, deadline_ms);	/* issue 22 */
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
	else if (f->type == MSG_FORECAST_DATA)
		forecaster_data(f);
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
	forecaster_cancel_all();
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
	forecaster_init(TR.base, TR.http);
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

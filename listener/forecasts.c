/*
 * The listener's forecaster data rounds (see forecasts.h).  A round: GetTopic first (it
 * says which heights hold loss bundles: epoch_last_ended going back by epoch_length, past
 * the ground-truth lag), then one GetNetworkLossBundleAtBlock per height and
 * GetForecasterScoreEma, all at once; when every answer is in, one FORECAST_DATA frame.
 * A failed query leaves its part out (the frame says which in "errors"); nothing is made up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "forecastq.h"
#include "forecasts.h"
#include "frame.h"
#include "log.h"
#include "proc.h"
#include "rpc.h"
#include "util.h"

#define FPAIRS_MAX	64

struct fpair {
	uint32_t	 topic;
	char		*address;
	int		 in_round;	/* answers outstanding */
	json_t		*acc;		/* topic fields, "bundles" {height: losses|null}, score */
	json_t		*errors;
	int64_t		 round_height;	/* chain height when the last round started, 0 none */
	int64_t		 epoch_length;
};

static struct {
	struct event_base	*base;
	struct rpc		**rpc;
	const char		*em;
	const struct config	**conf;
	struct fpair		 p[FPAIRS_MAX];
	size_t			 n;
	long			 gen;
	int64_t			 height;
	json_t			*watch;		/* the last MSG_SCORE_WATCH's list */
	json_t			*warned;
} F;

struct fqarg {
	struct fpair	*p;
	long		 gen;
	enum forecastq	 q;
	int64_t		 height;
};

static void	fquery(struct fpair *, enum forecastq, int64_t);

static void
warn_once(const char *key, const char *msg)
{
	if (F.warned == NULL)
		F.warned = json_object();
	if (json_object_get(F.warned, key) != NULL)
		return;
	json_object_set_new(F.warned, key, json_true());
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s}", "topic", "reason",
	    "forecast_data", "detail", msg), "%s (logged once)", msg);
}

static int
by_height_desc(const void *a, const void *b)
{
	int64_t x = json_integer_value(json_object_get(*(json_t *const *)a, "nonce"));
	int64_t y = json_integer_value(json_object_get(*(json_t *const *)b, "nonce"));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Every answer is in: the frame. */
static void
round_done(struct fpair *p)
{
	json_t *o = json_object(), *losses = json_array(), *inferers = json_array(), *b, *x;
	json_t *arr[FORECASTQ_HEIGHTS];
	const char *k;
	size_t i, n = 0;

	json_object_foreach(json_object_get(p->acc, "bundles"), k, b)
		if (json_is_object(b) && n < sizeof(arr) / sizeof(arr[0]))
			arr[n++] = b;
	qsort(arr, n, sizeof(arr[0]), by_height_desc);
	for (i = 0; i < n && i < FORECASTQ_EPOCHS; i++)
		json_array_append(losses, arr[i]);
	/* The active set: the inferers of the newest bundle, less us. */
	if (n > 0)
		json_array_foreach(json_object_get(arr[0], "values"), i, x) {
			const char *a = json_string_value(json_object_get(x, "inferer"));

			if (strcmp(a, p->address) != 0)
				json_array_append_new(inferers, json_string(a));
		}
	json_object_set_new(o, "topic", json_integer(p->topic));
	json_object_set_new(o, "address", json_string(p->address));
	json_object_set_new(o, "height", F.height > 0 ? json_integer(F.height) : json_null());
	json_object_set(o, "epoch_length", json_object_get(p->acc, "epoch_length"));
	json_object_set(o, "epoch_last_ended", json_object_get(p->acc, "epoch_last_ended"));
	json_object_set(o, "allow_negative", json_object_get(p->acc, "allow_negative"));
	json_object_set_new(o, "inferers", inferers);
	json_object_set_new(o, "losses", losses);
	json_object_set_new(o, "score", json_pack("{s:O, s:O}", "ema",
	    json_object_get(p->acc, "ema") ? json_object_get(p->acc, "ema") : json_null(),
	    "ema_height", json_object_get(p->acc, "ema_height") ?
	    json_object_get(p->acc, "ema_height") : json_null()));
	json_object_set_new(o, "errors", p->errors);
	p->errors = NULL;
	json_decref(p->acc);
	p->acc = NULL;
	p->in_round = 0;
	log_debug("forecast data for topic %u: %zu inferer(s), %zu loss bundle(s)", p->topic,
	    json_array_size(json_object_get(o, "inferers")), json_array_size(losses));
	child_send(MSG_FORECAST_DATA, p->topic, 0, o);
}

static void
answer(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct fqarg *qa = arg;
	struct fpair *p = qa->p;
	enum forecastq q = qa->q;
	int64_t h = qa->height;
	json_t *into;
	char err[256], key[128];

	if (qa->gen != F.gen || p->acc == NULL) {
		free(qa);
		return;
	}
	free(qa);
	if (st == RPC_OK && a->height > F.height)
		F.height = a->height;
	into = json_object();
	if (st == RPC_OK && a->code == 0) {
		if (forecastq_decode(q, p->topic, h, p->address, a->value, a->value_len, into, err,
		    sizeof(err)) == -1) {
			snprintf(key, sizeof(key), "%s:%u:bad", forecastq_method(q), p->topic);
			warn_once(key, err);
			json_array_append_new(p->errors, json_string(err));
		}
	} else {
		snprintf(err, sizeof(err), "%s: %s", forecastq_method(q), st == RPC_OK ?
		    (a->log != NULL ? a->log : "refused") : error);
		if (st == RPC_OK) {
			snprintf(key, sizeof(key), "%s:code", forecastq_method(q));
			warn_once(key, err);
		}
		json_array_append_new(p->errors, json_string(err));
	}
	if (q == FQ_TOPIC) {
		json_int_t e = json_integer_value(json_object_get(into, "epoch_last_ended"));
		json_int_t l = json_integer_value(json_object_get(into, "epoch_length"));
		json_int_t g = json_integer_value(json_object_get(into, "ground_truth_lag"));

		json_object_update(p->acc, into);
		json_decref(into);
		p->in_round--;
		if (l > 0)
			p->epoch_length = l;
		if (e > 0 && l > 0) {
			/* Heights that may hold a bundle (forecastq_heights). */
			int64_t hs[FORECASTQ_HEIGHTS];
			size_t nh = forecastq_heights(e, l, g, hs), k;

			for (k = 0; k < nh; k++) {
				p->in_round++;
				fquery(p, FQ_LOSSES, hs[k]);
			}
		}
		p->in_round++;
		fquery(p, FQ_SCORE, 0);
		return;
	}
	if (q == FQ_LOSSES) {
		char hk[32];

		snprintf(hk, sizeof(hk), "%lld", (long long)h);
		json_object_set(json_object_get(p->acc, "bundles"), hk,
		    json_object_get(into, "losses") ? json_object_get(into, "losses") : json_null());
	} else
		json_object_update(p->acc, into);
	json_decref(into);
	if (--p->in_round == 0)
		round_done(p);
}

static void
fquery(struct fpair *p, enum forecastq q, int64_t height)
{
	struct fqarg *qa;
	uint8_t buf[256];
	char path[128];
	size_t n;

	forecastq_path(q, F.em, path, sizeof(path));
	n = forecastq_request(q, p->topic, height, p->address, buf, sizeof(buf));
	qa = xcalloc(1, sizeof(*qa));
	qa->p = p;
	qa->gen = F.gen;
	qa->q = q;
	qa->height = height;
	if (rpc_abci_query(*F.rpc, path, buf, n, answer, qa) != 0) {
		free(qa);
		snprintf(path, sizeof(path), "%s: not sent", forecastq_method(q));
		json_array_append_new(p->errors, json_string(path));
		if (--p->in_round == 0)
			round_done(p);
	}
}

static void
round_start(struct fpair *p)
{
	if (F.em == NULL || F.rpc == NULL || *F.rpc == NULL || p->in_round)
		return;
	p->acc = json_pack("{s:{}}", "bundles");
	p->errors = json_array();
	p->round_height = F.height > 0 ? F.height : 1;
	p->in_round = 1;
	fquery(p, FQ_TOPIC, 0);
}

static void	apply_watch(void);

void
forecasts_init(struct event_base *base, struct rpc **rpc, const char *em,
    const struct config **conf)
{
	F.base = base;
	F.rpc = rpc;
	F.em = em;
	F.conf = conf;
	apply_watch();
}

void
forecasts_watch(const struct frame *f)
{
	json_decref(F.watch);
	F.watch = json_deep_copy(json_object_get(f->payload, "watch"));
	apply_watch();
}

static void
apply_watch(void)
{
	json_t *w = F.watch, *x;
	size_t i;

	for (i = 0; i < F.n; i++) {
		free(F.p[i].address);
		json_decref(F.p[i].acc);
		json_decref(F.p[i].errors);
	}
	memset(F.p, 0, sizeof(F.p));
	F.n = 0;
	F.gen++;
	json_array_foreach(w, i, x) {
		json_int_t t = json_integer_value(json_object_get(x, "topic"));
		const char *a = json_string_value(json_object_get(x, "address"));
		const struct config_topic *ct;

		if (t <= 0 || t > UINT32_MAX || a == NULL || *a == '\0' || F.n >= FPAIRS_MAX ||
		    F.conf == NULL || *F.conf == NULL)
			continue;
		ct = config_topic(*F.conf, (uint32_t)t);
		if (ct == NULL || ct->forecast == NULL || strcmp(ct->forecast, "off") == 0)
			continue;
		F.p[F.n].topic = (uint32_t)t;
		F.p[F.n].address = xstrdup(a);
		F.n++;
	}
	for (i = 0; i < F.n; i++)
		round_start(&F.p[i]);
}

void
forecasts_reload(void)
{
	apply_watch();
}

void
forecasts_poll(int64_t height)
{
	size_t i;

	if (height > F.height)
		F.height = height;
	for (i = 0; i < F.n; i++) {
		struct fpair *p = &F.p[i];

		if (p->round_height == 0 || p->epoch_length <= 0 ||
		    F.height - p->round_height >= p->epoch_length)
			round_start(p);
	}
}

/*
 * The listener's score watch (see scores.h): which (topic, address) pairs the supervisor
 * asked about, their query rounds (common/scoreq.h) and their events (scorev.c), all
 * forwarded as MSG_SCORE frames.  A round is one answer of every query for a pair; the
 * next one starts after our event of a later epoch, or from the poll once an epoch (the
 * topic's epoch_length in blocks) has passed without one: one round per topic per epoch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "forecasts.h"
#include "frame.h"
#include "log.h"
#include "proc.h"
#include "rpc.h"
#include "scoreq.h"
#include "scores.h"
#include "util.h"

#define PAIRS_MAX	64

struct pair {
	uint32_t	 topic;
	char		*address;
	int		 in_round;	/* queries outstanding */
	long		 gen;		/* bumped when the watch changes: stale answers dropped */
	json_t		*acc;		/* the round's fields */
	int64_t		 round_height;	/* chain height of the last completed round, 0 none */
	int64_t		 epoch_length;	/* from GetTopic, 0 unknown */
	int64_t		 last_event_nonce;
	int		 want;		/* an event asked for a round while one ran */
};

static struct {
	struct event_base *base;
	struct rpc	**rpc;
	const char	*em;
	struct pair	 p[PAIRS_MAX];
	size_t		 n;
	long		 gen;
	int64_t		 height;
	int		 no_input;	/* GetWorkerLatestInputInferenceByTopicId unknown here */
	json_t		*warned;	/* "what" -> true: each problem is logged once */
} S;

struct qarg {
	struct pair	*pair;
	long		 gen;
	enum scoreq	 q;
};

static void	round_start(struct pair *);

static void
warn_once(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn_once(const char *key, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (S.warned == NULL)
		S.warned = json_object();
	if (json_object_get(S.warned, key) != NULL)
		return;
	json_object_set_new(S.warned, key, json_true());
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s}", "topic", "reason",
	    "score_data", "detail", msg), "%s (the fields stay null; logged once)", msg);
}

static int
ours(uint32_t topic, const char *address)
{
	size_t i;

	if (address == NULL)
		return 0;
	for (i = 0; i < S.n; i++)
		if (S.p[i].topic == topic && strcmp(S.p[i].address, address) == 0)
			return 1;
	return 0;
}

static void
send_score(json_t *o)
{
	uint32_t topic = (uint32_t)json_integer_value(json_object_get(o, "topic"));

	child_send(MSG_SCORE, topic, 0, o);
}

static void
round_done(struct pair *p)
{
	json_t *o = p->acc;

	p->acc = NULL;
	p->in_round = 0;
	p->round_height = S.height > 0 ? S.height : 1;
	if (json_is_integer(json_object_get(o, "epoch_length")))
		p->epoch_length = json_integer_value(json_object_get(o, "epoch_length"));
	json_object_set_new(o, "kind", json_string("query"));
	json_object_set_new(o, "topic", json_integer(p->topic));
	json_object_set_new(o, "address", json_string(p->address));
	json_object_set_new(o, "height", S.height > 0 ? json_integer(S.height) : json_null());
	send_score(o);
	if (p->want) {
		p->want = 0;
		round_start(p);
	}
}

static void query(struct pair *, enum scoreq);

static void
answer(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct qarg *qa = arg;
	struct pair *p = qa->pair;
	enum scoreq q = qa->q;
	char err[256], key[96];
	const char *const *f;

	if (qa->gen != S.gen || p->acc == NULL) {
		free(qa);
		return;		/* the watch changed meanwhile */
	}
	free(qa);
	if (st == RPC_OK && a->height > S.height)
		S.height = a->height;
	if (st == RPC_OK && a->code == 0) {
		if (scoreq_decode(q, S.em, p->topic, p->address, a->value, a->value_len, p->acc,
		    err, sizeof(err)) == -1) {
			snprintf(key, sizeof(key), "%s:%u:bad", scoreq_method(q), p->topic);
			warn_once(key, "topic %u: %s", p->topic, err);
		}
	} else {
		if (st == RPC_OK && q == SQ_LATEST_INPUT) {
			/* An older chain: the inference query of before. */
			S.no_input = 1;
			query(p, SQ_LATEST);
			return;
		}
		for (f = scoreq_fields(q); *f != NULL; f++)
			if (json_object_get(p->acc, *f) == NULL)
				json_object_set_new(p->acc, *f, json_null());
		if (st == RPC_OK) {
			snprintf(key, sizeof(key), "%s:code", scoreq_method(q));
			warn_once(key, "the chain does not answer %s (code %ld: %.200s)",
			    scoreq_method(q), a->code, a->log ? a->log : "");
		} else
			log_debug("%s of topic %u: %s", scoreq_method(q), p->topic, error);
	}
	if (--p->in_round == 0)
		round_done(p);
}

static void
query(struct pair *p, enum scoreq q)
{
	struct qarg *qa;
	uint8_t buf[256];
	char path[128];
	size_t n;

	scoreq_path(q, S.em, path, sizeof(path));
	n = scoreq_request(q, p->topic, p->address, buf, sizeof(buf));
	qa = xcalloc(1, sizeof(*qa));
	qa->pair = p;
	qa->gen = S.gen;
	qa->q = q;
	if (rpc_abci_query(*S.rpc, path, buf, n, answer, qa) != 0) {
		free(qa);
		if (--p->in_round == 0)
			round_done(p);
	}
}

static void
round_start(struct pair *p)
{
	static const enum scoreq qs[] = { SQ_TOPIC, SQ_EMA, SQ_LOWEST, SQ_QUANTILE,
	    SQ_REWARD_FRACTION, SQ_LATEST_INPUT, SQ_NETWORK };
	size_t i, nq = sizeof(qs) / sizeof(qs[0]);

	if (S.em == NULL || S.rpc == NULL || *S.rpc == NULL)
		return;
	if (p->in_round) {
		p->want = 1;
		return;
	}
	log_debug("score query round for topic %u (height %lld)", p->topic,
	    (long long)S.height);
	p->acc = json_object();
	p->in_round = (int)nq;
	for (i = 0; i < nq; i++)
		query(p, qs[i] == SQ_LATEST_INPUT && S.no_input ? SQ_LATEST : qs[i]);
}

void
scores_init(struct event_base *base, struct rpc **rpc, const char *em)
{
	size_t i;

	S.base = base;
	S.rpc = rpc;
	S.em = em;
	for (i = 0; i < S.n; i++)
		round_start(&S.p[i]);
}

void
scores_watch(const struct frame *f)
{
	json_t *w = json_object_get(f->payload, "watch"), *x, *addrs = json_array();
	size_t i, k;

	for (i = 0; i < S.n; i++) {
		free(S.p[i].address);
		json_decref(S.p[i].acc);
	}
	memset(S.p, 0, sizeof(S.p));
	S.n = 0;
	S.gen++;
	json_array_foreach(w, i, x) {
		json_int_t t = json_integer_value(json_object_get(x, "topic"));
		const char *a = json_string_value(json_object_get(x, "address"));

		if (t <= 0 || t > UINT32_MAX || a == NULL || *a == '\0' || S.n >= PAIRS_MAX ||
		    ours((uint32_t)t, a))
			continue;
		S.p[S.n].topic = (uint32_t)t;
		S.p[S.n].address = xstrdup(a);
		for (k = 0; k < json_array_size(addrs); k++)
			if (strcmp(json_string_value(json_array_get(addrs, k)), a) == 0)
				break;
		if (k == json_array_size(addrs))
			json_array_append_new(addrs, json_string(a));
		S.n++;
	}
	scorev_set_watched(addrs);
	json_decref(addrs);
	log_debug("score watch: %zu (topic, address) pair(s)", S.n);
	forecasts_watch(f);		/* issue 22: the same pairs, forecast on */
	for (i = 0; i < S.n; i++)
		round_start(&S.p[i]);
}

void
scores_ws(const char *text, size_t len, int64_t height)
{
	json_t *out;
	char bad[256];
	size_t i, k;
	json_t *e;

	if (height > S.height)
		S.height = height;
	if (S.n == 0)
		return;
	out = json_array();
	if (scorev_parse(text, len, ours, out, bad, sizeof(bad)) >= 0 && bad[0] != '\0')
		warn_once(bad, "a score event was malformed and skipped: %s", bad);
	json_array_foreach(out, i, e) {
		uint32_t topic = (uint32_t)json_integer_value(json_object_get(e, "topic"));
		const char *a = json_string_value(json_object_get(e, "address"));
		int64_t nonce = json_integer_value(json_object_get(e, "nonce"));

		send_score(json_incref(e));
		/* Our score or reward of a new epoch: read the rest now. */
		for (k = 0; k < S.n; k++)
			if (S.p[k].topic == topic && strcmp(S.p[k].address, a) == 0 &&
			    strcmp(json_string_value(json_object_get(e, "kind")), "active_set") != 0 &&
			    nonce > S.p[k].last_event_nonce) {
				S.p[k].last_event_nonce = nonce;
				round_start(&S.p[k]);
			}
	}
	json_decref(out);
}

void
scores_gap(void)
{
	size_t i;

	for (i = 0; i < S.n; i++)
		send_score(json_pack("{s:s, s:I, s:s}", "kind", "gap", "topic", (json_int_t)S.p[i].topic,
		    "address", S.p[i].address));
}

void
scores_poll(int64_t height)
{
	size_t i;

	forecasts_poll(height);		/* issue 22 */
	if (height > S.height)
		S.height = height;
	for (i = 0; i < S.n; i++) {
		struct pair *p = &S.p[i];

		/* Lost events are caught up here, but never more than once an epoch. */
		if (p->round_height == 0 || p->epoch_length <= 0 ||
		    S.height - p->round_height >= p->epoch_length)
			round_start(p);
	}
}

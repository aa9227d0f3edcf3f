/*
 * The devnet's reward loop (issue 18; documented in allora-devnet(1)).  Owns the truth
 * series, the synthetic peers, the network inference, the losses, EMA scores, the active
 * set and the rewards, the three events (EventEMAScoresSet, EventActiveInferersSet,
 * EventRewardsSettled) and the queries that read them, in the chain's message shapes.
 *
 * Window k (nonce = start + k·epoch) is hour k of the truth series; its realised value is
 * ln(close[k + lag] / close[k]) and it is scored lag windows after it opened.  Off unless
 * one of --peers, --truth, --truth-lag, --score-alpha, --active is given.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.pb-c.h"
#include "score.pb-c.h"
#include "dec.h"
#include "trainer/loss.h"
#include "util.h"
#include "rewards.h"
#include "devhooks.h"
#include "devlosses.h"

#define INF_MAX		64
#define REWARD_PER_WINDOW	1000000.0	/* uallo shared by a window's active inferers */

struct inferer {
	char		 addr[128];
	int		 has_ema;
	double		 ema;
	int64_t		 ema_nonce;
	int		 active;
	double		 last_reward;
	int		 has_reward;
	int64_t		 inf_nonce;
	char		 inf_value[64];
};

struct rtopic {
	uint32_t	 id;
	struct inferer	 inf[INF_MAX];
	size_t		 ninf;
	int		 has_network;
	char		 network[64];
	int64_t		 network_nonce;
};

static struct {
	int		 on;
	long		 peers;
	const char	*truth_file;
	long		 lag;
	double		 alpha;
	long		 active_n;
	double		*close;
	size_t		 nclose;
	double		 sd;		/* of the realised values */
	int64_t		 start;
	long		 epoch, window;
	char		 em[8];
	uint64_t	 rng;
	struct rtopic	 t[64];
	size_t		 nt;
	json_t		*subs;		/* "topic:nonce" -> [[addr, value], ...] */
	void		(*record)(json_t *);	/* devnet.c's --record (takes the object) */
} R = { 0, 0, NULL, 3, 0.3, 3 };

static double
urand(void)
{
	R.rng ^= R.rng << 13;
	R.rng ^= R.rng >> 7;
	R.rng ^= R.rng << 17;
	return ((double)(R.rng >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss(void)
{
	return sqrt(-2 * log(urand())) * cos(2 * M_PI * urand());
}

int
rewards_option(const char *name, const char *arg)
{
	long v;
	double d;

	R.on = 1;
	if (strcmp(name, "peers") == 0 && parse_long(arg, 0, 32, &v) == 0)
		R.peers = v;
	else if (strcmp(name, "truth") == 0 && *arg != '\0')
		R.truth_file = arg;
	else if (strcmp(name, "truth-lag") == 0 && parse_long(arg, 1, 1000, &v) == 0)
		R.lag = v;
	else if (strcmp(name, "score-alpha") == 0 && parse_double(arg, &d) == 0 && d > 0 &&
	    d <= 1)
		R.alpha = d;
	else if (strcmp(name, "active") == 0 && parse_long(arg, 1, INF_MAX, &v) == 0)
		R.active_n = v;
	else
		return -1;
	return 0;
}

static int
load_truth(const char *path)
{
	size_t len, line = 0;
	char *buf = read_file(path, (size_t)1 << 28, &len), *p, *next;

	if (buf == NULL) {
		fprintf(stderr, "allora-devnet: --truth %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (p = buf; p != NULL && *p != '\0'; p = next) {
		char *comma, *end;
		double c;

		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		line++;
		if (*p == '\0' || (line == 1 && strncmp(p, "unix", 4) == 0))
			continue;
		comma = strchr(p, ',');
		c = comma != NULL ? strtod(comma + 1, &end) : 0;
		if (comma == NULL || !(c > 0) || !isfinite(c) || (*end != '\0' && *end != '\r')) {
			fprintf(stderr, "allora-devnet: --truth %s:%zu: not \"unix,close\" with a "
			    "positive close\n", path, line);
			free(buf);
			return -1;
		}
		R.close = xrealloc(R.close, (R.nclose + 1) * sizeof(double));
		R.close[R.nclose++] = c;
	}
	free(buf);
	return 0;
}

int
rewards_setup(int64_t start_height, long epoch, long window, const char *em, uint64_t seed,
    void (*record)(json_t *))
{
	size_t i, n;
	double s = 0, s2 = 0, p = 50000;

	if (!R.on)
		return 0;
	R.record = record;
	R.start = start_height;
	R.epoch = epoch;
	R.window = window;
	snprintf(R.em, sizeof(R.em), "%s", em);
	R.rng = seed * 2654435761u + 88172645463325252ull;
	R.subs = json_object();
	if (R.truth_file != NULL) {
		if (load_truth(R.truth_file) == -1)
			return -1;
	} else {
		/* A generated (not real) hourly series: 0.5 % log-normal steps. */
		for (i = 0; i < 20000; i++) {
			p *= exp(0.005 * gauss());
			R.close = xrealloc(R.close, (R.nclose + 1) * sizeof(double));
			R.close[R.nclose++] = p;
		}
	}
	if (R.nclose <= (size_t)R.lag + 1) {
		fprintf(stderr, "allora-devnet: --truth: %zu rows, fewer than --truth-lag %ld + 2\n",
		    R.nclose, R.lag);
		return -1;
	}
	n = R.nclose - (size_t)R.lag;
	for (i = 0; i < n; i++) {
		double r = log(R.close[i + (size_t)R.lag] / R.close[i]);

		s += r;
		s2 += r * r;
	}
	R.sd = sqrt(fmax(s2 / (double)n - (s / (double)n) * (s / (double)n), 1e-12));
	return 0;
}

int64_t
rewards_ground_truth_lag(void)
{
	return R.on ? R.lag * R.epoch : 0;
}

static struct rtopic *
rt(uint32_t id)
{
	size_t i;

	for (i = 0; i < R.nt; i++)
		if (R.t[i].id == id)
			return &R.t[i];
	if (R.nt == sizeof(R.t) / sizeof(R.t[0]))
		return NULL;
	memset(&R.t[R.nt], 0, sizeof(R.t[0]));
	R.t[R.nt].id = id;
	return &R.t[R.nt++];
}

static struct inferer *
inferer(struct rtopic *t, const char *addr, int create)
{
	size_t i;

	for (i = 0; i < t->ninf; i++)
		if (strcmp(t->inf[i].addr, addr) == 0)
			return &t->inf[i];
	if (!create || t->ninf == INF_MAX)
		return NULL;
	memset(&t->inf[t->ninf], 0, sizeof(t->inf[0]));
	snprintf(t->inf[t->ninf].addr, sizeof(t->inf[0].addr), "%s", addr);
	return &t->inf[t->ninf++];
}

/* Realised value of window k, or NAN past the series. */
static double
realised(int64_t k)
{
	if (k < 0 || (size_t)(k + R.lag) >= R.nclose)
		return NAN;
	return log(R.close[k + R.lag] / R.close[k]);
}

static void
dectext(double v, char *out, size_t len)
{
	char err[64];

	if (fabs(v) < 1e-30 || dec_from_double(v, out, len, err, sizeof(err)) == -1)
		snprintf(out, len, "0");
}

static void
add_sub(uint32_t topic, int64_t nonce, const char *addr, double v)
{
	char key[48];
	json_t *a;

	snprintf(key, sizeof(key), "%u:%lld", topic, (long long)nonce);
	if ((a = json_object_get(R.subs, key)) == NULL) {
		a = json_array();
		json_object_set_new(R.subs, key, a);
	}
	json_array_append_new(a, json_pack("[s, f]", addr, v));
}

void
rewards_inference(uint32_t topic, int64_t nonce, const char *worker, const char *value)
{
	struct rtopic *t;
	struct inferer *in;
	double v;

	if (!R.on || worker == NULL || value == NULL || parse_double(value, &v) == -1 ||
	    (t = rt(topic)) == NULL || (in = inferer(t, worker, 1)) == NULL)
		return;
	in->inf_nonce = nonce;
	snprintf(in->inf_value, sizeof(in->inf_value), "%s", value);
	add_sub(topic, nonce, worker, v);
}

/* An inference the chain accepted at delivery (DEVNET_ACCEPTED, devhooks.h). */
static int
rewards_accepted(int stage, json_t *dec, json_t *msg, int simulate, long *code, char **log,
    const char **codespace)
{
	json_t *b = json_object_get(msg, "worker_data_bundle");

	if (stage == DEVNET_ACCEPTED)
		rewards_inference((uint32_t)json_integer_value(json_object_get(b, "topic_id")),
		    json_integer_value(json_object_get(b, "nonce")),
		    json_string_value(json_object_get(b, "worker")),
		    json_string_value(json_object_get(json_object_get(b, "inference"), "value")));
	return 0;
}
DEVNET_DELIVER(rewards_accepted)

/* A typed event attribute: the field's JSON as text. */
static void
tattr(json_t *attrs, const char *k, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	json_array_append_new(attrs, json_pack("{s:s, s:s, s:b}", "key", k, "value", s, "index",
	    1));
	free(s);
	json_decref(v);
}

static json_t *
event(const char *name, json_t *attrs)
{
	json_t *e = json_pack("{s:o, s:o}", "type", json_sprintf("emissions.%s.%s", R.em, name),
	    "attributes", attrs);

	json_array_append_new(attrs, json_pack("{s:s, s:s, s:b}", "key", "mode", "value",
	    "EndBlock", "index", 1));
	return e;
}

static json_t *
jnum(int64_t v)
{
	return json_sprintf("%lld", (long long)v);
}

static int
by_ema_desc(const void *a, const void *b)
{
	const struct inferer *x = *(struct inferer *const *)a, *y = *(struct inferer *const *)b;

	return x->ema < y->ema ? 1 : x->ema > y->ema ? -1 : strcmp(x->addr, y->addr);
}

/* Window k of topic t closed: the network inference (mean of the active inferers). */
static void
close_window(struct rtopic *t, int64_t nonce)
{
	char key[48];
	json_t *a, *x;
	size_t i;
	double sum = 0, sum_all = 0;
	long n = 0, n_all = 0;

	snprintf(key, sizeof(key), "%u:%lld", t->id, (long long)nonce);
	a = json_object_get(R.subs, key);
	json_array_foreach(a, i, x) {
		struct inferer *in = inferer(t, json_string_value(json_array_get(x, 0)), 0);
		double v = json_real_value(json_array_get(x, 1));

		sum_all += v;
		n_all++;
		if (in != NULL && in->active) {
			sum += v;
			n++;
		}
	}
	if (n_all == 0)
		return;
	dectext(n > 0 ? sum / (double)n : sum_all / (double)n_all, t->network, sizeof(t->network));
	t->has_network = 1;
	t->network_nonce = nonce;
}

/* Window k of topic t is scored: losses, EMA scores, the active set, rewards, events. */
static void
score_window(struct rtopic *t, int64_t nonce, int64_t height, json_t *events)
{
	char key[48], txt[64];
	json_t *a, *x, *addrs, *scores, *act, *aset, *raddr, *rw;
	struct inferer *sorted[INF_MAX], *in;
	size_t i, ns = 0;
	double y = realised((nonce - R.start) / R.epoch), best = -INFINITY, wsum = 0;
	int have_active = 0;

	snprintf(key, sizeof(key), "%u:%lld", t->id, (long long)nonce);
	a = json_object_get(R.subs, key);
	if (a == NULL || isnan(y))
		return;
	for (i = 0; i < t->ninf; i++)
		if (t->inf[i].has_ema && t->inf[i].active) {
			have_active = 1;
			if (t->inf[i].ema > best)
				best = t->inf[i].ema;
		}
	json_array_foreach(a, i, x) {
		double v = json_real_value(json_array_get(x, 1));
		double loss = loss_value(LOSS_ZPTAE, y, v, R.sd, NULL), score = -loss;

		in = inferer(t, json_string_value(json_array_get(x, 0)), 0);
		if (in == NULL || !isfinite(loss))
			continue;
		devlosses_loss(t->id, nonce, in->addr, loss);	/* issue 22: the loss history */
		if (!in->has_ema) {
			/* A newcomer starts at the best active score (or its own first one). */
			in->ema = have_active ? best : score;
			in->has_ema = 1;
		}
		in->ema = R.alpha * score + (1 - R.alpha) * in->ema;
		in->ema_nonce = nonce;
	}
	for (i = 0; i < t->ninf; i++)
		if (t->inf[i].has_ema)
			sorted[ns++] = &t->inf[i];
	qsort(sorted, ns, sizeof(sorted[0]), by_ema_desc);
	aset = json_array();
	for (i = 0; i < ns; i++) {
		sorted[i]->active = (long)i < R.active_n;
		if (sorted[i]->active) {
			json_array_append_new(aset, json_string(sorted[i]->addr));
			wsum += (double)(R.active_n - (long)i);
		}
	}
	/* EventEMAScoresSet: the window's inferers. */
	addrs = json_array();
	scores = json_array();
	act = json_array();
	raddr = json_array();
	rw = json_array();
	json_array_foreach(a, i, x) {
		size_t r;

		in = inferer(t, json_string_value(json_array_get(x, 0)), 0);
		if (in == NULL || in->ema_nonce != nonce)
			continue;
		dectext(in->ema, txt, sizeof(txt));
		json_array_append_new(addrs, json_string(in->addr));
		/* --record: {"kind": "score", "topic", "nonce", "address", "ema", "active"} */
		R.record(json_pack("{s:s, s:I, s:I, s:s, s:s, s:b}", "kind", "score", "topic",
		    (json_int_t)t->id, "nonce", (json_int_t)nonce, "address", in->addr, "ema", txt,
		    "active", in->active));
		json_array_append_new(scores, json_string(txt));
		json_array_append_new(act, json_boolean(in->active));
		if (!in->active)
			continue;
		for (r = 0; r < ns && sorted[r] != in; r++)
			;
		/* Rewards: the window's share, by rank in the active set (N for the first). */
		in->last_reward = REWARD_PER_WINDOW * (double)(R.active_n - (long)r) / wsum;
		in->has_reward = 1;
		dectext(in->last_reward, txt, sizeof(txt));
		json_array_append_new(raddr, json_string(in->addr));
		json_array_append_new(rw, json_string(txt));
	}
	x = json_array();
	tattr(x, "actor_type", json_string("ACTOR_TYPE_INFERER_UNSPECIFIED"));
	tattr(x, "topic_id", jnum(t->id));
	tattr(x, "nonce", jnum(nonce));
	tattr(x, "addresses", addrs);
	tattr(x, "scores", scores);
	tattr(x, "is_active", act);
	json_array_append_new(events, event("EventEMAScoresSet", x));
	x = json_array();
	tattr(x, "topic_id", jnum(t->id));
	tattr(x, "addresses", aset);
	tattr(x, "nonce_block_height", jnum(nonce));
	json_array_append_new(events, event("EventActiveInferersSet", x));
	x = json_array();
	tattr(x, "actor_type", json_string("ACTOR_TYPE_INFERER_UNSPECIFIED"));
	tattr(x, "topic_id", jnum(t->id));
	tattr(x, "block_height", jnum(nonce));
	tattr(x, "addresses", raddr);
	tattr(x, "rewards", rw);
	tattr(x, "block_height_tx", jnum(height));
	json_array_append_new(events, event("EventRewardsSettled", x));
	devlosses_scored(t->id, nonce, R.record);	/* issue 22: forecasts of the window */
	json_object_del(R.subs, key);
}

void
rewards_block(int64_t height, const uint32_t *topics, size_t ntopics, json_t *events)
{
	size_t i;
	long p;
	int64_t off;

	if (!R.on || height < R.start)
		return;
	off = (height - R.start) % R.epoch;
	for (i = 0; i < ntopics; i++) {
		struct rtopic *t = rt(topics[i]);
		int64_t k = (height - R.start) / R.epoch;
		double y;
		char addr[64];

		if (t == NULL)
			continue;
		if (off == 0) {
			/* A window opened: the peers submit (realised value plus their noise). */
			y = realised(k);
			for (p = 1; p <= R.peers && !isnan(y); p++) {
				struct inferer *in;
				double v = y + gauss() * 0.5 * (double)p * R.sd;

				devlosses_peer_address(p, addr, sizeof(addr));	/* issue 22 */
				if ((in = inferer(t, addr, 1)) == NULL)
					continue;
				in->inf_nonce = height;
				dectext(v, in->inf_value, sizeof(in->inf_value));
				parse_double(in->inf_value, &v);
				add_sub(t->id, height, addr, v);
			}
			/* The window opened lag epochs ago is scored now. */
			if (k >= R.lag)
				score_window(t, height - R.lag * R.epoch, height, events);
		}
		/* The window closes the block after its end. */
		if (off == (R.window + 1 < R.epoch ? R.window + 1 : R.epoch - 1) && off > 0)
			close_window(t, height - off);
	}
}

static int
pack_score(struct rtopic *t, struct inferer *in, int lowest, uint8_t **out, size_t *len)
{
	Awq__GetScoreResponse r = AWQ__GET_SCORE_RESPONSE__INIT;
	Awq__ScoreMsg s = AWQ__SCORE_MSG__INIT;
	char txt[64];

	(void)lowest;
	if (in != NULL && in->has_ema) {
		s.topic_id = t->id;
		s.block_height = in->ema_nonce;
		s.address = in->addr;
		dectext(in->ema, txt, sizeof(txt));
		s.score = txt;
	}
	r.score = &s;
	*len = awq__get_score_response__get_packed_size(&r);
	*out = xmalloc(*len + 1);
	awq__get_score_response__pack(&r, *out);
	return 1;
}

static struct inferer *
lowest_active(struct rtopic *t)
{
	struct inferer *low = NULL;
	size_t i;

	for (i = 0; i < t->ninf; i++)
		if (t->inf[i].has_ema && t->inf[i].active && (low == NULL ||
		    t->inf[i].ema < low->ema))
			low = &t->inf[i];
	return low;
}

int
rewards_query(const char *m, const uint8_t *data, size_t dlen, uint8_t **out, size_t *len)
{
	Awq__TopicAddressRequest *q;
	struct rtopic *t;
	struct inferer *in;
	char txt[64];
	int rc = 0;

	if (!R.on)
		return 0;
	if (strcmp(m, "GetInfererScoreEma") != 0 && strcmp(m, "GetCurrentLowestInfererScore") != 0 &&
	    strcmp(m, "GetPreviousTopicQuantileInfererScoreEma") != 0 &&
	    strcmp(m, "GetPreviousInferenceRewardFraction") != 0 &&
	    !(strcmp(m, "GetWorkerLatestInputInferenceByTopicId") == 0 && strcmp(R.em, "v9") != 0) &&
	    strcmp(m, "GetWorkerLatestInferenceByTopicId") != 0 &&
	    strcmp(m, "GetLatestNetworkInferences") != 0)
		return 0;
	q = awq__topic_address_request__unpack(NULL, dlen, data);
	t = q != NULL ? rt((uint32_t)q->topic_id) : NULL;
	if (t == NULL) {
		if (q != NULL)
			awq__topic_address_request__free_unpacked(q, NULL);
		return 0;
	}
	in = q->address != NULL && *q->address != '\0' ? inferer(t, q->address, 0) : NULL;
	if (strcmp(m, "GetInfererScoreEma") == 0)
		rc = pack_score(t, in, 0, out, len);
	else if (strcmp(m, "GetCurrentLowestInfererScore") == 0)
		rc = pack_score(t, lowest_active(t), 1, out, len);
	else if (strcmp(m, "GetPreviousTopicQuantileInfererScoreEma") == 0) {
		Awq__GetDecValueResponse r = AWQ__GET_DEC_VALUE_RESPONSE__INIT;
		struct inferer *low = lowest_active(t);

		/* The devnet's quantile is the cut-off itself: the lowest active score. */
		if (low != NULL) {
			dectext(low->ema, txt, sizeof(txt));
			r.value = txt;
		}
		*len = awq__get_dec_value_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_dec_value_response__pack(&r, *out);
		rc = 1;
	} else if (strcmp(m, "GetPreviousInferenceRewardFraction") == 0) {
		Awq__GetRewardFractionResponse r = AWQ__GET_REWARD_FRACTION_RESPONSE__INIT;

		if (in != NULL && in->has_reward) {
			dectext(in->last_reward / REWARD_PER_WINDOW, txt, sizeof(txt));
			r.reward_fraction = txt;
		} else
			r.not_found = 1;
		*len = awq__get_reward_fraction_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_reward_fraction_response__pack(&r, *out);
		rc = 1;
	} else if (strncmp(m, "GetWorkerLatest", 15) == 0) {
		Awq__GetWorkerLatestInferenceResponse r =
		    AWQ__GET_WORKER_LATEST_INFERENCE_RESPONSE__INIT;
		Awq__InferenceMsg i = AWQ__INFERENCE_MSG__INIT;

		if (in != NULL && in->inf_nonce > 0) {
			i.topic_id = t->id;
			i.block_height = in->inf_nonce;
			i.inferer = in->addr;
			i.value = in->inf_value;
			r.latest_inference = &i;
		}
		*len = awq__get_worker_latest_inference_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_worker_latest_inference_response__pack(&r, *out);
		rc = 1;
	} else if (strcmp(R.em, "v9") == 0) {
		Awq__GetLatestNetworkInferencesV9Response r =
		    AWQ__GET_LATEST_NETWORK_INFERENCES_V9_RESPONSE__INIT;
		Awq__ValueBundleMsg b = AWQ__VALUE_BUNDLE_MSG__INIT;

		if (t->has_network) {
			b.topic_id = t->id;
			b.combined_value = t->network;
			r.network_inferences = &b;
			r.inference_block_height = t->network_nonce;
		}
		*len = awq__get_latest_network_inferences_v9_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_latest_network_inferences_v9_response__pack(&r, *out);
		rc = 1;
	} else {
		Awq__GetLatestNetworkInferencesResponse r =
		    AWQ__GET_LATEST_NETWORK_INFERENCES_RESPONSE__INIT;
		Awq__NetworkInferenceBundleMsg b = AWQ__NETWORK_INFERENCE_BUNDLE_MSG__INIT;
		Awq__LabeledValueMsg lv = AWQ__LABELED_VALUE_MSG__INIT, *lvs[1] = { &lv };

		if (t->has_network) {
			b.topic_id = t->id;
			b.block_height = t->network_nonce;
			lv.value = t->network;
			b.combined_value = lvs;
			b.n_combined_value = 1;
			r.network_inferences = &b;
			r.inference_block_height = t->network_nonce;
		}
		*len = awq__get_latest_network_inferences_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_latest_network_inferences_response__pack(&r, *out);
		rc = 1;
	}
	awq__topic_address_request__free_unpacked(q, NULL);
	return rc;
}

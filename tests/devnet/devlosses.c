/*
 * The devnet's loss history and forecast scoring (issue 22; documented in
 * allora-devnet(1)).  Owns: the network loss bundle of every scored window (each inferer's
 * ZPTAE loss from the reward loop, rewards.c; kept for the last LOSS_KEEP windows of a
 * topic), the answers of GetNetworkLossBundleAtBlock and GetForecasterScoreEma, and the
 * forecasters' scores: when a window is scored, each forecast devforecast.c accepted for it
 * loses mean |value - log10(loss)| over its elements whose inferer has a loss (the devnet's
 * topics do not allow negative losses), score = -loss, EMA with FORECAST_ALPHA (first
 * score: the score itself).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "dec.h"
#include "forecast.pb-c.h"
#include "score.pb-c.h"
#include "submitter/keys.h"
#include "util.h"
#include "devforecast.h"
#include "devhooks.h"
#include "devlosses.h"

#define LOSS_KEEP	32
#define FORECAST_ALPHA	0.3

static json_t *losses;		/* "topic:nonce" -> {addr: loss (real)} */
static json_t *emas;		/* "topic:forecaster" -> {"ema": real, "nonce": int} */

void
devlosses_peer_address(long p, char *out, size_t len)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char seed[64];

	snprintf(seed, sizeof(seed), "allora-devnet peer %02ld", p);
	SHA256((const unsigned char *)seed, strlen(seed), h);
	if (bech32_encode("allo", h, 20, out, len) != 0)
		snprintf(out, len, "allo1devnetpeer%02ld", p);
}

static void
key(char *buf, size_t len, uint32_t topic, int64_t nonce)
{
	snprintf(buf, len, "%u:%lld", topic, (long long)nonce);
}

void
devlosses_loss(uint32_t topic, int64_t nonce, const char *addr, double loss)
{
	char k[48];
	json_t *o;

	if (losses == NULL)
		losses = json_object();
	key(k, sizeof(k), topic, nonce);
	if ((o = json_object_get(losses, k)) == NULL) {
		o = json_object();
		json_object_set_new(losses, k, o);
	}
	json_object_set_new(o, addr, json_real(loss));
}

static void
forget_old(uint32_t topic, int64_t nonce)
{
	const char *k;
	void *tmp;
	json_t *v;
	unsigned t;
	long long n;
	int64_t cut = nonce;
	size_t count = 0;

	/* Keep the newest LOSS_KEEP windows of the topic. */
	json_object_foreach(losses, k, v)
		if (sscanf(k, "%u:%lld", &t, &n) == 2 && t == topic)
			count++;
	while (count > LOSS_KEEP) {
		int64_t oldest = cut;

		json_object_foreach(losses, k, v)
			if (sscanf(k, "%u:%lld", &t, &n) == 2 && t == topic && n < oldest)
				oldest = n;
		json_object_foreach_safe(losses, tmp, k, v)
			if (sscanf(k, "%u:%lld", &t, &n) == 2 && t == topic && n == oldest) {
				json_object_del(losses, k);
				count--;
			}
	}
}

struct sctx {
	uint32_t	 topic;
	int64_t		 nonce;
	json_t		*l;
	void		(*record)(json_t *);
};

/* One accepted forecast of a scored window (devforecast.c keeps them). */
static void
score_one(const struct devforecast *f, void *arg)
{
	struct sctx *c = arg;
	char ek[200], txt[64], err[64];
	double sum = 0, v, score;
	long n = 0;
	size_t i;
	json_t *e;

	for (i = 0; i < f->nel; i++) {
		json_t *lv = json_object_get(c->l, f->el[i].inferer);

		if (!json_is_real(lv) || !(json_real_value(lv) > 0) ||
		    parse_double(f->el[i].value, &v) == -1)
			continue;
		sum += fabs(v - log10(json_real_value(lv)));
		n++;
	}
	if (n == 0)
		return;
	score = -sum / (double)n;
	if (emas == NULL)
		emas = json_object();
	snprintf(ek, sizeof(ek), "%u:%s", c->topic, f->forecaster);
	if ((e = json_object_get(emas, ek)) == NULL) {
		e = json_pack("{s:f, s:I}", "ema", score, "nonce", (json_int_t)c->nonce);
		json_object_set_new(emas, ek, e);
	} else {
		json_object_set_new(e, "ema", json_real(FORECAST_ALPHA * score +
		    (1 - FORECAST_ALPHA) * json_real_value(json_object_get(e, "ema"))));
		json_object_set_new(e, "nonce", json_integer(c->nonce));
	}
	if (dec_from_double(json_real_value(json_object_get(e, "ema")), txt, sizeof(txt), err,
	    sizeof(err)) == -1)
		snprintf(txt, sizeof(txt), "0");
	/* --record: {"kind": "forecast_score", "topic", "nonce", "forecaster", "loss",
	 * "elements_scored", "ema"} */
	if (c->record != NULL)
		c->record(json_pack("{s:s, s:I, s:I, s:s, s:f, s:i, s:s}", "kind",
		    "forecast_score", "topic", (json_int_t)c->topic, "nonce", (json_int_t)c->nonce,
		    "forecaster", f->forecaster, "loss", sum / (double)n, "elements_scored", (int)n,
		    "ema", txt));
}

void
devlosses_scored(uint32_t topic, int64_t nonce, void (*record)(json_t *))
{
	struct sctx ctx;
	char k[48], txt[64], err[64];
	json_t *l, *x;

	key(k, sizeof(k), topic, nonce);
	l = json_object_get(losses, k);
	if (l != NULL && record != NULL) {
		/* --record: {"kind": "losses", "topic", "nonce", "values": {addr: loss text}}:
		 * the bundle GetNetworkLossBundleAtBlock answers for that nonce */
		json_t *vals = json_object();
		const char *a;

		json_object_foreach(l, a, x) {
			if (dec_from_double(json_real_value(x), txt, sizeof(txt), err,
			    sizeof(err)) == -1)
				snprintf(txt, sizeof(txt), "0");
			json_object_set_new(vals, a, json_string(txt));
		}
		record(json_pack("{s:s, s:I, s:I, s:o}", "kind", "losses", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "values", vals));
	}
	if (l != NULL)
		forget_old(topic, nonce);
	if (l == NULL)
		return;
	ctx.topic = topic;
	ctx.nonce = nonce;
	ctx.l = l;
	ctx.record = record;
	devforecast_each(topic, nonce, score_one, &ctx);
}

static int
cmp_addr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
devlosses_query(const char *m, const uint8_t *data, size_t dlen, uint8_t **out, size_t *len)
{
	if (strcmp(m, "GetNetworkLossBundleAtBlock") == 0) {
		Awfc__LossBundleRequest *q = awfc__loss_bundle_request__unpack(NULL, dlen, data);
		Awfc__GetNetworkLossBundleAtBlockResponse r =
		    AWFC__GET_NETWORK_LOSS_BUNDLE_AT_BLOCK_RESPONSE__INIT;
		Awfc__LossBundleMsg b = AWFC__LOSS_BUNDLE_MSG__INIT;
		Awfc__ReputerRequestNonceMsg rn = AWFC__REPUTER_REQUEST_NONCE_MSG__INIT;
		Awfc__NonceMsg nm = AWFC__NONCE_MSG__INIT;
		Awfc__WorkerValueMsg *vs = NULL, **vp = NULL;
		const char **addrs = NULL, *a;
		char k[48], (*txt)[64] = NULL, err[64];
		json_t *l = NULL, *v;
		size_t n = 0, i;

		if (q == NULL)
			return 0;
		key(k, sizeof(k), (uint32_t)q->topic_id, q->block_height);
		l = json_object_get(losses, k);
		if (l != NULL && json_object_size(l) > 0) {
			n = json_object_size(l);
			addrs = xcalloc(n, sizeof(*addrs));
			vs = xcalloc(n, sizeof(*vs));
			vp = xcalloc(n, sizeof(*vp));
			txt = xcalloc(n, sizeof(*txt));
			i = 0;
			json_object_foreach(l, a, v)
				addrs[i++] = a;
			qsort(addrs, n, sizeof(*addrs), cmp_addr);
			for (i = 0; i < n; i++) {
				awfc__worker_value_msg__init(&vs[i]);
				vs[i].worker = (char *)addrs[i];
				if (dec_from_double(json_real_value(json_object_get(l, addrs[i])),
				    txt[i], sizeof(txt[i]), err, sizeof(err)) == -1)
					snprintf(txt[i], sizeof(txt[i]), "0");
				vs[i].value = txt[i];
				vp[i] = &vs[i];
			}
			b.topic_id = q->topic_id;
			nm.block_height = q->block_height;
			rn.reputer_nonce = &nm;
			b.reputer_request_nonce = &rn;
			b.inferer_values = vp;
			b.n_inferer_values = n;
			r.loss_bundle = &b;
		}
		*len = awfc__get_network_loss_bundle_at_block_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awfc__get_network_loss_bundle_at_block_response__pack(&r, *out);
		free(addrs);
		free(vs);
		free(vp);
		free(txt);
		awfc__loss_bundle_request__free_unpacked(q, NULL);
		return 1;
	}
	if (strcmp(m, "GetForecasterScoreEma") == 0) {
		Awfc__ForecasterRequest *q = awfc__forecaster_request__unpack(NULL, dlen, data);
		Awq__GetScoreResponse r = AWQ__GET_SCORE_RESPONSE__INIT;
		Awq__ScoreMsg s = AWQ__SCORE_MSG__INIT;
		char ek[200], txt[64], err[64];
		json_t *e;

		if (q == NULL)
			return 0;
		snprintf(ek, sizeof(ek), "%u:%s", (uint32_t)q->topic_id, q->forecaster ?
		    q->forecaster : "");
		if ((e = json_object_get(emas, ek)) != NULL) {
			s.topic_id = q->topic_id;
			s.block_height = json_integer_value(json_object_get(e, "nonce"));
			s.address = q->forecaster;
			if (dec_from_double(json_real_value(json_object_get(e, "ema")), txt,
			    sizeof(txt), err, sizeof(err)) == -1)
				snprintf(txt, sizeof(txt), "0");
			s.score = txt;
		}
		r.score = &s;
		*len = awq__get_score_response__get_packed_size(&r);
		*out = xmalloc(*len + 1);
		awq__get_score_response__pack(&r, *out);
		awfc__forecaster_request__free_unpacked(q, NULL);
		return 1;
	}
	return 0;
}

/* The two paths under /emissions.<v>.QueryService/ (devhooks.h). */
static int
devlosses_abci(const char *path, const uint8_t *data, size_t len, long *code, char **log,
    uint8_t **val, size_t *vlen)
{
	const char *m = strrchr(path, '/');

	if (strncmp(path, "/emissions.", 11) != 0 || m == NULL ||
	    !devlosses_query(m + 1, data, len, val, vlen))
		return -1;
	*code = 0;
	*log = NULL;
	return 0;
}
DEVNET_QUERY(devlosses_abci)	/* asked by abci_query (devquery.c) */

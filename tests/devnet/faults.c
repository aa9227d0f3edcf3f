/*
 * The devnet's faults that make a broadcast's outcome unknown, produced the way the real
 * components produce them (issue 13; PROTOCOL-NOTES.md records the sources):
 *  - CometBFT's mempool cache, always on: bytes the node has already seen (in the mempool or
 *    included) are refused before CheckTx with the JSON-RPC error -32603 "Internal error",
 *    data "tx already exists in cache" (mempool.ErrTxInCache through RPCInternalError); like
 *    CometBFT's (mempool.cache_size, 10000) it holds the last --mempool-cache-size entries,
 *    so an evicted transaction sent again reaches CheckTx (code 32 once it is included);
 *  - --lose-reply-rate P: the broadcast is processed (CheckTx, into the mempool), then the
 *    answer never comes: the connection is held past the client's timeout
 *    (--lose-reply-hold-ms, default 30000) and closed;
 *  - --fake-window-rate P: the websocket announces windows the chain does not have (the
 *    queries say not open), as a lying or broken endpoint would;
 *  - unconfirmed_txs, as CometBFT answers it (n_txs, total, total_bytes as strings, txs as
 *    base64), or "Method not found" with --no-unconfirmed-txs (a node that disables it).
 * devnet.c owns the chain; this file owns these faults and is called from small hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "faults.h"
#include "util.h"

struct held {
	struct evhttp_request	*req;
	struct event		*ev;
	struct held		*next;
};

struct fake {
	uint32_t	 topic;
	int64_t		 at;		/* the height it is announced at (its nonce) */
};

static struct {
	struct event_base	*base;
	double			(*rnd)(void);
	void			(*record)(json_t *);
	double			 lose_rate;
	long			 hold_ms;
	double			 fake_rate;
	json_t			*cache;		/* hash -> true */
	char			(*lru)[65];	/* the cache's entries, oldest first (a ring) */
	long			 cache_size, lru_n, lru_at;
	struct held		*held;
	struct fake		 fakes[256];
	size_t			 nfakes;
	long			 lost;
	int			 no_unconfirmed;
} F = { .hold_ms = 30000, .cache_size = 10000 };

int
faults_option(const char *opt, const char *arg)
{
	double d;
	long v;

	if (strcmp(opt, "lose-reply-rate") == 0 || strcmp(opt, "fake-window-rate") == 0) {
		if (parse_double(arg, &d) == -1 || d < 0 || d > 1)
			return -1;
		if (opt[0] == 'l')
			F.lose_rate = d;
		else
			F.fake_rate = d;
		return 1;
	}
	if (strcmp(opt, "no-unconfirmed-txs") == 0) {
		F.no_unconfirmed = 1;
		return 1;
	}
	if (strcmp(opt, "mempool-cache-size") == 0) {
		if (parse_long(arg, 1, 1000000, &v) == -1)
			return -1;
		F.cache_size = v;
		return 1;
	}
	if (strcmp(opt, "lose-reply-hold-ms") == 0) {
		if (parse_long(arg, 1, 3600000, &v) == -1)
			return -1;
		F.hold_ms = v;
		return 1;
	}
	return 0;
}

void
faults_init(struct event_base *base, double (*rnd)(void), void (*record)(json_t *))
{
	F.base = base;
	F.rnd = rnd;
	F.record = record;
	F.cache = json_object();
	F.lru = xcalloc((size_t)F.cache_size, sizeof(*F.lru));
}

void
faults_free(void)
{
	struct held *h;

	/* The held requests went with their connections (evhttp_free). */
	while ((h = F.held) != NULL) {
		F.held = h->next;
		event_free(h->ev);
		free(h);
	}
	json_decref(F.cache);
	F.cache = NULL;
	free(F.lru);
	F.lru = NULL;
}

/* ---- the mempool cache ---- */

int
faults_cache_check(const char *hash, json_t **err)
{
	if (hash == NULL || hash[0] == '\0' || json_object_get(F.cache, hash) == NULL)
		return 0;
	*err = json_pack("{s:i, s:s, s:s}", "code", -32603, "message", "Internal error", "data",
	    "tx already exists in cache");
	fprintf(stderr, "allora-devnet: broadcast of %s: tx already exists in cache\n", hash);
	return 1;
}

void
faults_cache_add(const char *hash)
{
	if (json_object_get(F.cache, hash) != NULL)
		return;
	if (F.lru_n == F.cache_size) {
		/* Full: the oldest entry goes, as in CometBFT's LRU cache. */
		json_object_del(F.cache, F.lru[F.lru_at]);
		F.lru_at = (F.lru_at + 1) % F.cache_size;
		F.lru_n--;
	}
	snprintf(F.lru[(F.lru_at + F.lru_n) % F.cache_size], sizeof(F.lru[0]), "%s", hash);
	F.lru_n++;
	json_object_set_new(F.cache, hash, json_true());
}

/* ---- lost replies ---- */

static void
held_close(evutil_socket_t fd, short ev, void *arg)
{
	struct held *h = arg, **pp;
	struct evhttp_connection *c = evhttp_request_get_connection(h->req);

	/*
	 * The client gave up (its timeout): libevent then detached the request from the
	 * connection it freed, and the request is ours to free.  Otherwise close the
	 * connection now, without an answer (which frees the request with it).
	 */
	if (c != NULL)
		evhttp_connection_free(c);
	else
		evhttp_request_free(h->req);
	for (pp = &F.held; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	event_free(h->ev);
	free(h);
}

int
faults_lose_reply(struct evhttp_request *req)
{
	struct held *h;
	struct timeval tv;

	if (F.lose_rate <= 0 || F.rnd() >= F.lose_rate)
		return 0;
	h = xcalloc(1, sizeof(*h));
	h->req = req;
	h->ev = evtimer_new(F.base, held_close, h);
	h->next = F.held;
	F.held = h;
	tv.tv_sec = F.hold_ms / 1000;
	tv.tv_usec = (F.hold_ms % 1000) * 1000;
	evtimer_add(h->ev, &tv);
	F.lost++;
	fprintf(stderr, "allora-devnet: broadcast processed, its answer lost (%ld so far)\n",
	    F.lost);
	return 1;
}

/* ---- fake windows ---- */

size_t
faults_fake_windows(int64_t height, int64_t start_height, long epoch, long window,
    const uint32_t *topics, size_t ntopics, uint32_t *ft, int64_t *fn, int64_t *fe, size_t max)
{
	size_t i, k, n = 0;

	if (F.fake_rate <= 0 || epoch < 2)
		return 0;
	if ((height - start_height) % epoch == 0)
		/* Decide this epoch's fakes: each announced halfway to the next window. */
		for (i = 0; i < ntopics; i++)
			if (F.rnd() < F.fake_rate && F.nfakes < sizeof(F.fakes) / sizeof(F.fakes[0])) {
				F.fakes[F.nfakes].topic = topics[i];
				F.fakes[F.nfakes].at = height + epoch / 2;
				F.nfakes++;
			}
	for (i = 0, k = 0; i < F.nfakes; i++) {
		if (F.fakes[i].at != height) {
			F.fakes[k++] = F.fakes[i];
			continue;
		}
		if (n < max) {
			ft[n] = F.fakes[i].topic;
			fn[n] = height;
			fe[n] = height + window;
			F.record(json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind", "fake_window",
			    "topic", (json_int_t)ft[n], "nonce", (json_int_t)height, "end",
			    (json_int_t)(height + window), "height", (json_int_t)height));
			n++;
		}
	}
	F.nfakes = k;
	return n;
}

/* ---- unconfirmed_txs ---- */

int
faults_unconfirmed_offered(void)
{
	return !F.no_unconfirmed;
}

json_t *
faults_unconfirmed_txs(unsigned char *const *raw, const size_t *len, size_t n, json_t *params,
    size_t total_bytes)
{
	json_t *lim = json_object_get(params, "limit"), *txs = json_array();
	long limit = 30;
	size_t i;
	char c[32], t[32], b[32];

	/* CometBFT: limit defaults to 30 and is capped at 100 (validatePerPage). */
	if (json_is_integer(lim))
		limit = (long)json_integer_value(lim);
	else if (json_is_string(lim))
		limit = atol(json_string_value(lim));
	if (limit <= 0)
		limit = 30;
	if (limit > 100)
		limit = 100;
	for (i = 0; i < n && (long)i < limit; i++) {
		char *s = base64_encode(raw[i], len[i]);

		json_array_append_new(txs, json_string(s));
		free(s);
	}
	snprintf(c, sizeof(c), "%zu", json_array_size(txs));
	snprintf(t, sizeof(t), "%zu", n);
	snprintf(b, sizeof(b), "%zu", total_bytes);
	return json_pack("{s:s, s:s, s:s, s:o}", "n_txs", c, "total", t, "total_bytes", b, "txs",
	    txs);
}

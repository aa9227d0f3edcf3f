/* Market data refresh (see fetch.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"
#include "http.h"
#include "log.h"
#include "marketdata.h"
#include "util.h"

enum src { SRC_TIINGO, SRC_COINBASE, SRC_BINANCE, NSRC };

static const char *const src_names[NSRC] = { "tiingo", "coinbase", "binance" };
/* Hours of bars one request asks for. */
static const long chunk_h[NSRC] = { 7 * 24, 300, 1000 };

/* ---- request pacing, per source and process ---- */

#define PACE_MAX	512		/* requests remembered (the last hour's) */
#define QUOTA_WAIT_S	900		/* after a quota error without Retry-After, doubling */
#define QUOTA_WAIT_MAX_S 3600

struct pacing {
	int	 per_hour;		/* 0: no limit */
	int	 reserve;		/* of per_hour, kept for the newest bars */
	double	 sent[PACE_MAX];	/* times of the requests of the last hour */
	int	 nsent;
	double	 hold_until;		/* Retry-After or back-off */
	int	 quota_errors;		/* in a row */
};
static struct pacing PACE[NSRC];
static int pace_init;

void
fetch_pacing_reset(void)
{
	memset(PACE, 0, sizeof(PACE));
	PACE[SRC_TIINGO].per_hour = FETCH_TIINGO_PER_HOUR;
	PACE[SRC_TIINGO].reserve = FETCH_TIINGO_RESERVE;
	pace_init = 1;
}

static struct pacing *
pacing(enum src s)
{
	if (!pace_init)
		fetch_pacing_reset();
	return &PACE[s];
}

void
fetch_pacing_set(const char *source, int per_hour, int reserve)
{
	int s;

	for (s = 0; s < NSRC; s++)
		if (strcmp(source, src_names[s]) == 0) {
			pacing((enum src)s)->per_hour = per_hour < PACE_MAX ? per_hour : PACE_MAX;
			PACE[s].reserve = reserve;
		}
}

/*
 * May a request to source s go out at `now`?  required: for the newest bars (may use the
 * reserve).  0 and the request is counted, or -1 with why and *wait_s.
 */
static int
pace_take(enum src s, double now, int required, char *why, size_t whylen, long *wait_s)
{
	struct pacing *p = pacing(s);
	int i, k, limit;

	if (now < p->hold_until) {
		*wait_s = (long)ceil(p->hold_until - now);
		snprintf(why, whylen, "%s: holding requests %ld s more after its quota error or "
		    "Retry-After", src_names[s], *wait_s);
		return -1;
	}
	for (i = k = 0; i < p->nsent; i++)	/* forget what is more than an hour old */
		if (p->sent[i] > now - 3600)
			p->sent[k++] = p->sent[i];
	p->nsent = k;
	limit = p->per_hour - (required ? 0 : p->reserve);
	if (p->per_hour > 0 && p->nsent >= limit) {
		double oldest = now;

		for (i = 0; i < p->nsent; i++)
			oldest = p->sent[i] < oldest ? p->sent[i] : oldest;
		*wait_s = (long)ceil(oldest + 3600 - now);
		snprintf(why, whylen, "%s: %d requests in the last hour, the most this worker "
		    "makes%s; next in %ld s", src_names[s], p->nsent, required ? "" :
		    " for history", *wait_s);
		return -1;
	}
	if (p->nsent < PACE_MAX)
		p->sent[p->nsent++] = now;
	return 0;
}

/* A quota error: hold the source for Retry-After, or back off. */
static long
pace_quota(enum src s, double now, long retry_after)
{
	struct pacing *p = pacing(s);
	long wait = retry_after;

	if (wait <= 0) {
		wait = QUOTA_WAIT_S << (p->quota_errors < 3 ? p->quota_errors : 3);
		if (wait > QUOTA_WAIT_MAX_S)
			wait = QUOTA_WAIT_MAX_S;
	}
	if (wait > 86400)
		wait = 86400;
	p->quota_errors++;
	if (now + (double)wait > p->hold_until)
		p->hold_until = now + (double)wait;
	return wait;
}

/* ---- the history a source does not have ---- */

#define FLOORS	32
static struct {
	char	*path;
	int64_t	 floor;		/* no bars before this */
} FLOOR[FLOORS];

static int64_t
floor_get(const char *path)
{
	int i;

	for (i = 0; i < FLOORS; i++)
		if (FLOOR[i].path != NULL && strcmp(FLOOR[i].path, path) == 0)
			return FLOOR[i].floor;
	return 0;
}

static void
floor_set(const char *path, int64_t t)
{
	int i, slot = -1;

	for (i = 0; i < FLOORS; i++)
		if (FLOOR[i].path != NULL && strcmp(FLOOR[i].path, path) == 0) {
			FLOOR[i].floor = t;
			return;
		} else if (FLOOR[i].path == NULL && slot == -1)
			slot = i;
	if (slot == -1) {
		slot = (int)(t % FLOORS);
		free(FLOOR[slot].path);
	}
	FLOOR[slot].path = xstrdup(path);
	FLOOR[slot].floor = t;
}

/* ---- the bar cache ---- */

char *
bar_cache_path(const struct config *c, const struct config_topic *t)
{
	char tk[64];
	size_t i;

	/* The ticker names a file: keep [a-z0-9-] only. */
	snprintf(tk, sizeof(tk), "%s", t->ticker ? t->ticker : "btcusd");
	for (i = 0; tk[i] != '\0'; i++)
		if (!isalnum((unsigned char)tk[i]) && tk[i] != '-')
			tk[i] = '_';
	return xasprintf("%s/bars/%s-%s.csv", c->state_dir, t->data_source, tk);
}

void
bars_merge(struct bars *b, const struct bars *add)
{
	int64_t *t;
	double *c;
	size_t i = 0, j = 0, n = 0;

	if (add->n == 0)
		return;
	t = xcalloc(b->n + add->n, sizeof(*t));
	c = xcalloc(b->n + add->n, sizeof(*c));
	while (i < b->n || j < add->n) {
		if (j >= add->n || (i < b->n && b->t[i] < add->t[j])) {
			t[n] = b->t[i];
			c[n++] = b->close[i++];
		} else {
			if (i < b->n && b->t[i] == add->t[j])
				i++;	/* revised */
			t[n] = add->t[j];
			c[n++] = add->close[j++];
		}
	}
	free(b->t);
	free(b->close);
	free(b->bad);
	b->bad = NULL;
	b->t = t;
	b->close = c;
	b->n = n;
	b->gaps = 0;
	for (i = 1; i < n; i++)
		if (t[i] - t[i - 1] > 3600)
			b->gaps += (size_t)((t[i] - t[i - 1]) / 3600 - 1);
}

int
bars_write_csv(const char *path, const struct bars *b)
{
	size_t cap = 32 + b->n * 48, len = 0, i;
	char *s = xmalloc(cap);
	int rc;

	len += (size_t)snprintf(s, cap, "unix,close\n");
	for (i = 0; i < b->n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%lld,%.17g\n", (long long)b->t[i],
		    b->close[i]);
	rc = write_file_atomic(path, s, len, 0640);
	free(s);
	return rc;
}

/* Drops bars older than t. */
static void
bars_trim(struct bars *b, int64_t t)
{
	size_t k = 0;

	while (k < b->n && b->t[k] < t)
		k++;
	if (k == 0)
		return;
	memmove(b->t, b->t + k, (b->n - k) * sizeof(*b->t));
	memmove(b->close, b->close + k, (b->n - k) * sizeof(*b->close));
	b->n -= k;
}

int
fetch_symbol(const char *source, const char *ticker, char *out, size_t len)
{
	char base[32], tk[40];
	size_t i, n;

	if (ticker == NULL || (n = strlen(ticker)) == 0 || n >= sizeof(tk))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)ticker[i]))
			return -1;
		tk[i] = (char)tolower((unsigned char)ticker[i]);
	}
	tk[n] = '\0';
	if (strcmp(source, "tiingo") == 0) {
		snprintf(out, len, "%s", tk);
		return 0;
	}
	/* base + "usd" (Tiingo's form), or base + "usdt" */
	if (n > 4 && strcmp(tk + n - 4, "usdt") == 0)
		n -= 4;
	else if (n > 3 && strcmp(tk + n - 3, "usd") == 0)
		n -= 3;
	else
		return -1;
	for (i = 0; i < n; i++)
		base[i] = (char)toupper((unsigned char)tk[i]);
	base[n] = '\0';
	if (strcmp(source, "coinbase") == 0)
		snprintf(out, len, "%s-USD", base);
	else if (strcmp(source, "binance") == 0)
		snprintf(out, len, "%sUSDT", base);
	else
		return -1;
	return 0;
}

/* ---- one refresh ---- */

struct chunk {
	int64_t	 from, to;	/* bars [from, to) */
};

struct refresh {
	struct http_client	*http;
	char			*path;
	char			*url_base;
	char			*auth;		/* "Authorization: Token …", never logged */
	char			 symbol[64];
	enum src		 src;
	struct bars		 b;
	struct chunk		*ch;
	size_t			 nch, ntail, next;
	int64_t			 keep_from;	/* older bars are dropped from the cache */
	double			 now, mono0;
	fetch_cb		 cb;
	void			*arg;
};

static void refresh_next(struct refresh *);

static void
refresh_free(struct refresh *r)
{
	bars_free(&r->b);
	free(r->ch);
	free(r->path);
	free(r->url_base);
	if (r->auth != NULL) {
		explicit_bzero(r->auth, strlen(r->auth));
		free(r->auth);
	}
	free(r);
}

/* Writes what was fetched (on success and on failure alike) and calls back. */
static void
refresh_done(struct refresh *r, int ok, const char *err, long retry)
{
	char e[600];

	bars_trim(&r->b, r->keep_from);
	if (r->b.n > 0 && r->next > 0 && bars_write_csv(r->path, &r->b) == -1) {
		snprintf(e, sizeof(e), "%s: %s", r->path, strerror(errno));
		if (ok == 0) {
			ok = -1;
			err = e;
		} else
			log_warnx("market data: %s", e);
	}
	r->cb(ok, err, retry, r->arg);
	refresh_free(r);
}

static double
refresh_now(const struct refresh *r)
{
	return r->now + (mono_s() - r->mono0);
}

/* A chunk failed: the refresh fails if it was one of the newest bars. */
static void
chunk_failed(struct refresh *r, const char *err, long retry)
{
	if (r->next <= r->ntail) {
		refresh_done(r, -1, err, retry);
		return;
	}
	log_warnx("market data: backfill of older bars stopped: %s", err);
	refresh_done(r, 0, NULL, -1);
}

/* The source's parser (marketdata.h). */
static int
src_parse(enum src src, const char *body, size_t len, long status, double now, struct bars *b,
    char *err, size_t errlen)
{
	switch (src) {
	case SRC_TIINGO:
		return tiingo_parse(body, len, status, now, b, err, errlen);
	case SRC_COINBASE:
		return coinbase_parse(body, len, status, now, b, err, errlen);
	default:
		return binance_parse(body, len, status, now, b, err, errlen);
	}
}

static void
on_chunk(const struct http_response *resp, void *arg)
{
	struct refresh *r = arg;
	const struct chunk *c = &r->ch[r->next - 1];
	struct bars add;
	char err[512];
	long wait;
	int rc;

	if (resp->curl_code != 0) {
		snprintf(err, sizeof(err), "%s: %s", src_names[r->src], resp->error);
		chunk_failed(r, err, -1);
		return;
	}
	rc = src_parse(r->src, resp->body, resp->body_len, resp->status, r->now, &add, err,
	    sizeof(err));
	if (rc == MD_QUOTA) {
		wait = pace_quota(r->src, refresh_now(r), resp->retry_after_s);
		log_warnx("market data: %s; no request to %s for %ld s", err, src_names[r->src],
		    wait);
		chunk_failed(r, err, wait);
		return;
	}
	if (rc != MD_OK) {
		chunk_failed(r, err, resp->retry_after_s);
		return;
	}
	pacing(r->src)->quota_errors = 0;
	if (r->next > r->ntail && (add.n == 0 || add.t[0] >= c->to)) {
		/* Nothing this old at the source: do not ask again. */
		log_info("market data: %s has no %s bars before %s", src_names[r->src], r->symbol,
		    iso8601((double)c->to, err, sizeof(err)));
		floor_set(r->path, c->to);
		bars_free(&add);
		refresh_done(r, 0, NULL, -1);
		return;
	}
	bars_merge(&r->b, &add);
	bars_free(&add);
	refresh_next(r);
}

static void
ymd(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

/* The URL (malloc'd) and headers of a request for the bars [from, to) of a symbol. */
static char *
chunk_request(enum src src, const char *base, const char *sym, const char *auth, int64_t from,
    int64_t to, const char *hdr[3])
{
	char a[40], b[40];

	hdr[0] = hdr[1] = hdr[2] = NULL;
	switch (src) {
	case SRC_TIINGO:
		/* Dates only; a date-only endDate means its midnight: ask for the next day. */
		ymd(from, a, sizeof(a));
		ymd(to - 3600 + 86400, b, sizeof(b));
		hdr[0] = auth;
		hdr[1] = "Content-Type: application/json";
		return xasprintf("%s/tiingo/crypto/prices?tickers=%s&startDate=%s&endDate=%s"
		    "&resampleFreq=1hour", base, sym, a, b);
	case SRC_COINBASE:
		iso8601((double)from, a, sizeof(a));
		iso8601((double)(to - 3600), b, sizeof(b));
		hdr[0] = "User-Agent: allora-workerd";
		return xasprintf("%s/products/%s/candles?granularity=3600&start=%s&end=%s", base,
		    sym, a, b);
	default:
		hdr[0] = "User-Agent: allora-workerd";
		return xasprintf("%s/api/v3/klines?symbol=%s&interval=1h&startTime=%lld000"
		    "&endTime=%lld000&limit=1000", base, sym, (long long)from,
		    (long long)(to - 3600));
	}
}

static void
refresh_next(struct refresh *r)
{
	struct http_request_opts o;
	const char *hdr[3] = { NULL, NULL, NULL };
	const struct chunk *c;
	char *url, why[256];
	long wait;

	if (r->next >= r->nch) {
		refresh_done(r, 0, NULL, -1);
		return;
	}
	if (pace_take(r->src, refresh_now(r), r->next < r->ntail, why, sizeof(why),
	    &wait) == -1) {
		if (r->next < r->ntail) {
			refresh_done(r, -1, why, wait);
			return;
		}
		log_info("market data: %zu older chunks of %s bars left for the next refresh "
		    "(%s)", r->nch - r->next, r->symbol, why);
		refresh_done(r, 0, NULL, -1);
		return;
	}
	c = &r->ch[r->next++];
	memset(&o, 0, sizeof(o));
	url = chunk_request(r->src, r->url_base, r->symbol, r->auth, c->from, c->to, hdr);
	o.url = url;
	o.headers = hdr;
	o.timeout_ms = 30000;
	log_debug("market data: GET %s", url);	/* the key is in a header, not here */
	if (http_request(r->http, &o, on_chunk, r) < 0) {
		free(url);
		chunk_failed(r, "market data: cannot start the request", -1);
		return;
	}
	free(url);
}

/* Chunks of [from, to), newest first, appended to r->ch. */
static void
add_chunks(struct refresh *r, int64_t from, int64_t to)
{
	int64_t len = chunk_h[r->src] * 3600, s;

	while (to > from) {
		s = to - len > from ? to - len : from;
		if (r->src == SRC_TIINGO)
			s -= s % 86400;		/* whole days: the request starts at midnight */
		r->ch = xrealloc(r->ch, (r->nch + 1) * sizeof(*r->ch));
		r->ch[r->nch].from = s;
		r->ch[r->nch].to = to;
		r->nch++;
		to = s;
	}
}

static char *
tiingo_key(const struct config_topic *t, char *err, size_t errlen)
{
	const char *env = getenv("TIINGO_API_KEY");
	char *k;
	size_t len, i;

	if (t->tiingo_key_file != NULL && t->tiingo_key_file[0] != '\0') {
		k = read_file(t->tiingo_key_file, 4096, &len);
		if (k == NULL) {
			snprintf(err, errlen, "tiingo_key_file %s: %s", t->tiingo_key_file,
			    strerror(errno));
			return NULL;
		}
		while (len > 0 && isspace((unsigned char)k[len - 1]))
			k[--len] = '\0';
	} else if (env != NULL && env[0] != '\0')
		k = xstrdup(env);
	else {
		snprintf(err, errlen, "no Tiingo API key (TIINGO_API_KEY or tiingo_key_file)");
		return NULL;
	}
	for (i = 0; k[i] != '\0'; i++)
		if (!isgraph((unsigned char)k[i])) {
			explicit_bzero(k, strlen(k));
			free(k);
			snprintf(err, errlen, "the Tiingo API key has a character that is not "
			    "printable");
			return NULL;
		}
	if (k[0] == '\0') {
		free(k);
		snprintf(err, errlen, "tiingo_key_file %s is empty", t->tiingo_key_file);
		return NULL;
	}
	return k;
}

int
fetch_source_known(const char *data_source)
{
	int s;

	for (s = 0; s < NSRC; s++)
		if (strcmp(data_source, src_names[s]) == 0)
			return 1;
	return 0;
}

/*
 * What every request of topic t's source needs: the source, its symbol of the ticker, the
 * base URL and (Tiingo) the Authorization header, malloc'd, to be cleared by the caller.
 */
static int
src_setup(const struct config_topic *t, enum src *src, char *sym, size_t symlen,
    char **base, char **auth, char *err, size_t errlen)
{
	static const char *const def_url[NSRC] = { "https://api.tiingo.com",
	    "https://api.exchange.coinbase.com", "https://data-api.binance.vision" };
	char *key;
	int s;

	for (s = 0; s < NSRC; s++)
		if (strcmp(t->data_source, src_names[s]) == 0)
			break;
	if (s == NSRC) {
		snprintf(err, errlen, "data_source %s cannot be fetched", t->data_source);
		return -1;
	}
	if (fetch_symbol(src_names[s], t->ticker ? t->ticker : "btcusd", sym, symlen) == -1) {
		snprintf(err, errlen, "ticker %s has no %s symbol (expected a ticker like "
		    "btcusd)", t->ticker ? t->ticker : "", src_names[s]);
		return -1;
	}
	*auth = NULL;
	if (s == SRC_TIINGO) {
		if ((key = tiingo_key(t, err, errlen)) == NULL)
			return -1;
		*auth = xasprintf("Authorization: Token %s", key);
		explicit_bzero(key, strlen(key));
		free(key);
		*base = xstrdup(t->tiingo_url && t->tiingo_url[0] ? t->tiingo_url : def_url[s]);
	} else
		*base = xstrdup(t->data_url && t->data_url[0] ? t->data_url : def_url[s]);
	*src = (enum src)s;
	return 0;
}

int
fetch_request(const struct config_topic *t, int64_t from, int64_t to, struct fetch_req *q,
    char *err, size_t errlen)
{
	enum src src;

	memset(q, 0, sizeof(*q));
	if (src_setup(t, &src, q->symbol, sizeof(q->symbol), &q->base, &q->auth, err,
	    errlen) == -1)
		return -1;
	q->src = (int)src;
	q->url = chunk_request(src, q->base, q->symbol, q->auth, from, to, q->hdr);
	return 0;
}

int
fetch_request_parse(const struct fetch_req *q, const char *body, size_t len, long status,
    double now, struct bars *b, char *err, size_t errlen)
{
	return src_parse((enum src)q->src, body, len, status, now, b, err, errlen);
}

void
fetch_request_free(struct fetch_req *q)
{
	if (q->auth != NULL) {
		explicit_bzero(q->auth, strlen(q->auth));
		free(q->auth);
	}
	free(q->base);
	free(q->url);
	memset(q, 0, sizeof(*q));
}

int
fetch_refresh(struct http_client *http, const struct config *c, const struct config_topic *t,
    double now, fetch_cb cb, void *arg, char *err, size_t errlen)
{
	struct refresh *r;
	char cerr[256], *dir, sym[64], *base, *auth;
	int64_t need, lo, hour = ((int64_t)now / 3600) * 3600, fl;
	enum src src;

	if (src_setup(t, &src, sym, sizeof(sym), &base, &auth, err, errlen) == -1)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->http = http;
	r->src = src;
	r->now = now;
	r->mono0 = mono_s();
	r->cb = cb;
	r->arg = arg;
	r->path = bar_cache_path(c, t);
	snprintf(r->symbol, sizeof(r->symbol), "%s", sym);
	r->auth = auth;
	r->url_base = base;
	dir = path_dirname(r->path);
	if (mkdir_p(dir, 0750) == -1)
		log_warn("%s", dir);
	free(dir);
	need = (int64_t)(t->train_span_hours + 2 * t->target_hours + 720) * 3600;
	lo = hour - need;
	r->keep_from = lo - 7 * 86400;
	if ((fl = floor_get(r->path)) > lo)
		lo = fl;
	if (bars_read_csv(r->path, &r->b, cerr, sizeof(cerr)) == 0 && r->b.n > 0 &&
	    r->b.t[r->b.n - 1] - 86400 > lo) {
		/* The newest bars (the last day again: the source revises it) ... */
		add_chunks(r, r->b.t[r->b.n - 1] - 86400, hour);
		r->ntail = r->nch;
		/* ... then the history still missing. */
		if (r->b.t[0] > lo + 3600)
			add_chunks(r, lo, r->b.t[0]);
	} else {
		if (r->b.n == 0 || r->b.t == NULL)
			memset(&r->b, 0, sizeof(r->b));
		add_chunks(r, lo, hour);
		r->ntail = r->nch > 0 ? 1 : 0;	/* the newest chunk is the one needed now */
	}
	refresh_next(r);
	return 0;
}

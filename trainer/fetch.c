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

#define TIINGO_CHUNK_H	(7 * 24)
#define COINBASE_CHUNK_H	300

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

struct refresh {
	struct http_client	*http;
	char			*path;
	char			*url_base;
	char			*auth;		/* "Authorization: Token …", never logged */
	char			 ticker[64];
	int			 tiingo;
	struct bars		 b;
	int64_t			 from, to;	/* next chunk start; the end (now) */
	double			 now;
	fetch_cb		 cb;
	void			*arg;
};

static void refresh_next(struct refresh *);

static void
refresh_done(struct refresh *r, int ok, const char *err, long retry)
{
	if (ok == 0 && bars_write_csv(r->path, &r->b) == -1) {
		char e[300];

		snprintf(e, sizeof(e), "%s: %s", r->path, strerror(errno));
		r->cb(-1, e, -1, r->arg);
	} else
		r->cb(ok, err, retry, r->arg);
	bars_free(&r->b);
	free(r->path);
	free(r->url_base);
	if (r->auth != NULL) {
		explicit_bzero(r->auth, strlen(r->auth));
		free(r->auth);
	}
	free(r);
}

static void
on_chunk(const struct http_response *resp, void *arg)
{
	struct refresh *r = arg;
	struct bars add;
	char err[512];
	int rc;

	if (resp->curl_code != 0) {
		snprintf(err, sizeof(err), "%s: %s", r->tiingo ? "tiingo" : "coinbase",
		    resp->error);
		refresh_done(r, -1, err, -1);
		return;
	}
	rc = r->tiingo ? tiingo_parse(resp->body, resp->body_len, resp->status, r->now, &add,
	    err, sizeof(err)) : coinbase_parse(resp->body, resp->body_len, resp->status, r->now,
	    &add, err, sizeof(err));
	if (rc != MD_OK) {
		refresh_done(r, -1, err, resp->retry_after_s);
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

static void
refresh_next(struct refresh *r)
{
	struct http_request_opts o;
	const char *hdr[3] = { NULL, NULL, NULL };
	char a[40], b[40], *url;
	int64_t end;

	if (r->from >= r->to) {
		refresh_done(r, 0, NULL, -1);
		return;
	}
	memset(&o, 0, sizeof(o));
	if (r->tiingo) {
		/* Date-only endDate means midnight: ask for the day after the chunk. */
		end = r->from + TIINGO_CHUNK_H * 3600;
		ymd(r->from, a, sizeof(a));
		ymd(end + 86400, b, sizeof(b));
		url = xasprintf("%s/tiingo/crypto/prices?tickers=%s&startDate=%s&endDate=%s"
		    "&resampleFreq=1hour", r->url_base, r->ticker, a, b);
		hdr[0] = r->auth;
		hdr[1] = "Content-Type: application/json";
	} else {
		end = r->from + (COINBASE_CHUNK_H - 1) * 3600;
		if (end > r->to)
			end = r->to;
		iso8601((double)r->from, a, sizeof(a));
		iso8601((double)end, b, sizeof(b));
		url = xasprintf("%s/products/%s/candles?granularity=3600&start=%s&end=%s",
		    r->url_base, r->ticker, a, b);
		hdr[0] = "User-Agent: allora-workerd";
	}
	r->from = end;
	o.url = url;
	o.headers = hdr;
	o.timeout_ms = 30000;
	log_debug("market data: GET %s", url);	/* the key is in a header, not here */
	if (http_request(r->http, &o, on_chunk, r) < 0) {
		free(url);
		refresh_done(r, -1, "market data: cannot start the request", -1);
		return;
	}
	free(url);
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
	return k;
}

int
fetch_refresh(struct http_client *http, const struct config *c, const struct config_topic *t,
    double now, fetch_cb cb, void *arg, char *err, size_t errlen)
{
	struct refresh *r;
	char cerr[256], *key = NULL, *dir;
	int64_t need, hour = ((int64_t)now / 3600) * 3600;
	int tiingo = strcmp(t->data_source, "tiingo") == 0;

	if (!tiingo && strcmp(t->data_source, "coinbase") != 0) {
		snprintf(err, errlen, "data_source %s cannot be fetched", t->data_source);
		return -1;
	}
	if (tiingo && (key = tiingo_key(t, err, errlen)) == NULL)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->http = http;
	r->tiingo = tiingo;
	r->now = now;
	r->cb = cb;
	r->arg = arg;
	r->path = bar_cache_path(c, t);
	if (tiingo) {
		r->auth = xasprintf("Authorization: Token %s", key);
		explicit_bzero(key, strlen(key));
		free(key);
		r->url_base = xstrdup(t->tiingo_url && t->tiingo_url[0] ? t->tiingo_url :
		    "https://api.tiingo.com");
		snprintf(r->ticker, sizeof(r->ticker), "%s", t->ticker ? t->ticker : "btcusd");
	} else {
		r->url_base = xstrdup(t->data_url && t->data_url[0] ? t->data_url :
		    "https://api.exchange.coinbase.com");
		snprintf(r->ticker, sizeof(r->ticker), "BTC-USD");
	}
	dir = path_dirname(r->path);
	if (mkdir_p(dir, 0750) == -1)
		log_warn("%s", dir);
	free(dir);
	need = (int64_t)(t->train_span_hours + 2 * t->target_hours + 720) * 3600;
	if (bars_read_csv(r->path, &r->b, cerr, sizeof(cerr)) == 0 && r->b.n > 0) {
		/* Re-fetch the last day: the source revises it. */
		r->from = r->b.t[r->b.n - 1] - 86400;
		if (r->from < hour - need)
			r->from = hour - need;
	} else {
		memset(&r->b, 0, sizeof(r->b));
		r->from = hour - need;
	}
	r->to = hour;
	refresh_next(r);
	return 0;
}

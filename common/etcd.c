/*
 * etcd v3 over the HTTP/JSON gateway (common/etcd.h).  This file owns the gateway's
 * wire details: the /v3/ paths, base64 keys and values, 64-bit numbers as strings, the
 * newline-separated objects of the watch stream, and which endpoint to try next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "etcd.h"
#include "http.h"
#include "log.h"
#include "util.h"

struct etcd_call;

struct etcd {
	struct http_client	*http;
	char			**urls;
	size_t			 n;
	size_t			 preferred;	/* the endpoint that answered last */
	char			*ca, *cert, *key;
	long			 timeout_ms;
	struct etcd_call	*calls;
	long			 next_watch;
};

struct etcd_call {
	struct etcd		*e;
	struct etcd_call	*next;
	char			*path;
	char			*body;
	size_t			 tried;
	size_t			 at;
	long			 req;		/* http request id, 0 = none */
	char			 errs[1024];
	etcd_cb			 cb;
	void			*arg;
	/* watch */
	long			 watch_id;	/* 0 = a plain call */
	char			*buf;
	size_t			 blen;
	int			 got_data;
};

static void	call_next(struct etcd_call *);

struct etcd *
etcd_new(struct event_base *base, const struct config *c, long timeout_ms)
{
	struct etcd *e = xcalloc(1, sizeof(*e));
	size_t i;

	e->http = http_client_new(base);
	e->n = c->netcd;
	e->urls = xcalloc(e->n ? e->n : 1, sizeof(*e->urls));
	for (i = 0; i < e->n; i++) {
		size_t l = strlen(c->etcd[i]);

		e->urls[i] = xstrdup(c->etcd[i]);
		while (l > 0 && e->urls[i][l - 1] == '/')
			e->urls[i][--l] = '\0';
	}
	e->ca = c->etcd_ca_file ? xstrdup(c->etcd_ca_file) : NULL;
	e->cert = c->etcd_cert_file ? xstrdup(c->etcd_cert_file) : NULL;
	e->key = c->etcd_key_file ? xstrdup(c->etcd_key_file) : NULL;
	e->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	return e;
}

static void
call_free(struct etcd_call *c)
{
	struct etcd_call **pp;

	for (pp = &c->e->calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->path);
	free(c->body);
	free(c->buf);
	free(c);
}

void
etcd_free(struct etcd *e)
{
	size_t i;

	if (e == NULL)
		return;
	http_client_free(e->http);
	while (e->calls != NULL)
		call_free(e->calls);
	for (i = 0; i < e->n; i++)
		free(e->urls[i]);
	free(e->urls);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e);
}

static void
add_err(struct etcd_call *c, const char *fmt, const char *a, const char *b)
{
	size_t l = strlen(c->errs);

	snprintf(c->errs + l, sizeof(c->errs) - l, "%s%s: %s%s", l ? "; " : "",
	    c->e->urls[c->at], a, b ? b : "");
	(void)fmt;
}

/* The gateway's error object: {"error": "...", "code": N, "message": "..."}. */
static const char *
reply_error(json_t *o)
{
	const char *m = json_string_value(json_object_get(o, "message"));

	if (m == NULL)
		m = json_string_value(json_object_get(o, "error"));
	if (m == NULL && json_is_object(json_object_get(o, "error")))
		m = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
	return m;
}

static void
call_done(const struct http_response *r, void *arg)
{
	struct etcd_call *c = arg;
	json_t *o = NULL;
	char st[32];

	c->req = 0;
	if (r->curl_code != 0) {
		add_err(c, NULL, r->error, NULL);
		call_next(c);
		return;
	}
	o = json_loadb(r->body, r->body_len, 0, NULL);
	if (r->status != 200 || !json_is_object(o) || reply_error(o) != NULL) {
		const char *m = json_is_object(o) ? reply_error(o) : NULL;

		snprintf(st, sizeof(st), "HTTP %ld", r->status);
		add_err(c, NULL, m != NULL ? m : st, m != NULL ? "" : r->status == 200 ?
		    " (not a JSON object)" : NULL);
		json_decref(o);
		call_next(c);
		return;
	}
	c->e->preferred = c->at;
	c->cb(o, NULL, c->arg);
	json_decref(o);
	call_free(c);
}

static void
call_next(struct etcd_call *c)
{
	struct etcd *e = c->e;
	struct http_request_opts o;
	char *url;

	if (c->tried >= e->n) {
		c->cb(NULL, c->errs[0] ? c->errs : "no etcd endpoint", c->arg);
		call_free(c);
		return;
	}
	c->at = (e->preferred + c->tried) % e->n;
	c->tried++;
	url = xasprintf("%s%s", e->urls[c->at], c->path);
	memset(&o, 0, sizeof(o));
	o.method = "POST";
	o.url = url;
	o.body = c->body;
	o.body_len = strlen(c->body);
	o.timeout_ms = e->timeout_ms;
	o.max_body = (size_t)8 << 20;
	o.ca_file = e->ca;
	o.cert_file = e->cert;
	o.key_file = e->key;
	c->req = http_request(e->http, &o, call_done, c);
	free(url);
	if (c->req < 0) {
		c->req = 0;
		add_err(c, NULL, "bad URL", NULL);
		call_next(c);
	}
}

int
etcd_post(struct etcd *e, const char *path, json_t *body, etcd_cb cb, void *arg)
{
	struct etcd_call *c;

	if (e->n == 0) {
		json_decref(body);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->e = e;
	c->path = xstrdup(path);
	c->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	c->cb = cb;
	c->arg = arg;
	c->next = e->calls;
	e->calls = c;
	call_next(c);
	return 0;
}

/* ---- watch: one long response, a JSON object per line ---- */

static int
watch_data(const char *data, size_t len, void *arg)
{
	struct etcd_call *c = arg;
	char *nl;
	json_t *o;

	if (c->blen + len > ((size_t)4 << 20))
		return -1;
	c->buf = xrealloc(c->buf, c->blen + len + 1);
	memcpy(c->buf + c->blen, data, len);
	c->blen += len;
	c->buf[c->blen] = '\0';
	while ((nl = memchr(c->buf, '\n', c->blen)) != NULL) {
		size_t l = (size_t)(nl - c->buf);

		o = json_loadb(c->buf, l, 0, NULL);
		memmove(c->buf, nl + 1, c->blen - l - 1);
		c->blen -= l + 1;
		c->buf[c->blen] = '\0';
		if (!json_is_object(o)) {
			json_decref(o);
			continue;
		}
		if (json_is_object(json_object_get(o, "result"))) {
			c->got_data = 1;
			c->e->preferred = c->at;
			c->cb(json_object_get(o, "result"), NULL, c->arg);
		} else if (reply_error(o) != NULL)
			add_err(c, NULL, reply_error(o), NULL);
		json_decref(o);
	}
	return 0;
}

static void
watch_done(const struct http_response *r, void *arg)
{
	struct etcd_call *c = arg;

	c->req = 0;
	if (c->blen > 0) {
		/* A last object without its newline. */
		json_t *o = json_loadb(c->buf, c->blen, 0, NULL);

		if (json_is_object(json_object_get(o, "result")))
			c->cb(json_object_get(o, "result"), NULL, c->arg);
		json_decref(o);
		c->blen = 0;
	}
	if (r->curl_code != 0)
		add_err(c, NULL, r->error, NULL);
	else if (c->errs[0] == '\0')
		add_err(c, NULL, "the watch stream ended", NULL);
	c->cb(NULL, c->errs, c->arg);
	call_free(c);
}

long
etcd_watch(struct etcd *e, const char *key, int64_t start_rev, etcd_cb cb, void *arg)
{
	struct etcd_call *c;
	struct http_request_opts o;
	json_t *req;
	char *url, *k = etcd_b64(key);

	if (e->n == 0) {
		free(k);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->e = e;
	c->watch_id = ++e->next_watch;
	c->cb = cb;
	c->arg = arg;
	req = json_pack("{s:{s:s}}", "create_request", "key", k);
	if (start_rev > 0)
		json_object_set_new(json_object_get(req, "create_request"), "start_revision",
		    etcd_num(start_rev));
	c->body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(k);
	/* A watch stays on one endpoint; the caller starts another one when it ends. */
	c->at = e->preferred % e->n;
	c->tried = e->n;
	c->path = xstrdup("/v3/watch");
	url = xasprintf("%s%s", e->urls[c->at], c->path);
	memset(&o, 0, sizeof(o));
	o.method = "POST";
	o.url = url;
	o.body = c->body;
	o.body_len = strlen(c->body);
	o.timeout_ms = 24L * 3600 * 1000;
	o.ca_file = e->ca;
	o.cert_file = e->cert;
	o.key_file = e->key;
	o.on_data = watch_data;
	c->next = e->calls;
	e->calls = c;
	c->req = http_request(e->http, &o, watch_done, c);
	free(url);
	if (c->req < 0) {
		call_free(c);
		return -1;
	}
	/* The next watch (after this one ends) tries the next endpoint. */
	e->preferred = (e->preferred + 1) % e->n;
	return c->watch_id;
}

void
etcd_watch_cancel(struct etcd *e, long id)
{
	struct etcd_call *c;

	for (c = e->calls; c != NULL; c = c->next)
		if (c->watch_id == id) {
			if (c->req > 0)
				http_cancel(e->http, c->req);
			call_free(c);
			return;
		}
}

/* ---- encodings ---- */

char *
etcd_b64(const char *s)
{
	return base64_encode(s, strlen(s));
}

char *
etcd_unb64(const char *b64)
{
	unsigned char *raw;
	size_t n;
	char *s;

	if (b64 == NULL || base64_decode(b64, strlen(b64), &raw, &n) == -1)
		return NULL;
	s = xmalloc(n + 1);
	memcpy(s, raw, n);
	s[n] = '\0';
	free(raw);
	if (strlen(s) != n) {
		free(s);
		return NULL;
	}
	return s;
}

int64_t
etcd_int(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

json_t *
etcd_num(int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return json_string(b);
}

/* ---- blocking probe ---- */

struct probe {
	int	 done;
	int	 ok;
	char	*msg;
	size_t	 len;
};

static void
probe_done(json_t *reply, const char *err, void *arg)
{
	struct probe *p = arg;

	p->done = 1;
	p->ok = reply != NULL;
	if (reply != NULL)
		snprintf(p->msg, p->len, "answers (revision %lld, quorum read ok)",
		    (long long)etcd_int(json_object_get(reply, "header"), "revision"));
	else
		snprintf(p->msg, p->len, "%s", err);
}

int
etcd_probe(const struct config *c, size_t i, char *msg, size_t msglen)
{
	struct event_base *base = event_base_new();
	struct config one;
	struct etcd *e;
	struct probe p;
	char *key, *k;

	memset(&one, 0, sizeof(one));
	one.etcd = &c->etcd[i];
	one.netcd = 1;
	one.etcd_ca_file = c->etcd_ca_file;
	one.etcd_cert_file = c->etcd_cert_file;
	one.etcd_key_file = c->etcd_key_file;
	e = etcd_new(base, &one, 3000);
	memset(&p, 0, sizeof(p));
	p.msg = msg;
	p.len = msglen;
	key = xasprintf("/%s/%s/", c->cluster_prefix, c->chain_id);
	k = etcd_b64(key);
	etcd_post(e, "/v3/kv/range", json_pack("{s:s, s:b, s:b}", "key", k, "count_only", 1,
	    "serializable", 0), probe_done, &p);
	free(k);
	free(key);
	while (!p.done)
		event_base_loop(base, EVLOOP_ONCE);
	etcd_free(e);
	event_base_free(base);
	return p.ok ? 0 : -1;
}

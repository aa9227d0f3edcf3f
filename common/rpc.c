#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "rpc.h"
#include "util.h"

struct rpc {
	struct http_client	*http;
	char			**urls;
	size_t			 n;
	size_t			 preferred;
	long			 timeout_ms;
	long			 next_id;
	size_t			 inflight;	/* calls not finished yet */
	int			 freed;		/* rpc_free() called: gone with the last call */
	size_t			 last_tried;	/* endpoints the finishing call was sent to */
};

struct call {
	struct rpc	*rpc;
	char		*body;
	size_t		 tried;
	size_t		 at;
	rpc_cb		 cb;
	void		*arg;
	char		 last_err[256];
};

struct rpc *
rpc_new(struct http_client *http, char *const *urls, size_t n, long timeout_ms)
{
	struct rpc *r = xcalloc(1, sizeof(*r));
	size_t i;

	r->http = http;
	r->n = n;
	r->urls = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		r->urls[i] = xstrdup(urls[i]);
	r->timeout_ms = timeout_ms;
	return r;
}

static void
rpc_destroy(struct rpc *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->urls[i]);
	free(r->urls);
	free(r);
}

void
rpc_free(struct rpc *r)
{
	if (r == NULL)
		return;
	r->freed = 1;
	if (r->inflight == 0)
		rpc_destroy(r);
}

size_t
rpc_last_tried(struct rpc *r)
{
	return r->last_tried;
}

const char *
rpc_endpoint(struct rpc *r)
{
	return r->urls[r->preferred];
}

static void	try_next(struct call *);

static void
finish(struct call *c, enum rpc_status st, json_t *result, const char *err)
{
	struct rpc *r = c->rpc;

	r->last_tried = c->tried;
	c->cb(st, result, err, c->arg);
	free(c->body);
	free(c);
	if (--r->inflight == 0 && r->freed)
		rpc_destroy(r);
}

static void
http_done(const struct http_response *resp, void *arg)
{
	struct call *c = arg;
	struct rpc *r = c->rpc;
	json_t *doc, *res, *err;
	json_error_t je;

	if (resp->curl_code != 0 || resp->status == 429 || resp->status >= 500) {
		if (resp->curl_code != 0)
			snprintf(c->last_err, sizeof(c->last_err), "%s: %s", r->urls[c->at],
			    resp->error);
		else
			snprintf(c->last_err, sizeof(c->last_err), "%s: HTTP %ld", r->urls[c->at],
			    resp->status);
		log_debug("rpc: %s; trying the next endpoint", c->last_err);
		try_next(c);
		return;
	}
	doc = json_loadb(resp->body, resp->body_len, 0, &je);
	if (!json_is_object(doc)) {
		snprintf(c->last_err, sizeof(c->last_err), "%s: HTTP %ld, not a JSON-RPC answer",
		    r->urls[c->at], resp->status);
		json_decref(doc);
		try_next(c);
		return;
	}
	r->preferred = c->at;
	err = json_object_get(doc, "error");
	res = json_object_get(doc, "result");
	if (err != NULL && !json_is_null(err)) {
		const char *m = json_string_value(json_object_get(err, "message"));
		const char *d = json_string_value(json_object_get(err, "data"));
		char *txt = xasprintf("%s%s%s", m ? m : "error", d ? ": " : "", d ? d : "");

		finish(c, RPC_ERROR, NULL, txt);
		free(txt);
	} else if (res == NULL) {
		finish(c, RPC_ERROR, NULL, "answer without result");
	} else
		finish(c, RPC_OK, res, NULL);
	json_decref(doc);
}

static void
try_next(struct call *c)
{
	struct rpc *r = c->rpc;
	struct http_request_opts o;

	if (c->tried >= r->n) {
		finish(c, RPC_FAIL, NULL, c->last_err[0] ? c->last_err : "no endpoint");
		return;
	}
	c->at = (r->preferred + c->tried) % r->n;
	c->tried++;
	memset(&o, 0, sizeof(o));
	o.method = "POST";
	o.url = r->urls[c->at];
	o.body = c->body;
	o.body_len = strlen(c->body);
	o.timeout_ms = r->timeout_ms;
	if (http_request(r->http, &o, http_done, c) < 0) {
		snprintf(c->last_err, sizeof(c->last_err), "%s: bad URL", r->urls[c->at]);
		try_next(c);
	}
}

int
rpc_call(struct rpc *r, const char *method, json_t *params, rpc_cb cb, void *arg)
{
	struct call *c;
	json_t *req;

	req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)++r->next_id,
	    "method", method, "params", params ? params : json_object());
	if (req == NULL || r->freed) {
		json_decref(req);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->rpc = r;
	c->body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	c->cb = cb;
	c->arg = arg;
	r->inflight++;
	try_next(c);
	return 0;
}

struct abci_call {
	rpc_abci_cb	 cb;
	void		*arg;
};

static void
abci_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct abci_call *a = arg;
	struct abci_result ar;
	json_t *resp, *h;
	const char *v, *hs;
	unsigned char *val = NULL;
	size_t vlen = 0;

	memset(&ar, 0, sizeof(ar));
	if (st != RPC_OK) {
		a->cb(st, NULL, error, a->arg);
		free(a);
		return;
	}
	resp = json_object_get(result, "response");
	if (!json_is_object(resp)) {
		a->cb(RPC_ERROR, NULL, "abci_query answer without response", a->arg);
		free(a);
		return;
	}
	ar.code = json_is_integer(json_object_get(resp, "code")) ?
	    (long)json_integer_value(json_object_get(resp, "code")) : 0;
	ar.log = json_string_value(json_object_get(resp, "log"));
	if (ar.log == NULL)
		ar.log = "";
	v = json_string_value(json_object_get(resp, "value"));
	if (v != NULL && *v != '\0' && base64_decode(v, strlen(v), &val, &vlen) == -1) {
		a->cb(RPC_ERROR, NULL, "abci_query value is not base64", a->arg);
		free(a);
		return;
	}
	ar.value = val ? val : (const uint8_t *)"";
	ar.value_len = vlen;
	h = json_object_get(resp, "height");
	hs = json_string_value(h);
	ar.height = hs ? atoll(hs) : json_is_integer(h) ? json_integer_value(h) : 0;
	a->cb(RPC_OK, &ar, NULL, a->arg);
	free(val);
	free(a);
}

int
rpc_abci_query(struct rpc *r, const char *path, const uint8_t *data, size_t len,
    rpc_abci_cb cb, void *arg)
{
	struct abci_call *a = xcalloc(1, sizeof(*a));
	char *hex = hex_encode(data, len);
	json_t *params = json_pack("{s:s, s:s, s:s, s:b}", "path", path, "data", hex, "height",
	    "0", "prove", 0);

	free(hex);
	a->cb = cb;
	a->arg = arg;
	return rpc_call(r, "abci_query", params, abci_done, a);
}

int
rpc_broadcast_tx_sync(struct rpc *r, const uint8_t *tx, size_t len, rpc_cb cb, void *arg)
{
	char *b64;
	int rc;

	if (tx == NULL || len == 0)
		return -1;
	b64 = base64_encode(tx, len);
	rc = rpc_call(r, "broadcast_tx_sync", json_pack("{s:s}", "tx", b64), cb, arg);
	free(b64);
	return rc;
}

int
rpc_tx(struct rpc *r, const uint8_t hash[32], rpc_cb cb, void *arg)
{
	char *b64 = base64_encode(hash, 32);
	int rc;

	rc = rpc_call(r, "tx", json_pack("{s:s, s:b}", "hash", b64, "prove", 0), cb, arg);
	free(b64);
	return rc;
}

int
rpc_tx_not_found(const char *error)
{
	return error != NULL && strstr(error, "not found") != NULL;
}

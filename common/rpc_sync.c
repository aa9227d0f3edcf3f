/*
 * The synchronous client of the command-line tools (rpc_sync.h): a private event loop run
 * until each answer is in, over common/http.c and common/rpc.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "http.h"
#include "rpc_sync.h"
#include "util.h"

void
sync_reset(struct sync *s)
{
	json_decref(s->result);
	free(s->error);
	free(s->log);
	free(s->value);
	s->result = NULL;
	s->error = s->log = NULL;
	s->value = NULL;
	s->value_len = 0;
	s->code = 0;
	s->done = 0;
}

static void
sync_rpc_cb(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct sync *s = arg;

	s->st = st;
	s->result = json_incref(result);
	s->error = error ? xstrdup(error) : NULL;
	s->done = 1;
	event_base_loopbreak(s->base);
}

static void
sync_abci_cb(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct sync *s = arg;

	s->st = st;
	s->error = error ? xstrdup(error) : NULL;
	if (st == RPC_OK) {
		s->code = a->code;
		s->log = xstrdup(a->log);
		s->value = xmalloc(a->value_len + 1);
		memcpy(s->value, a->value, a->value_len);
		s->value_len = a->value_len;
	}
	s->done = 1;
	event_base_loopbreak(s->base);
}

enum rpc_status
sync_wait(struct sync *s)
{
	while (!s->done)
		event_base_loop(s->base, EVLOOP_ONCE);
	return s->st;
}

enum rpc_status
sync_call(struct sync *s, const char *method, json_t *params)
{
	sync_reset(s);
	if (rpc_call(s->rpc, method, params, sync_rpc_cb, s) == -1) {
		s->st = RPC_FAIL;
		s->error = xstrdup("the request could not start");
		return s->st;
	}
	return sync_wait(s);
}

enum rpc_status
sync_abci(struct sync *s, const char *path, const uint8_t *data, size_t len)
{
	sync_reset(s);
	if (rpc_abci_query(s->rpc, path, data, len, sync_abci_cb, s) == -1) {
		s->st = RPC_FAIL;
		s->error = xstrdup("the request could not start");
		return s->st;
	}
	return sync_wait(s);
}

enum rpc_status
sync_broadcast(struct sync *s, const uint8_t *tx, size_t len)
{
	sync_reset(s);
	if (rpc_broadcast_tx_sync(s->rpc, tx, len, sync_rpc_cb, s) == -1) {
		s->st = RPC_FAIL;
		s->error = xstrdup("the request could not start");
		return s->st;
	}
	return sync_wait(s);
}

enum rpc_status
sync_tx(struct sync *s, const uint8_t hash[32])
{
	sync_reset(s);
	if (rpc_tx(s->rpc, hash, sync_rpc_cb, s) == -1) {
		s->st = RPC_FAIL;
		s->error = xstrdup("the request could not start");
		return s->st;
	}
	return sync_wait(s);
}

void
sync_init(struct sync *s, const struct config *c)
{
	memset(s, 0, sizeof(*s));
	s->base = event_base_new();
	s->http = http_client_new(s->base);
	s->rpc = rpc_new(s->http, c->rpc, c->nrpc, c->request_timeout_ms);
}

void
sync_free(struct sync *s)
{
	sync_reset(s);
	rpc_free(s->rpc);
	http_client_free(s->http);
	event_base_free(s->base);
}

int
sync_emissions_version(struct sync *s, const struct config *c, char *em, size_t emlen)
{
	if (strcmp(c->emissions, "auto") != 0) {
		snprintf(em, emlen, "%s", c->emissions);
		return 0;
	}
	if (sync_abci(s, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0) !=
	    RPC_OK)
		return -1;
	snprintf(em, emlen, "%s", s->code == 0 ? "v10" : "v9");
	return 1;
}

/* Why the last query failed, for a message. */
const char *
sync_why(const struct sync *s)
{
	if (s->st != RPC_OK)
		return s->error != NULL ? s->error : "no answer";
	if (s->code != 0)
		return s->log != NULL && *s->log != '\0' ? s->log : "refused";
	return "an answer that does not decode";
}

static void
sync_get_cb(const struct http_response *r, void *arg)
{
	struct sync_get *g = arg;

	g->curl_code = r->curl_code;
	g->status = r->status;
	g->error = xstrdup(r->error ? r->error : "");
	g->body = xmalloc(r->body_len + 1);
	memcpy(g->body, r->body, r->body_len);
	g->body[r->body_len] = '\0';
	g->body_len = r->body_len;
	g->done = 1;
	event_base_loopbreak(g->base);
}

int
sync_get(struct sync *s, const char *url, const char *const *headers, long timeout_ms,
    struct sync_get *g)
{
	struct http_request_opts o;

	memset(g, 0, sizeof(*g));
	memset(&o, 0, sizeof(o));
	g->base = s->base;
	o.url = url;
	o.headers = headers;
	o.timeout_ms = timeout_ms;
	o.max_body = (size_t)4 << 20;
	if (http_request(s->http, &o, sync_get_cb, g) < 0)
		return -1;
	while (!g->done)
		event_base_loop(s->base, EVLOOP_ONCE);
	return 0;
}

void
sync_get_free(struct sync_get *g)
{
	free(g->error);
	free(g->body);
}

/* JSON-RPC failover: a dead endpoint, one answering 500 or 429, then a good one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"
#include "rpc.h"
#include "t.h"
#include "util.h"

static struct event_base *base;
static int hits_bad, hits_good;
static enum rpc_status st;
static char res[512];

static void
bad(struct evhttp_request *req, void *arg)
{
	hits_bad++;
	evhttp_send_reply(req, (int)(long)arg, "bad", NULL);
}

static void
good(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *b = evbuffer_new();
	char body[1024];
	size_t n = evbuffer_remove(in, body, sizeof(body) - 1);

	body[n] = '\0';
	hits_good++;
	if (strstr(body, "\"tx\"") != NULL)
		evbuffer_add_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,"
		    "\"message\":\"Internal error\",\"data\":\"tx (AB) not found\"}}");
	else if (strstr(body, "abci_query") != NULL)
		evbuffer_add_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"response\":"
		    "{\"code\":0,\"log\":\"\",\"value\":\"CgcKBQjbuJQD\",\"height\":\"42\"}}}");
	else
		evbuffer_add_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"node_info\":"
		    "{\"network\":\"devnet-1\"}}}");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static struct evhttp *servers[4];
static int nservers;

static int
server(void (*cb)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp *h = evhttp_new(base);
	struct evhttp_bound_socket *s;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	servers[nservers++] = h;
	evhttp_set_gencb(h, cb, arg);
	s = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

static void
done(enum rpc_status s, json_t *result, const char *err, void *arg)
{
	char *j;

	st = s;
	if (s == RPC_OK) {
		j = json_dumps(result, JSON_COMPACT);
		snprintf(res, sizeof(res), "%s", j);
		free(j);
	} else
		snprintf(res, sizeof(res), "%s", err);
	event_base_loopexit(base, NULL);
}

static void
try(int code_or_dead, const char *method)
{
	struct http_client *cl;
	struct rpc *r;
	char u1[64], u2[64], *urls[2] = { u1, u2 };

	base = event_base_new();
	hits_bad = hits_good = 0;
	if (code_or_dead == 0)
		snprintf(u1, sizeof(u1), "http://127.0.0.1:1/");
	else
		snprintf(u1, sizeof(u1), "http://127.0.0.1:%d/", server(bad, (void *)(long)code_or_dead));
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/", server(good, NULL));
	cl = http_client_new(base);
	r = rpc_new(cl, urls, 2, 2000);
	rpc_call(r, method, NULL, done, NULL);
	event_base_dispatch(base);
	rpc_call(r, method, NULL, done, NULL);	/* the good endpoint is now preferred */
	event_base_dispatch(base);
	rpc_free(r);
	http_client_free(cl);
	while (nservers > 0)
		evhttp_free(servers[--nservers]);
	event_base_free(base);
	base = NULL;
}

T_TEST(failover_dead)
{
	try(0, "status");
	T_EQ_INT(st, RPC_OK);
	T_ASSERT(strstr(res, "devnet-1") != NULL);
	T_EQ_INT(hits_good, 2);
}

T_TEST(failover_500_and_429)
{
	try(500, "status");
	T_EQ_INT(st, RPC_OK);
	T_EQ_INT(hits_bad, 1);
	T_EQ_INT(hits_good, 2);
	try(429, "status");
	T_EQ_INT(st, RPC_OK);
	T_EQ_INT(hits_bad, 1);
}

T_TEST(jsonrpc_error_is_not_failed_over)
{
	try(0, "tx");
	T_EQ_INT(st, RPC_ERROR);
	T_ASSERT(strstr(res, "not found") != NULL);
}

static void
abci_done(enum rpc_status s, const struct abci_result *a, const char *err, void *arg)
{
	st = s;
	if (s == RPC_OK) {
		char *h = hex_encode(a->value, a->value_len);

		snprintf(res, sizeof(res), "%ld %s %lld", a->code, h, (long long)a->height);
		free(h);
	}
	event_base_loopexit(base, NULL);
}

T_TEST(abci_query_value_decoded)
{
	struct http_client *cl;
	struct rpc *r;
	char u[64], *urls[1] = { u };

	base = event_base_new();
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", server(good, NULL));
	cl = http_client_new(base);
	r = rpc_new(cl, urls, 1, 2000);
	rpc_abci_query(r, "/emissions.v9.QueryService/GetUnfulfilledWorkerNonces",
	    (const uint8_t *)"\x08\x43", 2, abci_done, NULL);
	event_base_dispatch(base);
	T_EQ_INT(st, RPC_OK);
	T_EQ_STR(res, "0 0a070a0508dbb89403 42");
	rpc_free(r);
	http_client_free(cl);
}

T_TEST(all_dead)
{
	struct http_client *cl;
	struct rpc *r;
	char *urls[2] = { "http://127.0.0.1:1/", "http://127.0.0.1:2/" };

	base = event_base_new();
	cl = http_client_new(base);
	r = rpc_new(cl, urls, 2, 1000);
	rpc_call(r, "status", NULL, done, NULL);
	event_base_dispatch(base);
	T_EQ_INT(st, RPC_FAIL);
	T_ASSERT(strstr(res, "127.0.0.1") != NULL);
	rpc_free(r);
	http_client_free(cl);
}

/* Answers every call with {"method": ..., "params": ...} of the request. */
static void
echo(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *b = evbuffer_new();
	size_t n = evbuffer_get_length(in);
	json_t *q = json_loadb((const char *)evbuffer_pullup(in, (ssize_t)n), n, 0, NULL);
	json_t *a = json_pack("{s:s, s:I, s:{s:O, s:O}}", "jsonrpc", "2.0", "id", 1,
	    "result", "method", json_object_get(q, "method"), "params",
	    json_object_get(q, "params"));
	char *out = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(a);
	evbuffer_add(b, out, strlen(out));
	evhttp_send_reply(req, 200, "OK", b);
	free(out);
	json_decref(q);
	evbuffer_free(b);
}

T_TEST(broadcast_and_tx_helpers)
{
	struct http_client *cl;
	struct rpc *r;
	char u[64], *urls[1] = { u };
	uint8_t hash[32];

	base = event_base_new();
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", server(echo, NULL));
	cl = http_client_new(base);
	r = rpc_new(cl, urls, 1, 2000);
	T_EQ_INT(rpc_broadcast_tx_sync(r, (const uint8_t *)"\x0a\x01\xff", 3, done, NULL), 0);
	event_base_dispatch(base);
	T_EQ_INT(st, RPC_OK);
	T_EQ_STR(res, "{\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"CgH/\"}}");
	T_EQ_INT(rpc_broadcast_tx_sync(r, NULL, 0, done, NULL), -1);
	memset(hash, 0xab, sizeof(hash));
	T_EQ_INT(rpc_tx(r, hash, done, NULL), 0);
	event_base_dispatch(base);
	T_EQ_INT(st, RPC_OK);
	T_EQ_STR(res, "{\"method\":\"tx\",\"params\":{\"hash\":"
	    "\"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\",\"prove\":false}}");
	T_ASSERT(rpc_tx_not_found("Internal error: tx (AB) not found"));
	T_ASSERT(!rpc_tx_not_found("Internal error: timeout"));
	T_ASSERT(!rpc_tx_not_found(NULL));
	rpc_free(r);
	http_client_free(cl);
}

static int freed_cb_runs;

static void
count_done(enum rpc_status s, json_t *result, const char *err, void *arg)
{
	freed_cb_runs++;
	st = s;
	event_base_loopexit(base, NULL);
}

/* rpc_free() with a call in flight (a configuration reload): the call still completes. */
T_TEST(free_with_call_in_flight)
{
	struct http_client *cl;
	struct rpc *r;
	char u1[64], u2[64], *urls[2] = { u1, u2 };

	base = event_base_new();
	freed_cb_runs = 0;
	snprintf(u1, sizeof(u1), "http://127.0.0.1:%d/", server(bad, (void *)500L));
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/", server(good, NULL));
	cl = http_client_new(base);
	r = rpc_new(cl, urls, 2, 2000);
	T_EQ_INT(rpc_call(r, "status", NULL, count_done, NULL), 0);
	rpc_free(r);	/* before the first endpoint answered 500 and the call moved on */
	event_base_dispatch(base);
	T_EQ_INT(freed_cb_runs, 1);
	T_EQ_INT(st, RPC_OK);
	http_client_free(cl);
}

int
main(void)
{
	T_RUN(failover_dead);
	T_RUN(failover_500_and_429);
	T_RUN(jsonrpc_error_is_not_failed_over);
	T_RUN(abci_query_value_decoded);
	T_RUN(all_dead);
	T_RUN(broadcast_and_tx_helpers);
	T_RUN(free_with_call_in_flight);
	return t_done();
}

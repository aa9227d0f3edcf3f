/*
 * The plain http:// path of common/http.h (common/http_plain.c, libevent's client) against a
 * loopback evhttp server on port 0: connections kept alive, many requests at once, the URL's
 * user information as basic authentication, the query string, Retry-After as an HTTP date,
 * the size limit at its edge, streaming and its abort.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "t.h"
#include "util.h"

static struct event_base *base;
static int port, done, want;
static struct http_response last;
static char last_body[8192], last_error[512];
static size_t streamed;

static void
serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b = evbuffer_new();
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char *addr;
	ev_uint16_t peer = 0;

	if (strcmp(uri, "/peer") == 0) {
		evhttp_connection_get_peer(c, &addr, &peer);
		evbuffer_add_printf(b, "%u", (unsigned)peer);
	} else if (strncmp(uri, "/auth", 5) == 0) {
		const char *a = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Authorization");

		evbuffer_add_printf(b, "%s|%s", a ? a : "", uri);
	} else if (strcmp(uri, "/date") == 0) {
		char d[64];
		time_t t = time(NULL) + 30;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", d);
		evhttp_send_reply(req, 503, "Busy", b);
		evbuffer_free(b);
		return;
	} else if (strncmp(uri, "/bytes/", 7) == 0) {
		int i, n = atoi(uri + 7);

		for (i = 0; i < n; i++)
			evbuffer_add(b, "y", 1);
	}
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
got(const struct http_response *r, void *arg)
{
	last = *r;
	snprintf(last_body, sizeof(last_body), "%s", r->body);
	last.body = last_body;
	snprintf(last_error, sizeof(last_error), "%s", r->error);
	last.error = last_error;
	if (++done >= want)
		event_base_loopexit(base, NULL);
}

static int
stream(const char *d, size_t n, void *arg)
{
	streamed += n;
	return arg != NULL && streamed >= 100 ? -1 : 0;
}

static void
setup(void)
{
	struct evhttp *h;
	struct evhttp_bound_socket *s;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	base = event_base_new();
	h = evhttp_new(base);
	evhttp_set_gencb(h, serve, NULL);
	s = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
}

static void
get(struct http_client *cl, const char *url, size_t max,
    int (*on_data)(const char *, size_t, void *), void *arg)
{
	struct http_request_opts o;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.timeout_ms = 3000;
	o.max_body = max;
	o.on_data = on_data;
	done = 0;
	want = 1;
	if (http_request(cl, &o, got, arg) > 0)
		event_base_dispatch(base);
}

T_TEST(keep_alive)
{
	struct http_client *cl;
	char url[96], first[32];

	setup();
	cl = http_client_new(base);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/peer", port);
	get(cl, url, 0, NULL, NULL);
	T_EQ_INT(last.status, 200);
	snprintf(first, sizeof(first), "%s", last.body);
	get(cl, url, 0, NULL, NULL);
	T_EQ_INT(last.status, 200);
	T_EQ_STR(last.body, first);	/* the same client port: the connection was kept */
	http_client_free(cl);
}

T_TEST(many_at_once)
{
	struct http_client *cl;
	struct http_request_opts o;
	char url[96];
	int i;

	setup();
	cl = http_client_new(base);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bytes/10", port);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.timeout_ms = 5000;
	done = 0;
	want = 40;
	for (i = 0; i < 40; i++)
		T_ASSERT(http_request(cl, &o, got, NULL) > 0);
	T_EQ_INT(http_pending(cl), 40);
	event_base_dispatch(base);
	T_EQ_INT(done, 40);
	T_EQ_INT(http_pending(cl), 0);
	T_EQ_INT(last.status, 200);
	T_EQ_STR(last.body, "yyyyyyyyyy");
	http_client_free(cl);
}

T_TEST(userinfo_and_query)
{
	struct http_client *cl;
	char url[128];

	setup();
	cl = http_client_new(base);
	/* user "me", password "p@ss" percent-encoded: Basic base64("me:p@ss") */
	snprintf(url, sizeof(url), "http://me:p%%40ss@127.0.0.1:%d/auth?x=1&y=2", port);
	get(cl, url, 0, NULL, NULL);
	T_EQ_INT(last.status, 200);
	T_EQ_STR(last.body, "Basic bWU6cEBzcw==|/auth?x=1&y=2");
	http_client_free(cl);
}

T_TEST(retry_after_date)
{
	struct http_client *cl;
	char url[96];

	setup();
	cl = http_client_new(base);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/date", port);
	get(cl, url, 0, NULL, NULL);
	T_EQ_INT(last.status, 503);
	T_ASSERT(last.retry_after_s >= 25 && last.retry_after_s <= 31);
	http_client_free(cl);
}

T_TEST(size_limit_edge)
{
	struct http_client *cl;
	char url[96];

	setup();
	cl = http_client_new(base);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bytes/1000", port);
	get(cl, url, 1000, NULL, NULL);
	T_EQ_INT(last.curl_code, 0);
	T_EQ_INT(last.body_len, 1000);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bytes/1001", port);
	get(cl, url, 1000, NULL, NULL);
	T_ASSERT(last.curl_code != 0);
	T_EQ_INT(last.status, 0);
	T_ASSERT(strstr(last.error, "larger than 1000 bytes") != NULL);
	/* the client goes on after a failed request */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bytes/3", port);
	get(cl, url, 1000, NULL, NULL);
	T_EQ_STR(last.body, "yyy");
	http_client_free(cl);
}

T_TEST(streaming)
{
	struct http_client *cl;
	char url[96];

	setup();
	cl = http_client_new(base);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bytes/5000", port);
	streamed = 0;
	get(cl, url, 100, stream, NULL);	/* max_body does not bound a stream */
	T_EQ_INT(last.curl_code, 0);
	T_EQ_INT(last.status, 200);
	T_EQ_INT(streamed, 5000);
	T_EQ_INT(last.body_len, 0);
	streamed = 0;
	get(cl, url, 0, stream, cl);		/* the reader stops at 100 bytes */
	T_ASSERT(last.curl_code != 0);
	T_ASSERT(strstr(last.error, "aborted") != NULL);
	T_ASSERT(streamed >= 100);
	http_client_free(cl);
}

int
main(void)
{
	T_RUN(keep_alive);
	T_RUN(many_at_once);
	T_RUN(userinfo_and_query);
	T_RUN(retry_after_date);
	T_RUN(size_limit_edge);
	T_RUN(streaming);
	return t_done();
}

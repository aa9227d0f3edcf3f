/* The async HTTP client against a loopback evhttp server on port 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "t.h"
#include "util.h"

static struct event_base *base;
static int port;
static struct http_response last;
static char last_body[4096], last_error[512];
static int done;

static void
slow_cb(evutil_socket_t fd, short ev, void *arg)
{
	evhttp_send_reply(arg, 200, "OK", NULL);
}

static void
serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b = evbuffer_new();

	if (strcmp(uri, "/ok") == 0) {
		evbuffer_add_printf(b, "{\"result\":1}");
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(uri, "/echo") == 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Authorization");

		evbuffer_add_printf(b, "%s|", auth ? auth : "");
		evbuffer_add_buffer(b, in);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(uri, "/429") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "17");
		evhttp_send_reply(req, 429, "Too Many", b);
	} else if (strcmp(uri, "/500") == 0)
		evhttp_send_reply(req, 500, "Internal", b);
	else if (strcmp(uri, "/big") == 0) {
		char chunk[1024];
		int i;

		memset(chunk, 'x', sizeof(chunk));
		for (i = 0; i < 100; i++)
			evbuffer_add(b, chunk, sizeof(chunk));
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(uri, "/slow") == 0) {
		struct timeval tv = { 2, 0 };

		event_base_once(base, -1, EV_TIMEOUT, slow_cb, req, &tv);
	} else
		evhttp_send_reply(req, 404, "Not Found", b);
	evbuffer_free(b);
}

static void
got(const struct http_response *r, void *arg)
{
	last = *r;
	snprintf(last_body, sizeof(last_body), "%s", r->body);
	last.body = last_body;
	snprintf(last_error, sizeof(last_error), "%s", r->error);	/* valid only here */
	last.error = last_error;
	done++;
	event_base_loopexit(base, NULL);
}

static void
run(const char *method, const char *path, const char *body, long timeout, size_t max,
    const char *const *hdrs)
{
	struct http_client *cl = http_client_new(base);
	struct http_request_opts o;
	char url[128];

	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	o.method = method;
	o.url = url;
	o.body = body;
	o.body_len = body ? strlen(body) : 0;
	o.timeout_ms = timeout;
	o.max_body = max;
	o.headers = hdrs;
	done = 0;
	if (http_request(cl, &o, got, NULL) > 0)
		event_base_dispatch(base);
	http_client_free(cl);
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

T_TEST(get_ok)
{
	setup();
	run("GET", "/ok", NULL, 2000, 0, NULL);
	T_EQ_INT(done, 1);
	T_EQ_INT(last.curl_code, 0);
	T_EQ_INT(last.status, 200);
	T_EQ_STR(last.body, "{\"result\":1}");
	T_EQ_INT(last.retry_after_s, -1);
}

T_TEST(post_with_headers)
{
	const char *h[] = { "Authorization: Token secret", NULL };

	setup();
	run("POST", "/echo", "{\"a\":1}", 2000, 0, h);
	T_EQ_INT(last.status, 200);
	T_EQ_STR(last.body, "Token secret|{\"a\":1}");
}

T_TEST(status_codes_and_retry_after)
{
	setup();
	run("GET", "/429", NULL, 2000, 0, NULL);
	T_EQ_INT(last.status, 429);
	T_EQ_INT(last.retry_after_s, 17);
	run("GET", "/500", NULL, 2000, 0, NULL);
	T_EQ_INT(last.status, 500);
	T_EQ_INT(last.curl_code, 0);
}

T_TEST(size_limit)
{
	setup();
	run("GET", "/big", NULL, 2000, 1000, NULL);
	T_ASSERT(last.curl_code != 0);
	T_ASSERT(strstr(last.error, "larger") != NULL);
}

T_TEST(timeout_and_refused)
{
	setup();
	run("GET", "/slow", NULL, 300, 0, NULL);
	T_ASSERT(last.curl_code != 0);
	T_EQ_INT(last.status, 0);
	T_ASSERT(last.elapsed_ms < 1500);
	port = 1;	/* nothing listens there */
	run("GET", "/ok", NULL, 1000, 0, NULL);
	T_ASSERT(last.curl_code != 0);
	T_ASSERT(last.error[0] != '\0');
}

T_TEST(cancel_and_bad_url)
{
	struct http_client *cl;
	struct http_request_opts o;
	long id;

	setup();
	cl = http_client_new(base);
	memset(&o, 0, sizeof(o));
	o.url = "ftp://x";
	T_EQ_INT(http_request(cl, &o, got, NULL), -1);
	o.url = "http://127.0.0.1:1/";
	id = http_request(cl, &o, got, NULL);
	T_ASSERT(id > 0);
	T_EQ_INT(http_pending(cl), 1);
	http_cancel(cl, id);
	T_EQ_INT(http_pending(cl), 0);
	http_client_free(cl);
}

int
main(void)
{
	T_RUN(get_ok);
	T_RUN(post_with_headers);
	T_RUN(status_codes_and_retry_after);
	T_RUN(size_limit);
	T_RUN(timeout_and_refused);
	T_RUN(cancel_and_bad_url);
	return t_done();
}

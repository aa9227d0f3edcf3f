/* Trainer: market data refresh from a loopback Tiingo server into the bar cache. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "t.h"

#include "trainer/fetch.h"
#include "trainer/marketdata.h"
#include "http.h"
#include "util.h"

static int mode;		/* 0: data, 1: quota 429, 2: quota with 200 */
static int requests, bad_auth, key_in_url;
static int done_ok = 99;
static char done_err[512];
static long done_retry;
static struct event_base *base;

static void
serve(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req), q;
	const char *auth = evhttp_find_header(h, "Authorization"), *uri =
	    evhttp_request_get_uri(req), *sd;
	struct evbuffer *out = evbuffer_new();
	struct tm tm;
	long long t0, t;
	int first = 1;

	requests++;
	if (auth == NULL || strcmp(auth, "Token testkey123") != 0)
		bad_auth++;
	if (strstr(uri, "testkey123") != NULL)
		key_in_url++;
	if (mode == 1 || mode == 2) {
		evbuffer_add_printf(out, "{\"detail\":\"Error: You have run over your hourly request "
		    "allocation.\"}");
		if (mode == 1)
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
			    "120");
		evhttp_send_reply(req, mode == 1 ? 429 : 200, "x", out);
		evbuffer_free(out);
		return;
	}
	evhttp_parse_query_str(strchr(uri, '?') ? strchr(uri, '?') + 1 : "", &q);
	sd = evhttp_find_header(&q, "startDate");
	memset(&tm, 0, sizeof(tm));
	if (sd == NULL || strptime(sd, "%Y-%m-%d", &tm) == NULL) {
		evhttp_send_reply(req, 400, "x", NULL);
		evbuffer_free(out);
		evhttp_clear_headers(&q);
		return;
	}
	evhttp_clear_headers(&q);
	t0 = (long long)timegm(&tm);
	evbuffer_add_printf(out, "[{\"ticker\":\"btcusd\",\"priceData\":[");
	/* Up to the current (partial) hour, 8 days from startDate. */
	for (t = t0; t < t0 + 8 * 86400 && t <= (long long)time(NULL); t += 3600) {
		char d[40];
		time_t tt = (time_t)t;

		strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S+00:00", gmtime(&tt));
		evbuffer_add_printf(out, "%s{\"date\":\"%s\",\"close\":%.2f,\"tradesDone\":1.0}",
		    first ? "" : ",", d, 30000 + 100 * sin((double)t / 36000));
		first = 0;
	}
	evbuffer_add_printf(out, "]}]");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void
on_done(int ok, const char *err, long retry, void *arg)
{
	done_ok = ok;
	snprintf(done_err, sizeof(done_err), "%s", err ? err : "");
	done_retry = retry;
	event_base_loopexit(base, NULL);
}

static char dir[] = "/tmp/trainer_fetch_XXXXXX";
static char url[64];

static struct http_client *
setup(struct config *c, struct config_topic *t)
{
	struct evhttp *srv;
	struct evhttp_bound_socket *s;
	evutil_socket_t fd;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (mkdtemp(dir) == NULL)
		abort();
	base = event_base_new();
	srv = evhttp_new(base);
	evhttp_set_gencb(srv, serve, NULL);
	s = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
	if (s == NULL)
		abort();
	fd = evhttp_bound_socket_get_fd(s);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	memset(c, 0, sizeof(*c));
	memset(t, 0, sizeof(*t));
	c->state_dir = dir;
	t->id = 67;
	t->ticker = "btcusd";
	t->data_source = "tiingo";
	t->tiingo_url = url;
	t->target_hours = 168;
	t->train_span_hours = 24;
	setenv("TIINGO_API_KEY", "testkey123", 1);
	return http_client_new(base);
}

T_TEST(refresh_backfills_in_chunks)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	struct bars b;
	char err[256], *path;
	long long hour = ((long long)time(NULL) / 3600) * 3600;
	int first;

	T_ASSERT(fetch_refresh(h, &c, &t, (double)time(NULL), on_done, NULL, err,
	    sizeof(err)) == 0);
	event_base_dispatch(base);
	T_EQ_INT(done_ok, 0);
	T_EQ_INT(bad_auth, 0);
	T_EQ_INT(key_in_url, 0);
	T_ASSERT(requests >= 7);	/* (24 + 336 + 720) h in 7-day chunks */
	path = bar_cache_path(&c, &t);
	T_ASSERT(bars_read_csv(path, &b, err, sizeof(err)) == 0);
	T_EQ_INT(b.gaps, 0);
	T_EQ_INT(b.t[b.n - 1], hour - 3600);	/* the current hour is partial */
	T_ASSERT(b.n >= 24 + 336 + 720);
	bars_free(&b);
	/* Again: only the tail (the last day re-fetched). */
	first = requests;
	done_ok = 99;
	T_ASSERT(fetch_refresh(h, &c, &t, (double)time(NULL), on_done, NULL, err,
	    sizeof(err)) == 0);
	event_base_dispatch(base);
	T_EQ_INT(done_ok, 0);
	T_ASSERT(requests - first <= 2);
	free(path);
}

T_TEST(refresh_quota_429)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	char err[256];

	mode = 1;
	T_ASSERT(fetch_refresh(h, &c, &t, (double)time(NULL), on_done, NULL, err,
	    sizeof(err)) == 0);
	event_base_dispatch(base);
	T_EQ_INT(done_ok, -1);
	T_ASSERT(strstr(done_err, "allocation") != NULL);
	T_EQ_INT(done_retry, 120);
}

T_TEST(refresh_quota_200)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	char err[256];

	mode = 2;
	T_ASSERT(fetch_refresh(h, &c, &t, (double)time(NULL), on_done, NULL, err,
	    sizeof(err)) == 0);
	event_base_dispatch(base);
	T_EQ_INT(done_ok, -1);
	T_ASSERT(strstr(done_err, "allocation") != NULL);
}

T_TEST(refresh_no_key)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	char err[256];

	unsetenv("TIINGO_API_KEY");
	T_ASSERT(fetch_refresh(h, &c, &t, (double)time(NULL), on_done, NULL, err,
	    sizeof(err)) == -1);
	T_ASSERT(strstr(err, "TIINGO_API_KEY") != NULL);
}

T_TEST(merge_replaces_revised_bars)
{
	struct bars a, b;
	char err[64];
	static const char x[] = "1,1\n3601,2\n7201,3\n";
	static const char y[] = "7201,30\n10801,4\n";

	T_ASSERT(bars_parse_csv(x, sizeof(x) - 1, "x", &a, err, sizeof(err)) == 0);
	T_ASSERT(bars_parse_csv(y, sizeof(y) - 1, "y", &b, err, sizeof(err)) == 0);
	bars_merge(&a, &b);
	T_EQ_INT(a.n, 4);
	T_ASSERT(a.close[2] == 30 && a.close[3] == 4);
	bars_free(&a);
	bars_free(&b);
}

int
main(void)
{
	char *cmd;
	int rc;

	T_RUN(refresh_backfills_in_chunks);
	T_RUN(refresh_quota_429);
	T_RUN(refresh_quota_200);
	T_RUN(refresh_no_key);
	T_RUN(merge_replaces_revised_bars);
	rc = t_done();
	cmd = xasprintf("rm -rf /tmp/trainer_fetch_??????");
	(void)!system(cmd);
	free(cmd);
	return rc;
}

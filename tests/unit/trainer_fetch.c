/*
 * Trainer: market data refresh from a loopback Tiingo / Binance server into the bar cache:
 * chunked backfill, pacing under Tiingo's hourly quota, Retry-After and quota bodies
 * (recorded responses from tests/data/) honoured.
 */
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
static const char *fixture;	/* serve this recorded response instead */
static int fixture_status;
static const char *fixture_retry;	/* its Retry-After, or NULL */
static int requests, bad_auth, key_in_url, binance_requests;
static char last_uri[512];
static int done_ok = 99;
static char done_err[512];
static long done_retry;
static struct event_base *base;

/* Binance klines of [startTime, endTime] (ms), complete or not, oldest first. */
static void
serve_binance(struct evhttp_request *req, const char *uri, struct evbuffer *out)
{
	struct evkeyvalq q;
	const char *st, *et, *sym;
	long long s, e, t;
	int first = 1;

	binance_requests++;
	evhttp_parse_query_str(strchr(uri, '?') + 1, &q);
	st = evhttp_find_header(&q, "startTime");
	et = evhttp_find_header(&q, "endTime");
	sym = evhttp_find_header(&q, "symbol");
	if (st == NULL || et == NULL || sym == NULL || strcmp(sym, "BTCUSDT") != 0) {
		evbuffer_add_printf(out, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
		evhttp_send_reply(req, 400, "x", out);
		evbuffer_free(out);
		evhttp_clear_headers(&q);
		return;
	}
	s = atoll(st) / 1000;
	e = atoll(et) / 1000;
	evhttp_clear_headers(&q);
	evbuffer_add_printf(out, "[");
	for (t = s - s % 3600; t <= e && t <= (long long)time(NULL) && t < s + 1000 * 3600;
	    t += 3600) {
		evbuffer_add_printf(out, "%s[%lld000,\"1\",\"2\",\"0.5\",\"%.2f\",\"3\","
		    "%lld999,\"4\",5,\"6\",\"7\",\"0\"]", first ? "" : ",", t,
		    30000 + 100 * sin((double)t / 36000), t + 3599);
		first = 0;
	}
	evbuffer_add_printf(out, "]");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

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
	snprintf(last_uri, sizeof(last_uri), "%s", uri);
	if (strstr(uri, "testkey123") != NULL)
		key_in_url++;
	if (fixture != NULL) {
		size_t len;
		char *body = read_file(fixture, 1 << 20, &len);

		if (body == NULL)
			abort();
		evbuffer_add(out, body, len);
		free(body);
		if (fixture_retry != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
			    fixture_retry);
		evhttp_send_reply(req, fixture_status, "x", out);
		evbuffer_free(out);
		return;
	}
	if (strncmp(uri, "/api/v3/klines?", 15) == 0) {
		serve_binance(req, uri, out);
		return;
	}
	if (auth == NULL || strcmp(auth, "Token testkey123") != 0)
		bad_auth++;
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
	fetch_pacing_reset();
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
	http_client_free(h);
}

/* One refresh at `now`, run to its callback. */
static int
refresh(struct http_client *h, struct config *c, struct config_topic *t, double now)
{
	char err[256];

	done_ok = 99;
	done_err[0] = '\0';
	done_retry = -2;
	if (fetch_refresh(h, c, t, now, on_done, NULL, err, sizeof(err)) == -1) {
		snprintf(done_err, sizeof(done_err), "%s", err);
		return -100;
	}
	event_base_dispatch(base);
	return done_ok;
}

T_TEST(refresh_binance)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	struct bars b;
	char err[256], *path;
	long long hour = ((long long)time(NULL) / 3600) * 3600;

	t.data_source = "binance";
	t.data_url = url;
	unsetenv("TIINGO_API_KEY");		/* keyless */
	T_EQ_INT(refresh(h, &c, &t, (double)time(NULL)), 0);
	T_EQ_INT(binance_requests, 2);		/* 1080 h in chunks of 1000 */
	T_ASSERT(strstr(last_uri, "symbol=BTCUSDT&interval=1h&startTime=") != NULL);
	T_ASSERT(strstr(last_uri, "limit=1000") != NULL);
	path = bar_cache_path(&c, &t);
	T_ASSERT(strstr(path, "/bars/binance-btcusd.csv") != NULL);
	T_ASSERT(bars_read_csv(path, &b, err, sizeof(err)) == 0);
	T_EQ_INT(b.gaps, 0);
	T_EQ_INT(b.t[b.n - 1], hour - 3600);	/* the current hour is partial */
	T_ASSERT(b.n >= 24 + 336 + 720);
	bars_free(&b);
	/* Again: only the last day. */
	T_EQ_INT(refresh(h, &c, &t, (double)time(NULL)), 0);
	T_EQ_INT(binance_requests, 3);
	/* An unknown symbol (a recorded 400). */
	fixture = "tests/data/binance/invalid_symbol.json";
	fixture_status = 400;
	T_EQ_INT(refresh(h, &c, &t, (double)time(NULL)), -1);
	T_ASSERT(strstr(done_err, "Invalid symbol") != NULL);
	free(path);
}

T_TEST(binance_ban_retry_after_honoured)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	double now = (double)time(NULL);
	int n;

	t.data_source = "binance";
	t.data_url = url;
	fixture = "tests/data/binance/banned.json";
	fixture_status = 418;
	fixture_retry = "300";
	T_EQ_INT(refresh(h, &c, &t, now), -1);
	T_EQ_INT(done_retry, 300);
	T_ASSERT(strstr(done_err, "Way too many requests") != NULL);
	n = requests;
	fixture = NULL;
	T_EQ_INT(refresh(h, &c, &t, now + 200), -1);	/* nothing is sent meanwhile */
	T_EQ_INT(requests, n);
	T_ASSERT(done_retry >= 99 && done_retry <= 101);
	T_EQ_INT(refresh(h, &c, &t, now + 301), 0);
	T_ASSERT(requests > n);
}

T_TEST(tiingo_pacing_spreads_the_backfill)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	struct bars b;
	char err[256], *path;
	double now = (double)time(NULL);
	long long hour = ((long long)now / 3600) * 3600, first;

	t.train_span_hours = 8760;	/* (8760 + 336 + 720) h: 59 chunks of 7 days */
	path = bar_cache_path(&c, &t);
	T_EQ_INT(FETCH_TIINGO_PER_HOUR, 40);	/* under the free plan's 50 an hour */
	fetch_pacing_set("tiingo", 6, 2);
	/* The newest chunk, then history until only the reserve is left. */
	T_EQ_INT(refresh(h, &c, &t, now), 0);
	T_EQ_INT(requests, 4);
	T_ASSERT(bars_read_csv(path, &b, err, sizeof(err)) == 0);
	T_EQ_INT(b.t[b.n - 1], hour - 3600);	/* the newest bars came first */
	first = b.t[0];
	T_ASSERT(first > hour - (8760 + 336 + 720) * 3600LL);
	bars_free(&b);
	/* Within the hour: the newest bars still come (from the reserve), no history. */
	T_EQ_INT(refresh(h, &c, &t, now + 60), 0);
	T_EQ_INT(requests, 5);
	T_EQ_INT(refresh(h, &c, &t, now + 120), 0);
	T_EQ_INT(requests, 6);
	/* The budget is spent: nothing is sent, the reason and when to retry are given. */
	T_EQ_INT(refresh(h, &c, &t, now + 180), -1);
	T_EQ_INT(requests, 6);
	T_ASSERT(strstr(done_err, "requests in the last hour") != NULL);
	T_ASSERT(done_retry > 3000 && done_retry <= 3600);
	/* An hour later the backfill goes on where it stopped. */
	T_EQ_INT(refresh(h, &c, &t, now + 3721), 0);
	T_EQ_INT(requests, 10);
	T_ASSERT(bars_read_csv(path, &b, err, sizeof(err)) == 0);
	T_ASSERT(b.t[0] < first);
	T_EQ_INT(b.gaps, 0);
	bars_free(&b);
	free(path);
}

T_TEST(tiingo_retry_after_and_quota_body_honoured)
{
	struct config c;
	struct config_topic t;
	struct http_client *h = setup(&c, &t);
	double now = (double)time(NULL);

	/* The recorded quota error with 429 and a Retry-After. */
	fixture = "tests/data/tiingo/quota.json";
	fixture_status = 429;
	fixture_retry = "120";
	T_EQ_INT(refresh(h, &c, &t, now), -1);
	T_EQ_INT(requests, 1);
	T_EQ_INT(done_retry, 120);
	T_ASSERT(strstr(done_err, "hourly request allocation") != NULL);
	fixture = NULL;
	T_EQ_INT(refresh(h, &c, &t, now + 60), -1);	/* held: no request */
	T_EQ_INT(requests, 1);
	T_ASSERT(strstr(done_err, "holding") != NULL);
	T_ASSERT(done_retry >= 59 && done_retry <= 61);
	T_EQ_INT(refresh(h, &c, &t, now + 121), 0);	/* then requests go out again */
	T_ASSERT(requests >= 2);
	/* The bare "Error:" body with HTTP 200 and no Retry-After: a back-off. */
	fixture = "tests/data/tiingo/quota_bare.txt";
	fixture_status = 200;
	fixture_retry = NULL;
	T_EQ_INT(refresh(h, &c, &t, now + 4000), -1);
	T_ASSERT(done_retry >= 600);
	fixture = NULL;
	requests = 0;
	T_EQ_INT(refresh(h, &c, &t, now + 4060), -1);
	T_EQ_INT(requests, 0);
}

T_TEST(symbols)
{
	char s[32];

	T_ASSERT(fetch_symbol("tiingo", "btcusd", s, sizeof(s)) == 0);
	T_EQ_STR(s, "btcusd");
	T_ASSERT(fetch_symbol("coinbase", "btcusd", s, sizeof(s)) == 0);
	T_EQ_STR(s, "BTC-USD");
	T_ASSERT(fetch_symbol("coinbase", "ethusd", s, sizeof(s)) == 0);
	T_EQ_STR(s, "ETH-USD");
	T_ASSERT(fetch_symbol("binance", "btcusd", s, sizeof(s)) == 0);
	T_EQ_STR(s, "BTCUSDT");
	T_ASSERT(fetch_symbol("binance", "ETHUSDT", s, sizeof(s)) == 0);
	T_EQ_STR(s, "ETHUSDT");
	T_ASSERT(fetch_symbol("binance", "btceur", s, sizeof(s)) == -1);
	T_ASSERT(fetch_symbol("coinbase", "usd", s, sizeof(s)) == -1);
	T_ASSERT(fetch_symbol("binance", "btc/usd", s, sizeof(s)) == -1);
	T_ASSERT(fetch_symbol("tiingo", "", s, sizeof(s)) == -1);
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
	T_RUN(refresh_binance);
	T_RUN(binance_ban_retry_after_honoured);
	T_RUN(tiingo_pacing_spreads_the_backfill);
	T_RUN(tiingo_retry_after_and_quota_body_honoured);
	T_RUN(symbols);
	T_RUN(merge_replaces_revised_bars);
	rc = t_done();
	cmd = xasprintf("rm -rf /tmp/trainer_fetch_??????");
	(void)!system(cmd);
	free(cmd);
	return rc;
}

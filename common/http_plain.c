/*
 * Plain http:// requests of common/http.h on libevent's own HTTP client (evhttp), so that a
 * process talking to a chain node or a model server over plain HTTP never loads libcurl and
 * its dependencies (bench/README.md, "Memory").  https:// stays with libcurl (common/http.c):
 * its certificate and host name checks are not redone here.
 *
 * Kept from the libcurl path: the whole-request timeout (connect, send and answer), the
 * response size limit, streaming to on_data, Retry-After (seconds or an HTTP date), basic
 * authentication from the URL's user information, the User-Agent, and connections kept
 * alive for the next request to the same host and port.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http_plain.h"
#include "util.h"

#define IDLE_MAX	8	/* idle connections kept per client */
/*
 * An idle connection is reused for this long only: a server closes idle ones after its own
 * timeout (CometBFT's: 10 s and more), and a request sent as it does would fail.
 */
#define IDLE_REUSE_S	4.0

struct hp_conn {
	struct hp_conn		*next;
	struct evhttp_connection *evcon;
	char			*host;		/* as connected: no brackets */
	int			 port;
	int			 busy;		/* 0 idle, 1 in use, 2 to close (sweep_cb) */
	double			 idle_since;	/* mono_s() */
};

struct hp_req {
	struct hp_req		*next;
	struct http_plain	*hp;
	struct hp_conn		*conn;
	struct evhttp_request	*req;		/* NULL once libevent is done with it */
	struct event		*timer;		/* whole-request timeout */
	struct event		*abort_ev;	/* on_data said stop: cancel outside libevent */
	long			 id;
	long			 timeout_ms;
	size_t			 max;
	size_t			 got;
	int			 err;		/* enum evhttp_request_error + 1, 0 = none */
	int			 aborted;
	int			 starting;	/* inside evhttp_make_request() */
	int			 early;		/* libevent ended it there */
	double			 start;
	http_cb			 cb;
	void			*arg;
	int			(*on_data)(const char *, size_t, void *);
};

struct http_plain {
	struct event_base	*base;
	struct evdns_base	*dns;		/* for host names; none for addresses */
	struct hp_conn		*conns;
	struct hp_req		*reqs;
	struct event		*sweep_ev;	/* closes dropped connections from the loop */
	size_t			 pending;
};

#define ERR_DEADLINE	100	/* r->err: the whole-request timer fired */

struct http_plain *
hp_new(struct event_base *base)
{
	struct http_plain *hp = xcalloc(1, sizeof(*hp));

	hp->base = base;
	return hp;
}

static void
conn_free(struct hp_conn *c)
{
	evhttp_connection_free(c->evcon);
	free(c->host);
	free(c);
}

static void
unlink_req(struct http_plain *hp, struct hp_req *r)
{
	struct hp_req **pp;

	for (pp = &hp->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			hp->pending--;
			return;
		}
}

static void	sweep_cb(evutil_socket_t, short, void *);

/*
 * Forgets a connection that may hold a broken state (a timeout, a failure, a cancel
 * mid-answer) or is one idle too many.  It is closed from the event loop (sweep_cb): this
 * may run inside one of its own callbacks.
 */
static void
conn_drop(struct http_plain *hp, struct hp_conn *c)
{
	c->busy = 2;
	if (hp->sweep_ev == NULL)
		hp->sweep_ev = evtimer_new(hp->base, sweep_cb, hp);
	event_active(hp->sweep_ev, EV_TIMEOUT, 0);
}

/* Back to the idle ones, or closed when enough are idle. */
static void
conn_release(struct http_plain *hp, struct hp_conn *c)
{
	struct hp_conn *o;
	int idle = 0;

	c->busy = 0;
	c->idle_since = mono_s();
	for (o = hp->conns; o != NULL; o = o->next)
		idle += o->busy == 0;
	if (idle > IDLE_MAX)
		conn_drop(hp, c);
}

static void
req_free(struct hp_req *r)
{
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->abort_ev != NULL)
		event_free(r->abort_ev);
	free(r);
}

static const char *
err_text(const struct hp_req *r, int e, char *buf, size_t len)
{
	if (e == ERR_DEADLINE) {
		snprintf(buf, len, "timed out after %ld ms", r->timeout_ms);
		return buf;
	}
	switch (e - 1) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out (no progress within the request's timeout)";
	case EVREQ_HTTP_EOF:
		return "could not connect, or the connection closed before the answer";
	case EVREQ_HTTP_INVALID_HEADER:
		return "an answer that is not valid HTTP";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "a read or write error on the connection";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "request cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		snprintf(buf, len, "response larger than %zu bytes", r->max);
		return buf;
	default:
		return "could not connect, or the connection failed";
	}
}

/* Seconds, or an IMF-fixdate (RFC 9110 §5.6.7). */
static long
retry_after(const char *v)
{
	struct tm tm;
	const char *e;
	long s;
	time_t t, now;

	if (v == NULL)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	if (parse_long(v, 0, 86400 * 7, &s) == 0)
		return s;
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL)
		return -1;
	t = timegm(&tm);
	now = time(NULL);
	return t <= 0 ? -1 : t > now ? (long)(t - now) : 0;
}

/* The request's end, once: the caller's callback, then our state. */
static void
finish(struct hp_req *r, struct evhttp_request *req)
{
	struct http_plain *hp = r->hp;
	struct http_response resp;
	struct evbuffer *in;
	char ebuf[96];
	size_t n = 0;
	char *body = NULL;

	memset(&resp, 0, sizeof(resp));
	resp.retry_after_s = -1;
	if (req != NULL && r->err == 0 && !r->aborted && evhttp_request_get_response_code(req) > 0) {
		resp.status = evhttp_request_get_response_code(req);
		resp.retry_after_s = retry_after(evhttp_find_header(
		    evhttp_request_get_input_headers(req), "Retry-After"));
		in = evhttp_request_get_input_buffer(req);
		if (r->on_data == NULL && (n = evbuffer_get_length(in)) > r->max) {
			r->err = EVREQ_HTTP_DATA_TOO_LONG + 1;
			resp.status = 0;
		} else if (r->on_data == NULL) {
			body = xmalloc(n + 1);
			evbuffer_remove(in, body, n);
			body[n] = '\0';
		}
	}
	if (resp.status == 0) {
		resp.curl_code = -1;
		resp.error = r->aborted ? "aborted by the reader" : err_text(r, r->err ? r->err :
		    EVREQ_HTTP_EOF + 1, ebuf, sizeof(ebuf));
		n = 0;
	} else
		resp.error = "";
	resp.body = body != NULL ? body : "";
	resp.body_len = n;
	resp.elapsed_ms = (mono_s() - r->start) * 1000.0;
	r->req = NULL;
	unlink_req(hp, r);
	if (r->conn != NULL) {
		if (resp.status == 0)
			conn_drop(hp, r->conn);
		else
			conn_release(hp, r->conn);
	}
	r->cb(&resp, r->arg);
	free(body);
	req_free(r);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct hp_req *r = arg;

	if (r->starting) {	/* failed inside evhttp_make_request(): hp_request says so */
		r->early = 1;
		return;
	}
	finish(r, req);
}

static void
error_cb(enum evhttp_request_error e, void *arg)
{
	struct hp_req *r = arg;

	if (r->err == 0)
		r->err = (int)e + 1;
}

static void
chunk_cb(struct evhttp_request *req, void *arg)
{
	struct hp_req *r = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);

	if (r->aborted) {
		evbuffer_drain(in, n);
		return;
	}
	while (n > 0) {
		struct evbuffer_iovec v;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		if (r->on_data(v.iov_base, v.iov_len, r->arg) == -1) {
			r->aborted = 1;
			event_active(r->abort_ev, EV_TIMEOUT, 0);
			evbuffer_drain(in, n);
			return;
		}
		evbuffer_drain(in, v.iov_len);
		n -= v.iov_len;
	}
}

/* Stop a request libevent still owns (no callback of libevent's runs during this). */
static void
stop(struct hp_req *r, int err)
{
	struct hp_conn *c = r->conn;

	if (r->req != NULL)
		evhttp_cancel_request(r->req);
	r->req = NULL;
	r->conn = NULL;
	if (err != 0)
		r->err = err;
	if (c != NULL)
		conn_drop(r->hp, c);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hp_req *r = arg;

	stop(r, ERR_DEADLINE);
	finish(r, NULL);
}

static void
abort_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hp_req *r = arg;

	if (r->req == NULL)
		return;		/* finished meanwhile */
	stop(r, 0);
	finish(r, NULL);
}

/* Closes the connections conn_drop() marked. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_plain *hp = arg;
	struct hp_conn **pp = &hp->conns, *c;

	while ((c = *pp) != NULL)
		if (c->busy == 2) {
			*pp = c->next;
			conn_free(c);
		} else
			pp = &c->next;
}

static struct hp_conn *
conn_get(struct http_plain *hp, const char *host, int port, long timeout_ms, size_t max)
{
	struct hp_conn *c;
	struct in6_addr a6;
	struct in_addr a4;
	int numeric = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;

	for (c = hp->conns; c != NULL; c = c->next)
		if (c->busy == 0 && mono_s() - c->idle_since > IDLE_REUSE_S)
			conn_drop(hp, c);
	for (c = hp->conns; c != NULL; c = c->next)
		if (c->busy == 0 && c->port == port && strcmp(c->host, host) == 0)
			break;
	if (c == NULL) {
		if (!numeric && hp->dns == NULL)
			hp->dns = evdns_base_new(hp->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (!numeric && hp->dns == NULL)
			return NULL;
		c = xcalloc(1, sizeof(*c));
		c->evcon = evhttp_connection_base_new(hp->base, numeric ? NULL : hp->dns, host,
		    (unsigned short)port);
		if (c->evcon == NULL) {
			free(c);
			return NULL;
		}
		c->host = xstrdup(host);
		c->port = port;
		c->next = hp->conns;
		hp->conns = c;
	}
	/* Per read or write; the whole request has its own timer.  The body limit: +1 so
	 * that a body of exactly max passes and finish() tells the excess. */
	evhttp_connection_set_timeout(c->evcon, (int)((timeout_ms + 999) / 1000));
	evhttp_connection_set_max_body_size(c->evcon, max == 0 ? (ev_ssize_t)-1 :
	    (ev_ssize_t)max + 1);
	c->busy = 1;
	return c;
}

/*
 * TCP_NODELAY, which libcurl sets by default: a request or its answer is never held back
 * by Nagle's algorithm waiting for the peer's delayed ACK.  The socket exists once
 * evhttp_make_request() connected (for an address at once; for a host name after the
 * lookup, so from the connection's next request on).
 */
static void
nodelay(struct hp_conn *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
hp_request(struct http_plain *hp, long id, const struct http_request_opts *o, http_cb cb,
    void *arg)
{
	struct evhttp_uri *u;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct hp_req *r;
	struct timeval tv;
	const char *host, *path, *query, *ui;
	const char *const *hd;
	char *target, *hosthdr, *bare;
	int port, rc, post = o->method != NULL && strcmp(o->method, "POST") == 0;

	if ((u = evhttp_uri_parse_with_flags(o->url, 0)) == NULL)
		return -1;
	host = evhttp_uri_get_host(u);
	if (host == NULL || *host == '\0' || evhttp_uri_get_scheme(u) == NULL ||
	    strcasecmp(evhttp_uri_get_scheme(u), "http") != 0) {
		evhttp_uri_free(u);
		return -1;
	}
	port = evhttp_uri_get_port(u);
	bare = host[0] == '[' ? xstrndup(host + 1, strcspn(host + 1, "]")) : xstrdup(host);
	hosthdr = port > 0 ? xasprintf("%s:%d", host, port) : xstrdup(host);
	if (port <= 0)
		port = 80;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	target = xasprintf("%s%s%s", path != NULL && *path != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");

	r = xcalloc(1, sizeof(*r));
	r->hp = hp;
	r->id = id;
	r->cb = cb;
	r->arg = arg;
	r->on_data = o->on_data;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	r->max = o->max_body ? o->max_body : 16u << 20;
	r->start = mono_s();
	r->conn = conn_get(hp, bare, port, r->timeout_ms, o->on_data != NULL ? 0 : r->max);
	req = r->conn != NULL ? evhttp_request_new(done_cb, r) : NULL;
	if (req == NULL) {
		if (r->conn != NULL)
			conn_drop(hp, r->conn);
		free(r);
		free(target);
		free(hosthdr);
		free(bare);
		evhttp_uri_free(u);
		return -1;
	}
	evhttp_request_set_error_cb(req, error_cb);
	/* Streaming only: libevent drains the body after a chunk callback. */
	if (o->on_data != NULL)
		evhttp_request_set_chunked_cb(req, chunk_cb);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "User-Agent", "allora-workerd/" AW_VERSION);
	evhttp_add_header(h, "Accept", "*/*");
	if ((ui = evhttp_uri_get_userinfo(u)) != NULL) {
		/* user:password from the URL, percent-decoded, as libcurl sends it. */
		char *dec = evhttp_uridecode(ui, 0, NULL), *b64, *v;

		if (dec != NULL) {
			b64 = base64_encode(dec, strlen(dec));
			v = xasprintf("Basic %s", b64);
			evhttp_add_header(h, "Authorization", v);
			secure_clear(dec, strlen(dec));
			secure_clear(b64, strlen(b64));
			secure_clear(v, strlen(v));
			free(dec);
			free(b64);
			free(v);
		}
	}
	for (hd = o->headers; hd != NULL && *hd != NULL; hd++) {
		const char *colon = strchr(*hd, ':');
		char *name;

		if (colon == NULL || colon == *hd)
			continue;
		name = xstrndup(*hd, (size_t)(colon - *hd));
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		evhttp_remove_header(h, name);
		evhttp_add_header(h, name, colon);
		free(name);
	}
	if (post) {
		char len[32];

		if (o->body != NULL && o->body_len > 0) {
			evbuffer_add(evhttp_request_get_output_buffer(req), o->body, o->body_len);
			if (o->body[0] == '{' && evhttp_find_header(h, "Content-Type") == NULL)
				evhttp_add_header(h, "Content-Type", "application/json");
		}
		if (evhttp_find_header(h, "Content-Type") == NULL)
			evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
		snprintf(len, sizeof(len), "%zu", o->body != NULL ? o->body_len : 0);
		evhttp_remove_header(h, "Content-Length");
		evhttp_add_header(h, "Content-Length", len);
	}
	r->timer = evtimer_new(hp->base, timeout_cb, r);
	r->abort_ev = evtimer_new(hp->base, abort_cb, r);
	tv.tv_sec = r->timeout_ms / 1000;
	tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
	r->req = req;
	r->next = hp->reqs;
	hp->reqs = r;
	hp->pending++;
	r->starting = 1;
	rc = evhttp_make_request(r->conn->evcon, req, post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
	    target);
	r->starting = 0;
	if (rc == 0 && !r->early)
		nodelay(r->conn);
	if (rc != 0 || r->early) {
		/* Could not start (no socket).  libevent frees req when it called done_cb,
		 * else it is ours. */
		if (!r->early)
			evhttp_request_free(req);
		r->req = NULL;
		unlink_req(hp, r);
		conn_drop(hp, r->conn);
		req_free(r);
		free(target);
		free(hosthdr);
		free(bare);
		evhttp_uri_free(u);
		return -1;
	}
	free(target);
	free(hosthdr);
	free(bare);
	evhttp_uri_free(u);
	return 0;
}

int
hp_cancel(struct http_plain *hp, long id)
{
	struct hp_req *r;

	for (r = hp->reqs; r != NULL; r = r->next)
		if (r->id == id) {
			unlink_req(hp, r);
			stop(r, 0);
			req_free(r);
			return 1;
		}
	return 0;
}

size_t
hp_pending(const struct http_plain *hp)
{
	return hp->pending;
}

void
hp_free(struct http_plain *hp)
{
	struct hp_conn *c;
	struct hp_req *r;

	if (hp == NULL)
		return;
	while ((r = hp->reqs) != NULL) {
		unlink_req(hp, r);
		stop(r, 0);
		req_free(r);
	}
	while ((c = hp->conns) != NULL) {
		hp->conns = c->next;
		conn_free(c);
	}
	if (hp->sweep_ev != NULL)
		event_free(hp->sweep_ev);
	if (hp->dns != NULL)
		evdns_base_free(hp->dns, 0);
	free(hp);
}

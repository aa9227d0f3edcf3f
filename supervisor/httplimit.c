/*
 * What a local client can make the supervisor's HTTP endpoint (metrics_listen) hold:
 * request line and headers at most HTTPLIMIT_MAX_HEADERS bytes, a body at most
 * HTTPLIMIT_MAX_BODY, HTTPLIMIT_TIMEOUT_S of silence, HTTPLIMIT_MAX_CONN connections at
 * once.  libevent 2.1's evhttp has the size limits and timeouts but no connection limit, so
 * we count: each connection's bufferevent is made here (evhttp_set_bevcb) and we hold a
 * reference to it; evhttp freeing it clears its callbacks, which a sweep notices, and our
 * reference going closes the socket.  Reading stops at a high-water mark, so that what a
 * client sends faster than evhttp takes it (a request line with no end, which evhttp keeps
 * waiting for) waits in the kernel, not in our memory; a connection stuck there is failed
 * by the sweep.
 */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "httplimit.h"
#include "log.h"

/* Bytes received and not taken by evhttp yet: a request needs at most its headers. */
#define HIGH_WATER	(2 * HTTPLIMIT_MAX_HEADERS)
#define SWEEP_MS	200

static struct {
	struct evconnlistener	*lev;
	struct event		*sweep;
	struct bufferevent	*conn[HTTPLIMIT_MAX_CONN];
	int			 open;
	int			 stopped;	/* not accepting: at the cap */
	long			 paused;	/* times the cap was reached */
} H;

static void
sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	bufferevent_event_cb ecb;
	int i;

	for (i = 0; i < HTTPLIMIT_MAX_CONN; i++) {
		struct bufferevent *b = H.conn[i];

		if (b == NULL)
			continue;
		bufferevent_getcb(b, NULL, NULL, &ecb, NULL);
		if (ecb == NULL) {
			/* evhttp is done with it: our reference was the last. */
			bufferevent_disable(b, EV_READ | EV_WRITE);
			bufferevent_decref(b);
			H.conn[i] = NULL;
			H.open--;
		} else if (evbuffer_get_length(bufferevent_get_input(b)) >= HIGH_WATER)
			/* A line longer than any request's: evhttp would wait for its end. */
			bufferevent_trigger_event(b, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
	}
	if (H.stopped && H.open < HTTPLIMIT_MAX_CONN && H.lev != NULL) {
		evconnlistener_enable(H.lev);
		H.stopped = 0;
	}
	if (H.open == 0)
		evtimer_del(H.sweep);
}

static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct timeval tv = { 0, SWEEP_MS * 1000 };
	struct bufferevent *b;
	int i;

	b = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (b == NULL)
		return NULL;
	bufferevent_setwatermark(b, EV_READ, 0, HIGH_WATER);
	for (i = 0; i < HTTPLIMIT_MAX_CONN && H.conn[i] != NULL; i++)
		;
	if (i == HTTPLIMIT_MAX_CONN)
		return b;	/* accepted in the same turn as the last one allowed */
	if (H.sweep == NULL)
		H.sweep = event_new(base, -1, EV_PERSIST, sweep_cb, NULL);
	if (H.sweep == NULL)
		return b;
	bufferevent_incref(b);
	H.conn[i] = b;
	if (H.open++ == 0)
		evtimer_add(H.sweep, &tv);
	if (H.open >= HTTPLIMIT_MAX_CONN && !H.stopped && H.lev != NULL) {
		evconnlistener_disable(H.lev);
		H.stopped = 1;
		if (H.paused++ % 100 == 0)
			log_warnx("metrics: %d connections open, the most allowed; new ones wait "
			    "(%ld times so far)", H.open, H.paused);
	}
	return b;
}

int
httplimit_apply(struct evhttp *http, struct evhttp_bound_socket *s)
{
	H.lev = evhttp_bound_socket_get_listener(s);
	if (H.lev == NULL)
		return -1;
	evhttp_set_max_headers_size(http, HTTPLIMIT_MAX_HEADERS);
	evhttp_set_max_body_size(http, HTTPLIMIT_MAX_BODY);
	evhttp_set_timeout(http, HTTPLIMIT_TIMEOUT_S);
	evhttp_set_bevcb(http, conn_new, NULL);
	return 0;
}

void
httplimit_reset(void)
{
	int i;

	/* After evhttp_free: every connection is released by evhttp already. */
	for (i = 0; i < HTTPLIMIT_MAX_CONN; i++)
		if (H.conn[i] != NULL) {
			bufferevent_disable(H.conn[i], EV_READ | EV_WRITE);
			bufferevent_decref(H.conn[i]);
			H.conn[i] = NULL;
		}
	if (H.sweep != NULL)
		event_free(H.sweep);
	H.sweep = NULL;
	H.lev = NULL;
	H.open = 0;
	H.stopped = 0;
}

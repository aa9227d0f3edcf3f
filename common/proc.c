#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "util.h"

struct peer {
	struct bufferevent	*bev;
	struct frame_decoder	 dec;
	peer_msg_fn		 on_msg;
	peer_close_fn		 on_close;
	void			*arg;
	int			 fd;
	int			 closing;
	int			 in_dispatch;
	int			 freed;
};

static void
peer_fail(struct peer *p, const char *reason)
{
	if (p->closing)
		return;
	p->closing = 1;
	bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	p->on_close(p, reason, p->arg);
}

static void
peer_readcb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char buf[8192];
	struct frame f;
	char err[200];
	size_t n;
	int r;

	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0 && n != (size_t)-1)
		frame_decoder_feed(&p->dec, buf, n);
	p->in_dispatch = 1;
	while (!p->closing && !p->freed) {
		r = frame_decoder_next(&p->dec, &f, err, sizeof(err));
		if (r == 0)
			break;
		if (r < 0) {
			p->in_dispatch = 0;
			peer_fail(p, err);
			return;
		}
		p->on_msg(p, &f, p->arg);
		frame_free(&f);
	}
	p->in_dispatch = 0;
	if (p->freed) {
		frame_decoder_free(&p->dec);
		free(p);
	}
}

static void
peer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;
	char err[200];

	if (what & BEV_EVENT_EOF) {
		if (frame_decoder_eof(&p->dec, err, sizeof(err)) == -1)
			peer_fail(p, err);
		else
			peer_fail(p, "connection closed");
	} else if (what & BEV_EVENT_ERROR) {
		snprintf(err, sizeof(err), "channel error: %s", strerror(errno));
		peer_fail(p, err);
	}
}

struct peer *
peer_new(struct event_base *base, int fd, peer_msg_fn on_msg, peer_close_fn on_close,
    void *arg)
{
	struct peer *p = xcalloc(1, sizeof(*p));

	set_nonblock(fd, 1);
	set_cloexec(fd, 1);
	p->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	p->fd = fd;
	p->on_msg = on_msg;
	p->on_close = on_close;
	p->arg = arg;
	frame_decoder_init(&p->dec);
	bufferevent_setcb(p->bev, peer_readcb, NULL, peer_eventcb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	return p;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	bufferevent_free(p->bev);
	p->bev = NULL;
	if (p->in_dispatch) {
		p->freed = 1;
		p->closing = 1;
		return;
	}
	frame_decoder_free(&p->dec);
	free(p);
}

int
peer_send(struct peer *p, uint16_t type, uint32_t topic, uint32_t seq, json_t *payload)
{
	unsigned char *buf;
	size_t len;
	int r;

	if (p == NULL || p->closing || p->freed) {
		json_decref(payload);
		return -1;
	}
	r = frame_encode(type, topic, seq, payload, &buf, &len);
	json_decref(payload);
	if (r == -1) {
		log_warnx("peer_send: %s payload cannot be encoded",
		    msg_type_name(type) ? msg_type_name(type) : "?");
		return -1;
	}
	r = bufferevent_write(p->bev, buf, len);
	free(buf);
	return r;
}

/* Reads what is left on the socket now (non-blocking) and dispatches it: the last frames
 * of a child that just exited. */
void
peer_drain(struct peer *p)
{
	unsigned char buf[8192];
	ssize_t n;

	if (p == NULL || p->closing || p->freed)
		return;
	bufferevent_disable(p->bev, EV_READ);
	while ((n = read(p->fd, buf, sizeof(buf))) > 0)
		evbuffer_add(bufferevent_get_input(p->bev), buf, (size_t)n);
	peer_readcb(p->bev, p);
}

/* Writes what is still queued, blocking (at exit). */
void
peer_flush(struct peer *p)
{
	struct evbuffer *out;
	unsigned char buf[8192];
	int n;

	if (p == NULL || p->freed)
		return;
	out = bufferevent_get_output(p->bev);
	/* A socket bufferevent keeps the front of its output frozen. */
	evbuffer_unfreeze(out, 1);
	set_nonblock(p->fd, 0);
	while ((n = evbuffer_remove(out, buf, sizeof(buf))) > 0) {
		unsigned char *q = buf;

		while (n > 0) {
			ssize_t w = write(p->fd, q, (size_t)n);

			if (w <= 0)
				return;
			q += w;
			n -= (int)w;
		}
	}
}

size_t
peer_queued(struct peer *p)
{
	return evbuffer_get_length(bufferevent_get_output(p->bev));
}

int
peer_fd(struct peer *p)
{
	return p->fd;
}

void *
peer_arg(struct peer *p)
{
	return p->arg;
}

/* ---- child side ---- */

static struct {
	struct event_base	*base;
	struct peer		*sup;
	struct child_ops	 ops;
	struct config		*conf;
	uint32_t		 seq;
	int			 ready;
	int			 shutting_down;
	struct event		*sig_term, *sig_int;
} child;

static void
child_log_sink(enum log_level lvl, const char *event, const char *msg, json_t *data,
    void *arg)
{
	json_t *o;
	char ts[40];

	if (child.sup == NULL) {
		fprintf(stderr, "%s [%s] %s %s\n", iso8601_now(ts, sizeof(ts)),
		    log_role(), log_level_name(lvl), msg);
		return;
	}
	o = json_pack("{s:s, s:s, s:s?, s:O?, s:f}", "level", log_level_name(lvl),
	    "message", msg, "event", event, "data", data, "time", wall_s());
	if (o == NULL)
		return;
	/* A message too large for a frame is cut rather than lost. */
	if (strlen(msg) > FRAME_MAX_PAYLOAD / 2) {
		char *cut = xstrndup(msg, FRAME_MAX_PAYLOAD / 2);

		json_object_set_new(o, "message", json_string(cut));
		json_object_del(o, "data");
		free(cut);
	}
	peer_send(child.sup, MSG_EVENT, 0, 0, o);
}

static void
child_close(struct peer *p, const char *reason, void *arg)
{
	peer_free(p);
	child.sup = NULL;
	log_set_sink(NULL, NULL);
	/* The supervisor is gone: nothing may outlive it. */
	event_base_loopexit(child.base, NULL);
}

/* SHUTDOWN or SIGTERM: the role's on_shutdown ends the loop when it is done (in-flight
 * work); without one the loop ends now.  The channel stays open until then. */
static void
child_begin_shutdown(void)
{
	if (child.shutting_down)
		return;
	child.shutting_down = 1;
	if (child.ops.on_shutdown != NULL)
		child.ops.on_shutdown(child.ops.arg);
	else
		event_base_loopexit(child.base, NULL);
}

static void
child_signal(evutil_socket_t sig, short ev, void *arg)
{
	child_begin_shutdown();
}

static void
child_msg(struct peer *p, struct frame *f, void *arg)
{
	struct config *c;
	char err[512];

	switch (f->type) {
	case MSG_HEARTBEAT:
		peer_send(p, MSG_HEARTBEAT_ACK, 0, f->seq, json_incref(f->payload));
		return;
	case MSG_SHUTDOWN:
		child_begin_shutdown();
		return;
	case MSG_CONFIG:
		c = config_from_json(f->payload, err, sizeof(err));
		if (c == NULL) {
			log_errorx("configuration from the supervisor refused: %s", err);
			exit(AW_EX_CONFIG);
		}
		if (json_is_true(json_object_get(f->payload, "debug")))
			log_set_debug(1);
		if (child.ops.on_config != NULL)
			child.ops.on_config(c, f->payload, child.ops.arg);
		if (child.conf != NULL)
			config_free(child.conf);
		child.conf = c;
		return;
	default:
		if (child.ops.dispatch != NULL)
			child.ops.dispatch(f, child.ops.arg);
		return;
	}
}

static void
child_atexit(void)
{
	if (child.sup != NULL)
		peer_flush(child.sup);
}

void
child_start(struct event_base *base, const struct child_ops *ops)
{
#ifdef AW_TEST_HOOKS
	const char *crash;
#endif

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		exit(0);	/* the supervisor is already gone */
	child.base = base;
	child.ops = *ops;
	log_init(ops->role, 0);
	child.sup = peer_new(base, 3, child_msg, child_close, NULL);
	atexit(child_atexit);
	child.sig_term = evsignal_new(base, SIGTERM, child_signal, NULL);
	child.sig_int = evsignal_new(base, SIGINT, child_signal, NULL);
	evsignal_add(child.sig_term, NULL);
	evsignal_add(child.sig_int, NULL);
	log_set_sink(child_log_sink, NULL);
	peer_send(child.sup, MSG_HELLO, 0, 0, json_pack("{s:s, s:I, s:s, s:i}",
	    "role", ops->role, "pid", (json_int_t)getpid(), "version", AW_VERSION,
	    "protocol", AW_PROTOCOL_VERSION));
#ifdef AW_TEST_HOOKS
	/* Test hook (test builds only, README "Test builds"): AW_TEST_CRASH=<role>[:<status>]
	 * makes that role exit at once. */
	crash = getenv("AW_TEST_CRASH");
	if (crash != NULL && strncmp(crash, ops->role, strlen(ops->role)) == 0 &&
	    (crash[strlen(ops->role)] == '\0' || crash[strlen(ops->role)] == ':')) {
		int code = crash[strlen(ops->role)] == ':' ? atoi(crash + strlen(ops->role) + 1) : 1;

		fprintf(stderr, "%s: AW_TEST_CRASH set, exiting with %d\n", ops->role, code);
		_exit(code);
	}
#endif
}

int
child_send(uint16_t type, uint32_t topic, uint32_t seq, json_t *payload)
{
	if (seq == 0)
		seq = ++child.seq;
	return peer_send(child.sup, type, topic, seq, payload);
}

void
child_ready(json_t *info)
{
	child.ready = 1;
	peer_send(child.sup, MSG_READY, 0, 0, info != NULL ? info : json_object());
}

const struct config *
child_config(void)
{
	return child.conf;
}

struct event_base *
child_base(void)
{
	return child.base;
}

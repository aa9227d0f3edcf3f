/*
 * A websocket client on libevent bufferevents, framing by wslay, TLS (wss://) through
 * libevent_openssl.  Text messages go to a callback; the connection's end (error, close,
 * EOF) to another.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "log.h"
#include "util.h"
#include "ws.h"

#define WS_MAX_MSG	(4u << 20)
#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct evdns_base	*dns;
	SSL_CTX			*ssl_ctx;
	wslay_event_context_ptr	 ctx;
	char			*host;
	char			*path;
	int			 port;
	int			 tls;
	int			 upgraded;
	int			 v6;		/* host is an IPv6 literal (bracketed in Host) */
	char			 accept[64];
	ws_msg_fn		 on_msg;
	ws_close_fn		 on_close;
	void			*arg;
	int			 closed;
	int			 connecting;	/* inside ws_connect: no on_close */
	struct timeval		 timeout;
};

/*
 * SHA-1 of the handshake (RFC 6455 §4.1, Sec-WebSocket-Accept) with OpenSSL's low-level
 * functions: the one-shot SHA1() of OpenSSL 3 goes through the provider machinery, whose
 * first use costs the listener about 2 MB of memory (bench/README.md, "Memory").  They are
 * deprecated, not removed, in OpenSSL 3.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void
ws_sha1(const char *s, size_t len, unsigned char out[20])
{
	SHA_CTX c;

	SHA1_Init(&c);
	SHA1_Update(&c, s, len);
	SHA1_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}
#pragma GCC diagnostic pop

static void
ws_fail(struct ws *w, const char *why)
{
	if (w->closed)
		return;
	w->closed = 1;
	if (w->bev != NULL)
		bufferevent_disable(w->bev, EV_READ | EV_WRITE);
	if (w->connecting)
		return;		/* ws_connect frees it and returns NULL */
	w->on_close(w, why, w->arg);
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	struct ws *w = ud;
	struct evbuffer *in = bufferevent_get_input(w->bev);
	int n = evbuffer_remove(in, buf, len);

	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct ws *w = ud;

	if (bufferevent_write(w->bev, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
	if (getrandom(buf, len, 0) != (ssize_t)len)
		return -1;
	return 0;
}

static void
msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *ud)
{
	struct ws *w = ud;

	if (a->opcode == WSLAY_TEXT_FRAME || a->opcode == WSLAY_BINARY_FRAME)
		w->on_msg(w, (const char *)a->msg, a->msg_length, w->arg);
}

static void
pump(struct ws *w)
{
	if (w->closed)
		return;
	if (wslay_event_recv(w->ctx) != 0) {
		ws_fail(w, "websocket protocol error");
		return;
	}
	if (w->closed)
		return;
	if (wslay_event_send(w->ctx) != 0) {
		ws_fail(w, "websocket send error");
		return;
	}
	if (!wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx))
		ws_fail(w, "websocket closed by the server");
}

static int
handshake(struct ws *w)
{
	struct evbuffer *in = bufferevent_get_input(w->bev);
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char *hdr, *line, *save = NULL;
	int status = 0, ok_accept = 0;

	if (p.pos < 0) {
		if (evbuffer_get_length(in) > 16384) {
			ws_fail(w, "websocket handshake: response headers too long");
			return -1;
		}
		return 0;
	}
	hdr = xmalloc((size_t)p.pos + 1);
	evbuffer_remove(in, hdr, (size_t)p.pos);
	hdr[p.pos] = '\0';
	evbuffer_drain(in, 4);
	for (line = strtok_r(hdr, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
		if (status == 0) {
			if (sscanf(line, "HTTP/1.%*d %d", &status) != 1)
				status = -1;
			continue;
		}
		if (strncasecmp(line, "Sec-WebSocket-Accept:", 21) == 0) {
			char *v = line + 21;

			while (isspace((unsigned char)*v))
				v++;
			ok_accept = strcmp(v, w->accept) == 0;
		}
	}
	free(hdr);
	if (status != 101 || !ok_accept) {
		char why[96];

		snprintf(why, sizeof(why), "websocket handshake refused (HTTP status %d%s)", status,
		    status == 101 ? ", bad accept key" : "");
		ws_fail(w, why);
		return -1;
	}
	w->upgraded = 1;
	/* Upgraded: silence is the owner's watchdog's business; writes still time out. */
	bufferevent_set_timeouts(w->bev, NULL, &w->timeout);
	return 1;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct ws *w = arg;

	if (!w->upgraded) {
		if (handshake(w) <= 0)
			return;
		w->on_msg(w, NULL, 0, w->arg);	/* connected */
		if (w->closed)
			return;
	}
	pump(w);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ws *w = arg;
	char why[256];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		uint8_t key[16];
		char *k64, *req, buf[128];
		unsigned char sha[20];

		if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
			ws_fail(w, "getrandom failed");
			return;
		}
		k64 = base64_encode(key, sizeof(key));
		snprintf(buf, sizeof(buf), "%s%s", k64, WS_GUID);
		ws_sha1(buf, strlen(buf), sha);
		{
			char *acc = base64_encode(sha, 20);

			snprintf(w->accept, sizeof(w->accept), "%s", acc);
			free(acc);
		}
		req = xasprintf("GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		    "User-Agent: allora-workerd/" AW_VERSION "\r\n\r\n", w->path, w->v6 ? "[" : "",
		    w->host, w->v6 ? "]" : "", w->port, k64);
		bufferevent_write(bev, req, strlen(req));
		free(req);
		free(k64);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		ws_fail(w, "the server closed the connection");
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		e = w->tls ? bufferevent_get_openssl_error(bev) : 0;
		if (e != 0)
			snprintf(why, sizeof(why), "TLS: %s", ERR_reason_error_string(e));
		else if (what & BEV_EVENT_TIMEOUT)
			snprintf(why, sizeof(why), "timeout");
		else
			snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		ws_fail(w, why);
	}
}

static int
parse_url(struct ws *w, const char *url)
{
	const char *p, *slash, *colon;

	if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
		w->port = 80;
	} else if (strncmp(url, "wss://", 6) == 0) {
		p = url + 6;
		w->tls = 1;
		w->port = 443;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
		w->port = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		w->tls = 1;
		w->port = 443;
	} else
		return -1;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	/* An IPv6 literal: [addr] or [addr]:port; the brackets stay in the Host header only. */
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));

		if (rb == NULL || rb == p + 1 || (rb + 1 != slash && rb[1] != ':'))
			return -1;
		w->host = xstrndup(p + 1, (size_t)(rb - p - 1));
		w->v6 = 1;
		p = rb + 1;
		if (*p != ':') {
			w->path = xstrdup(*slash ? slash : "/");
			return 0;
		}
	}
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon != NULL) {
		long port;
		char *ps = xstrndup(colon + 1, (size_t)(slash - colon - 1));

		if (parse_long(ps, 1, 65535, &port) == -1) {
			free(ps);
			return -1;
		}
		free(ps);
		w->port = (int)port;
		if (w->host == NULL)
			w->host = xstrndup(p, (size_t)(colon - p));
	} else
		w->host = xstrndup(p, (size_t)(slash - p));
	w->path = xstrdup(*slash ? slash : "/");
	return w->host[0] ? 0 : -1;
}

struct ws *
ws_connect(struct event_base *base, const char *url, long timeout_ms, ws_msg_fn on_msg,
    ws_close_fn on_close, void *arg)
{
	struct wslay_event_callbacks cbs = { recv_cb, send_cb, genmask_cb, NULL, NULL, NULL,
	    msg_cb };
	struct ws *w = xcalloc(1, sizeof(*w));
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	w->base = base;
	w->on_msg = on_msg;
	w->on_close = on_close;
	w->arg = arg;
	if (parse_url(w, url) == -1) {
		free(w->host);
		free(w->path);
		free(w);
		return NULL;
	}
	w->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (w->tls) {
		SSL *ssl;

		w->ssl_ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_default_verify_paths(w->ssl_ctx);
		SSL_CTX_set_verify(w->ssl_ctx, SSL_VERIFY_PEER, NULL);
		ssl = SSL_new(w->ssl_ctx);
		SSL_set_tlsext_host_name(ssl, w->host);
		SSL_set1_host(ssl, w->host);
		w->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE);
	} else
		w->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	wslay_event_context_client_init(&w->ctx, &cbs, w);
	wslay_event_config_set_max_recv_msg_length(w->ctx, WS_MAX_MSG);
	bufferevent_setcb(w->bev, read_cb, NULL, event_cb, w);
	/* Until the upgrade, a server that says nothing is a timeout. */
	w->timeout = tv;
	bufferevent_set_timeouts(w->bev, &w->timeout, &w->timeout);
	bufferevent_enable(w->bev, EV_READ | EV_WRITE);
	/* A failure the resolver reports at once must not reach on_close as well. */
	w->connecting = 1;
	if (bufferevent_socket_connect_hostname(w->bev, w->dns, AF_UNSPEC, w->host,
	    w->port) != 0 || w->closed) {
		ws_free(w);
		return NULL;
	}
	w->connecting = 0;
	return w;
}

int
ws_send_text(struct ws *w, const char *text)
{
	struct wslay_event_msg m;

	if (w->closed || !w->upgraded)
		return -1;
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)text;
	m.msg_length = strlen(text);
	if (wslay_event_queue_msg(w->ctx, &m) != 0)
		return -1;
	return wslay_event_send(w->ctx) == 0 ? 0 : -1;
}

void
ws_free(struct ws *w)
{
	if (w == NULL)
		return;
	if (w->bev != NULL)
		bufferevent_free(w->bev);
	if (w->ctx != NULL)
		wslay_event_context_free(w->ctx);
	if (w->dns != NULL)
		evdns_base_free(w->dns, 0);
	if (w->ssl_ctx != NULL)
		SSL_CTX_free(w->ssl_ctx);
	free(w->host);
	free(w->path);
	free(w);
}

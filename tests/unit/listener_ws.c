/* The websocket client against small loopback servers: a good one, hostile ones, a mute one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "listener/ws.h"
#include "t.h"
#include "util.h"

enum mode { GOOD, BAD_ACCEPT, HTTP_500, HUGE_FRAME, MUTE };

static struct event_base *base;
static enum mode mode;
static int port, nmsg, connected, closed_n;
static char got[256], why[256], server_got[256], server_host[128];

static void
srv_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p;
	char *hdr, *k, *e, key[128], buf[256], *acc;
	unsigned char sha[20];
	size_t n;

	if (arg != NULL) {	/* upgraded: a masked client frame (the subscribe text) */
		unsigned char f[512];
		size_t len, i;

		n = evbuffer_get_length(in);
		if (n < 6)
			return;
		evbuffer_copyout(in, f, n < sizeof(f) ? n : sizeof(f));
		len = f[1] & 0x7f;
		if (len > 125 || n < 6 + len)
			return;
		for (i = 0; i < len && i < sizeof(server_got) - 1; i++)
			server_got[i] = (char)(f[6 + i] ^ f[2 + i % 4]);
		server_got[i] = '\0';
		evbuffer_drain(in, 6 + len);
		/* Close (1000) after the echo of what we got. */
		bufferevent_write(bev, "\x88\x02\x03\xe8", 4);
		return;
	}
	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos < 0)
		return;
	if (mode == MUTE) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	n = (size_t)p.pos + 4;
	hdr = xmalloc(n + 1);
	evbuffer_remove(in, hdr, n);
	hdr[n] = '\0';
	key[0] = '\0';
	if ((k = strstr(hdr, "Host: ")) != NULL && (e = strstr(k, "\r\n")) != NULL)
		snprintf(server_host, sizeof(server_host), "%.*s", (int)(e - k - 6), k + 6);
	if ((k = strstr(hdr, "Sec-WebSocket-Key: ")) != NULL && (e = strstr(k, "\r\n")) != NULL)
		snprintf(key, sizeof(key), "%.*s", (int)(e - k - 19), k + 19);
	free(hdr);
	if (mode == HTTP_500) {
		bufferevent_write(bev, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 40);
		return;
	}
	snprintf(buf, sizeof(buf), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((unsigned char *)buf, strlen(buf), sha);
	if (mode == BAD_ACCEPT)
		sha[0] ^= 1;
	acc = base64_encode(sha, 20);
	snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	free(acc);
	bufferevent_write(bev, buf, strlen(buf));
	if (mode == HUGE_FRAME) {
		/* A text frame claiming 2^62 bytes. */
		bufferevent_write(bev, "\x81\x7f\x40\x00\x00\x00\x00\x00\x00\x00xx", 12);
		return;
	}
	bufferevent_write(bev, "\x81\x05hello", 7);
	bufferevent_setcb(bev, srv_read, NULL, NULL, (void *)1);
}

static struct bufferevent *srv_bev[8];
static int nsrv_bev;

static void
srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

	if (nsrv_bev < 8)
		srv_bev[nsrv_bev++] = bev;	/* freed at the end of run() */

	bufferevent_setcb(bev, srv_read, NULL, NULL, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
on_msg(struct ws *w, const char *msg, size_t len, void *arg)
{
	if (msg == NULL) {
		connected++;
		ws_send_text(w, "{\"method\":\"subscribe\"}");
		return;
	}
	nmsg++;
	snprintf(got, sizeof(got), "%.*s", (int)len, msg);
}

static void
on_close(struct ws *w, const char *reason, void *arg)
{
	closed_n++;
	snprintf(why, sizeof(why), "%s", reason);
	event_base_loopexit(base, NULL);
}

static void
run(enum mode m, long timeout_ms)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct evconnlistener *l;
	struct timeval limit = { 5, 0 };
	struct ws *w;
	char url[64];

	base = event_base_new();
	mode = m;
	nmsg = connected = closed_n = 0;
	got[0] = why[0] = server_got[0] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(base, srv_accept, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE, -1, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/websocket", port);
	w = ws_connect(base, url, timeout_ms, on_msg, on_close, NULL);
	if (w == NULL)
		return;
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ws_free(w);
	evconnlistener_free(l);
	while (nsrv_bev > 0)
		bufferevent_free(srv_bev[--nsrv_bev]);
	event_base_free(base);
}

T_TEST(good_server)
{
	run(GOOD, 2000);
	T_EQ_INT(connected, 1);
	T_EQ_INT(nmsg, 1);
	T_EQ_STR(got, "hello");
	T_EQ_STR(server_got, "{\"method\":\"subscribe\"}");
	T_EQ_INT(closed_n, 1);
}

T_TEST(bad_accept_key)
{
	run(BAD_ACCEPT, 2000);
	T_EQ_INT(connected, 0);
	T_EQ_INT(closed_n, 1);
	T_ASSERT(strstr(why, "bad accept key") != NULL);
}

T_TEST(http_500)
{
	run(HTTP_500, 2000);
	T_EQ_INT(connected, 0);
	T_EQ_INT(closed_n, 1);
	T_ASSERT(strstr(why, "500") != NULL);
}

T_TEST(huge_frame_refused)
{
	run(HUGE_FRAME, 2000);
	T_EQ_INT(connected, 1);
	T_EQ_INT(nmsg, 0);
	T_EQ_INT(closed_n, 1);
}

T_TEST(mute_server_times_out)
{
	run(MUTE, 300);
	T_EQ_INT(connected, 0);
	T_EQ_INT(closed_n, 1);
	T_ASSERT(strstr(why, "timeout") != NULL);
}

/* An IPv6 literal: connects to the address, keeps the brackets in the Host header only. */
T_TEST(ipv6_literal)
{
	struct sockaddr_in6 sin6;
	socklen_t sl = sizeof(sin6);
	struct evconnlistener *l;
	struct timeval limit = { 5, 0 };
	struct ws *w;
	char url[80], host[64];

	base = event_base_new();
	mode = GOOD;
	nmsg = connected = closed_n = 0;
	got[0] = why[0] = server_got[0] = server_host[0] = '\0';
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	l = evconnlistener_new_bind(base, srv_accept, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE, -1, (struct sockaddr *)&sin6, sizeof(sin6));
	if (l == NULL) {
		printf("# skipped: no IPv6 loopback on this machine\n");
		event_base_free(base);
		return;
	}
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin6, &sl);
	snprintf(url, sizeof(url), "ws://[::1]:%d/websocket", ntohs(sin6.sin6_port));
	snprintf(host, sizeof(host), "[::1]:%d", ntohs(sin6.sin6_port));
	w = ws_connect(base, url, 2000, on_msg, on_close, NULL);
	T_ASSERT(w != NULL);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ws_free(w);
	evconnlistener_free(l);
	while (nsrv_bev > 0)
		bufferevent_free(srv_bev[--nsrv_bev]);
	event_base_free(base);
	T_EQ_INT(connected, 1);
	T_EQ_STR(server_host, host);
	T_EQ_STR(got, "hello");
}

T_TEST(bad_urls)
{
	base = event_base_new();
	T_ASSERT(ws_connect(base, "ftp://x/", 100, on_msg, on_close, NULL) == NULL);
	T_ASSERT(ws_connect(base, "ws://", 100, on_msg, on_close, NULL) == NULL);
	T_ASSERT(ws_connect(base, "ws://h:99999/", 100, on_msg, on_close, NULL) == NULL);
	T_ASSERT(ws_connect(base, "ws://[::1/", 100, on_msg, on_close, NULL) == NULL);
	T_ASSERT(ws_connect(base, "ws://[]:80/", 100, on_msg, on_close, NULL) == NULL);
	T_ASSERT(ws_connect(base, "ws://[::1]x/", 100, on_msg, on_close, NULL) == NULL);
	event_base_free(base);
}

int
main(void)
{
	T_RUN(good_server);
	T_RUN(bad_accept_key);
	T_RUN(http_500);
	T_RUN(huge_frame_refused);
	T_RUN(mute_server_times_out);
	T_RUN(ipv6_literal);
	T_RUN(bad_urls);
	return t_done();
}

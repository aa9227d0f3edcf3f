/*
 * The devnet's /websocket: the upgrade, wslay framing, subscribe/unsubscribe, and each
 * block's NewBlockEvents to the subscribers, with the --drop-ws-every, --ws-one-block and
 * --malformed-rate faults.  The blocks themselves are devchain.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "devnet_int.h"
#include "util.h"

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	struct wsconn *c = ud;
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);

	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct wsconn *c = ud;

	bufferevent_write(c->bev, data, len);
	return (ssize_t)len;
}

static void
ws_text(struct wsconn *c, const char *text)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text) };

	if (c->dead)
		return;
	wslay_event_queue_msg(c->ctx, &m);
	wslay_event_send(c->ctx);
}

static void
ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *ud)
{
	struct wsconn *c = ud;
	json_t *req, *id;
	json_error_t je;
	const char *method;
	char *ids, *reply;

	if (a->opcode != WSLAY_TEXT_FRAME)
		return;
	req = json_loadb((const char *)a->msg, a->msg_length, 0, &je);
	method = json_string_value(json_object_get(req, "method"));
	id = json_object_get(req, "id");
	ids = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("null");
	if (method != NULL && strcmp(method, "subscribe") == 0) {
		free(c->sub_id);
		free(c->query);
		c->sub_id = xstrdup(ids);
		c->query = xstrdup(json_string_value(json_object_get(json_object_get(req, "params"),
		    "query")) ?: "");
		c->subscribed = 1;
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids);
	} else if (method != NULL && strcmp(method, "unsubscribe") == 0) {
		c->subscribed = 0;
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids);
	} else
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}", ids);
	ws_text(c, reply);
	free(reply);
	free(ids);
	json_decref(req);
}

static void
ws_drop(struct wsconn *c)
{
	c->dead = 1;
}

static void
ws_read_cb(struct bufferevent *bev, void *arg)
{
	struct wsconn *c = arg;

	if (c->dead)
		return;
	if (wslay_event_recv(c->ctx) != 0 || wslay_event_send(c->ctx) != 0 ||
	    (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx)))
		ws_drop(c);
}

static void
ws_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ws_drop(arg);
}

void
ws_upgrade(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *key = evhttp_find_header(h, "Sec-WebSocket-Key");
	struct wslay_event_callbacks cbs = { ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL,
	    ws_msg_cb };
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	unsigned char sha[20];
	char buf[128], *acc, *resp;
	struct wsconn *c;

	if (key == NULL || strlen(key) > 64) {
		evhttp_send_error(req, 400, "websocket key missing");
		return;
	}
	snprintf(buf, sizeof(buf), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((unsigned char *)buf, strlen(buf), sha);
	acc = base64_encode(sha, 20);
	c = xcalloc(1, sizeof(*c));
	c->evcon = evcon;
	c->bev = evhttp_connection_get_bufferevent(evcon);
	/* Take the connection over from evhttp: the request is never answered by it. */
	bufferevent_setcb(c->bev, ws_read_cb, NULL, ws_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	wslay_event_context_server_init(&c->ctx, &cbs, c);
	resp = xasprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	bufferevent_write(c->bev, resp, strlen(resp));
	free(resp);
	free(acc);
	c->next = D.ws;
	D.ws = c;
}

void
ws_reap(int all)
{
	struct wsconn **pp = &D.ws, *c;

	while ((c = *pp) != NULL) {
		if (c->dead || all) {
			*pp = c->next;
			wslay_event_context_free(c->ctx);
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
			evhttp_connection_free(c->evcon);
			free(c->sub_id);
			free(c->query);
			free(c);
		} else
			pp = &c->next;
	}
}

/* The block's events to every subscriber (make_block). */
void
ws_block(json_t *events)
{
	struct wsconn *c;
	char hs[32];

	if (D.drop_ws_every > 0 && wall_s() - D.last_drop >= D.drop_ws_every) {
		D.last_drop = wall_s();
		for (c = D.ws; c != NULL; c = c->next)
			c->dead = 1;
	}
	ws_reap(0);
	snprintf(hs, sizeof(hs), "%" PRId64, D.height);
	for (c = D.ws; c != NULL; c = c->next) {
		json_t *frame;
		char *s;

		if (!c->subscribed)
			continue;
		if (D.malformed_rate > 0 && rnd() < D.malformed_rate)
			ws_text(c, rnd() < 0.5 ? "{\"jsonrpc\":\"2.0\",\"result\":{\"data\":{\"value\":"
			    "{\"events\":[{\"type\":\"emissions.v9.EventWorkerSubmissionWindowOpened\","
			    "\"attributes\":[{\"key\":\"topic_id\",\"value\":12}]}]}}}}" :
			    "\x01garbage{{{not json");
		frame = json_pack("{s:s, s:o, s:{s:s, s:{s:s, s:{s:s, s:s, s:O}}, s:{s:[s]}}}",
		    "jsonrpc", "2.0", "id", json_loads(c->sub_id, JSON_DECODE_ANY, NULL),
		    "result", "query", c->query, "data", "type", "tendermint/event/NewBlockEvents",
		    "value", "height", hs, "num_txs", "0", "events", events, "events", "tm.event",
		    "NewBlockEvents");
		s = json_dumps(frame, JSON_COMPACT);
		ws_text(c, s);
		free(s);
		json_decref(frame);
		if (D.ws_one_block)
			c->dead = 1;	/* reaped, closed, at the next block */
	}
}

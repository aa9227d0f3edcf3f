/*
 * The listener's part of `alloractl check` (common/preflight.h): each RPC endpoint answers
 * and serves the configured chain id; the websocket endpoint upgrades and accepts the
 * listener's own subscription (events.h), tried with the listener's own client (ws.c) on a
 * private event loop; the emissions version.
 */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "events.h"
#include "preflight.h"
#include "rpc.h"
#include "rpc_sync.h"
#include "util.h"
#include "ws.h"

struct probe {
	struct event_base	*base;
	int			 upgraded;
	int			 done;		/* 1 accepted, -1 failed */
	char			*err;
	size_t			 errlen;
	long			 timeout_ms;
};

static void
probe_end(struct probe *p, int result)
{
	if (p->done == 0)
		p->done = result;
	event_base_loopbreak(p->base);
}

static void
probe_msg(struct ws *w, const char *msg, size_t len, void *arg)
{
	struct probe *p = arg;
	json_t *o, *e;

	if (msg == NULL) {
		p->upgraded = 1;
		if (ws_send_text(w, EVENTS_SUBSCRIBE_REQUEST) == -1) {
			snprintf(p->err, p->errlen, "upgraded, but the subscription could not be sent");
			probe_end(p, -1);
		}
		return;
	}
	o = json_loadb(msg, len, 0, NULL);
	if (o == NULL || !json_is_string(json_object_get(o, "id")) ||
	    strcmp(json_string_value(json_object_get(o, "id")), EVENTS_SUBSCRIBE_ID) != 0) {
		json_decref(o);		/* not the answer (an event, say): wait on */
		return;
	}
	if ((e = json_object_get(o, "error")) != NULL) {
		snprintf(p->err, p->errlen, "the subscription was refused: %s%s%s",
		    json_string_value(json_object_get(e, "message")) ?: "an error",
		    json_is_string(json_object_get(e, "data")) ? ": " : "",
		    json_string_value(json_object_get(e, "data")) ?: "");
		probe_end(p, -1);
	} else if (json_object_get(o, "result") != NULL)
		probe_end(p, 1);
	json_decref(o);
}

static void
probe_closed(struct ws *w, const char *why, void *arg)
{
	struct probe *p = arg;

	if (p->done != 0)
		return;
	if (p->upgraded)
		snprintf(p->err, p->errlen, "the connection ended before the subscription was "
		    "answered: %s", why);
	else if (strncmp(why, "websocket handshake", 19) == 0 ||
	    strcmp(why, "the server closed the connection") == 0)
		snprintf(p->err, p->errlen, "not a websocket: %s", why);
	else if (strcmp(why, "timeout") == 0)
		snprintf(p->err, p->errlen, "no answer to the upgrade request within %ld ms",
		    p->timeout_ms);
	else
		snprintf(p->err, p->errlen, "cannot connect: %s", why);
	probe_end(p, -1);
}

static void
probe_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct probe *p = arg;

	snprintf(p->err, p->errlen, "%s within %ld ms", p->upgraded ?
	    "upgraded, but no answer to the subscription" : "no answer to the upgrade request",
	    p->timeout_ms);
	probe_end(p, -1);
}

int
listener_preflight_ws(const char *url, long timeout_ms, char *err, size_t errlen)
{
	struct probe p;
	struct ws *w;
	struct event *tmo;
	struct timeval tv;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = errlen;
	p.timeout_ms = timeout_ms;
	if (url == NULL || (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0)) {
		snprintf(err, errlen, "not a ws:// or wss:// URL");
		return -1;
	}
	p.base = event_base_new();
	w = ws_connect(p.base, url, timeout_ms, probe_msg, probe_closed, &p);
	if (w == NULL) {
		snprintf(err, errlen, "not a ws:// or wss:// URL the client can use");
		event_base_free(p.base);
		return -1;
	}
	/* The upgrade and the subscription's answer, each bounded by timeout_ms. */
	tv.tv_sec = 2 * timeout_ms / 1000;
	tv.tv_usec = (2 * timeout_ms % 1000) * 1000;
	tmo = evtimer_new(p.base, probe_timeout, &p);
	evtimer_add(tmo, &tv);
	while (p.done == 0)
		event_base_loop(p.base, EVLOOP_ONCE);
	event_free(tmo);
	ws_free(w);
	event_base_free(p.base);
	return p.done == 1 ? 0 : -1;
}

int
listener_preflight(struct sync *s, const struct config *c, char *em, size_t emlen)
{
	char err[512];
	size_t i, nup = 0, nbad_id = 0;
	int chain, r;

	/* RPC endpoints, one by one, and the chain id each serves. */
	for (i = 0; i < c->nrpc; i++) {
		struct rpc *one = rpc_new(s->http, &c->rpc[i], 1, c->request_timeout_ms);
		struct rpc *saved = s->rpc;
		const char *net, *h;

		s->rpc = one;
		if (sync_call(s, "status", NULL) != RPC_OK) {
			const char *why = sync_why(s);

			/* The transport's errors name the endpoint already. */
			if (strncmp(why, c->rpc[i], strlen(c->rpc[i])) == 0)
				preflight_line("rpc", c->nrpc == 1 ? L_ERR : L_WARN, "unreachable: %s",
				    why);
			else
				preflight_line("rpc", c->nrpc == 1 ? L_ERR : L_WARN,
				    "%s unreachable: %s", c->rpc[i], why);
		} else {
			nup++;
			net = json_string_value(json_object_get(json_object_get(s->result,
			    "node_info"), "network"));
			h = json_string_value(json_object_get(json_object_get(s->result,
			    "sync_info"), "latest_block_height"));
			preflight_line("rpc", L_OK, "%s answers, height %s", c->rpc[i], h ? h : "?");
			if (net == NULL || strcmp(net, c->chain_id) != 0) {
				preflight_line("chain id", L_ERR, "%s serves chain \"%s\", the "
				    "configuration says \"%s\"", c->rpc[i], net ? net : "?",
				    c->chain_id);
				nbad_id++;
			}
		}
		s->rpc = saved;
		rpc_free(one);
	}
	if (nup == 0 && c->nrpc > 1)
		preflight_line("rpc", L_ERR, "none of the %zu endpoints answers", c->nrpc);
	if (nup > 0 && nbad_id == 0)
		preflight_line("chain id", L_OK, "%s", c->chain_id);
	chain = nup > 0;

	if (listener_preflight_ws(c->websocket, c->request_timeout_ms, err, sizeof(err)) == -1)
		preflight_line("websocket", L_ERR, "%s: %s (the daemon would find windows by "
		    "polling only)", c->websocket, err);
	else
		preflight_line("websocket", L_OK, "%s accepts the upgrade and the subscription",
		    c->websocket);

	if (!chain) {
		preflight_line("chain", L_SKIP, "emissions, balances, topics, registration, "
		    "whitelist: no RPC endpoint answers");
		return 0;
	}
	r = sync_emissions_version(s, c, em, emlen);
	if (r == -1) {
		preflight_line("emissions", L_ERR, "cannot ask the chain: %s", sync_why(s));
		return 0;
	}
	preflight_line("emissions", L_OK, "%s (%s)", em, r ? "detected" : "configured");
	return 1;
}

/*
 * Owns the daemon's health answers (INTERFACES.md, "Health endpoints"), served on
 * metrics_listen next to /metrics:
 *  GET /healthz  200 while the supervisor's loop runs (it answers) and every child is
 *                running, starting or restarting within its restart policy; 503 when one is
 *                failed (crash loop, exit status 78) or the daemon is shutting down.
 *  GET /readyz   200 when ready to submit: every child ready (running), the chain heard
 *                from within ws_silence_s (2 polling intervals while the listener's websocket
 *                is down), no topic failed; else 503.  A standby host of a cluster (one
 *                that leads none or only some of its wallets) is ready: 200, "ok", with
 *                cluster_ready_reasons() (supervisor/cluster.c) naming the wallets it stands
 *                by for.
 * Body of both: {"status": "ok"|"fail", "reasons": [str, ...]} (reasons empty when ok and
 * no wallet stands by).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "cluster.h"
#include "health.h"
#include "sup.h"
#include "util.h"

static int64_t	chain_ms;	/* mono: the listener's last chain contact, 0 = never */
static int	chain_ws_up;

void
health_child_state(const struct child *c, const json_t *payload)
{
	json_t *v;

	if (c->role != ROLE_LISTENER || !json_is_object(payload))
		return;
	if (json_is_string(json_object_get(payload, "chain_contact"))) {
		chain_ms = mono_ms();
		v = json_object_get(payload, "ws_up");
		chain_ws_up = json_is_true(v);
	}
}

static void
add(json_t *reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(json_t *reasons, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(reasons, json_string(buf));
}

static json_t *
answer(json_t *reasons, int *ok)
{
	*ok = json_array_size(reasons) == 0;
	return json_pack("{s:s, s:o}", "status", *ok ? "ok" : "fail", "reasons", reasons);
}

static void
live_reasons(json_t *reasons)
{
	int i;

	if (sup->stopping)
		add(reasons, "shutting down");
	for (i = 0; i < NROLES; i++) {
		const struct child *c = &sup->children[i];

		if (c->state == CHILD_FAILED)
			add(reasons, "%s failed: %s", child_role_name(c->role),
			    c->reason != NULL ? c->reason : "no reason given");
	}
}

json_t *
health_live(int *ok)
{
	json_t *reasons = json_array();

	live_reasons(reasons);
	return answer(reasons, ok);
}

json_t *
health_ready(int *ok)
{
	json_t *reasons = json_array(), *standby, *o;
	const struct config *conf = sup->conf;
	long limit_s;
	size_t i;
	int r;

	live_reasons(reasons);
	for (r = 0; r < NROLES; r++) {
		const struct child *c = &sup->children[r];

		if (c->state == CHILD_STARTING)
			add(reasons, "%s is starting", child_role_name(c->role));
		else if (c->state == CHILD_BACKOFF)
			add(reasons, "%s is restarting (in %ld ms after: %s)",
			    child_role_name(c->role), c->backoff_ms,
			    c->reason != NULL ? c->reason : "a death");
		else if (c->state == CHILD_STOPPED && !sup->stopping)
			add(reasons, "%s is stopped", child_role_name(c->role));
	}
	limit_s = conf->ws_silence_s;
	if (!chain_ws_up && 2 * conf->polling_interval > limit_s)
		limit_s = 2 * conf->polling_interval;
	if (chain_ms == 0)
		add(reasons, "the chain has not answered yet (%s)", conf->nrpc > 0 ?
		    conf->rpc[0] : "no rpc");
	else if (mono_ms() - chain_ms > limit_s * 1000)
		add(reasons, "the chain has not answered for %.0f s (limit %ld s: ws_silence_s, "
		    "or 2 polling intervals without the websocket)",
		    (double)(mono_ms() - chain_ms) / 1000.0, limit_s);
	for (i = 0; i < sup->ntopics; i++) {
		const struct topic_rt *t = &sup->topics[i];

		if (strcmp(topic_state(t), "failed") == 0)
			add(reasons, "topic %u failed%s%s", t->id, t->reason != NULL ? ": " : "",
			    t->reason != NULL ? t->reason : "");
	}
	/* Standing by is no failure: the reasons say so, the status stays what it was. */
	o = answer(reasons, ok);
	json_array_extend(reasons, standby = cluster_ready_reasons());
	json_decref(standby);
	return o;
}

static void
reply(struct evhttp_request *req, json_t *(*fn)(int *))
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char *text;
	json_t *o;
	int ok;

	o = fn(&ok);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	evbuffer_add_printf(b, "%s\n", text != NULL ? text : "{}");
	free(text);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, ok ? HTTP_OK : 503, ok ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
}

static void
on_healthz(struct evhttp_request *req, void *arg)
{
	reply(req, health_live);
}

static void
on_readyz(struct evhttp_request *req, void *arg)
{
	reply(req, health_ready);
}

void
health_register(struct evhttp *http)
{
	evhttp_set_cb(http, "/healthz", on_healthz, NULL);
	evhttp_set_cb(http, "/readyz", on_readyz, NULL);
}

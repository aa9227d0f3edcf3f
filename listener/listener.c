/*
 * The listener: learns that a worker window is open, from the CometBFT websocket
 * (NewBlockEvents, one subscription for every topic, filtered here) and from polling the
 * emissions queries every polling_interval and on every (re)connect.  Exactly one
 * WINDOW_OPEN per (topic, nonce) goes to the supervisor, with the source that saw it first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "config.h"
#include "epochs.h"
#include "confirm.h"
#include "events.h"
#include "forecasts.h"
#include "frame.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "query.pb-c.h"
#include "roles.h"
#include "rpc.h"
#include "scores.h"
#include "util.h"
#include "ws.h"

#define SEEN_MAX	4096
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	30000

static struct {
	struct event_base	*base;
	const struct config	*conf;
	struct http_client	*http;
	struct rpc		*rpc;
	struct ws		*ws;
	int			 ws_up;
	char			 emissions[8];
	int			 started;
	int			 chain_checked;
	struct event		*poll_ev;
	struct event		*tick_ev;
	struct event		*reconnect_ev;
	long			 backoff_ms;
	double			 last_event;	/* mono: last NewBlockEvents frame */
	double			 connected_at;
	long			 bad_frames;
	struct { uint32_t topic; int64_t nonce; } seen[SEEN_MAX];
	size_t			 nseen, seen_next;
	long			 reported;
	char			**ws_urls;	/* the websocket, or one per RPC endpoint */
	size_t			 nws, ws_at;
	int64_t			 ws_height;	/* last block height seen on the websocket */
	double			 ws_height_at;	/* mono, when it was seen */
	double			 block_ms;	/* estimated block interval, 0 = unknown */
	long			 ws_gen;	/* counts connections */
	int			 silence_asking;
	double			 chain_sent;	/* mono: last chain-contact CHILD_STATE */
} L;

static void	start_watching(void);
static void	ws_epoch(uint32_t topic, int64_t nonce, int64_t hint);

/*
 * The chain answered (a block on the websocket, or an RPC reply): tells the supervisor, at
 * most once a second, for its readiness (supervisor/health.c).
 */
static void
chain_contact(const char *via)
{
	double now = mono_s();

	if (L.chain_sent > 0 && now - L.chain_sent < 1.0)
		return;
	L.chain_sent = now;
	child_send(MSG_CHILD_STATE, 0, 0, json_pack("{s:s, s:b, s:I}", "chain_contact", via,
	    "ws_up", L.ws_up, "ws_height", (json_int_t)L.ws_height));
}

/* The websocket of an RPC endpoint: ws(s)://host[:port][/path]/websocket. */
static char *
ws_of_rpc(const char *r)
{
	size_t n = strlen(r);

	while (n > 0 && r[n - 1] == '/')
		n--;
	if (strncmp(r, "https://", 8) == 0)
		return xasprintf("wss://%.*s/websocket", (int)(n - 8), r + 8);
	if (strncmp(r, "http://", 7) == 0)
		return xasprintf("ws://%.*s/websocket", (int)(n - 7), r + 7);
	return xstrdup(r);
}

/*
 * A websocket configured explicitly is the only one.  One derived from the first RPC
 * endpoint fails over like the RPC: the next endpoint's websocket after a failed connection.
 */
static void
set_ws_urls(const struct config *c)
{
	char *first;
	size_t i;

	for (i = 0; i < L.nws; i++)
		free(L.ws_urls[i]);
	free(L.ws_urls);
	L.ws_urls = NULL;
	L.nws = L.ws_at = 0;
	if (c->websocket == NULL)
		return;
	first = c->nrpc > 0 ? ws_of_rpc(c->rpc[0]) : NULL;
	if (first != NULL && strcmp(first, c->websocket) == 0 && c->nrpc > 1) {
		L.ws_urls = xcalloc(c->nrpc, sizeof(char *));
		for (i = 0; i < c->nrpc; i++)
			L.ws_urls[i] = ws_of_rpc(c->rpc[i]);
		L.nws = c->nrpc;
	} else {
		L.ws_urls = xcalloc(1, sizeof(char *));
		L.ws_urls[0] = xstrdup(c->websocket);
		L.nws = 1;
	}
	free(first);
}

static const char *
ws_url(void)
{
	return L.nws > 0 ? L.ws_urls[L.ws_at % L.nws] : "(none)";
}
static void	ws_start(void);

static int
serve_topic(uint32_t topic)
{
	return config_topic(L.conf, topic) != NULL;
}

/* close_at: the window's close time (wall seconds) when the chain gives one, else 0. */
static void
report(uint32_t topic, int64_t nonce, int64_t end, const char *source, double close_at)
{
	json_t *fr, *ev;
	char cs[40];
	size_t i;

	if (!serve_topic(topic) || nonce <= 0)
		return;
	if (end <= nonce)
		end = -1;	/* unknown rather than nonsense (a node's answer is untrusted) */
	for (i = 0; i < L.nseen; i++)
		if (L.seen[i].topic == topic && L.seen[i].nonce == nonce)
			return;
	L.seen[L.seen_next].topic = topic;
	L.seen[L.seen_next].nonce = nonce;
	L.seen_next = (L.seen_next + 1) % SEEN_MAX;
	if (L.nseen < SEEN_MAX)
		L.nseen++;
	L.reported++;
	/* height and block_ms let the supervisor keep the prediction inside the window. */
	fr = json_pack("{s:I, s:I, s:o, s:s, s:I, s:i, s:s}",
	    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "window_end", end > 0 ?
	    json_integer(end) : json_null(), "source", source, "height",
	    (json_int_t)L.ws_height, "block_ms", (int)L.block_ms, "confirm",
	    strcmp(source, "ws") == 0 ? "pending" : "open");
	/* The websocket is believed as far as the chain's query agrees (confirm.c). */
	if (strcmp(source, "ws") == 0)
		confirm_window(topic, nonce);
	ev = json_pack("{s:I, s:I, s:o, s:s}", "topic",
	    (json_int_t)topic, "nonce", (json_int_t)nonce, "window_end", end > 0 ? json_integer(end) :
	    json_null(), "source", source);
	if (close_at > 0) {
		/* wall-clock windows (issue 21): window_end is derived from the close time */
		json_object_set_new(fr, "close_at", json_string(iso8601(close_at, cs, sizeof(cs))));
		json_object_set_new(ev, "close_at", json_string(cs));
		json_object_set_new(ev, "windows", json_string("wallclock"));
	}
	child_send(MSG_WINDOW_OPEN, topic, 0, fr);
	log_event(LOG_LVL_INFO, "window_open", ev, "Submission window opened (nonce=%lld)",
	    (long long)nonce);
}

/* ---- polling ---- */

struct pollq {
	uint32_t	 topic;
};

static void
nonces_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct pollq *q = arg;
	Awq__GetUnfulfilledWorkerNoncesResponse *r;
	int64_t newest = -1;
	size_t i;

	if (st == RPC_OK)
		chain_contact("rpc");
	if (st == RPC_OK && a->code == 0 &&
	    (r = awq__get_unfulfilled_worker_nonces_response__unpack(NULL, a->value_len,
	    a->value)) != NULL) {
		if (r->nonces != NULL)
			for (i = 0; i < r->nonces->n_nonces; i++)
				if (r->nonces->nonces[i]->block_height > newest)
					newest = r->nonces->nonces[i]->block_height;
		awq__get_unfulfilled_worker_nonces_response__free_unpacked(r, NULL);
		/* Without a window status, only the newest unfulfilled nonce can be open. */
		if (newest > 0)
			report(q->topic, newest, -1, "poll", 0);
	} else if (st != RPC_OK)
		log_debug("poll of topic %u: %s", q->topic, error);
	free(q);
}

static void
status_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct pollq *q = arg;
	Awq__GetWorkerSubmissionWindowStatusResponse *r;
	Awq__TopicIdRequest req = AWQ__TOPIC_ID_REQUEST__INIT;
	uint8_t buf[16];
	char path[96];
	size_t n;

	if (st == RPC_OK)
		chain_contact("rpc");
	if (st == RPC_OK && a->code == 0) {
		r = awq__get_worker_submission_window_status_response__unpack(NULL, a->value_len,
		    a->value);
		if (r != NULL) {
			if (r->is_open && r->current_nonce_block_height > 0)
				report(q->topic, r->current_nonce_block_height, r->window_end_block,
				    "poll", 0);
			awq__get_worker_submission_window_status_response__free_unpacked(r, NULL);
			free(q);
			return;
		}
	}
	if (st != RPC_OK) {
		log_debug("window status of topic %u: %s", q->topic, error);
		free(q);
		return;
	}
	/* No window status on this chain: the unfulfilled nonces. */
	req.topic_id = q->topic;
	n = awq__topic_id_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetUnfulfilledWorkerNonces",
	    L.emissions);
	rpc_abci_query(L.rpc, path, buf, n, nonces_done, q);
}

static void
status_query(uint32_t topic)
{
	Awq__TopicIdRequest req = AWQ__TOPIC_ID_REQUEST__INIT;
	struct pollq *q = xcalloc(1, sizeof(*q));
	uint8_t buf[16];
	char path[96];
	size_t n;

	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetWorkerSubmissionWindowStatus",
	    L.emissions);
	q->topic = topic;
	req.topic_id = topic;
	n = awq__topic_id_request__pack(&req, buf);
	rpc_abci_query(L.rpc, path, buf, n, status_done, q);
}

/* ---- wall-clock windows (epochs.c) ---- */

struct xcheck {
	uint32_t	 topic;
	int64_t		 nonce;
};

/* The status query cross-checks what GetTopicEpochs said (a warning, once a window). */
static void
xcheck_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct xcheck *x = arg;
	Awq__GetWorkerSubmissionWindowStatusResponse *r;
	static int64_t warned;

	if (st == RPC_OK && a->code == 0 && (r =
	    awq__get_worker_submission_window_status_response__unpack(NULL, a->value_len,
	    a->value)) != NULL) {
		if ((!r->is_open || r->current_nonce_block_height != x->nonce) && warned != x->nonce) {
			warned = x->nonce;
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:b, s:I}",
			    "topic", (json_int_t)x->topic, "nonce", (json_int_t)x->nonce, "reason",
			    "window_status_disagrees", "status_open", r->is_open, "status_nonce",
			    (json_int_t)r->current_nonce_block_height), "topic %u: GetTopicEpochs has "
			    "window %lld open, the window status says %s %lld; following the epochs",
			    x->topic, (long long)x->nonce, r->is_open ? "open" : "closed",
			    (long long)r->current_nonce_block_height);
		}
		awq__get_worker_submission_window_status_response__free_unpacked(r, NULL);
	}
	free(x);
}

static void
epoch_report(const struct epoch_window *w, uint32_t topic, const char *source)
{
	int64_t end;
	Awq__TopicIdRequest req = AWQ__TOPIC_ID_REQUEST__INIT;
	struct xcheck *x;
	uint8_t buf[16];
	char path[96];
	size_t n;

	/* The newest block we saw is the anchor; else the window's first block. */
	if (L.ws_height > 0)
		end = epochs_last_height(L.ws_height, wall_s() - (mono_s() - L.ws_height_at),
		    w->close_at, L.block_ms);
	else
		end = epochs_last_height(w->nonce, w->open_at, w->close_at, L.block_ms);
	report(topic, w->nonce, end > w->nonce ? end : -1, source, w->close_at);
	x = xcalloc(1, sizeof(*x));
	x->topic = topic;
	x->nonce = w->nonce;
	req.topic_id = topic;
	n = awq__topic_id_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetWorkerSubmissionWindowStatus",
	    L.emissions);
	rpc_abci_query(L.rpc, path, buf, n, xcheck_done, x);
}

static void
poll_epochs_cb(int found, const struct epoch_window *w, uint32_t topic, void *arg)
{
	if (found == 1)
		epoch_report(w, topic, "poll");
	else if (found == -1)
		status_query(topic);	/* no epochs here (or no answer): block-height windows */
}

struct wsq {
	int64_t		 nonce, hint;
};

static void
ws_epochs_cb(int found, const struct epoch_window *w, uint32_t topic, void *arg)
{
	struct wsq *q = arg;

	if (found == 1)
		epoch_report(w, topic, "ws");
	else
		report(topic, q->nonce, q->hint, "ws", 0);
	free(q);
}

static void
ws_epoch(uint32_t topic, int64_t nonce, int64_t hint)
{
	struct wsq *q;

	if (!serve_topic(topic))
		return;
	q = xcalloc(1, sizeof(*q));
	q->nonce = nonce;
	q->hint = hint;
	epochs_query(L.rpc, L.emissions, topic, nonce, ws_epochs_cb, q);
}

static void
poll_now(void)
{
	size_t i;

	if (!L.started)
		return;
	scores_poll(L.ws_height);
	for (i = 0; i < L.conf->ntopics; i++) {
		if (epochs_mode() != 0)
			epochs_query(L.rpc, L.emissions, L.conf->topics[i].id, 0, poll_epochs_cb,
			    NULL);
		else
			status_query(L.conf->topics[i].id);
	}
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	poll_now();
}

/* ---- websocket ---- */

static void
reconnect_cb(evutil_socket_t fd, short ev, void *arg)
{
	ws_start();
}

static void
schedule_reconnect(const char *why)
{
	struct timeval tv;
	uint32_t r = 0;
	long ms;

	L.backoff_ms = L.backoff_ms == 0 ? BACKOFF_MIN_MS : L.backoff_ms * 2;
	if (L.backoff_ms > BACKOFF_MAX_MS)
		L.backoff_ms = BACKOFF_MAX_MS;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = 0;
	ms = L.backoff_ms / 2 + (long)(r % (uint32_t)(L.backoff_ms / 2 + 1));	/* jitter */
	log_warnx("websocket %s: %s; reconnecting in %ld ms", ws_url(), why, ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(L.reconnect_ev, &tv);
}

/* A closed connection, freed from the next loop turn (never from inside its callbacks). */
static void
ws_free_cb(evutil_socket_t fd, short ev, void *arg)
{
	ws_free(arg);
}

static void
ws_closed(struct ws *w, const char *why, void *arg)
{
	struct timeval now = { 0, 0 };
	int was_up = L.ws_up;

	L.ws_up = 0;
	/* Each one on its own: several may die before the loop turns (issue 15). */
	if (event_base_once(L.base, -1, EV_TIMEOUT, ws_free_cb, w, &now) == -1)
		log_warnx("websocket: cannot schedule freeing a closed connection");
	if (L.ws == w)
		L.ws = NULL;
	if (!was_up && L.nws > 1)
		L.ws_at = (L.ws_at + 1) % L.nws;	/* never connected: the next endpoint */
	schedule_reconnect(why);
}

static void
ws_msg(struct ws *w, const char *msg, size_t len, void *arg)
{
	struct window_ev evs[64];
	char err[160];
	int64_t height;
	int n, i;

	if (msg == NULL) {
		/* Upgraded: subscribe once for every topic, filter here. */
		L.ws_up = 1;
		L.connected_at = mono_s();
		L.ws_gen++;
		L.last_event = mono_s();
		ws_send_text(w, EVENTS_SUBSCRIBE_REQUEST);
		log_info("websocket %s connected; subscribed to NewBlockEvents", ws_url());
		if (L.ws_gen > 1)
			scores_gap();	/* events may have been lost meanwhile */
		/* A window opened while we were away is found by a poll now. */
		poll_now();
		return;
	}
	n = events_parse(msg, len, evs, 64, &height, err, sizeof(err));
	if (n < 0) {
		if (L.bad_frames++ % 100 == 0)
			log_warnx("websocket: dropped a malformed frame (%s; %ld so far)", err,
			    L.bad_frames);
		return;
	}
	if (height > 0) {
		L.last_event = mono_s();
		if (L.ws_height > 0 && height > L.ws_height && height - L.ws_height < 100) {
			/* The block interval, smoothed: bounds the prediction's deadline. */
			double ms = (L.last_event - L.ws_height_at) * 1000 /
			    (double)(height - L.ws_height);

			L.block_ms = L.block_ms > 0 ? 0.8 * L.block_ms + 0.2 * ms : ms;
		}
		if (height != L.ws_height)
			L.ws_height_at = L.last_event;
		L.ws_height = height;
		L.backoff_ms = 0;	/* a working connection, not just an upgrade */
		chain_contact("ws");
	}
	for (i = 0; i < n; i++)
		if (epochs_mode() == 1)
			ws_epoch(evs[i].topic, evs[i].nonce, evs[i].window_end);
		else
			report(evs[i].topic, evs[i].nonce, evs[i].window_end, "ws", 0);
	scores_ws(msg, len, height);
}

static void
ws_start(void)
{
	if (L.ws != NULL || L.nws == 0)
		return;
	L.ws = ws_connect(L.base, ws_url(), L.conf->request_timeout_ms, ws_msg,
	    ws_closed, NULL);
	if (L.ws == NULL)
		schedule_reconnect("cannot connect (bad URL?)");
}

static void
silence_reconnect(void)
{
	struct ws *w = L.ws;

	L.ws = NULL;
	L.ws_up = 0;
	ws_free(w);
	if (L.nws > 1)
		L.ws_at = (L.ws_at + 1) % L.nws;	/* a stuck node: try the next one */
	schedule_reconnect("silent");
}

/* The websocket is silent: reconnect if the chain made blocks meanwhile (else it halted). */
static void
silence_status(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	long gen = (long)(intptr_t)arg;
	const char *hs;
	int64_t h = -1;

	L.silence_asking = 0;
	if (!L.ws_up || gen != L.ws_gen)
		return;		/* that connection is gone already */
	hs = json_string_value(json_object_get(json_object_get(result, "sync_info"),
	    "latest_block_height"));
	if (st == RPC_OK && hs != NULL)
		h = strtoll(hs, NULL, 10);
	if (h > 0 && h <= L.ws_height) {
		log_debug("websocket silent, but the chain is at height %lld as well: waiting",
		    (long long)h);
		L.last_event = mono_s();
		return;
	}
	log_warnx("websocket: no block event for %ld s while the chain is at height %lld (seen "
	    "%lld); reconnecting", L.conf->ws_silence_s, (long long)h, (long long)L.ws_height);
	silence_reconnect();
}

/* Every second: the silence watchdog. */
static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (L.ws_up && !L.silence_asking &&
	    mono_s() - L.last_event > (double)L.conf->ws_silence_s) {
		L.silence_asking = 1;
		if (rpc_call(L.rpc, "status", NULL, silence_status,
		    (void *)(intptr_t)L.ws_gen) != 0) {
			L.silence_asking = 0;
			silence_reconnect();
		}
	}
}

/* ---- start: chain id, emissions version ---- */

static void check_chain(void);

static void
check_chain_cb(evutil_socket_t fd, short ev, void *arg)
{
	check_chain();
}

static void
detect_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct timeval tv = { 2, 0 };

	if (st != RPC_OK) {
		log_warnx("detecting the emissions version: %s (retrying)", error);
		event_base_once(L.base, -1, EV_TIMEOUT, check_chain_cb, NULL, &tv);
		return;
	}
	snprintf(L.emissions, sizeof(L.emissions), "%s", a->code == 0 ? "v10" : "v9");
	log_info("emissions version %s (detected)", L.emissions);
	start_watching();
}

static void
exit_config_cb(evutil_socket_t fd, short ev, void *arg)
{
	exit(AW_EX_CONFIG);
}

static void
status_reply(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	const char *net;
	struct timeval tv = { 2, 0 };

	if (st != RPC_OK) {
		log_warnx("chain status: %s (retrying; windows are watched once it answers)", error);
		event_base_once(L.base, -1, EV_TIMEOUT, check_chain_cb, NULL, &tv);
		return;
	}
	net = json_string_value(json_object_get(json_object_get(result, "node_info"), "network"));
	if (net == NULL || strcmp(net, L.conf->chain_id) != 0) {
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s, s:s?}", "topic",
		    "reason", "chain_id_mismatch", "expected", L.conf->chain_id, "node", net),
		    "chain id mismatch: the configuration says %s, the node %s says %s",
		    L.conf->chain_id, rpc_endpoint(L.rpc), net ? net : "(nothing)");
		/* Exit from the loop a moment later so that the frame above is written. */
		tv.tv_sec = 0;
		tv.tv_usec = 200000;
		event_base_once(L.base, -1, EV_TIMEOUT, exit_config_cb, NULL, &tv);
		return;
	}
	L.chain_checked = 1;
	if (strcmp(L.conf->emissions, "auto") != 0) {
		snprintf(L.emissions, sizeof(L.emissions), "%s", L.conf->emissions);
		start_watching();
		return;
	}
	rpc_abci_query(L.rpc, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0,
	    detect_done, NULL);
}

static void
check_chain(void)
{
	rpc_call(L.rpc, "status", NULL, status_reply, NULL);
}

static void
start_watching(void)
{
	struct timeval tv = { L.conf->polling_interval, 0 };

	if (L.started)
		return;
	L.started = 1;
	log_info("watching %zu topic(s) on %s (polling every %ld s)", L.conf->ntopics,
	    rpc_endpoint(L.rpc), L.conf->polling_interval);
	evtimer_add(L.poll_ev, &tv);
	scores_init(L.base, &L.rpc, L.emissions);
	forecasts_init(L.base, &L.rpc, L.emissions, &L.conf);	/* issue 22 */
	poll_now();
	ws_start();
}

static void
on_config(const struct config *c, json_t *raw, void *arg)
{
	struct timeval one = { 1, 0 }, tv;

	if (L.conf == NULL) {
		L.conf = c;
		L.http = http_client_new(L.base);
		L.rpc = rpc_new(L.http, c->rpc, c->nrpc, c->request_timeout_ms);
		confirm_init(L.base, &L.rpc, L.emissions);
		set_ws_urls(c);
		L.poll_ev = event_new(L.base, -1, EV_PERSIST, poll_cb, NULL);
		L.tick_ev = event_new(L.base, -1, EV_PERSIST, tick_cb, NULL);
		L.reconnect_ev = evtimer_new(L.base, reconnect_cb, NULL);
		evtimer_add(L.tick_ev, &one);
		child_ready(NULL);	/* never waits for the chain */
		check_chain();
		return;
	}
	/* Reload: new topics, endpoints and interval take effect now. */
	L.conf = c;
	forecasts_reload();	/* issue 22: forecast turned on or off */
	rpc_free(L.rpc);
	L.rpc = rpc_new(L.http, c->rpc, c->nrpc, c->request_timeout_ms);
	{
		char *was = xstrdup(ws_url());

		set_ws_urls(c);
		if (L.ws != NULL && strcmp(was, ws_url()) != 0) {
			/* Another websocket: leave the old one now. */
			log_info("websocket: now %s", ws_url());
			ws_free(L.ws);
			L.ws = NULL;
			L.ws_up = 0;
			ws_start();
		}
		free(was);
	}
	if (L.started) {
		tv.tv_sec = c->polling_interval;
		tv.tv_usec = 0;
		evtimer_add(L.poll_ev, &tv);
		poll_now();
	}
}

static void
dispatch(struct frame *f, void *arg)
{
	if (f->type == MSG_SCORE_WATCH) {
		scores_watch(f);
		return;
	}
	log_warnx("unexpected %s from the supervisor", msg_type_name(f->type));
}

int
listener_main(void)
{
	struct child_ops ops = { "listener", on_config, dispatch, NULL, NULL };

	L.base = event_base_new();
	child_start(L.base, &ops);
	event_base_dispatch(L.base);
	return 0;
}

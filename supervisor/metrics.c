/*
 * Prometheus metrics on metrics_listen (text exposition format 0.0.4, served by evhttp).
 * Counters and histograms are kept here; gauges are read from the supervisor's state when
 * a scrape comes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "health.h"
#include "httplimit.h"
#include "metrics.h"
#include "sup.h"
#include "util.h"

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    30, 60, 120 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct hist {
	char		*labels;
	unsigned long	 counts[NBUCKETS];
	unsigned long	 count;
	double		 sum;
};

static json_t *counters;	/* "name\tlabels" -> integer */
static json_t *gauges;		/* "name\tlabels" -> real */
static struct hist *hists[2];
static size_t nhists[2];
static const char *hist_names[2] = { "allora_worker_window_to_broadcast_seconds",
    "allora_worker_window_to_inclusion_seconds" };
static struct evhttp *http;
static char *bound;

/* HELP text of every metric we emit (others get a generic one). */
static const struct {
	const char	*name;
	const char	*help;
} helps[] = {
	{ "allora_worker_up", "1 while the supervisor answers" },
	{ "allora_worker_ready", "1 when every child is ready" },
	{ "allora_worker_windows_seen_total", "Worker windows seen, by topic and source (ws, poll)" },
	{ "allora_worker_predictions_total", "Predictions made, by topic and source (fresh, cache, fallback)" },
	{ "allora_worker_values_refused_total", "Values refused before signing, by topic and reason" },
	{ "allora_worker_submissions_total", "Submissions that reached an outcome, by topic and outcome" },
	{ "allora_worker_windows_missed_total", "Windows missed, by topic and reason" },
	{ "allora_worker_window_to_broadcast_seconds", "Seconds from a window being seen to its transaction's broadcast" },
	{ "allora_worker_window_to_inclusion_seconds", "Seconds from a window being seen to its accepted inclusion" },
	{ "allora_worker_seconds_since_accepted", "Seconds since the topic's last accepted submission" },
	{ "allora_worker_accepted", "Accepted submissions of the topic since the daemon started" },
	{ "allora_worker_last_prediction", "The topic's last predicted value" },
	{ "allora_worker_topic_state", "1 for the topic's current state (waiting, serving, stopped, failed)" },
	{ "allora_worker_child_restarts", "Restarts of the child process, by role" },
	{ "allora_worker_child_running", "1 while the child process of the role is running" },
	{ "allora_worker_training_duration_seconds", "Duration of the topic's last model training" },
	{ "allora_worker_wallet_balance_uallo", "The wallet's last known balance in uallo" },
	{ "allora_worker_score_ema", "The chain's EMA score of our inferences in the topic (GetInfererScoreEma / EventEMAScoresSet; higher is better)" },
	{ "allora_worker_active", "1 while the worker is in the topic's active set of inferers, 0 when outside (absent while unknown, e.g. after an event gap)" },
	{ "allora_worker_score_gap", "Our EMA score minus the lowest EMA score in the active set (negative: below the cut-off)" },
	{ "allora_worker_forecasts_total", "Forecasts of the topic, by outcome (included, dropped) and the reason one was dropped (issue 22)" },
	{ "allora_worker_forecaster_score_ema", "The chain's EMA score of our forecasts in the topic (GetForecasterScoreEma)" },
	{ "allora_worker_rewards_uallo_total", "Rewards the chain settled for our inferences in the topic, in uallo, summed from the ledger" },
	{ "allora_worker_network_inference", "The network's combined inference of the topic's newest nonce (GetLatestNetworkInferences)" },
	{ "allora_worker_leader", "1 while this host holds the wallet's leader key in the cluster (and serves it)" },
	{ "allora_worker_shadow_loss_minus_zero", "A shadow model's running mean loss minus zero's under the topic's loss method (below 0: better than predicting 0)" },
	{ "allora_worker_shadow_windows", "Windows a shadow model was scored on (its value and the ground truth known)" },
};

static const char *
help_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, name) == 0)
			return helps[i].help;
	return "allora-workerd metric";
}

static void
map_add(json_t **map, const char *name, const char *labels, json_t *v, int add)
{
	char *k = xasprintf("%s\t%s", name, labels ? labels : "");
	json_t *old;

	if (*map == NULL)
		*map = json_object();
	old = json_object_get(*map, k);
	if (add && old != NULL)
		json_object_set_new(*map, k, json_integer(json_integer_value(old) +
		    json_integer_value(v)));
	else
		json_object_set(*map, k, v);
	json_decref(v);
	free(k);
}

void
metrics_count(const char *name, const char *labels, long n)
{
	map_add(&counters, name, labels, json_integer(n), 1);
}

void
metrics_gauge(const char *name, const char *labels, double value)
{
	map_add(&gauges, name, labels, json_real(value), 0);
}

void
metrics_gauge_unset(const char *name, const char *labels)
{
	char *k;

	if (gauges == NULL)
		return;
	k = xasprintf("%s\t%s", name, labels != NULL ? labels : "");
	json_object_del(gauges, k);
	free(k);
}

void
metrics_observe(enum metrics_hist which, const char *labels, double seconds)
{
	struct hist *h = NULL;
	size_t i;

	if (labels == NULL)
		labels = "";
	for (i = 0; i < nhists[which]; i++)
		if (strcmp(hists[which][i].labels, labels) == 0)
			h = &hists[which][i];
	if (h == NULL) {
		hists[which] = xrealloc(hists[which], (nhists[which] + 1) * sizeof(struct hist));
		h = &hists[which][nhists[which]++];
		memset(h, 0, sizeof(*h));
		h->labels = xstrdup(labels);
	}
	if (!(seconds >= 0))
		seconds = 0;
	for (i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

/* A Prometheus sample value: integers as such, reals with +Inf/-Inf/NaN spelled out. */
static void
emit_value(struct evbuffer *b, json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		evbuffer_add_printf(b, "%lld\n", (long long)json_integer_value(v));
		return;
	}
	d = json_real_value(v);
	if (isnan(d))
		evbuffer_add_printf(b, "NaN\n");
	else if (isinf(d))
		evbuffer_add_printf(b, "%sInf\n", d > 0 ? "+" : "-");
	else
		evbuffer_add_printf(b, "%.17g\n", d);
}

static void
emit_family_head(struct evbuffer *b, const char *name, const char *type)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help_of(name), name, type);
}

static void
emit_map(struct evbuffer *b, json_t *map, const char *type)
{
	const char *k, **keys;
	json_t *v;
	char name[128], last[128] = "";
	size_t n, i = 0;

	if (map == NULL)
		return;
	/* Keys sorted so that each metric's samples are together ('\t' sorts first). */
	n = json_object_size(map);
	keys = xcalloc(n ? n : 1, sizeof(char *));
	json_object_foreach(map, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(char *), strcmp_ptr);
	for (i = 0; i < n; i++) {
		const char *tab = strchr(keys[i], '\t');
		size_t nl = (size_t)(tab - keys[i]);

		v = json_object_get(map, keys[i]);
		snprintf(name, sizeof(name), "%.*s", (int)nl, keys[i]);
		if (strcmp(last, name) != 0) {
			emit_family_head(b, name, type);
			snprintf(last, sizeof(last), "%s", name);
		}
		if (tab[1] != '\0')
			evbuffer_add_printf(b, "%s{%s} ", name, tab + 1);
		else
			evbuffer_add_printf(b, "%s ", name);
		emit_value(b, v);
	}
	free(keys);
}

int
strcmp_ptr(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* A label value with \, " and newline escaped as the text format wants. */
void
label_escape(char *out, size_t outlen, const char *in)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < outlen; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static int
topic_served(uint32_t id)
{
	size_t i;

	for (i = 0; i < sup->ntopics; i++)
		if (sup->topics[i].id == id)
			return 1;
	return 0;
}

static void
gset(json_t **map, const char *name, const char *labels, double value)
{
	map_add(map, name, labels, json_real(value), 0);
}

static void
render(struct evbuffer *b)
{
	double now = wall_s();
	size_t i, j, w;
	char lab[256], esc[160];
	json_t *g;

	/*
	 * Gauges of the supervisor's state, computed at scrape time into a fresh map (so a
	 * topic removed by a reload disappears), with the gauges set by events.
	 */
	g = gauges != NULL ? json_copy(gauges) : json_object();
	{
		const char *k, *tp;
		json_t *v;
		void *tmp;

		/* Event gauges of topics a reload removed are dropped. */
		json_object_foreach_safe(g, tmp, k, v) {
			if ((tp = strstr(k, "\ttopic=\"")) != NULL &&
			    !topic_served((uint32_t)strtoul(tp + 8, NULL, 10)))
				json_object_del(g, k);
		}
	}
	gset(&g, "allora_worker_up", NULL, 1);
	gset(&g, "allora_worker_ready", NULL, sup->ready);
	for (i = 0; i < NROLES; i++) {
		snprintf(lab, sizeof(lab), "role=\"%s\"", child_role_name(i));
		gset(&g, "allora_worker_child_restarts", lab, (double)sup->children[i].restarts);
		gset(&g, "allora_worker_child_running", lab,
		    sup->children[i].state == CHILD_RUNNING);
	}
	for (i = 0; i < sup->ntopics; i++) {
		struct topic_rt *t = &sup->topics[i];

		snprintf(lab, sizeof(lab), "topic=\"%u\"", t->id);
		if (t->last_accepted_wall > 0)
			gset(&g, "allora_worker_seconds_since_accepted", lab,
			    now - t->last_accepted_wall);
		gset(&g, "allora_worker_accepted", lab, (double)t->accepted);
		if (t->last_value != NULL)
			gset(&g, "allora_worker_last_prediction", lab, strtod(t->last_value, NULL));
		for (j = 0; j < 4; j++) {
			static const char *st[] = { "waiting", "serving", "stopped", "failed" };

			snprintf(lab, sizeof(lab), "topic=\"%u\",state=\"%s\"", t->id, st[j]);
			gset(&g, "allora_worker_topic_state", lab,
			    strcmp(topic_state(t), st[j]) == 0);
		}
	}
	for (w = 0; w < sup->nwallets; w++)
		if (sup->wallets[w].balance != NULL) {
			label_escape(esc, sizeof(esc), sup->wallets[w].name);
			snprintf(lab, sizeof(lab), "wallet=\"%s\"", esc);
			gset(&g, "allora_worker_wallet_balance_uallo", lab,
			    strtod(sup->wallets[w].balance, NULL));
		}
	emit_map(b, counters, "counter");
	emit_map(b, g, "gauge");
	json_decref(g);
	for (w = 0; w < 2; w++) {
		if (nhists[w] > 0)
			emit_family_head(b, hist_names[w], "histogram");
		for (i = 0; i < nhists[w]; i++) {
			struct hist *h = &hists[w][i];
			const char *comma = h->labels[0] != '\0' ? "," : "";

			for (j = 0; j < NBUCKETS; j++)
				evbuffer_add_printf(b, "%s_bucket{%s%sle=\"%g\"} %lu\n",
				    hist_names[w], h->labels, comma, buckets[j], h->counts[j]);
			evbuffer_add_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", hist_names[w],
			    h->labels, comma, h->count);
			if (h->labels[0] != '\0') {
				evbuffer_add_printf(b, "%s_sum{%s} %.9g\n", hist_names[w], h->labels,
				    h->sum);
				evbuffer_add_printf(b, "%s_count{%s} %lu\n", hist_names[w],
				    h->labels, h->count);
			} else {
				evbuffer_add_printf(b, "%s_sum %.9g\n", hist_names[w], h->sum);
				evbuffer_add_printf(b, "%s_count %lu\n", hist_names[w], h->count);
			}
		}
	}
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b;
	const char *uri = evhttp_request_get_uri(req);

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    (strcmp(uri, "/metrics") != 0 && strcmp(uri, "/") != 0)) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only GET /metrics");
		return;
	}
	b = evbuffer_new();
	render(b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

int
metrics_start(struct event_base *base, const char *listen, char *err, size_t errlen)
{
	struct evhttp_bound_socket *s;
	char host[256], *colon;
	long port;

	if (strcmp(listen, "off") == 0)
		return 0;
	snprintf(host, sizeof(host), "%s", listen);
	colon = strrchr(host, ':');
	if (colon == NULL || parse_long(colon + 1, 0, 65535, &port) == -1) {
		snprintf(err, errlen, "metrics_listen \"%s\" is not host:port", listen);
		return -1;
	}
	*colon = '\0';
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	http = evhttp_new(base);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
	evhttp_set_gencb(http, handle, NULL);
	health_register(http);	/* /healthz, /readyz (health.c) */
	s = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
	if (s == NULL) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen there", listen);
		evhttp_free(http);
		http = NULL;
		return -1;
	}
	if (httplimit_apply(http, s) == -1) {
		snprintf(err, errlen, "metrics_listen %s: cannot limit its connections", listen);
		evhttp_free(http);
		http = NULL;
		return -1;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char addr[128];
		evutil_socket_t fd = evhttp_bound_socket_get_fd(s);

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *in = (struct sockaddr_in *)&ss;

				evutil_inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
				bound = xasprintf("%s:%u", addr, ntohs(in->sin_port));
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

				evutil_inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
				bound = xasprintf("[%s]:%u", addr, ntohs(in6->sin6_port));
			}
		}
	}
	return 0;
}

const char *
metrics_bound(void)
{
	return bound;
}

void
metrics_stop(void)
{
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
	httplimit_reset();
}

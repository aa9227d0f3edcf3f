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

void
metrics_count(const char *name, const char *labels, long n)
{
	char *k = xasprintf("%s\t%s", name, labels ? labels : "");
	json_t *v;

	if (counters == NULL)
		counters = json_object();
	v = json_object_get(counters, k);
	json_object_set_new(counters, k, json_integer((v ? json_integer_value(v) : 0) + n));
	free(k);
}

void
metrics_gauge(const char *name, const char *labels, double value)
{
	char *k = xasprintf("%s\t%s", name, labels ? labels : "");

	if (gauges == NULL)
		gauges = json_object();
	json_object_set_new(gauges, k, json_real(value));
	free(k);
}

void
metrics_observe(enum metrics_hist which, const char *labels, double seconds)
{
	struct hist *h = NULL;
	size_t i;

	for (i = 0; i < nhists[which]; i++)
		if (strcmp(hists[which][i].labels, labels) == 0)
			h = &hists[which][i];
	if (h == NULL) {
		hists[which] = xrealloc(hists[which], (nhists[which] + 1) * sizeof(struct hist));
		h = &hists[which][nhists[which]++];
		memset(h, 0, sizeof(*h));
		h->labels = xstrdup(labels);
	}
	for (i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

static void
emit_map(struct evbuffer *b, json_t *map, const char *type, const char *help_prefix)
{
	const char *k;
	json_t *v;
	char name[128], last[128] = "";

	if (map == NULL)
		return;
	/* Keys sorted so that each metric's samples are together. */
	{
		size_t n = json_object_size(map), i = 0;
		const char **keys = xcalloc(n, sizeof(char *));

		json_object_foreach(map, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(char *), strcmp_ptr);
		for (i = 0; i < n; i++) {
			const char *tab = strchr(keys[i], '\t');
			size_t nl = (size_t)(tab - keys[i]);

			v = json_object_get(map, keys[i]);
			snprintf(name, sizeof(name), "%.*s", (int)nl, keys[i]);
			if (strcmp(last, name) != 0) {
				evbuffer_add_printf(b, "# TYPE %s %s\n", name, type);
				snprintf(last, sizeof(last), "%s", name);
			}
			if (json_is_integer(v))
				evbuffer_add_printf(b, "%s%s%s%s %lld\n", name, tab[1] ? "{" : "",
				    tab + 1, tab[1] ? "}" : "", (long long)json_integer_value(v));
			else
				evbuffer_add_printf(b, "%s%s%s%s %.17g\n", name, tab[1] ? "{" : "",
				    tab + 1, tab[1] ? "}" : "", json_real_value(v));
		}
		free(keys);
	}
	(void)help_prefix;
}

int
strcmp_ptr(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

static void
render(struct evbuffer *b)
{
	double now = wall_s();
	size_t i, j, w;
	char lab[256];

	/* Gauges read from the state at scrape time. */
	metrics_gauge("allora_worker_up", NULL, 1);
	metrics_gauge("allora_worker_ready", NULL, sup->ready);
	for (i = 0; i < NROLES; i++) {
		snprintf(lab, sizeof(lab), "role=\"%s\"", child_role_name(i));
		metrics_gauge("allora_worker_child_restarts", lab, (double)sup->children[i].restarts);
		metrics_gauge("allora_worker_child_running", lab,
		    sup->children[i].state == CHILD_RUNNING);
	}
	for (i = 0; i < sup->ntopics; i++) {
		struct topic_rt *t = &sup->topics[i];

		snprintf(lab, sizeof(lab), "topic=\"%u\"", t->id);
		if (t->last_accepted_wall > 0)
			metrics_gauge("allora_worker_seconds_since_accepted", lab,
			    now - t->last_accepted_wall);
		metrics_gauge("allora_worker_accepted", lab, (double)t->accepted);
		if (t->last_value != NULL)
			metrics_gauge("allora_worker_last_prediction", lab, atof(t->last_value));
		for (j = 0; j < 4; j++) {
			static const char *st[] = { "waiting", "serving", "stopped", "failed" };

			snprintf(lab, sizeof(lab), "topic=\"%u\",state=\"%s\"", t->id, st[j]);
			metrics_gauge("allora_worker_topic_state", lab,
			    strcmp(topic_state(t), st[j]) == 0);
		}
	}
	for (w = 0; w < sup->nwallets; w++)
		if (sup->wallets[w].balance != NULL) {
			snprintf(lab, sizeof(lab), "wallet=\"%s\"", sup->wallets[w].name);
			metrics_gauge("allora_worker_wallet_balance_uallo", lab,
			    atof(sup->wallets[w].balance));
		}
	emit_map(b, counters, "counter", NULL);
	emit_map(b, gauges, "gauge", NULL);
	for (w = 0; w < 2; w++) {
		if (nhists[w] > 0)
			evbuffer_add_printf(b, "# TYPE %s histogram\n", hist_names[w]);
		for (i = 0; i < nhists[w]; i++) {
			struct hist *h = &hists[w][i];

			for (j = 0; j < NBUCKETS; j++)
				evbuffer_add_printf(b, "%s_bucket{%s,le=\"%g\"} %lu\n", hist_names[w],
				    h->labels, buckets[j], h->counts[j]);
			evbuffer_add_printf(b, "%s_bucket{%s,le=\"+Inf\"} %lu\n", hist_names[w],
			    h->labels, h->count);
			evbuffer_add_printf(b, "%s_sum{%s} %.9g\n", hist_names[w], h->labels, h->sum);
			evbuffer_add_printf(b, "%s_count{%s} %lu\n", hist_names[w], h->labels,
			    h->count);
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
	s = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
	if (s == NULL) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen there", listen);
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
}

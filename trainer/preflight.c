/*
 * The trainer's part of `alloractl check` (common/preflight.h): a topic's market data, asked
 * for the way the trainer asks for it (fetch.c builds the request, marketdata.c parses the
 * answer) or read from its CSV file, and the staleness of its newest complete bar measured as
 * the trainer measures it (from the end of that bar, against stale_after_s).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fetch.h"
#include "marketdata.h"
#include "model.h"
#include "preflight.h"
#include "rpc_sync.h"

static void
fresh_line(const char *what, const struct config_topic *t, const char *src, double newest)
{
	double age = (double)time(NULL) - (newest + 3600);

	if (age > (double)t->stale_after_s)
		preflight_line(what, L_WARN, "%s: the newest complete bar ended %.1f h ago "
		    "(stale_after_s = %ld): built-in models would submit the fallback", src,
		    age / 3600, t->stale_after_s);
	else
		preflight_line(what, L_OK, "%s: the newest complete bar ended %.0f min ago", src,
		    age / 60);
}

static void
check_csv(const char *what, const struct config_topic *t, const char *path)
{
	struct bars b;
	char err[512];

	memset(&b, 0, sizeof(b));
	if (bars_read_csv(path, &b, err, sizeof(err)) == -1) {
		preflight_line(what, L_ERR, "%s", err);
		return;
	}
	if (b.n == 0)
		preflight_line(what, L_ERR, "%s: no \"unix,close\" line", path);
	else if (bars_drop_partial(&b, (double)time(NULL)), b.n == 0)
		preflight_line(what, L_ERR, "%s: no complete hourly bar at its end", path);
	else
		fresh_line(what, t, path, (double)b.t[b.n - 1]);
	bars_free(&b);
}

void
trainer_preflight_topic(struct sync *s, const struct config *c, const struct config_topic *t)
{
	struct fetch_req q;
	struct sync_get g;
	struct bars b;
	char what[64], err[512];
	int64_t hour = ((int64_t)time(NULL) / 3600) * 3600;
	int rc;

	snprintf(what, sizeof(what), "topic %u market data", t->id);
	if (strncmp(t->data_source, "csv:", 4) == 0) {
		check_csv(what, t, t->data_source + 4);
		return;
	}
	/* The last two days, as the trainer's refresh asks for its newest bars. */
	if (fetch_request(t, hour - 2 * 86400, hour + 3600, &q, err, sizeof(err)) == -1) {
		preflight_line(what, L_ERR, "%s", err);
		return;
	}
	memset(&b, 0, sizeof(b));
	if (sync_get(s, q.url, q.hdr, c->request_timeout_ms, &g) == -1) {
		preflight_line(what, L_ERR, "%s: cannot start the request", t->data_source);
		fetch_request_free(&q);
		return;
	}
	if (g.curl_code != 0)
		preflight_line(what, L_ERR, "%s unreachable: %s", t->data_source, g.error);
	else if (g.status == 401 || g.status == 403)
		preflight_line(what, L_ERR, "%s refused the request (HTTP %ld)%s", t->data_source,
		    g.status, strcmp(t->data_source, "tiingo") == 0 ? ": check the API key" : "");
	else if (g.status != 200)
		preflight_line(what, L_ERR, "%s answered HTTP %ld", t->data_source, g.status);
	else if ((rc = fetch_request_parse(&q, g.body, g.body_len, g.status, (double)time(NULL),
	    &b, err, sizeof(err))) != MD_OK)
		preflight_line(what, L_ERR, "%s: %s", t->data_source, err);
	else if (b.n == 0)
		preflight_line(what, L_ERR, "%s answered no hourly %s bars for the last two days",
		    t->data_source, q.symbol);
	else
		fresh_line(what, t, t->data_source, (double)b.t[b.n - 1]);
	bars_free(&b);
	sync_get_free(&g);
	fetch_request_free(&q);
}

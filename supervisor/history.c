/*
 * `alloractl history --topic N [--last K] [--json]` (INTERFACES.md, Scores): one row per
 * nonce of the topic's ledger, newest last: what we sent, what the network made of it
 * (network value, score, active, reward as the chain reported them into the ledger), and
 * the realised value and our loss once the ground truth is in the trainer's bars.  Reads
 * the files only; it works with the daemon stopped.
 *
 * Realised value of a nonce: ln(close(T + H) / close(T)), T the hour of the nonce's first
 * ledger record, H the topic's target_hours, from the topic's bars (csv: file or the
 * trainer's bar cache); null while the bar T + H is not there.  Loss: trainer/loss.h under
 * the topic's loss method (the chain's, as the ledger's scored records name it; else the
 * configured loss_method; else zptae), with
 * sigma the standard deviation of the bars' H-hour log returns.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "dec.h"
#include "ledger.h"
#include "trainer/fetch.h"
#include "trainer/loss.h"
#include "trainer/model.h"
#include "util.h"

int	 ctl_history(const struct ctl_opts *, int argc, char **argv);

static int
cmp_nonce(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t p = json_integer_value(json_object_get(x, "nonce"));
	json_int_t q = json_integer_value(json_object_get(y, "nonce"));

	return p < q ? -1 : p > q;
}

/* The close of the bar starting at hour t (exact), or NAN. */
static double
close_at(const struct bars *b, int64_t t)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->t[lo] == t ? b->close[lo] : NAN;
}

static double
horizon_sd(const struct bars *b, long h)
{
	double s = 0, s2 = 0, c;
	size_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		c = close_at(b, b->t[i] + h * 3600);
		if (isnan(c))
			continue;
		s += log(c / b->close[i]);
		s2 += log(c / b->close[i]) * log(c / b->close[i]);
		n++;
	}
	if (n < 2)
		return NAN;
	return sqrt(fmax(s2 / (double)n - (s / (double)n) * (s / (double)n), 0));
}

/* The time of each nonce's first record (replay keeps the last). */
static void
seen_times(const char *state_dir, uint32_t topic, json_t *all)
{
	char *path = xasprintf("%s/ledger/topic-%u.jsonl", state_dir, topic), *buf, *line, *next;
	char key[32];
	size_t len;
	json_t *r, *cur;

	buf = read_file(path, (size_t)1 << 30, &len);
	free(path);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		r = json_loads(line, 0, NULL);
		if (json_is_integer(json_object_get(r, "nonce")) &&
		    json_is_string(json_object_get(r, "time"))) {
			snprintf(key, sizeof(key), "%lld",
			    (long long)json_integer_value(json_object_get(r, "nonce")));
			cur = json_object_get(all, key);
			if (cur != NULL && json_object_get(cur, "seen_time") == NULL)
				json_object_set(cur, "seen_time", json_object_get(r, "time"));
		}
		json_decref(r);
	}
	free(buf);
}

static json_t *
sj(json_t *v)
{
	return json_is_string(v) ? json_incref(v) : json_null();
}

int
ctl_history(const struct ctl_opts *o, int argc, char **argv)
{
	struct config_overrides ov;
	struct config *c;
	const struct config_topic *t;
	struct ledger *l;
	struct bars bars;
	json_t *all, *rec, **rows, *out;
	const char *k, *lm = NULL;
	char err[2048], *bpath = NULL;
	long topic = -1, last = 0, bad;
	int json = 0, i, have_bars = 0;
	size_t n = 0, j, from;
	double sd = NAN;
	enum loss_method m = LOSS_ZPTAE;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: alloractl [-c FILE] history --topic N [--last K] [--json]\n"
			    "One row per nonce of the topic's ledger, newest last: our value and its "
			    "source,\nthe network's value, the realised value and our loss once known, "
			    "the score\nafter, the reward and the ledger state.\n");
			return 0;
		} else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 1, UINT32_MAX, &topic) == -1) {
				fprintf(stderr, "alloractl history: --topic: \"%s\" is not a topic id "
				    "(1 to 4294967295)\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--last") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 1000000, &last) == -1) {
				fprintf(stderr, "alloractl history: --last: \"%s\" is not a count "
				    "(1 to 1000000)\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "alloractl history: unknown option \"%s\"\n", argv[i]);
			return 2;
		}
	}
	if (topic < 0) {
		fprintf(stderr, "alloractl history: --topic N is required\n");
		return 2;
	}
	memset(&ov, 0, sizeof(ov));
	ov.state_dir = o->state_dir;
	ov.run_dir = o->run_dir;
	if ((c = config_load(o->config, &ov, err, sizeof(err))) == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return 2;
	}
	if ((t = config_topic(c, (uint32_t)topic)) == NULL) {
		fprintf(stderr, "alloractl history: topic %ld is not in %s\n", topic,
		    c->path ? c->path : "the configuration");
		config_free(c);
		return 2;
	}
	if ((l = ledger_open_readonly(c->state_dir, (uint32_t)topic, err, sizeof(err))) ==
	    NULL && errno != ENOENT) {
		fprintf(stderr, "alloractl history: %s\n", err);
		config_free(c);
		return 1;
	}
	all = l != NULL ? ledger_replay(l, &bad, err, sizeof(err)) : json_object();	/* none yet */
	ledger_close(l);
	if (all == NULL) {
		fprintf(stderr, "alloractl history: %s\n", err);
		config_free(c);
		return 1;
	}
	seen_times(c->state_dir, (uint32_t)topic, all);
	/* The bars: the csv: file, or the trainer's cache. */
	bpath = strncmp(t->data_source, "csv:", 4) == 0 ? xstrdup(t->data_source + 4) :
	    bar_cache_path(c, t);
	memset(&bars, 0, sizeof(bars));
	if (bpath != NULL && bars_read_csv(bpath, &bars, err, sizeof(err)) == 0) {
		have_bars = 1;
		sd = horizon_sd(&bars, t->target_hours);
	}
	rows = xcalloc(json_object_size(all) + 1, sizeof(json_t *));
	json_object_foreach(all, k, rec) {
		rows[n++] = rec;
		if (json_is_string(json_object_get(rec, "loss_method")))
			lm = json_string_value(json_object_get(rec, "loss_method"));
	}
	qsort(rows, n, sizeof(rows[0]), cmp_nonce);
	/* The chain's (as the scored records name it), else the configured one. */
	if (lm == NULL && t->loss_method != NULL && strcmp(t->loss_method, "auto") != 0)
		lm = t->loss_method;
	if (lm != NULL)
		loss_method_parse(lm, &m);
	from = last > 0 && (size_t)last < n ? n - (size_t)last : 0;
	out = json_array();
	for (j = from; j < n; j++) {
		json_t *r = rows[j], *row, *first_time = json_object_get(r, "seen_time");
		double when = 0, y = NAN, v, c0, c1;
		char txt[DEC_MAX_TEXT + 1], e2[80];
		const char *val = json_string_value(json_object_get(r, "value"));

		if (!json_is_string(first_time))
			first_time = json_object_get(r, "time");
		if (json_is_string(first_time))
			parse_iso8601(json_string_value(first_time), &when);
		if (have_bars && when > 0) {
			int64_t h0 = (int64_t)when / 3600 * 3600;

			c0 = close_at(&bars, h0);
			c1 = close_at(&bars, h0 + t->target_hours * 3600);
			if (!isnan(c0) && !isnan(c1))
				y = log(c1 / c0);
		}
		row = json_object();
		json_object_set_new(row, "nonce", json_incref(json_object_get(r, "nonce")));
		json_object_set_new(row, "time", sj(first_time));
		json_object_set_new(row, "value", sj(json_object_get(r, "value")));
		json_object_set_new(row, "source", sj(json_object_get(r, "source")));
		json_object_set_new(row, "network_value", sj(json_object_get(r, "network_value")));
		if (!isnan(y) && dec_from_double(y, txt, sizeof(txt), e2, sizeof(e2)) == 0)
			json_object_set_new(row, "realized", json_string(txt));
		else
			json_object_set_new(row, "realized", json_null());
		if (!isnan(y) && val != NULL && parse_double(val, &v) == 0 &&
		    isfinite(loss_value(m, y, v, sd, NULL)))
			json_object_set_new(row, "loss", json_real(loss_value(m, y, v, sd, NULL)));
		else
			json_object_set_new(row, "loss", json_null());
		json_object_set_new(row, "score_ema", sj(json_object_get(r, "score_ema")));
		json_object_set_new(row, "active", json_is_boolean(json_object_get(r, "active")) ?
		    json_incref(json_object_get(r, "active")) : json_null());
		json_object_set_new(row, "reward_uallo", sj(json_object_get(r, "reward_uallo")));
		json_object_set_new(row, "state", sj(json_object_get(r, "state")));
		/* issue 22, forecast on: the forecast signed with it, the forecaster score then */
		if (t->forecast != NULL && strcmp(t->forecast, "off") != 0) {
			json_t *fe = json_object_get(r, "forecast_elements");

			json_object_set_new(row, "forecast_elements", json_is_integer(fe) ?
			    json_incref(fe) : json_null());
			json_object_set_new(row, "forecaster_score_ema",
			    sj(json_object_get(r, "forecaster_score_ema")));
		}
		json_array_append_new(out, row);
	}
	if (json) {
		char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s);
		free(s);
	} else {
		json_t *row;

		printf("%-10s %-20s %-14s %-8s %-14s %-14s %-10s %-14s %-6s %-12s %s\n", "NONCE",
		    "TIME", "VALUE", "SOURCE", "NETWORK", "REALIZED", "LOSS", "SCORE EMA",
		    "ACTIVE", "REWARD", "STATE");
		json_array_foreach(out, j, row) {
			char ts[24] = "-", loss[32] = "-";
			const char *tm = json_string_value(json_object_get(row, "time"));
			json_t *a = json_object_get(row, "active");

			if (tm != NULL)
				snprintf(ts, sizeof(ts), "%.19s", tm);
			if (json_is_real(json_object_get(row, "loss")))
				snprintf(loss, sizeof(loss), "%.4g",
				    json_real_value(json_object_get(row, "loss")));
#define S(key) (json_string_value(json_object_get(row, key)) ? \
	json_string_value(json_object_get(row, key)) : "-")
			printf("%-10lld %-20s %-14.14s %-8s %-14.14s %-14.14s %-10s %-14.14s %-6s "
			    "%-12s %s\n", (long long)json_integer_value(json_object_get(row, "nonce")),
			    ts, S("value"), S("source"), S("network_value"), S("realized"), loss,
			    S("score_ema"), json_is_true(a) ? "yes" : json_is_false(a) ? "no" : "-",
			    S("reward_uallo"), S("state"));
#undef S
		}
	}
	json_decref(out);
	free(rows);
	json_decref(all);
	if (have_bars)
		bars_free(&bars);
	free(bpath);
	config_free(c);
	return 0;
}

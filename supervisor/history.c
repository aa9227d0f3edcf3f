/*
 * `alloractl history --topic N [--last K] [--shadow] [--report DIR] [--json]`
 * (INTERFACES.md, Scores): one row per nonce of the topic's ledger, newest last: what we
 * sent, what the network made of it (network value, score, active, reward as the chain
 * reported them into the ledger), and the realised value and our loss once the ground
 * truth is in the trainer's bars; with --shadow each shadow model's value and loss and a
 * summary per model (trainer/truth.h, as status shows it).  Reads the files only; it works
 * with the daemon stopped.  --report DIR writes DIR/history.json and has the trainer's
 * program draw report.json and the pictures from it (trainer/ctl_report.c: cairo is the
 * trainer's).
 *
 * Realised value of a nonce (trainer/truth.h): ln(close(T + H) / close(T)), T the hour of
 * the nonce's first ledger record, H the topic's target_hours, from the topic's bars;
 * null while the bar T + H is not there.  Loss: trainer/loss.h under the topic's loss
 * method (the chain's, as the ledger's scored records name it; else the configured
 * loss_method; else zptae), with sigma the standard deviation of the bars' H-hour log
 * returns.
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
#include "trainer/truth.h"
#include "util.h"

int	 ctl_history(const struct ctl_opts *, int argc, char **argv);
/* supervisor/history_shadow.c */
json_t	*history_shadow_row(const struct truth *, json_t *rec, double realized);
void	 history_shadow_summary(json_t *scores, const char *loss);
int	 history_report(const struct ctl_opts *, const char *dir,
	    const struct config_topic *, const struct truth *, json_t *rows, json_t *scores);

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
	struct truth tr;
	json_t *all, **rows, *out, *summary = NULL;
	const char *lm = NULL, *report = NULL;
	char err[2048], **models = NULL;
	long topic = -1, last = 0, bad;
	int json = 0, i, shadow = 0, rc = 0;
	size_t n = 0, j, from, nm;
	enum loss_method m = LOSS_ZPTAE;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: alloractl [-c FILE] history --topic N [--last K] [--shadow] "
			    "[--report DIR] [--json]\n"
			    "One row per nonce of the topic's ledger, newest last: our value and its "
			    "source,\nthe network's value, the realised value and our loss once known, "
			    "the score\nafter, the reward and the ledger state.  --shadow: each shadow "
			    "model's value and\nloss, and a summary per model (windows scored, mean "
			    "loss minus zero's, 95 %%\ninterval).  --report DIR: report.json and "
			    "pictures of the rows in DIR.\n");
			return 0;
		} else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--shadow") == 0)
			shadow = 1;
		else if (strcmp(argv[i], "--report") == 0 && i + 1 < argc)
			report = argv[++i];
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
	rows = truth_rows(all, &n);
	for (j = 0; j < n; j++)
		if (json_is_string(json_object_get(rows[j], "loss_method")))
			lm = json_string_value(json_object_get(rows[j], "loss_method"));
	/* The chain's (as the scored records name it), else the configured one. */
	if (lm == NULL && t->loss_method != NULL && strcmp(t->loss_method, "auto") != 0)
		lm = t->loss_method;
	if (lm != NULL)
		loss_method_parse(lm, &m);
	/* The bars: the csv: file, or the trainer's cache. */
	truth_load(&tr, c, t, m);
	if (shadow || report != NULL) {
		models = config_shadow_split(t->shadow, &nm, err, sizeof(err));
		summary = truth_shadow_scores(&tr, rows, n, models);
	}
	from = last > 0 && (size_t)last < n ? n - (size_t)last : 0;
	out = json_array();
	for (j = from; j < n; j++) {
		json_t *r = rows[j], *row, *first_time = json_object_get(r, "seen_time");
		double y, v;
		char txt[DEC_MAX_TEXT + 1], e2[80];
		const char *val = json_string_value(json_object_get(r, "value"));

		if (!json_is_string(first_time))
			first_time = json_object_get(r, "time");
		y = truth_realized(&tr, truth_when(r));
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
		if (val != NULL && parse_double(val, &v) == 0 && !isnan(truth_loss(&tr, y, v)))
			json_object_set_new(row, "loss", json_real(truth_loss(&tr, y, v)));
		else
			json_object_set_new(row, "loss", json_null());
		json_object_set_new(row, "score_ema", sj(json_object_get(r, "score_ema")));
		json_object_set_new(row, "active", json_is_boolean(json_object_get(r, "active")) ?
		    json_incref(json_object_get(r, "active")) : json_null());
		json_object_set_new(row, "reward_uallo", sj(json_object_get(r, "reward_uallo")));
		json_object_set_new(row, "state", sj(json_object_get(r, "state")));
		if (shadow || report != NULL)
			json_object_set_new(row, "shadow", history_shadow_row(&tr, r, y));
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
	if (report != NULL) {
		/* Replaced by the trainer's program, which draws; back only on failure. */
		rc = history_report(o, report, t, &tr, out, summary);
		goto done;
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
		if (shadow)
			history_shadow_summary(summary, loss_method_name(m));
	}
done:
	json_decref(out);
	json_decref(summary);
	config_shadow_free(models);
	free(rows);
	json_decref(all);
	truth_free(&tr);
	config_free(c);
	return rc;
}

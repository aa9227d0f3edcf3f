/* alloractl backtest: the walk-forward protocol of MODEL.md §5.3 on a CSV file. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backtest.h"
#include "config.h"
#include "ctl.h"
#include "model.h"
#include "util.h"

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static const char *
half_name(enum bt_half h)
{
	return h == BT_FIRST ? "first" : h == BT_SECOND ? "second" : "all";
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: alloractl [-c FILE] backtest --csv F [--topic N] "
	    "[--model default|ridge|xgboost|reference]\n\t[--window H] [--step H] [--shrink K] "
	    "[--lambda L] [--horizon H] [--features default|b|reference]\n\t[--half "
	    "first|second|all] [--json]\n");
}

/* The configuration, when one is given or found (not a .env alone): its topic. */
static int
load_topic(const struct ctl_opts *o, long topic, struct config **cp,
    const struct config_topic **tp)
{
	char err[2048];

	*cp = NULL;
	*tp = NULL;
	if (o->config == NULL && config_find(NULL) == NULL) {
		if (topic != 0) {
			fprintf(stderr, "alloractl backtest: --topic %ld: no configuration file\n",
			    topic);
			return -1;
		}
		return 0;
	}
	if ((*cp = config_load(o->config, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return -1;
	}
	*tp = topic != 0 ? config_topic(*cp, (uint32_t)topic) : (*cp)->ntopics > 0 ?
	    &(*cp)->topics[0] : NULL;
	if (*tp == NULL && topic != 0) {
		fprintf(stderr, "alloractl backtest: topic %ld is not in %s\n", topic,
		    (*cp)->path ? (*cp)->path : ".env");
		config_free(*cp);
		*cp = NULL;
		return -1;
	}
	return 0;
}

int
ctl_backtest(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", required_argument, NULL, 'f' },
		{ "model", required_argument, NULL, 'm' },
		{ "window", required_argument, NULL, 'w' },
		{ "step", required_argument, NULL, 's' },
		{ "shrink", required_argument, NULL, 'k' },
		{ "lambda", required_argument, NULL, 'l' },
		{ "horizon", required_argument, NULL, 'H' },
		{ "half", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "features", required_argument, NULL, 'F' },
		{ "topic", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct model_spec m[2];
	struct bt_result r;
	struct bars b;
	struct config *c = NULL;
	const struct config_topic *t = NULL;
	enum bt_half half = BT_ALL;
	const char *csv = NULL, *model = NULL;
	char err[1024];
	long window = -1, step = 24, horizon = -1, topic = 0, fs = -1;
	uint32_t tid;
	double shrink = -1, lambda = -1;
	int ch, json = 0, rc = 1, restrict_;
	size_t nm = 0, k, nbad;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': csv = optarg; break;
		case 'm': model = optarg; break;
		case 'j': json = 1; break;
		case 'F':
			if (strcmp(optarg, "b") == 0)
				fs = FS_B;
			else if (strcmp(optarg, "reference") == 0)
				fs = FS_REF;
			else if (strcmp(optarg, "default") == 0)
				fs = FS_A;
			else
				goto bad;
			break;
		case 'w':
			if (parse_long(optarg, 2 * NFMAX, 24L * 365 * 20, &window) == -1)
				goto bad;
			break;
		case 's':
			if (parse_long(optarg, 1, 24L * 365, &step) == -1)
				goto bad;
			break;
		case 'H':
			if (parse_long(optarg, 1, 24L * 365, &horizon) == -1)
				goto bad;
			break;
		case 't':
			if (topic_arg("alloractl backtest", optarg, &tid) == -1)
				return 2;
			topic = tid;
			break;
		case 'k':
			if (parse_double(optarg, &shrink) == -1 || !isfinite(shrink) || shrink < 0 ||
			    shrink > 10)
				goto bad;
			break;
		case 'l':
			if (parse_double(optarg, &lambda) == -1 || !isfinite(lambda) || lambda < 0 ||
			    lambda > 1e6)
				goto bad;
			break;
		case 'a':
			if (strcmp(optarg, "first") == 0)
				half = BT_FIRST;
			else if (strcmp(optarg, "second") == 0)
				half = BT_SECOND;
			else if (strcmp(optarg, "all") == 0)
				half = BT_ALL;
			else
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (csv == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (model != NULL && model_spec_named(model, &m[0]) == -1) {
		fprintf(stderr, "alloractl backtest: --model %s: the built-in models are default, "
		    "ridge, xgboost and reference\n", model);
		return 2;
	}
	restrict_ = model != NULL;
	if (load_topic(o, topic, &c, &t) == -1)
		return 2;
	/* The configured model (or --model) with the topic's keys, then the flags. */
	if (model == NULL) {
		model = "default";
		if (t != NULL && model_spec_named(t->model, &m[0]) == 0)
			model = t->model;
		else if (t != NULL)
			fprintf(stderr, "alloractl backtest: topic %u's model %s is not built in; "
			    "backtesting default\n", t->id, t->model);
	}
	if (t != NULL) {
		struct config_topic tt = *t;

		tt.model = (char *)model;
		if (model_spec_topic(&tt, &m[0], err, sizeof(err)) == -1) {
			fprintf(stderr, "alloractl backtest: topic %u: %s\n", t->id, err);
			config_free(c);
			return 2;
		}
	} else
		model_spec_named(model, &m[0]);
	if (window > 0)
		m[0].window = window;
	if (shrink >= 0)
		m[0].shrink = shrink;
	if (lambda >= 0)
		m[0].lambda = lambda;
	if (fs >= 0)
		m[0].fs = (enum fset)fs;
	if (horizon <= 0)
		horizon = m[0].horizon;
	nm = 1;
	if (!restrict_ && strcmp(model, "reference") != 0)	/* --model restricts */
		model_spec_named("reference", &m[nm++]);
	config_free(c);
	if (bars_read_csv(csv, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl backtest: %s\n", err);
		return 1;
	}
	if (bars_regularize(&b, BARS_MAX_FILL, 2000000, &nbad) > 0)
		fprintf(stderr, "alloractl backtest: warning: %s has %zu missing hours, filled "
		    "forward; %zu are in gaps longer than %d h, whose rows are not used\n", csv,
		    b.gaps, nbad, BARS_MAX_FILL);
	if (backtest_run(&b, horizon, step, half, MODEL_DEFAULT_WINDOW, m, nm, &r, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "alloractl backtest: %s: %s\n", csv, err);
		goto out;
	}
	rc = 0;
	if (json) {
		json_t *j = json_pack("{s:f, s:I, s:I, s:I, s:s, s:{}}", "weeks", r.weeks,
		    "decisions", (json_int_t)r.decisions, "step_h", (json_int_t)step, "window_h",
		    (json_int_t)m[0].window, "half", half_name(half), "models");
		json_t *ms = json_object_get(j, "models");
		char *s;

		for (k = 0; k < r.nmodels; k++) {
			const struct bt_score *s_ = &r.s[k];

			json_object_set_new(ms, r.names[k], json_pack("{s:o, s:o, s:o, s:o, s:o, "
			    "s:o, s:o, s:o, s:o}", "mse", jnum(s_->mse), "skill", jnum(s_->skill),
			    "mae", jnum(s_->mae), "da", jnum(s_->da), "da_low", jnum(s_->da_low),
			    "da_high", jnum(s_->da_high), "corr", jnum(s_->corr), "zptae_rel",
			    jnum(s_->zptae_rel), "log_aspect", jnum(s_->log_aspect)));
		}
		s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(j);
		goto out;
	}
	printf("%s: %zu decisions every %ld h (%s half), %.1f independent weeks, horizon %ld h\n",
	    csv, r.decisions, step, half_name(half), r.weeks, horizon);
	for (k = 0; k < nm; k++) {
		model_describe_spec(&m[k], err, sizeof(err));
		printf("  %s\n", err);
	}
	printf("%-10s %12s %8s %10s %6s %15s %7s %8s %7s\n", "model", "mse", "skill", "mae", "da",
	    "da 95% CI", "r", "zptae/0", "log AR");
	for (k = 0; k < r.nmodels; k++) {
		const struct bt_score *s_ = &r.s[k];

		printf("%-10s %12.6g %+8.4f %10.6g %6.3f   [%.3f, %.3f] %7.3f %8.4f %7.3f\n",
		    r.names[k], s_->mse, s_->skill, s_->mae, s_->da, s_->da_low, s_->da_high,
		    s_->corr, s_->zptae_rel, s_->log_aspect);
	}
out:
	bars_free(&b);
	return rc;
bad:
	fprintf(stderr, "alloractl backtest: bad value \"%s\"\n", optarg);
	usage(stderr);
	return 2;
}

/* alloractl backtest: the walk-forward protocol of MODEL.md §5.3 on a CSV file. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backtest.h"
#include "ctl.h"
#include "model.h"
#include "util.h"

/* The shipped default (chosen on the first half of the BTC history, trainer/README.md). */
#define BT_DEFAULT_WINDOW	8760
#define BT_DEFAULT_SHRINK	0.0
#define BT_DEFAULT_LAMBDA	1.0
#define BT_DEFAULT_CLIP		2.0
/* The Python worker's recipe: 28 days, unshrunk, unclipped (a ridge stand-in for its GBR). */
#define BT_REFERENCE_WINDOW	672

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
	fprintf(fp, "usage: alloractl backtest --csv F [--model default|ridge|xgb|reference] "
	    "[--window H] [--step H]\n\t[--shrink K] [--lambda L] [--horizon H] "
	    "[--half first|second|all] [--features default|b] [--json]\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bt_model m[2];
	struct bt_result r;
	struct bars b;
	enum bt_half half = BT_ALL;
	const char *csv = NULL, *model = "default";
	char err[1024];
	long window = BT_DEFAULT_WINDOW, step = 24, horizon = 168;
	double shrink = BT_DEFAULT_SHRINK, lambda = BT_DEFAULT_LAMBDA;
	int ch, json = 0, with_ref, fb = 0;
	size_t nm = 0, k;

	(void)o;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': csv = optarg; break;
		case 'm': model = optarg; break;
		case 'j': json = 1; break;
		case 'F':
			if (strcmp(optarg, "b") == 0)
				fb = 1;
			else if (strcmp(optarg, "default") == 0)
				fb = 0;
			else
				goto bad;
			break;
		case 'w':
			if (parse_long(optarg, 2 * NFEAT, 24L * 365 * 20, &window) == -1)
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
	if (strcmp(model, "default") != 0 && strcmp(model, "ridge") != 0 &&
	    strcmp(model, "reference") != 0 && strcmp(model, "xgb") != 0) {
		fprintf(stderr, "alloractl backtest: --model %s: this build has the models "
		    "default, ridge, xgb and reference\n", model);
		return 2;
	}
	with_ref = strcmp(model, "reference") != 0;
	if (strcmp(model, "reference") != 0) {
		m[nm].name = model;
		m[nm].window = window;
		m[nm].lambda = lambda;
		m[nm].shrink = shrink;
		m[nm].clip_sigma = BT_DEFAULT_CLIP;
		m[nm].xgb = strcmp(model, "xgb") == 0;
		m[nm].features_b = fb;
		nm++;
	}
	if (with_ref || strcmp(model, "reference") == 0) {
		m[nm].name = "reference";
		m[nm].window = BT_REFERENCE_WINDOW;
		m[nm].lambda = 1e-6;
		m[nm].shrink = 1;
		m[nm].clip_sigma = 0;
		m[nm].xgb = 0;
		m[nm].features_b = 0;
		nm++;
	}
	if (bars_read_csv(csv, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl backtest: %s\n", err);
		return 1;
	}
	if (b.gaps > 0)
		fprintf(stderr, "alloractl backtest: warning: %s has %zu missing hours; rows "
		    "are treated as consecutive hours\n", csv, b.gaps);
	if (backtest_run(&b, horizon, step, half, BT_DEFAULT_WINDOW, m, nm, &r, err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl backtest: %s: %s\n", csv, err);
		bars_free(&b);
		return 1;
	}
	bars_free(&b);
	if (json) {
		json_t *j = json_pack("{s:f, s:I, s:I, s:I, s:s, s:{}}", "weeks", r.weeks,
		    "decisions", (json_int_t)r.decisions, "step_h", (json_int_t)step, "window_h",
		    (json_int_t)window, "half", half_name(half), "models");
		json_t *ms = json_object_get(j, "models");
		char *s;

		for (k = 0; k < r.nmodels; k++) {
			const struct bt_score *s_ = &r.s[k];

			json_object_set_new(ms, r.names[k], json_pack("{s:o, s:o, s:o, s:o, s:o, "
			    "s:o, s:o, s:n, s:o}", "mse", jnum(s_->mse), "skill", jnum(s_->skill),
			    "mae", jnum(s_->mae), "da", jnum(s_->da), "da_low", jnum(s_->da_low),
			    "da_high", jnum(s_->da_high), "corr", jnum(s_->corr), "zptae_rel",
			    "log_aspect", jnum(s_->log_aspect)));
		}
		s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(j);
		return 0;
	}
	printf("%s: %zu decisions every %ld h (%s half), %.1f independent weeks, horizon %ld h\n",
	    csv, r.decisions, step, half_name(half), r.weeks, horizon);
	printf("%-10s %12s %8s %10s %6s %15s %7s %7s\n", "model", "mse", "skill", "mae", "da",
	    "da 95% CI", "r", "log AR");
	for (k = 0; k < r.nmodels; k++) {
		const struct bt_score *s_ = &r.s[k];

		printf("%-10s %12.6g %+8.4f %10.6g %6.3f   [%.3f, %.3f] %7.3f %7.3f\n",
		    r.names[k], s_->mse, s_->skill, s_->mae, s_->da, s_->da_low, s_->da_high,
		    s_->corr, s_->log_aspect);
	}
	return 0;
bad:
	fprintf(stderr, "alloractl backtest: bad value \"%s\"\n", optarg);
	usage(stderr);
	return 2;
}

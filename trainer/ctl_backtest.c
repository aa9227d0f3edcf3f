/* alloractl backtest: the walk-forward protocol of MODEL.md §5.3 on a CSV file. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backtest.h"
#include "config.h"
#include "report.h"
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
	    "[--model M[@K][,M[@K]...]]\n\t[--window H] [--step H] [--shrink K] "
	    "[--lambda L] [--horizon H] [--features default|b|reference]\n\t[--half "
	    "first|second|all] [--loss mse|zptae|czar] [--dump FILE] [--report DIR] [--json]\n"
	    "Models: default, ridge, xgboost, reference, momentum; M@K sets its shrink K.\n");
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

/* Writes --dump: one JSON line per decision. */
static int
write_dump(const char *path, const struct bt_result *r)
{
	FILE *fp = fopen(path, "w");
	char ts[40];
	size_t i, k;

	if (fp == NULL) {
		fprintf(stderr, "alloractl backtest: --dump %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < r->decisions; i++) {
		json_t *j = json_pack("{s:s, s:f, s:{}}", "time", iso8601((double)r->time[i], ts,
		    sizeof(ts)), "realized", r->realized[i], "pred");
		json_t *pj = json_object_get(j, "pred");
		char *line;

		for (k = 0; k < r->nmodels; k++)
			json_object_set_new(pj, r->names[k], json_real(r->pred[k][i]));
		line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
		fprintf(fp, "%s\n", line);
		free(line);
		json_decref(j);
	}
	if (ferror(fp) | (fclose(fp) != 0)) {
		fprintf(stderr, "alloractl backtest: --dump %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static json_t *
jci(const double ci[2])
{
	if (!isfinite(ci[0]) || !isfinite(ci[1]))
		return json_null();
	return json_pack("[f, f]", ci[0], ci[1]);
}

/* INTERFACES.md "alloractl backtest --json". */
json_t *
backtest_json(const struct bt_result *r, long step, enum bt_half half)
{
	char a[40], b[40];
	json_t *j, *ms;
	size_t k;

	j = json_pack("{s:f, s:I, s:I, s:I, s:s, s:{}, s:s, s:s, s:s}", "weeks", r->weeks,
	    "decisions", (json_int_t)r->decisions, "step_h", (json_int_t)step, "window_h",
	    (json_int_t)r->start_window, "half", half_name(half), "models", "loss",
	    loss_method_name(r->loss), "first_decision", iso8601((double)r->first_decision, a,
	    sizeof(a)), "last_decision", iso8601((double)r->last_decision, b, sizeof(b)));
	ms = json_object_get(j, "models");
	for (k = 0; k < r->nmodels; k++) {
		const struct bt_score *s_ = &r->s[k];

		json_object_set_new(ms, r->names[k], json_pack("{s:o, s:o, s:o, s:o, s:o, "
		    "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "mse", jnum(s_->mse), "skill",
		    jnum(s_->skill), "mae", jnum(s_->mae), "da", jnum(s_->da), "da_low",
		    jnum(s_->da_low), "da_high", jnum(s_->da_high), "corr", jnum(s_->corr),
		    "zptae_rel", jnum(s_->zptae_rel), "log_aspect", jnum(s_->log_aspect),
		    "czar_rel", jnum(s_->czar_rel), "mse_skill_ci", jci(s_->mse_skill_ci),
		    "corr_ci", jci(s_->corr_ci), "loss_rel", jnum(s_->loss_rel), "loss_rel_ci",
		    jci(s_->loss_rel_ci)));
	}
	return j;
}

/* "name" or "name@k": the model and its shrink (-1: none given). */
static int
split_model(const char *tok, char *name, size_t len, double *k)
{
	const char *at = strchr(tok, '@');

	*k = -1;
	if (at == NULL) {
		snprintf(name, len, "%s", tok);
		return strlen(tok) < len && tok[0] != '\0' ? 0 : -1;
	}
	if ((size_t)(at - tok) >= len || at == tok || parse_double(at + 1, k) == -1 ||
	    !isfinite(*k) || *k < 0 || *k > 10)
		return -1;
	snprintf(name, len, "%.*s", (int)(at - tok), tok);
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
		{ "loss", required_argument, NULL, 'L' },
		{ "dump", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct model_spec m[BT_MAXMODELS];
	struct bt_result r;
	struct bt_opts bo;
	struct bars b;
	struct config *c = NULL;
	const struct config_topic *t = NULL;
	enum bt_half half = BT_ALL;
	enum loss_method lm = LOSS_MSE;
	const char *csv = NULL, *model = NULL, *dump = NULL, *report = NULL, *loss = NULL;
	char err[1024], names[BT_MAXMODELS][32], *list, *tok, *save = NULL;
	long window = -1, step = 24, horizon = -1, topic = 0, fs = -1;
	uint32_t tid;
	double shrink = -1, lambda = -1, ks[BT_MAXMODELS];
	int ch, json = 0, rc = 1, restrict_ = 0, have_loss = 0;
	size_t nm = 0, k, nbad, nn = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': csv = optarg; break;
		case 'm': model = optarg; break;
		case 'j': json = 1; break;
		case 'd': dump = optarg; break;
		case 'r': report = optarg; break;
		case 'L':
			loss = optarg;
			if (loss_method_parse(optarg, &lm) == -1)
				goto bad;
			have_loss = 1;
			break;
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
	(void)loss;
	if (csv == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* The models: --model's list (name or name@k each), else the configured one. */
	if (model != NULL) {
		restrict_ = 1;
		list = xstrdup(model);
		for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",",
		    &save)) {
			if (nn + 1 >= BT_MAXMODELS) {
				fprintf(stderr, "alloractl backtest: --model: at most %d models\n",
				    BT_MAXMODELS - 1);
				free(list);
				return 2;
			}
			if (split_model(tok, names[nn], sizeof(names[nn]), &ks[nn]) == -1 ||
			    model_spec_named(names[nn], &m[nn]) == -1) {
				fprintf(stderr, "alloractl backtest: --model %s: the built-in models "
				    "are default, ridge, xgboost, reference and momentum (NAME or "
				    "NAME@SHRINK)\n", tok);
				free(list);
				return 2;
			}
			snprintf(m[nn].name, sizeof(m[nn].name), "%s", tok);
			nn++;
		}
		free(list);
		if (nn == 0) {
			fprintf(stderr, "alloractl backtest: --model: no model\n");
			return 2;
		}
	}
	if (load_topic(o, topic, &c, &t) == -1)
		return 2;
	/* The loss: --loss, else the topic's configured one (auto: MSE offline). */
	if (!have_loss && t != NULL && topic_loss_config(t, &lm) == -1) {
		lm = LOSS_MSE;
		if (!json)
			fprintf(stderr, "alloractl backtest: topic %u's loss_method is auto (the "
			    "chain's, not read offline): scoring with mse; give --loss\n", t->id);
	}
	if (model == NULL) {
		snprintf(names[0], sizeof(names[0]), "default");
		if (t != NULL && model_spec_named(t->model, &m[0]) == 0)
			snprintf(names[0], sizeof(names[0]), "%s", t->model);
		else if (t != NULL)
			fprintf(stderr, "alloractl backtest: topic %u's model %s is not built in; "
			    "backtesting default\n", t->id, t->model);
		ks[0] = -1;
		nn = 1;
	}
	for (k = 0; k < nn; k++) {
		char label[32];

		snprintf(label, sizeof(label), "%s", model != NULL ? m[k].name : names[k]);
		if (t != NULL) {
			struct config_topic tt = *t;

			tt.model = names[k];
			if (model_spec_topic_loss(&tt, lm, &m[k], err, sizeof(err)) == -1) {
				fprintf(stderr, "alloractl backtest: topic %u: %s\n", t->id, err);
				config_free(c);
				return 2;
			}
		} else {
			model_spec_named(names[k], &m[k]);
			if (strcmp(names[k], "default") == 0)
				model_default_resolve(lm, &m[k]);
		}
		snprintf(m[k].name, sizeof(m[k].name), "%s", label);
		if (window > 0 && strcmp(names[k], "reference") != 0 && m[k].window !=
		    MODEL_EXPANDING)
			m[k].window = window;
		if (ks[k] >= 0)
			m[k].shrink = ks[k];
		else if (shrink >= 0)
			m[k].shrink = shrink;
		if (lambda >= 0)
			m[k].lambda = lambda;
		if (fs >= 0 && m[k].kind != MK_MOMENTUM && strcmp(names[k], "reference") != 0)
			m[k].fs = (enum fset)fs;
	}
	nm = nn;
	if (horizon <= 0)
		horizon = m[0].horizon;
	memset(&bo, 0, sizeof(bo));
	bo.loss = lm;
	bo.czar_alpha = t != NULL && t->czar_alpha >= 0 ? t->czar_alpha : CZAR_ALPHA_EVAL;
	/* --window, else the configured (or default) model's window, decides the start. */
	bo.start_window = window > 0 ? window : m[0].window != MODEL_EXPANDING ? m[0].window :
	    MODEL_DEFAULT_WINDOW;
	bo.keep = dump != NULL || report != NULL;
	bo.seed = BT_SEED;
	bo.nboot = BT_BOOT;
	if (!restrict_ && strcmp(names[0], "reference") != 0)	/* --model restricts */
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
	if (backtest_run_opts(&b, horizon, step, half, m, nm, &bo, &r, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "alloractl backtest: %s: %s\n", csv, err);
		goto out;
	}
	rc = 0;
	if (dump != NULL && write_dump(dump, &r) == -1)
		rc = 1;
	if (report != NULL && bt_report(report, &r, csv, step, half, err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl backtest: --report %s: %s\n", report, err);
		rc = 1;
	}
	if (json) {
		json_t *j = backtest_json(&r, step, half);
		char *s;

		s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(j);
		goto out;
	}
	{
		char a[40], bb[40];

		printf("%s: %zu decisions every %ld h (%s half, %s to %s), %.1f independent "
		    "weeks, horizon %ld h, window %ld h, loss %s\n", csv, r.decisions, step,
		    half_name(half), iso8601((double)r.first_decision, a, sizeof(a)),
		    iso8601((double)r.last_decision, bb, sizeof(bb)), r.weeks, horizon,
		    r.start_window, loss_method_name(r.loss));
	}
	for (k = 0; k < nm; k++) {
		model_describe_spec(&m[k], err, sizeof(err));
		printf("  %s\n", err);
		if (m[k].resolved[0] != '\0')
			printf("    default is %s: %s\n", m[k].resolved, m[k].resolved_why);
	}
	printf("%-14s %11s %8s %17s %6s %15s %7s %15s %8s %8s %8s %7s\n", "model", "mse",
	    "skill", "skill 95% CI", "da", "da 95% CI", "r", "r 95% CI", "zptae/0", "czar/0",
	    "loss/0", "log AR");
	for (k = 0; k < r.nmodels; k++) {
		const struct bt_score *s_ = &r.s[k];

		printf("%-14s %11.6g %+8.4f [%+7.4f,%+7.4f] %6.3f   [%.3f, %.3f] %7.3f "
		    "[%+.3f,%+.3f] %8.4f %8.4f %8.4f %7.3f\n", r.names[k], s_->mse, s_->skill,
		    s_->mse_skill_ci[0], s_->mse_skill_ci[1], s_->da, s_->da_low, s_->da_high,
		    s_->corr, s_->corr_ci[0], s_->corr_ci[1], s_->zptae_rel, s_->czar_rel,
		    s_->loss_rel, s_->log_aspect);
	}
out:
	backtest_free(&r);
	bars_free(&b);
	return rc;
bad:
	fprintf(stderr, "alloractl backtest: bad value \"%s\"\n", optarg);
	usage(stderr);
	return 2;
}

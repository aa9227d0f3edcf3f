/*
 * alloractl loss: the network's losses (trainer/loss.h) of predictions for one realised
 * value, as INTERFACES.md "alloractl loss" specifies.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "loss.h"
#include "util.h"

#define LOSS_MAX_PRED	100000

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: alloractl loss --method mse|zptae|czar --true Y --pred P[,P...] "
	    "--std S\n\t[--alpha A] [--epsilon E] [--tau T] [--json]\n"
	    "One loss per prediction, one per line; CZAR defaults here: alpha %g, epsilon %g, "
	    "tau %g.\n", CZAR_ALPHA_CMD, CZAR_EPSILON, CZAR_TAU);
}

static int
num(const char *opt, const char *s, double lo, double hi, double *out)
{
	if (parse_double(s, out) == -1 || !isfinite(*out) || *out < lo || *out > hi) {
		fprintf(stderr, "alloractl loss: --%s: \"%s\" is not a number in [%g, %g]\n", opt,
		    s, lo, hi);
		return -1;
	}
	return 0;
}

int
ctl_loss(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "true", required_argument, NULL, 'y' },
		{ "pred", required_argument, NULL, 'p' },
		{ "std", required_argument, NULL, 's' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "epsilon", required_argument, NULL, 'e' },
		{ "tau", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct czar_params cp = { CZAR_ALPHA_CMD, CZAR_EPSILON, CZAR_TAU };
	enum loss_method m = LOSS_MSE;
	const char *method = NULL, *preds = NULL;
	double y = NAN, sg = NAN, *p = NULL, l;
	size_t np = 0, i;
	int ch, json = 0, have_y = 0, have_s = 0, rc = 2;
	char *copy, *tok, *save = NULL;
	json_t *j, *a;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': method = optarg; break;
		case 'p': preds = optarg; break;
		case 'j': json = 1; break;
		case 'y':
			if (num("true", optarg, -1e300, 1e300, &y) == -1)
				return 2;
			have_y = 1;
			break;
		case 's':
			if (num("std", optarg, 0, 1e300, &sg) == -1)
				return 2;
			have_s = 1;
			break;
		case 'a':
			if (num("alpha", optarg, 0, 1, &cp.alpha) == -1)
				return 2;
			break;
		case 'e':
			if (num("epsilon", optarg, 0, 1e6, &cp.epsilon) == -1)
				return 2;
			break;
		case 't':
			if (num("tau", optarg, 0, 1e6, &cp.tau) == -1)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || method == NULL || preds == NULL || !have_y || !have_s) {
		fprintf(stderr, "alloractl loss: give --method, --true, --pred and --std\n");
		usage(stderr);
		return 2;
	}
	if (loss_method_parse(method, &m) == -1) {
		fprintf(stderr, "alloractl loss: --method: \"%s\" is not one of mse, zptae, czar\n",
		    method);
		return 2;
	}
	copy = xstrdup(preds);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (np == LOSS_MAX_PRED) {
			fprintf(stderr, "alloractl loss: --pred: more than %d predictions\n",
			    LOSS_MAX_PRED);
			goto out;
		}
		p = xrealloc(p, (np + 1) * sizeof(*p));
		if (num("pred", tok, -1e300, 1e300, &p[np]) == -1)
			goto out;
		np++;
	}
	if (np == 0 || preds[0] == ',' || preds[strlen(preds) - 1] == ',' ||
	    strstr(preds, ",,") != NULL) {
		fprintf(stderr, "alloractl loss: --pred: \"%s\" is not a comma-separated list of "
		    "numbers\n", preds);
		goto out;
	}
	if (sg <= LOSS_SIGMA_MIN && m != LOSS_MSE)
		fprintf(stderr, "alloractl loss: warning: --std %g is below %g; %g is used\n", sg,
		    LOSS_SIGMA_MIN, LOSS_SIGMA_MIN);
	j = json_pack("{s:s, s:f, s:f, s:[]}", "method", loss_method_name(m), "true", y, "std",
	    sg, "losses");
	a = json_object_get(j, "losses");
	for (i = 0; i < np; i++) {
		l = loss_value(m, y, p[i], sg, &cp);
		if (!json)
			printf("%.15g\n", l);
		json_array_append_new(a, isfinite(l) ? json_real(l) : json_null());
	}
	if (json) {
		char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));

		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
	rc = 0;
out:
	free(copy);
	free(p);
	return rc;
}

/*
 * `alloractl history --topic N --report DIR`, the drawing half (issue 19): alloractl
 * writes DIR/history.json (supervisor/history_shadow.c: the rows it shows, with their
 * realised values, and the shadow scores) and runs `allora-workerd-trainer ctl report
 * --history FILE DIR`, which turns it into a report series and calls report_write (cairo is
 * the trainer's only).  Models: zero, ours (the submitted values), the network's where the
 * ledger has its value, and each shadow model; a model without a value in a window is left
 * out of that window, one without any value out of the pictures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "report.h"
#include "util.h"


static double
dval(json_t *v)
{
	double x;

	return json_is_string(v) && parse_double(json_string_value(v), &x) == 0 &&
	    isfinite(x) ? x : NAN;
}

int
ctl_report(const struct ctl_opts *o, int argc, char **argv)
{
	const char *from = NULL, *dir = NULL;
	json_t *j, *rows, *r, *names, *v;
	json_error_t jerr;
	struct report_series s;
	const char **nm;
	double **pred, *y, *sg, sigma;
	int64_t *tm;
	size_t i, k, n = 0, nmod, idx;
	char err[512];
	int rc, net = 0;
	const char *key;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: allora-workerd-trainer ctl report --history FILE DIR (run by "
		    "`alloractl history --report DIR`)\n");
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "--history") != 0) {
		fprintf(stderr, "allora-workerd-trainer ctl report: expected --history FILE DIR "
		    "(use `alloractl history --topic N --report DIR`)\n");
		return 2;
	}
	from = argv[2];
	dir = argv[3];
	if ((j = json_load_file(from, 0, &jerr)) == NULL || !json_is_array(rows =
	    json_object_get(j, "rows"))) {
		fprintf(stderr, "alloractl history: %s:%d: %s\n", from, jerr.line, j == NULL ?
		    jerr.text : "no \"rows\" array");
		json_decref(j);
		return 1;
	}
	/* The models: zero, ours, the network's (when any), the shadow models. */
	names = json_array();
	json_array_append_new(names, json_string("zero"));
	json_array_append_new(names, json_string("ours"));
	json_array_foreach(rows, i, r)
		if (json_is_string(json_object_get(r, "network_value")))
			net = 1;
	if (net)
		json_array_append_new(names, json_string("network"));
	json_array_foreach(json_object_get(j, "scores"), i, v)
		if (json_is_string(json_object_get(v, "model")))
			json_array_append(names, json_object_get(v, "model"));
	json_array_foreach(rows, i, r)
		json_object_foreach(json_object_get(r, "shadow"), key, v) {
			size_t m;

			for (m = 0; m < json_array_size(names); m++)
				if (strcmp(json_string_value(json_array_get(names, m)), key) == 0)
					break;
			if (m == json_array_size(names))
				json_array_append_new(names, json_string(key));
		}
	nmod = json_array_size(names);
	tm = xcalloc(json_array_size(rows) + 1, sizeof(*tm));
	y = xcalloc(json_array_size(rows) + 1, sizeof(*y));
	sg = xcalloc(json_array_size(rows) + 1, sizeof(*sg));
	pred = xcalloc(nmod, sizeof(*pred));
	nm = xcalloc(nmod, sizeof(*nm));
	for (k = 0; k < nmod; k++) {
		pred[k] = xcalloc(json_array_size(rows) + 1, sizeof(double));
		nm[k] = json_string_value(json_array_get(names, k));
	}
	sigma = json_is_number(json_object_get(j, "sigma")) ?
	    json_number_value(json_object_get(j, "sigma")) : NAN;
	/* The windows whose ground truth is known, oldest first (the rows' order). */
	json_array_foreach(rows, idx, r) {
		double when = 0;

		if (isnan(y[n] = dval(json_object_get(r, "realized"))) ||
		    !json_is_string(json_object_get(r, "time")) ||
		    parse_iso8601(json_string_value(json_object_get(r, "time")), &when) == -1)
			continue;
		tm[n] = (int64_t)when;
		sg[n] = sigma;
		pred[0][n] = 0;
		pred[1][n] = dval(json_object_get(r, "value"));
		k = 2;
		if (net)
			pred[k++][n] = dval(json_object_get(r, "network_value"));
		for (; k < nmod; k++)
			pred[k][n] = dval(json_object_get(json_object_get(json_object_get(r,
			    "shadow"), nm[k]), "value"));
		n++;
	}
	/* A model with no value in any of these windows (one that always failed) is left out. */
	for (k = 1; k < nmod; ) {
		for (i = 0; i < n && isnan(pred[k][i]); i++)
			;
		if (i < n || k == 1) {
			k++;
			continue;
		}
		free(pred[k]);
		memmove(pred + k, pred + k + 1, (nmod - k - 1) * sizeof(*pred));
		memmove(nm + k, nm + k + 1, (nmod - k - 1) * sizeof(*nm));
		nmod--;
	}
	memset(&s, 0, sizeof(s));
	s.title = json_is_string(json_object_get(j, "title")) ?
	    json_string_value(json_object_get(j, "title")) : "history";
	s.n = n;
	s.time = tm;
	s.realized = y;
	s.sigma = sg;
	s.nmodels = nmod;
	s.names = nm;
	s.pred = pred;
	s.loss = LOSS_ZPTAE;
	if (json_is_string(json_object_get(j, "loss")))
		loss_method_parse(json_string_value(json_object_get(j, "loss")), &s.loss);
	s.czar = (struct czar_params){ CZAR_ALPHA_EVAL, CZAR_EPSILON, CZAR_TAU };
	if (n == 0) {
		fprintf(stderr, "alloractl history: --report %s: no window has a realised value "
		    "yet (the bar %s h after it is not in the bars)\n", dir, "target_hours");
		rc = 1;
	} else if (report_write(dir, &s, json_object_get(j, "scores"), err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "alloractl history: --report: %s\n", err);
		rc = 1;
	} else {
		printf("report of %zu windows written to %s (report.json, cumulative_loss.png, "
		    "scatter.png, calibration.png)\n", n, dir);
		rc = 0;
	}
	for (k = 0; k < nmod; k++)
		free(pred[k]);
	free(pred);
	free(nm);
	free(tm);
	free(y);
	free(sg);
	json_decref(names);
	json_decref(j);
	return rc;
}

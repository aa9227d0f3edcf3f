/*
 * `alloractl history --shadow` and `--report DIR` (issue 19): each shadow model's value
 * and loss in a row, the summary per model after the table, and the report's input
 * (DIR/history.json) handed to the trainer's program, which draws it
 * (trainer/ctl_report.c; alloractl maps no cairo).  The scores are trainer/truth.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "trainer/truth.h"
#include "util.h"

json_t	*history_shadow_row(const struct truth *, json_t *rec, double realized);
void	 history_shadow_summary(json_t *scores, const char *loss);
int	 history_report(const struct ctl_opts *, const char *dir,
	    const struct config_topic *, const struct truth *, json_t *rows, json_t *scores);

json_t *
history_shadow_row(const struct truth *tr, json_t *rec, double y)
{
	json_t *o = json_object(), *v;
	const char *model;
	double x;

	json_object_foreach(json_object_get(rec, "shadow"), model, v) {
		const char *val = json_string_value(json_object_get(v, "value"));
		json_t *e = json_object();

		json_object_set_new(e, "value", val != NULL ? json_string(val) : json_null());
		if (val != NULL && parse_double(val, &x) == 0 && !isnan(truth_loss(tr, y, x)))
			json_object_set_new(e, "loss", json_real(truth_loss(tr, y, x)));
		else
			json_object_set_new(e, "loss", json_null());
		if (val == NULL && json_is_string(json_object_get(v, "reason")))
			json_object_set(e, "reason", json_object_get(v, "reason"));
		json_object_set_new(o, model, e);
	}
	return o;
}

static void
num(char *buf, size_t len, json_t *v)
{
	if (json_is_number(v))
		snprintf(buf, len, "%.4g", json_number_value(v));
	else
		snprintf(buf, len, "-");
}

void
history_shadow_summary(json_t *scores, const char *loss)
{
	json_t *e;
	size_t i;

	printf("\nshadow models (loss %s, over the windows each has a value and a realised "
	    "value for):\n", loss);
	printf("%-32s %7s %10s %10s %10s %12s %s\n", "MODEL", "WINDOWS", "LOSS", "ZERO",
	    "SUBMITTED", "LOSS-ZERO", "95% INTERVAL");
	json_array_foreach(scores, i, e) {
		char l[32], z[32], sb[32], d[32], ci[64] = "-";
		json_t *c = json_object_get(e, "ci");

		num(l, sizeof(l), json_object_get(e, "loss"));
		num(z, sizeof(z), json_object_get(e, "zero_loss"));
		num(sb, sizeof(sb), json_object_get(e, "submitted_loss"));
		num(d, sizeof(d), json_object_get(e, "loss_minus_zero"));
		if (json_array_size(c) == 2)
			snprintf(ci, sizeof(ci), "[%.4g, %.4g]",
			    json_number_value(json_array_get(c, 0)),
			    json_number_value(json_array_get(c, 1)));
		printf("%-32.32s %7lld %10s %10s %10s %12s %s\n",
		    json_string_value(json_object_get(e, "model")),
		    (long long)json_integer_value(json_object_get(e, "n")), l, z, sb, d, ci);
	}
}

int
history_report(const struct ctl_opts *o, const char *dir, const struct config_topic *t,
    const struct truth *tr, json_t *rows, json_t *scores)
{
	json_t *j;
	char *path, *s, *title;
	char *args[6];
	int rc;

	if (mkdir_p(dir, 0755) == -1) {
		fprintf(stderr, "alloractl history: --report %s: %s\n", dir, strerror(errno));
		return 1;
	}
	title = xasprintf("history of topic %u", t->id);
	j = json_pack("{s:s, s:I, s:s, s:o, s:O, s:O}", "title", title, "topic",
	    (json_int_t)t->id, "loss", loss_method_name(tr->m), "sigma", isfinite(tr->sd) ?
	    json_real(tr->sd) : json_null(), "scores", scores != NULL ? scores : json_null(),
	    "rows", rows);
	free(title);
	s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	path = xasprintf("%s/history.json", dir);
	if (s == NULL || write_file_atomic(path, s, strlen(s), 0644) == -1) {
		fprintf(stderr, "alloractl history: %s: %s\n", path, strerror(errno));
		free(s);
		free(path);
		return 1;
	}
	free(s);
	args[0] = (char *)"report";
	args[1] = (char *)"--history";
	args[2] = path;
	args[3] = (char *)dir;
	args[4] = NULL;
	rc = ctl_via_trainer(o, 4, args);
	free(path);
	return rc;
}

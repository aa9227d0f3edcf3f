/*
 * One prediction of a topic (see trainer.h): its JSON both ways (the PREDICTION frame,
 * alloractl predict, the cache file, the training helper's answer), the fallback, the
 * prediction cache (state_dir/cache/topic-<id>/prediction.json) and predict_topic, which
 * trains the topic's built-in model (model.c) when the cache does not answer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "dec.h"
#include "log.h"
#include "model.h"
#include "trainer.h"
#include "trainer_int.h"
#include "extpred.h"
#include "util.h"

static char *
cache_path(const struct config *c, uint32_t topic)
{
	return xasprintf("%s/cache/topic-%u/prediction.json", c->state_dir, topic);
}

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
prediction_json(uint32_t topic, const struct prediction *p)
{
	char a[40], b[40], c[40];
	json_t *j, *v;

	j = json_pack("{s:I, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:o}", "topic",
	    (json_int_t)topic, "value", p->have_value ? json_string(p->value) : json_null(), "source",
	    p->source, "reason", p->reason[0] ? json_string(p->reason) : json_null(), "model",
	    p->model, "trained_at", p->trained_at > 0 ? json_string(iso8601(p->trained_at, a,
	    sizeof(a))) : json_null(), "data_from", p->data_from > 0 ? json_string(iso8601(
	    p->data_from, b, sizeof(b))) : json_null(), "data_to", p->data_to > 0 ?
	    json_string(iso8601(p->data_to, c, sizeof(c))) : json_null(), "rows",
	    (json_int_t)p->rows, "validation", p->have_val ? json_pack("{s:o, s:o, s:o, s:o}",
	    "mse", jnum(p->val.mse), "mse_zero", jnum(p->val.mse_zero), "da", jnum(p->val.da),
	    "log_aspect", jnum(p->val.log_aspect)) : json_null());
	if (j == NULL)
		return NULL;
	if (p->loss_method != NULL) {
		json_object_set_new(j, "loss_method", json_string(p->loss_method));
		if (p->loss_note[0] != '\0')
			json_object_set_new(j, "loss_method_note", json_string(p->loss_note));
	}
	if (p->model_resolved[0] != '\0') {
		json_object_set_new(j, "model_resolved", json_string(p->model_resolved));
		json_object_set_new(j, "model_resolved_why", json_string(p->resolved_why));
	}
	if ((v = json_object_get(j, "validation")) != NULL && json_is_object(v)) {
		json_object_set_new(v, "loss_method", json_string(loss_method_name(
		    p->val.loss)));
		json_object_set_new(v, "loss", jnum(p->val.loss_model));
		json_object_set_new(v, "loss_zero", jnum(p->val.loss_zero));
	}
	return j;
}

/* The static name of a loss method's text, or NULL. */
static const char *
loss_name_of(const char *s)
{
	enum loss_method m;

	return s != NULL && loss_method_parse(s, &m) == 0 ? loss_method_name(m) : NULL;
}

void
fallback(const struct config_topic *t, struct prediction *p, const char *why)
{
	char err[128];

	p->source = "fallback";
	snprintf(p->reason, sizeof(p->reason), "%s", why);
	if (strcmp(t->fallback, "skip") == 0 ||
	    dec_value(t->fallback, p->value, sizeof(p->value), err, sizeof(err)) == -1)
		p->have_value = 0;
	else
		p->have_value = 1;
}

static const char *
source_name(const char *s)
{
	if (s != NULL && strcmp(s, "cache") == 0)
		return "cache";
	if (s != NULL && strcmp(s, "fresh") == 0)
		return "fresh";
	return "fallback";
}

/* The inverse of prediction_json (the cache file, the training helper's answer). */
int
prediction_from_json(json_t *d, struct prediction *p)
{
	const char *val, *model, *reason;
	json_t *v;

	memset(p, 0, sizeof(*p));
	val = json_string_value(json_object_get(d, "value"));
	model = json_string_value(json_object_get(d, "model"));
	reason = json_string_value(json_object_get(d, "reason"));
	if (model == NULL || !json_is_string(json_object_get(d, "source")))
		return -1;
	if (val != NULL) {
		if (val[0] == '{') {
			/* labelled values, cached in their canonical text */
			char e[160], *w = xasprintf("{\"labels\": %s}", val);
			int r = extpred_parse_labels(w, strlen(w), p->value, sizeof(p->value), e,
			    sizeof(e));

			free(w);
			if (r != 1 || strcmp(p->value, val) != 0)
				return -1;
		} else if (dec_value(val, p->value, sizeof(p->value), NULL, 0) == -1)
			return -1;
		p->have_value = 1;
	}
	p->source = source_name(json_string_value(json_object_get(d, "source")));
	snprintf(p->model, sizeof(p->model), "%s", model);
	snprintf(p->reason, sizeof(p->reason), "%s", reason != NULL ? reason : "");
	parse_iso8601(json_string_value(json_object_get(d, "trained_at")) ?: "", &p->trained_at);
	parse_iso8601(json_string_value(json_object_get(d, "data_from")) ?: "", &p->data_from);
	parse_iso8601(json_string_value(json_object_get(d, "data_to")) ?: "", &p->data_to);
	p->rows = (size_t)json_integer_value(json_object_get(d, "rows"));
	p->train_ms = json_number_value(json_object_get(d, "train_ms"));
	p->loss_method = loss_name_of(json_string_value(json_object_get(d, "loss_method")));
	snprintf(p->loss_note, sizeof(p->loss_note), "%s", json_string_value(json_object_get(d,
	    "loss_method_note")) ?: "");
	snprintf(p->model_resolved, sizeof(p->model_resolved), "%s", json_string_value(
	    json_object_get(d, "model_resolved")) ?: "");
	snprintf(p->resolved_why, sizeof(p->resolved_why), "%s", json_string_value(
	    json_object_get(d, "model_resolved_why")) ?: "");
	v = json_object_get(d, "validation");
	if (json_is_object(v)) {
		const char *lm = loss_name_of(json_string_value(json_object_get(v,
		    "loss_method")));

		p->have_val = 1;
		if (lm != NULL)
			(void)loss_method_parse(lm, &p->val.loss);
		p->val.loss_model = json_is_number(json_object_get(v, "loss")) ?
		    json_number_value(json_object_get(v, "loss")) : NAN;
		p->val.loss_zero = json_is_number(json_object_get(v, "loss_zero")) ?
		    json_number_value(json_object_get(v, "loss_zero")) : NAN;
		p->val.mse = json_number_value(json_object_get(v, "mse"));
		p->val.mse_zero = json_number_value(json_object_get(v, "mse_zero"));
		p->val.da = json_number_value(json_object_get(v, "da"));
		p->val.log_aspect = json_is_number(json_object_get(v, "log_aspect")) ?
		    json_number_value(json_object_get(v, "log_aspect")) : NAN;
	}
	return 0;
}

/* A fallback without a topic (it was removed): no value. */
void
fallback_plain(struct prediction *p, const char *why)
{
	p->source = "fallback";
	p->have_value = 0;
	snprintf(p->reason, sizeof(p->reason), "%s", why);
}

/* A cached built-in prediction was made for the topic's loss method as known now. */
static int
cache_loss_ok(const struct config_topic *t, const struct prediction *p)
{
	char note[160];
	enum loss_method m = trainer_topic_loss(t, note, sizeof(note));

	if (strncmp(t->model, "exec:", 5) == 0 || strncmp(t->model, "http", 4) == 0)
		return 1;
	/* A cache written before loss methods were known was scored and resolved as mse. */
	return strcmp(p->loss_method != NULL ? p->loss_method : "mse", loss_method_name(m)) == 0;
}

/* The cached prediction, when younger than cache_ttl. */
int
from_cache(const struct config *c, const struct config_topic *t, double now,
    struct prediction *p)
{
	char *path = cache_path(c, t->id);
	json_t *d;
	json_error_t je;

	{
		/* A cache file: never read through a symbolic link (safefs.h). */
		size_t len;
		char *text = read_file_nofollow(path, (size_t)1 << 20, &len);

		d = text != NULL ? json_loadb(text, len, 0, &je) : NULL;
		if (text == NULL)
			snprintf(je.text, sizeof(je.text), "%s", strerror(errno));
		free(text);
	}
	if (d == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("topic %u: discarding an unreadable prediction cache (%s)", t->id,
			    je.text);
		free(path);
		return -1;
	}
	free(path);
	if (prediction_from_json(d, p) == -1 || !p->have_value || strcmp(p->model,
	    t->model) != 0 || p->trained_at <= 0 || now - p->trained_at >= t->cache_ttl ||
	    now < p->trained_at - 60 || !cache_loss_ok(t, p)) {
		json_decref(d);
		memset(p, 0, sizeof(*p));
		return -1;
	}
	p->source = "cache";
	p->reason[0] = '\0';
	p->train_ms = 0;
	json_decref(d);
	return 0;
}

/* Writes the topic's prediction.json (temporary name, then rename). */
void
cache_write(const struct config *c, const struct config_topic *t, const struct prediction *p)
{
	char *cp = cache_path(c, t->id), *dir = path_dirname(cp), *s;
	json_t *j = prediction_json(t->id, p);

	json_object_set_new(j, "source", json_string("fresh"));
	s = json_dumps(j, JSON_INDENT(1));
	if (mkdir_p(dir, 0750) == -1 || write_file_atomic(cp, s, strlen(s), 0640) == -1)
		log_warn("topic %u: writing %s", t->id, cp);
	free(s);
	json_decref(j);
	free(cp);
	free(dir);
}

/*
 * One prediction for topic t.  csv: a file overriding the data source (its newest bar is
 * "now" for staleness); use_cache: answer from the cache when fresh.
 */
void
predict_topic(const struct config *c, const struct config_topic *t, const char *csv,
    int use_cache, struct prediction *p)
{
	struct topic_fit tf;
	enum loss_method lm;
	char err[512];
	double t0 = mono_s();

	memset(p, 0, sizeof(*p));
	snprintf(p->model, sizeof(p->model), "%s", t->model);
	if (use_cache && from_cache(c, t, wall_s(), p) == 0)
		return;
	lm = trainer_topic_loss(t, p->loss_note, sizeof(p->loss_note));
	p->loss_method = loss_method_name(lm);
	/*
	 * The topic's model (model.c: default, ridge, xgboost, reference, momentum) on its
	 * bars, from the newest complete bar; the model file is saved beside prediction.json.
	 */
	if (topic_fit(c, t, csv, csv == NULL && use_cache, lm, &tf, err, sizeof(err)) == -1) {
		fallback(t, p, err);
		return;
	}
	snprintf(p->model_resolved, sizeof(p->model_resolved), "%s", tf.resolved);
	snprintf(p->resolved_why, sizeof(p->resolved_why), "%s", tf.resolved_why);
	if (dec_from_double(tf.value, p->value, sizeof(p->value), err, sizeof(err)) == -1) {
		fallback(t, p, err);
		return;
	}
	p->have_value = 1;
	p->source = "fresh";
	p->trained_at = wall_s();
	p->data_from = tf.data_from;
	p->data_to = tf.data_to;
	p->rows = tf.rows;
	p->have_val = tf.have_val;
	p->val = tf.val;
	p->train_ms = (mono_s() - t0) * 1000;
	if (csv == NULL && use_cache)
		cache_write(c, t, p);
}

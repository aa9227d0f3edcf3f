/*
 * Shadow models in the supervisor (issue 19): the trainer's SHADOW frames become `shadow`
 * ledger records (model, value|null, reason) of a nonce the ledger already has; they are
 * never sent to the submitter (nothing here talks to it) and never change a nonce's state.
 * The running losses are the trainer's (it has the bars and the losses, trainer/truth.c,
 * the code of `alloractl history --shadow`): its SHADOW_SCORES frames become status's
 * `topics[].shadow` and the gauges allora_worker_shadow_loss_minus_zero{topic, model} and
 * allora_worker_shadow_windows{topic, model}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "metrics.h"
#include "shadow.h"
#include "sup.h"
#include "util.h"

#define SHADOW_VALUE_MAX	2048

struct shadow_topic {
	uint32_t	 topic;
	json_t		*scores;	/* the trainer's last array */
	char		*labels;	/* of the gauges set, "\n"-separated */
};
static struct shadow_topic *ST;
static size_t NST;

static struct shadow_topic *
st_of(uint32_t topic, int create)
{
	size_t i;

	for (i = 0; i < NST; i++)
		if (ST[i].topic == topic)
			return &ST[i];
	if (!create)
		return NULL;
	ST = xrealloc(ST, (NST + 1) * sizeof(*ST));
	memset(&ST[NST], 0, sizeof(ST[NST]));
	ST[NST].topic = topic;
	return &ST[NST++];
}

static int
listed(const struct config_topic *ct, const char *model)
{
	char why[300], **v;
	size_t n, i;
	int found = 0;

	if ((v = config_shadow_split(ct->shadow, &n, why, sizeof(why))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(v[i], model) == 0)
			found = 1;
	config_shadow_free(v);
	return found;
}

void
shadow_frame(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *model = frame_str(f, "model"), *value = frame_str(f, "value");
	const char *reason = frame_str(f, "reason");
	const struct config_topic *ct = config_topic(sup->conf, topic);
	json_t *ms = json_object_get(f->payload, "ms");

	if (ct == NULL || model == NULL || !listed(ct, model)) {
		log_debug("SHADOW for topic %u model %s, which is not a shadow model of it; "
		    "ignored", topic, model != NULL ? model : "?");
		return;
	}
	if (flow_nonce_state(topic, nonce) == NULL) {
		log_debug("SHADOW for topic %u nonce %lld, which the ledger does not have; "
		    "ignored", topic, (long long)nonce);
		return;
	}
	if (value != NULL && strlen(value) > SHADOW_VALUE_MAX) {
		value = NULL;
		reason = "the value is too long";
	}
	flow_note(topic, nonce, "shadow", json_pack("{s:s, s:s?, s:s?, s:O?}", "model", model,
	    "value", value, "reason", reason, "ms", json_is_number(ms) ? ms : NULL));
}

static void
gauges_clear(struct shadow_topic *s)
{
	char *p, *nl;

	for (p = s->labels; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		metrics_gauge_unset("allora_worker_shadow_loss_minus_zero", p);
		metrics_gauge_unset("allora_worker_shadow_windows", p);
		*nl = '\n';
	}
	free(s->labels);
	s->labels = NULL;
}

/* The trainer's running losses of a topic's shadow models: status and the gauges. */
void
shadow_scores_frame(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	json_t *sc = json_object_get(f->payload, "scores"), *e;
	struct shadow_topic *s;
	char esc[256], *lab, *acc;
	size_t i;

	if (config_topic(sup->conf, topic) == NULL || !json_is_array(sc))
		return;
	s = st_of(topic, 1);
	json_decref(s->scores);
	s->scores = json_incref(sc);
	gauges_clear(s);
	acc = xstrdup("");
	json_array_foreach(sc, i, e) {
		json_t *d = json_object_get(e, "loss_minus_zero");
		const char *model = json_string_value(json_object_get(e, "model"));
		char *x;

		if (model == NULL)
			continue;
		label_escape(esc, sizeof(esc), model);
		lab = xasprintf("topic=\"%u\",model=\"%s\"", topic, esc);
		metrics_gauge("allora_worker_shadow_windows", lab,
		    (double)json_integer_value(json_object_get(e, "n")));
		if (json_is_number(d))
			metrics_gauge("allora_worker_shadow_loss_minus_zero", lab,
			    json_number_value(d));
		x = xasprintf("%s%s\n", acc, lab);
		free(acc);
		acc = x;
		free(lab);
	}
	s->labels = acc;
}

void
shadow_status(uint32_t topic, json_t *x)
{
	struct shadow_topic *s = st_of(topic, 0);
	const struct config_topic *ct = config_topic(sup->conf, topic);

	if (ct == NULL || ct->shadow == NULL || ct->shadow[0] == '\0' || s == NULL ||
	    s->scores == NULL)
		json_object_set_new(x, "shadow", json_array());
	else
		json_object_set(x, "shadow", s->scores);
}

void
shadow_free(void)
{
	size_t i;

	for (i = 0; i < NST; i++) {
		json_decref(ST[i].scores);
		free(ST[i].labels);
	}
	free(ST);
	ST = NULL;
	NST = 0;
}

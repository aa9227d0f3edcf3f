/*
 * The forecaster role in the supervisor (see forecast.h).  Owns: where the listener's
 * forecaster data go (the trainer, once per trainer process), which forecast belongs to
 * which SUBMIT, what the ledger's signed record says about it, the topic's "forecast"
 * object in status and the allora_worker_forecasts_total counts.
 */
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "forecast.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "sup.h"
#include "util.h"

#define PEND_MAX	16	/* nonces of a topic whose forecast we remember */

struct fpend {
	int64_t		 nonce;		/* 0: free */
	json_t		*forecast;	/* the trainer's elements, or NULL */
	char		*reason;	/* the trainer's forecast_reason, or NULL */
	long		 elements;	/* from SIGNED, -1 not yet */
	char		*dropped;	/* the submitter's forecast_dropped */
	int		 counted;
};

struct ftopic_fc {
	uint32_t	 topic;
	json_t		*data;		/* the last FORECAST_DATA */
	pid_t		 sent_pid;	/* the trainer that has it */
	char		*score;
	int64_t		 score_height;
	long long	 elements_total;
	long		 last_elements;	/* -1 none yet */
	int64_t		 last_nonce;
	char		*last_outcome;
	char		*last_reason;
	struct fpend	 p[PEND_MAX];
};

static struct ftopic_fc *fts;
static size_t nfts;

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

static struct ftopic_fc *
ft_of(uint32_t topic)
{
	size_t i;

	for (i = 0; i < nfts; i++)
		if (fts[i].topic == topic)
			return &fts[i];
	fts = xrealloc(fts, (nfts + 1) * sizeof(*fts));
	memset(&fts[nfts], 0, sizeof(fts[nfts]));
	fts[nfts].topic = topic;
	fts[nfts].score_height = -1;
	fts[nfts].last_elements = -1;
	fts[nfts].last_nonce = -1;
	return &fts[nfts++];
}

static int
forecast_on(uint32_t topic)
{
	const struct config_topic *ct = config_topic(sup->conf, topic);

	return ct != NULL && ct->forecast != NULL && strcmp(ct->forecast, "off") != 0;
}

static void
pend_clear(struct fpend *p)
{
	json_decref(p->forecast);
	free(p->reason);
	free(p->dropped);
	memset(p, 0, sizeof(*p));
	p->elements = -1;
}

/* The slot of nonce (create: take the oldest when none). */
static struct fpend *
pend_of(struct ftopic_fc *t, int64_t nonce, int create)
{
	struct fpend *old = NULL;
	size_t i;

	for (i = 0; i < PEND_MAX; i++) {
		if (t->p[i].nonce == nonce)
			return &t->p[i];
		if (old == NULL || t->p[i].nonce < old->nonce)
			old = &t->p[i];
	}
	if (!create)
		return NULL;
	pend_clear(old);
	old->nonce = nonce;
	return old;
}

static void
count(uint32_t topic, const char *outcome, const char *reason)
{
	char lab[256];

	if (reason != NULL)
		snprintf(lab, sizeof(lab), "topic=\"%u\",outcome=\"%s\",reason=\"%s\"", topic,
		    outcome, reason);
	else
		snprintf(lab, sizeof(lab), "topic=\"%u\",outcome=\"%s\"", topic, outcome);
	metrics_count("allora_worker_forecasts_total", lab, 1);
}

static void
send_data(struct ftopic_fc *t)
{
	struct child *c = child_by_role(ROLE_TRAINER);

	if (t->data == NULL || c->peer == NULL || c->ready_ms == 0 || t->sent_pid == c->pid)
		return;
	if (sup_send_child(c, MSG_FORECAST_DATA, t->topic, 0, json_deep_copy(t->data)) == 0)
		t->sent_pid = c->pid;
}

void
supfc_data(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	struct ftopic_fc *t;
	json_t *sc = json_object_get(f->payload, "score");
	const char *ema = json_string_value(json_object_get(sc, "ema"));
	char lab[64];

	if (!forecast_on(topic)) {
		log_debug("FORECAST_DATA for topic %u, whose forecast is off: ignored", topic);
		return;
	}
	t = ft_of(topic);
	json_decref(t->data);
	t->data = json_incref(f->payload);
	t->sent_pid = 0;
	if (ema != NULL) {
		free(t->score);
		t->score = xstrdup(ema);
		t->score_height = json_integer_value(json_object_get(sc, "ema_height"));
		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
		metrics_gauge("allora_worker_forecaster_score_ema", lab, strtod(ema, NULL));
	}
	send_data(t);
}

void
supfc_trainer_ready(void)
{
	size_t i;

	for (i = 0; i < nfts; i++)
		send_data(&fts[i]);
}

void
supfc_prediction(uint32_t topic, int64_t nonce, const json_t *payload)
{
	json_t *fc = json_object_get(payload, "forecast");
	const char *reason = json_string_value(json_object_get(payload, "forecast_reason"));
	struct ftopic_fc *t;
	struct fpend *p;

	if (!forecast_on(topic))
		return;
	t = ft_of(topic);
	p = pend_of(t, nonce, 1);
	json_decref(p->forecast);
	p->forecast = json_is_array(fc) && json_array_size(fc) > 0 ? json_deep_copy(fc) : NULL;
	free(p->reason);
	p->reason = p->forecast == NULL ? xstrdup(reason != NULL ? reason : "none") : NULL;
	if (p->forecast == NULL && !p->counted) {
		/* The trainer dropped it: the inference goes alone. */
		p->counted = 1;
		count(topic, "dropped", p->reason);
		t->last_nonce = nonce;
		set_str(&t->last_outcome, "dropped");
		set_str(&t->last_reason, p->reason);
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "forecast_dropped",
		    "forecast_reason", p->reason), "topic %u nonce %lld: no forecast in this "
		    "bundle (%s); the inference goes alone", topic, (long long)nonce, p->reason);
	}
}

void
supfc_fill_submit(uint32_t topic, int64_t nonce, json_t *submit)
{
	struct fpend *p;

	if (!forecast_on(topic) || (p = pend_of(ft_of(topic), nonce, 0)) == NULL ||
	    p->forecast == NULL)
		return;
	json_object_set(submit, "forecast", p->forecast);
}

void
supfc_signed(const struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	struct fpend *p;

	if (!forecast_on(topic))
		return;
	p = pend_of(ft_of(topic), nonce, 1);
	p->elements = (long)frame_int(f, "forecast_elements", 0);
	free(p->dropped);
	p->dropped = frame_str(f, "forecast_dropped") != NULL ?
	    xstrdup(frame_str(f, "forecast_dropped")) : NULL;
}

void
supfc_fill_signed(uint32_t topic, int64_t nonce, json_t *fields)
{
	struct ftopic_fc *t;
	struct fpend *p;
	const char *outcome, *reason;

	if (!forecast_on(topic))
		return;
	t = ft_of(topic);
	p = pend_of(t, nonce, 1);
	if (p->elements > 0) {
		outcome = "included";
		reason = NULL;
	} else {
		outcome = "dropped";
		reason = p->dropped != NULL ? p->dropped : p->reason != NULL ? p->reason :
		    p->forecast != NULL ? "not_signed" : "none";
	}
	json_object_set_new(fields, "forecast", json_string(outcome));
	json_object_set_new(fields, "forecast_elements", json_integer(p->elements > 0 ?
	    p->elements : 0));
	if (reason != NULL)
		json_object_set_new(fields, "forecast_reason", json_string(reason));
	if (p->counted && strcmp(outcome, "dropped") == 0)
		return;		/* the trainer's drop, counted then */
	if (p->counted == 2)
		return;		/* this nonce was signed before */
	p->counted = 2;
	count(topic, outcome, reason);
	t->last_nonce = nonce;
	set_str(&t->last_outcome, outcome);
	set_str(&t->last_reason, reason);
	if (p->elements > 0) {
		t->elements_total += p->elements;
		t->last_elements = p->elements;
	}
	if (p->dropped != NULL)
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "forecast_dropped",
		    "forecast_reason", p->dropped), "topic %u nonce %lld: the submitter left the "
		    "forecast out (%s); the inference goes alone", topic, (long long)nonce,
		    p->dropped);
}

void
supfc_fill_scored(uint32_t topic, json_t *fields)
{
	struct ftopic_fc *t;

	if (!forecast_on(topic) || (t = ft_of(topic))->score == NULL)
		return;
	json_object_set_new(fields, "forecaster_score_ema", json_string(t->score));
}

void
supfc_status(uint32_t topic, json_t *x)
{
	const struct config_topic *ct = config_topic(sup->conf, topic);
	struct ftopic_fc *t = ft_of(topic);
	json_t *d = t->data;

	json_object_set_new(x, "forecast", json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:o, s:o}", "mode", ct != NULL && ct->forecast != NULL ? ct->forecast : "off",
	    "elements_submitted", (json_int_t)t->elements_total, "last_elements",
	    t->last_elements >= 0 ? json_integer(t->last_elements) : json_null(),
	    "last_nonce", t->last_nonce >= 0 ? json_integer(t->last_nonce) : json_null(),
	    "last_outcome", t->last_outcome ? json_string(t->last_outcome) : json_null(),
	    "last_reason", t->last_reason ? json_string(t->last_reason) : json_null(),
	    "score_ema", t->score ? json_string(t->score) : json_null(),
	    "score_height", t->score != NULL && t->score_height > 0 ?
	    json_integer(t->score_height) : json_null(),
	    "inferers", d != NULL ? json_integer((json_int_t)json_array_size(
	    json_object_get(d, "inferers"))) : json_null(),
	    "data_height", d != NULL && json_is_integer(json_object_get(d, "height")) ?
	    json_incref(json_object_get(d, "height")) : json_null()));
}

/*
 * Routing of the daemon's work (see flow.h).  Every state change of a (topic, nonce) is
 * written to the ledger first; status and metrics read the same state.  This file owns the
 * works and their routing: a window from the listener (WINDOW_OPEN, WINDOW_STATUS), the
 * PREDICT to the trainer and its PREDICTION (or the fallback), the SUBMIT to the
 * submitter, the frame dispatch and the timers (flow_tick, the competition window).  The
 * ledger side is flow_ledger.c, the submitter's answers flow_results.c, the configuration
 * reload flow_reload.c (flow_int.h: what they share).
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "dec.h"
#include "flow.h"
#include "flow_int.h"
#include "forecast.h"
#include "ledger.h"
#include "metrics.h"
#include "proc.h"
#include "scores.h"
#include "shadow.h"
#include "sup.h"
#include "util.h"

struct worklist works = TAILQ_HEAD_INITIALIZER(works);
struct ftopic *ft;
static int flow_stopping;

#define KNOWN_MAX	1024

struct topic_rt *
rt_of(uint32_t id, size_t *idx)
{
	size_t i;

	for (i = 0; i < sup->ntopics; i++)
		if (sup->topics[i].id == id) {
			if (idx != NULL)
				*idx = i;
			return &sup->topics[i];
		}
	return NULL;
}

void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

static void
known_set(size_t i, int64_t nonce, const char *state)
{
	char key[32];

	snprintf(key, sizeof(key), "%lld", (long long)nonce);
	json_object_set_new(ft[i].known, key, json_string(state));
	if (json_object_size(ft[i].known) > KNOWN_MAX) {
		/* Forget the oldest nonce: its window closed long ago. */
		const char *k, *oldest = NULL;
		long long min = 0, v;
		json_t *x;

		json_object_foreach(ft[i].known, k, x) {
			v = atoll(k);
			if (oldest == NULL || v < min) {
				oldest = k;
				min = v;
			}
		}
		if (oldest != NULL) {
			char *copy = xstrdup(oldest);

			json_object_del(ft[i].known, copy);
			free(copy);
		}
	}
}

/* Records a state change in the ledger and in the status fields. */
int
record(struct work *w, const char *state, json_t *fields, int sync)
{
	size_t i;
	struct topic_rt *t = rt_of(w->topic, &i);
	int rc;

	if (t == NULL || ft[i].ledger == NULL) {
		json_decref(fields);
		return -1;
	}
	rc = ledger_append(ft[i].ledger, w->nonce, state, fields, sync);
	if (w->nonce >= t->last_nonce) {
		t->last_nonce = w->nonce;
		set_str(&t->last_state, state);
	}
	known_set(i, w->nonce, state);
	return rc;
}

void
work_free(struct work *w)
{
	TAILQ_REMOVE(&works, w, entry);
	free(w->value);
	free(w->txhash);
	free(w->tx);
	json_decref(w->txhashes);
	free(w->wait_reason);
	free(w->cl_refused);
	free(w);
}

struct work *
work_find(uint32_t topic, int64_t nonce)
{
	struct work *w;

	TAILQ_FOREACH(w, &works, entry)
		if (w->topic == topic && w->nonce == nonce)
			return w;
	return NULL;
}

static int
child_up(enum child_role r)
{
	struct child *c = child_by_role(r);

	return c->peer != NULL && c->ready_ms != 0;
}

void
mcount(const char *name, uint32_t topic, const char *k2, const char *v2)
{
	char lab[256];

	if (k2 != NULL)
		snprintf(lab, sizeof(lab), "topic=\"%u\",%s=\"%s\"", topic, k2, v2 ? v2 : "");
	else
		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
	metrics_count(name, lab, 1);
}

void
count_missed(struct topic_rt *t, const char *reason)
{
	json_t *n;

	mcount("allora_worker_windows_missed_total", t->id, "reason", reason);
	if (t->missed == NULL)
		t->missed = json_object();
	n = json_object_get(t->missed, reason);
	json_object_set_new(t->missed, reason, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static void
finish_missed(struct work *w, const char *reason, const char *detail)
{
	struct topic_rt *t = rt_of(w->topic, NULL);

	record(w, "missed", json_pack("{s:s, s:s?}", "reason", reason, "detail", detail), 0);
	if (t != NULL)
		count_missed(t, reason);
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s?}", "topic",
	    (json_int_t)w->topic, "nonce", (json_int_t)w->nonce, "reason", reason, "detail", detail),
	    "Window missed (topic %u, nonce %lld): %s%s%s", w->topic, (long long)w->nonce,
	    reason, detail ? ": " : "", detail ? detail : "");
	work_free(w);
}

static void
send_predict(struct work *w)
{
	const struct config_topic *ct = config_topic(sup->conf, w->topic);
	long ms = ct != NULL ? ct->predict_timeout_s * 1000 : 30000;

	json_t *o;

	if (!child_up(ROLE_TRAINER) || flow_stopping)
		return;
	/* loss_method: the configuration's unless auto (then the chain's, when known). */
	o = json_pack("{s:I, s:I, s:I, s:o, s:s?}", "topic", (json_int_t)w->topic, "nonce",
	    (json_int_t)w->nonce, "deadline_ms", (json_int_t)(w->predict_deadline_ms -
	    mono_ms() > 0 ? w->predict_deadline_ms - mono_ms() : ms),
	    "window_end", w->window_end >= 0 ? json_integer(w->window_end) : json_null(),
	    "loss_method", ct != NULL && ct->loss_method != NULL && strcmp(ct->loss_method,
	    "auto") != 0 ? ct->loss_method : NULL);
	scores_fill_predict(w->topic, o);
	sup_send_child(child_by_role(ROLE_TRAINER), MSG_PREDICT, w->topic, 0, o);
	w->predict_sent = 1;
}

void
send_submit(struct work *w)
{
	const struct config_topic *ct = config_topic(sup->conf, w->topic);
	json_t *o;

	if (!child_up(ROLE_SUBMITTER) || flow_stopping || ct == NULL)
		return;
	if (w->confirm == 0 && w->txhash == NULL)
		return;		/* the chain has not said yet whether this ws window exists */
	if (cluster_enabled() && !w->cl_ok) {
		/* Sign only while our lease holds the wallet's leader key. */
		if (!w->cl_asked) {
			w->cl_asked = 1;
			cluster_presign(w->topic, w->nonce, ct->wallet, presign_done, NULL);
		}
		return;
	}
	o = json_pack("{s:I, s:I, s:s, s:o, s:s}", "topic", (json_int_t)w->topic, "nonce",
	    (json_int_t)w->nonce, "value", w->value, "window_end",
	    w->window_end >= 0 ? json_integer(w->window_end) : json_null(), "wallet", ct->wallet);
	if (cluster_enabled() && cluster_take_fresh(ct->wallet))
		/* The first since this host became the leader: the account's sequence moved. */
		json_object_set_new(o, "refresh_account", json_true());
	if (w->txhash != NULL && w->tx != NULL)
		/* Signed before: resolve that transaction, never sign a different one. */
		json_object_set_new(o, "resolve", json_pack("{s:s, s:s, s:I, s:O}", "txhash",
		    w->txhash, "tx", w->tx, "sequence", (json_int_t)w->sequence, "txhashes",
		    w->txhashes != NULL ? w->txhashes : json_pack("[s]", w->txhash)));
	supfc_fill_submit(w->topic, w->nonce, o);
	sup_send_child(child_by_role(ROLE_SUBMITTER), MSG_SUBMIT, w->topic, 0, o);
	w->submit_sent = 1;
}

static void
have_value(struct work *w, const char *value, const char *source, const char *model,
    const char *reason)
{
	struct topic_rt *t = rt_of(w->topic, NULL);

	set_str(&w->value, value);
	record(w, "predicted", json_pack("{s:s, s:s, s:s?, s:s?}", "value", value, "source",
	    source, "model", model, "reason", reason), 0);
	if (t != NULL) {
		set_str(&t->last_value, value);
		set_str(&t->last_source, source);
	}
	w->st = W_SUBMITTING;
	if (w->confirm == 0)
		log_debug("topic %u nonce %lld: waiting for the chain to confirm the websocket's "
		    "window before signing", w->topic, (long long)w->nonce);
	send_submit(w);
}

static void
use_fallback(struct work *w, const char *why)
{
	const struct config_topic *ct = config_topic(sup->conf, w->topic);

	if (ct == NULL || strcmp(ct->fallback, "skip") == 0) {
		finish_missed(w, "no_prediction", why);
		return;
	}
	log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s}", "topic", (json_int_t)w->topic,
	    "nonce", (json_int_t)w->nonce, "reason", why),
	    "Prediction function failed: %s (submitting the fallback %s)", why, ct->fallback);
	log_event(LOG_LVL_INFO, "prediction", json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}",
	    "topic", (json_int_t)w->topic, "nonce", (json_int_t)w->nonce, "value", ct->fallback,
	    "source", "fallback", "model", ct->model, "reason", why),
	    "Prediction for topic %u nonce %lld: %s (fallback)", w->topic, (long long)w->nonce,
	    ct->fallback);
	have_value(w, ct->fallback, "fallback", ct->model, why);
}

/* ---- issue 13: confirmed windows, answers from the submitter, the window's close ---- */

/* When the window will surely be closed (mono ms): two blocks and 2 s of margin. */
static int64_t
flow_close_estimate(int64_t seen_ms, int64_t window_end, int64_t height, int64_t block_ms)
{
	if (window_end > 0 && height > 0 && block_ms > 0 && window_end >= height)
		return seen_ms + (window_end - height + 2) * block_ms + 2000;
	return seen_ms + 180000;	/* as the submitter gives up without a window end */
}

/* The chain's answer about a window heard only on the websocket (listener/confirm.c). */
static void
on_window_status(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *state = frame_str(f, "state"), *why = frame_str(f, "why");
	struct work *w = work_find(topic, nonce);
	char lab[96];

	if (w == NULL && state != NULL)
		/* A standby's window (or one not taken yet): kept for a takeover by cluster.c. */
		cluster_window_status(topic, nonce, state);
	if (w == NULL || state == NULL || w->confirm == 1)
		return;
	if (strcmp(state, "open") == 0) {
		w->confirm = 1;
		if (w->st == W_SUBMITTING && !w->submit_sent)
			send_submit(w);
		return;
	}
	if (strcmp(state, "no_answer") == 0) {
		/* Asked again by the listener; a ready prediction does not wait for it. */
		if (w->confirm == 0)
			log_debug("topic %u nonce %lld: no answer yet about the websocket's window "
			    "(%s)", topic, (long long)nonce, why ? why : "?");
		w->confirm = -1;
		if (w->st == W_SUBMITTING && !w->submit_sent)
			send_submit(w);
		return;
	}
	if (strcmp(state, "not_open") != 0 || w->submit_sent || w->txhash != NULL)
		return;
	/* A window the chain does not have: nothing is signed, nothing counted as missed. */
	snprintf(lab, sizeof(lab), "topic=\"%u\",reason=\"window_not_open\"", topic);
	metrics_count("allora_worker_windows_dropped_total", lab, 1);
	record(w, "missed", json_pack("{s:s, s:s?}", "reason", "window_not_open", "detail", why),
	    0);
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s?}", "topic",
	    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "window_not_open", "detail", why),
	    "the websocket announced a window (topic %u, nonce %lld) that the chain says is not "
	    "open (%s); dropped, nothing signed", topic, (long long)nonce, why ? why : "?");
	work_free(w);
}

/*
 * Work that waits on the submitter (not signed yet) ends at the window's close as missed,
 * with the reason; a websocket window whose confirmation never came goes ahead.
 * Returns 1 when it freed the work.
 */
static int
flow_wait_over(struct work *w, int64_t now)
{
	struct child *c = child_by_role(ROLE_SUBMITTER);
	const char *reason;
	char *detail;

	if (w->confirm == 0 && !child_up(ROLE_LISTENER) &&
	    now - w->seen_ms > 2 * sup->conf->request_timeout_ms + 1000) {
		w->confirm = -1;	/* the listener went away with the question */
		send_submit(w);
	}
	if (now < w->close_ms)
		return 0;
	if (c->state == CHILD_FAILED) {
		reason = "submitter_failed";
		detail = xasprintf("the submitter is failed: %s", c->reason ? c->reason : "?");
	} else if (!child_up(ROLE_SUBMITTER)) {
		reason = "submitter_absent";
		detail = xasprintf("no submitter was running when the window closed%s%s",
		    c->reason ? ": " : "", c->reason ? c->reason : "");
	} else if (w->wait_reason != NULL) {
		reason = "submitter_refused";
		detail = xstrdup(w->wait_reason);
	} else if (w->submit_sent) {
		reason = "submitter_silent";
		detail = xstrdup("the submitter did not sign it before the window closed");
	} else {
		reason = "not_submitted";
		detail = xstrdup("it was never handed to the submitter");
	}
	finish_missed(w, reason, detail);
	free(detail);
	return 1;
}

static void
on_window_open(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *source = frame_str(f, "source");
	struct topic_rt *t;
	struct work *w;
	size_t i;
	char key[32];
	const struct config_topic *ct;

	t = rt_of(topic, &i);
	if (t == NULL || nonce <= 0) {
		log_warnx("listener reported a window for topic %u nonce %lld, which we don't "
		    "serve", topic, (long long)nonce);
		return;
	}
	if (strcmp(t->state, "serving") != 0 || flow_stopping) {
		log_debug("window of topic %u nonce %lld ignored: topic is %s", topic,
		    (long long)nonce, t->state);
		return;
	}
	snprintf(key, sizeof(key), "%lld", (long long)nonce);
	if (work_find(topic, nonce) != NULL || json_object_get(ft[i].known, key) != NULL) {
		log_debug("window of topic %u nonce %lld already handled", topic, (long long)nonce);
		return;
	}
	ct = config_topic(sup->conf, topic);
	if (ct != NULL && !cluster_window(topic, ct->wallet, f->payload)) {
		/* A standby: keep the trainer warm, sign nothing, record nothing. */
		if (child_up(ROLE_TRAINER) && !flow_stopping)
			sup_send_child(child_by_role(ROLE_TRAINER), MSG_PREDICT, topic, 0,
			    json_pack("{s:I, s:I, s:I, s:O?}", "topic", (json_int_t)topic, "nonce",
			    (json_int_t)nonce, "deadline_ms", (json_int_t)ct->predict_timeout_s *
			    1000, "window_end", json_object_get(f->payload, "window_end")));
		log_debug("window of topic %u nonce %lld: standing by for wallet %s", topic,
		    (long long)nonce, ct->wallet);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->topic = topic;
	w->nonce = nonce;
	w->window_end = frame_int(f, "window_end", -1);
	w->st = W_PREDICTING;
	w->seen_ms = mono_ms();
	w->sequence = -1;
	/* "no_answer": kept by cluster.c for a takeover, the chain did not say (goes ahead). */
	w->confirm = frame_str(f, "confirm") != NULL && strcmp(frame_str(f, "confirm"),
	    "pending") == 0 ? 0 : frame_str(f, "confirm") != NULL && strcmp(frame_str(f,
	    "confirm"), "no_answer") == 0 ? -1 : 1;
	w->close_ms = flow_close_estimate(w->seen_ms, w->window_end, frame_int(f, "height", 0),
	    frame_int(f, "block_ms", 0));
	w->predict_deadline_ms = w->seen_ms + (ct != NULL ? ct->predict_timeout_s : 30) * 1000;
	{
		/*
		 * Never past the window: with the current height and the block interval known,
		 * the prediction must arrive a block before the window's end (a fallback then
		 * still makes it).
		 */
		int64_t height = frame_int(f, "height", 0), block_ms = frame_int(f, "block_ms", 0);
		int64_t left;

		if (w->window_end > 0 && height > 0 && block_ms > 0 && w->window_end >= height)
			w->cl_close_ms = w->seen_ms + (w->window_end - height + 1) * block_ms;
		if (w->window_end > 0 && height > 0 && block_ms > 0 && w->window_end >= height) {
			left = (w->window_end - height) * block_ms - block_ms;
			if (left < 300)
				left = 300;
			if (w->seen_ms + left < w->predict_deadline_ms)
				w->predict_deadline_ms = w->seen_ms + left;
		}
	}
	TAILQ_INSERT_TAIL(&works, w, entry);
	mcount("allora_worker_windows_seen_total", topic, "source", source ? source : "?");
	record(w, "seen", json_pack("{s:s?, s:I?}", "source", source, "window_end",
	    w->window_end >= 0 ? (json_int_t)w->window_end : 0), 0);
	send_predict(w);
}

/* Labelled values: a JSON object of canonical decimals within max_abs_value. */
static int
labelled_ok(const char *value, const struct config_topic *ct, char *canon, size_t clen,
    char *why, size_t whylen)
{
	json_t *j = json_loads(value, JSON_REJECT_DUPLICATES, NULL), *v;
	const char *k;
	double d;
	int ok = j != NULL && json_is_object(j) && json_object_size(j) > 0;

	snprintf(why, whylen, "not a JSON object of labelled decimals");
	if (ok)
		json_object_foreach(j, k, v) {
			if (!json_is_string(v) || dec_value(json_string_value(v), canon, clen, why,
			    whylen) == -1 || strcmp(canon, json_string_value(v)) != 0 ||
			    parse_double(canon, &d) == -1) {
				ok = 0;
				if (json_is_string(v) && canon[0] != '\0' &&
				    strcmp(canon, json_string_value(v)) != 0)
					snprintf(why, whylen, "label %s: not canonical (%s)", k, canon);
				break;
			}
			if (ct != NULL && ct->max_abs_value > 0 && fabs(d) > ct->max_abs_value) {
				snprintf(why, whylen, "label %s: over max_abs_value %g", k,
				    ct->max_abs_value);
				ok = 0;
				break;
			}
		}
	json_decref(j);
	return ok;
}

static void
on_prediction(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *value = frame_str(f, "value"), *source = frame_str(f, "source");
	const char *model = frame_str(f, "model"), *reason = frame_str(f, "reason");
	const struct config_topic *ct = config_topic(sup->conf, topic);
	struct work *w = work_find(topic, nonce);
	char canon[DEC_MAX_TEXT + 1], derr[160];
	double d;

	if (w == NULL || w->st != W_PREDICTING) {
		log_debug("late or unknown PREDICTION for topic %u nonce %lld", topic,
		    (long long)nonce);
		return;
	}
	if (value == NULL) {
		/* The trainer's answer is "skip" (fallback = skip) or it had nothing. */
		finish_missed(w, "no_prediction", reason ? reason : "the trainer had no value");
		return;
	}
	/* The same checks whatever the source: finite, in bounds, canonical, max_abs_value;
	 * for labelled values (issue 21: {"<label>": "<decimal>", ...}) each of them. */
	canon[0] = '\0';
	if (value[0] == '{' && labelled_ok(value, ct, canon, sizeof(canon), derr,
	    sizeof(derr))) {
		/* checked */
	} else if (value[0] == '{') {
		char *why = xasprintf("labelled values %s refused: %s", value, derr);

		mcount("allora_worker_values_refused_total", topic, "reason", "invalid");
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", why), "%s", why);
		use_fallback(w, why);
		free(why);
		return;
	} else if (dec_value(value, canon, sizeof(canon), derr, sizeof(derr)) == -1 ||
	    strcmp(canon, value) != 0 || parse_double(value, &d) == -1 ||
	    (ct != NULL && ct->max_abs_value > 0 && fabs(d) > ct->max_abs_value)) {
		const char *kind = canon[0] == '\0' ? "invalid" : strcmp(canon, value) != 0 ?
		    "not_canonical" : "max_abs_value";
		char *why = canon[0] == '\0' ? xasprintf("value %s refused: %s", value, derr) :
		    strcmp(canon, value) != 0 ? xasprintf("value %s refused: not the chain's "
		    "canonical text (%s)", value, canon) : xasprintf("value %s refused: over "
		    "max_abs_value %g", value, ct->max_abs_value);

		mcount("allora_worker_values_refused_total", topic, "reason", kind);
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", why), "%s", why);
		use_fallback(w, why);
		free(why);
		return;
	}
	{
		struct topic_rt *rt = rt_of(topic, NULL);

		if (rt != NULL && frame_str(f, "loss_method") != NULL)
			set_str(&rt->loss_used, frame_str(f, "loss_method"));
		if (rt != NULL && frame_str(f, "model_resolved") != NULL)
			set_str(&rt->model_resolved, frame_str(f, "model_resolved"));
	}
	log_event(LOG_LVL_INFO, "prediction", json_pack("{s:I, s:I, s:s, s:s?, s:s?, s:s?}",
	    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "value", value, "source", source,
	    "model", model, "reason", reason),
	    "Prediction for topic %u nonce %lld: %s (%s)", topic, (long long)nonce, value,
	    source ? source : "?");
	mcount("allora_worker_predictions_total", topic, "source", source ? source : "fresh");
	if (json_is_number(json_object_get(f->payload, "train_ms"))) {
		char lab[64];

		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
		metrics_gauge("allora_worker_training_duration_seconds", lab,
		    json_number_value(json_object_get(f->payload, "train_ms")) / 1000.0);
	}
	supfc_prediction(topic, nonce, f->payload);
	have_value(w, value, source ? source : "fresh", model, reason);
}

void
flow_dispatch(struct child *c, struct frame *f)
{
	switch (f->type) {
	case MSG_WINDOW_OPEN:
		if (c->role == ROLE_LISTENER)
			on_window_open(f);
		return;
	case MSG_WINDOW_STATUS:
		if (c->role == ROLE_LISTENER)
			on_window_status(f);
		return;
	case MSG_PREDICTION:
		if (c->role == ROLE_TRAINER)
			on_prediction(f);
		return;
	case MSG_SHADOW:
		if (c->role == ROLE_TRAINER)
			shadow_frame(f);	/* the ledger only: never the submitter */
		return;
	case MSG_SHADOW_SCORES:
		if (c->role == ROLE_TRAINER)
			shadow_scores_frame(f);
		return;
	case MSG_SIGNED:
		if (c->role == ROLE_SUBMITTER)
			on_signed(f);
		return;
	case MSG_SUBMITTED:
		if (c->role == ROLE_SUBMITTER)
			on_submitted(f);
		return;
	case MSG_WALLET:
		if (c->role == ROLE_SUBMITTER)
			on_wallet(f);
		return;
	case MSG_SCORE:
		if (c->role == ROLE_LISTENER)
			scores_dispatch(f);
		return;
	case MSG_FORECAST_DATA:		/* issue 22 (supervisor/forecast.c) */
		if (c->role == ROLE_LISTENER)
			supfc_data(f);
		return;
	default:
		log_warnx("%s sent %s, which it may not; ignored", child_role_name(c->role),
		    msg_type_name(f->type));
		return;
	}
}

void
flow_child_ready(struct child *c)
{
	struct work *w;

	if (c->role == ROLE_LISTENER)
		scores_send_watch();
	if (c->role == ROLE_TRAINER)
		supfc_trainer_ready();
	TAILQ_FOREACH(w, &works, entry) {
		if (c->role == ROLE_LISTENER && w->confirm == 0) {
			/* A new listener: the question about this window went with the old one. */
			w->confirm = -1;
			if (w->st == W_SUBMITTING)
				send_submit(w);
		}
		if (c->role == ROLE_TRAINER && w->st == W_PREDICTING)
			send_predict(w);
		else if (c->role == ROLE_SUBMITTER && w->st != W_PREDICTING)
			send_submit(w);
	}
}

/* Competition window: waiting before the start, stopped after the end. */
void
competition_tick(void)
{
	double now = wall_s();
	size_t i, ended = 0;

	for (i = 0; i < sup->ntopics; i++) {
		struct topic_rt *t = &sup->topics[i];
		const struct config_topic *ct = config_topic(sup->conf, t->id);
		const char *want;

		if (ct == NULL || ft[i].chain_stopped)
			continue;
		if (ct->competition_end > 0 && now >= ct->competition_end)
			want = "stopped";
		else if (ct->competition_start > 0 && now < ct->competition_start)
			want = "waiting";
		else
			want = "serving";
		if (strcmp(want, "stopped") == 0)
			ended++;
		if (strcmp(want, "waiting") == 0 && now >= ft[i].next_wait_log) {
			double h = (ct->competition_start - now) / 3600.0;

			log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:f}", "topic", (json_int_t)t->id,
			    "hours", h), "Competition starts in %.1f hours (topic %u); the worker "
			    "will start when the competition begins", h, t->id);
			ft[i].next_wait_log = now + 3600;
		}
		if (strcmp(t->state, want) == 0)
			continue;
		if (strcmp(want, "serving") == 0)
			log_event(LOG_LVL_INFO, "info", json_pack("{s:I}", "topic", (json_int_t)t->id),
			    "Competition is active (topic %u)", t->id);
		else if (strcmp(want, "stopped") == 0) {
			log_event(LOG_LVL_INFO, "info", json_pack("{s:I}", "topic", (json_int_t)t->id),
			    "Competition ended for topic %u", t->id);
			set_str(&t->reason, "competition ended");
		}
		set_str(&t->state, want);
	}
	if (sup->ntopics > 0 && ended == sup->ntopics && !sup->stopping)
		sup_shutdown("Competition ended - shutting down", 0);
}

void
flow_tick(void)
{
	struct work *w, *tmp;
	int64_t now = mono_ms();

	if (sup->stopping)
		return;
	competition_tick();
	TAILQ_FOREACH_SAFE(w, &works, entry, tmp) {
		if (w->st == W_PREDICTING && now >= w->predict_deadline_ms)
			use_fallback(w, "the trainer did not answer in time");
		else if (w->st == W_PREDICTING && !w->predict_sent)
			send_predict(w);
		else if (w->st == W_SUBMITTING && flow_wait_over(w, now))
			continue;	/* freed */
		else if (w->st == W_SUBMITTING && !w->submit_sent && now >= w->next_submit_ms)
			send_submit(w);
		else if (cluster_enabled() && w->st == W_SIGNED && !w->submit_sent)
			send_submit(w);
		if (cluster_enabled() && !w->cl_ok && !w->cl_asked && !w->submit_sent &&
		    w->st != W_PREDICTING && now > (w->cl_close_ms > 0 ? w->cl_close_ms :
		    w->seen_ms + 600000)) {
			/* Never cleared to sign before the window closed: the leader's, or
			 * nobody's while etcd was unreachable (said by cluster.c). */
			log_info("topic %u nonce %lld: not served by this host (cluster standby "
			    "or etcd unreachable)", w->topic, (long long)w->nonce);
			work_free(w);
		}
	}
}

/* cluster.c: the wallet's leadership is lost; what was not signed yet stops here. */
void
flow_cluster_lost(const char *wallet)
{
	struct work *w, *tmp;
	size_t i;
	char key[32];

	TAILQ_FOREACH_SAFE(w, &works, entry, tmp) {
		const struct config_topic *ct = config_topic(sup->conf, w->topic);

		if (ct == NULL || strcmp(ct->wallet, wallet) != 0 || w->txhash != NULL ||
		    w->submit_sent)
			continue;
		if (rt_of(w->topic, &i) != NULL) {
			snprintf(key, sizeof(key), "%lld", (long long)w->nonce);
			json_object_del(ft[i].known, key);
		}
		work_free(w);
	}
}

/* cluster.c: a window that opened while we stood by, now that we lead. */
void
flow_window_replay(json_t *payload)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.type = MSG_WINDOW_OPEN;
	f.topic = (uint32_t)json_integer_value(json_object_get(payload, "topic"));
	f.payload = payload;
	on_window_open(&f);
}

int
flow_in_flight(void)
{
	struct work *w;

	TAILQ_FOREACH(w, &works, entry)
		if (w->st == W_SIGNED || w->st == W_BROADCAST)
			return 1;
	return 0;
}

void
flow_ready(void)
{
	struct work *w;

	TAILQ_FOREACH(w, &works, entry)
		if (w->st != W_PREDICTING && !w->submit_sent)
			send_submit(w);
}

void
flow_stop(void)
{
	flow_stopping = 1;
}

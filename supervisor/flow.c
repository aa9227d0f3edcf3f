/*
 * Routing of the daemon's work (see flow.h).  Every state change of a (topic, nonce) is
 * written to the ledger first; status and metrics read the same state.
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

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#include "cluster.h"
#include "dec.h"
#include "flow.h"
#include "ledger.h"
#include "metrics.h"
#include "proc.h"
#include "scores.h"
#include "shadow.h"
#include "sup.h"
#include "util.h"

enum wstate { W_PREDICTING, W_SUBMITTING, W_SIGNED, W_BROADCAST };

struct work {
	TAILQ_ENTRY(work) entry;
	uint32_t	 topic;
	int64_t		 nonce;
	int64_t		 window_end;	/* -1 unknown */
	enum wstate	 st;
	int64_t		 seen_ms;
	int64_t		 predict_deadline_ms;
	int		 predict_sent;
	int		 submit_sent;
	char		*value;
	char		*txhash;
	char		*tx;
	long long	 sequence;
	/* issue 13 */
	json_t		*txhashes;	/* every hash the ledger holds for the nonce */
	int		 confirm;	/* ws windows: 1 the chain says open, 0 asked, -1 no answer */
	int64_t		 close_ms;	/* estimated close of the window (mono) */
	int64_t		 next_submit_ms;	/* a refused SUBMIT is sent again from then */
	char		*wait_reason;	/* why the submitter has not taken it (refused, ...) */
	/* [cluster] (cluster.c): the presign check passed, it is asked, the estimated
	 * close of the window (mono ms, 0 unknown), a signature the fence refused */
	int		 cl_ok;
	int		 cl_asked;
	int64_t		 cl_close_ms;
	char		*cl_refused;
};

TAILQ_HEAD(worklist, work);

struct ftopic {
	struct ledger	*ledger;
	json_t		*known;		/* nonce string -> last state */
	double		 next_wait_log;	/* wall time of the next "starts in" line */
	int		 chain_stopped;	/* not whitelisted / no funds: reason in rt */
};

static struct worklist works = TAILQ_HEAD_INITIALIZER(works);
static struct ftopic *ft;
static int flow_stopping;

#define KNOWN_MAX	1024

static struct topic_rt *
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

static void
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

static struct ledger *ft_ledger(uint32_t);
#ifdef AW_TEST_HOOKS
static void test_crash_after_ledger_sign(const char *);
static void test_crash_in_group_commit(size_t);
#endif
static void signed_done(uint32_t, int64_t, uint32_t, const char *, const char *, long long,
    int);
static void signed_pending(uint32_t, int64_t, uint32_t, const char *, const char *,
    long long);

/* Records a state change in the ledger and in the status fields. */
static int
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

static void
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

static struct work *
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

static void
mcount(const char *name, uint32_t topic, const char *k2, const char *v2)
{
	char lab[256];

	if (k2 != NULL)
		snprintf(lab, sizeof(lab), "topic=\"%u\",%s=\"%s\"", topic, k2, v2 ? v2 : "");
	else
		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
	metrics_count(name, lab, 1);
}

static void
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

static void	presign_done(uint32_t, int64_t, enum cluster_verdict, json_t *, const char *,
		    void *);

static void
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
	w->confirm = frame_str(f, "confirm") != NULL && strcmp(frame_str(f, "confirm"),
	    "pending") == 0 ? 0 : 1;
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
	have_value(w, value, source ? source : "fresh", model, reason);
}

/* The signature is ours to broadcast: fsync'd to the ledger, then SIGNED_ACK. */
static void
signed_commit(struct work *w, const char *txhash, const char *tx, long long seq,
    uint32_t fseq)
{
	uint32_t topic = w->topic;
	int64_t nonce = w->nonce;
	int rc;

	rc = record(w, "signed", json_pack("{s:I, s:s, s:s, s:s?}", "sequence", (json_int_t)seq,
	    "txhash", txhash, "tx", tx, "value", w->value), 0);
	if (rc != 0) {
		signed_done(topic, nonce, fseq, txhash, tx, seq, 0);
		return;
	}
	/* Group commit: acknowledged once the sync at the end of this loop turn covers it. */
	signed_pending(topic, nonce, fseq, txhash, tx, seq);
}

/*
 * SIGNED records waiting for the group commit (issue 25): every SIGNED read in one turn of
 * the event loop is written at once, and one sync (ledger_commit) at the end of the turn
 * makes them all durable before any of their SIGNED_ACKs goes out.
 */
struct pending_ack {
	TAILQ_ENTRY(pending_ack) entry;
	uint32_t	 topic;
	int64_t		 nonce;
	uint32_t	 seq;
	char		*txhash, *tx;
	long long	 sequence;
};
static TAILQ_HEAD(, pending_ack) pending_acks = TAILQ_HEAD_INITIALIZER(pending_acks);
static struct event *commit_ev;

/* The record of a SIGNED is durable (ok) or not: the work and the submitter learn it. */
static void
signed_done(uint32_t topic, int64_t nonce, uint32_t fseq, const char *txhash, const char *tx,
    long long seq, int ok)
{
	struct work *w = work_find(topic, nonce);
	struct topic_rt *t = rt_of(topic, NULL);

	if (!ok)
		/* Not durable (ENOSPC, say): no broadcast for this nonce; the next window
		 * tries again. */
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "ledger_write_failed",
		    "error", ft_ledger(topic) ? ledger_error(ft_ledger(topic)) : "no ledger"),
		    "topic %u nonce %lld: the signed record could not be made durable, not "
		    "broadcasting it: %s", topic, (long long)nonce, ft_ledger(topic) ?
		    ledger_error(ft_ledger(topic)) : "no ledger");
#ifdef AW_TEST_HOOKS
	else if (getenv("AW_TEST_CRASH_AFTER_LEDGER_SIGN") != NULL)
		test_crash_after_ledger_sign(txhash);
#endif
	if (ok && w != NULL) {
		if (w->txhashes == NULL)
			w->txhashes = json_array();
		json_array_append_new(w->txhashes, json_string(txhash));
		set_str(&w->txhash, txhash);
		set_str(&w->tx, tx);
		w->sequence = seq;
		w->st = W_SIGNED;
		if (t != NULL)
			set_str(&t->last_txhash, txhash);
	}
	sup_send_child(child_by_role(ROLE_SUBMITTER), MSG_SIGNED_ACK, topic, fseq,
	    json_pack("{s:I, s:I, s:s, s:b, s:s?}", "topic", (json_int_t)topic, "nonce",
	    (json_int_t)nonce, "txhash", txhash, "ok", ok, "error",
	    ok ? NULL : "ledger write failed"));
}

static void
commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ledger **ls = xcalloc(sup->ntopics, sizeof(*ls));
	struct pending_ack *p;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < sup->ntopics; i++)
		ls[i] = ft[i].ledger;
	TAILQ_FOREACH(p, &pending_acks, entry)
		n++;
#ifdef AW_TEST_HOOKS
	if (getenv("AW_TEST_CRASH_IN_GROUP_COMMIT") != NULL &&
	    (long)n >= atol(getenv("AW_TEST_CRASH_IN_GROUP_COMMIT")))
		test_crash_in_group_commit(n);
#endif
	rc = ledger_commit(ls, sup->ntopics);
	free(ls);
	while ((p = TAILQ_FIRST(&pending_acks)) != NULL) {
		TAILQ_REMOVE(&pending_acks, p, entry);
		signed_done(p->topic, p->nonce, p->seq, p->txhash, p->tx, p->sequence, rc == 0);
		free(p->txhash);
		free(p->tx);
		free(p);
	}
}

static void
signed_pending(uint32_t topic, int64_t nonce, uint32_t fseq, const char *txhash,
    const char *tx, long long seq)
{
	struct pending_ack *p = xcalloc(1, sizeof(*p));
	struct timeval now = { 0, 0 };

	p->topic = topic;
	p->nonce = nonce;
	p->seq = fseq;
	p->txhash = xstrdup(txhash);
	p->tx = xstrdup(tx);
	p->sequence = seq;
	TAILQ_INSERT_TAIL(&pending_acks, p, entry);
#ifdef AW_TEST_HOOKS
	/* Test hook: a wider gather window, so that a test gets a batch of all its windows. */
	if (getenv("AW_TEST_GROUP_COMMIT_GATHER_MS") != NULL) {
		long ms = atol(getenv("AW_TEST_GROUP_COMMIT_GATHER_MS"));

		now.tv_sec = ms / 1000;
		now.tv_usec = ms % 1000 * 1000;
	}
#endif
	if (commit_ev == NULL)
		commit_ev = evtimer_new(sup->base, commit_cb, NULL);
	if (!evtimer_pending(commit_ev, NULL))
		evtimer_add(commit_ev, &now);	/* after the other events of this turn */
}

#ifdef AW_TEST_HOOKS
/*
 * Test hook (AW_TEST_CRASH_IN_GROUP_COMMIT=N): the supervisor kills itself (SIGKILL) in a
 * group commit of at least N records, after their write and before the sync and the
 * SIGNED_ACKs, once per state_dir.
 */
static void
test_crash_in_group_commit(size_t n)
{
	char *marker = xasprintf("%s/.test-crash-in-group-commit", sup->conf->state_dir);
	int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	free(marker);
	if (fd == -1)
		return;
	close(fd);
	log_warnx("AW_TEST_CRASH_IN_GROUP_COMMIT: killing the supervisor in a group commit "
	    "of %zu records", n);
	kill(getpid(), SIGKILL);
}
#endif

static struct ledger *
ft_ledger(uint32_t topic)
{
	size_t i;

	return rt_of(topic, &i) != NULL ? ft[i].ledger : NULL;
}

#ifdef AW_TEST_HOOKS
/*
 * Test hook (AW_TEST_CRASH_AFTER_LEDGER_SIGN=1): the supervisor kills itself (SIGKILL)
 * right after the signed record is durable and before SIGNED_ACK, once per state_dir.
 */
static void
test_crash_after_ledger_sign(const char *txhash)
{
	char *marker = xasprintf("%s/.test-crash-after-ledger-sign", sup->conf->state_dir);
	int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	free(marker);
	if (fd == -1)
		return;
	close(fd);
	log_warnx("AW_TEST_CRASH_AFTER_LEDGER_SIGN: killing the supervisor between the "
	    "signed record of %s and its broadcast", txhash);
	kill(getpid(), SIGKILL);
}
#endif

struct fence_ctx {
	char		*txhash;
	char		*tx;
	long long	 seq;
	uint32_t	 fseq;
};

/* The fencing transaction's answer (cluster.c): broadcast only on CL_GO. */
static void
fence_done(uint32_t topic, int64_t nonce, enum cluster_verdict v, json_t *rec,
    const char *why, void *arg)
{
	struct fence_ctx *fc = arg;
	struct work *w = work_find(topic, nonce);

	if (v == CL_GO && w != NULL)
		signed_commit(w, fc->txhash, fc->tx, fc->seq, fc->fseq);
	else {
		sup_send_child(child_by_role(ROLE_SUBMITTER), MSG_SIGNED_ACK, topic, fc->fseq,
		    json_pack("{s:I, s:I, s:s, s:b, s:s}", "topic", (json_int_t)topic, "nonce",
		    (json_int_t)nonce, "txhash", fc->txhash, "ok", 0, "error", why ? why :
		    "fenced: not the leader"));
		if (w != NULL) {
			/* The submitter's "missed" for this signature is not the window's. */
			set_str(&w->cl_refused, fc->txhash);
			w->st = W_SUBMITTING;
			w->submit_sent = 0;
			w->cl_ok = 0;
			if (v == CL_RESOLVE)
				presign_done(topic, nonce, v, rec, NULL, NULL);
		}
	}
	free(fc->txhash);
	free(fc->tx);
	free(fc);
}

static void
on_signed(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *txhash = frame_str(f, "txhash"), *tx = frame_str(f, "tx");
	long long seq = frame_int(f, "sequence", -1);
	struct work *w = work_find(topic, nonce);
	const struct config_topic *ct = config_topic(sup->conf, topic);

	if (txhash == NULL || tx == NULL) {
		log_warnx("SIGNED without txhash or tx for topic %u nonce %lld", topic,
		    (long long)nonce);
		return;
	}
	if (w == NULL || ct == NULL) {
		/* Not ours (any more): refuse so that it is never broadcast. */
		sup_send_child(child_by_role(ROLE_SUBMITTER), MSG_SIGNED_ACK, topic, f->seq,
		    json_pack("{s:I, s:I, s:s, s:b, s:s}", "topic", (json_int_t)topic, "nonce",
		    (json_int_t)nonce, "txhash", txhash, "ok", 0, "error", "no such work"));
		return;
	}
	if (cluster_enabled()) {
		/* Fenced first: recorded in etcd only while our lease holds the leader key. */
		struct fence_ctx *fc = xcalloc(1, sizeof(*fc));

		fc->txhash = xstrdup(txhash);
		fc->tx = xstrdup(tx);
		fc->seq = seq;
		fc->fseq = f->seq;
		cluster_fence(topic, nonce, ct->wallet, txhash, tx, seq, w->txhash != NULL ?
		    w->txhash : w->cl_refused, fence_done, fc);
		return;
	}
	signed_commit(w, txhash, tx, seq, f->seq);
}

static void
stop_topics(uint32_t topic, const char *wallet, const char *reason)
{
	size_t i;

	for (i = 0; i < sup->ntopics; i++) {
		const struct config_topic *ct = config_topic(sup->conf, sup->topics[i].id);

		if ((wallet == NULL && sup->topics[i].id == topic) ||
		    (wallet != NULL && ct != NULL && strcmp(ct->wallet, wallet) == 0)) {
			set_str(&sup->topics[i].state, "stopped");
			set_str(&sup->topics[i].reason, reason);
			ft[i].chain_stopped = 1;
		}
	}
}

static void
on_submitted(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *outcome = frame_str(f, "outcome"), *txhash = frame_str(f, "txhash");
	const char *reason = frame_str(f, "reason"), *error = frame_str(f, "error");
	long long height = frame_int(f, "height", -1), code = frame_int(f, "code", -1);
	struct work *w = work_find(topic, nonce);
	struct topic_rt *t = rt_of(topic, NULL);

	if (outcome != NULL && strcmp(outcome, "refused") == 0 && t != NULL &&
	    json_is_true(json_object_get(f->payload, "stop_topic"))) {
		/* The submitter refuses the topic before any work (issue 21: arity). */
		stop_topics(topic, NULL, error ? error : reason ? reason : "refused");
		return;
	}
	if (outcome == NULL || w == NULL || t == NULL) {
		log_debug("SUBMITTED for unknown work (topic %u nonce %lld)", topic,
		    (long long)nonce);
		return;
	}
	if (w->cl_refused != NULL && txhash != NULL && strcmp(txhash, w->cl_refused) == 0 &&
	    reason != NULL && strcmp(reason, "ledger_refused") == 0)
		return;	/* a signature the cluster's fence refused, not the window's end */
	if (txhash != NULL)
		set_str(&t->last_txhash, txhash);
	if (strcmp(outcome, "refused") == 0) {
		/* Kept: sent again later (a restarted submitter), missed at the close. */
		char *why = xasprintf("the submitter refused it: %s", error ? error : "?");

		if (w->wait_reason == NULL || strcmp(w->wait_reason, why) != 0)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s}",
			    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "reason",
			    "submitter_refused", "detail", why), "topic %u nonce %lld: %s", topic,
			    (long long)nonce, why);
		free(w->wait_reason);
		w->wait_reason = why;
		w->submit_sent = 0;
		w->next_submit_ms = mono_ms() + 1000;
		return;
	}
	if (strcmp(outcome, "broadcast") == 0) {
		char lab[64];

		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
		metrics_observe(HIST_TO_BROADCAST, lab, (double)(mono_ms() - w->seen_ms) / 1000.0);
		record(w, "broadcast", json_pack("{s:s?}", "txhash", txhash), 0);
		w->st = W_BROADCAST;
		return;
	}
	if (strcmp(outcome, "included") == 0) {
		record(w, "included", json_pack("{s:s?, s:I}", "txhash", txhash, "height",
		    (json_int_t)height), 0);
		return;
	}
	mcount("allora_worker_submissions_total", topic, "outcome", outcome);
	if (strcmp(outcome, "accepted") == 0) {
		char lab[64];

		snprintf(lab, sizeof(lab), "topic=\"%u\"", topic);
		metrics_observe(HIST_TO_INCLUSION, lab, (double)(mono_ms() - w->seen_ms) / 1000.0);
	}
	if (strcmp(outcome, "accepted") == 0 || strcmp(outcome, "already_submitted") == 0) {
		record(w, "accepted", json_pack("{s:s?, s:I, s:s?}", "txhash", txhash, "height",
		    (json_int_t)height, "reason", strcmp(outcome, "accepted") == 0 ? NULL :
		    "already submitted"), 0);
		t->accepted++;
		t->last_accepted_wall = wall_s();
		log_event(LOG_LVL_INFO, "success", json_pack("{s:I, s:I, s:s?, s:I, s:s?}",
		    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "txhash", txhash, "height",
		    (json_int_t)height, "value", w->value),
		    "Prediction submitted and accepted (topic %u, nonce %lld, value %s, tx %s%s)",
		    topic, (long long)nonce, w->value ? w->value : "?", txhash ? txhash : "?",
		    strcmp(outcome, "accepted") == 0 ? "" : ", already submitted");
		work_free(w);
		return;
	}
	if (strcmp(outcome, "rejected") == 0) {
		record(w, "rejected", json_pack("{s:s?, s:I, s:s?, s:s?}", "txhash", txhash,
		    "code", (json_int_t)code, "reason", reason, "error", error), 0);
		count_missed(t, reason ? reason : "rejected");
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s?, s:I, s:s?, s:s?}",
		    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "txhash", txhash, "code",
		    (json_int_t)code, "reason", reason, "error", error),
		    "Submission rejected (topic %u, nonce %lld): %s", topic, (long long)nonce,
		    error ? error : reason ? reason : "?");
	} else if (strcmp(outcome, "missed") == 0) {
		record(w, "missed", json_pack("{s:s?, s:s?}", "reason", reason, "error", error), 0);
		count_missed(t, reason ? reason : "missed");
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s?, s:s?}",
		    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", reason, "error",
		    error), "Window missed (topic %u, nonce %lld): %s", topic, (long long)nonce,
		    error ? error : reason ? reason : "?");
	} else {
		log_warnx("SUBMITTED with unknown outcome \"%s\"", outcome);
		return;
	}
	if (json_is_true(json_object_get(f->payload, "stop_topic")))
		stop_topics(topic, NULL, error ? error : reason);
	if (json_is_true(json_object_get(f->payload, "stop_wallet")))
		stop_topics(topic, frame_str(f, "wallet") ? frame_str(f, "wallet") :
		    config_topic(sup->conf, topic)->wallet, error ? error : reason);
	work_free(w);
}

static void
on_wallet(struct frame *f)
{
	const char *name = frame_str(f, "name");
	json_t *bal = json_object_get(f->payload, "balance_uallo");
	size_t i;

	if (name == NULL)
		return;
	for (i = 0; i < sup->nwallets; i++) {
		struct wallet_rt *w = &sup->wallets[i];

		if (strcmp(w->name, name) != 0)
			continue;
		if (frame_str(f, "address") != NULL)
			set_str(&w->address, frame_str(f, "address"));
		if (json_is_string(bal))
			set_str(&w->balance, json_string_value(bal));
		else if (json_is_integer(bal)) {
			char *s = xasprintf("%lld", (long long)json_integer_value(bal));

			set_str(&w->balance, s);
			free(s);
		}
		if (json_is_integer(json_object_get(f->payload, "sequence")))
			w->sequence = frame_int(f, "sequence", -1);
	}
	scores_send_watch();
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
static void
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

/* cluster.c: the presign check's answer. */
static void
presign_done(uint32_t topic, int64_t nonce, enum cluster_verdict v, json_t *rec,
    const char *why, void *arg)
{
	struct work *w = work_find(topic, nonce);
	struct topic_rt *t = rt_of(topic, NULL);

	if (w == NULL)
		return;
	w->cl_asked = 0;
	switch (v) {
	case CL_GO:
		w->cl_ok = 1;
		send_submit(w);
		return;
	case CL_RESOLVE:
		/* Signed before (by us or the last leader): that transaction, no other. */
		if (w->txhash == NULL || strcmp(w->txhash, json_string_value(json_object_get(rec,
		    "txhash"))) != 0) {
			set_str(&w->txhash, json_string_value(json_object_get(rec, "txhash")));
			set_str(&w->tx, json_string_value(json_object_get(rec, "tx")));
			w->sequence = json_integer_value(json_object_get(rec, "sequence"));
			record(w, "signed", json_pack("{s:I, s:s, s:s, s:s?, s:s?}", "sequence",
			    (json_int_t)w->sequence, "txhash", w->txhash, "tx", w->tx, "value",
			    w->value, "signed_by", json_string_value(json_object_get(rec, "host"))),
			    1);
			if (t != NULL)
				set_str(&t->last_txhash, w->txhash);
		}
		w->st = W_SIGNED;
		w->cl_ok = 1;
		w->submit_sent = 0;
		send_submit(w);
		return;
	case CL_NOT_LEADER:
	case CL_UNAVAILABLE:
		/* Asked again by flow_tick until the window closes. */
		log_debug("topic %u nonce %lld: not signing: %s", topic, (long long)nonce,
		    why ? why : "?");
		return;
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

/* The topic's ledger cannot be opened or read: that topic stops, with the reason. */
static void
ledger_failed(size_t i, const char *err)
{
	set_str(&sup->topics[i].state, "failed");
	set_str(&sup->topics[i].reason, err);
	ft[i].chain_stopped = 1;
	log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:s, s:s}", "topic",
	    (json_int_t)sup->topics[i].id, "reason", "ledger_unreadable", "error", err),
	    "topic %u stopped: its ledger cannot be used: %s", sup->topics[i].id, err);
}

void
flow_init(void)
{
	char err[512], key[32];
	const char *k;
	json_t *all, *rec;
	size_t i;
	long bad;

	ft = xcalloc(sup->ntopics, sizeof(*ft));
	for (i = 0; i < sup->ntopics; i++) {
		ft[i].known = json_object();
		ft[i].ledger = ledger_open(sup->conf->state_dir, sup->topics[i].id, err,
		    sizeof(err));
		all = NULL;
		if (ft[i].ledger != NULL &&
		    (all = ledger_replay(ft[i].ledger, &bad, err, sizeof(err))) == NULL) {
			ledger_close(ft[i].ledger);
			ft[i].ledger = NULL;
		}
		if (all == NULL) {
			/* Never serve a topic whose past we cannot read: it could sign twice. */
			ledger_failed(i, err);
			continue;
		}
		sup->topics[i].ledger_bad = bad;
		if (bad > 0)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:s, s:i}",
			    "topic", (json_int_t)sup->topics[i].id, "file",
			    ledger_path(ft[i].ledger), "bad_lines", (int)bad),
			    "ledger %s: %ld line(s) that are not records skipped",
			    ledger_path(ft[i].ledger), bad);
		json_object_foreach(all, k, rec) {
			const char *st = json_string_value(json_object_get(rec, "state"));
			int64_t nonce = json_integer_value(json_object_get(rec, "nonce"));
			struct topic_rt *t = &sup->topics[i];

			if (nonce > t->last_nonce) {
				t->last_nonce = nonce;
				set_str(&t->last_state, st);
				set_str(&t->last_value, json_string_value(json_object_get(rec,
				    "value")));
				set_str(&t->last_source, json_string_value(json_object_get(rec,
				    "source")));
				set_str(&t->last_txhash, json_string_value(json_object_get(rec,
				    "txhash")));
			}
			scores_replay(t->id, rec);
			if (ledger_state_final(st)) {
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				if (strcmp(st, "accepted") == 0 || strcmp(st, "scored") == 0 ||
				    strcmp(st, "rewarded") == 0)
					t->accepted++;
				continue;
			}
			if (json_is_string(json_object_get(rec, "txhash")) &&
			    json_is_string(json_object_get(rec, "tx")) && sup->conf->dry_run) {
				/* A dry run sends nothing, ever: it says what it would do. */
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:I, s:s, s:O}",
				    "topic", (json_int_t)t->id, "nonce", (json_int_t)nonce, "reason",
				    "dry_run", "txhashes", json_object_get(rec, "txhashes")),
				    "dry run: topic %u nonce %lld was signed before (tx %s, %zu "
				    "signature(s)); a real run would resolve it by hash and re-send "
				    "only its identical bytes; nothing is sent now", t->id,
				    (long long)nonce, json_string_value(json_object_get(rec,
				    "txhash")), json_array_size(json_object_get(rec, "txhashes")));
				continue;
			}
			if (json_is_string(json_object_get(rec, "txhash")) &&
			    json_is_string(json_object_get(rec, "tx"))) {
				/* Signed before the restart: resolve the same transaction. */
				struct work *w = xcalloc(1, sizeof(*w));

				w->topic = t->id;
				w->nonce = nonce;
				w->window_end = json_integer_value(json_object_get(rec,
				    "window_end"));
				if (w->window_end <= 0)
					w->window_end = -1;
				w->st = W_SIGNED;
				w->seen_ms = mono_ms();
				w->value = xstrdup(json_string_value(json_object_get(rec, "value")) ?
				    json_string_value(json_object_get(rec, "value")) : "0");
				w->txhash = xstrdup(json_string_value(json_object_get(rec, "txhash")));
				w->tx = xstrdup(json_string_value(json_object_get(rec, "tx")));
				w->sequence = json_integer_value(json_object_get(rec, "sequence"));
				w->txhashes = json_incref(json_object_get(rec, "txhashes"));
				w->confirm = 1;
				w->close_ms = w->seen_ms + 180000;
				TAILQ_INSERT_TAIL(&works, w, entry);
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				log_info("topic %u nonce %lld was signed before a restart (tx %s); "
				    "resolving that transaction", t->id, (long long)nonce, w->txhash);
			}
		}
		json_decref(all);
	}
	competition_tick();
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

void
flow_reload(void)
{
	char err[1024];

	if (flow_reload_config(err, sizeof(err)) == -1)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s}", "topic", "reason", err),
		    "configuration reload refused, keeping the running one: %s", err);
}

void
flow_free(void)
{
	struct pending_ack *p;
	struct work *w;
	size_t i;

	while ((w = TAILQ_FIRST(&works)) != NULL)
		work_free(w);
	shadow_free();
	while ((p = TAILQ_FIRST(&pending_acks)) != NULL) {
		/* Never acknowledged: never broadcast. */
		TAILQ_REMOVE(&pending_acks, p, entry);
		free(p->txhash);
		free(p->tx);
		free(p);
	}
	if (commit_ev != NULL)
		event_free(commit_ev);
	commit_ev = NULL;
	for (i = 0; i < sup->ntopics && ft != NULL; i++) {
		ledger_close(ft[i].ledger);
		json_decref(ft[i].known);
	}
	free(ft);
	ft = NULL;
}

/*
 * Reload (SIGHUP or alloractl): the new configuration must parse; settings reach the
 * children in a new CONFIG frame.  Adding or removing topics needs their locks and
 * ledgers: see reload.c.
 */
int
flow_reload_config(char *err, size_t errlen)
{
	struct config_overrides ov;
	struct config *nc;
	size_t i;
	char what[160];
	int wchanged;

	if (sup->conf->path == NULL) {
		snprintf(err, errlen, "running from a .env file: nothing to reload");
		return -1;
	}
	memset(&ov, 0, sizeof(ov));
	ov.state_dir = sup->conf->state_dir;
	ov.run_dir = sup->conf->run_dir;
	ov.debug = sup->conf->debug;
	ov.foreground = sup->conf->foreground;
	ov.dry_run = sup->conf->dry_run;
	ov.polling_interval = sup->conf->polling_interval;
	nc = config_load(sup->conf->path, &ov, err, errlen);
	if (nc == NULL)
		return -1;
	if (strcmp(nc->instance, sup->conf->instance) != 0) {
		snprintf(err, errlen, "%s: instance cannot change while running (%s -> %s)",
		    nc->path, sup->conf->instance, nc->instance);
		config_free(nc);
		return -1;
	}
	if (reload_topics(nc, err, errlen) == -1) {
		config_free(nc);
		return -1;
	}
	wchanged = wallets_changed(sup->conf, nc, what, sizeof(what));
	config_free(sup->conf);
	sup->conf = nc;
	for (i = 0; i < NROLES; i++)
		if (sup->children[i].peer != NULL && sup->children[i].hello)
			sup_send_child(&sup->children[i], MSG_CONFIG, 0, 0, config_to_json(nc));
	if (wchanged)
		submitter_restart(what);
	scores_send_watch();	/* topics or wallets may have changed */
	log_info("configuration reloaded from %s (%zu topics)", nc->path, nc->ntopics);
	return 0;
}

/* Takes the locks and ledgers of added topics, releases those of removed ones. */
int
reload_topics(struct config *nc, char *err, size_t errlen)
{
	struct topic_rt *nt;
	struct ftopic *nf;
	size_t i, j, n = nc->ntopics;
	int rc;

	nt = xcalloc(n, sizeof(*nt));
	nf = xcalloc(n, sizeof(*nf));
	for (i = 0; i < n; i++) {
		nt[i].id = nc->topics[i].id;
		nt[i].lock_fd = -1;
		for (j = 0; j < sup->ntopics; j++)
			if (sup->topics[j].id == nt[i].id)
				break;
		if (j < sup->ntopics)
			continue;
		rc = locks_take(nc, &nt[i], 1, err, errlen);
		if (rc == 0) {
			nf[i].ledger = ledger_open(nc->state_dir, nt[i].id, err, errlen);
			if (nf[i].ledger == NULL)
				rc = 1;
		}
		if (rc != 0) {
			for (j = 0; j <= i; j++) {
				locks_release(&nt[j], 1);
				ledger_close(nf[j].ledger);
			}
			free(nt);
			free(nf);
			return -1;
		}
		nt[i].state = xstrdup("serving");
		nt[i].last_nonce = -1;
		nf[i].known = json_object();
		locks_write_pid(&nt[i], 1);
		log_info("topic %u added by the reload", nt[i].id);
	}
	/* Keep the state of topics that stay; drop the others. */
	for (j = 0; j < sup->ntopics; j++) {
		for (i = 0; i < n; i++)
			if (nt[i].id == sup->topics[j].id)
				break;
		if (i < n) {
			nt[i] = sup->topics[j];
			nf[i] = ft[j];
			continue;
		}
		{
			struct work *w, *tmp;

			TAILQ_FOREACH_SAFE(w, &works, entry, tmp)
				if (w->topic == sup->topics[j].id && w->st == W_PREDICTING)
					work_free(w);
		}
		log_info("topic %u removed by the reload", sup->topics[j].id);
		locks_release(&sup->topics[j], 1);
		ledger_close(ft[j].ledger);
		json_decref(ft[j].known);
		free(sup->topics[j].state);
		free(sup->topics[j].reason);
		free(sup->topics[j].last_state);
		free(sup->topics[j].last_value);
		free(sup->topics[j].last_source);
		free(sup->topics[j].last_txhash);
		free(sup->topics[j].loss_used);
		free(sup->topics[j].model_resolved);
		json_decref(sup->topics[j].missed);
	}
	free(sup->topics);
	free(ft);
	sup->topics = nt;
	sup->ntopics = n;
	ft = nf;
	return 0;
}

const char *
flow_nonce_state(uint32_t topic, int64_t nonce)
{
	size_t i;
	char key[32];

	if (rt_of(topic, &i) == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%lld", (long long)nonce);
	return json_string_value(json_object_get(ft[i].known, key));
}

int
flow_record(uint32_t topic, int64_t nonce, const char *state, json_t *fields)
{
	struct work w;

	memset(&w, 0, sizeof(w));
	w.topic = topic;
	w.nonce = nonce;
	return record(&w, state, fields, 0);
}

int
flow_note(uint32_t topic, int64_t nonce, const char *state, json_t *fields)
{
	struct ledger *l = ft_ledger(topic);

	if (l == NULL) {
		json_decref(fields);
		return -1;
	}
	return ledger_append(l, nonce, state, fields, 0);
}

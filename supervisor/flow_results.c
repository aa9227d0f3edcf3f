/*
 * The submitter's answers to the window flow (flow_int.h): SIGNED (fenced first through
 * cluster.c when [cluster] is on), the SUBMITTED outcomes (broadcast, included, accepted,
 * rejected, missed, refused) with their ledger records, metrics and event log lines, the
 * topics or wallets an outcome stops, WALLET, and the cluster's presign verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "flow.h"
#include "flow_int.h"
#include "forecast.h"
#include "ledger.h"
#include "metrics.h"
#include "proc.h"
#include "scores.h"
#include "sup.h"
#include "util.h"

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

void
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
	supfc_signed(f);	/* issue 22: forecast_elements, forecast_dropped */
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

void
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

void
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

/* cluster.c: the presign check's answer. */
void
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

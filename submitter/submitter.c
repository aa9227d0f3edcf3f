/*
 * The submitter: the only process that holds key material.  It loads each configured
 * wallet itself after exec, and turns SUBMIT (topic, nonce, value) into a signed
 * transaction, which it broadcasts only after the supervisor has written it to the ledger
 * (SIGNED -> SIGNED_ACK), then confirms by hash until it is included or the window is over.
 * Transactions of one wallet are serialised.  Chain errors are recovered as PROTOCOL.md §4.6
 * says: sequence mismatch (resync from "expected N", retry at once), insufficient fee
 * (retry at the required fee up to max_fee), out of gas (re-simulate), and so on.
 * A broadcast whose outcome is unknown makes the transaction "maybe included" (issue 13):
 * only its identical bytes are sent again, it is looked up by hash (tx, unconfirmed_txs)
 * in resolution rounds until found or its window closed, and the nonce is signed again
 * only under outcome_may_resign()'s two rules (outcome.h).
 *
 * This file is the process: the frames from the supervisor (SUBMIT, SIGNED_ACK, the
 * configuration, shutdown), the end of a job (SUBMITTED, job_finish) and the helpers the
 * pieces share.  Key loading is in wallets.c, the chain queries in queries.c, the job
 * machine (simulate, sign, broadcast) in broadcast.c, the confirmation and resolution
 * rounds in resolve.c; submitter_int.h is what they share.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "chainnext.h"
#include "config.h"
#include "dec.h"
#include "fees.h"
#include "frame.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "proc.h"
#include "roles.h"
#include "rpc.h"
#include "tx.h"
#include "util.h"
#include "submitter_int.h"

struct submitter_state S;

/* ---- helpers ---- */

struct wallet *
wallet_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < S.nwallets; i++)
		if (strcmp(S.wallets[i].name, name) == 0)
			return &S.wallets[i];
	return NULL;
}

size_t
topic_index(uint32_t topic)
{
	size_t i;

	for (i = 0; i < S.conf->ntopics; i++)
		if (S.conf->topics[i].id == topic)
			return i;
	return (size_t)-1;
}

void
job_timer(struct job *j, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(j->timer, &tv);
}

void
send_wallet(struct wallet *w)
{
	child_send(MSG_WALLET, 0, 0, json_pack("{s:s, s:s, s:s?, s:o}", "name", w->name,
	    "address", w->address, "balance_uallo", w->balance, "sequence",
	    w->have_account ? json_integer((json_int_t)w->sequence) : json_null()));
}

/*
 * Is a transaction between signing and its outcome?  Such jobs are finished before the
 * submitter exits (the supervisor kills it after stop_timeout_ms anyway).  Several of one
 * wallet may be: the next job is signed once the previous one passed CheckTx.
 */
static int
in_flight(void)
{
	struct job *j;
	size_t i;

	for (i = 0; i < S.nwallets; i++)
		TAILQ_FOREACH(j, &S.wallets[i].queue, entry)
			if (j->st == J_BROADCAST || j->st == J_CONFIRM || j->st == J_UNKNOWN)
				return 1;
	return 0;
}

/* The outcome of a job: SUBMITTED to the supervisor, then the next job of the wallet. */
void
job_finish(struct job *j, const char *outcome, long code, int64_t height, const char *reason,
    const char *error, int stop_topic, int stop_wallet)
{
	struct wallet *w = j->w;

	child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:I, s:I, s:s?, s:s, s:I, s:I, s:s?, "
	    "s:s?, s:b, s:b, s:s}", "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce,
	    "txhash", j->hash[0] ? j->hash : NULL, "outcome", outcome, "code", (json_int_t)code,
	    "height", (json_int_t)height, "reason", reason, "error", error, "stop_topic",
	    stop_topic, "stop_wallet", stop_wallet, "wallet", w->name));
	if (stop_wallet)
		w->stopped = 1;
	j->st = J_DONE;
	evtimer_del(j->timer);
	event_free(j->timer);
	TAILQ_REMOVE(&w->queue, j, entry);
	if (w->active == j)
		w->active = NULL;
	free(j->value);
	labels_free(j->labels, j->nlabels);
	forecast_free(j->fc, j->nfc);
	free(j->raw);
	free(j->b64);
	free(j);
	if (S.shutting_down) {
		if (!in_flight())
			event_base_loopexit(S.base, NULL);
		return;
	}
	wallet_next(w);
}

/* Is the window of this job over, as far as we know? */
int
window_over(struct job *j)
{
	if (j->window_end > 0 && S.height > 0)
		return S.height > j->window_end;
	return mono_s() - j->started > NO_END_GIVE_UP_S;
}

int
has(const char *text, const char *needle)
{
	return text != NULL && strcasestr(text, needle) != NULL;
}

static void
on_submit(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *value = frame_str(f, "value"), *wname = frame_str(f, "wallet");
	const struct config_topic *ct = config_topic(S.conf, topic);
	json_t *res = json_object_get(f->payload, "resolve");
	struct wallet *w;
	struct job *j;
	char canon[DEC_MAX_TEXT + 1], err[128], lerr[256];
	size_t i;

	if (ct == NULL || nonce <= 0 || value == NULL || wname == NULL ||
	    strcmp(ct->wallet, wname) != 0 || (w = wallet_by_name(wname)) == NULL) {
		const char *why = ct == NULL ? "the topic is not in the submitter's configuration" :
		    nonce <= 0 || value == NULL || wname == NULL ? "the request lacks a nonce, a "
		    "value or a wallet" : strcmp(ct->wallet, wname) != 0 ? "the topic is bound to "
		    "another wallet in the submitter's configuration" : "the submitter has not "
		    "loaded that wallet (it loads its wallets when it starts)";

		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:s, s:s}", "topic", (json_int_t)topic,
		    "reason", "refused", "detail", why), "refusing to sign for topic %u with wallet "
		    "%s: %s", topic, wname ? wname : "?", why);
		/* Always an answer: the supervisor keeps the work and tells why at the close. */
		child_send(MSG_SUBMITTED, topic, 0, json_pack("{s:I, s:I, s:s, s:s, s:s}",
		    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "outcome", "refused",
		    "reason", "submitter_refused", "error", why));
		return;
	}
	for (i = 0; i < S.nwallets; i++) {
		TAILQ_FOREACH(j, &S.wallets[i].queue, entry)
			if (j->topic == topic && j->nonce == nonce)
				return;	/* already in hand (a re-sent SUBMIT) */
	}
	if (json_is_true(json_object_get(f->payload, "refresh_account")) && w->active == NULL)
		w->have_account = 0;	/* another host signed meanwhile (cluster takeover) */
	j = xcalloc(1, sizeof(*j));
	j->w = w;
	j->topic = topic;
	j->nonce = nonce;
	j->window_end = frame_int(f, "window_end", -1);
	j->started = mono_s();
	j->timer = evtimer_new(S.base, job_timer_cb, j);
	if (chainnext_values(topic, value, &j->labels, &j->nlabels, lerr, sizeof(lerr)) == -1) {
		/* The chain's arity and label rules, before signing. */
		j->value = xstrdup(value);
		TAILQ_INSERT_TAIL(&w->queue, j, entry);
		w->active = w->active ? w->active : j;
		job_finish(j, "rejected", -1, 0, value[0] == '{' ? "bad_labels" : "arity", lerr, 0,
		    0);
		return;
	}
	if (j->labels == NULL && (dec_value(value, canon, sizeof(canon), err,
	    sizeof(err)) == -1 || strcmp(canon, value) != 0)) {
		j->value = xstrdup(value);
		TAILQ_INSERT_TAIL(&w->queue, j, entry);
		w->active = w->active ? w->active : j;
		job_finish(j, "rejected", -1, 0, "bad_value", err, 0, 0);
		return;
	}
	j->value = xstrdup(j->labels != NULL ? value : canon);
	if (forecast_for_submit(json_object_get(f->payload, "forecast"), ct->forecast, w->address,
	    (size_t)S.max_elements_per_forecast, &j->fc, &j->nfc, &j->fc_dropped, lerr,
	    sizeof(lerr)) == -1)
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "forecast_dropped",
		    "rule", j->fc_dropped, "detail", lerr), "topic %u nonce %lld: the forecast is "
		    "dropped, the inference goes alone: %s", topic, (long long)nonce, lerr);
	if (json_is_object(res) && json_is_string(json_object_get(res, "tx")) &&
	    json_is_string(json_object_get(res, "txhash"))) {
		unsigned char *raw;
		size_t n;
		const char *tx = json_string_value(json_object_get(res, "tx"));

		if (base64_decode(tx, strlen(tx), &raw, &n) == 0) {
			json_t *hs = json_object_get(res, "txhashes"), *h;
			size_t k;

			j->raw = raw;
			j->rawlen = n;
			j->b64 = xstrdup(tx);
			tx_hash_hex(raw, n, j->hash);
			j->seq = (uint64_t)json_integer_value(json_object_get(res, "sequence"));
			j->resolving = 1;
			j->maybe = 1;
			/* Every hash the ledger holds for the nonce, the bytes' own last. */
			json_array_foreach(hs, k, h)
				if (json_is_string(h) && strlen(json_string_value(h)) == 64)
					remember_hash(j, json_string_value(h));
			remember_hash(j, j->hash);
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s, s:i}",
			    "topic", (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "resolve",
			    "txhash", j->hash, "txhashes", j->nhashes), "topic %u nonce %lld was "
			    "signed before a restart: resolving its %d transaction(s) by hash, never "
			    "signing a different one unless it can no longer be included", topic,
			    (long long)nonce, j->nhashes);
		}
	}
	TAILQ_INSERT_TAIL(&w->queue, j, entry);
	wallet_next(w);
}

static void
on_signed_ack(struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *hash = frame_str(f, "txhash");
	size_t i;
	struct job *j;

	for (i = 0; i < S.nwallets; i++) {
		TAILQ_FOREACH(j, &S.wallets[i].queue, entry)
			if (j->topic == topic && j->nonce == nonce && j->st == J_WAIT_ACK &&
			    hash != NULL && strcmp(hash, j->hash) == 0)
				break;
		if (j == NULL)
			continue;
		if (!json_is_true(json_object_get(f->payload, "ok"))) {
			job_finish(j, "missed", -1, 0, "ledger_refused", frame_str(f, "error"), 0, 0);
			return;
		}
		j->acked = 1;
		maybe_broadcast(j);
		return;
	}
}

/* ---- process ---- */

static void
on_config(const struct config *c, json_t *raw, void *arg)
{
	size_t i;

	if (S.conf == NULL) {
		S.conf = c;
		load_wallets(c);
		S.topic_gas = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(uint64_t));
		S.topic_wl = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(int));
		chainnext_config(c);
		S.http = http_client_new(S.base);
		S.rpc = rpc_new(S.http, c->rpc, c->nrpc, c->request_timeout_ms);
		price_config(c);
		child_ready(json_pack("{s:i}", "wallets", (int)S.nwallets));
		detect_emissions();
		fees_price_refresh(S.rpc, 0, price_known);
		for (i = 0; i < S.nwallets; i++) {
			query_account(&S.wallets[i]);
			query_balance(&S.wallets[i]);
			query_allowance(&S.wallets[i]);
		}
		return;
	}
	/* A reload: the wallets stay as loaded; settings change. */
	S.conf = c;
	free(S.topic_gas);
	S.topic_gas = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(uint64_t));
	free(S.topic_wl);
	S.topic_wl = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(int));
	rpc_free(S.rpc);
	S.rpc = rpc_new(S.http, c->rpc, c->nrpc, c->request_timeout_ms);
	price_config(c);
	chainnext_config(c);
	if (S.emissions[0] != '\0')
		chainnext_precheck(S.rpc, S.conf, S.emissions);
	for (i = 0; i < S.nwallets; i++)
		query_allowance(&S.wallets[i]);
}

static void
dispatch(struct frame *f, void *arg)
{
	switch (f->type) {
	case MSG_SUBMIT:
		on_submit(f);
		return;
	case MSG_SIGNED_ACK:
		on_signed_ack(f);
		return;
	default:
		log_warnx("unexpected %s from the supervisor", msg_type_name(f->type));
		return;
	}
}

static void
on_shutdown(void *arg)
{
	S.shutting_down = 1;
	if (!in_flight())
		event_base_loopexit(S.base, NULL);
}

int
submitter_main(void)
{
	struct child_ops ops = { "submitter", on_config, dispatch, on_shutdown, NULL };
	size_t i;

	/* No core dumps, no ptrace by other users' processes; the key pages are locked
	 * (mlock) where they are allocated. */
	prctl(PR_SET_DUMPABLE, 0);
	/* fd 4, when the supervisor passed one, is the sealed memfd of MNEMONIC-like
	 * variables (see seal_mnemonics()); take it before anything else gets fd 4. */
	S.memfd = -1;
	{
		char link[128];
		ssize_t n = readlink("/proc/self/fd/4", link, sizeof(link) - 1);

		if (n > 0) {
			link[n] = '\0';
			if (strncmp(link, "/memfd:allora-mnemonics", 23) == 0) {
				S.memfd = fcntl(4, F_DUPFD_CLOEXEC, 10);
				close(4);
			}
		}
	}
	S.base = event_base_new();
	child_start(S.base, &ops);
	event_base_dispatch(S.base);
	for (i = 0; i < S.nwallets; i++)
		if (S.wallets[i].priv != NULL)
			key_clear(S.wallets[i].priv, 32);
	return 0;
}

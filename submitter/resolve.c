/*
 * The submitter's confirmation and resolution rounds (issue 13): a broadcast transaction is
 * confirmed by hash (tx), a "maybe included" one resolved in rounds (the height, every hash
 * of its nonce by tx, the mempool by unconfirmed_txs, the account's sequence) until it is
 * found or its window closed; its nonce is signed again only under outcome_may_resign()'s
 * two rules (outcome.h).  The wallet's next job is let go once this one is in a mempool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "outcome.h"
#include "proc.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "tx.h"
#include "util.h"
#include "submitter_int.h"

/* ---- outcomes: confirmation and resolution rounds (issue 13) ---- */

static void	round_next(struct job *);

void
warn_event(struct job *j, const char *reason, const char *fmt, const char *detail)
{
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s}",
	    "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "reason", reason, "txhash",
	    j->hash, "detail", detail, "wallet", j->w->name), fmt, j->topic,
	    (long long)j->nonce, j->hash, detail ? detail : "");
}

/*
 * Lets the wallet's next job go (once): at the next sequence when this transaction is
 * known to be in a mempool or included, else after re-reading the account.
 */
static void
release_wallet(struct job *j, int known)
{
	struct wallet *w = j->w;

	if (known && w->sequence <= j->seq)
		w->sequence = j->seq + 1;
	if (j->released)
		return;
	if (!known)
		w->have_account = 0;
	j->released = 1;
	if (w->active == j) {
		w->active = NULL;
		wallet_next(w);
	}
}

void
mark_in_mempool(struct job *j)
{
	if (!j->told_broadcast) {
		j->told_broadcast = 1;
		child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "txhash", j->hash, "outcome",
		    "broadcast"));
	}
	j->in_mempool = 1;
	j->bcast_height = 0;
	j->bcast_pending = 1;
	j->st = J_CONFIRM;
	j->rounds = 0;
	job_timer(j, CONFIRM_MS);
	/*
	 * In the mempool with its sequence: the wallet's next transaction can be signed now
	 * (sequence + 1) while this one is confirmed, as the reference clients do.
	 */
	release_wallet(j, 1);
}

/* Is the window over at HEIGHT, with a block of margin for the node's tx index? */
static int
window_closed_at(struct job *j, int64_t height)
{
	if (j->window_end > 0)
		return height > j->window_end + 1;
	return mono_s() - j->started > NO_END_GIVE_UP_S;
}

/* A `tx` answer that found one of our hashes: the outcome. */
static void
tx_found(struct job *j, const char *hash, json_t *result)
{
	json_t *txr = json_object_get(result, "tx_result");
	long code = json_is_integer(json_object_get(txr, "code")) ?
	    (long)json_integer_value(json_object_get(txr, "code")) : 0;
	const char *log = json_string_value(json_object_get(txr, "log"));
	const char *cs = json_string_value(json_object_get(txr, "codespace"));
	const char *hs = json_string_value(json_object_get(result, "height"));
	int64_t height = hs ? atoll(hs) : json_integer_value(json_object_get(result, "height"));
	struct wallet *w = j->w;

	snprintf(j->hash, sizeof(j->hash), "%s", hash);
	release_wallet(j, 1);
	if (code == 0) {
		child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:I, s:I, s:s, s:s, s:I}",
		    "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "txhash", j->hash,
		    "outcome", "included", "height", (json_int_t)height));
		job_finish(j, "accepted", 0, height, NULL, NULL, 0, 0);	/* frees j */
		query_balance(w);
		query_allowance(w);
		return;
	}
	if (j->gas_cached && topic_index(j->topic) != (size_t)-1)
		S.topic_gas[topic_index(j->topic)] = 0;	/* the cached estimate failed */
	if ((code == 11 || has(log, "out of gas")) && !window_over(j) &&
	    j->attempts++ < MAX_ATTEMPTS) {
		/* Included but out of gas: the sequence is spent, the window still open;
		 * simulate again and send a new transaction with more gas (issue 20). */
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:I}",
		    "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "reason",
		    "out_of_gas", "gas", (json_int_t)j->gas), "topic %u nonce %lld: tx %s ran "
		    "out of gas at delivery (gas %" PRIu64 "); simulating again", j->topic,
		    (long long)j->nonce, j->hash, j->gas);
		j->failed_gas = j->gas;
		j->resolving = 0;
		j->released = 0;
		j->hash[0] = '\0';
		free(j->raw);
		free(j->b64);
		j->raw = NULL;
		j->b64 = NULL;
		j->st = J_QUEUED;	/* signed again when it is the wallet's turn */
		if (w->active == NULL) {
			w->active = j;
			job_step(j);
		}
		return;
	}
	if (!final_error(j, code, cs, log, height))
		job_finish(j, "rejected", code, height, "chain_error", log, 0, 0);
}

static void
round_status_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	const char *h = json_string_value(json_object_get(json_object_get(result, "sync_info"),
	    "latest_block_height"));

	j->rheight = -1;
	if (st == RPC_OK && h != NULL && atoll(h) > 0) {
		j->rheight = atoll(h);
		if (j->rheight > S.height) {
			S.height = j->rheight;
			S.height_at = mono_s();
		}
		if (j->bcast_pending) {
			/* Asked after the broadcast's answer: at least its height. */
			j->bcast_height = j->rheight;
			j->bcast_pending = 0;
		}
	} else
		j->rfail = 1;
	j->rstep = RS_TX;
	round_next(j);
}

static void
round_tx_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	json_t *txr = json_object_get(result, "tx_result");
	const char *hash = j->hashes[j->ridx];

	if (st == RPC_OK) {
		/* An earlier signature delivered with an error does not decide this nonce. */
		if (strcmp(hash, j->hash) == 0 || !json_is_integer(json_object_get(txr, "code")) ||
		    json_integer_value(json_object_get(txr, "code")) == 0) {
			j->rstep = RS_NONE;
			tx_found(j, hash, result);
			return;
		}
		j->rnotfound++;
	} else if (st == RPC_ERROR && rpc_tx_not_found(error))
		j->rnotfound++;
	else
		j->rfail = 1;
	j->ridx++;
	round_next(j);
}

static void
round_mempool_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	json_t *txs = json_object_get(result, "txs"), *t;
	size_t i;
	int k;

	j->rmempool = -1;
	if (st == RPC_OK && (json_is_array(txs) || json_is_null(txs) || txs == NULL)) {
		j->rmempool = 0;
		json_array_foreach(txs, i, t) {
			const char *b = json_string_value(t);
			unsigned char *raw;
			size_t n;
			char hex[65];

			if (b == NULL || base64_decode(b, strlen(b), &raw, &n) == -1)
				continue;
			tx_hash_hex(raw, n, hex);
			free(raw);
			for (k = 0; k < j->nhashes; k++)
				if (strcasecmp(hex, j->hashes[k]) == 0)
					j->rmempool = 1;
		}
	} else if (st == RPC_ERROR && has(error, "method not found")) {
		if (!S.no_mempool_query)
			log_info("the node offers no unconfirmed_txs: transactions are looked up "
			    "by hash only");
		S.no_mempool_query = 1;
	}
	j->rstep = RS_ACCOUNT;
	round_next(j);
}

static void
round_account_done(enum rpc_status st, const struct abci_result *a, const char *error,
    void *arg)
{
	struct job *j = arg;
	Awq__QueryAccountInfoResponse *r;
	struct resolve_facts f;
	enum resign_rule rule;
	char *d;

	if (st == RPC_OK && a->code == 0 &&
	    (r = awq__query_account_info_response__unpack(NULL, a->value_len, a->value)) != NULL) {
		if (r->info != NULL) {
			j->chain_seq_known = 1;
			j->chain_seq = r->info->sequence;
			if (j->chain_seq > j->seq && j->seq_change_height == 0)
				j->seq_change_height = a->height > 0 ? a->height : S.height;
		}
		awq__query_account_info_response__free_unpacked(r, NULL);
	}
	j->rstep = RS_NONE;
	memset(&f, 0, sizeof(f));
	f.our_seq = j->seq;
	f.lookups_not_found = !j->rfail && j->rnotfound == j->nhashes;
	f.lookup_height = j->rheight;
	f.chain_seq_known = j->chain_seq_known;
	f.chain_seq = j->chain_seq;
	f.seq_change_height = j->seq_change_height;
	f.mempool_checked = j->rmempool >= 0;
	f.in_mempool = j->rmempool == 1;
	f.last_bcast_height = j->bcast_height;
	rule = outcome_may_resign(&f);
	if (rule != RESIGN_NO) {
		d = rule == RESIGN_SEQ_PASSED ? xasprintf("the account's sequence on chain is %"
		    PRIu64 ", past ours (%" PRIu64 "), and no transaction of this nonce is on the "
		    "chain at height %lld", j->chain_seq, j->seq, (long long)j->rheight) :
		    xasprintf("our sequence %" PRIu64 " is unused on chain (%" PRIu64 "), the "
		    "transaction is in no mempool and blocks were committed since it was sent "
		    "(height %lld, then %lld)", j->seq, j->chain_seq, (long long)j->bcast_height,
		    (long long)j->rheight);
		warn_event(j, rule == RESIGN_SEQ_PASSED ? "resign_sequence_passed" :
		    "resign_dropped", "topic %u nonce %lld: tx %s can no longer be included; "
		    "signing again: %s", d);
		free(d);
		j->w->sequence = j->chain_seq;
		j->w->have_account = 1;
		j->seq_change_height = 0;
		if (j->gas == 0) {
			/* Resolved from the ledger after a restart: the gas is not known. */
			size_t ti = topic_index(j->topic);

			set_fee(j, S.conf->gas_limit > 0 ? (uint64_t)S.conf->gas_limit :
			    ti != (size_t)-1 && S.topic_gas[ti] > 0 ? S.topic_gas[ti] : DEFAULT_GAS);
		}
		j->bcast_height = 0;
		j->st = J_WAIT_ACK;
		sign_and_record(j);
		return;
	}
	/*
	 * Not found anywhere after a whole round: the wallet's next job goes now (at the
	 * sequence the chain says), and the identical bytes are sent again (always allowed).
	 */
	release_wallet(j, 0);
	broadcast(j);
}

/* The next request of the round in progress. */
static void
round_next(struct job *j)
{
	uint8_t h[32];
	unsigned char *raw;
	size_t n;
	char *b64;

	switch (j->rstep) {
	case RS_TX:
		while (j->ridx < j->nhashes) {
			if (hex_decode(j->hashes[j->ridx], &raw, &n) == 0 && n == 32) {
				memcpy(h, raw, 32);
				free(raw);
				b64 = base64_encode(h, 32);
				rpc_call(S.rpc, "tx", json_pack("{s:s, s:b}", "hash", b64, "prove",
				    0), round_tx_done, j);
				free(b64);
				return;
			}
			free(raw);
			j->ridx++;
			j->rfail = 1;
		}
		j->rounds++;
		if (j->rnotfound == j->nhashes && !j->rfail && j->rheight > 0 &&
		    window_closed_at(j, j->rheight)) {
			j->rstep = RS_NONE;
			job_finish(j, "missed", 30, j->rheight, "window_closed", j->maybe ?
			    "the transaction was not found on the chain by the window's end "
			    "(it can no longer be included)" : "the transaction was not included "
			    "before the window closed", 0, 0);
			return;
		}
		if (j->st == J_CONFIRM && (S.no_mempool_query || j->rounds % MEMPOOL_EVERY != 0)) {
			j->rstep = RS_NONE;
			job_timer(j, CONFIRM_MS);
			return;
		}
		j->rstep = RS_MEMPOOL;
		if (S.no_mempool_query) {
			round_mempool_done(RPC_ERROR, NULL, "method not found", j);
			return;
		}
		rpc_call(S.rpc, "unconfirmed_txs", json_pack("{s:i}", "limit", 100),
		    round_mempool_done, j);
		return;
	case RS_ACCOUNT:
		if (j->rmempool == 1) {
			j->rstep = RS_NONE;
			if (j->st != J_CONFIRM)
				log_info("topic %u nonce %lld: tx %s is in the node's mempool",
				    j->topic, (long long)j->nonce, j->hash);
			mark_in_mempool(j);
			return;
		}
		if (j->st == J_CONFIRM) {
			if (j->rmempool == 0 && j->rnotfound == j->nhashes && !j->rfail) {
				/* Dropped from the mempool, not included: the same bytes again
				 * first; the rounds after their answer decide. */
				j->maybe = 1;
				j->rstep = RS_NONE;
				warn_event(j, "tx_dropped", "topic %u nonce %lld: tx %s is neither "
				    "on the chain nor in the mempool; broadcasting the same bytes "
				    "again%s", NULL);
				broadcast(j);
				return;
			} else {
				j->rstep = RS_NONE;
				job_timer(j, CONFIRM_MS);
				return;
			}
		}
		{
			Awq__QueryAccountInfoRequest req = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
			uint8_t buf[128];

			req.address = j->w->address;
			n = awq__query_account_info_request__pack(&req, buf);
			rpc_abci_query(S.rpc, "/cosmos.auth.v1beta1.Query/AccountInfo", buf, n,
			    round_account_done, j);
		}
		return;
	default:
		return;
	}
}

/* One round: the height, then every hash by `tx`, then (maybe) the mempool, the account. */
void
round_start(struct job *j)
{
	if (j->rstep != RS_NONE)
		return;		/* one at a time */
	j->rstep = RS_STATUS;
	j->ridx = 0;
	j->rnotfound = 0;
	j->rfail = 0;
	j->rmempool = -1;
	j->rheight = -1;
	rpc_call(S.rpc, "status", NULL, round_status_done, j);
}

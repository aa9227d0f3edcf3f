/*
 * The submitter's job machine (job_step): a job waits for the emissions version, the
 * account and the gas price, is simulated (or takes the configured or cached gas), signed
 * and recorded (its audit line and SIGNED; the broadcast waits for both syncs), then
 * broadcast; the node's answer is classified (outcome.c) and a refusal at CheckTx
 * recovered as PROTOCOL.md section 4.6 says (sequence mismatch, insufficient fee, out of
 * gas) or made final (final_error).  After the broadcast, resolve.c takes over.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "chainnext.h"
#include "config.h"
#include "fees.h"
#include "frame.h"
#include "log.h"
#include "outcome.h"
#include "proc.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "tx.h"
#include "util.h"
#include "submitter_int.h"

/* Which signature an audit line is about (the job may be gone when the sync returns). */
struct audit_ctx {
	struct wallet	*w;
	char		 hash[65];
};

/*
 * The broadcast waits for both: the audit line on disk (ours) and the SIGNED_ACK (the
 * supervisor's ledger on disk).  The two syncs run in parallel.
 */
void
maybe_broadcast(struct job *j)
{
	if (!j->acked || !j->audited || j->st != J_WAIT_ACK)
		return;
#ifdef AW_TEST_HOOKS
	/* Test hook (test builds only, README "Test builds"). */
	if (getenv("AW_TEST_CRASH_AFTER_SIGN") != NULL) {
		char *marker = xasprintf("%s/.test-crash-after-sign", S.conf->state_dir);

		if (access(marker, F_OK) != 0) {
			int fd = open(marker, O_WRONLY | O_CREAT, 0600);

			if (fd != -1)
				close(fd);
			fprintf(stderr, "submitter: AW_TEST_CRASH_AFTER_SIGN: exiting between "
			    "SIGNED_ACK and the broadcast of %s\n", j->hash);
			_exit(1);
		}
		free(marker);
	}
#endif
	broadcast(j);
}

static void
audit_done(void *arg, int ok, const char *err)
{
	struct audit_ctx *c = arg;
	struct job *j;

	TAILQ_FOREACH(j, &c->w->queue, entry)
		if (j->st == J_WAIT_ACK && strcmp(j->hash, c->hash) == 0)
			break;
	if (j != NULL) {
		if (!ok)
			/* Never broadcast a signature the key holder has no record of. */
			job_finish(j, "missed", -1, 0, "audit_failed", err, 0, 0);
		else {
			j->audited = 1;
			maybe_broadcast(j);
		}
	}
	free(c);
}

static void
audit(struct wallet *w, struct job *j)
{
	char ts[40], *line;
	struct audit_ctx *c = xcalloc(1, sizeof(*c));

	if (w->audit == NULL)
		w->audit = audit_file_new(S.conf->state_dir, w->name);
	line = xasprintf("{\"time\":\"%s\",\"wallet\":\"%s\",\"address\":\"%s\",\"topic\":%u,"
	    "\"nonce\":%lld,\"value\":\"%s\",\"sequence\":%" PRIu64 ",\"gas\":%" PRIu64
	    ",\"fee\":%" PRIu64 ",\"txhash\":\"%s\"}\n", iso8601_now(ts, sizeof(ts)), w->name,
	    w->address, j->topic, (long long)j->nonce, j->value, j->seq, j->gas, j->fee, j->hash);
	c->w = w;
	memcpy(c->hash, j->hash, sizeof(c->hash));
	j->audited = 0;
	j->acked = 0;
	audit_append(S.base, w->audit, line, audit_done, c);
	free(line);
}

/* ---- building and sending ---- */

static int
build(struct job *j, int for_simulation, struct tx_out *out, char *err, size_t errlen)
{
	struct tx_params p;

	memset(&p, 0, sizeof(p));
	p.chain_id = S.conf->chain_id;
	p.account_number = j->w->account_number;
	p.sequence = j->w->sequence;
	p.topic = j->topic;
	p.nonce = j->nonce;
	p.value = j->labels != NULL ? NULL : j->value;
	p.labels = j->labels;
	p.nlabels = j->nlabels;
	p.forecast = j->fc;
	p.nforecast = j->nfc;
	p.forecast_limit = (size_t)S.max_elements_per_forecast;
	p.arity = chainnext_arity(j->topic);
	p.no_bundle_signature = chainnext_no_bundle_signature();
	p.gas_limit = j->gas;
	p.fee_uallo = j->fee;
	p.timeout_height = j->window_end > 0 ? (uint64_t)j->window_end : 0;
	p.emissions = S.emissions;
	p.fee_granter = fees_wallet_granter(S.conf, j->w->name);
	return tx_build_payload(j->w->priv, &p, for_simulation, out, err, errlen);
}

/* gas x the current gas price (fees.c), rounded up; the cap is checked before signing. */
void
set_fee(struct job *j, uint64_t gas)
{
	fee_price_t price = 0;

	j->gas = gas;
	(void)fees_price_current(&price, NULL);
	j->fee = fees_fee(gas, price);
}

/* Classifies a chain answer (CheckTx, delivery or simulation) into a final outcome.
 * Returns 1 when it was final (job finished). */
int
final_error(struct job *j, long code, const char *codespace, const char *log, int64_t height)
{
	char msg[512];
	int emis = codespace != NULL && strcmp(codespace, "emissions") == 0;

	/* By text first: codes drift between versions ("unfulfilled nonce not found" was 44
	 * and is 75). */
	if (has(log, "nonce not found") || has(log, "unfulfilled nonce")) {
		job_finish(j, "missed", code, height, "window_closed", log, 0, 0);
		return 1;
	}
	if (fees_grant_error(log)) {
		snprintf(msg, sizeof(msg), "the fee grant of %s does not pay for wallet %s (%s): %s",
		    fees_wallet_granter(S.conf, j->w->name) ?: "?", j->w->name, j->w->address, log);
		j->w->allowance_state = 0;
		job_finish(j, "rejected", code, height, "fee_allowance", msg, 0, 0);
		return 1;
	}
	if (has(log, "already submitted") || has(log, "cannot update EMA") ||
	    (emis && (code == 75 || code == 78))) {
		job_finish(j, "already_submitted", code, height, "already_submitted", log, 0, 0);
		return 1;
	}
	if (has(log, "not permitted to submit")) {
		snprintf(msg, sizeof(msg), "wallet %s (%s) is not whitelisted on topic %u: %s; "
		    "contact the topic creator", j->w->name, j->w->address, j->topic, log);
		job_finish(j, "rejected", code, height, "not_whitelisted", msg, 1, 0);
		return 1;
	}
	if (has(log, "not registered") || (emis && (code == 10 || code == 13))) {
		snprintf(msg, sizeof(msg), "wallet %s (%s) is not registered in topic %u; run "
		    "`alloractl register --topic %u`", j->w->name, j->w->address, j->topic, j->topic);
		job_finish(j, "rejected", code, height, "not_registered", msg, 0, 0);
		return 1;
	}
	if (has(log, "window not available") || has(log, "nonce window") ||
	    has(log, "window is closed") || (emis && (code == 67 || code == 75)) ||
	    (!emis && code == 30) || has(log, "timeout height")) {
		job_finish(j, "missed", code, height, "window_closed", log, 0, 0);
		return 1;
	}
	if ((!emis && code == 5) || has(log, "insufficient funds")) {
		job_finish(j, "rejected", code, height, "insufficient_funds", log, 0, 1);
		return 1;
	}
	return 0;
}

static void
sim_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct job *j = arg;
	Awq__SimulateResponse *r;
	size_t ti = topic_index(j->topic);
	uint64_t gas;

	if (j->st != J_SIMULATE)
		return;
	if (st != RPC_OK) {
		/* No node answers: sign with the configured or default gas. */
		log_warnx("simulation of topic %u nonce %lld failed (%s); using %" PRIu64 " gas",
		    j->topic, (long long)j->nonce, error, (uint64_t)DEFAULT_GAS);
		set_fee(j, DEFAULT_GAS);
		j->st = J_WAIT_ACK;
		job_step(j);
		return;
	}
	if (a->code != 0) {
		long long exp = match_num(a->log, "expected ([0-9]+)");

		if (exp >= 0 && has(a->log, "sequence")) {
			j->w->sequence = (uint64_t)exp;
			job_timer(j, 0);
			return;
		}
		if (chainnext_sim_failed(a->log)) {
			/* Fields 5/6 unknown to this chain: simulate again without them. */
			job_timer(j, 0);
			return;
		}
		if (j->dry_sim) {
			log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:I, s:s, s:I}", "topic",
			    (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value, "code",
			    (json_int_t)a->code), "dry run: topic %u nonce %lld value %s would fail: "
			    "%s", j->topic, (long long)j->nonce, j->value, a->log);
			job_finish(j, "missed", a->code, 0, "dry_run", a->log, 0, 0);
			return;
		}
		if (!final_error(j, a->code, NULL, a->log, 0)) {
			char *e = xasprintf("simulation: %s", a->log);

			job_finish(j, "rejected", a->code, 0, "simulation_failed", e, 0, 0);
			free(e);
		}
		return;
	}
	r = awq__simulate_response__unpack(NULL, a->value_len, a->value);
	gas = r != NULL && r->gas_info != NULL && r->gas_info->gas_used > 0 ?
	    (uint64_t)ceil((double)r->gas_info->gas_used * S.conf->gas_adjustment) : DEFAULT_GAS;
	if (r != NULL)
		awq__simulate_response__free_unpacked(r, NULL);
	if (j->failed_gas > 0 && gas <= j->failed_gas) {
		/* The estimate ran out of gas at delivery already: half as much again. */
		gas = j->failed_gas + j->failed_gas / 2;
	}
	if (ti != (size_t)-1)
		S.topic_gas[ti] = gas;
	j->gas_cached = 0;
	set_fee(j, gas);
	if (j->dry_sim) {
		log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:I, s:s, s:I, s:I}", "topic",
		    (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value, "gas",
		    (json_int_t)j->gas, "fee", (json_int_t)j->fee), "dry run: topic %u nonce %lld "
		    "value %s simulated fine (gas %" PRIu64 ", fee %" PRIu64 " uallo); not "
		    "broadcast", j->topic, (long long)j->nonce, j->value, j->gas, j->fee);
		job_finish(j, "missed", 0, 0, "dry_run", NULL, 0, 0);
		return;
	}
	j->st = J_WAIT_ACK;
	job_step(j);
}

static void
simulate(struct job *j)
{
	Awq__SimulateRequest req = AWQ__SIMULATE_REQUEST__INIT;
	struct tx_out out;
	char err[256];
	uint8_t *buf;
	size_t n;

	set_fee(j, S.conf->gas_limit > 0 ? (uint64_t)S.conf->gas_limit : DEFAULT_GAS);
	if (build(j, 1, &out, err, sizeof(err)) == -1) {
		job_finish(j, "rejected", -1, 0, "bad_value", err, 0, 0);
		return;
	}
	req.tx_bytes.data = out.raw;
	req.tx_bytes.len = out.rawlen;
	n = awq__simulate_request__get_packed_size(&req);
	buf = xmalloc(n);
	awq__simulate_request__pack(&req, buf);
	rpc_abci_query(S.rpc, "/cosmos.tx.v1beta1.Service/Simulate", buf, n, sim_done, j);
	free(buf);
	tx_out_free(&out);
}

void
remember_hash(struct job *j, const char *hash)
{
	int i;

	for (i = 0; i < j->nhashes; i++)
		if (strcmp(j->hashes[i], hash) == 0)
			return;
	if (j->nhashes == MAX_HASHES) {
		/* Keep the first ones: the oldest is the likeliest to have landed. */
		memmove(j->hashes[1], j->hashes[2], (MAX_HASHES - 2) * sizeof(j->hashes[0]));
		j->nhashes--;
	}
	snprintf(j->hashes[j->nhashes++], sizeof(j->hashes[0]), "%s", hash);
}

/* Signs and asks the supervisor to record it (SIGNED); the broadcast waits for the ACK. */
void
sign_and_record(struct job *j)
{
	struct tx_out out;
	char err[256];

	if (fees_over_cap(j->fee, j->gas, (uint64_t)S.conf->max_fee, err, sizeof(err))) {
		job_finish(j, "missed", 0, 0, "fee_cap", err, 0, 0);
		return;
	}
	if (j->w->allowance_state == 1 && fees_allowance_short(&j->w->allowance, j->fee,
	    fees_wallet_granter(S.conf, j->w->name), err, sizeof(err))) {
		job_finish(j, "missed", 0, 0, "fee_allowance", err, 0, 0);
		return;
	}
	j->seq = j->w->sequence;
	if (build(j, 0, &out, err, sizeof(err)) == -1) {
		job_finish(j, "rejected", -1, 0, "bad_value", err, 0, 0);
		return;
	}
	if (fees_granter_policy(out.raw, out.rawlen, fees_wallet_granter(S.conf, j->w->name),
	    err, sizeof(err)) == -1) {
		tx_out_free(&out);
		job_finish(j, "rejected", -1, 0, "refused", err, 0, 0);
		return;
	}
	free(j->raw);
	free(j->b64);
	j->raw = out.raw;
	j->rawlen = out.rawlen;
	j->b64 = out.base64;
	out.raw = NULL;
	out.base64 = NULL;
	memcpy(j->hash, out.hash, sizeof(j->hash));
	tx_out_free(&out);
	remember_hash(j, j->hash);
	j->maybe = 0;
	j->in_mempool = 0;
	audit(j->w, j);
	j->st = J_WAIT_ACK;
	child_send(MSG_SIGNED, j->topic, 0, forecast_signed(json_pack("{s:I, s:I, s:I, s:s, s:s, "
	    "s:s}", "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "sequence",
	    (json_int_t)j->seq, "txhash", j->hash, "tx", j->b64, "wallet", j->w->name), j->nfc,
	    j->fc_dropped));
	log_event(LOG_LVL_INFO, "submission", forecast_signed(json_pack("{s:I, s:I, s:s, s:I, s:s, "
	    "s:I}", "topic", (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value,
	    "sequence", (json_int_t)j->seq, "txhash", j->hash, "fee", (json_int_t)j->fee), j->nfc,
	    j->fc_dropped),
	    "Submitting prediction %s for topic %u nonce %lld (sequence %" PRIu64 ", fee %" PRIu64
	    " uallo, tx %s)", j->value, j->topic, (long long)j->nonce, j->seq, j->fee, j->hash);
}

static void
broadcast_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	long code = 0;
	const char *log = NULL, *cs = NULL;
	long long n;
	struct bcast_answer a;

	if (j->st != J_BROADCAST)
		return;
	if (st == RPC_OK) {
		code = json_is_integer(json_object_get(result, "code")) ?
		    (long)json_integer_value(json_object_get(result, "code")) : 0;
		log = json_string_value(json_object_get(result, "log"));
		cs = json_string_value(json_object_get(result, "codespace"));
	}
	outcome_classify(st, code, cs, log, error, j->seq, &a);
	if (rpc_last_tried(S.rpc) > 1 && a.cls == BC_REJECTED)
		/* An endpoint before this one may have processed it. */
		j->maybe = 1;
	if (a.cls == BC_IN_MEMPOOL) {
		if (strcmp(a.reason, "broadcast") != 0)
			warn_event(j, a.reason, "topic %u nonce %lld: tx %s: the node already has "
			    "these bytes%s; looking the transaction up by hash", strcmp(a.reason,
			    "tx_in_cache") == 0 ? " (mempool cache)" : " (mempool)");
		mark_in_mempool(j);
		return;
	}
	if (a.cls == BC_UNKNOWN) {
		char *d = st == RPC_OK ? xasprintf(": %s", log ? log : "") :
		    xasprintf(": %s", error ? error : "");

		j->bcast_height = 0;
		j->bcast_pending = 1;
		if (!j->maybe || strcmp(a.reason, "sequence_passed") == 0)
			warn_event(j, a.reason, strcmp(a.reason, "sequence_passed") == 0 ?
			    "topic %u nonce %lld: tx %s may be included (the account's sequence is "
			    "past ours%s); looking the transaction up by hash" :
			    "topic %u nonce %lld: broadcast answer lost for tx %s%s; looking the "
			    "transaction up by hash", d);
		free(d);
		j->maybe = 1;
		j->st = J_UNKNOWN;
		job_timer(j, CONFIRM_MS);
		return;
	}
	if (j->maybe) {
		/*
		 * The identical bytes refused now say nothing about an earlier broadcast of
		 * them: the resolution rounds decide (outcome_may_resign).
		 */
		log_debug("tx %s refused at CheckTx (%ld: %s) while maybe included", j->hash,
		    code, log ? log : "");
		j->st = J_UNKNOWN;
		job_timer(j, CONFIRM_MS);
		return;
	}
	/* Rejected at CheckTx, never seen by any node: a replacement may be built. */
	j->attempts++;
	if (j->attempts > MAX_ATTEMPTS) {
		job_finish(j, "rejected", code, 0, "too_many_attempts", log, 0, 0);
		return;
	}
	if (code == 32 || has(log, "account sequence mismatch")) {
		n = match_num(log, "expected ([0-9]+)");
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:I}", "topic",
		    (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "reason", "sequence_mismatch",
		    "expected", (json_int_t)n), "sequence mismatch for wallet %s (%s); resyncing "
		    "to %lld and retrying at once", j->w->name, log ? log : "", n);
		if (n >= 0)
			j->w->sequence = (uint64_t)n;
		else
			j->w->have_account = 0;
		j->resolving = 0;
		j->st = j->w->have_account ? J_WAIT_ACK : J_ACCOUNT;
		if (j->w->have_account)
			sign_and_record(j);
		else
			job_step(j);
		return;
	}
	if (code == 13 || has(log, "insufficient fee")) {
		char e[512];

		fees_price_refresh(S.rpc, 1, NULL);	/* the price moved: ask again */
		n = match_num(log, "required: ([0-9]+)");
		if (n > 0 && fees_over_cap((uint64_t)n, j->gas, (uint64_t)S.conf->max_fee, e,
		    sizeof(e))) {
			job_finish(j, "missed", code, 0, "fee_cap", e, 0, 0);
			return;
		}
		if (n <= 0) {
			snprintf(e, sizeof(e), "insufficient fee, and the chain's answer names no "
			    "required fee: %s", log ? log : "");
			job_finish(j, "rejected", code, 0, "insufficient_fee", e, 0, 0);
			return;
		}
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:I}", "topic",
		    (json_int_t)j->topic, "nonce", (json_int_t)j->nonce, "reason", "insufficient_fee",
		    "required", (json_int_t)n), "insufficient fee for topic %u nonce %lld; "
		    "retrying at %lld uallo", j->topic, (long long)j->nonce, n);
		j->fee = (uint64_t)n;
		j->resolving = 0;
		sign_and_record(j);
		return;
	}
	if (code == 11 || has(log, "out of gas")) {
		size_t ti = topic_index(j->topic);

		if (ti != (size_t)-1)
			S.topic_gas[ti] = 0;
		j->resolving = 0;
		j->st = J_SIMULATE;
		simulate(j);
		return;
	}
	if (!final_error(j, code, cs, log, 0))
		job_finish(j, "rejected", code, 0, "checktx_error", log, 0, 0);
}

void
broadcast(struct job *j)
{
	if (S.conf->dry_run) {
		/* Never reached (the supervisor sends nothing to sign or resolve); a guard. */
		log_warnx("dry run: tx %s of topic %u nonce %lld is not broadcast", j->hash,
		    j->topic, (long long)j->nonce);
		job_finish(j, "missed", 0, 0, "dry_run", "dry run: nothing is broadcast", 0, 0);
		return;
	}
	j->st = J_BROADCAST;
	refresh_height();
	rpc_call(S.rpc, "broadcast_tx_sync", json_pack("{s:s}", "tx", j->b64), broadcast_done, j);
}

/* ---- the job machine ---- */

void
job_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_step(arg);
}

void
job_step(struct job *j)
{
	struct wallet *w = j->w;
	size_t ti;

	switch (j->st) {
	case J_QUEUED:
	case J_ACCOUNT:
		ti = topic_index(j->topic);
		if (ti != (size_t)-1 && S.topic_wl[ti] == -1 && !j->resolving) {
			char msg[256];

			snprintf(msg, sizeof(msg), "wallet %s (%s) is not whitelisted on topic %u "
			    "(CanSubmitWorkerPayload is false); contact the topic creator", w->name,
			    w->address, j->topic);
			job_finish(j, "rejected", 0, 0, "not_whitelisted", msg, 1, 0);
			return;
		}
		if (w->stopped) {
			job_finish(j, "missed", 5, 0, "insufficient_funds",
			    "the wallet's balance is below the cost of one submission", 0, 0);
			return;
		}
		if (S.emissions[0] == '\0') {
			detect_emissions();
			j->st = J_ACCOUNT;
			if (window_over(j)) {
				job_finish(j, "missed", -1, S.height, "rpc_unreachable",
				    "the chain did not answer before the window closed", 0, 0);
				return;
			}
			job_timer(j, RETRY_MS);
			return;
		}
		if (j->resolving) {
			/* Signed before a restart: maybe included; never signed anew here. */
			j->st = J_UNKNOWN;
			round_start(j);
			return;
		}
		if (!w->have_account) {
			j->st = J_ACCOUNT;
			query_account(w);
			if (window_over(j)) {
				job_finish(j, "missed", -1, S.height, "rpc_unreachable",
				    "the account could not be read before the window closed", 0, 0);
				return;
			}
			return;
		}
		fees_price_refresh(S.rpc, 0, price_known);	/* at most once a minute */
		if (!fees_price_current(&(fee_price_t){ 0 }, NULL)) {
			j->st = J_ACCOUNT;
			if (window_over(j)) {
				job_finish(j, "missed", -1, S.height, "rpc_unreachable",
				    "the gas price could not be read before the window closed", 0, 0);
				return;
			}
			job_timer(j, RETRY_MS);
			return;
		}
		ti = topic_index(j->topic);
		if (S.conf->dry_run) {
			j->dry_sim = 1;
			j->st = J_SIMULATE;
			simulate(j);
			return;
		}
		if (S.conf->gas_limit > 0 && j->failed_gas == 0) {
			set_fee(j, (uint64_t)S.conf->gas_limit);
			sign_and_record(j);
		} else if (ti != (size_t)-1 && S.topic_gas[ti] > 0 && j->failed_gas == 0) {
			set_fee(j, S.topic_gas[ti]);
			j->gas_cached = 1;
			sign_and_record(j);
		} else {
			j->st = J_SIMULATE;
			simulate(j);
		}
		return;
	case J_WAIT_ACK:
		if (j->b64 == NULL)
			sign_and_record(j);
		return;
	case J_BROADCAST:
		broadcast(j);
		return;
	case J_CONFIRM:
	case J_UNKNOWN:
		round_start(j);
		return;
	case J_SIMULATE:
		simulate(j);
		return;
	case J_DONE:
		return;
	}
}

void
wallet_next(struct wallet *w)
{
	struct job *j;

	if (w->active != NULL || S.shutting_down)
		return;
	TAILQ_FOREACH(j, &w->queue, entry)
		if (j->st == J_QUEUED)
			break;	/* the others are being confirmed */
	if (j == NULL)
		return;
	w->active = j;
	job_step(j);
}

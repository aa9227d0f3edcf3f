/*
 * The submitter process's own chain queries (asynchronous, through common/rpc.c): the
 * account (number, sequence), the balance against the cost of one submission, the
 * emissions parameters (data sending fee), CanSubmitWorkerPayload of each topic at start,
 * the emissions version ("auto": detected), the latest height, the gas price setting and
 * the fee grant of a wallet whose fees another address pays (the fee logic is fees.c's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "chainnext.h"
#include "config.h"
#include "fees.h"
#include "log.h"
#include "proc.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "util.h"
#include "submitter_int.h"

/* ---- chain queries ---- */

static void
account_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct wallet *w = arg;
	Awq__QueryAccountInfoResponse *r;

	w->account_pending = 0;
	if (st != RPC_OK || a->code != 0) {
		log_warnx("wallet %s: account query failed: %s", w->name, st != RPC_OK ? error :
		    a->log);
		goto again;
	}
	r = awq__query_account_info_response__unpack(NULL, a->value_len, a->value);
	if (r == NULL || r->info == NULL) {
		log_warnx("wallet %s: account %s not found on the chain (is it funded?)",
		    w->name, w->address);
		if (r != NULL)
			awq__query_account_info_response__free_unpacked(r, NULL);
		goto again;
	}
	w->account_number = r->info->account_number;
	w->sequence = r->info->sequence;
	w->have_account = 1;
	awq__query_account_info_response__free_unpacked(r, NULL);
	log_debug("wallet %s: account %" PRIu64 ", sequence %" PRIu64, w->name,
	    w->account_number, w->sequence);
	send_wallet(w);
again:
	if (w->active != NULL && w->active->st == J_ACCOUNT)
		job_timer(w->active, w->have_account ? 0 : RETRY_MS);
}

void
query_account(struct wallet *w)
{
	Awq__QueryAccountInfoRequest req = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
	uint8_t buf[128];
	size_t n;

	if (w->account_pending)
		return;
	req.address = w->address;
	n = awq__query_account_info_request__pack(&req, buf);
	w->account_pending = 1;
	rpc_abci_query(S.rpc, "/cosmos.auth.v1beta1.Query/AccountInfo", buf, n, account_done, w);
}

/* What one submission costs the wallet's own balance: the fee (unless a granter pays it)
 * and the data sending fee. */
static uint64_t
cost_per_submission(struct wallet *w)
{
	uint64_t gas = S.conf->gas_limit > 0 ? (uint64_t)S.conf->gas_limit : DEFAULT_GAS;
	uint64_t fee = fees_submission_fee(gas, (uint64_t)S.conf->max_fee);

	if (fees_wallet_granter(S.conf, w->name) != NULL)
		fee = 0;
	return fee + S.data_sending_fee;
}

static void
balance_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct wallet *w = arg;
	Awq__QueryBalanceResponse *r;
	uint64_t have, need;

	if (st != RPC_OK || a->code != 0)
		return;
	r = awq__query_balance_response__unpack(NULL, a->value_len, a->value);
	free(w->balance);
	w->balance = xstrdup(r != NULL && r->balance != NULL && r->balance->amount != NULL ?
	    r->balance->amount : "0");
	if (r != NULL)
		awq__query_balance_response__free_unpacked(r, NULL);
	send_wallet(w);
	have = strtoull(w->balance, NULL, 10);
	need = cost_per_submission(w);
	if (have < need) {
		if (!w->stopped)
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s, s:s, s:I}",
			    "topic", "reason", "insufficient_funds", "wallet", w->name, "balance",
			    w->balance, "needed", (json_int_t)need), "wallet %s (%s) has %s uallo, "
			    "less than one submission costs (%" PRIu64 " uallo); it stops submitting",
			    w->name, w->address, w->balance, need);
		w->stopped = 1;
	} else {
		if (w->stopped)
			log_info("wallet %s is funded again (%s uallo)", w->name, w->balance);
		w->stopped = 0;
		if (have < need * (uint64_t)S.conf->balance_warn_submissions)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s}",
			    "topic", "reason", "low_balance", "wallet", w->name, "balance",
			    w->balance), "wallet %s (%s) has %s uallo, less than %ld submissions "
			    "cost", w->name, w->address, w->balance, S.conf->balance_warn_submissions);
	}
}

void
query_balance(struct wallet *w)
{
	Awq__QueryBalanceRequest req = AWQ__QUERY_BALANCE_REQUEST__INIT;
	uint8_t buf[160];
	size_t n;

	req.address = w->address;
	req.denom = (char *)"uallo";
	n = awq__query_balance_request__pack(&req, buf);
	rpc_abci_query(S.rpc, "/cosmos.bank.v1beta1.Query/Balance", buf, n, balance_done, w);
}

static void
params_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	Awq__GetParamsResponse *r;

	if (st == RPC_OK && a->code == 0 &&
	    (r = awq__get_params_response__unpack(NULL, a->value_len, a->value)) != NULL) {
		if (r->params != NULL && r->params->data_sending_fee != NULL)
			S.data_sending_fee = strtoull(r->params->data_sending_fee, NULL, 10);
		if (r->params != NULL)
			S.max_elements_per_forecast = r->params->max_elements_per_forecast;
		awq__get_params_response__free_unpacked(r, NULL);
	}
}

/* CanSubmitWorkerPayload of each (topic, wallet) at start, not only through simulation. */
static void
wl_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	size_t ti = (size_t)(uintptr_t)arg;
	Awq__CanSubmitWorkerPayloadResponse *r;
	const struct config_topic *t;

	if (S.conf == NULL || ti >= S.conf->ntopics || st != RPC_OK || a->code != 0 ||
	    (r = awq__can_submit_worker_payload_response__unpack(NULL, a->value_len,
	    a->value)) == NULL)
		return;	/* unknown: the simulation decides */
	t = &S.conf->topics[ti];
	S.topic_wl[ti] = r->can_submit_worker_payload ? 1 : -1;
	awq__can_submit_worker_payload_response__free_unpacked(r, NULL);
	if (S.topic_wl[ti] == -1)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:s, s:s}", "topic",
		    (json_int_t)t->id, "reason", "not_whitelisted", "wallet", t->wallet), "wallet %s may "
		    "not submit to topic %u (CanSubmitWorkerPayload is false: not whitelisted; "
		    "contact the topic creator)", t->wallet, t->id);
}

static void
whitelist_precheck(void)
{
	Awq__TopicAddressRequest req = AWQ__TOPIC_ADDRESS_REQUEST__INIT;
	struct wallet *w;
	uint8_t buf[160];
	char path[96];
	size_t i, n;

	snprintf(path, sizeof(path), "/emissions.%s.QueryService/CanSubmitWorkerPayload",
	    S.emissions);
	for (i = 0; i < S.conf->ntopics; i++) {
		if ((w = wallet_by_name(S.conf->topics[i].wallet)) == NULL)
			continue;
		req.topic_id = S.conf->topics[i].id;
		req.address = w->address;
		n = awq__topic_address_request__pack(&req, buf);
		rpc_abci_query(S.rpc, path, buf, n, wl_done, (void *)(uintptr_t)i);
	}
}

static void
detect_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	size_t i;

	S.detecting = 0;
	if (st != RPC_OK) {
		log_warnx("detecting the emissions version: %s (retrying)", error);
		return;
	}
	snprintf(S.emissions, sizeof(S.emissions), "%s", a->code == 0 ? "v10" : "v9");
	log_info("emissions version: %s (detected)", S.emissions);
	params_done(st, a, error, arg);
	whitelist_precheck();
	chainnext_precheck(S.rpc, S.conf, S.emissions);
	for (i = 0; i < S.nwallets; i++)
		if (S.wallets[i].active != NULL)
			job_timer(S.wallets[i].active, 0);
}

void
detect_emissions(void)
{
	char path[96];

	if (S.emissions[0] != '\0' || S.detecting)
		return;
	if (strcmp(S.conf->emissions, "auto") != 0) {
		snprintf(S.emissions, sizeof(S.emissions), "%s", S.conf->emissions);
		snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetParams", S.emissions);
		rpc_abci_query(S.rpc, path, (const uint8_t *)"", 0, params_done, NULL);
		whitelist_precheck();
		chainnext_precheck(S.rpc, S.conf, S.emissions);
		return;
	}
	S.detecting = 1;
	rpc_abci_query(S.rpc, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0,
	    detect_done, NULL);
}

static void
status_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	const char *h;

	if (st != RPC_OK)
		return;
	h = json_string_value(json_object_get(json_object_get(result, "sync_info"),
	    "latest_block_height"));
	if (h != NULL) {
		S.height = atoll(h);
		S.height_at = mono_s();
	}
}

void
refresh_height(void)
{
	if (mono_s() - S.height_at < 1.0)
		return;
	S.height_at = mono_s();		/* one request at a time */
	rpc_call(S.rpc, "status", NULL, status_done, NULL);
}

/* ---- fees (the logic is in fees.c) ---- */

void
price_config(const struct config *c)
{
	char err[160];

	if (fees_price_config(c->gas_price, err, sizeof(err)) == -1) {
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s}", "topic", "reason", err),
		    "%s", err);
		exit(AW_EX_CONFIG);
	}
}

/* The gas price arrived: jobs waiting for it go on. */
void
price_known(void)
{
	size_t i;

	for (i = 0; i < S.nwallets; i++)
		if (S.wallets[i].active != NULL && S.wallets[i].active->st == J_ACCOUNT)
			job_timer(S.wallets[i].active, 0);
}

static void
allowance_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct wallet *w = arg;
	char err[256], text[256];
	const char *g = fees_wallet_granter(S.conf, w->name);
	int r;

	if (g == NULL)
		return;
	if (st != RPC_OK || (r = fees_allowance_answer(a->code, a->log, a->value,
	    a->value_len, &w->allowance, err, sizeof(err))) == -1) {
		w->allowance_state = 0;
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s}", "topic",
		    "reason", "allowance_unreadable", "wallet", w->name, "granter", g),
		    "wallet %s: the fee grant of %s cannot be read (%s); submitting anyway",
		    w->name, g, st != RPC_OK ? error : err);
		return;
	}
	if (r == 1) {
		w->allowance_state = 2;
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s}", "topic",
		    "reason", "no_fee_grant", "wallet", w->name, "granter", g), "wallet %s: %s "
		    "has granted it no fee allowance; the chain will refuse its transactions",
		    w->name, g);
		return;
	}
	w->allowance_state = 1;
	fees_allowance_text(&w->allowance, text, sizeof(text));
	log_info("wallet %s: fee grant of %s: %s", w->name, g, text);
}

void
query_allowance(struct wallet *w)
{
	const char *g = fees_wallet_granter(S.conf, w->name);
	uint8_t *req;
	size_t n;

	if (g == NULL) {
		w->allowance_state = 0;
		return;
	}
	req = fees_allowance_request(g, w->address, &n);
	rpc_abci_query(S.rpc, FEES_ALLOWANCE_PATH, req, n, allowance_done, w);
	free(req);
}

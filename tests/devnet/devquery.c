/*
 * The devnet's abci_query paths: accounts, balances, Simulate, the emissions module's
 * parameters, topics, windows and nonces as the chain answers them, and the paths of
 * devfees.c, devnext.c and rewards.c; another file adds its own with DEVNET_QUERY
 * (devhooks.h).  The state they read is devchain.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "devfees.h"
#include "devforecast.h"
#include "devnet_int.h"
#include "devnext.h"
#include "query.pb-c.h"
#include "rewards.h"
#include "submitter/tx.h"
#include "util.h"

static devnet_query_fn	*query_hooks[16];
static size_t		 nquery_hooks;

void
devnet_query_hook(devnet_query_fn *fn)
{
	if (nquery_hooks == sizeof(query_hooks) / sizeof(query_hooks[0]))
		abort();	/* a build-time table: raise the bound */
	query_hooks[nquery_hooks++] = fn;
}

/* ---- protobuf answers ---- */

static json_t *
abci_answer(long code, const char *log, const uint8_t *val, size_t len)
{
	char *b64 = val != NULL && len > 0 ? base64_encode(val, len) : xstrdup("");
	json_t *r = json_pack("{s:{s:i, s:s, s:s, s:s, s:s, s:s}}", "response", "code", (int)code,
	    "log", log ? log : "", "info", "", "value", b64, "height", "", "codespace",
	    code ? "sdk" : "");
	char h[32];

	snprintf(h, sizeof(h), "%" PRId64, D.height);
	json_object_set_new(json_object_get(r, "response"), "height", json_string(h));
	free(b64);
	return r;
}

#define PACK(type, msg) do {						\
	len = awq__##type##__get_packed_size(&msg);			\
	buf = xmalloc(len + 1);						\
	awq__##type##__pack(&msg, buf);					\
} while (0)

json_t *
abci_query(const char *path, const uint8_t *data, size_t dlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *res;
	char em[64];
	const char *m;

	snprintf(em, sizeof(em), "/emissions.%s.QueryService/", D.em);
	{	/* DEVNET_QUERY files (devfees.c: feemarket, gas price, feegrant), devnext.c */
		long fc;
		char *fl;
		size_t i;
		int hooked = -1;

		for (i = 0; i < nquery_hooks && hooked != 0; i++) {
			fl = NULL;
			hooked = query_hooks[i](path, data, dlen, &fc, &fl, &buf, &len);
		}
		if (hooked == 0 || devnext_abci(path, data, dlen, D.em, &fc, &fl, &buf, &len) == 0) {
			record(json_pack("{s:s, s:s, s:I, s:i}", "kind", "query", "path", path,
			    "height", (json_int_t)D.height, "code", (int)fc));
			res = abci_answer(fc, fl, buf, len);
			free(fl);
			free(buf);
			return res;
		}
	}
	if (strcmp(path, "/cosmos.auth.v1beta1.Query/AccountInfo") == 0) {
		Awq__QueryAccountInfoRequest *q = awq__query_account_info_request__unpack(NULL,
		    dlen, data);
		Awq__QueryAccountInfoResponse r = AWQ__QUERY_ACCOUNT_INFO_RESPONSE__INIT;
		Awq__BaseAccount ba = AWQ__BASE_ACCOUNT__INIT;
		struct account *a = q ? account(q->address) : NULL;

		if (q != NULL)
			awq__query_account_info_request__free_unpacked(q, NULL);
		if (a == NULL)
			return abci_answer(22, "key not found", NULL, 0);
		ba.address = a->addr;
		ba.account_number = a->number;
		ba.sequence = a->committed;	/* queries read the committed state */
		r.info = &ba;
		PACK(query_account_info_response, r);
	} else if (strcmp(path, "/cosmos.bank.v1beta1.Query/Balance") == 0) {
		Awq__QueryBalanceRequest *q = awq__query_balance_request__unpack(NULL, dlen, data);
		Awq__QueryBalanceResponse r = AWQ__QUERY_BALANCE_RESPONSE__INIT;
		Awq__CoinMsg c = AWQ__COIN_MSG__INIT;
		struct account *a = q ? account(q->address) : NULL;
		char amt[32];

		if (q != NULL)
			awq__query_balance_request__free_unpacked(q, NULL);
		snprintf(amt, sizeof(amt), "%" PRIu64, a ? a->balance : 0);
		c.denom = (char *)"uallo";
		c.amount = amt;
		r.balance = &c;
		PACK(query_balance_response, r);
	} else if (strcmp(path, "/cosmos.tx.v1beta1.Service/Simulate") == 0) {
		Awq__SimulateRequest *q = awq__simulate_request__unpack(NULL, dlen, data);
		Awq__SimulateResponse r = AWQ__SIMULATE_RESPONSE__INIT;
		Awq__GasInfo gi = AWQ__GAS_INFO__INIT;
		json_t *dec;
		long code = 0;
		char *log = NULL, err[128];
		const char *cs;

		if (q == NULL)
			return abci_answer(2, "tx parse error", NULL, 0);
		dec = tx_decode(q->tx_bytes.data, q->tx_bytes.len, NULL, -1, err, sizeof(err));
		if (dec != NULL && devnext_unknown_fields(q->tx_bytes.data, q->tx_bytes.len, D.em,
		    &log)) {
			awq__simulate_request__free_unpacked(q, NULL);
			json_decref(dec);
			res = abci_answer(2, log, NULL, 0);
			free(log);
			return res;
		}
		awq__simulate_request__free_unpacked(q, NULL);
		if (dec == NULL)
			return abci_answer(2, "tx parse error", NULL, 0);
		deliver_checks(dec, 1, &code, &log, &cs);
		json_decref(dec);
		if (code != 0) {
			res = abci_answer(code, log, NULL, 0);
			free(log);
			return res;
		}
		free(log);
		gi.gas_wanted = 300000;
		gi.gas_used = devfees_gas_used();
		r.gas_info = &gi;
		PACK(simulate_response, r);
	} else if (strncmp(path, em, strlen(em)) == 0) {
		m = path + strlen(em);
		if (strcmp(m, "GetParams") == 0) {
			Awq__GetParamsResponse r = AWQ__GET_PARAMS_RESPONSE__INIT;
			Awq__ParamsMsg p = AWQ__PARAMS_MSG__INIT;
			char f1[32], f2[32];

			snprintf(f1, sizeof(f1), "%" PRIu64, D.data_sending_fee);
			snprintf(f2, sizeof(f2), "%" PRIu64, D.registration_fee);
			p.data_sending_fee = f1;
			p.registration_fee = f2;
			p.max_serialized_msg_length = 1 << 20;
			p.max_elements_per_forecast = devforecast_max_elements();
			r.params = &p;
			PACK(get_params_response, r);
		} else if (strcmp(m, "GetTopic") == 0) {
			Awq__TopicIdRequest *q = awq__topic_id_request__unpack(NULL, dlen, data);
			Awq__GetTopicResponse r = AWQ__GET_TOPIC_RESPONSE__INIT;
			Awq__TopicMsg t = AWQ__TOPIC_MSG__INIT;
			uint32_t id = q ? (uint32_t)q->topic_id : 0;

			if (q != NULL)
				awq__topic_id_request__free_unpacked(q, NULL);
			if (!topic_known(id))
				return abci_answer(23, "topic does not exist", NULL, 0);
			t.id = id;
			t.metadata = (char *)"devnet topic";
			t.loss_method = (char *)"zptae";
			t.epoch_length = D.epoch;
			t.ground_truth_lag = rewards_ground_truth_lag();
			t.worker_submission_window = D.window;
			t.output_arity = devnext_arity(id);
			/* issue 22: the last window's nonce, where loss bundles are counted from */
			if (D.height >= D.start_height && D.epoch > 0)
				t.epoch_last_ended = D.start_height + (D.height - D.start_height) /
				    D.epoch * D.epoch;
			r.topic = &t;
			PACK(get_topic_response, r);
		} else if (strcmp(m, "GetUnfulfilledWorkerNonces") == 0) {
			Awq__TopicIdRequest *q = awq__topic_id_request__unpack(NULL, dlen, data);
			Awq__GetUnfulfilledWorkerNoncesResponse r =
			    AWQ__GET_UNFULFILLED_WORKER_NONCES_RESPONSE__INIT;
			Awq__NoncesMsg ns = AWQ__NONCES_MSG__INIT;
			Awq__NonceMsg *arr[MAXT], one[MAXT];
			size_t i, k = 0;
			uint32_t id = q ? (uint32_t)q->topic_id : 0;

			if (q != NULL)
				awq__topic_id_request__free_unpacked(q, NULL);
			for (i = 0; i < D.nwins && k < MAXT; i++)
				if (D.wins[i].topic == id && D.height <= D.wins[i].end) {
					awq__nonce_msg__init(&one[k]);
					one[k].block_height = D.wins[i].nonce;
					arr[k] = &one[k];
					k++;
				}
			ns.n_nonces = k;
			ns.nonces = arr;
			r.nonces = &ns;
			PACK(get_unfulfilled_worker_nonces_response, r);
		} else if (strcmp(m, "GetWorkerSubmissionWindowStatus") == 0) {
			Awq__TopicAddressRequest *q = awq__topic_address_request__unpack(NULL, dlen, data);
			Awq__GetWorkerSubmissionWindowStatusResponse r =
			    AWQ__GET_WORKER_SUBMISSION_WINDOW_STATUS_RESPONSE__INIT;
			uint32_t id = q ? (uint32_t)q->topic_id : 0;
			struct window *w = open_window(id, -1);
			struct account *a = q ? account(q->address) : NULL;

			r.is_topic_active = topic_active(id);
			if (w != NULL) {
				r.is_open = 1;
				r.current_nonce_block_height = w->nonce;
				r.window_start_block = w->nonce;
				r.window_end_block = w->end;
			}
			r.next_window_start_block = D.start_height + ((D.height - D.start_height) /
			    D.epoch + 1) * D.epoch;
			r.next_window_end_block = r.next_window_start_block + D.window;
			if (a != NULL) {
				r.is_registered = registered(a, id);
				r.is_whitelisted = whitelisted(a, id);
			}
			if (q != NULL)
				awq__topic_address_request__free_unpacked(q, NULL);
			PACK(get_worker_submission_window_status_response, r);
		} else if (strcmp(m, "CanSubmitWorkerPayload") == 0 ||
		    strcmp(m, "IsWorkerRegisteredInTopicId") == 0) {
			Awq__TopicAddressRequest *q = awq__topic_address_request__unpack(NULL, dlen, data);
			Awq__CanSubmitWorkerPayloadResponse r = AWQ__CAN_SUBMIT_WORKER_PAYLOAD_RESPONSE__INIT;
			struct account *a = q ? account(q->address) : NULL;
			uint32_t id = q ? (uint32_t)q->topic_id : 0;

			/* Both answers are one bool in field 1. */
			r.can_submit_worker_payload = m[0] == 'C' ? whitelisted(a, id) :
			    registered(a, id) && topic_known(id);
			if (q != NULL)
				awq__topic_address_request__free_unpacked(q, NULL);
			PACK(can_submit_worker_payload_response, r);
		} else if (strcmp(m, "IsWorkerNonceUnfulfilled") == 0) {
			Awq__TopicNonceRequest *q = awq__topic_nonce_request__unpack(NULL, dlen, data);
			Awq__IsWorkerNonceUnfulfilledResponse r =
			    AWQ__IS_WORKER_NONCE_UNFULFILLED_RESPONSE__INIT;

			r.is_worker_nonce_unfulfilled = q != NULL &&
			    open_window((uint32_t)q->topic_id, q->block_height) != NULL;
			if (q != NULL)
				awq__topic_nonce_request__free_unpacked(q, NULL);
			PACK(is_worker_nonce_unfulfilled_response, r);
		} else if (rewards_query(m, data, dlen, &buf, &len)) {
			/* the reward loop's queries (rewards.c) */
		} else
			return abci_answer(6, "unknown query path", NULL, 0);
	} else
		return abci_answer(6, "unknown query path", NULL, 0);
	res = abci_answer(0, "", buf, len);
	free(buf);
	return res;
}

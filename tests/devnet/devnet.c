/*
 * allora-devnet: a local chain that behaves like an Allora node as far as a worker can
 * tell (INTERFACES.md, PROTOCOL.md): CometBFT JSON-RPC (status, abci_query, broadcast_tx_sync,
 * tx), a /websocket with NewBlockEvents, blocks every --block-ms, worker windows every
 * --epoch blocks, CheckTx at broadcast and everything else at delivery in the next block,
 * a --record of every window and transaction, and seeded fault injection.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "faults.h"
#include "devfees.h"
#include "devforecast.h"
#include "devnext.h"
#include "query.pb-c.h"
#include "rewards.h"
#include "devlosses.h"
#include "submitter/keys.h"
#include "submitter/tx.h"
#include "util.h"

#define MAXT	64

struct account {
	char		 addr[ADDR_MAX];
	uint64_t	 balance;
	uint64_t	 number;
	uint64_t	 sequence;	/* CheckTx's state (mempool included) */
	uint64_t	 committed;	/* the last block's state: what queries answer */
	uint32_t	 unregistered[MAXT];
	size_t		 nunreg;
	uint32_t	 notwl[MAXT];
	size_t		 nnotwl;
};

struct window {
	uint32_t	 topic;
	int64_t		 nonce;
	int64_t		 end;
};

struct mtx {			/* a transaction that passed CheckTx, waiting for a block */
	unsigned char	*raw;
	size_t		 len;
	json_t		*dec;
	char		 hash[65];
	struct mtx	*next;
};

struct wsconn {
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ctx;
	int			 subscribed;
	char			*sub_id;	/* JSON text of the subscription id */
	char			*query;
	struct wsconn		*next;
	int			 dead;
};

static struct {
	struct event_base	*base;
	struct evhttp		*http;
	char			*chain_id;
	long			 block_ms;
	int64_t			 height;
	int64_t			 start_height;
	uint32_t		 topics[MAXT];
	size_t			 ntopics;
	uint32_t		 inactive[MAXT];	/* exist, but open no windows */
	size_t			 ninactive;
	long			 epoch;
	long			 window;
	char			 em[8];
	struct account		*accts;
	size_t			 nacct;
	uint64_t		 min_gas_price;
	uint64_t		 data_sending_fee;
	uint64_t		 registration_fee;
	FILE			*record;
	uint64_t		 rng;
	double			 drop_ws_every;
	int			 ws_one_block;	/* close each subscription after one block */
	double			 http_error_rate;
	double			 http_429_rate;
	long			 delay_ms;
	int			 seq_mismatch_once;
	int			 fee_spike_once;
	int			 accepted_any;
	int			 fee_spike_armed;
	double			 malformed_rate;
	struct window		*wins;
	size_t			 nwins;
	json_t			*fulfilled;	/* "topic:nonce:worker" */
	json_t			*results;	/* hash -> {height, code, log, codespace} */
	struct mtx		*mempool;
	struct wsconn		*ws;
	json_t			*block_events;	/* events of the block being made */
	double			 last_drop;
} D;

/* ---- small helpers ---- */

static double
rnd(void)
{
	D.rng ^= D.rng << 13;
	D.rng ^= D.rng >> 7;
	D.rng ^= D.rng << 17;
	return (double)(D.rng >> 11) / 9007199254740992.0;
}

static struct account *
account(const char *addr)
{
	size_t i;

	for (i = 0; addr != NULL && i < D.nacct; i++)
		if (strcmp(D.accts[i].addr, addr) == 0)
			return &D.accts[i];
	return NULL;
}

static int
in_list(const uint32_t *l, size_t n, uint32_t t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] == t)
			return 1;
	return 0;
}

static int
topic_known(uint32_t t)
{
	return in_list(D.topics, D.ntopics, t);
}

static int
topic_active(uint32_t t)
{
	return topic_known(t) && !in_list(D.inactive, D.ninactive, t);
}

static int
registered(struct account *a, uint32_t t)
{
	return a != NULL && !in_list(a->unregistered, a->nunreg, t);
}

static int
whitelisted(struct account *a, uint32_t t)
{
	return a != NULL && !in_list(a->notwl, a->nnotwl, t);
}

static struct window *
open_window(uint32_t topic, int64_t nonce)
{
	size_t i;

	for (i = 0; i < D.nwins; i++)
		if (D.wins[i].topic == topic && (nonce < 0 || D.wins[i].nonce == nonce) &&
		    D.height <= D.wins[i].end)
			return &D.wins[i];
	return NULL;
}

static void
record(json_t *o)
{
	char *s;

	if (D.record == NULL) {
		json_decref(o);
		return;
	}
	json_object_set_new(o, "time", json_real(wall_s()));
	s = json_dumps(o, JSON_COMPACT);
	fprintf(D.record, "%s\n", s);
	fflush(D.record);
	free(s);
	json_decref(o);
}

static void
record_tx(const char *stage, json_t *dec, const char *hash, long code, const char *log)
{
	json_t *m = json_array_get(json_object_get(json_object_get(dec, "body"), "messages"), 0);
	json_t *b = json_object_get(m, "worker_data_bundle");
	json_t *inf = json_object_get(b, "inference");

	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:i, s:s}", "kind", "tx",
	    "stage", stage, "height", strcmp(stage, "deliver") == 0 ? json_integer(D.height) :
	    json_null(), "topic", b ? json_incref(json_object_get(b, "topic_id")) :
	    json_object_get(m, "topic_id") ? json_incref(json_object_get(m, "topic_id")) :
	    json_null(), "nonce", b ? json_incref(json_object_get(b, "nonce")) : json_null(),
	    "worker", b ? json_incref(json_object_get(b, "worker")) : json_null(), "value",
	    inf ? json_incref(json_object_get(inf, "value")) : json_null(), "sequence",
	    dec ? json_incref(json_object_get(json_object_get(dec, "auth_info"), "sequence")) :
	    json_null(), "txhash", hash, "code", (int)code, "log", log ? log : "");

	json_object_set_new(o, "forecast_elements", devforecast_elements(m) < 0 ? json_null() :
	    json_integer(devforecast_elements(m)));
	record(o);
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

static json_t	*deliver_checks(json_t *dec, int simulate, long *code, char **log,
		    const char **codespace);

static json_t *
abci_query(const char *path, const uint8_t *data, size_t dlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *res;
	char em[64];
	const char *m;

	snprintf(em, sizeof(em), "/emissions.%s.QueryService/", D.em);
	{	/* feemarket, node minimum gas price, feegrant (devfees.c) */
		long fc;
		char *fl;

		if (devfees_abci(path, data, dlen, &fc, &fl, &buf, &len) == 0 ||
		    devnext_abci(path, data, dlen, D.em, &fc, &fl, &buf, &len) == 0) {
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
		} else if (devlosses_query(m, data, dlen, &buf, &len)) {
			/* issue 22: loss history, forecaster score (devlosses.c) */
		} else
			return abci_answer(6, "unknown query path", NULL, 0);
	} else
		return abci_answer(6, "unknown query path", NULL, 0);
	res = abci_answer(0, "", buf, len);
	free(buf);
	return res;
}

/* ---- transactions ---- */

/* The message-level checks (delivery, or simulation without the signature). */
static json_t *
deliver_checks(json_t *dec, int simulate, long *code, char **log, const char **codespace)
{
	json_t *m = json_array_get(json_object_get(json_object_get(dec, "body"), "messages"), 0);
	const char *url = json_string_value(json_object_get(m, "type_url"));
	const char *signer = json_string_value(json_object_get(dec, "signer_address"));
	json_t *b, *inf;
	struct account *a = account(signer);
	char want[64], key[160];
	uint32_t topic;
	int64_t nonce;
	const char *worker, *inferer, *sender;

	*code = 0;
	*log = NULL;
	*codespace = "";
	snprintf(want, sizeof(want), "/emissions.%s.", D.em);
	if (url == NULL || strncmp(url, want, strlen(want)) != 0) {
		*code = 2;
		*log = xasprintf("tx parse error: unable to resolve type URL %s", url ? url : "");
		*codespace = "sdk";
		return NULL;
	}
	if (strstr(url, "RegisterRequest") != NULL) {
		size_t i, k;

		topic = (uint32_t)json_integer_value(json_object_get(m, "topic_id"));
		if (!topic_known(topic)) {
			*code = 23;
			*log = xstrdup("topic does not exist");
			*codespace = "emissions";
		} else if (a == NULL || registered(a, topic)) {
			/* Already registered: nothing to do, nothing charged. */
		} else if (a->balance < D.registration_fee) {
			*code = 5;
			*log = xasprintf("%" PRIu64 "uallo is smaller than %" PRIu64 "uallo: "
			    "insufficient funds for the registration fee", a->balance,
			    D.registration_fee);
			*codespace = "sdk";
		} else if (!simulate) {
			a->balance -= D.registration_fee;
			for (i = 0, k = 0; i < a->nunreg; i++)
				if (a->unregistered[i] != topic)
					a->unregistered[k++] = a->unregistered[i];
			a->nunreg = k;
		}
		return NULL;
	}
	b = json_object_get(m, "worker_data_bundle");
	inf = json_object_get(b, "inference");
	topic = (uint32_t)json_integer_value(json_object_get(b, "topic_id"));
	nonce = json_integer_value(json_object_get(b, "nonce"));
	worker = json_string_value(json_object_get(b, "worker"));
	inferer = json_string_value(json_object_get(inf, "inferer"));
	sender = json_string_value(json_object_get(m, "sender"));
	if (!whitelisted(a, topic)) {
		*code = 1;
		*log = xstrdup("Worker is not permitted to submit payload");
		*codespace = "emissions";
	} else if (devnext_deliver(m, code, log, codespace)) {
		/* the label rules (devnext.c) */
	} else if (devforecast_check(m, signer, code, log, codespace)) {
		/* the forecast's rules (devforecast.c) */
	} else if (!simulate && !devnext_no_bundle_signature() &&
	    !json_is_true(json_object_get(dec, "bundle_signature_ok"))) {
		/* WorkerDataBundle.Validate: errors.Wrap(sdkerrors.ErrUnauthorized, ...). */
		*code = 4;
		*log = xstrdup("failed to execute message; message index: 0: signature "
		    "verification failed: unauthorized");
		*codespace = "sdk";
	} else if (!json_is_true(json_object_get(inf, "value_canonical"))) {
		*code = 52;
		*log = xstrdup("invalid value: not a canonical decimal");
		*codespace = "emissions";
	} else if (worker == NULL || inferer == NULL || sender == NULL ||
	    strcmp(worker, inferer) != 0 || strcmp(worker, sender) != 0 ||
	    (!devnext_no_bundle_signature() &&
	    strcmp(worker, json_string_value(json_object_get(b, "pubkey_address")) ?: "") != 0) ||
	    (signer != NULL && strcmp(worker, signer) != 0)) {
		*code = 18;
		*log = xasprintf("Inference.Inferer %s does not match pubkey / worker: invalid request",
		    inferer ? inferer : "");
		*codespace = "sdk";
	} else if (!topic_known(topic)) {
		*code = 23;
		*log = xstrdup("topic does not exist");
		*codespace = "emissions";
	} else if (!registered(a, topic)) {
		*code = 10;
		*log = xstrdup("address is not registered in this topic");
		*codespace = "emissions";
	} else if (open_window(topic, nonce) == NULL) {
		*code = 67;
		*log = xstrdup("worker nonce window not available");
		*codespace = "emissions";
	} else {
		snprintf(key, sizeof(key), "%u:%" PRId64 ":%s", topic, nonce, worker);
		if (json_object_get(D.fulfilled, key) != NULL) {
			*code = 1;
			*log = xstrdup("inference already submitted");
			*codespace = "undefined";
		} else if (a->balance < D.data_sending_fee) {
			*code = 5;
			*log = xstrdup("insufficient funds for the data sending fee");
			*codespace = "sdk";
		} else if (!simulate) {
			json_object_set_new(D.fulfilled, key, json_true());
			a->balance -= D.data_sending_fee;
			rewards_inference(topic, nonce, worker,
			    json_string_value(json_object_get(inf, "value")));
			devforecast_accept(m, D.height);
		}
	}
	return NULL;
}

static json_t *
checktx(const char *b64, char *hash_out)
{
	unsigned char *raw = NULL;
	size_t len;
	json_t *dec = NULL, *d2;
	char err[256], *log = NULL;
	long code = 0;
	struct account *a, *payer;
	uint64_t seq, fee = 0;
	const char *cs = "sdk";
	char payer_addr[96];
	struct mtx *t;
	json_t *res;

	hash_out[0] = '\0';
	if (b64 == NULL || base64_decode(b64, strlen(b64), &raw, &len) == -1) {
		code = 2;
		log = xstrdup("tx parse error: not base64");
		goto out;
	}
	tx_hash_hex(raw, len, hash_out);
	dec = tx_decode(raw, len, NULL, -1, err, sizeof(err));
	if (dec == NULL) {
		code = 2;
		log = xasprintf("tx parse error: %s", err);
		goto out;
	}
	if (devnext_unknown_fields(raw, len, D.em, &log)) {
		code = 2;
		goto out;
	}
	a = account(json_string_value(json_object_get(dec, "signer_address")));
	if (a == NULL) {
		code = 9;
		log = xasprintf("account %s not found: unknown address",
		    json_string_value(json_object_get(dec, "signer_address")) ?: "?");
		goto out;
	}
	d2 = tx_decode(raw, len, D.chain_id, (int64_t)a->number, err, sizeof(err));
	if (d2 == NULL || !json_is_true(json_object_get(d2, "tx_signature_ok"))) {
		json_decref(d2);
		code = 4;
		log = xasprintf("signature verification failed; please verify account number (%"
		    PRIu64 ") and chain-id (%s): unauthorized", a->number, D.chain_id);
		goto out;
	}
	json_decref(dec);
	dec = d2;
	seq = (uint64_t)json_integer_value(json_object_get(json_object_get(dec, "auth_info"),
	    "sequence"));
	if (seq != a->sequence || (D.seq_mismatch_once == 1 && D.accepted_any)) {
		if (D.seq_mismatch_once == 1 && D.accepted_any && seq == a->sequence) {
			D.seq_mismatch_once = 2;	/* injected once: the worker resyncs to it */
		}
		code = 32;
		log = xasprintf("account sequence mismatch, expected %" PRIu64 ", got %" PRIu64
		    ": incorrect account sequence", a->sequence, seq);
		goto out;
	}
	/* Memo, fee coin, fee >= ceil(gas x price), fee grant: devfees.c. */
	if (devfees_checktx(dec, a->addr, D.fee_spike_armed ? 2 : 1, payer_addr,
	    sizeof(payer_addr), &fee, &code, &log, &cs) == -1) {
		if (code == 13 && D.fee_spike_armed)
			D.fee_spike_armed = 0;	/* once */
		goto out;
	}
	if (D.fee_spike_armed)
		D.fee_spike_armed = 0;
	payer = account(payer_addr);
	if (payer == NULL) {
		code = 9;
		log = xasprintf("fee payer address: %s does not exist: unknown address", payer_addr);
		goto out;
	}
	if (payer->balance < fee) {
		code = 5;
		log = xasprintf("%" PRIu64 "uallo is smaller than %" PRIu64 "uallo: insufficient "
		    "funds", payer->balance, fee);
		goto out;
	}
	for (t = D.mempool; t != NULL; t = t->next)
		if (strcmp(t->hash, hash_out) == 0) {
			code = 19;
			log = xstrdup("tx already exists in cache");
			goto out;
		}
	if (json_object_get(D.results, hash_out) != NULL) {
		code = 19;
		log = xstrdup("tx already exists in cache");
		goto out;
	}
	a->sequence++;
	payer->balance -= fee;
	devfees_accepted(dec, a->addr, fee);
	if (!D.accepted_any) {
		D.accepted_any = 1;
		if (D.fee_spike_once)
			D.fee_spike_armed = 1;
	}
	t = xcalloc(1, sizeof(*t));
	t->raw = raw;
	t->len = len;
	t->dec = json_incref(dec);
	memcpy(t->hash, hash_out, 65);
	t->next = D.mempool;
	D.mempool = t;
	raw = NULL;
out:
	record_tx("checktx", dec, hash_out, code, log);
	res = json_pack("{s:i, s:s, s:s, s:s, s:s}", "code", (int)code, "data", "", "log",
	    log ? log : "", "codespace", code ? cs : "", "hash", hash_out);
	free(log);
	free(raw);
	json_decref(dec);
	return res;
}

static void
deliver_all(void)
{
	struct mtx *t, *next, *rev = NULL;
	long code;
	char *log;
	const char *cs;
	int64_t th;
	size_t i;

	/* In arrival order. */
	for (t = D.mempool; t != NULL; t = next) {
		next = t->next;
		t->next = rev;
		rev = t;
	}
	D.mempool = NULL;
	for (t = rev; t != NULL; t = next) {
		next = t->next;
		th = json_integer_value(json_object_get(json_object_get(t->dec, "body"),
		    "timeout_height"));
		if (th > 0 && D.height > th) {
			code = 30;
			log = xstrdup("tx timeout height");
			cs = "sdk";
		} else if (devfees_deliver(t->dec, &code, &log, &cs))
			;
		else
			deliver_checks(t->dec, 0, &code, &log, &cs);
		json_object_set_new(D.results, t->hash, json_pack("{s:I, s:i, s:s, s:s}", "height",
		    (json_int_t)D.height, "code", (int)code, "log", log ? log : "", "codespace", cs));
		record_tx("deliver", t->dec, t->hash, code, log);
		if (code != 30) {
			/* The ante handler passed: the sequence is used (the message may fail). */
			struct account *a = account(json_string_value(json_object_get(t->dec,
			    "signer_address")));
			uint64_t sq = (uint64_t)json_integer_value(json_object_get(json_object_get(
			    t->dec, "auth_info"), "sequence"));

			if (a != NULL && sq + 1 > a->committed)
				a->committed = sq + 1;
		}
		free(log);
		json_decref(t->dec);
		free(t->raw);
		free(t);
	}
	/* Commit: CheckTx's state starts again from the block's (the mempool is empty). */
	for (i = 0; i < D.nacct; i++)
		D.accts[i].sequence = D.accts[i].committed;
}

/* ---- websocket server ---- */

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	struct wsconn *c = ud;
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);

	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct wsconn *c = ud;

	bufferevent_write(c->bev, data, len);
	return (ssize_t)len;
}

static void
ws_text(struct wsconn *c, const char *text)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text) };

	if (c->dead)
		return;
	wslay_event_queue_msg(c->ctx, &m);
	wslay_event_send(c->ctx);
}

static void
ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *ud)
{
	struct wsconn *c = ud;
	json_t *req, *id;
	json_error_t je;
	const char *method;
	char *ids, *reply;

	if (a->opcode != WSLAY_TEXT_FRAME)
		return;
	req = json_loadb((const char *)a->msg, a->msg_length, 0, &je);
	method = json_string_value(json_object_get(req, "method"));
	id = json_object_get(req, "id");
	ids = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("null");
	if (method != NULL && strcmp(method, "subscribe") == 0) {
		free(c->sub_id);
		free(c->query);
		c->sub_id = xstrdup(ids);
		c->query = xstrdup(json_string_value(json_object_get(json_object_get(req, "params"),
		    "query")) ?: "");
		c->subscribed = 1;
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids);
	} else if (method != NULL && strcmp(method, "unsubscribe") == 0) {
		c->subscribed = 0;
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids);
	} else
		reply = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}", ids);
	ws_text(c, reply);
	free(reply);
	free(ids);
	json_decref(req);
}

static void
ws_drop(struct wsconn *c)
{
	c->dead = 1;
}

static void
ws_read_cb(struct bufferevent *bev, void *arg)
{
	struct wsconn *c = arg;

	if (c->dead)
		return;
	if (wslay_event_recv(c->ctx) != 0 || wslay_event_send(c->ctx) != 0 ||
	    (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx)))
		ws_drop(c);
}

static void
ws_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ws_drop(arg);
}

static void
ws_upgrade(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *key = evhttp_find_header(h, "Sec-WebSocket-Key");
	struct wslay_event_callbacks cbs = { ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL,
	    ws_msg_cb };
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	unsigned char sha[20];
	char buf[128], *acc, *resp;
	struct wsconn *c;

	if (key == NULL || strlen(key) > 64) {
		evhttp_send_error(req, 400, "websocket key missing");
		return;
	}
	snprintf(buf, sizeof(buf), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((unsigned char *)buf, strlen(buf), sha);
	acc = base64_encode(sha, 20);
	c = xcalloc(1, sizeof(*c));
	c->evcon = evcon;
	c->bev = evhttp_connection_get_bufferevent(evcon);
	/* Take the connection over from evhttp: the request is never answered by it. */
	bufferevent_setcb(c->bev, ws_read_cb, NULL, ws_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	wslay_event_context_server_init(&c->ctx, &cbs, c);
	resp = xasprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	bufferevent_write(c->bev, resp, strlen(resp));
	free(resp);
	free(acc);
	c->next = D.ws;
	D.ws = c;
}

static void
ws_reap(int all)
{
	struct wsconn **pp = &D.ws, *c;

	while ((c = *pp) != NULL) {
		if (c->dead || all) {
			*pp = c->next;
			wslay_event_context_free(c->ctx);
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
			evhttp_connection_free(c->evcon);
			free(c->sub_id);
			free(c->query);
			free(c);
		} else
			pp = &c->next;
	}
}

/* ---- blocks ---- */

static json_t *
attr(const char *k, const char *v, int quoted)
{
	char *q = quoted ? xasprintf("\"%s\"", v) : xstrdup(v);
	json_t *a = json_pack("{s:s, s:s, s:b}", "key", k, "value", q, "index", 1);

	free(q);
	return a;
}

static void
make_block(evutil_socket_t fd, short ev, void *arg)
{
	json_t *events = json_array(), *e, *attrs;
	struct wsconn *c;
	size_t i, k;
	char hs[32], ns[32], es[32];

	D.height++;
	devfees_block();
	if (devnext_wallclock() > 0)	/* windows close by block time (this block's: now) */
		for (i = 0; i < D.nwins; i++)
			if (D.wins[i].end >= D.height && devnext_closed(D.wins[i].nonce, wall_s()))
				D.wins[i].end = D.height - 1;
	deliver_all();
	/* Closed windows are dropped from the list. */
	for (i = 0, k = 0; i < D.nwins; i++)
		if (D.height <= D.wins[i].end + 2 * D.epoch)
			D.wins[k++] = D.wins[i];
	D.nwins = k;
	/* Every block has some events, as on the real chain. */
	attrs = json_array();
	json_array_append_new(attrs, attr("spender", "allo1devnetfeecollector", 0));
	json_array_append_new(attrs, attr("amount", "0uallo", 0));
	json_array_append_new(attrs, attr("mode", "BeginBlock", 0));
	json_array_append_new(events, json_pack("{s:s, s:o}", "type", "coin_spent", "attributes",
	    attrs));
	if (devnext_wallclock() > 0 ? devnext_epoch_due(D.height, wall_s()) :
	    (D.height - D.start_height) % D.epoch == 0) {
		for (i = 0; i < D.ntopics; i++) {
			if (!topic_active(D.topics[i]))
				continue;
			D.wins = xrealloc(D.wins, (D.nwins + 1) * sizeof(*D.wins));
			D.wins[D.nwins].topic = D.topics[i];
			D.wins[D.nwins].nonce = D.height;
			D.wins[D.nwins].end = devnext_wallclock() > 0 ? INT64_MAX / 4 :
			    D.height + D.window;	/* wall-clock: the close time decides */
			D.nwins++;
			snprintf(hs, sizeof(hs), "%u", D.topics[i]);
			snprintf(ns, sizeof(ns), "%" PRId64, D.height);
			snprintf(es, sizeof(es), "%" PRId64, devnext_wallclock() > 0 ? D.height +
			    (int64_t)(devnext_wallclock() * 1000 / D.block_ms) : D.height + D.window);
			attrs = json_array();
			json_array_append_new(attrs, attr("nonce_block_height", ns, 1));
			json_array_append_new(attrs, attr("topic_id", hs, 1));
			json_array_append_new(attrs, attr("window_end_block", es, 1));
			json_array_append_new(attrs, attr("mode", "EndBlock", 0));
			e = json_pack("{s:s, s:o}", "type", "", "attributes", attrs);
			json_object_set_new(e, "type", json_sprintf(
			    "emissions.%s.EventWorkerSubmissionWindowOpened", D.em));
			json_array_append_new(events, e);
			e = json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind", "window", "topic",
			    (json_int_t)D.topics[i], "nonce", (json_int_t)D.height, "end",
			    (json_int_t)atoll(es), "height", (json_int_t)D.height);
			if (devnext_wallclock() > 0)
				json_object_set_new(e, "close_at", json_real(devnext_close_at(D.height)));
			record(e);
		}
	}
	{
		uint32_t ft[MAXT];
		int64_t fn[MAXT], fe[MAXT];
		size_t nf = faults_fake_windows(D.height, D.start_height, D.epoch, D.window,
		    D.topics, D.ntopics, ft, fn, fe, MAXT);

		for (i = 0; i < nf; i++) {
			snprintf(hs, sizeof(hs), "%u", ft[i]);
			snprintf(ns, sizeof(ns), "%" PRId64, fn[i]);
			snprintf(es, sizeof(es), "%" PRId64, fe[i]);
			attrs = json_array();
			json_array_append_new(attrs, attr("nonce_block_height", ns, 1));
			json_array_append_new(attrs, attr("topic_id", hs, 1));
			json_array_append_new(attrs, attr("window_end_block", es, 1));
			json_array_append_new(attrs, attr("mode", "EndBlock", 0));
			e = json_pack("{s:s, s:o}", "type", "", "attributes", attrs);
			json_object_set_new(e, "type", json_sprintf(
			    "emissions.%s.EventWorkerSubmissionWindowOpened", D.em));
			json_array_append_new(events, e);
		}
		uint32_t act[MAXT];
		size_t na = 0;

		for (i = 0; i < D.ntopics; i++)
			if (topic_active(D.topics[i]))
				act[na++] = D.topics[i];
		rewards_block(D.height, act, na, events);	/* scores, rewards (rewards.c) */
	}
	/* Websocket subscribers. */
	if (D.drop_ws_every > 0 && wall_s() - D.last_drop >= D.drop_ws_every) {
		D.last_drop = wall_s();
		for (c = D.ws; c != NULL; c = c->next)
			c->dead = 1;
	}
	ws_reap(0);
	snprintf(hs, sizeof(hs), "%" PRId64, D.height);
	for (c = D.ws; c != NULL; c = c->next) {
		json_t *frame;
		char *s;

		if (!c->subscribed)
			continue;
		if (D.malformed_rate > 0 && rnd() < D.malformed_rate)
			ws_text(c, rnd() < 0.5 ? "{\"jsonrpc\":\"2.0\",\"result\":{\"data\":{\"value\":"
			    "{\"events\":[{\"type\":\"emissions.v9.EventWorkerSubmissionWindowOpened\","
			    "\"attributes\":[{\"key\":\"topic_id\",\"value\":12}]}]}}}}" :
			    "\x01garbage{{{not json");
		frame = json_pack("{s:s, s:o, s:{s:s, s:{s:s, s:{s:s, s:s, s:O}}, s:{s:[s]}}}",
		    "jsonrpc", "2.0", "id", json_loads(c->sub_id, JSON_DECODE_ANY, NULL),
		    "result", "query", c->query, "data", "type", "tendermint/event/NewBlockEvents",
		    "value", "height", hs, "num_txs", "0", "events", events, "events", "tm.event",
		    "NewBlockEvents");
		s = json_dumps(frame, JSON_COMPACT);
		ws_text(c, s);
		free(s);
		json_decref(frame);
		if (D.ws_one_block)
			c->dead = 1;	/* reaped, closed, at the next block */
	}
	json_decref(events);
}

/* ---- HTTP JSON-RPC ---- */

static double devnet_started;	/* wall time of the start height */

static json_t *
rpc_status(void)
{
	char h[32], ts[40];

	json_t *r;
	char eh[32], et[40];

	snprintf(h, sizeof(h), "%" PRId64, D.height);
	r = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:b}}", "node_info", "network", D.chain_id,
	    "version", "0.38.17-devnet", "sync_info", "latest_block_height", h,
	    "latest_block_time", iso8601_now(ts, sizeof(ts)), "catching_up", 0);
	/* The oldest block kept (CometBFT's earliest_*): tells the block time. */
	snprintf(eh, sizeof(eh), "%" PRId64, D.start_height);
	json_object_set_new(json_object_get(r, "sync_info"), "earliest_block_height",
	    json_string(eh));
	json_object_set_new(json_object_get(r, "sync_info"), "earliest_block_time",
	    json_string(iso8601(devnet_started, et, sizeof(et))));
	return r;
}

static json_t *
unconfirmed_txs(json_t *params)
{
	unsigned char *raw[256];
	size_t len[256], n = 0, bytes = 0;
	struct mtx *t, *rev[256];
	json_t *r;
	size_t i;

	for (t = D.mempool; t != NULL && n < 256; t = t->next)
		rev[n++] = t;
	for (i = 0; i < n; i++) {	/* in arrival order */
		raw[i] = rev[n - 1 - i]->raw;
		len[i] = rev[n - 1 - i]->len;
		bytes += len[i];
	}
	r = faults_unconfirmed_txs(raw, len, n, params, bytes);
	return r;
}

/* Returns the result, or NULL with *err set (a JSON-RPC error object). */
static json_t *
dispatch(const char *method, json_t *params, json_t **err)
{
	if (strcmp(method, "status") == 0)
		return rpc_status();
	if (strcmp(method, "abci_query") == 0) {
		const char *path = json_string_value(json_object_get(params, "path"));
		const char *data = json_string_value(json_object_get(params, "data"));
		unsigned char *raw = NULL;
		size_t len = 0;
		json_t *r;

		if (data != NULL && strncmp(data, "0x", 2) == 0)
			data += 2;
		if (path == NULL || (data != NULL && *data != '\0' &&
		    hex_decode(data, &raw, &len) == -1)) {
			*err = json_pack("{s:i, s:s, s:s}", "code", -32602, "message", "Invalid params",
			    "data", "path and hex data expected");
			return NULL;
		}
		r = abci_query(path, raw ? raw : (const uint8_t *)"", len);
		free(raw);
		return r;
	}
	if (strcmp(method, "broadcast_tx_sync") == 0) {
		const char *b64 = json_string_value(json_object_get(params, "tx"));
		char hash[65] = "";
		unsigned char *raw;
		size_t len;
		json_t *r;

		/* The mempool cache comes before CheckTx, as in CometBFT. */
		if (b64 != NULL && base64_decode(b64, strlen(b64), &raw, &len) == 0) {
			tx_hash_hex(raw, len, hash);
			free(raw);
		}
		if (faults_cache_check(hash, err))
			return NULL;
		r = checktx(b64, hash);
		if (json_integer_value(json_object_get(r, "code")) == 0)
			faults_cache_add(hash);
		return r;
	}
	if (strcmp(method, "unconfirmed_txs") == 0 && faults_unconfirmed_offered())
		return unconfirmed_txs(params);
	if (strcmp(method, "tx") == 0) {
		const char *h = json_string_value(json_object_get(params, "hash"));
		unsigned char *raw = NULL;
		size_t len = 0;
		char hex[65] = "";
		json_t *r;
		size_t i;

		if (h != NULL && strncmp(h, "0x", 2) == 0) {
			snprintf(hex, sizeof(hex), "%s", h + 2);
		} else if (h != NULL && base64_decode(h, strlen(h), &raw, &len) == 0 && len == 32) {
			for (i = 0; i < 32; i++)
				sprintf(hex + 2 * i, "%02X", raw[i]);
		}
		free(raw);
		for (i = 0; hex[i]; i++)
			hex[i] = (char)toupper((unsigned char)hex[i]);
		r = json_object_get(D.results, hex);
		if (r == NULL) {
			*err = json_pack("{s:i, s:s, s:s}", "code", -32603, "message", "Internal error",
			    "data", "");
			json_object_set_new(*err, "data", json_sprintf("tx (%s) not found", hex));
			return NULL;
		}
		return json_pack("{s:s, s:o, s:i, s:{s:i, s:s, s:s, s:s, s:s}}", "hash", hex,
		    "height", json_sprintf("%lld", (long long)json_integer_value(json_object_get(r,
		    "height"))), "index", 0, "tx_result", "code", (int)json_integer_value(
		    json_object_get(r, "code")), "log", json_string_value(json_object_get(r, "log")),
		    "codespace", json_string_value(json_object_get(r, "codespace")), "gas_wanted",
		    "300000", "gas_used", "120000");
	}
	*err = json_pack("{s:i, s:s}", "code", -32601, "message", "Method not found");
	return NULL;
}

struct delayed {
	struct evhttp_request	*req;
	struct evbuffer		*buf;
	int			 code;
};

static void
send_delayed(evutil_socket_t fd, short ev, void *arg)
{
	struct delayed *d = arg;

	evhttp_send_reply(d->req, d->code, d->code == 200 ? "OK" : "Error", d->buf);
	evbuffer_free(d->buf);
	free(d);
}

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct delayed *d = xcalloc(1, sizeof(*d));
	struct timeval tv = { D.delay_ms / 1000, (D.delay_ms % 1000) * 1000 };

	d->req = req;
	d->code = code;
	d->buf = evbuffer_new();
	evbuffer_add(d->buf, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	if (D.delay_ms > 0)
		event_base_once(D.base, -1, EV_TIMEOUT, send_delayed, d, &tv);
	else
		send_delayed(-1, 0, d);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	json_t *doc = NULL, *params = NULL, *res, *err = NULL, *out, *id = NULL;
	const char *method = NULL;
	char *s;

	if (path != NULL && strcmp(path, "/websocket") == 0) {
		ws_upgrade(req);
		return;
	}
	if (D.http_error_rate > 0 && rnd() < D.http_error_rate) {
		reply(req, 500, "{\"error\":\"injected failure\"}");
		return;
	}
	if (D.http_429_rate > 0 && rnd() < D.http_429_rate) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		reply(req, 429, "{\"error\":\"too many requests\"}");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		char *body = xmalloc(n + 1);
		json_error_t je;

		evbuffer_remove(in, body, n);
		body[n] = '\0';
		doc = json_loads(body, 0, &je);
		free(body);
		method = json_string_value(json_object_get(doc, "method"));
		params = json_object_get(doc, "params");
		id = json_object_get(doc, "id");
		if (method == NULL) {
			json_decref(doc);
				reply(req, 200, "{\"jsonrpc\":\"2.0\",\"id\":-1,\"error\":{\"code\":-32700,"
			    "\"message\":\"Parse error\"}}");
			return;
		}
	} else if (path != NULL && strlen(path) > 1) {
		/* GET URI form: /status, /abci_query?path="..."&data=0x.., /tx?hash=0x.. */
		struct evkeyvalq q;
		struct evkeyval *kv;

		method = path + 1;
		params = json_object();
		doc = params;
		TAILQ_INIT(&q);
		if (evhttp_uri_get_query(u) != NULL)
			evhttp_parse_query_str(evhttp_uri_get_query(u), &q);
		TAILQ_FOREACH(kv, &q, next) {
			char *v = xstrdup(kv->value);
			size_t l = strlen(v);

			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				v[l - 1] = '\0';
				memmove(v, v + 1, l - 1);
			}
			json_object_set_new(params, kv->key, json_string(v));
			free(v);
		}
		evhttp_clear_headers(&q);
	}
	if (method == NULL) {
		reply(req, 404, "{\"error\":\"not found\"}");
		return;
	}
	res = dispatch(method, params, &err);
	if (strcmp(method, "broadcast_tx_sync") == 0 && faults_lose_reply(req)) {
		json_decref(res);
		json_decref(err);
		json_decref(doc);
		return;
	}
	out = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_integer(-1));
	if (res != NULL)
		json_object_set_new(out, "result", res);
	else
		json_object_set_new(out, "error", err);
	s = json_dumps(out, JSON_COMPACT);
	reply(req, 200, s);
	free(s);
	json_decref(out);
	json_decref(doc);
}

/* ---- main ---- */

static void
stop_cb(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(D.base, NULL);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: allora-devnet [--port N] [--port-file F] [--chain-id ID] [--block-ms N]\n"
	    "                     [--start-height H] [--topics 67,68] [--inactive-topics 68]\n"
	    "                     [--epoch N] [--window N]\n"
	    "                     [--emissions v9|v10]\n"
	    "                     [--account ADDRESS:UALLO[:ACCOUNT_NUMBER[:SEQUENCE]]]...\n"
	    "                     [--unregistered ADDRESS:TOPIC]... [--not-whitelisted ADDRESS:TOPIC]...\n"
	    "                     [--min-gas-price N] [--data-sending-fee N] [--record FILE] [--seed N]\n"
	    "                     [--drop-ws-every S] [--http-error-rate P] [--http-429-rate P]\n"
	    "                     [--delay-ms N] [--seq-mismatch-once] [--fee-spike-once]\n"
	    "                     [--malformed-rate P] [--lose-reply-rate P]\n"
	    "                     [--lose-reply-hold-ms N] [--fake-window-rate P]\n"
	    "                     [--mempool-cache-size N] [--no-unconfirmed-txs]\n"
	    "                     [--gas-price-walk] [--fee-grant GRANTER:GRANTEE:UALLO[:EXPIRES_S]]\n"
	    "                     [--no-feemarket] [--gas-used N]\n"
	    "                     [--peers K] [--truth FILE] [--truth-lag N] [--score-alpha A]\n"
	    "                     [--active N]\n"
	    "                     [--ws-one-block]\n"
	    "                     [--wallclock-windows SECONDS] [--arity single|multi]\n"
	    "                     [--topic-arity TOPIC:single|multi]... [--no-bundle-signature]\n"
	    "                     [--max-elements-per-forecast N]\n"
	    "\n"
	    "A local chain for tests and the demo: CometBFT JSON-RPC and /websocket on\n"
	    "127.0.0.1:N (0 picks a free port, printed on the first line and written to\n"
	    "--port-file).  Runs until SIGTERM, then exits 0.\n");
}

static int
bad_arg(const char *opt, const char *v)
{
	fprintf(stderr, "allora-devnet: %s: bad value \"%s\"\n", opt, v);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "chain-id", required_argument, NULL, 'c' },
		{ "block-ms", required_argument, NULL, 'b' },
		{ "start-height", required_argument, NULL, 'H' },
		{ "topics", required_argument, NULL, 't' },
		{ "inactive-topics", required_argument, NULL, 'i' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "window", required_argument, NULL, 'w' },
		{ "emissions", required_argument, NULL, 'E' },
		{ "account", required_argument, NULL, 'a' },
		{ "unregistered", required_argument, NULL, 'u' },
		{ "not-whitelisted", required_argument, NULL, 'n' },
		{ "min-gas-price", required_argument, NULL, 'g' },
		{ "data-sending-fee", required_argument, NULL, 'd' },
		{ "record", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "drop-ws-every", required_argument, NULL, 'D' },
		{ "http-error-rate", required_argument, NULL, 'x' },
		{ "http-429-rate", required_argument, NULL, 'X' },
		{ "delay-ms", required_argument, NULL, 'y' },
		{ "seq-mismatch-once", no_argument, NULL, 'S' },
		{ "fee-spike-once", no_argument, NULL, 'F' },
		{ "malformed-rate", required_argument, NULL, 'M' },
		{ "lose-reply-rate", required_argument, NULL, 'Z' },
		{ "lose-reply-hold-ms", required_argument, NULL, 'Z' },
		{ "fake-window-rate", required_argument, NULL, 'Z' },
		{ "mempool-cache-size", required_argument, NULL, 'Z' },
		{ "no-unconfirmed-txs", no_argument, NULL, 'Z' },
		{ "gas-price-walk", no_argument, NULL, DEVFEES_OPT_WALK },
		{ "fee-grant", required_argument, NULL, DEVFEES_OPT_GRANT },
		{ "no-feemarket", no_argument, NULL, DEVFEES_OPT_NO_FM },
		{ "gas-used", required_argument, NULL, DEVFEES_OPT_GAS_USED },
		{ "wallclock-windows", required_argument, NULL, DEVNEXT_OPT_WALLCLOCK },
		{ "arity", required_argument, NULL, DEVNEXT_OPT_ARITY },
		{ "topic-arity", required_argument, NULL, DEVNEXT_OPT_TOPIC_ARITY },
		{ "no-bundle-signature", no_argument, NULL, DEVNEXT_OPT_NO_SIG },
		{ "max-elements-per-forecast", required_argument, NULL, DEVFORECAST_OPT_MAX },
		{ "peers", required_argument, NULL, 0x180 },
		{ "truth", required_argument, NULL, 0x181 },
		{ "truth-lag", required_argument, NULL, 0x182 },
		{ "score-alpha", required_argument, NULL, 0x183 },
		{ "active", required_argument, NULL, 0x184 },
		{ "ws-one-block", no_argument, NULL, 1015 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct event *blk, *sterm, *sint;
	struct timeval tv;
	const char *port_file = NULL;
	long port = 0, v;
	double dv;
	int ch, i, li = 0;
	struct { char *spec; int kind; } pending[256];
	int npending = 0;

	memset(&D, 0, sizeof(D));
	D.chain_id = "devnet-1";
	D.block_ms = 1000;
	D.start_height = 1;
	D.epoch = 10;
	D.window = 5;
	snprintf(D.em, sizeof(D.em), "v10");
	D.min_gas_price = 10;
	D.data_sending_fee = 10000;
	D.registration_fee = 1000000;
	D.rng = 88172645463325252ULL;
	D.topics[D.ntopics++] = 67;
	while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_long(optarg, 0, 65535, &port) == -1)
				return bad_arg("--port", optarg);
			break;
		case 'P': port_file = optarg; break;
		case 'c': D.chain_id = optarg; break;
		case 'b':
			if (parse_long(optarg, 10, 600000, &D.block_ms) == -1)
				return bad_arg("--block-ms", optarg);
			break;
		case 'H':
			if (parse_long(optarg, 1, 1L << 50, &v) == -1)
				return bad_arg("--start-height", optarg);
			D.start_height = v;
			break;
		case 't': case 'i': {
			char *cp = xstrdup(optarg), *tok, *save = NULL;
			uint32_t *l = ch == 't' ? D.topics : D.inactive;
			size_t *n = ch == 't' ? &D.ntopics : &D.ninactive;

			*n = 0;
			for (tok = strtok_r(cp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (parse_long(tok, 1, UINT32_MAX, &v) == -1 || *n >= MAXT)
					return bad_arg(ch == 't' ? "--topics" : "--inactive-topics",
					    optarg);
				l[(*n)++] = (uint32_t)v;
			}
			free(cp);
			break;
		}
		case 'e':
			if (parse_long(optarg, 1, 1000000, &D.epoch) == -1)
				return bad_arg("--epoch", optarg);
			break;
		case 'w':
			if (parse_long(optarg, 0, 1000000, &D.window) == -1)
				return bad_arg("--window", optarg);
			break;
		case 'E':
			if (strcmp(optarg, "v9") != 0 && strcmp(optarg, "v10") != 0)
				return bad_arg("--emissions", optarg);
			snprintf(D.em, sizeof(D.em), "%s", optarg);
			break;
		case 'a': case 'u': case 'n':
			if (npending >= 256)
				return bad_arg("--account", "too many");
			pending[npending].spec = optarg;
			pending[npending++].kind = ch;
			break;
		case 'g':
			if (parse_long(optarg, 0, 1L << 40, &v) == -1)
				return bad_arg("--min-gas-price", optarg);
			D.min_gas_price = (uint64_t)v;
			break;
		case 'd':
			if (parse_long(optarg, 0, 1L << 50, &v) == -1)
				return bad_arg("--data-sending-fee", optarg);
			D.data_sending_fee = (uint64_t)v;
			break;
		case 'r':
			D.record = fopen(optarg, "a");
			if (D.record == NULL) {
				fprintf(stderr, "allora-devnet: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 's':
			if (parse_long(optarg, 0, 1L << 62, &v) == -1)
				return bad_arg("--seed", optarg);
			D.rng = (uint64_t)v * 2654435761ULL + 1;
			break;
		case 1015:
			D.ws_one_block = 1;
			break;
		case 'D':
			if (parse_double(optarg, &dv) == -1 || dv < 0)
				return bad_arg("--drop-ws-every", optarg);
			D.drop_ws_every = dv;
			break;
		case 'x': case 'X': case 'M':
			if (parse_double(optarg, &dv) == -1 || dv < 0 || dv > 1)
				return bad_arg(ch == 'x' ? "--http-error-rate" : ch == 'X' ?
				    "--http-429-rate" : "--malformed-rate", optarg);
			if (ch == 'x')
				D.http_error_rate = dv;
			else if (ch == 'X')
				D.http_429_rate = dv;
			else
				D.malformed_rate = dv;
			break;
		case 'y':
			if (parse_long(optarg, 0, 600000, &D.delay_ms) == -1)
				return bad_arg("--delay-ms", optarg);
			break;
		case 'Z':
			if (faults_option(opts[li].name, optarg) != 1) {
				char o[64];

				snprintf(o, sizeof(o), "--%s", opts[li].name);
				return bad_arg(o, optarg);
			}
			break;
		case 'S': D.seq_mismatch_once = 1; break;
		case 'F': D.fee_spike_once = 1; break;
		case DEVFEES_OPT_WALK: case DEVFEES_OPT_GRANT: case DEVFEES_OPT_NO_FM:
		case DEVFEES_OPT_GAS_USED:
			if (devfees_option(ch, optarg) == -1)
				return bad_arg(ch == DEVFEES_OPT_GRANT ? "--fee-grant" : "--gas-used",
				    optarg);
			break;
		case DEVFORECAST_OPT_MAX:
			if (devforecast_option(ch, optarg) == -1)
				return bad_arg("--max-elements-per-forecast", optarg);
			break;
		case DEVNEXT_OPT_WALLCLOCK: case DEVNEXT_OPT_ARITY: case DEVNEXT_OPT_TOPIC_ARITY:
		case DEVNEXT_OPT_NO_SIG:
			if (devnext_option(ch, optarg) == -1)
				return bad_arg(ch == DEVNEXT_OPT_WALLCLOCK ? "--wallclock-windows" :
				    ch == DEVNEXT_OPT_ARITY ? "--arity" : "--topic-arity", optarg);
			break;
		case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: {
			static const char *rn[] = { "peers", "truth", "truth-lag", "score-alpha",
			    "active" };

			if (rewards_option(rn[ch - 0x180], optarg) == -1)
				return bad_arg(rn[ch - 0x180], optarg);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < npending; i++) {
		char *cp = xstrdup(pending[i].spec), *f[5], *save = NULL, *tok;
		int nf = 0;
		char hrp[16], e[64];
		uint8_t data[64];
		size_t dl;

		for (tok = strtok_r(cp, ":", &save); tok != NULL && nf < 5;
		    tok = strtok_r(NULL, ":", &save))
			f[nf++] = tok;
		if (nf < 2 || bech32_decode(f[0], hrp, sizeof(hrp), data, &dl, e, sizeof(e)) == -1)
			return bad_arg(pending[i].kind == 'a' ? "--account" : pending[i].kind == 'u' ?
			    "--unregistered" : "--not-whitelisted", pending[i].spec);
		if (pending[i].kind == 'a') {
			struct account *a;

			D.accts = xrealloc(D.accts, (D.nacct + 1) * sizeof(*D.accts));
			a = &D.accts[D.nacct++];
			memset(a, 0, sizeof(*a));
			snprintf(a->addr, sizeof(a->addr), "%s", f[0]);
			if (parse_long(f[1], 0, 1L << 62, &v) == -1)
				return bad_arg("--account", pending[i].spec);
			a->balance = (uint64_t)v;
			a->number = 100 + D.nacct;
			if (nf >= 3) {
				if (parse_long(f[2], 0, 1L << 62, &v) == -1)
					return bad_arg("--account", pending[i].spec);
				a->number = (uint64_t)v;
			}
			if (nf >= 4) {
				if (parse_long(f[3], 0, 1L << 62, &v) == -1)
					return bad_arg("--account", pending[i].spec);
				a->sequence = (uint64_t)v;
			}
			a->committed = a->sequence;
		} else {
			struct account *a = account(f[0]);

			if (a == NULL || parse_long(f[1], 1, UINT32_MAX, &v) == -1)
				return bad_arg(pending[i].kind == 'u' ? "--unregistered" :
				    "--not-whitelisted", pending[i].spec);
			if (pending[i].kind == 'u' && a->nunreg < MAXT)
				a->unregistered[a->nunreg++] = (uint32_t)v;
			if (pending[i].kind == 'n' && a->nnotwl < MAXT)
				a->notwl[a->nnotwl++] = (uint32_t)v;
		}
		free(cp);
	}
	if (rewards_setup(D.start_height, D.epoch, D.window, D.em, D.rng, record) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	devfees_start(D.min_gas_price, D.rng);
	devnext_start(D.em);
	devnet_started = wall_s();
	D.height = D.start_height - 1;
	D.fulfilled = json_object();
	D.results = json_object();
	D.base = event_base_new();
	faults_init(D.base, rnd, record);
	D.http = evhttp_new(D.base);
	evhttp_set_allowed_methods(D.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(D.http, handle, NULL);
	sock = evhttp_bind_socket_with_handle(D.http, "127.0.0.1", (uint16_t)port);
	if (sock == NULL) {
		fprintf(stderr, "allora-devnet: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sin, &sl);
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	if (port_file != NULL) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%u\n", ntohs(sin.sin_port));
		if (write_file_atomic(port_file, buf, strlen(buf), 0644) == -1) {
			fprintf(stderr, "allora-devnet: %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	D.last_drop = wall_s();
	make_block(-1, 0, NULL);	/* the start height, with its windows */
	blk = event_new(D.base, -1, EV_PERSIST, make_block, NULL);
	tv.tv_sec = D.block_ms / 1000;
	tv.tv_usec = (D.block_ms % 1000) * 1000;
	evtimer_add(blk, &tv);
	sterm = evsignal_new(D.base, SIGTERM, stop_cb, NULL);
	sint = evsignal_new(D.base, SIGINT, stop_cb, NULL);
	evsignal_add(sterm, NULL);
	evsignal_add(sint, NULL);
	event_base_dispatch(D.base);
	ws_reap(1);
	event_free(blk);
	event_free(sterm);
	event_free(sint);
	evhttp_free(D.http);
	faults_free();
	if (D.record != NULL)
		fclose(D.record);
	return 0;
}

/*
 * The devnet's chain rules: accounts, topics and worker windows, CheckTx at broadcast and
 * the message rules at delivery in the next block (with devfees.c's fees and devnext.c's
 * next-version rules), blocks and their events, and the --record of windows and
 * transactions.  The answers to queries are devquery.c's; the front (HTTP, websocket,
 * options) is devnet.c's and devws.c's.  Shared state: devnet_int.h.
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
#include "faults.h"
#include "rewards.h"
#include "submitter/tx.h"
#include "util.h"

/* ---- state ---- */

struct account *
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

int
topic_known(uint32_t t)
{
	return in_list(D.topics, D.ntopics, t);
}

int
topic_active(uint32_t t)
{
	return topic_known(t) && !in_list(D.inactive, D.ninactive, t);
}

int
registered(struct account *a, uint32_t t)
{
	return a != NULL && !in_list(a->unregistered, a->nunreg, t);
}

int
whitelisted(struct account *a, uint32_t t)
{
	return a != NULL && !in_list(a->notwl, a->nnotwl, t);
}

struct window *
open_window(uint32_t topic, int64_t nonce)
{
	size_t i;

	for (i = 0; i < D.nwins; i++)
		if (D.wins[i].topic == topic && (nonce < 0 || D.wins[i].nonce == nonce) &&
		    D.height <= D.wins[i].end)
			return &D.wins[i];
	return NULL;
}

void
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


/* ---- transactions ---- */

/* The message-level checks (delivery, or simulation without the signature). */
json_t *
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
	} else if (devnet_deliver_run(DEVNET_VALIDATE, dec, m, simulate, code, log, codespace)) {
		/* DEVNET_DELIVER files' rules: devnext.c's labels, ... (devhooks.h) */
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
			/* DEVNET_DELIVER files: rewards.c's loop, ... (devhooks.h) */
			devnet_deliver_run(DEVNET_ACCEPTED, dec, m, 0, code, log, codespace);
		}
	}
	return NULL;
}

json_t *
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

/* ---- blocks ---- */

static json_t *
attr(const char *k, const char *v, int quoted)
{
	char *q = quoted ? xasprintf("\"%s\"", v) : xstrdup(v);
	json_t *a = json_pack("{s:s, s:s, s:b}", "key", k, "value", q, "index", 1);

	free(q);
	return a;
}

/* The EventWorkerSubmissionWindowOpened of a window (topic, nonce, end as text). */
static json_t *
window_opened(const char *hs, const char *ns, const char *es)
{
	json_t *e, *attrs = json_array();

	json_array_append_new(attrs, attr("nonce_block_height", ns, 1));
	json_array_append_new(attrs, attr("topic_id", hs, 1));
	json_array_append_new(attrs, attr("window_end_block", es, 1));
	json_array_append_new(attrs, attr("mode", "EndBlock", 0));
	e = json_pack("{s:s, s:o}", "type", "", "attributes", attrs);
	json_object_set_new(e, "type", json_sprintf(
	    "emissions.%s.EventWorkerSubmissionWindowOpened", D.em));
	return e;
}

void
make_block(evutil_socket_t fd, short ev, void *arg)
{
	json_t *events = json_array(), *e, *attrs;
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
			json_array_append_new(events, window_opened(hs, ns, es));
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
			json_array_append_new(events, window_opened(hs, ns, es));
		}
		uint32_t act[MAXT];
		size_t na = 0;

		for (i = 0; i < D.ntopics; i++)
			if (topic_active(D.topics[i]))
				act[na++] = D.topics[i];
		rewards_block(D.height, act, na, events);	/* scores, rewards (rewards.c) */
	}
	ws_block(events);	/* websocket subscribers (devws.c) */
	json_decref(events);
}

/* ---- delivery hooks (devhooks.h) ---- */

static devnet_deliver_fn	*deliver_hooks[16];
static size_t			 ndeliver_hooks;

void
devnet_deliver_hook(devnet_deliver_fn *fn)
{
	if (ndeliver_hooks == sizeof(deliver_hooks) / sizeof(deliver_hooks[0]))
		abort();	/* a build-time table: raise its bound */
	deliver_hooks[ndeliver_hooks++] = fn;
}

int
devnet_deliver_run(int stage, json_t *dec, json_t *msg, int simulate, long *code, char **log,
    const char **codespace)
{
	long c;
	char *l;
	const char *cs;
	size_t i;

	for (i = 0; i < ndeliver_hooks; i++) {
		if (stage == DEVNET_VALIDATE) {
			if (deliver_hooks[i](stage, dec, msg, simulate, code, log, codespace))
				return 1;
			continue;
		}
		/* Accepted: what the hook says is not the message's outcome. */
		c = 0;
		l = NULL;
		cs = "";
		deliver_hooks[i](stage, dec, msg, 0, &c, &l, &cs);
		free(l);
	}
	return 0;
}

/*
 * alloractl check (preflight against the chain) and alloractl register (RegisterRequest
 * through a one-shot child).  Key material is only ever loaded in a forked child that
 * reports the address (check) or the transaction's fate (register) over a pipe; alloractl's
 * own memory never holds more than the address.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "ctl.h"
#include "http.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "tx.h"
#include "util.h"

/* ---- a tiny synchronous layer over the async clients, for a command-line tool ---- */

struct sync {
	struct event_base	*base;
	struct http_client	*http;
	struct rpc		*rpc;
	int			 done;
	enum rpc_status		 st;
	json_t			*result;
	char			*error;
	long			 code;
	char			*log;
	uint8_t			*value;
	size_t			 value_len;
};

static void
sync_reset(struct sync *s)
{
	json_decref(s->result);
	free(s->error);
	free(s->log);
	free(s->value);
	s->result = NULL;
	s->error = s->log = NULL;
	s->value = NULL;
	s->value_len = 0;
	s->code = 0;
	s->done = 0;
}

static void
sync_rpc_cb(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct sync *s = arg;

	s->st = st;
	s->result = json_incref(result);
	s->error = error ? xstrdup(error) : NULL;
	s->done = 1;
	event_base_loopbreak(s->base);
}

static void
sync_abci_cb(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct sync *s = arg;

	s->st = st;
	s->error = error ? xstrdup(error) : NULL;
	if (st == RPC_OK) {
		s->code = a->code;
		s->log = xstrdup(a->log);
		s->value = xmalloc(a->value_len + 1);
		memcpy(s->value, a->value, a->value_len);
		s->value_len = a->value_len;
	}
	s->done = 1;
	event_base_loopbreak(s->base);
}

static enum rpc_status
sync_call(struct sync *s, const char *method, json_t *params)
{
	sync_reset(s);
	rpc_call(s->rpc, method, params, sync_rpc_cb, s);
	while (!s->done)
		event_base_loop(s->base, EVLOOP_ONCE);
	return s->st;
}

static enum rpc_status
sync_abci(struct sync *s, const char *path, const uint8_t *data, size_t len)
{
	sync_reset(s);
	rpc_abci_query(s->rpc, path, data, len, sync_abci_cb, s);
	while (!s->done)
		event_base_loop(s->base, EVLOOP_ONCE);
	return s->st;
}

static void
sync_init(struct sync *s, const struct config *c)
{
	memset(s, 0, sizeof(*s));
	s->base = event_base_new();
	s->http = http_client_new(s->base);
	s->rpc = rpc_new(s->http, c->rpc, c->nrpc, c->request_timeout_ms);
}

static void
sync_free(struct sync *s)
{
	sync_reset(s);
	rpc_free(s->rpc);
	http_client_free(s->http);
	event_base_free(s->base);
}

/* Loads a wallet's key in a forked child; the parent gets the address (or the error). */
static int
child_address(const struct config_wallet *w, char *addr, size_t addrlen, char *err,
    size_t errlen)
{
	int p[2], st;
	pid_t pid;
	char buf[512];
	ssize_t n;

	if (pipe(p) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		uint8_t priv[32], pub[33];
		char *m, e[400], out[512];
		int len;

		close(p[0]);
		prctl(PR_SET_DUMPABLE, 0);
		if (w->mnemonic_file != NULL)
			m = keyfile_read(w->mnemonic_file, e, sizeof(e));
		else if (getenv(w->mnemonic_env) != NULL)
			m = xstrdup(getenv(w->mnemonic_env));
		else {
			snprintf(e, sizeof(e), "%s is not set", w->mnemonic_env);
			m = NULL;
		}
		if (m != NULL && key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) == 0) {
			char a[ADDR_MAX];

			key_address(pub, a, sizeof(a));
			len = snprintf(out, sizeof(out), "OK %s", a);
		} else
			len = snprintf(out, sizeof(out), "ERR %s", e);
		key_clear(priv, sizeof(priv));
		if (write(p[1], out, (size_t)len) != len)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (strncmp(buf, "OK ", 3) == 0) {
		snprintf(addr, addrlen, "%s", buf + 3);
		return 0;
	}
	snprintf(err, errlen, "%s", strncmp(buf, "ERR ", 4) == 0 ? buf + 4 : "the key check failed");
	return -1;
}

/* ---- check ---- */

static int nerr, nwarn;

static void
line(const char *what, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
line(const char *what, int level, const char *fmt, ...)
{
	static const char *tag[] = { "ok", "warning", "error" };
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%-8s %-28s %s\n", tag[level], what, msg);
	if (level == 2)
		nerr++;
	else if (level == 1)
		nwarn++;
}

static int
topic_addr_query(struct sync *s, const char *em, const char *method, uint32_t topic,
    const char *addr)
{
	Awq__TopicAddressRequest req = AWQ__TOPIC_ADDRESS_REQUEST__INIT;
	uint8_t buf[160];
	char path[128];
	size_t n;

	req.topic_id = topic;
	req.address = (char *)addr;
	n = awq__topic_address_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/%s", em, method);
	return sync_abci(s, path, buf, n) == RPC_OK && s->code == 0 ? 0 : -1;
}

static void
check_market_data(const struct config_topic *t)
{
	char what[64];

	snprintf(what, sizeof(what), "topic %u market data", t->id);
	if (strncmp(t->data_source, "csv:", 4) == 0) {
		const char *path = t->data_source + 4;
		size_t len;
		char *data = read_file(path, (size_t)1 << 30, &len), *last, *p;
		double age;
		long long ts;

		if (data == NULL) {
			line(what, 2, "%s: %s", path, strerror(errno));
			return;
		}
		for (p = data + len; p > data && (p[-1] == '\n' || p[-1] == '\r'); p--)
			*(p - 1) = '\0';
		last = strrchr(data, '\n');
		last = last ? last + 1 : data;
		ts = atoll(last);
		if (ts <= 0) {
			line(what, 2, "%s: the last line is not \"unix,close\"", path);
			free(data);
			return;
		}
		age = (double)time(NULL) - (double)ts;
		if (age > (double)t->stale_after_s)
			line(what, 1, "%s: newest bar is %.1f h old (stale_after_s = %ld): the "
			    "fallback will be submitted", path, age / 3600, t->stale_after_s);
		else
			line(what, 0, "%s: newest bar %.0f min old", path, age / 60);
		free(data);
		return;
	}
	if (strcmp(t->data_source, "tiingo") == 0) {
		if (t->tiingo_key_file == NULL && getenv("TIINGO_API_KEY") == NULL)
			line(what, 2, "tiingo needs TIINGO_API_KEY or tiingo_key_file");
		else if (t->tiingo_key_file != NULL && access(t->tiingo_key_file, R_OK) != 0)
			line(what, 2, "tiingo_key_file %s: %s", t->tiingo_key_file, strerror(errno));
		else
			line(what, 0, "tiingo (%s), API key present", t->tiingo_url);
		return;
	}
	line(what, 0, "%s (keyless)", t->data_source);
}

static int
cmd_check(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct sync s;
	char err[2048], em[8] = "v10";
	size_t i, k;
	int json_out = 0, ch;
	uint64_t data_fee = 0;
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: alloractl [-c FILE] check\n"
			    "Preflight: configuration, keys, RPC and websocket, chain id, emissions "
			    "version,\ntopics, registration, whitelist, balance and market data; one "
			    "line each with\nok, warning or error.  Exit status 0 when nothing is an "
			    "error, else 1.\n");
			return 0;
		}
		return 2;
	}
	(void)json_out;
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		line("configuration", 2, "%s", err);
		return 2;
	}
	line("configuration", 0, "%s: %zu topic(s), %zu wallet(s)", c->path ? c->path : ".env",
	    c->ntopics, c->nwallets);
	sync_init(&s, c);
	/* RPC endpoints and chain id. */
	for (i = 0; i < c->nrpc; i++) {
		struct rpc *one = rpc_new(s.http, &c->rpc[i], 1, c->request_timeout_ms);
		struct rpc *saved = s.rpc;
		const char *net;

		s.rpc = one;
		if (sync_call(&s, "status", NULL) != RPC_OK)
			line("rpc", i == 0 && c->nrpc == 1 ? 2 : 1, "%s: %s", c->rpc[i], s.error);
		else {
			net = json_string_value(json_object_get(json_object_get(s.result, "node_info"),
			    "network"));
			if (net == NULL || strcmp(net, c->chain_id) != 0)
				line("chain id", 2, "%s serves %s, the configuration says %s", c->rpc[i],
				    net ? net : "?", c->chain_id);
			else
				line("rpc", 0, "%s: chain %s, height %s", c->rpc[i], net,
				    json_string_value(json_object_get(json_object_get(s.result,
				    "sync_info"), "latest_block_height")) ?: "?");
		}
		s.rpc = saved;
		rpc_free(one);
	}
	/* Websocket: a TCP connect and upgrade. */
	{
		char *u = xstrdup(c->websocket);

		line("websocket", 0, "%s (used with polling as fallback)", u);
		free(u);
	}
	/* Emissions version. */
	if (strcmp(c->emissions, "auto") == 0) {
		if (sync_abci(&s, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0) !=
		    RPC_OK)
			line("emissions", 2, "cannot ask the chain: %s", s.error);
		else {
			snprintf(em, sizeof(em), "%s", s.code == 0 ? "v10" : "v9");
			line("emissions", 0, "%s (detected)", em);
		}
	} else {
		snprintf(em, sizeof(em), "%s", c->emissions);
		line("emissions", 0, "%s (configured)", em);
	}
	{
		char path[96];
		Awq__GetParamsResponse *r;

		snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetParams", em);
		if (sync_abci(&s, path, (const uint8_t *)"", 0) == RPC_OK && s.code == 0 &&
		    (r = awq__get_params_response__unpack(NULL, s.value_len, s.value)) != NULL) {
			if (r->params && r->params->data_sending_fee)
				data_fee = strtoull(r->params->data_sending_fee, NULL, 10);
			awq__get_params_response__free_unpacked(r, NULL);
		}
	}
	/* Wallets. */
	for (k = 0; k < c->nwallets; k++) {
		const struct config_wallet *w = &c->wallets[k];
		char addr[ADDR_MAX], what[64];
		Awq__QueryBalanceRequest br = AWQ__QUERY_BALANCE_REQUEST__INIT;
		Awq__QueryBalanceResponse *bal;
		uint8_t buf[160];
		size_t n;
		uint64_t have, per;
		double fee;

		snprintf(what, sizeof(what), "wallet %s key", w->name);
		if (child_address(w, addr, sizeof(addr), err, sizeof(err)) == -1) {
			line(what, 2, "%s", err);
			continue;
		}
		if (w->expect_address != NULL && strcmp(w->expect_address, addr) != 0)
			line(what, 2, "derives %s, but ALLORA_WALLET_ADDR is %s", addr,
			    w->expect_address);
		else
			line(what, 0, "%s (%s)", addr, w->hd_path);
		snprintf(what, sizeof(what), "wallet %s balance", w->name);
		br.address = addr;
		br.denom = (char *)"uallo";
		n = awq__query_balance_request__pack(&br, buf);
		if (sync_abci(&s, "/cosmos.bank.v1beta1.Query/Balance", buf, n) != RPC_OK) {
			line(what, 2, "cannot ask the chain: %s", s.error);
			continue;
		}
		bal = awq__query_balance_response__unpack(NULL, s.value_len, s.value);
		have = bal && bal->balance && bal->balance->amount ?
		    strtoull(bal->balance->amount, NULL, 10) : 0;
		if (bal != NULL)
			awq__query_balance_response__free_unpacked(bal, NULL);
		fee = ceil((double)(c->gas_limit > 0 ? c->gas_limit : 300000) * c->gas_price);
		if (fee > (double)c->max_fee)
			fee = (double)c->max_fee;
		per = (uint64_t)fee + data_fee;
		if (have < per)
			line(what, 2, "%" PRIu64 " uallo: less than one submission (%" PRIu64 ")",
			    have, per);
		else if (have < per * (uint64_t)c->balance_warn_submissions)
			line(what, 1, "%" PRIu64 " uallo: fewer than %ld submissions (%" PRIu64
			    " each)", have, c->balance_warn_submissions, per);
		else
			line(what, 0, "%" PRIu64 " uallo: about %" PRIu64 " submissions", have,
			    have / (per ? per : 1));
		/* Topics of this wallet. */
		for (i = 0; i < c->ntopics; i++) {
			const struct config_topic *t = &c->topics[i];
			Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
			Awq__GetTopicResponse *gt;
			char path[96];
			int yes;

			if (strcmp(t->wallet, w->name) != 0)
				continue;
			snprintf(what, sizeof(what), "topic %u", t->id);
			tr.topic_id = t->id;
			n = awq__topic_id_request__pack(&tr, buf);
			snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
			if (sync_abci(&s, path, buf, n) != RPC_OK || s.code != 0 ||
			    (gt = awq__get_topic_response__unpack(NULL, s.value_len, s.value)) == NULL ||
			    gt->topic == NULL || gt->topic->id != t->id) {
				line(what, 2, "does not exist on this chain (%s)", s.error ? s.error :
				    s.log ? s.log : "empty answer");
			} else {
				line(what, 0, "\"%s\": epoch %" PRId64 " blocks, window %" PRId64
				    " blocks", gt->topic->metadata ? gt->topic->metadata : "",
				    gt->topic->epoch_length, gt->topic->worker_submission_window);
				awq__get_topic_response__free_unpacked(gt, NULL);
			}
			snprintf(what, sizeof(what), "topic %u registration", t->id);
			if (topic_addr_query(&s, em, "IsWorkerRegisteredInTopicId", t->id, addr) == -1)
				line(what, 2, "cannot ask the chain: %s", s.error ? s.error : s.log);
			else {
				Awq__IsWorkerRegisteredInTopicIdResponse *r =
				    awq__is_worker_registered_in_topic_id_response__unpack(NULL,
				    s.value_len, s.value);

				yes = r != NULL && r->is_registered;
				if (r != NULL)
					awq__is_worker_registered_in_topic_id_response__free_unpacked(r, NULL);
				if (yes)
					line(what, 0, "%s is registered", addr);
				else
					line(what, 2, "%s is not registered: run `alloractl register "
					    "--topic %u`", addr, t->id);
			}
			snprintf(what, sizeof(what), "topic %u whitelist", t->id);
			if (topic_addr_query(&s, em, "CanSubmitWorkerPayload", t->id, addr) == -1)
				line(what, 2, "cannot ask the chain: %s", s.error ? s.error : s.log);
			else {
				Awq__CanSubmitWorkerPayloadResponse *r =
				    awq__can_submit_worker_payload_response__unpack(NULL, s.value_len,
				    s.value);

				yes = r != NULL && r->can_submit_worker_payload;
				if (r != NULL)
					awq__can_submit_worker_payload_response__free_unpacked(r, NULL);
				if (yes)
					line(what, 0, "%s may submit", addr);
				else
					line(what, 2, "%s may not submit to topic %u (not whitelisted; "
					    "contact the topic creator)", addr, t->id);
			}
			check_market_data(t);
		}
	}
	sync_free(&s);
	config_free(c);
	printf("%d error(s), %d warning(s)\n", nerr, nwarn);
	return nerr > 0 ? 1 : 0;
}

/* ---- register ---- */

/* The one-shot child: the only place the key exists.  Writes one line to fd: "OK txhash
 * height" or "ERR text". */
static void
register_child(const struct config *c, const struct config_wallet *w, uint32_t topic,
    const char *em, int fd)
{
	struct sync s;
	uint8_t priv[32], pub[33], buf[160];
	char *m, e[512], addr[ADDR_MAX], out[768];
	struct tx_params tp;
	struct tx_out tx;
	Awq__QueryAccountInfoRequest ar = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
	Awq__QueryAccountInfoResponse *acc;
	size_t n;
	int i, len;
	double fee;

	prctl(PR_SET_DUMPABLE, 0);
	m = w->mnemonic_file ? keyfile_read(w->mnemonic_file, e, sizeof(e)) :
	    getenv(w->mnemonic_env) ? xstrdup(getenv(w->mnemonic_env)) : NULL;
	if (m == NULL || key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) == -1) {
		if (m == NULL && w->mnemonic_file == NULL)
			snprintf(e, sizeof(e), "%s is not set", w->mnemonic_env);
		len = snprintf(out, sizeof(out), "ERR %s", e);
		goto done;
	}
	key_address(pub, addr, sizeof(addr));
	sync_init(&s, c);
	ar.address = addr;
	n = awq__query_account_info_request__pack(&ar, buf);
	if (sync_abci(&s, "/cosmos.auth.v1beta1.Query/AccountInfo", buf, n) != RPC_OK ||
	    s.code != 0 || (acc = awq__query_account_info_response__unpack(NULL, s.value_len,
	    s.value)) == NULL || acc->info == NULL) {
		len = snprintf(out, sizeof(out), "ERR account %s not found on the chain (fund it "
		    "first): %s", addr, s.error ? s.error : s.log ? s.log : "");
		goto done;
	}
	memset(&tp, 0, sizeof(tp));
	tp.chain_id = c->chain_id;
	tp.account_number = acc->info->account_number;
	tp.sequence = acc->info->sequence;
	awq__query_account_info_response__free_unpacked(acc, NULL);
	tp.topic = topic;
	tp.gas_limit = c->gas_limit > 0 ? (uint64_t)c->gas_limit : 300000;
	fee = ceil((double)tp.gas_limit * c->gas_price);
	tp.fee_uallo = fee > (double)c->max_fee ? (uint64_t)c->max_fee : (uint64_t)fee;
	tp.emissions = em;
	if (tx_build_register(priv, &tp, 0, &tx, e, sizeof(e)) == -1) {
		len = snprintf(out, sizeof(out), "ERR %s", e);
		goto done;
	}
	key_clear(priv, sizeof(priv));
	if (sync_call(&s, "broadcast_tx_sync", json_pack("{s:s}", "tx", tx.base64)) != RPC_OK) {
		len = snprintf(out, sizeof(out), "ERR broadcast: %s", s.error);
		goto done;
	}
	if (json_integer_value(json_object_get(s.result, "code")) != 0) {
		len = snprintf(out, sizeof(out), "ERR the chain refused the transaction (code %lld): %s",
		    (long long)json_integer_value(json_object_get(s.result, "code")),
		    json_string_value(json_object_get(s.result, "log")) ?: "");
		goto done;
	}
	/* Wait for inclusion: up to 60 s. */
	for (i = 0; i < 120; i++) {
		unsigned char *raw;
		size_t rl;
		char *b64;

		hex_decode(tx.hash, &raw, &rl);
		b64 = base64_encode(raw, rl);
		free(raw);
		if (sync_call(&s, "tx", json_pack("{s:s, s:b}", "hash", b64, "prove", 0)) == RPC_OK) {
			json_t *r = json_object_get(s.result, "tx_result");
			long long code = json_integer_value(json_object_get(r, "code"));

			free(b64);
			if (code != 0) {
				len = snprintf(out, sizeof(out), "ERR registration failed in block %s "
				    "(code %lld): %s", json_string_value(json_object_get(s.result,
				    "height")) ?: "?", code, json_string_value(json_object_get(r, "log")) ?:
				    "");
				goto done;
			}
			len = snprintf(out, sizeof(out), "OK %s %s %s", addr, tx.hash,
			    json_string_value(json_object_get(s.result, "height")) ?: "?");
			goto done;
		}
		free(b64);
		usleep(500000);
	}
	len = snprintf(out, sizeof(out), "ERR transaction %s not included within 60 s", tx.hash);
done:
	key_clear(priv, sizeof(priv));
	if (write(fd, out, (size_t)len) != len)
		_exit(1);
	_exit(0);
}

static int
cmd_register(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *c;
	const struct config_topic *t;
	const struct config_wallet *w;
	char err[2048], em[8], buf[1024];
	long topic = 0;
	int ch, p[2], st;
	pid_t pid;
	ssize_t n;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (parse_long(optarg, 1, UINT32_MAX, &topic) == -1) {
				fprintf(stderr, "alloractl register: --topic: \"%s\" is not a topic\n",
				    optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: alloractl [-c FILE] register --topic N\n"
			    "Registers the topic's wallet as a worker (RegisterRequest) through a "
			    "one-shot\nsubmitter process and waits for the transaction's inclusion.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (topic == 0 || optind != argc) {
		fprintf(stderr, "alloractl register: give --topic N\n");
		return 2;
	}
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return 2;
	}
	t = config_topic(c, (uint32_t)topic);
	if (t == NULL || (w = config_wallet(c, t->wallet)) == NULL) {
		fprintf(stderr, "alloractl register: topic %ld is not in %s\n", topic,
		    c->path ? c->path : ".env");
		config_free(c);
		return 2;
	}
	if (strcmp(c->emissions, "auto") == 0) {
		struct sync s;

		sync_init(&s, c);
		if (sync_abci(&s, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0) !=
		    RPC_OK) {
			fprintf(stderr, "alloractl register: the chain does not answer: %s\n", s.error);
			sync_free(&s);
			config_free(c);
			return 1;
		}
		snprintf(em, sizeof(em), "%s", s.code == 0 ? "v10" : "v9");
		sync_free(&s);
	} else
		snprintf(em, sizeof(em), "%s", c->emissions);
	if (pipe(p) == -1)
		return 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		register_child(c, w, (uint32_t)topic, em, p[1]);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	buf[n > 0 ? n : 0] = '\0';
	config_free(c);
	if (strncmp(buf, "OK ", 3) == 0) {
		char a[128], h[80], ht[32];

		if (sscanf(buf + 3, "%127s %79s %31s", a, h, ht) == 3)
			printf("registered %s as a worker in topic %ld (tx %s, block %s)\n", a, topic,
			    h, ht);
		return 0;
	}
	fprintf(stderr, "alloractl register: %s\n", strncmp(buf, "ERR ", 4) == 0 ? buf + 4 :
	    "the registration process failed");
	return 1;
}

int
ctl_check(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_check(o, argc, argv);
}

int
ctl_register(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_register(o, argc, argv);
}

/*
 * alloractl register (RegisterRequest through a one-shot child) and the submitter's chain
 * queries that register and the submitter's preflight (preflight.c) share (ctl_chain.h).
 * Key material is only ever loaded in a forked child that reports the address (check) or the
 * transaction's fate (register) over a pipe; alloractl's own memory never holds more than the
 * address.  Chain calls go through the synchronous client of the command-line tools
 * (common/rpc_sync.h).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
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
#include "ctl_chain.h"
#include "http.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "rpc_sync.h"
#include "tx.h"
#include "util.h"

/* The configuration's .env, which alloractl itself read without its mnemonic variables. */
const char *ctl_env_path;

/*
 * A wallet's mnemonic, in a child only: from its file (0600) or its environment variable
 * (from the environment, or from the .env, read here: never in alloractl's own memory).
 */
char *
ctl_mnemonic_load(const struct config_wallet *w, char *err, size_t errlen)
{
	const char *env;

	if (w->mnemonic_file != NULL)
		return keyfile_read(w->mnemonic_file, err, errlen);
	if (getenv(w->mnemonic_env) == NULL && ctl_env_path != NULL) {
		config_dotenv_secrets(1);
		if (config_load_dotenv(ctl_env_path, err, errlen) == -1)
			return NULL;
	}
	if ((env = getenv(w->mnemonic_env)) != NULL && *env != '\0')
		return xstrdup(env);
	snprintf(err, errlen, "%s is not set", w->mnemonic_env);
	return NULL;
}

void
ctl_mnemonic_free(const struct config_wallet *w, char *m)
{
	if (m == NULL)
		return;
	if (w->mnemonic_file != NULL)
		keyfile_free(m);
	else {
		key_clear(m, strlen(m));
		free(m);
	}
}

int
ctl_topic_addr_query(struct sync *s, const char *em, const char *method, uint32_t topic,
    const char *addr)
{
	Awq__TopicAddressRequest req = AWQ__TOPIC_ADDRESS_REQUEST__INIT;
	uint8_t buf[160];
	char path[128];
	size_t n;

	req.topic_id = topic;
	req.address = addr != NULL && *addr != '\0' ? (char *)addr : NULL;
	n = awq__topic_address_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/%s", em, method);
	return sync_abci(s, path, buf, n) == RPC_OK && s->code == 0 ? 0 : -1;
}

/* data_sending_fee and registration_fee of the module's parameters (0 when unknown). */
void
ctl_module_fees(struct sync *s, const char *em, uint64_t *data_fee, uint64_t *reg_fee)
{
	char path[96];
	Awq__GetParamsResponse *r;

	*data_fee = *reg_fee = 0;
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetParams", em);
	if (sync_abci(s, path, (const uint8_t *)"", 0) == RPC_OK && s->code == 0 &&
	    (r = awq__get_params_response__unpack(NULL, s->value_len, s->value)) != NULL) {
		if (r->params && r->params->data_sending_fee)
			*data_fee = strtoull(r->params->data_sending_fee, NULL, 10);
		if (r->params && r->params->registration_fee)
			*reg_fee = strtoull(r->params->registration_fee, NULL, 10);
		awq__get_params_response__free_unpacked(r, NULL);
	}
}

/* ---- register ---- */

static int
child_reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
child_reply(int fd, const char *fmt, ...)
{
	char out[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(out))
		len = (int)sizeof(out) - 1;
	return write(fd, out, (size_t)len) == len ? 0 : -1;
}

/* 1 registered, 0 not, -1 cannot tell. */
static int
is_registered(struct sync *s, const char *em, uint32_t topic, const char *addr)
{
	Awq__IsWorkerRegisteredInTopicIdResponse *r;
	int yes;

	if (ctl_topic_addr_query(s, em, "IsWorkerRegisteredInTopicId", topic, addr) == -1 ||
	    (r = awq__is_worker_registered_in_topic_id_response__unpack(NULL, s->value_len,
	    s->value)) == NULL)
		return -1;
	yes = r->is_registered != 0;
	awq__is_worker_registered_in_topic_id_response__free_unpacked(r, NULL);
	return yes;
}

/*
 * The one-shot child: the only place the key exists.  Writes one line to fd: "OK address
 * txhash height", "ALREADY address" or "ERR text", and exits.
 */
static void
register_child(const struct config *c, const struct config_wallet *w, uint32_t topic,
    const char *em, int fd)
{
	struct sync s;
	uint8_t priv[32], pub[33], buf[160], hash[32];
	char *m, e[512], addr[ADDR_MAX];
	struct tx_params tp;
	struct tx_out tx;
	Awq__QueryAccountInfoRequest ar = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
	Awq__QueryAccountInfoResponse *acc;
	Awq__QueryBalanceRequest br = AWQ__QUERY_BALANCE_REQUEST__INIT;
	Awq__QueryBalanceResponse *bal;
	uint64_t data_fee, reg_fee, have;
	int64_t deadline;
	size_t n, i;
	int rc;
	fee_price_t price;
	const char *src;
	char perr[600];

	prctl(PR_SET_DUMPABLE, 0);
	memset(&tx, 0, sizeof(tx));
	m = ctl_mnemonic_load(w, e, sizeof(e));
	rc = m != NULL ? key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) : -1;
	ctl_mnemonic_free(w, m);
	if (rc == -1) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR wallet %s: %s", w->name, e);
		_exit(1);
	}
	key_address(pub, addr, sizeof(addr));
	sync_init(&s, c);
	switch (is_registered(&s, em, topic, addr)) {
	case 1:
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ALREADY %s", addr);
		_exit(0);
	case -1:
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR cannot ask the chain whether %s is registered: %s", addr,
		    sync_why(&s));
		_exit(1);
	}
	ar.address = addr;
	n = awq__query_account_info_request__pack(&ar, buf);
	if (sync_abci(&s, "/cosmos.auth.v1beta1.Query/AccountInfo", buf, n) != RPC_OK ||
	    s.code != 0 || (acc = awq__query_account_info_response__unpack(NULL, s.value_len,
	    s.value)) == NULL || acc->info == NULL) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR account %s not found on the chain (fund it first): %s",
		    addr, sync_why(&s));
		_exit(1);
	}
	memset(&tp, 0, sizeof(tp));
	tp.chain_id = c->chain_id;
	tp.account_number = acc->info->account_number;
	tp.sequence = acc->info->sequence;
	awq__query_account_info_response__free_unpacked(acc, NULL);
	tp.topic = topic;
	tp.gas_limit = c->gas_limit > 0 ? (uint64_t)c->gas_limit : 300000;
	if (ctl_gas_price(&s, c, &price, &src, perr, sizeof(perr)) == -1) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR %s", perr);
		_exit(1);
	}
	tp.fee_uallo = fees_fee(tp.gas_limit, price);
	tp.fee_granter = w->fee_granter;
	if (fees_over_cap(tp.fee_uallo, tp.gas_limit, (uint64_t)c->max_fee, perr,
	    sizeof(perr))) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR %s", perr);
		_exit(1);
	}
	tp.emissions = em;
	/* The balance must cover the registration fee and the transaction's fee. */
	ctl_module_fees(&s, em, &data_fee, &reg_fee);
	br.address = addr;
	br.denom = (char *)"uallo";
	n = awq__query_balance_request__pack(&br, buf);
	if (sync_abci(&s, "/cosmos.bank.v1beta1.Query/Balance", buf, n) != RPC_OK ||
	    s.code != 0) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR cannot ask the chain for the balance of %s: %s", addr,
		    sync_why(&s));
		_exit(1);
	}
	bal = awq__query_balance_response__unpack(NULL, s.value_len, s.value);
	have = bal && bal->balance && bal->balance->amount ?
	    strtoull(bal->balance->amount, NULL, 10) : 0;
	if (bal != NULL)
		awq__query_balance_response__free_unpacked(bal, NULL);
	/* With a fee granter the grant pays the transaction fee; the registration fee is the
	 * wallet's own. */
	if (have < reg_fee + (w->fee_granter != NULL ? 0 : tp.fee_uallo)) {
		key_clear(priv, sizeof(priv));
		if (w->fee_granter != NULL)
			child_reply(fd, "ERR insufficient funds: %s has %" PRIu64 " uallo, the "
			    "registration fee is %" PRIu64 " uallo (the transaction fee is paid by "
			    "the grant of %s); fund the wallet first", addr, have, reg_fee,
			    w->fee_granter);
		else
			child_reply(fd, "ERR insufficient funds: %s has %" PRIu64 " uallo, "
			    "registering costs %" PRIu64 " uallo (registration fee %" PRIu64
			    " + transaction fee %" PRIu64 "); fund the wallet first", addr, have,
			    reg_fee + tp.fee_uallo, reg_fee, tp.fee_uallo);
		_exit(1);
	}
	rc = tx_build_register(priv, &tp, 0, &tx, e, sizeof(e));
	key_clear(priv, sizeof(priv));
	if (rc == -1) {
		child_reply(fd, "ERR %s", e);
		_exit(1);
	}
	if (sync_broadcast(&s, tx.raw, tx.rawlen) != RPC_OK) {
		child_reply(fd, "ERR broadcast: %s", sync_why(&s));
		_exit(1);
	}
	if (json_integer_value(json_object_get(s.result, "code")) != 0) {
		child_reply(fd, "ERR the chain refused the transaction (code %lld): %s",
		    (long long)json_integer_value(json_object_get(s.result, "code")),
		    json_string_value(json_object_get(s.result, "log")) ?: "");
		_exit(1);
	}
	/* Wait for inclusion: up to 60 s. */
	for (i = 0; i < 32; i++)
		sscanf(tx.hash + 2 * i, "%2hhx", &hash[i]);
	deadline = mono_ms() + 60000;
	while (mono_ms() < deadline) {
		json_t *r;
		long long code;
		const char *height;

		if (sync_tx(&s, hash) != RPC_OK) {
			if (s.error != NULL && strcmp(s.error, "the request could not start") == 0)
				break;
			usleep(250000);
			continue;
		}
		r = json_object_get(s.result, "tx_result");
		code = json_integer_value(json_object_get(r, "code"));
		height = json_string_value(json_object_get(s.result, "height")) ?: "?";
		if (code != 0) {
			child_reply(fd, "ERR transaction %s failed in block %s (code %lld): %s",
			    tx.hash, height, code, json_string_value(json_object_get(r, "log")) ?:
			    "");
			_exit(1);
		}
		{
			char *ht = xstrdup(height);

			/* Registration visible afterwards? */
			if (is_registered(&s, em, topic, addr) != 1) {
				child_reply(fd, "ERR transaction %s was included in block %s, but the "
				    "chain does not show %s as registered in topic %u", tx.hash, ht,
				    addr, topic);
				_exit(1);
			}
			child_reply(fd, "OK %s %s %s", addr, tx.hash, ht);
			_exit(0);
		}
	}
	child_reply(fd, "ERR transaction %s not included within 60 s", tx.hash);
	_exit(1);
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
	struct sync s;
	Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
	Awq__GetTopicResponse *gt;
	char err[2048], em[8], buf[1024], path[96];
	uint8_t qb[32];
	const char *net;
	long topic = 0;
	uint32_t tid;
	int ch, p[2], st, ok;
	pid_t pid;
	ssize_t n, got = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (topic_arg("alloractl register", optarg, &tid) == -1)
				return 2;
			topic = tid;
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
	ctl_env_path = c->env_path;
	t = config_topic(c, (uint32_t)topic);
	if (t == NULL || (w = config_wallet(c, t->wallet)) == NULL) {
		fprintf(stderr, "alloractl register: topic %ld is not in %s\n", topic,
		    c->path ? c->path : ".env");
		config_free(c);
		return 2;
	}
	/* What needs no key: the chain answers, is the right one, and has the topic. */
	sync_init(&s, c);
	ok = 0;
	if (sync_call(&s, "status", NULL) != RPC_OK)
		fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
		    sync_why(&s));
	else if ((net = json_string_value(json_object_get(json_object_get(s.result,
	    "node_info"), "network"))) == NULL || strcmp(net, c->chain_id) != 0)
		fprintf(stderr, "alloractl register: %s serves chain \"%s\", the configuration "
		    "says \"%s\"\n", rpc_endpoint(s.rpc), net ? net : "?", c->chain_id);
	else if (sync_emissions_version(&s, c, em, sizeof(em)) == -1)
		fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
		    sync_why(&s));
	else {
		tr.topic_id = (uint64_t)topic;
		n = (ssize_t)awq__topic_id_request__pack(&tr, qb);
		snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
		if (sync_abci(&s, path, qb, (size_t)n) != RPC_OK)
			fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
			    sync_why(&s));
		else if (s.code != 0 || (gt = awq__get_topic_response__unpack(NULL, s.value_len,
		    s.value)) == NULL)
			fprintf(stderr, "alloractl register: topic %ld does not exist on this chain "
			    "(%s)\n", topic, sync_why(&s));
		else {
			awq__get_topic_response__free_unpacked(gt, NULL);
			ok = 1;
		}
	}
	sync_free(&s);
	if (!ok) {
		config_free(c);
		return 1;
	}
	if (pipe(p) == -1) {
		fprintf(stderr, "alloractl register: pipe: %s\n", strerror(errno));
		config_free(c);
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		register_child(c, w, (uint32_t)topic, em, p[1]);
		_exit(1);
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		fprintf(stderr, "alloractl register: fork: %s\n", strerror(errno));
		config_free(c);
		return 1;
	}
	while (got < (ssize_t)sizeof(buf) - 1 &&
	    ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += n;
	close(p[0]);
	waitpid(pid, &st, 0);
	buf[got] = '\0';
	config_free(c);
	if (strncmp(buf, "OK ", 3) == 0) {
		char a[128], h[80], ht[32];

		if (sscanf(buf + 3, "%127s %79s %31s", a, h, ht) == 3)
			printf("registered %s as a worker in topic %ld (tx %s, block %s)\n", a, topic,
			    h, ht);
		return 0;
	}
	if (strncmp(buf, "ALREADY ", 8) == 0) {
		printf("%s is already registered in topic %ld: nothing to do\n", buf + 8, topic);
		return 0;
	}
	fprintf(stderr, "alloractl register: %s\n", strncmp(buf, "ERR ", 4) == 0 ? buf + 4 :
	    "the registration process failed");
	return 1;
}

int
ctl_register(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_register(o, argc, argv);
}

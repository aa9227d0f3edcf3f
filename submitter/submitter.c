/*
 * The submitter: the only process that holds key material.  It loads each configured
 * wallet itself after exec, and turns SUBMIT (topic, nonce, value) into a signed
 * transaction, which it broadcasts only after the supervisor has written it to the ledger
 * (SIGNED -> SIGNED_ACK), then confirms by hash until it is included or the window is over.
 * Transactions of one wallet are serialised.  Chain errors are recovered as PROTOCOL.md §4.6
 * says: sequence mismatch (resync from "expected N", retry at once), insufficient fee
 * (retry at the required fee up to max_fee), out of gas (re-simulate), and so on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "dec.h"
#include "frame.h"
#include "http.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "proc.h"
#include "query.pb-c.h"
#include "roles.h"
#include "rpc.h"
#include "tx.h"
#include "audit.h"
#include "safefs.h"
#include "util.h"

#define DEFAULT_GAS		300000
#define CONFIRM_MS		400
#define RETRY_MS		500
#define MAX_ATTEMPTS		6
#define NO_END_GIVE_UP_S	180

enum jstate {
	J_QUEUED, J_ACCOUNT, J_SIMULATE, J_WAIT_ACK, J_BROADCAST, J_CONFIRM, J_RESOLVE, J_DONE
};

struct wallet;

struct job {
	TAILQ_ENTRY(job) entry;
	struct wallet	*w;
	uint32_t	 topic;
	int64_t		 nonce;
	char		*value;
	int64_t		 window_end;	/* -1 unknown */
	enum jstate	 st;
	int		 attempts;
	int		 resolving;	/* a transaction signed before a restart */
	uint64_t	 gas;
	uint64_t	 fee;
	uint64_t	 seq;
	uint8_t		*raw;
	size_t		 rawlen;
	char		*b64;
	char		 hash[65];
	double		 started;	/* mono */
	struct event	*timer;
	int		 dry_sim;	/* dry run: the simulation is all */
	int		 acked;		/* SIGNED_ACK ok received for this hash */
	int		 audited;	/* its audit line is on disk */
};

TAILQ_HEAD(jobq, job);

struct wallet {
	char		*name;
	char		 address[ADDR_MAX];
	uint8_t		 pub[33];
	uint8_t		*priv;		/* 32 bytes in a locked page */
	int		 have_account;
	int		 account_pending;
	uint64_t	 account_number;
	uint64_t	 sequence;
	char		*balance;
	int		 stopped;
	struct jobq	 queue;
	struct job	*active;
	struct audit_file *audit;	/* audit.c: group commit of the audit log */
};

static struct {
	struct event_base	*base;
	const struct config	*conf;
	struct config		*own_conf;
	struct http_client	*http;
	struct rpc		*rpc;
	struct wallet		*wallets;
	size_t			 nwallets;
	char			 emissions[8];	/* "" until known */
	int			 detecting;
	uint64_t		 data_sending_fee;
	uint64_t		*topic_gas;	/* per configured topic: last simulated gas, 0 = none */
	int			 shutting_down;
	int			 memfd;		/* the sealed mnemonics of the environment, -1 */
	int64_t			 height;	/* latest known block height */
	double			 height_at;
} S;

static void	job_step(struct job *);
static void	wallet_next(struct wallet *);

/* ---- helpers ---- */

static struct wallet *
wallet_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < S.nwallets; i++)
		if (strcmp(S.wallets[i].name, name) == 0)
			return &S.wallets[i];
	return NULL;
}

static size_t
topic_index(uint32_t topic)
{
	size_t i;

	for (i = 0; i < S.conf->ntopics; i++)
		if (S.conf->topics[i].id == topic)
			return i;
	return (size_t)-1;
}

static void
job_timer(struct job *j, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(j->timer, &tv);
}

static void
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
			if (j->st == J_BROADCAST || j->st == J_CONFIRM || j->st == J_RESOLVE)
				return 1;
	return 0;
}

/* The outcome of a job: SUBMITTED to the supervisor, then the next job of the wallet. */
static void
job_finish(struct job *j, const char *outcome, long code, int64_t height, const char *reason,
    const char *error, int stop_topic, int stop_wallet)
{
	struct wallet *w = j->w;

	child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:i, s:I, s:s?, s:s, s:I, s:I, s:s?, "
	    "s:s?, s:b, s:b, s:s}", "topic", (int)j->topic, "nonce", (json_int_t)j->nonce,
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
static int
window_over(struct job *j)
{
	if (j->window_end > 0 && S.height > 0)
		return S.height > j->window_end;
	return mono_s() - j->started > NO_END_GIVE_UP_S;
}

static long long
match_num(const char *text, const char *re)
{
	regex_t rx;
	regmatch_t m[2];
	long long v = -1;

	if (text == NULL || regcomp(&rx, re, REG_EXTENDED) != 0)
		return -1;
	if (regexec(&rx, text, 2, m, 0) == 0 && m[1].rm_so >= 0)
		v = atoll(text + m[1].rm_so);
	regfree(&rx);
	return v;
}

static int
has(const char *text, const char *needle)
{
	return text != NULL && strcasestr(text, needle) != NULL;
}

/* ---- wallets ---- */

/* Reads NAME=value lines from the sealed memfd the supervisor passed on fd 4. */
static char *blob;
static size_t bloblen;

static char *
mnemonic_from_env_fd(const char *name, char *err, size_t errlen)
{
	char *p, *line, *res = NULL;
	size_t nl = strlen(name);

	if (blob == NULL) {
		struct stat st;

		if (S.memfd == -1 || fstat(S.memfd, &st) == -1 || st.st_size <= 0 ||
		    st.st_size > 65536) {
			snprintf(err, errlen, "%s is not set (no mnemonic was passed from the "
			    "environment)", name);
			return NULL;
		}
		bloblen = (size_t)st.st_size;
		blob = mmap(NULL, bloblen, PROT_READ, MAP_PRIVATE, S.memfd, 0);
		if (blob == MAP_FAILED) {
			blob = NULL;
			snprintf(err, errlen, "reading the mnemonic memfd: %s", strerror(errno));
			return NULL;
		}
	}
	for (p = blob; p < blob + bloblen; p = line + 1) {
		line = memchr(p, '\n', (size_t)(blob + bloblen - p));
		if (line == NULL)
			line = blob + bloblen;
		if ((size_t)(line - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = (size_t)(line - p) - nl - 1;

			res = calloc(1, vl + 1);
			if (res != NULL) {
				mlock(res, vl + 1);
				memcpy(res, p + nl + 1, vl);
			}
			return res;
		}
	}
	snprintf(err, errlen, "%s is not set in the daemon's environment", name);
	return NULL;
}

static void
load_wallets(const struct config *c)
{
	size_t i;
	char err[512], *m;
	long pg = sysconf(_SC_PAGESIZE);

	S.nwallets = c->nwallets;
	S.wallets = xcalloc(c->nwallets, sizeof(*S.wallets));
	for (i = 0; i < c->nwallets; i++) {
		const struct config_wallet *cw = &c->wallets[i];
		struct wallet *w = &S.wallets[i];
		int from_env = cw->mnemonic_file == NULL;

		w->name = xstrdup(cw->name);
		TAILQ_INIT(&w->queue);
		if (from_env)
			m = mnemonic_from_env_fd(cw->mnemonic_env, err, sizeof(err));
		else
			m = keyfile_read(cw->mnemonic_file, err, sizeof(err));
		if (m == NULL) {
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
			    "wallet", cw->name, "reason", err), "wallet %s: %s", cw->name, err);
			exit(AW_EX_CONFIG);
		}
		w->priv = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (w->priv == MAP_FAILED)
			fatal("mmap");
		(void)mlock(w->priv, (size_t)pg);
		(void)madvise(w->priv, (size_t)pg, MADV_DONTDUMP);
		if (key_from_mnemonic(m, cw->hd_path, w->priv, w->pub, err, sizeof(err)) == -1) {
			size_t ml = strlen(m);

			key_clear(m, ml);
			if (from_env)
				free(m);
			else
				keyfile_free(m);
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
			    "wallet", cw->name, "reason", err), "wallet %s (%s): %s", cw->name,
			    from_env ? cw->mnemonic_env : cw->mnemonic_file, err);
			exit(AW_EX_CONFIG);
		}
		if (from_env) {
			key_clear(m, strlen(m));
			free(m);
		} else
			keyfile_free(m);
		key_address(w->pub, w->address, sizeof(w->address));
		if (cw->expect_address != NULL && strcmp(cw->expect_address, w->address) != 0) {
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s, s:s}", "topic",
			    "wallet", cw->name, "expected", cw->expect_address, "derived", w->address),
			    "wallet %s: the mnemonic gives %s, but ALLORA_WALLET_ADDR is %s; refusing "
			    "to start", cw->name, w->address, cw->expect_address);
			exit(AW_EX_CONFIG);
		}
		log_info("wallet %s: %s", w->name, w->address);
		send_wallet(w);
	}
	if (blob != NULL) {
		munmap(blob, bloblen);
		blob = NULL;
	}
	if (S.memfd != -1) {
		close(S.memfd);
		S.memfd = -1;
	}
}

static void broadcast(struct job *);
static void job_finish(struct job *, const char *, long, int64_t, const char *, const char *,
    int, int);

/* Which signature an audit line is about (the job may be gone when the sync returns). */
struct audit_ctx {
	struct wallet	*w;
	char		 hash[65];
};

/*
 * The broadcast waits for both: the audit line on disk (ours) and the SIGNED_ACK (the
 * supervisor's ledger on disk).  The two syncs run in parallel.
 */
static void
maybe_broadcast(struct job *j)
{
	if (!j->acked || !j->audited || j->st != J_WAIT_ACK)
		return;
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
	broadcast(j);
}

static void
audit_done(void *arg, int ok, const char *err)
{
	struct audit_ctx *c = arg;
	struct job *j = c->w->active;

	if (j != NULL && j->st == J_WAIT_ACK && strcmp(j->hash, c->hash) == 0) {
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

static void
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

static uint64_t
cost_per_submission(void)
{
	uint64_t gas = S.conf->gas_limit > 0 ? (uint64_t)S.conf->gas_limit : DEFAULT_GAS;
	double fee = ceil((double)gas * S.conf->gas_price);

	if (fee > (double)S.conf->max_fee)
		fee = (double)S.conf->max_fee;
	return (uint64_t)fee + S.data_sending_fee;
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
	need = cost_per_submission();
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

static void
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
		awq__get_params_response__free_unpacked(r, NULL);
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
	for (i = 0; i < S.nwallets; i++)
		if (S.wallets[i].active != NULL)
			job_timer(S.wallets[i].active, 0);
}

static void
detect_emissions(void)
{
	char path[96];

	if (S.emissions[0] != '\0' || S.detecting)
		return;
	if (strcmp(S.conf->emissions, "auto") != 0) {
		snprintf(S.emissions, sizeof(S.emissions), "%s", S.conf->emissions);
		snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetParams", S.emissions);
		rpc_abci_query(S.rpc, path, (const uint8_t *)"", 0, params_done, NULL);
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

static void
refresh_height(void)
{
	if (mono_s() - S.height_at < 1.0)
		return;
	S.height_at = mono_s();		/* one request at a time */
	rpc_call(S.rpc, "status", NULL, status_done, NULL);
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
	p.value = j->value;
	p.gas_limit = j->gas;
	p.fee_uallo = j->fee;
	p.timeout_height = j->window_end > 0 ? (uint64_t)j->window_end : 0;
	p.emissions = S.emissions;
	return tx_build_payload(j->w->priv, &p, for_simulation, out, err, errlen);
}

static void
set_fee(struct job *j, uint64_t gas)
{
	double fee;

	j->gas = gas;
	fee = ceil((double)gas * S.conf->gas_price);
	j->fee = fee > (double)S.conf->max_fee ? (uint64_t)S.conf->max_fee : (uint64_t)fee;
}

/* Classifies a chain answer (CheckTx, delivery or simulation) into a final outcome.
 * Returns 1 when it was final (job finished). */
static int
final_error(struct job *j, long code, const char *codespace, const char *log, int64_t height)
{
	char msg[512];
	int emis = codespace != NULL && strcmp(codespace, "emissions") == 0;

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

static void	broadcast(struct job *);

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
		if (j->dry_sim) {
			log_event(LOG_LVL_INFO, "info", json_pack("{s:i, s:I, s:s, s:I}", "topic",
			    (int)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value, "code",
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
	if (ti != (size_t)-1)
		S.topic_gas[ti] = gas;
	set_fee(j, gas);
	if (j->dry_sim) {
		log_event(LOG_LVL_INFO, "info", json_pack("{s:i, s:I, s:s, s:I, s:I}", "topic",
		    (int)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value, "gas",
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

/* Signs and asks the supervisor to record it (SIGNED); the broadcast waits for the ACK. */
static void
sign_and_record(struct job *j)
{
	struct tx_out out;
	char err[256];

	if (j->fee > (uint64_t)S.conf->max_fee) {
		char *e = xasprintf("fee %" PRIu64 " uallo is over max_fee %ld", j->fee,
		    S.conf->max_fee);

		job_finish(j, "rejected", 13, 0, "fee_over_cap", e, 0, 0);
		free(e);
		return;
	}
	j->seq = j->w->sequence;
	if (build(j, 0, &out, err, sizeof(err)) == -1) {
		job_finish(j, "rejected", -1, 0, "bad_value", err, 0, 0);
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
	audit(j->w, j);
	j->st = J_WAIT_ACK;
	child_send(MSG_SIGNED, j->topic, 0, json_pack("{s:i, s:I, s:I, s:s, s:s, s:s}", "topic",
	    (int)j->topic, "nonce", (json_int_t)j->nonce, "sequence", (json_int_t)j->seq,
	    "txhash", j->hash, "tx", j->b64, "wallet", j->w->name));
	log_event(LOG_LVL_INFO, "submission", json_pack("{s:i, s:I, s:s, s:I, s:s, s:I}", "topic",
	    (int)j->topic, "nonce", (json_int_t)j->nonce, "value", j->value, "sequence",
	    (json_int_t)j->seq, "txhash", j->hash, "fee", (json_int_t)j->fee),
	    "Submitting prediction %s for topic %u nonce %lld (sequence %" PRIu64 ", fee %" PRIu64
	    " uallo, tx %s)", j->value, j->topic, (long long)j->nonce, j->seq, j->fee, j->hash);
}

static void
confirm_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	json_t *txr;
	long code;
	int64_t height;
	const char *log, *cs, *hs;

	if (j->st != J_CONFIRM && j->st != J_RESOLVE)
		return;
	if (st == RPC_OK) {
		txr = json_object_get(result, "tx_result");
		code = json_is_integer(json_object_get(txr, "code")) ?
		    (long)json_integer_value(json_object_get(txr, "code")) : 0;
		log = json_string_value(json_object_get(txr, "log"));
		cs = json_string_value(json_object_get(txr, "codespace"));
		hs = json_string_value(json_object_get(result, "height"));
		height = hs ? atoll(hs) : json_integer_value(json_object_get(result, "height"));
		if (code == 0) {
			child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:i, s:I, s:s, s:s, s:I}",
			    "topic", (int)j->topic, "nonce", (json_int_t)j->nonce, "txhash", j->hash,
			    "outcome", "included", "height", (json_int_t)height));
			struct wallet *w = j->w;

			job_finish(j, "accepted", 0, height, NULL, NULL, 0, 0);	/* frees j */
			query_balance(w);
			return;
		}
		if (!final_error(j, code, cs, log, height))
			job_finish(j, "rejected", code, height, "chain_error", log, 0, 0);
		return;
	}
	if (st == RPC_ERROR && !has(error, "not found"))
		log_debug("tx %s: %s", j->hash, error);
	if (j->st == J_RESOLVE) {
		/* Not on the chain: send the same bytes again. */
		log_info("topic %u nonce %lld: tx %s signed before a restart is not on the chain; "
		    "broadcasting the same bytes", j->topic, (long long)j->nonce, j->hash);
		broadcast(j);
		return;
	}
	refresh_height();
	if (window_over(j)) {
		job_finish(j, "missed", 30, S.height, "window_closed",
		    "the transaction was not included before the window closed", 0, 0);
		return;
	}
	job_timer(j, CONFIRM_MS);
}

static void
query_tx(struct job *j)
{
	uint8_t h[32];
	unsigned char *raw;
	size_t n;
	char *b64;

	if (hex_decode(j->hash, &raw, &n) == -1 || n != 32)
		return;
	memcpy(h, raw, 32);
	free(raw);
	b64 = base64_encode(h, 32);
	rpc_call(S.rpc, "tx", json_pack("{s:s, s:b}", "hash", b64, "prove", 0), confirm_done, j);
	free(b64);
}

static void
broadcast_done(enum rpc_status st, json_t *result, const char *error, void *arg)
{
	struct job *j = arg;
	long code;
	const char *log, *cs;
	long long n;

	if (j->st != J_BROADCAST)
		return;
	if (st != RPC_OK) {
		/* Unknown whether it reached a mempool: only ever resend the same bytes. */
		log_warnx("broadcast of tx %s: %s; retrying the same transaction", j->hash, error);
		if (window_over(j)) {
			job_finish(j, "missed", -1, S.height, "rpc_unreachable", error, 0, 0);
			return;
		}
		refresh_height();
		job_timer(j, RETRY_MS);
		return;
	}
	code = json_is_integer(json_object_get(result, "code")) ?
	    (long)json_integer_value(json_object_get(result, "code")) : 0;
	log = json_string_value(json_object_get(result, "log"));
	cs = json_string_value(json_object_get(result, "codespace"));
	if (code == 0 || (code == 19 && (cs == NULL || strcmp(cs, "sdk") == 0 || *cs == '\0'))) {
		j->w->sequence = j->seq + 1;
		child_send(MSG_SUBMITTED, j->topic, 0, json_pack("{s:i, s:I, s:s, s:s}", "topic",
		    (int)j->topic, "nonce", (json_int_t)j->nonce, "txhash", j->hash, "outcome",
		    "broadcast"));
		j->st = J_CONFIRM;
		job_timer(j, CONFIRM_MS);
		/*
		 * In the mempool with its sequence: the wallet's next transaction can be
		 * signed now (sequence + 1) while this one is confirmed, as the reference
		 * clients do.  Should this one never be included, the next CheckTx says
		 * "sequence mismatch, expected N" and the wallet resyncs.
		 */
		if (j->w->active == j) {
			j->w->active = NULL;
			wallet_next(j->w);
		}
		return;
	}
	/* Rejected at CheckTx: this transaction can never be included; a replacement may be
	 * built. */
	j->attempts++;
	if (j->attempts > MAX_ATTEMPTS) {
		job_finish(j, "rejected", code, 0, "too_many_attempts", log, 0, 0);
		return;
	}
	if (code == 32 || has(log, "account sequence mismatch")) {
		n = match_num(log, "expected ([0-9]+)");
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:i, s:I, s:s, s:I}", "topic",
		    (int)j->topic, "nonce", (json_int_t)j->nonce, "reason", "sequence_mismatch",
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
		n = match_num(log, "required: ([0-9]+)");
		if (n <= 0 || (uint64_t)n > (uint64_t)S.conf->max_fee) {
			char *e = xasprintf("the chain wants %lld uallo, over max_fee %ld: %s", n,
			    S.conf->max_fee, log ? log : "");

			job_finish(j, "rejected", code, 0, "fee_over_cap", e, 0, 0);
			free(e);
			return;
		}
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:i, s:I, s:s, s:I}", "topic",
		    (int)j->topic, "nonce", (json_int_t)j->nonce, "reason", "insufficient_fee",
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

static void
broadcast(struct job *j)
{
	j->st = J_BROADCAST;
	rpc_call(S.rpc, "broadcast_tx_sync", json_pack("{s:s}", "tx", j->b64), broadcast_done, j);
}

/* ---- the job machine ---- */

static void
job_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_step(arg);
}

static void
job_step(struct job *j)
{
	struct wallet *w = j->w;
	size_t ti;

	switch (j->st) {
	case J_QUEUED:
	case J_ACCOUNT:
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
			j->st = J_RESOLVE;
			query_tx(j);
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
		ti = topic_index(j->topic);
		if (S.conf->dry_run) {
			j->dry_sim = 1;
			j->st = J_SIMULATE;
			simulate(j);
			return;
		}
		if (S.conf->gas_limit > 0) {
			set_fee(j, (uint64_t)S.conf->gas_limit);
			sign_and_record(j);
		} else if (ti != (size_t)-1 && S.topic_gas[ti] > 0) {
			set_fee(j, S.topic_gas[ti]);
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
	case J_RESOLVE:
		query_tx(j);
		return;
	case J_SIMULATE:
		simulate(j);
		return;
	case J_DONE:
		return;
	}
}

static void
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
	char canon[DEC_MAX_TEXT + 1], err[128];
	size_t i;

	if (ct == NULL || nonce <= 0 || value == NULL || wname == NULL ||
	    strcmp(ct->wallet, wname) != 0 || (w = wallet_by_name(wname)) == NULL) {
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:i, s:s}", "topic", (int)topic,
		    "reason", "refused"), "refusing to sign for topic %u with wallet %s: not a "
		    "(wallet, topic) pair of the configuration", topic, wname ? wname : "?");
		return;
	}
	for (i = 0; i < S.nwallets; i++) {
		TAILQ_FOREACH(j, &S.wallets[i].queue, entry)
			if (j->topic == topic && j->nonce == nonce)
				return;	/* already in hand (a re-sent SUBMIT) */
	}
	j = xcalloc(1, sizeof(*j));
	j->w = w;
	j->topic = topic;
	j->nonce = nonce;
	j->window_end = frame_int(f, "window_end", -1);
	j->started = mono_s();
	j->timer = evtimer_new(S.base, job_timer_cb, j);
	if (dec_value(value, canon, sizeof(canon), err, sizeof(err)) == -1 ||
	    strcmp(canon, value) != 0) {
		j->value = xstrdup(value);
		TAILQ_INSERT_TAIL(&w->queue, j, entry);
		w->active = w->active ? w->active : j;
		job_finish(j, "rejected", -1, 0, "bad_value", err, 0, 0);
		return;
	}
	j->value = xstrdup(canon);
	if (json_is_object(res) && json_is_string(json_object_get(res, "tx")) &&
	    json_is_string(json_object_get(res, "txhash"))) {
		unsigned char *raw;
		size_t n;
		const char *tx = json_string_value(json_object_get(res, "tx"));

		if (base64_decode(tx, strlen(tx), &raw, &n) == 0) {
			j->raw = raw;
			j->rawlen = n;
			j->b64 = xstrdup(tx);
			tx_hash_hex(raw, n, j->hash);
			j->seq = (uint64_t)json_integer_value(json_object_get(res, "sequence"));
			j->resolving = 1;
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
		j = S.wallets[i].active;
		if (j == NULL || j->topic != topic || j->nonce != nonce || j->st != J_WAIT_ACK ||
		    hash == NULL || strcmp(hash, j->hash) != 0)
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
		S.http = http_client_new(S.base);
		S.rpc = rpc_new(S.http, c->rpc, c->nrpc, c->request_timeout_ms);
		child_ready(json_pack("{s:i}", "wallets", (int)S.nwallets));
		detect_emissions();
		for (i = 0; i < S.nwallets; i++) {
			query_account(&S.wallets[i]);
			query_balance(&S.wallets[i]);
		}
		return;
	}
	/* A reload: the wallets stay as loaded; settings change. */
	S.conf = c;
	free(S.topic_gas);
	S.topic_gas = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(uint64_t));
	rpc_free(S.rpc);
	S.rpc = rpc_new(S.http, c->rpc, c->nrpc, c->request_timeout_ms);
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

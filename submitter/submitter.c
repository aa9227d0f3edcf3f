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
#include "fees.h"
#include "frame.h"
#include "http.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "outcome.h"
#include "proc.h"
#include "query.pb-c.h"
#include "roles.h"
#include "rpc.h"
#include "tx.h"
#include "audit.h"
#include "chainnext.h"
#include "safefs.h"
#include "util.h"

#define DEFAULT_GAS		300000
#define CONFIRM_MS		400
#define RETRY_MS		500
#define MAX_ATTEMPTS		6
#define NO_END_GIVE_UP_S	180
#define MAX_HASHES		8
#define MEMPOOL_EVERY		5	/* confirmation rounds between two mempool checks */

enum jstate {
	J_QUEUED, J_ACCOUNT, J_SIMULATE, J_WAIT_ACK, J_BROADCAST, J_CONFIRM, J_UNKNOWN, J_DONE
};

enum rstep { RS_NONE, RS_STATUS, RS_TX, RS_MEMPOOL, RS_ACCOUNT };

struct wallet;

struct job {
	TAILQ_ENTRY(job) entry;
	struct wallet	*w;
	uint32_t	 topic;
	int64_t		 nonce;
	char		*value;
	struct tx_label	*labels;	/* labelled values (chainnext.h), NULL = one value */
	size_t		 nlabels;
	struct tx_forecast_elem *fc;	/* the forecast signed with it (forecast.h), issue 22 */
	size_t		 nfc;
	const char	*fc_dropped;	/* the rule that dropped the SUBMIT's forecast, or NULL */
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
	/* Issue 13: what is known about the transaction(s) of this nonce. */
	int		 maybe;		/* the current bytes may be in a mempool or included */
	int		 in_mempool;	/* seen in a mempool (CheckTx, cache, unconfirmed_txs) */
	int		 released;	/* the wallet's next job was let go */
	int		 told_broadcast;	/* SUBMITTED "broadcast" sent */
	char		 hashes[MAX_HASHES][65];	/* every tx signed for this nonce */
	int		 nhashes;
	int64_t		 bcast_height;	/* a height known after the last broadcast not
					   refused (0 until a status answer after it) */
	int		 bcast_pending;	/* bcast_height is to come from the next status */
	int		 chain_seq_known;
	uint64_t	 chain_seq;
	int64_t		 seq_change_height;
	/* the resolution round in progress (one request in flight at a time) */
	enum rstep	 rstep;
	int		 ridx, rnotfound, rfail, rmempool, rounds;
	int64_t		 rheight;
	int		 gas_cached;	/* the gas came from topic_gas, not a simulation */
	uint64_t	 failed_gas;	/* the gas limit that ran out at delivery, 0 = none */
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
	int		 allowance_state;	/* 0 unknown, 1 read, 2 no grant */
	struct fee_allowance allowance;
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
	uint64_t		 max_elements_per_forecast;	/* GetParams; 0 = unknown */
	uint64_t		*topic_gas;	/* per configured topic: last simulated gas, 0 = none */
	int			*topic_wl;	/* per configured topic: CanSubmitWorkerPayload at
						   start, 0 unknown, 1 yes, -1 no */
	int			 shutting_down;
	int			 memfd;		/* the sealed mnemonics of the environment, -1 */
	int64_t			 height;	/* latest known block height */
	double			 height_at;
	int			 no_mempool_query;	/* the node has no unconfirmed_txs */
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
			if (j->st == J_BROADCAST || j->st == J_CONFIRM || j->st == J_UNKNOWN)
				return 1;
	return 0;
}

/* The outcome of a job: SUBMITTED to the supervisor, then the next job of the wallet. */
static void
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
		if (cw->fee_granter != NULL) {
			char hrp[16], e[96];
			uint8_t d[64];
			size_t dl;

			if (bech32_decode(cw->fee_granter, hrp, sizeof(hrp), d, &dl, e,
			    sizeof(e)) == -1 || strcmp(hrp, "allo") != 0) {
				log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
				    "wallet", cw->name, "reason", "bad_fee_granter"), "wallet %s: "
				    "fee_granter %s is not an address (%s)", cw->name, cw->fee_granter,
				    e);
				exit(AW_EX_CONFIG);
			}
			log_info("wallet %s: %s (fees paid by the grant of %s)", w->name,
			    w->address, cw->fee_granter);
		} else
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

static void
refresh_height(void)
{
	if (mono_s() - S.height_at < 1.0)
		return;
	S.height_at = mono_s();		/* one request at a time */
	rpc_call(S.rpc, "status", NULL, status_done, NULL);
}

/* ---- fees (the logic is in fees.c) ---- */

static void
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
static void
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

static void
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
static void
set_fee(struct job *j, uint64_t gas)
{
	fee_price_t price = 0;

	j->gas = gas;
	(void)fees_price_current(&price, NULL);
	j->fee = fees_fee(gas, price);
}

/* Classifies a chain answer (CheckTx, delivery or simulation) into a final outcome.
 * Returns 1 when it was final (job finished). */
static int
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

static void
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
static void
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

/* ---- outcomes: confirmation and resolution rounds (issue 13) ---- */

static void	round_start(struct job *);
static void	round_next(struct job *);

static void
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

static void
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
static void
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

static void
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

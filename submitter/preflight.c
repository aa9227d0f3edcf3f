/*
 * The submitter's part of `alloractl check` (common/preflight.h): the wallet's key loads in a
 * child (alloractl never holds it), its address, balance against the fee of a submission,
 * and per topic what the chain says of it for our address: exists, active, registration,
 * whitelist.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ctl_chain.h"
#include "keys.h"
#include "preflight.h"
#include "query.pb-c.h"
#include "rpc_sync.h"
#include "util.h"

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
		m = ctl_mnemonic_load(w, e, sizeof(e));
		if (m != NULL && key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) == 0) {
			char a[ADDR_MAX];

			key_address(pub, a, sizeof(a));
			len = snprintf(out, sizeof(out), "OK %s", a);
		} else
			len = snprintf(out, sizeof(out), "ERR %s", e);
		ctl_mnemonic_free(w, m);
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

static void
check_balance(struct sync *s, const struct config *c, const struct config_wallet *w,
    const char *addr, uint64_t data_fee)
{
	Awq__QueryBalanceRequest br = AWQ__QUERY_BALANCE_REQUEST__INIT;
	Awq__QueryBalanceResponse *bal;
	uint8_t buf[160];
	size_t n;
	uint64_t have, per = submitter_preflight_cost(c, w, data_fee);
	char what[64];

	snprintf(what, sizeof(what), "wallet %s balance", w->name);
	br.address = (char *)addr;
	br.denom = (char *)"uallo";
	n = awq__query_balance_request__pack(&br, buf);
	if (sync_abci(s, "/cosmos.bank.v1beta1.Query/Balance", buf, n) != RPC_OK ||
	    s->code != 0) {
		preflight_line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
		return;
	}
	bal = awq__query_balance_response__unpack(NULL, s->value_len, s->value);
	have = bal && bal->balance && bal->balance->amount ?
	    strtoull(bal->balance->amount, NULL, 10) : 0;
	if (bal != NULL)
		awq__query_balance_response__free_unpacked(bal, NULL);
	if (have < per)
		preflight_line(what, L_ERR, "%" PRIu64 " uallo: less than one submission (%" PRIu64
		    " uallo)", have, per);
	else if (have < per * (uint64_t)c->balance_warn_submissions)
		preflight_line(what, L_WARN, "%" PRIu64 " uallo: fewer than %ld submissions "
		    "(balance_warn_submissions; %" PRIu64 " uallo each)", have,
		    c->balance_warn_submissions, per);
	else
		preflight_line(what, L_OK, "%" PRIu64 " uallo: about %" PRIu64 " submissions%s", have,
		    have / (per ? per : 1), w->fee_granter != NULL ? " (data sending fees; "
		    "the fee grant pays the transaction fees)" : "");
}

/* The lines of a topic that cannot be checked, marked skipped with the reason. */
static void
skip_topic_lines(const struct config_topic *t, int active_too, const char *why)
{
	static const char *names[] = { "active", "registration", "whitelist" };
	char what[64];
	size_t i;

	for (i = active_too ? 0 : 1; i < 3; i++) {
		snprintf(what, sizeof(what), "topic %u %s", t->id, names[i]);
		preflight_line(what, L_SKIP, "%s", why);
	}
}

/* The chain's lines of one topic; addr is NULL when the wallet's key did not load. */
static void
check_topic_chain(struct sync *s, const char *em, const struct config_topic *t,
    const char *addr, uint64_t reg_fee)
{
	Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
	Awq__GetTopicResponse *gt = NULL;
	Awq__GetWorkerSubmissionWindowStatusResponse *ws;
	uint8_t buf[160];
	char what[64], path[96];
	size_t n;
	int yes;

	snprintf(what, sizeof(what), "topic %u", t->id);
	tr.topic_id = t->id;
	n = awq__topic_id_request__pack(&tr, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
	if (sync_abci(s, path, buf, n) != RPC_OK) {
		preflight_line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
		return;
	}
	if (s->code != 0 || (gt = awq__get_topic_response__unpack(NULL, s->value_len,
	    s->value)) == NULL || gt->topic == NULL || gt->topic->id != t->id) {
		preflight_line(what, L_ERR, "does not exist on this chain (%s)", sync_why(s));
		if (gt != NULL)
			awq__get_topic_response__free_unpacked(gt, NULL);
		skip_topic_lines(t, 1, "no such topic");
		return;
	}
	preflight_line(what, L_OK, "\"%s\": epoch %" PRId64 " blocks, window %" PRId64 " blocks",
	    gt->topic->metadata ? gt->topic->metadata : "", gt->topic->epoch_length,
	    gt->topic->worker_submission_window);
	awq__get_topic_response__free_unpacked(gt, NULL);

	snprintf(what, sizeof(what), "topic %u active", t->id);
	if (ctl_topic_addr_query(s, em, "GetWorkerSubmissionWindowStatus", t->id, addr) == -1)
		preflight_line(what, L_WARN, "cannot tell: %s", sync_why(s));
	else if ((ws = awq__get_worker_submission_window_status_response__unpack(NULL,
	    s->value_len, s->value)) == NULL)
		preflight_line(what, L_WARN, "cannot tell: %s", sync_why(s));
	else {
		if (!ws->is_topic_active)
			preflight_line(what, L_ERR, "the topic is not active: the chain opens no worker "
			    "windows for it");
		else if (ws->is_open)
			preflight_line(what, L_OK, "a window is open now (nonce %" PRId64 ", until block %"
			    PRId64 ")", ws->current_nonce_block_height, ws->window_end_block);
		else
			preflight_line(what, L_OK, "next window at block %" PRId64,
			    ws->next_window_start_block);
		awq__get_worker_submission_window_status_response__free_unpacked(ws, NULL);
	}

	if (addr == NULL) {
		skip_topic_lines(t, 0, "the wallet's key did not load");
		return;
	}
	snprintf(what, sizeof(what), "topic %u registration", t->id);
	if (ctl_topic_addr_query(s, em, "IsWorkerRegisteredInTopicId", t->id, addr) == -1)
		preflight_line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
	else {
		Awq__IsWorkerRegisteredInTopicIdResponse *r =
		    awq__is_worker_registered_in_topic_id_response__unpack(NULL, s->value_len,
		    s->value);

		yes = r != NULL && r->is_registered;
		if (r != NULL)
			awq__is_worker_registered_in_topic_id_response__free_unpacked(r, NULL);
		if (yes)
			preflight_line(what, L_OK, "%s is registered", addr);
		else
			preflight_line(what, L_ERR, "%s is not registered: run `alloractl register --topic %u`"
			    " (registration fee %" PRIu64 " uallo)", addr, t->id, reg_fee);
	}
	snprintf(what, sizeof(what), "topic %u whitelist", t->id);
	if (ctl_topic_addr_query(s, em, "CanSubmitWorkerPayload", t->id, addr) == -1)
		preflight_line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
	else {
		Awq__CanSubmitWorkerPayloadResponse *r =
		    awq__can_submit_worker_payload_response__unpack(NULL, s->value_len, s->value);

		yes = r != NULL && r->can_submit_worker_payload;
		if (r != NULL)
			awq__can_submit_worker_payload_response__free_unpacked(r, NULL);
		if (yes)
			preflight_line(what, L_OK, "%s may submit", addr);
		else
			preflight_line(what, L_ERR, "%s may not submit to topic %u (CanSubmitWorkerPayload is "
			    "false: not whitelisted; contact the topic creator)", addr, t->id);
	}
}

int
submitter_preflight_wallet(struct sync *s, const struct config *c, const struct config_wallet *w,
    int chain, uint64_t data_fee, char *addr, size_t addrlen)
{
	char what[64], err[2048];

	snprintf(what, sizeof(what), "wallet %s key", w->name);
	if (child_address(w, addr, addrlen, err, sizeof(err)) == -1) {
		addr[0] = '\0';
		preflight_line(what, L_ERR, "%s", err);
		return -1;
	}
	if (w->expect_address != NULL && strcmp(w->expect_address, addr) != 0) {
		preflight_line(what, L_ERR, "derives %s, but the configured address is %s", addr,
		    w->expect_address);
		addr[0] = '\0';
		return -1;
	}
	preflight_line(what, L_OK, "%s (%s)", addr, w->hd_path);
	if (chain)
		check_balance(s, c, w, addr, data_fee);
	return 0;
}

void
submitter_preflight_topic(struct sync *s, const char *em, const struct config_topic *t,
    const char *addr, uint64_t reg_fee)
{
	check_topic_chain(s, em, t, addr, reg_fee);
}

void
submitter_preflight_fees(struct sync *s, const char *em, uint64_t *data_fee, uint64_t *reg_fee)
{
	ctl_module_fees(s, em, data_fee, reg_fee);
}

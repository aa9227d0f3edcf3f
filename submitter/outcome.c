/*
 * The classification of broadcast answers and the re-signing rule (outcome.h).  The
 * answers' shapes are CometBFT's (PROTOCOL-NOTES.md, issue 13): a JSON-RPC error
 * -32603 "Internal error" with data "tx already exists in cache" when the node has the
 * bytes; a result with the CheckTx code otherwise.  match_num() reads a number out of a
 * chain answer's text ("expected N", "required: N") for this file and broadcast.c.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"

long long
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

static long long
expected_seq(const char *log)
{
	return match_num(log, "expected ([0-9]+)");
}

int
outcome_is_cache_error(const char *error)
{
	return error != NULL && strstr(error, "tx already exists in cache") != NULL;
}

void
outcome_classify(enum rpc_status st, long code, const char *codespace, const char *log,
    const char *error, uint64_t our_seq, struct bcast_answer *out)
{
	int sdk = codespace == NULL || *codespace == '\0' || strcmp(codespace, "sdk") == 0;

	out->expected = -1;
	if (st == RPC_FAIL) {
		out->cls = BC_UNKNOWN;
		out->reason = "broadcast_unknown";
		out->why = "broadcast answer lost";
		return;
	}
	if (st == RPC_ERROR) {
		if (outcome_is_cache_error(error)) {
			out->cls = BC_IN_MEMPOOL;
			out->reason = "tx_in_cache";
			out->why = "the node already has the transaction (mempool cache)";
			return;
		}
		/* Mempool full, node catching up, a proxy's garbage: nothing is known. */
		out->cls = BC_UNKNOWN;
		out->reason = "broadcast_unknown";
		out->why = "the node answered the broadcast with an error";
		return;
	}
	if (code == 0) {
		out->cls = BC_IN_MEMPOOL;
		out->reason = "broadcast";
		out->why = "in the mempool";
		return;
	}
	if (code == 19 && sdk) {
		out->cls = BC_IN_MEMPOOL;
		out->reason = "tx_in_mempool";
		out->why = "the node already has the transaction in its mempool";
		return;
	}
	if ((code == 32 && sdk) || (log != NULL && strstr(log, "account sequence mismatch"))) {
		out->expected = expected_seq(log);
		if (out->expected >= 0 && (uint64_t)out->expected > our_seq) {
			/* Our sequence was used: perhaps by these very bytes. */
			out->cls = BC_UNKNOWN;
			out->reason = "sequence_passed";
			out->why = "the account's sequence is past ours";
			return;
		}
	}
	out->cls = BC_REJECTED;
	out->reason = "checktx_error";
	out->why = "refused at CheckTx";
}

enum resign_rule
outcome_may_resign(const struct resolve_facts *f)
{
	if (!f->lookups_not_found || !f->chain_seq_known)
		return RESIGN_NO;
	if (f->chain_seq > f->our_seq)
		return f->seq_change_height > 0 && f->lookup_height > f->seq_change_height ?
		    RESIGN_SEQ_PASSED : RESIGN_NO;
	if (f->mempool_checked && !f->in_mempool && f->last_bcast_height > 0 &&
	    f->lookup_height > f->last_bcast_height)
		return RESIGN_DROPPED;
	return RESIGN_NO;
}

/*
 * submitter/outcome.c: what a broadcast's answer says (CometBFT's shapes, PROTOCOL-NOTES.md
 * issue 13) and the two rules that alone justify a second signature for a nonce.
 */
#include "t.h"

#include "submitter/outcome.h"

static struct bcast_answer
cls(enum rpc_status st, long code, const char *cs, const char *log, const char *err,
    uint64_t seq)
{
	struct bcast_answer a;

	outcome_classify(st, code, cs, log, err, seq, &a);
	return a;
}

T_TEST(classify_answers)
{
	/* Answer lost (timeout, connection, 5xx after every endpoint). */
	T_EQ_INT(cls(RPC_FAIL, 0, NULL, NULL, "http://x: Timeout was reached", 5).cls, BC_UNKNOWN);
	/* CometBFT's mempool cache: a JSON-RPC error, as rpc.c renders message + data. */
	T_EQ_INT(cls(RPC_ERROR, 0, NULL, NULL, "Internal error: tx already exists in cache",
	    5).cls, BC_IN_MEMPOOL);
	T_EQ_INT(outcome_is_cache_error("Internal error: tx already exists in cache"), 1);
	/* Other node errors say nothing. */
	T_EQ_INT(cls(RPC_ERROR, 0, NULL, NULL, "Internal error: mempool is full: number of txs "
	    "5000 (max: 5000)", 5).cls, BC_UNKNOWN);
	T_EQ_INT(cls(RPC_OK, 0, "", "", NULL, 5).cls, BC_IN_MEMPOOL);
	T_EQ_INT(cls(RPC_OK, 19, "sdk", "tx already in mempool", NULL, 5).cls, BC_IN_MEMPOOL);
}

T_TEST(classify_sequence)
{
	struct bcast_answer a;

	/* expected > ours: our sequence was used, perhaps by these bytes: maybe included. */
	a = cls(RPC_OK, 32, "sdk", "account sequence mismatch, expected 6, got 5: incorrect "
	    "account sequence", NULL, 5);
	T_EQ_INT(a.cls, BC_UNKNOWN);
	T_EQ_INT(a.expected, 6);
	T_EQ_STR(a.reason, "sequence_passed");
	/* expected <= ours: a definite refusal of these bytes. */
	a = cls(RPC_OK, 32, "sdk", "account sequence mismatch, expected 4, got 5: incorrect "
	    "account sequence", NULL, 5);
	T_EQ_INT(a.cls, BC_REJECTED);
	T_EQ_INT(a.expected, 4);
	/* Other CheckTx codes are refusals. */
	T_EQ_INT(cls(RPC_OK, 13, "sdk", "insufficient fees; got: 1uallo required: 2uallo", NULL,
	    5).cls, BC_REJECTED);
	/* Code 32 of another codespace is not the sdk's sequence code. */
	T_EQ_INT(cls(RPC_OK, 32, "emissions", "something", NULL, 5).cls, BC_REJECTED);
}

static struct resolve_facts
base_facts(void)
{
	struct resolve_facts f;

	memset(&f, 0, sizeof(f));
	f.our_seq = 5;
	f.lookups_not_found = 1;
	f.lookup_height = 100;
	f.chain_seq_known = 1;
	f.mempool_checked = 1;
	return f;
}

T_TEST(rule_a_sequence_passed)
{
	struct resolve_facts f = base_facts();

	f.chain_seq = 6;
	f.seq_change_height = 99;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_SEQ_PASSED);
	/* Looked up at the very height of the change: the index may not have it yet. */
	f.seq_change_height = 100;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
	f.seq_change_height = 99;
	/* Found, or a lookup without an answer: never. */
	f.lookups_not_found = 0;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
	f.lookups_not_found = 1;
	f.chain_seq_known = 0;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
}

T_TEST(rule_b_dropped)
{
	struct resolve_facts f = base_facts();

	f.chain_seq = 5;		/* unused */
	f.last_bcast_height = 99;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_DROPPED);
	f.chain_seq = 4;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_DROPPED);
	/* In a mempool: never. */
	f.in_mempool = 1;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
	f.in_mempool = 0;
	/* The node offers no unconfirmed_txs: "not in the mempool" is not established. */
	f.mempool_checked = 0;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
	f.mempool_checked = 1;
	/* No block since the last broadcast of those bytes. */
	f.last_bcast_height = 100;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
	/* The height of that broadcast not known yet. */
	f.last_bcast_height = 0;
	T_EQ_INT(outcome_may_resign(&f), RESIGN_NO);
}

int
main(void)
{
	T_RUN(classify_answers);
	T_RUN(classify_sequence);
	T_RUN(rule_a_sequence_passed);
	T_RUN(rule_b_dropped);
	return t_done();
}

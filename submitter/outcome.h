/*
 * What a broadcast's answer says about a transaction, and when a second signature for the
 * same nonce is justified (issue 13; the rules are README's FAQ on double submission).
 * Pure: no I/O, no state.
 */
#ifndef AW_OUTCOME_H
#define AW_OUTCOME_H

#include <stdint.h>

#include "rpc.h"

enum bcast_class {
	BC_IN_MEMPOOL,	/* CheckTx passed, or the node already has these bytes */
	BC_UNKNOWN,	/* maybe included: answer lost, connection lost, 5xx, a node's error,
			   or code 32 with expected > our sequence */
	BC_REJECTED,	/* a definite CheckTx refusal of these bytes */
};

struct bcast_answer {
	enum bcast_class cls;
	const char	*why;		/* short reason for the event log (a static string) */
	const char	*reason;	/* the event's reason key */
	long long	 expected;	/* code 32: the sequence the node expects, else -1 */
};

/*
 * st/result/error as rpc_call gave them for broadcast_tx_sync; code/codespace/log are the
 * CheckTx fields of result (ignored unless st is RPC_OK).
 */
void	outcome_classify(enum rpc_status st, long code, const char *codespace, const char *log,
	    const char *error, uint64_t our_seq, struct bcast_answer *out);

/* Is this JSON-RPC error CometBFT's mempool cache answer (the node has the bytes)? */
int	outcome_is_cache_error(const char *error);

/* The first group of regular expression re (extended) in text, as a number; -1 when
 * it does not match (shared with the submitter's answers, broadcast.c). */
long long	match_num(const char *text, const char *re);

/* What a resolution round established about a maybe-included transaction. */
struct resolve_facts {
	uint64_t	 our_seq;
	int		 lookups_not_found;	/* `tx` answered "not found" for every hash */
	int64_t		 lookup_height;		/* node height known before those lookups */
	int		 chain_seq_known;
	uint64_t	 chain_seq;		/* the account's sequence on chain */
	int64_t		 seq_change_height;	/* height at which it was first seen past ours */
	int		 mempool_checked;	/* unconfirmed_txs answered */
	int		 in_mempool;
	int64_t		 last_bcast_height;	/* height when these bytes were last broadcast
						   (by an answer that did not refuse them) */
};

enum resign_rule { RESIGN_NO = 0, RESIGN_SEQ_PASSED = 'a', RESIGN_DROPPED = 'b' };

/*
 * (a) the account's sequence on chain is past ours and `tx` does not find our hash at a
 *     height after that change (one block later, so the node's index has the block); or
 * (b) our sequence is unused on chain, the hash is not in unconfirmed_txs, and at least one
 *     block has been committed since the last broadcast of those bytes.
 * Nothing else justifies a second signature.
 */
enum resign_rule outcome_may_resign(const struct resolve_facts *);

#endif

/*
 * The submission ledger: state_dir/ledger/topic-<id>.jsonl, one JSON line per state change
 * of a (topic, nonce): {"time", "topic", "nonce", "state", ...}.  States: seen, predicted
 * (value, source), signed (sequence, txhash, tx), broadcast, included (height), accepted,
 * rejected (code, reason), missed (reason); after accepted, scored (score_ema, active) and
 * rewarded (reward, reward_uallo) when the chain reports them (supervisor/scores.c).  The signed record is fsync'd before the
 * submitter may broadcast.
 */
#ifndef AW_LEDGER_H
#define AW_LEDGER_H

#include <stdint.h>
#include <jansson.h>

struct ledger;

struct ledger *ledger_open(const char *state_dir, uint32_t topic, char *err, size_t errlen);
void	 ledger_close(struct ledger *);
/* Appends a record (fields stolen, may be NULL); fsync when sync.  -1 on I/O error. */
int	 ledger_append(struct ledger *, int64_t nonce, const char *state, json_t *fields,
	    int sync);
/*
 * Replays the file: returns an object mapping each nonce (decimal string) to the merge of
 * its records (later fields win; "state" is the last state; "txhashes" lists every
 * signed hash).  Unparsable lines are skipped and counted in *bad.
 */
json_t	*ledger_replay(struct ledger *, long *bad);
/* 1 for accepted, rejected, missed, and scored / rewarded (which follow accepted). */
int	 ledger_state_final(const char *);

#endif

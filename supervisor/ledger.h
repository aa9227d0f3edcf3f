/*
 * The submission ledger: state_dir/ledger/topic-<id>.jsonl, one JSON line per state change
 * of a (topic, nonce): {"time", "topic", "nonce", "state", ...}.  States: seen, predicted
 * (value, source), signed (sequence, txhash, tx), broadcast, included (height), accepted,
 * rejected (code, reason), missed (reason); after accepted, scored (score_ema, active) and
 * rewarded (reward, reward_uallo) when the chain reports them (supervisor/scores.c); shadow
 * (model, value|null, reason) for each shadow model's answer (supervisor/shadow.c), which
 * the replay keeps apart (see ledger_replay).  The signed record is fsync'd before the
 * submitter may broadcast.  Crash rules (torn tails,
 * NUL runs, preallocated tails): see the opening comment of ledger.c.
 */
#ifndef AW_LEDGER_H
#define AW_LEDGER_H

#include <stdint.h>
#include <jansson.h>

struct ledger;

/*
 * Opens (creates: and fsyncs the directory) the topic's ledger, checking the directory and
 * the file (safefs.h), and cuts a torn last line (logged).  NULL with err naming the file.
 */
struct ledger *ledger_open(const char *state_dir, uint32_t topic, char *err, size_t errlen);
/* For readers beside the daemon (alloractl history): no creation, no cut, no append; a
 * torn last line is then counted as a bad line by the replay. */
struct ledger *ledger_open_readonly(const char *state_dir, uint32_t topic, char *err,
	    size_t errlen);
void	 ledger_close(struct ledger *);
/*
 * Appends a record (fields stolen, may be NULL); fsync when sync.  -1 with errno on I/O
 * error (ENOSPC, say): the file is cut back to where it was, ledger_error() says what
 * happened; the record is then not in the ledger.
 */
int	 ledger_append(struct ledger *, int64_t nonce, const char *state, json_t *fields,
	    int sync);
/*
 * Group commit: makes every record written without sync to these ledgers durable, with one
 * fdatasync (one file with unsynced records) or one syncfs (several).  -1 with errno when
 * it failed: each of those ledgers was cut back to its last sync (ledger_error says so).
 */
int	 ledger_commit(struct ledger **, size_t n);
/* 1 when records were written since the last sync. */
int	 ledger_pending(const struct ledger *);
/* fdatasync/syncfs calls made so far by this process's ledgers (for the benchmark). */
long long ledger_syncs(void);
/* The last append error ("PATH: ...: No space left on device; cut back to offset N"). */
const char *ledger_error(const struct ledger *);
const char *ledger_path(const struct ledger *);
/* Bytes of a torn last line the open cut, -1 when none. */
long long ledger_cut_bytes(const struct ledger *);
/*
 * Replays the file (streamed, any size): returns an object mapping each nonce (decimal
 * string) to the merge of its records (later fields win; "state" is the last state;
 * "txhashes" lists every signed hash; "shadow" records are not merged but collected as
 * "shadow": {"<model>": {"value", "reason", "time"}}, the last per model).  NUL runs are
 * skipped; lines that are not records are skipped and counted in *bad.  NULL when the file cannot be read (err names it).
 */
json_t	*ledger_replay(struct ledger *, long *bad, char *err, size_t errlen);
/* 1 for accepted, rejected, missed, and scored / rewarded (which follow accepted). */
int	 ledger_state_final(const char *);

#endif

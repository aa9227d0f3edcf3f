/*
 * Wall-clock windows (issue 21): allora-chain's development branch opens and closes worker
 * windows by block time (emissions.v10 GetTopicEpochs / GetEpoch; Epoch.worker_submission_
 * window {open_at, close_at}, start_block_height = the worker nonce).  Owns those queries,
 * whether the chain answers them (detected, never configured), and how a close time becomes
 * the last block height a transaction may be included in.
 */
#ifndef AW_EPOCHS_H
#define AW_EPOCHS_H

#include <stdint.h>

#include "rpc.h"

/* The safety margin before the close time: one block interval plus EPOCHS_MARGIN_S. */
#define EPOCHS_MARGIN_S	1.0

/*
 * The last height whose block time is safely before close_at (wall seconds), from an anchor
 * block (height at wall time at) and the block interval in ms: height +
 * floor((close_at - margin - at) / block), margin = block + EPOCHS_MARGIN_S.  -1 when the
 * interval is unknown.
 */
int64_t	 epochs_last_height(int64_t height, double at, double close_at, double block_ms);

/* What the chain said of a topic's open worker window. */
struct epoch_window {
	int64_t	 nonce;		/* start_block_height */
	double	 open_at, close_at;	/* wall seconds */
};

/* -1 unknown, 0 the chain does not answer GetTopicEpochs (block-height windows), 1 it does. */
int	 epochs_mode(void);
void	 epochs_reset(void);

/*
 * Asks GetTopicEpochs for topic.  cb gets (1, the open window) when one is open now (or the
 * one starting at want_nonce when want_nonce > 0), (0, NULL) when none is, (-1, NULL) when
 * the chain does not answer the query (then epochs_mode() is 0) or could not be asked.
 */
typedef void (*epochs_cb)(int found, const struct epoch_window *, uint32_t topic, void *arg);
void	 epochs_query(struct rpc *, const char *em, uint32_t topic, int64_t want_nonce,
	    epochs_cb, void *arg);

#endif

/*
 * The supervisor's account of each topic's score (issue 18): what the listener's SCORE
 * frames say (the chain's EMA score, the active set, the lowest active score, rank,
 * rewards, the network's value), the ledger records `scored` and `rewarded`, the status
 * "score" object, the score metrics and the event-log lines about the active set.
 */
#ifndef AW_SUP_SCORES_H
#define AW_SUP_SCORES_H

#include <stdint.h>
#include <jansson.h>

struct frame;

void	 scores_dispatch(struct frame *);
/* Tells the listener which (topic, address) pairs to watch (addresses as known now). */
void	 scores_send_watch(void);
/* A nonce's merged ledger record at start (rewards are summed from the ledger). */
void	 scores_replay(uint32_t topic, const json_t *rec);
/* Adds "loss_method" and "score" (INTERFACES.md, Scores) to a status topic entry. */
void	 scores_status(uint32_t topic, json_t *entry);
/* The chain's loss method of the topic, NULL while unknown. */
const char *scores_loss_method(uint32_t topic);
/* PREDICT: a loss_method that is absent or "auto" becomes the chain's, when known. */
void	 scores_fill_predict(uint32_t topic, json_t *payload);

#endif

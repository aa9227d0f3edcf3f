/*
 * What the chain says about a worker's score (issue 18, PROTOCOL-NOTES.md): the queries'
 * paths, their requests and the decoding of their answers into JSON fields.  The one place
 * that knows these messages; the listener runs them each epoch, `alloractl check` once.
 * Every answer is untrusted: a decimal that is not the chain's canonical text, a message
 * that does not decode, a score of another topic or address gives null fields and an
 * error text, never a made-up number.
 */
#ifndef AW_SCOREQ_H
#define AW_SCOREQ_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum scoreq {
	SQ_TOPIC,		/* GetTopic: loss_method, epoch_length, ground_truth_lag,
				 * active_inferer_quantile */
	SQ_EMA,			/* GetInfererScoreEma: ema, ema_height (null: not scored yet) */
	SQ_LOWEST,		/* GetCurrentLowestInfererScore: lowest_active_ema,
				 * lowest_height, lowest_address */
	SQ_QUANTILE,		/* GetPreviousTopicQuantileInfererScoreEma: quantile_ema */
	SQ_REWARD_FRACTION,	/* GetPreviousInferenceRewardFraction: reward_fraction */
	SQ_LATEST_INPUT,	/* GetWorkerLatestInputInferenceByTopicId: inference_nonce,
				 * inference_value */
	SQ_LATEST,		/* GetWorkerLatestInferenceByTopicId (older chains): the same */
	SQ_NETWORK,		/* GetLatestNetworkInferences: network_value, network_nonce */
	SQ_N
};

const char *scoreq_method(enum scoreq);
/* "/emissions.<em>.QueryService/<method>" into buf. */
void	 scoreq_path(enum scoreq, const char *em, char *buf, size_t len);
/* Packs the request (addr is ignored by the topic-only ones); returns its length. */
size_t	 scoreq_request(enum scoreq, uint32_t topic, const char *addr, uint8_t *buf,
	    size_t cap);
/*
 * Decodes an answer (code 0) into fields of into (every field of the query is set, null
 * when unknown).  Returns 0, or -1 when something was wrong with it (err says what; the
 * fields it concerns are null).
 */
int	 scoreq_decode(enum scoreq, const char *em, uint32_t topic, const char *addr,
	    const uint8_t *v, size_t n, json_t *into, char *err, size_t errlen);
/* The field names a query sets (NULL-terminated), for nulling them after a failure. */
const char *const *scoreq_fields(enum scoreq);

/*
 * Chain decimal text as we keep it: canonical (dec.h) or refused.  Returns a new JSON
 * string, or NULL (err) for anything else.
 */
json_t	*scoreq_dec(const char *s, char *err, size_t errlen);
/* a - b of two decimal texts as canonical text (NULL when either is not a number). */
char	*scoreq_sub(const char *a, const char *b);
/* The integer part (rounded towards minus infinity) of a non-negative decimal: "12.9" ->
 * "12"; NULL when it is not one. */
char	*scoreq_floor_uallo(const char *dec);

#endif

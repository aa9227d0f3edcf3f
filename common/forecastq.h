/*
 * What the chain says that a forecaster needs (issue 22, PROTOCOL-NOTES.md "Issue 22:
 * forecaster data"): the queries' paths, their requests and the decoding of their answers.
 * The one place that knows these messages; the listener runs them once an epoch
 * (listener/forecasts.c).  Every answer is untrusted: a loss that is not the chain's
 * decimal text, an inferer that is not an allo address, a bundle of another topic gives an
 * error text and no made-up number.
 */
#ifndef AW_FORECASTQ_H
#define AW_FORECASTQ_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FORECASTQ_EPOCHS	8	/* loss bundles read a round: the last 8 epochs */

enum forecastq {
	FQ_TOPIC,		/* GetTopic: epoch_last_ended, epoch_length, ground_truth_lag,
				 * allow_negative */
	FQ_LOSSES,		/* GetNetworkLossBundleAtBlock: the inferers' losses at a nonce */
	FQ_SCORE,		/* GetForecasterScoreEma: our forecaster score */
	FQ_N
};

const char *forecastq_method(enum forecastq);
/*
 * The heights a round reads loss bundles at (newest first, into out, at most FORECASTQ_HEIGHTS):
 * with lag = ceil(ground_truth_lag / epoch_length), epoch_last_ended - k·epoch_length for k =
 * lag - 1 .. lag + FORECASTQ_EPOCHS + 1 (a bundle exists once the ground truth is in and the
 * reputers reported), positive heights only.  Returns how many.
 */
#define FORECASTQ_HEIGHTS	(FORECASTQ_EPOCHS + 3)
size_t	 forecastq_heights(int64_t epoch_last_ended, int64_t epoch_length,
	    int64_t ground_truth_lag, int64_t *out);
/* "/emissions.<em>.QueryService/<method>" into buf. */
void	 forecastq_path(enum forecastq, const char *em, char *buf, size_t len);
/* Packs the request (height for FQ_LOSSES, addr for FQ_SCORE); returns its length, 0 when
 * it does not fit. */
size_t	 forecastq_request(enum forecastq, uint32_t topic, int64_t height, const char *addr,
	    uint8_t *buf, size_t cap);

/*
 * FQ_TOPIC: sets "epoch_last_ended", "epoch_length", "ground_truth_lag" (integers, null
 * when 0) and "allow_negative" (bool) in into.  FQ_LOSSES: sets "losses" to
 * {"nonce": N, "values": [{"inferer", "loss"}]} (null when the chain has no bundle at that
 * height), inferers in the chain's order, each loss canonical text.  FQ_SCORE: "ema" (text
 * or null), "ema_height".  Returns 0, or -1 (err) when the answer is wrong; then the fields
 * are null.
 */
int	 forecastq_decode(enum forecastq, uint32_t topic, int64_t height, const char *addr,
	    const uint8_t *v, size_t n, json_t *into, char *err, size_t errlen);

#endif

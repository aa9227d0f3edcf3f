/*
 * Forecasts (issue 22): what the built-in forecaster computes from the chain's recent
 * losses (the listener's FORECAST_DATA, frame.h) and the rules an external forecaster's
 * answer must pass.  Pure functions (trainer/forecast.c); running them per nonce, with the
 * deadline, is trainer/forecaster.c's.
 *
 * The data: {"topic", "epoch_length", "allow_negative", "inferers": ["allo1…", …] (the
 * active set less us), "losses": [{"nonce", "values": [{"inferer", "loss"}]}, …] newest
 * first}.
 */
#ifndef AW_TRAINER_FORECAST_H
#define AW_TRAINER_FORECAST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * The built-in forecaster's decay: the loss of an epoch k epochs older than the newest one
 * weighs FORECAST_DECAY^k (a half-life of one epoch).
 */
#define FORECAST_DECAY		0.5
#define FORECAST_MAX_OUT	65536	/* bytes an external forecaster may answer */

/*
 * Built-in: for each inferer of the active set with at least one loss, the exponentially
 * weighted mean L of its losses (weights FORECAST_DECAY^age, age in epochs from the newest
 * bundle: (newest nonce - nonce) / epoch_length, the bundle's index when epoch_length is
 * unknown), sent as L when the topic allows negative losses and as log10(L) when it does
 * not (an inferer whose weighted mean is not positive is then left out).  Returns a new
 * array [{"inferer", "value"}] (canonical text), or NULL with the reason ("no_data") in
 * reason.
 */
json_t	*fcast_builtin(const json_t *data, char *reason, size_t rlen, char *detail,
	    size_t dlen);

/*
 * An external forecaster's answer: a JSON array of {"inferer": "allo1…", "value":
 * "<decimal>"} objects, nothing else.  Returns a new array of the elements with their values
 * in canonical form, or NULL with the reason: garbage (not that shape, or a value that is
 * not decimal text within the chain's bounds), empty, too_many (more elements than the
 * active set has inferers), invalid_address, duplicate, unknown_inferer (not in the active
 * set: our own address among them); detail says which element.
 */
json_t	*fcast_check(const char *text, size_t len, const json_t *data, char *reason,
	    size_t rlen, char *detail, size_t dlen);

/* The document an external forecaster is given: the data with the window's nonce. */
json_t	*fcast_input(const json_t *data, uint32_t topic, int64_t nonce);

#endif

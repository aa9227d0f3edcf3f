/*
 * Forecasts in the bundle (issue 22; emissions InputForecast / InputForecastElement,
 * PROTOCOL.md §1.2): the element rules a forecast must meet before it is signed, the JSON
 * array form [{"inferer": "allo1...", "value": "<decimal>"}, ...] used by `tx build
 * --forecast`, the SUBMIT frame and the forecasters, and the signing policy (a forecast is
 * signed only for a configured (wallet, topic) whose `forecast` is not off).  Owns the
 * forecast element rules; pure, no I/O.
 */
#ifndef AW_FORECAST_H
#define AW_FORECAST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The chain's default of Params.max_elements_per_forecast (v9 params.proto field 45): the
 * bound when the chain's own value is not known (offline, or before GetParams answers). */
#define FORECAST_DEFAULT_LIMIT	12
/* Whatever the chain says, never more elements than this in one bundle. */
#define FORECAST_MAX_ELEMENTS	256

struct tx_forecast_elem {
	char	*inferer;	/* bech32 allo1... */
	char	*value;		/* canonical decimal text */
};

/*
 * The rules, in this order, each with the rule name given in *rule (what MSG_SIGNED's
 * forecast_dropped and the warning event carry):
 *   not_array       the forecast is not a JSON array of {"inferer", "value"} objects
 *   empty           no element (the chain: "at least one forecast element must be provided")
 *   too_many        more elements than limit (0 = FORECAST_DEFAULT_LIMIT)
 *   bad_element     an element is not an object with exactly the keys inferer and value
 *   bad_address     the inferer is not a valid bech32 allo address
 *   own_address     the inferer is the forecaster itself (self, NULL = not checked)
 *   duplicate       the inferer appears in an earlier element
 *   bad_value       the value is not decimal text the chain accepts, or out of its bounds
 * Values are rewritten in the chain's canonical form (dec_value: "-1.75E-1" -> "-0.175").
 * A refusal's err names the element (1-based index and inferer) and the rule.  0 with the
 * elements in their order, -1 with err and *rule.
 */
int	 forecast_from_json(json_t *arr, const char *self, size_t limit,
	    struct tx_forecast_elem **out, size_t *n, const char **rule, char *err, size_t errlen);
/* The same rules over elements already in memory, whose values must already be canonical
 * (tx_build_payload's check before signing). */
int	 forecast_check(const struct tx_forecast_elem *, size_t n, const char *self, size_t limit,
	    const char **rule, char *err, size_t errlen);
/* 1 when s is a valid bech32 address with the human-readable part "allo" (20 or 32 bytes). */
int	 forecast_valid_address(const char *s);
json_t	*forecast_to_json(const struct tx_forecast_elem *, size_t n);
void	 forecast_free(struct tx_forecast_elem *, size_t n);

/*
 * The signing policy for a SUBMIT frame's "forecast" (absent or null: no forecast, 0 and
 * *n = 0).  policy is the topic's configured `forecast` (NULL or "off": never signed).
 * -1 with *rule ("forecast_off" or a rule above) and err when the forecast is dropped; the
 * inference goes alone.
 */
int	 forecast_for_submit(json_t *forecast, const char *policy, const char *self, size_t limit,
	    struct tx_forecast_elem **out, size_t *n, const char **rule, char *err, size_t errlen);

/* Adds "forecast_elements" (n, 0 = none signed) and, when dropped is not NULL,
 * "forecast_dropped" (the rule) to o, a MSG_SIGNED payload or a submission event; returns o. */
json_t	*forecast_signed(json_t *o, size_t n, const char *dropped);

#endif

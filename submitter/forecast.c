/* Forecasts: the element rules, the JSON array form and the signing policy (forecast.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "forecast.h"
#include "keys.h"
#include "util.h"

int
forecast_valid_address(const char *s)
{
	char hrp[16], e[96];
	uint8_t d[128];
	size_t dl = 0;

	if (s == NULL || strlen(s) > 100)
		return 0;
	if (bech32_decode(s, hrp, sizeof(hrp), d, &dl, e, sizeof(e)) == -1)
		return 0;
	return strcmp(hrp, ADDR_HRP) == 0 && (dl == 20 || dl == 32);
}

static size_t
eff_limit(size_t limit)
{
	if (limit == 0)
		limit = FORECAST_DEFAULT_LIMIT;
	return limit > FORECAST_MAX_ELEMENTS ? FORECAST_MAX_ELEMENTS : limit;
}

static int
refuse(const char **rule, const char *r, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
refuse(const char **rule, const char *r, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (rule != NULL)
		*rule = r;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The rules of one element, its index i (0-based) among l[0..i-1] already accepted. */
static int
check_one(const struct tx_forecast_elem *l, size_t i, const char *self, const char **rule,
    char *err, size_t errlen)
{
	const char *inf = l[i].inferer;
	size_t j;

	if (!forecast_valid_address(inf))
		return refuse(rule, "bad_address", err, errlen, "forecast element %zu: inferer "
		    "\"%.100s\" is not a valid bech32 %s1... address", i + 1, inf, ADDR_HRP);
	if (self != NULL && strcmp(inf, self) == 0)
		return refuse(rule, "own_address", err, errlen, "forecast element %zu: inferer "
		    "%s is this worker's own address (a forecaster forecasts the other inferers)",
		    i + 1, inf);
	for (j = 0; j < i; j++)
		if (strcmp(l[j].inferer, inf) == 0)
			return refuse(rule, "duplicate", err, errlen, "forecast element %zu: inferer "
			    "%s appears twice (also element %zu)", i + 1, inf, j + 1);
	return 0;
}

int
forecast_check(const struct tx_forecast_elem *l, size_t n, const char *self, size_t limit,
    const char **rule, char *err, size_t errlen)
{
	char canon[DEC_MAX_TEXT + 1], why[128];
	size_t i;

	if (n == 0)
		return refuse(rule, "empty", err, errlen, "the forecast has no element (the chain "
		    "wants at least one)");
	if (n > eff_limit(limit))
		return refuse(rule, "too_many", err, errlen, "the forecast has %zu elements: at "
		    "most %zu (the chain's max_elements_per_forecast)", n, eff_limit(limit));
	for (i = 0; i < n; i++) {
		if (l[i].inferer == NULL || l[i].value == NULL)
			return refuse(rule, "bad_element", err, errlen, "forecast element %zu: "
			    "inferer and value are both required", i + 1);
		if (check_one(l, i, self, rule, err, errlen) == -1)
			return -1;
		if (dec_value(l[i].value, canon, sizeof(canon), why, sizeof(why)) == -1)
			return refuse(rule, "bad_value", err, errlen, "forecast element %zu (inferer "
			    "%s): value \"%.64s\": %s", i + 1, l[i].inferer, l[i].value, why);
		if (strcmp(canon, l[i].value) != 0)
			return refuse(rule, "bad_value", err, errlen, "forecast element %zu (inferer "
			    "%s): value \"%.64s\" is not in the chain's canonical form (\"%s\")",
			    i + 1, l[i].inferer, l[i].value, canon);
	}
	return 0;
}

int
forecast_from_json(json_t *arr, const char *self, size_t limit, struct tx_forecast_elem **out,
    size_t *n, const char **rule, char *err, size_t errlen)
{
	struct tx_forecast_elem *l;
	char canon[DEC_MAX_TEXT + 1], why[128];
	json_t *e, *ji, *jv;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return refuse(rule, "not_array", err, errlen, "a forecast must be a JSON array "
		    "[{\"inferer\": \"allo1...\", \"value\": \"<decimal>\"}, ...]");
	if (json_array_size(arr) == 0)
		return refuse(rule, "empty", err, errlen, "the forecast has no element (the chain "
		    "wants at least one)");
	if (json_array_size(arr) > eff_limit(limit))
		return refuse(rule, "too_many", err, errlen, "the forecast has %zu elements: at "
		    "most %zu (the chain's max_elements_per_forecast)", json_array_size(arr),
		    eff_limit(limit));
	l = xcalloc(json_array_size(arr), sizeof(*l));
	json_array_foreach(arr, i, e) {
		const char *key;
		json_t *v;

		ji = json_object_get(e, "inferer");
		jv = json_object_get(e, "value");
		if (!json_is_object(e)) {
			refuse(rule, "bad_element", err, errlen, "forecast element %zu is not an "
			    "object {\"inferer\", \"value\"}", i + 1);
			goto bad;
		}
		json_object_foreach(e, key, v)
			if (strcmp(key, "inferer") != 0 && strcmp(key, "value") != 0) {
				refuse(rule, "bad_element", err, errlen, "forecast element %zu: unknown "
				    "key \"%.32s\" (an element has inferer and value)", i + 1, key);
				goto bad;
			}
		if (!json_is_string(ji)) {
			refuse(rule, "bad_element", err, errlen, "forecast element %zu: \"inferer\" "
			    "must be a JSON string (an allo1... address)", i + 1);
			goto bad;
		}
		l[k].inferer = xstrdup(json_string_value(ji));
		l[k].value = NULL;
		k++;
		if (check_one(l, k - 1, self, rule, err, errlen) == -1)
			goto bad;
		if (!json_is_string(jv)) {
			refuse(rule, "bad_value", err, errlen, "forecast element %zu (inferer %s): "
			    "\"value\" must be a decimal in a JSON string", i + 1, l[k - 1].inferer);
			goto bad;
		}
		if (dec_value(json_string_value(jv), canon, sizeof(canon), why, sizeof(why)) == -1) {
			refuse(rule, "bad_value", err, errlen, "forecast element %zu (inferer %s): "
			    "value \"%.64s\": %s", i + 1, l[k - 1].inferer, json_string_value(jv), why);
			goto bad;
		}
		l[k - 1].value = xstrdup(canon);
	}
	*out = l;
	*n = k;
	return 0;
bad:
	forecast_free(l, k);
	return -1;
}

json_t *
forecast_to_json(const struct tx_forecast_elem *l, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "inferer", l[i].inferer,
		    "value", l[i].value));
	return a;
}

void
forecast_free(struct tx_forecast_elem *l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(l[i].inferer);
		free(l[i].value);
	}
	free(l);
}

int
forecast_for_submit(json_t *forecast, const char *policy, const char *self, size_t limit,
    struct tx_forecast_elem **out, size_t *n, const char **rule, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (forecast == NULL || json_is_null(forecast))
		return 0;
	if (policy == NULL || strcmp(policy, "off") == 0)
		return refuse(rule, "forecast_off", err, errlen, "a forecast came for a topic whose "
		    "forecast is off in the configuration: not signed");
	return forecast_from_json(forecast, self, limit, out, n, rule, err, errlen);
}

json_t *
forecast_signed(json_t *o, size_t n, const char *dropped)
{
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "forecast_elements", json_integer((json_int_t)n));
	if (dropped != NULL)
		json_object_set_new(o, "forecast_dropped", json_string(dropped));
	return o;
}

/*
 * The built-in forecaster and the rules of an external forecaster's answer (forecast.h).
 * Owns the forecast's arithmetic (decay, transform) and its refusal reasons.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrshape.h"
#include "dec.h"
#include "forecast.h"
#include "util.h"

json_t *
fcast_builtin(const json_t *data, char *reason, size_t rlen, char *detail, size_t dlen)
{
	json_t *inferers = json_object_get(data, "inferers");
	json_t *losses = json_object_get(data, "losses"), *out, *inf, *b, *x;
	int allow_neg = json_is_true(json_object_get(data, "allow_negative"));
	json_int_t el = json_integer_value(json_object_get(data, "epoch_length"));
	json_int_t newest;
	size_t i, k, j;
	char txt[DEC_MAX_TEXT + 1], err[128];

	detail[0] = '\0';
	if (json_array_size(inferers) == 0 || json_array_size(losses) == 0) {
		snprintf(reason, rlen, "no_data");
		snprintf(detail, dlen, "the chain reported no loss bundle or no active inferer");
		return NULL;
	}
	newest = json_integer_value(json_object_get(json_array_get(losses, 0), "nonce"));
	out = json_array();
	json_array_foreach(inferers, i, inf) {
		const char *a = json_string_value(inf);
		double sw = 0, s = 0, v;

		if (a == NULL)
			continue;
		json_array_foreach(losses, k, b) {
			json_int_t n = json_integer_value(json_object_get(b, "nonce"));
			double age = el > 0 ? (double)(newest - n) / (double)el : (double)k;

			json_array_foreach(json_object_get(b, "values"), j, x) {
				const char *w = json_string_value(json_object_get(x, "inferer"));
				const char *l = json_string_value(json_object_get(x, "loss"));
				double wt = pow(FORECAST_DECAY, age);

				if (w == NULL || l == NULL || strcmp(w, a) != 0 ||
				    parse_double(l, &v) == -1 || !isfinite(v))
					continue;
				sw += wt;
				s += wt * v;
				break;
			}
		}
		if (sw <= 0)
			continue;	/* no loss of it: nothing to forecast from */
		v = s / sw;
		if (!allow_neg) {
			if (!(v > 0))
				continue;
			v = log10(v);
		}
		if (dec_from_double(v, txt, sizeof(txt), err, sizeof(err)) == -1)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s}", "inferer", a, "value", txt));
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		snprintf(reason, rlen, "no_data");
		snprintf(detail, dlen, "no inferer of the active set has a usable loss");
		return NULL;
	}
	return out;
}

static int
in_set(const json_t *set, const char *a)
{
	size_t i;
	json_t *x;

	json_array_foreach(set, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), a) == 0)
			return 1;
	return 0;
}

json_t *
fcast_check(const char *text, size_t len, const json_t *data, char *reason, size_t rlen,
    char *detail, size_t dlen)
{
	json_t *a, *out = NULL, *seen = NULL, *x, *set = json_object_get(data, "inferers");
	json_error_t je;
	size_t i;
	char canon[DEC_MAX_TEXT + 1], err[128];

	detail[0] = '\0';
	a = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_array(a)) {
		snprintf(reason, rlen, "garbage");
		snprintf(detail, dlen, a == NULL ? "not JSON: %.100s" : "not a JSON array%.0s",
		    je.text);
		goto fail;
	}
	if (json_array_size(a) == 0) {
		snprintf(reason, rlen, "empty");
		snprintf(detail, dlen, "no element");
		goto fail;
	}
	if (json_array_size(a) > json_array_size(set)) {
		snprintf(reason, rlen, "too_many");
		snprintf(detail, dlen, "%zu elements, the active set has %zu inferer(s)",
		    json_array_size(a), json_array_size(set));
		goto fail;
	}
	out = json_array();
	seen = json_object();
	json_array_foreach(a, i, x) {
		const char *inf = json_string_value(json_object_get(x, "inferer"));
		const char *v = json_string_value(json_object_get(x, "value"));

		if (!json_is_object(x) || inf == NULL || v == NULL || json_object_size(x) != 2) {
			snprintf(reason, rlen, "garbage");
			snprintf(detail, dlen, "element %zu is not {\"inferer\": str, \"value\": str}",
			    i);
			goto fail;
		}
		if (!allo_address_shape(inf)) {
			snprintf(reason, rlen, "invalid_address");
			snprintf(detail, dlen, "element %zu: \"%.90s\" is not an allo address", i,
			    inf);
			goto fail;
		}
		if (json_object_get(seen, inf) != NULL) {
			snprintf(reason, rlen, "duplicate");
			snprintf(detail, dlen, "element %zu: %.90s a second time", i, inf);
			goto fail;
		}
		if (!in_set(set, inf)) {
			snprintf(reason, rlen, "unknown_inferer");
			snprintf(detail, dlen, "element %zu: %.90s is not in the active set", i, inf);
			goto fail;
		}
		if (dec_value(v, canon, sizeof(canon), err, sizeof(err)) == -1) {
			snprintf(reason, rlen, "garbage");
			snprintf(detail, dlen, "element %zu: value \"%.40s\": %s", i, v, err);
			goto fail;
		}
		json_object_set_new(seen, inf, json_true());
		json_array_append_new(out, json_pack("{s:s, s:s}", "inferer", inf, "value", canon));
	}
	json_decref(a);
	json_decref(seen);
	return out;
fail:
	json_decref(a);
	json_decref(seen);
	json_decref(out);
	return NULL;
}

json_t *
fcast_input(const json_t *data, uint32_t topic, int64_t nonce)
{
	json_t *o = json_pack("{s:I, s:I}", "topic", (json_int_t)topic, "nonce", (json_int_t)nonce);
	static const char *const keys[] = { "epoch_length", "allow_negative", "inferers",
	    "losses", NULL };
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		json_object_set_new(o, keys[i], json_object_get(data, keys[i]) != NULL ?
		    json_deep_copy(json_object_get(data, keys[i])) : json_null());
	return o;
}

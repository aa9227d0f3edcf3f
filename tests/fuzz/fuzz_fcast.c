/*
 * libFuzzer target (issue 22): the forecaster's untrusted inputs.  First byte even: an
 * external forecaster's answer through trainer/forecast.c's rules (what is accepted is a
 * subset of the active set, each once, canonical decimal text; a refusal names its reason);
 * odd: a chain answer through common/forecastq.c's decoders (a refusal says why and leaves
 * the fields null).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "forecastq.h"
#include "trainer/forecast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define A "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
#define B "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char r[32], det[256], err[256], canon[DEC_MAX_TEXT + 1], e2[128];
	json_t *d, *out, *x, *seen;
	size_t i;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		d = json_pack("{s:[s, s], s:[]}", "inferers", A, B, "losses");
		out = fcast_check((const char *)data + 1, size - 1, d, r, sizeof(r), det,
		    sizeof(det));
		if (out == NULL && r[0] == '\0')
			abort();
		seen = json_object();
		json_array_foreach(out, i, x) {
			const char *a = json_string_value(json_object_get(x, "inferer"));
			const char *v = json_string_value(json_object_get(x, "value"));

			if (a == NULL || v == NULL || (strcmp(a, A) != 0 && strcmp(a, B) != 0) ||
			    json_object_get(seen, a) != NULL)
				abort();
			if (dec_value(v, canon, sizeof(canon), e2, sizeof(e2)) != 0 ||
			    strcmp(canon, v) != 0)
				abort();
			json_object_set_new(seen, a, json_true());
		}
		json_decref(seen);
		json_decref(out);
		json_decref(d);
		return 0;
	}
	for (i = 0; i < FQ_N; i++) {
		json_t *o = json_object();

		if (forecastq_decode((enum forecastq)i, 67, 1200, A, data + 1, size - 1, o, err,
		    sizeof(err)) == -1) {
			if (err[0] == '\0')
				abort();
			if (i == FQ_LOSSES && !json_is_null(json_object_get(o, "losses")))
				abort();
			if (i == FQ_SCORE && !json_is_null(json_object_get(o, "ema")))
				abort();
		}
		json_decref(o);
	}
	return 0;
}

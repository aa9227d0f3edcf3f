/* libFuzzer target: a forecaster's answer (submitter/forecast.c's JSON array form) through
 * the element rules, and what they accept through the builder's own check. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "submitter/forecast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *self = "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv";
	struct tx_forecast_elem *el;
	const char *rule;
	char err[512];
	size_t n;
	json_t *j;

	j = json_loadb((const char *)data, size, 0, NULL);
	if (j == NULL)
		return 0;
	if (forecast_for_submit(j, "builtin", self, 0, &el, &n, &rule, err, sizeof(err)) == 0) {
		/* What the rules accept, the builder's check accepts as it is. */
		if (n > 0 && forecast_check(el, n, self, 0, &rule, err, sizeof(err)) != 0)
			__builtin_trap();
		json_decref(forecast_signed(forecast_to_json(el, n), n, NULL));
		forecast_free(el, n);
	} else if (rule == NULL || strlen(err) == 0)
		__builtin_trap();	/* a refusal always names its rule and says why */
	json_decref(j);
	return 0;
}

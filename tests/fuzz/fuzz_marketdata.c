/*
 * libFuzzer target: the market data parsers (CSV unix,close; Tiingo; Coinbase).  The first
 * byte picks the parser and the status; the rest is the body.  Parsed bars are checked:
 * ascending, positive, finite.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "trainer/marketdata.h"
#include "trainer/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct bars *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (!(b->close[i] > 0) || !isfinite(b->close[i]) ||
		    (i > 0 && b->t[i] <= b->t[i - 1]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long status[] = { 200, 429, 404, 500 };
	struct bars b;
	char err[512];
	const char *body;
	long st;
	int rc;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	size--;
	st = status[(data[0] >> 2) % 4];
	switch (data[0] % 3) {
	case 0:
		rc = bars_parse_csv(body, size, "fuzz.csv", &b, err, sizeof(err));
		break;
	case 1:
		rc = tiingo_parse(body, size, st, 1764201810.0, &b, err, sizeof(err));
		break;
	default:
		rc = coinbase_parse(body, size, st, 1764201810.0, &b, err, sizeof(err));
		break;
	}
	if (rc == 0) {
		check(&b);
		if (data[0] % 3 != 0 && st != 200)
			abort();	/* a non-2xx status is never data */
		bars_free(&b);
	} else if (b.t != NULL || b.n != 0)
		abort();		/* failures leave nothing behind */
	return 0;
}

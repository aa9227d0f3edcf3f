/*
 * libFuzzer target: the market data parsers (CSV unix,close; Tiingo; Coinbase; Binance) and
 * the hourly grid of the trainer (bars_regularize, then every feature set and the target
 * on the result).  The first byte picks the parser (% 4) and the status; the rest is the
 * body.  Parsed bars are checked: ascending, positive, finite; features finite.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
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

/* The hourly grid and the features on it: no crash, nothing that is not finite. */
static void
grid(struct bars *b)
{
	static const enum fset fs[3] = { FS_A, FS_B, FS_REF };
	double f[NFMAX], y;
	size_t i, k, j;

	bars_regularize(b, BARS_MAX_FILL, 5000, NULL);
	check(b);
	for (i = 1; i < b->n; i++)
		if (b->t[i] - b->t[i - 1] != 3600)
			abort();
	for (i = 0; i < b->n; i++) {
		for (k = 0; k < 3; k++)
			if (fset_at(b, fs[k], i, f) == 0)
				for (j = 0; j < (size_t)fset_nf(fs[k]); j++)
					if (!isfinite(f[j]))
						abort();
		y = target_at(b, i, 168);
		if (!isnan(y) && !isfinite(y))
			abort();
	}
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
	switch (data[0] % 4) {
	case 0:
		rc = bars_parse_csv(body, size, "fuzz.csv", &b, err, sizeof(err));
		break;
	case 1:
		rc = tiingo_parse(body, size, st, 1764201810.0, &b, err, sizeof(err));
		break;
	case 2:
		rc = coinbase_parse(body, size, st, 1764201810.0, &b, err, sizeof(err));
		break;
	default:
		rc = binance_parse(body, size, st, 1764201810.0, &b, err, sizeof(err));
		break;
	}
	if (rc == 0) {
		check(&b);
		if (data[0] % 4 != 0 && st != 200)
			abort();	/* a non-2xx status is never data */
		grid(&b);
		bars_free(&b);
	} else if (b.t != NULL || b.n != 0)
		abort();		/* failures leave nothing behind */
	return 0;
}

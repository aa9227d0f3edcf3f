/*
 * Hourly bars read from CSV (model.h): parsing, reading, freeing, dropping the unfinished hour.
 * Apart from model.c so that the code that only reads market data (fetch.c, preflight.c,
 * and with them alloractl check) never links the models and libxgboost (HACKING.md).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "config.h"
#include "log.h"
#include "model.h"
#include "util.h"

void
bars_free(struct bars *b)
{
	free(b->t);
	free(b->close);
	free(b->bad);
	memset(b, 0, sizeof(*b));
}

int
bars_parse_csv(const char *text, size_t len, const char *name, struct bars *b, char *err,
    size_t errlen)
{
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;

	memset(b, 0, sizeof(*b));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[256], *comma, *e1, *e2;
		long long t;
		double c;

		lineno++;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "%s:%zu: line too long", name, lineno);
			goto fail;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (ll > 0 && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		p = nl ? nl + 1 : end;
		if (line[0] == '\0')
			continue;
		if (!isdigit((unsigned char)line[0])) {
			if (lineno == 1)
				continue;	/* header */
			snprintf(err, errlen, "%s:%zu: expected \"unix,close\"", name, lineno);
			goto fail;
		}
		comma = strchr(line, ',');
		if (comma == NULL) {
			snprintf(err, errlen, "%s:%zu: expected \"unix,close\"", name, lineno);
			goto fail;
		}
		*comma = '\0';
		errno = 0;
		t = strtoll(line, &e1, 10);
		c = strtod(comma + 1, &e2);
		if (errno != 0 || *e1 != '\0' || (*e2 != '\0' && *e2 != ',') || !BARS_PRICE_OK(c) ||
		    t <= 0 || t > BARS_MAX_TIME) {
			snprintf(err, errlen, "%s:%zu: bad time or price", name, lineno);
			goto fail;
		}
		if (b->n > 0 && t <= b->t[b->n - 1]) {
			snprintf(err, errlen, "%s:%zu: times must increase", name, lineno);
			goto fail;
		}
		if (b->n == cap) {
			cap = cap ? cap * 2 : 1024;
			b->t = xrealloc(b->t, cap * sizeof(*b->t));
			b->close = xrealloc(b->close, cap * sizeof(*b->close));
		}
		if (b->n > 0 && t - b->t[b->n - 1] > 3600)
			b->gaps += (size_t)((t - b->t[b->n - 1]) / 3600 - 1);
		b->t[b->n] = t;
		b->close[b->n] = c;
		b->n++;
	}
	return 0;
fail:
	bars_free(b);
	return -1;
}

int
bars_read_csv(const char *path, struct bars *b, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, (size_t)1 << 30, &len);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = bars_parse_csv(text, len, path, b, err, errlen);
	free(text);
	return rc;
}

size_t
bars_drop_partial(struct bars *b, double now)
{
	size_t k = 0;

	while (b->n > 0 && (double)b->t[b->n - 1] + 3600 > now) {
		b->n--;
		k++;
	}
	return k;
}

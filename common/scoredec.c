/*
 * The decimal text of the chain's scores and rewards (scoreq.h): canonical or refused, a
 * difference, the integer uallo part. Apart from the queries (scoreq.c) so that the
 * supervisor, which only does this arithmetic, links no protobuf code.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dec.h"
#include "scoreq.h"
#include "util.h"

json_t *
scoreq_dec(const char *s, char *err, size_t errlen)
{
	char out[DEC_MAX_TEXT + 1], why[120];

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty decimal");
		return NULL;
	}
	if (dec_canonical(s, out, sizeof(out), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "decimal \"%.40s\" refused: %s", s, why);
		return NULL;
	}
	if (strcmp(out, s) != 0) {
		snprintf(err, errlen, "decimal \"%.40s\" is not canonical (\"%s\")", s, out);
		return NULL;
	}
	return json_string(s);
}

char *
scoreq_sub(const char *a, const char *b)
{
	char out[DEC_MAX_TEXT + 1], err[80];
	double x, y;

	if (a == NULL || b == NULL || parse_double(a, &x) == -1 || parse_double(b, &y) == -1)
		return NULL;
	if (x - y == 0)
		return xstrdup("0");
	if (dec_from_double(x - y, out, sizeof(out), err, sizeof(err)) == -1)
		return NULL;
	return xstrdup(out);
}

char *
scoreq_floor_uallo(const char *dec)
{
	char digits[256];
	const char *p = dec, *e;
	size_t nd = 0, point = (size_t)-1, i;
	long exp = 0;
	char *out;

	if (dec == NULL || *p == '-' || *p == '\0')
		return NULL;
	if (*p == '+')
		p++;
	for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			if (point != (size_t)-1)
				return NULL;
			point = nd;
		} else if (isdigit((unsigned char)*p) && nd < sizeof(digits) - 1)
			digits[nd++] = *p;
		else
			return NULL;
	}
	if (nd == 0)
		return NULL;
	if (point == (size_t)-1)
		point = nd;
	if (*p != '\0') {
		char *end;

		e = p + 1;
		exp = strtol(e, &end, 10);
		if (*e == '\0' || *end != '\0' || exp > 60 || exp < -200)
			return NULL;
	}
	/* The integer part: the digits before point + exp. */
	{
		long ip = (long)point + exp;
		size_t k = 0;

		out = xcalloc(1, (ip > 0 ? (size_t)ip : 0) + 2);
		for (i = 0; (long)i < ip; i++)
			out[k++] = i < nd ? digits[i] : '0';
		/* strip leading zeros */
		for (i = 0; i + 1 < k && out[i] == '0'; i++)
			;
		if (k == 0)
			out[k++] = '0';
		memmove(out, out + i, k - i + 1);
	}
	return out;
}

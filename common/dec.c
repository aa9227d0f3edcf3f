/* Canonical decimal text, ported from the algorithm of PROTOCOL.md §1.5 (apd Text('G')). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"

static int
fail(char *err, size_t errlen, const char *why)
{
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	return -1;
}

static int
canon(const char *in, char *out, size_t outlen, char *err, size_t errlen, int bounded)
{
	char digits[DEC_MAX_TEXT + 1], buf[DEC_MAX_TEXT * 2 + 16];
	const char *p = in, *d;
	size_t nd = 0, i, len;
	long e = 0, ex = 0, adj, n;
	int neg = 0, seen_digit = 0, seen_point = 0, zero;

	if (in == NULL || *in == '\0')
		return fail(err, errlen, "empty value");
	if (strlen(in) > DEC_MAX_TEXT)
		return fail(err, errlen, "value text too long");
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (strcasecmp(p, "nan") == 0 || strcasecmp(p, "inf") == 0 ||
	    strcasecmp(p, "infinity") == 0)
		return fail(err, errlen, "NaN and infinities are not values");
	/* Coefficient: digits with at most one point. */
	for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			if (seen_point)
				return fail(err, errlen, "not a decimal number (two points)");
			seen_point = 1;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return fail(err, errlen, "not a decimal number");
		seen_digit = 1;
		if (seen_point)
			e--;
		if (nd == 0 && *p == '0')
			continue;	/* leading zeros */
		digits[nd++] = *p;
	}
	if (!seen_digit)
		return fail(err, errlen, "not a decimal number (no digits)");
	if (*p == 'e' || *p == 'E') {
		char *end;

		p++;
		if (*p == '\0')
			return fail(err, errlen, "not a decimal number (empty exponent)");
		if (!isdigit((unsigned char)*p) && !((*p == '+' || *p == '-') &&
		    isdigit((unsigned char)p[1])))
			return fail(err, errlen, "not a decimal number (bad exponent)");
		ex = strtol(p, &end, 10);
		if (*end != '\0' || ex > 100000 || ex < -100000)
			return fail(err, errlen, "not a decimal number (bad exponent)");
		e += ex;
	}
	zero = nd == 0;
	if (zero)
		digits[nd++] = '0';
	digits[nd] = '\0';
	/* Bounds: 0, or 1e-40 <= |v| <= 1e40.  |v| = D x 10^e with D of nd digits. */
	if (bounded && !zero) {
		long mag = e + (long)nd - 1;	/* floor(log10 |v|) */

		if (mag > 40 || (mag == 40 && (digits[0] != '1' ||
		    strspn(digits + 1, "0") != nd - 1)))
			return fail(err, errlen, "out of the chain's bounds (|v| > 1e40)");
		if (mag < -40)
			return fail(err, errlen, "out of the chain's bounds (0 < |v| < 1e-40)");
	}
	/* Steps 2-4. */
	n = (long)nd;
	if (zero && e < 0 && e >= -2000)
		n += -e;
	adj = e + n - 1;
	len = 0;
	if (neg)
		buf[len++] = '-';
	if (e <= 0 && adj >= -6) {
		if (e == 0) {
			memcpy(buf + len, digits, nd);
			len += nd;
		} else {
			long left = -e - (long)nd;

			if (left >= 0) {
				/* A zero such as 0E-2000 pads many zeros: refuse text that
				 * cannot fit rather than overrun buf. */
				if ((size_t)left + nd + 4 > sizeof(buf) - len)
					return fail(err, errlen, "value text too long");
				memcpy(buf + len, "0.", 2);
				len += 2;
				for (i = 0; i < (size_t)left; i++)
					buf[len++] = '0';
				memcpy(buf + len, digits, nd);
				len += nd;
			} else {
				size_t ip = (size_t)((long)nd + e);

				memcpy(buf + len, digits, ip);
				len += ip;
				buf[len++] = '.';
				memcpy(buf + len, digits + ip, nd - ip);
				len += nd - ip;
			}
		}
	} else {
		long x = e + (long)nd - 1;

		d = digits;
		buf[len++] = d[0];
		if (nd > 1) {
			buf[len++] = '.';
			memcpy(buf + len, d + 1, nd - 1);
			len += nd - 1;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "E%c%ld", x < 0 ? '-' : '+',
		    x < 0 ? -x : x);
	}
	buf[len] = '\0';
	if (len + 1 > outlen)
		return fail(err, errlen, "value text too long");
	memcpy(out, buf, len + 1);
	return 0;
}

int
dec_canonical(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	return canon(in, out, outlen, err, errlen, 0);
}

int
dec_value(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	return canon(in, out, outlen, err, errlen, 1);
}

int
dec_from_double(double v, char *out, size_t outlen, char *err, size_t errlen)
{
	char tmp[64];
	int prec;

	if (isnan(v) || isinf(v))
		return fail(err, errlen, "NaN and infinities are not values");
	/* The shortest %.*e that reads back as the same double. */
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return dec_value(tmp, out, outlen, err, errlen);
}

/* Tiingo, Coinbase and Binance response parsers (see marketdata.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "marketdata.h"
#include "util.h"

#define MD_MAX_BARS	200000

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
md_parse_time(const char *s, long long *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	time_t t;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	s += 19;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0 && strcmp(s, "+0000") != 0)
		return -1;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (long long)t;
	return 0;
}

/* An error text of a body: JSON {"detail"|"msg"|"message": …} or a bare text. */
static void
body_detail(const char *body, size_t len, json_t *j, char *out, size_t outlen)
{
	const char *d = NULL;
	size_t i, n;

	if (json_is_object(j)) {
		d = json_string_value(json_object_get(j, "detail"));
		if (d == NULL)
			d = json_string_value(json_object_get(j, "msg"));
		if (d == NULL)
			d = json_string_value(json_object_get(j, "message"));
	}
	if (d != NULL) {
		snprintf(out, outlen, "%.200s", d);
		n = strlen(out);
	} else {
		n = len < 200 ? len : 200;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, body, n);
		out[n] = '\0';
	}
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	for (i = 0; i < n; i++)	/* printable only: this goes to the log */
		if (!isprint((unsigned char)out[i]))
			out[i] = '?';
}

static int
is_quota_text(const char *s)
{
	return strcasestr(s, "request allocation") != NULL || strcasestr(s, "rate limit") != NULL ||
	    strcasestr(s, "too many requests") != NULL || strcasestr(s, "run over") != NULL ||
	    strcasestr(s, "slow down") != NULL;
}

/* Common checks; returns the parsed JSON or NULL with the result code in *rc. */
static json_t *
check_response(const char *src, const char *body, size_t len, long status, int *rc,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;
	char detail[256];
	size_t i = 0;
	int bare_error;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	/* The body is not NUL-terminated: compare within len only. */
	bare_error = len - i >= 6 && memcmp(body + i, "Error:", 6) == 0;
	j = json_loadb(body, len, 0, &je);
	if (status == 429 || status < 200 || status > 299 || j == NULL || !json_is_array(j) ||
	    bare_error) {
		body_detail(body, len, j, detail, sizeof(detail));
		/* 418: Binance's ban of an IP that went on after its 429s. */
		*rc = status == 429 || status == 418 || is_quota_text(detail) ? MD_QUOTA : MD_ERROR;
		if (j == NULL && status >= 200 && status <= 299 && *rc == MD_ERROR &&
		    !bare_error)
			snprintf(err, errlen, "%s: HTTP %ld: not JSON (%s at %d)", src, status,
			    je.text, je.position);
		else
			snprintf(err, errlen, "%s: HTTP %ld: %s", src, status, detail[0] ? detail :
			    "(empty body)");
		json_decref(j);
		return NULL;
	}
	*rc = MD_OK;
	return j;
}

static void
push(struct bars *b, size_t *cap, long long t, double c)
{
	if (b->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		b->t = xrealloc(b->t, *cap * sizeof(*b->t));
		b->close = xrealloc(b->close, *cap * sizeof(*b->close));
	}
	b->t[b->n] = t;
	b->close[b->n] = c;
	b->n++;
}

static void
count_gaps(struct bars *b)
{
	size_t i;

	b->gaps = 0;
	for (i = 1; i < b->n; i++)
		if (b->t[i] - b->t[i - 1] > 3600)
			b->gaps += (size_t)((b->t[i] - b->t[i - 1]) / 3600 - 1);
}

int
tiingo_parse(const char *body, size_t len, long status, double now, struct bars *b, char *err,
    size_t errlen)
{
	json_t *j, *tk, *pd, *bar;
	size_t i, k, cap = 0;
	long long t;
	double c;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((j = check_response("tiingo", body, len, status, &rc, err, errlen)) == NULL)
		return rc;
	if (json_array_size(j) > 1) {
		snprintf(err, errlen, "tiingo: %zu tickers in the response, 1 expected",
		    json_array_size(j));
		goto fail;
	}
	tk = json_array_get(j, 0);
	if (tk == NULL) {		/* [] : no data */
		json_decref(j);
		return MD_OK;
	}
	pd = json_object_get(tk, "priceData");
	if (!json_is_object(tk) || !json_is_array(pd)) {
		snprintf(err, errlen, "tiingo: no priceData array");
		goto fail;
	}
	if (json_array_size(pd) > MD_MAX_BARS) {
		snprintf(err, errlen, "tiingo: %zu bars in one response", json_array_size(pd));
		goto fail;
	}
	json_array_foreach(pd, k, bar) {
		json_t *cj = json_object_get(bar, "close");

		if (md_parse_time(json_string_value(json_object_get(bar, "date")), &t) == -1) {
			snprintf(err, errlen, "tiingo: bar %zu: bad or missing date", k);
			goto fail;
		}
		c = json_number_value(cj);
		if (!json_is_number(cj) || !BARS_PRICE_OK(c)) {
			snprintf(err, errlen, "tiingo: bar %zu: bad or missing close", k);
			goto fail;
		}
		if ((double)t + 3600 > now)	/* partial: its hour has not ended */
			continue;
		if (b->n > 0 && t <= b->t[b->n - 1]) {
			snprintf(err, errlen, "tiingo: bar %zu: dates not ascending", k);
			goto fail;
		}
		push(b, &cap, t, c);
	}
	for (i = 0; i < b->n; i++)
		if (b->t[i] % 3600 != 0) {
			snprintf(err, errlen, "tiingo: bar %zu is not on the hour", i);
			goto fail;
		}
	count_gaps(b);
	json_decref(j);
	return MD_OK;
fail:
	json_decref(j);
	bars_free(b);
	return MD_ERROR;
}

int
coinbase_parse(const char *body, size_t len, long status, double now, struct bars *b,
    char *err, size_t errlen)
{
	json_t *j, *row;
	size_t k, n, cap = 0;
	long long t, prev = 0;
	double c;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((j = check_response("coinbase", body, len, status, &rc, err, errlen)) == NULL)
		return rc;
	n = json_array_size(j);
	if (n > MD_MAX_BARS) {
		snprintf(err, errlen, "coinbase: %zu candles in one response", n);
		goto fail;
	}
	/* [time, low, high, open, close, volume], newest first: walk backwards. */
	for (k = n; k-- > 0;) {
		json_t *tj, *cj;

		row = json_array_get(j, k);
		tj = json_array_get(row, 0);
		cj = json_array_get(row, 4);
		if (!json_is_array(row) || json_array_size(row) < 5 || !json_is_integer(tj) ||
		    !json_is_number(cj)) {
			snprintf(err, errlen, "coinbase: candle %zu: expected [time, low, high, "
			    "open, close, volume]", k);
			goto fail;
		}
		t = (long long)json_integer_value(tj);
		c = json_number_value(cj);
		if (t <= 0 || t > BARS_MAX_TIME || t % 3600 != 0 || !BARS_PRICE_OK(c)) {
			snprintf(err, errlen, "coinbase: candle %zu: bad time or close", k);
			goto fail;
		}
		if (prev != 0 && t <= prev) {
			snprintf(err, errlen, "coinbase: candle %zu: times not descending", k);
			goto fail;
		}
		prev = t;
		if ((double)t + 3600 > now)
			continue;
		push(b, &cap, t, c);
	}
	count_gaps(b);
	json_decref(j);
	return MD_OK;
fail:
	json_decref(j);
	bars_free(b);
	return MD_ERROR;
}

/* A Binance price: a decimal string (a JSON number is tolerated). */
static int
price(json_t *j, double *out)
{
	const char *s = json_string_value(j);
	char *e;

	if (json_is_number(j))
		*out = json_number_value(j);
	else if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	else {
		*out = strtod(s, &e);
		if (*e != '\0')
			return -1;
	}
	return BARS_PRICE_OK(*out) ? 0 : -1;
}

int
binance_parse(const char *body, size_t len, long status, double now, struct bars *b,
    char *err, size_t errlen)
{
	json_t *j, *row;
	size_t k, n, cap = 0;
	json_int_t ot, ct;
	double c;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((j = check_response("binance", body, len, status, &rc, err, errlen)) == NULL)
		return rc;
	n = json_array_size(j);
	if (n > MD_MAX_BARS) {
		snprintf(err, errlen, "binance: %zu klines in one response", n);
		goto fail;
	}
	/* [openTime ms, "open", "high", "low", "close", "volume", closeTime ms, …], oldest first */
	json_array_foreach(j, k, row) {
		json_t *oj = json_array_get(row, 0), *cj = json_array_get(row, 6);

		if (!json_is_array(row) || json_array_size(row) < 7 || !json_is_integer(oj) ||
		    !json_is_integer(cj) || price(json_array_get(row, 4), &c) == -1) {
			snprintf(err, errlen, "binance: kline %zu: expected [openTime, open, high, "
			    "low, close, volume, closeTime, …]", k);
			goto fail;
		}
		ot = json_integer_value(oj);
		ct = json_integer_value(cj);
		if (ot <= 0 || ot / 1000 > BARS_MAX_TIME || ot % 3600000 != 0 || ct <= ot ||
		    ct - ot >= 3600000) {
			snprintf(err, errlen, "binance: kline %zu: not an hourly kline", k);
			goto fail;
		}
		if (b->n > 0 && ot / 1000 <= b->t[b->n - 1]) {
			snprintf(err, errlen, "binance: kline %zu: times not ascending", k);
			goto fail;
		}
		if ((double)(ot / 1000) + 3600 > now)	/* partial: its hour has not ended */
			continue;
		push(b, &cap, (long long)(ot / 1000), c);
	}
	count_gaps(b);
	json_decref(j);
	return MD_OK;
fail:
	json_decref(j);
	bars_free(b);
	return MD_ERROR;
}

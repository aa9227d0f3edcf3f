/*
 * External predictors: parsing what they print or answer, and URL templates (extpred.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dec.h"
#include "extpred.h"
#include "log.h"
#include "util.h"

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Quotes (escaped, cut) what was received for an error message. */
static void
shown(const char *s, size_t len, char *out, size_t outlen)
{
	char *e = log_escape(s, len > 40 ? 40 : len);

	snprintf(out, outlen, "\"%s\"%s", e, len > 40 ? "..." : "");
	free(e);
}

/* A number token (or the text of a quoted number) -> canonical text. */
static int
number_text(const char *s, size_t len, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[DEC_MAX_TEXT + 1], why[160], sh[200];

	if (len == 0) {
		snprintf(err, errlen, "no number");
		return -1;
	}
	if (len > DEC_MAX_TEXT) {
		shown(s, len, sh, sizeof(sh));
		snprintf(err, errlen, "%s is not a number (too long)", sh);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL || dec_value(buf, out, outlen, why,
	    sizeof(why)) == -1) {
		shown(s, len, sh, sizeof(sh));
		snprintf(err, errlen, "%s: %s", sh, memchr(buf, '\0', len) != NULL ?
		    "not a number" : why);
		return -1;
	}
	return 0;
}

int
extpred_parse_output(const char *text, size_t len, char *out, size_t outlen, char *err,
    size_t errlen)
{
	size_t a = 0, b = len, i;
	char sh[200];

	while (a < b && is_blank((unsigned char)text[a]))
		a++;
	while (b > a && is_blank((unsigned char)text[b - 1]))
		b--;
	if (a == b) {
		snprintf(err, errlen, "printed no number");
		return -1;
	}
	for (i = a; i < b; i++)
		if (is_blank((unsigned char)text[i])) {
			shown(text + a, b - a, sh, sizeof(sh));
			snprintf(err, errlen, "printed %s, not one number", sh);
			return -1;
		}
	if (number_text(text + a, b - a, out, outlen, err, errlen) == -1) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "printed %s", why);
		return -1;
	}
	return 0;
}

/* ---- the body of a model server ---- */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && is_blank((unsigned char)*p))
		p++;
	return p;
}

/* The end of the JSON value at p (the text is known to be valid JSON). */
static const char *
skip_value(const char *p, const char *e)
{
	int depth = 0;

	do {
		if (p >= e)
			return e;
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (depth > 0)
			p++;
		else {
			while (p < e && !is_blank((unsigned char)*p) && *p != ',' && *p != '}' &&
			    *p != ']')
				p++;
		}
	} while (depth > 0);
	return p;
}

/* A leaf: a number token or a string holding one. */
static int
leaf(const char *p, const char *q, char *out, size_t outlen, char *err, size_t errlen)
{
	char sh[200];

	if (p < q && *p == '"') {
		if (q - p < 2 || memchr(p + 1, '\\', (size_t)(q - p - 2)) != NULL) {
			shown(p, (size_t)(q - p), sh, sizeof(sh));
			snprintf(err, errlen, "%s is not a number", sh);
			return -1;
		}
		return number_text(p + 1, (size_t)(q - p - 2), out, outlen, err, errlen);
	}
	if (p < q && (*p == '-' || isdigit((unsigned char)*p)))
		return number_text(p, (size_t)(q - p), out, outlen, err, errlen);
	shown(p, (size_t)(q - p), sh, sizeof(sh));
	snprintf(err, errlen, "%s is not a number", sh);
	return -1;
}

int
extpred_parse_body(const char *body, size_t len, char *out, size_t outlen, char *err,
    size_t errlen)
{
	static const char *names[] = { "value", "prediction", "inference" };
	const char *p = body, *e = body + len, *q, *k, *best[3] = { NULL, NULL, NULL };
	const char *bestend[3] = { NULL, NULL, NULL }, *only = NULL, *onlyend = NULL;
	json_t *j;
	json_error_t je;
	size_t n = 0, i;
	char sh[200];

	if (len == 0) {
		snprintf(err, errlen, "an empty answer");
		return -1;
	}
	p = skip_ws(p, e);
	q = e;
	while (q > p && is_blank((unsigned char)q[-1]))
		q--;
	if (p < q && *p != '{' && *p != '[' && *p != '"')	/* a bare number */
		return leaf(p, q, out, outlen, err, errlen);
	j = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (j == NULL) {
		shown(body, len, sh, sizeof(sh));
		snprintf(err, errlen, "%s is neither a number nor JSON", sh);
		return -1;
	}
	json_decref(j);
	if (*p == '"')
		return leaf(p, q, out, outlen, err, errlen);
	if (*p == '[') {
		p = skip_ws(p + 1, e);
		if (*p == ']') {
			snprintf(err, errlen, "an empty JSON array");
			return -1;
		}
		q = skip_value(p, e);
		k = skip_ws(q, e);
		if (*k != ']') {
			snprintf(err, errlen, "a JSON array of more than one element");
			return -1;
		}
		return leaf(p, q, out, outlen, err, errlen);
	}
	/* An object. */
	p = skip_ws(p + 1, e);
	while (p < e && *p != '}') {
		const char *ks = p + 1, *ke;

		ke = skip_value(p, e) - 1;	/* the key's closing quote */
		p = skip_ws(ke + 1, e);
		p = skip_ws(p + 1, e);	/* past ':' */
		q = skip_value(p, e);
		for (i = 0; i < 3; i++)
			if ((size_t)(ke - ks) == strlen(names[i]) &&
			    memcmp(ks, names[i], (size_t)(ke - ks)) == 0 && best[i] == NULL) {
				best[i] = p;
				bestend[i] = q;
			}
		only = p;
		onlyend = q;
		n++;
		p = skip_ws(q, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
	}
	for (i = 0; i < 3; i++)
		if (best[i] != NULL)
			return leaf(best[i], bestend[i], out, outlen, err, errlen);
	if (n == 1)
		return leaf(only, onlyend, out, outlen, err, errlen);
	snprintf(err, errlen, "a JSON object without \"value\", \"prediction\" or \"inference\""
	    " and with %zu members", n);
	return -1;
}

/* ---- URL templates ---- */

static void
append_escaped(char **buf, size_t *len, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(v), i;

	*buf = xrealloc(*buf, *len + 3 * n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			(*buf)[(*len)++] = (char)c;
		else {
			(*buf)[(*len)++] = '%';
			(*buf)[(*len)++] = hex[c >> 4];
			(*buf)[(*len)++] = hex[c & 15];
		}
	}
	(*buf)[*len] = '\0';
}

char *
extpred_url(const char *tmpl, const char *ticker, uint32_t topic, int64_t nonce)
{
	char *buf = xstrdup(""), num[32];
	size_t len = 0;
	const char *p = tmpl;

	while (*p != '\0') {
		if (strncmp(p, "{Token}", 7) == 0) {
			append_escaped(&buf, &len, ticker != NULL ? ticker : "");
			p += 7;
		} else if (strncmp(p, "{TopicId}", 9) == 0) {
			snprintf(num, sizeof(num), "%u", topic);
			append_escaped(&buf, &len, num);
			p += 9;
		} else if (strncmp(p, "{BlockHeight}", 13) == 0) {
			snprintf(num, sizeof(num), "%lld", (long long)nonce);
			append_escaped(&buf, &len, num);
			p += 13;
		} else {
			buf = xrealloc(buf, len + 2);
			buf[len++] = *p++;
			buf[len] = '\0';
		}
	}
	return buf;
}

/* ---- standard error ---- */

int
extpred_stderr_take(struct extpred_stderr *e, size_t len)
{
	if (e->lines < EXTPRED_STDERR_LINES && e->bytes + len <= EXTPRED_STDERR_BYTES) {
		e->lines++;
		e->bytes += len;
		return 1;
	}
	e->dropped_lines++;
	e->dropped_bytes += len;
	return 0;
}

int
extpred_stderr_report(struct extpred_stderr *e, char *buf, size_t buflen)
{
	if (e->reported || e->dropped_lines == 0)
		return 0;
	e->reported = 1;
	snprintf(buf, buflen, "%zu more line%s (%zu bytes) of standard error not logged (at "
	    "most %d lines and %d bytes a run)", e->dropped_lines, e->dropped_lines == 1 ?
	    "" : "s", e->dropped_bytes, EXTPRED_STDERR_LINES, EXTPRED_STDERR_BYTES);
	return 1;
}

size_t
extpred_env_common(char **env, const struct config_topic *t, int64_t nonce)
{
	const char *v;
	size_t n = 0;

	v = getenv("PATH");
	env[n++] = xasprintf("PATH=%s", v != NULL && *v != '\0' ? v :
	    "/usr/local/bin:/usr/bin:/bin");
	v = getenv("HOME");
	env[n++] = xasprintf("HOME=%s", v != NULL && *v != '\0' ? v : "/");
	v = getenv("LANG");
	env[n++] = xasprintf("LANG=%s", v != NULL && *v != '\0' ? v : "C.UTF-8");
	env[n++] = xasprintf("TOPIC_ID=%u", t->id);
	env[n++] = xasprintf("NONCE=%lld", (long long)nonce);
	return n;
}

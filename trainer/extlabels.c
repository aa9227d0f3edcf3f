/*
 * Labelled values from an external predictor (issue 21): a program's output or a model
 * server's body {"labels": {"<label>": "<decimal>", ...}} -> the canonical text the
 * supervisor and the submitter take, {"<label>":"<decimal>",...} with the labels sorted and
 * every value in the chain's canonical form.  The label rules themselves are the
 * submitter's (submitter/labels.c); here only the shape and the decimals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dec.h"
#include "extpred.h"

int
extpred_parse_labels(const char *text, size_t len, char *out, size_t outlen, char *err,
    size_t errlen)
{
	json_t *j, *l, *v, *o;
	json_error_t je;
	const char *k;
	char canon[DEC_MAX_TEXT + 1], why[128], *s;
	size_t i = 0;
	int rc = -1;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i == len || text[i] != '{')
		return 0;
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return 0;	/* not JSON: the single-value rules explain it */
	if ((l = json_object_get(j, "labels")) == NULL) {
		json_decref(j);
		return 0;
	}
	if (!json_is_object(l) || json_object_size(l) == 0 || json_object_size(j) != 1) {
		snprintf(err, errlen, "labelled values must be {\"labels\": {\"<label>\": "
		    "\"<decimal>\", ...}} with at least one label and nothing else");
		json_decref(j);
		return -1;
	}
	o = json_object();
	json_object_foreach(l, k, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "label \"%.64s\": the value must be a decimal in a JSON "
			    "string", k);
			goto out;
		}
		if (dec_value(json_string_value(v), canon, sizeof(canon), why, sizeof(why)) == -1) {
			snprintf(err, errlen, "label \"%.64s\": \"%.64s\": %s", k,
			    json_string_value(v), why);
			goto out;
		}
		json_object_set_new(o, k, json_string(canon));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL || strlen(s) >= outlen)
		snprintf(err, errlen, "labelled values too long (%zu bytes, at most %zu)",
		    s ? strlen(s) : 0, outlen - 1);
	else {
		snprintf(out, outlen, "%s", s);
		rc = 1;
	}
	free(s);
out:
	json_decref(o);
	json_decref(j);
	return rc;
}

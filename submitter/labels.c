/* Labelled values: the chain's rules and the JSON object form (labels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "labels.h"
#include "util.h"

const char *
arity_name(int arity)
{
	return arity == ARITY_SINGLE ? "single" : arity == ARITY_MULTI ? "multi" :
	    "unspecified";
}

static int
by_label(const void *a, const void *b)
{
	return strcmp(((const struct tx_label *)a)->label, ((const struct tx_label *)b)->label);
}

int
labels_from_json(json_t *obj, int strict, struct tx_label **out, size_t *n, char *err,
    size_t errlen)
{
	const char *k;
	json_t *v;
	struct tx_label *l;
	size_t i = 0;
	char canon[DEC_MAX_TEXT + 1], why[128];

	*out = NULL;
	*n = 0;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "labelled values must be a JSON object {\"<label>\": "
		    "\"<decimal>\", ...}");
		return -1;
	}
	if (json_object_size(obj) > LABELS_MAX) {
		snprintf(err, errlen, "%zu labels: at most %d", json_object_size(obj), LABELS_MAX);
		return -1;
	}
	l = xcalloc(json_object_size(obj) + 1, sizeof(*l));
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "label \"%.64s\": the value must be a decimal in a JSON "
			    "string", k);
			goto bad;
		}
		if (dec_value(json_string_value(v), canon, sizeof(canon), why, sizeof(why)) == -1) {
			snprintf(err, errlen, "label \"%.64s\": value \"%.64s\": %s", k,
			    json_string_value(v), why);
			goto bad;
		}
		if (strict && strcmp(canon, json_string_value(v)) != 0) {
			snprintf(err, errlen, "label \"%.64s\": value \"%.64s\" is not in the chain's "
			    "canonical form (\"%s\")", k, json_string_value(v), canon);
			goto bad;
		}
		l[i].label = xstrdup(k);
		l[i].value = xstrdup(canon);
		i++;
	}
	qsort(l, i, sizeof(*l), by_label);
	*out = l;
	*n = i;
	return 0;
bad:
	labels_free(l, i);
	return -1;
}

int
labels_check(const struct tx_label *l, size_t n, int arity, uint32_t topic, char *err,
    size_t errlen)
{
	char canon[DEC_MAX_TEXT + 1], why[128];
	size_t i, j, k;

	if (n > LABELS_MAX)
		return snprintf(err, errlen, "%zu labels: at most %d", n, LABELS_MAX), -1;
	if (arity != ARITY_MULTI && n > 1)
		return snprintf(err, errlen, "topic %u takes a single value (output arity %s): %zu "
		    "labels, at most one", topic, arity_name(arity), n), -1;
	for (i = 0; i < n; i++) {
		if (l[i].label == NULL || l[i].label[0] == '\0')
			return snprintf(err, errlen, "label %zu is empty", i + 1), -1;
		if (strlen(l[i].label) > LABEL_MAX_LEN)
			return snprintf(err, errlen, "label \"%.64s...\" is longer than %d bytes",
			    l[i].label, LABEL_MAX_LEN), -1;
		for (k = 0; l[i].label[k] != '\0'; k++)
			if ((unsigned char)l[i].label[k] <= ' ' || (unsigned char)l[i].label[k] >= 0x7f)
				return snprintf(err, errlen, "label \"%s\": only printable ASCII "
				    "without blanks", l[i].label), -1;
		for (j = 0; j < i; j++)
			if (strcmp(l[i].label, l[j].label) == 0)
				return snprintf(err, errlen, "label \"%s\" appears twice", l[i].label),
				    -1;
		if (l[i].value == NULL || dec_value(l[i].value, canon, sizeof(canon), why,
		    sizeof(why)) == -1)
			return snprintf(err, errlen, "label \"%s\": value \"%s\": %s", l[i].label,
			    l[i].value ? l[i].value : "", l[i].value ? why : "missing"), -1;
		if (strcmp(canon, l[i].value) != 0)
			return snprintf(err, errlen, "label \"%s\": value \"%s\" is not in the chain's "
			    "canonical form (\"%s\")", l[i].label, l[i].value, canon), -1;
	}
	return 0;
}

json_t *
labels_to_json(const struct tx_label *l, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, l[i].label, json_string(l[i].value));
	return o;
}

void
labels_free(struct tx_label *l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(l[i].label);
		free(l[i].value);
	}
	free(l);
}

/*
 * The `shadow = MODEL[, MODEL...]` list of a topic (issue 19): its syntax in one place, for
 * the configuration check and for the trainer that runs the models.  What a model spec may
 * be is the same as for `model` (config_model_spec_ok).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define SHADOW_MAX	8	/* models per topic: each runs at every window */

int
config_model_spec_ok(const char *m)
{
	return strcmp(m, "default") == 0 || strcmp(m, "reference") == 0 ||
	    strcmp(m, "ridge") == 0 || strcmp(m, "xgboost") == 0 ||
	    strcmp(m, "momentum") == 0 ||
	    (strncmp(m, "exec:", 5) == 0 && m[5] == '/') ||
	    (strncmp(m, "http://", 7) == 0 && m[7] != '\0') ||
	    (strncmp(m, "https://", 8) == 0 && m[8] != '\0');
}

void
config_shadow_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

char **
config_shadow_split(const char *list, size_t *n, char *why, size_t whylen)
{
	char **v = xcalloc(SHADOW_MAX + 1, sizeof(*v));
	const char *p = list != NULL ? list : "", *e;
	size_t k = 0, i, len;

	*n = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return v;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(why, whylen, "an empty model in \"%s\" (write MODEL[, MODEL...])",
			    list);
			goto fail;
		}
		if (k == SHADOW_MAX) {
			snprintf(why, whylen, "more than %d models in \"%s\"", SHADOW_MAX, list);
			goto fail;
		}
		v[k] = xstrndup(p, len);
		if (!config_model_spec_ok(v[k])) {
			snprintf(why, whylen, "model \"%s\" is not one of default, reference, ridge, "
			    "xgboost, momentum, exec:/path/to/program, http(s)://URL", v[k]);
			goto fail;
		}
		for (i = 0; i < k; i++)
			if (strcmp(v[i], v[k]) == 0) {
				snprintf(why, whylen, "model \"%s\" is listed twice", v[k]);
				goto fail;
			}
		k++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	*n = k;
	return v;
fail:
	config_shadow_free(v);
	return NULL;
}

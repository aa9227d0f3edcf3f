/*
 * NewBlockEvents frames (PROTOCOL.md §3.1-3.2): result.data.value.events[] holds every event
 * of the block; attribute values are JSON-quoted strings ("\"67\"").  Everything is checked:
 * wrong types, missing fields, huge or negative numbers are skipped, never trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "events.h"

/* "\"67\"" or "67" -> 67; -1 when not a positive integer that fits. */
static int64_t
attr_int(const char *s)
{
	char buf[32], *end;
	size_t n;
	long long v;

	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	return v;
}

static int
is_window_event(const char *type)
{
	/* emissions.v<N>.EventWorkerSubmissionWindowOpened */
	const char *p;

	if (type == NULL || strncmp(type, "emissions.v", 11) != 0)
		return 0;
	p = strchr(type + 11, '.');
	return p != NULL && strcmp(p, ".EventWorkerSubmissionWindowOpened") == 0;
}

int
events_parse(const char *text, size_t len, struct window_ev *out, int max, int64_t *height,
    char *err, size_t errlen)
{
	json_t *doc, *val, *evs, *ev, *attrs, *a;
	json_error_t je;
	size_t i, k;
	int n = 0;
	const char *h;

	*height = -1;
	doc = json_loadb(text, len, 0, &je);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "not a JSON object: %s", doc ? "wrong type" : je.text);
		json_decref(doc);
		return -1;
	}
	val = json_object_get(json_object_get(json_object_get(doc, "result"), "data"), "value");
	if (!json_is_object(val)) {
		json_decref(doc);
		return 0;	/* an ack, an error reply or another event type */
	}
	h = json_string_value(json_object_get(val, "height"));
	if (h != NULL)
		*height = attr_int(h);
	evs = json_object_get(val, "events");
	if (!json_is_array(evs)) {
		json_decref(doc);
		return 0;
	}
	json_array_foreach(evs, i, ev) {
		int64_t topic = -1, nonce = -1, end = -1;

		if (!is_window_event(json_string_value(json_object_get(ev, "type"))))
			continue;
		attrs = json_object_get(ev, "attributes");
		if (!json_is_array(attrs))
			continue;
		json_array_foreach(attrs, k, a) {
			const char *key = json_string_value(json_object_get(a, "key"));
			const char *v = json_string_value(json_object_get(a, "value"));

			if (key == NULL)
				continue;
			if (strcmp(key, "topic_id") == 0)
				topic = attr_int(v);
			else if (strcmp(key, "nonce_block_height") == 0 || strcmp(key, "nonce") == 0)
				nonce = attr_int(v);
			else if (strcmp(key, "window_end_block") == 0)
				end = attr_int(v);
		}
		if (topic <= 0 || topic > UINT32_MAX || nonce <= 0 || n >= max)
			continue;
		out[n].topic = (uint32_t)topic;
		out[n].nonce = nonce;
		out[n].window_end = end > nonce ? end : -1;	/* an end before the nonce is nonsense */
		n++;
	}
	json_decref(doc);
	return n;
}

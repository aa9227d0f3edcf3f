/*
 * Score events in NewBlockEvents frames (see scores.h).  Typed events (EmitTypedEvent) carry
 * each field as an attribute whose value is the field's JSON: "\"67\"" for a uint64,
 * "[\"allo1…\"]" for repeated strings, "[true,false]" for repeated bools, and the enum
 * actor_type by name.  Everything is checked; a malformed event is skipped, never trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scores.h"
#include "scoreq.h"
#include "util.h"

/* emissions.v<N>.<name> */
static int
is_event(const char *type, const char *name)
{
	const char *p;

	if (type == NULL || strncmp(type, "emissions.v", 11) != 0)
		return 0;
	p = strchr(type + 11, '.');
	return p != NULL && strcmp(p + 1, name) == 0;
}

/* An attribute's value as JSON (a bare word stays a string). */
static json_t *
attr_json(const char *v)
{
	json_t *j;

	if (v == NULL)
		return NULL;
	j = json_loads(v, JSON_DECODE_ANY, NULL);
	return j != NULL ? j : json_string(v);
}

/* A positive integer from "\"67\"", "67" or 67; -1 otherwise. */
static int64_t
jint(json_t *j)
{
	const char *s;
	char *end;
	long long v;

	if (json_is_integer(j))
		return json_integer_value(j) > 0 ? json_integer_value(j) : -1;
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

static int
inferer_actor(json_t *a)
{
	/* Absent or 0 / ACTOR_TYPE_INFERER_UNSPECIFIED: inferers. */
	if (a == NULL || json_is_null(a))
		return 1;
	if (json_is_integer(a))
		return json_integer_value(a) == 0;
	if (json_is_string(a))
		return strcmp(json_string_value(a), "ACTOR_TYPE_INFERER_UNSPECIFIED") == 0 ||
		    strcmp(json_string_value(a), "0") == 0;
	return 0;
}

static int
all_strings(json_t *a)
{
	size_t i;
	json_t *x;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, x)
		if (!json_is_string(x))
			return 0;
	return 1;
}

static void
set_bad(char *bad, size_t badlen, const char *fmt, const char *what, const char *detail)
{
	if (bad[0] == '\0')
		snprintf(bad, badlen, fmt, what, detail);
}

/* One event's attributes as an object key -> JSON value. */
static json_t *
attrs_of(json_t *ev)
{
	json_t *o = json_object(), *attrs = json_object_get(ev, "attributes"), *a;
	size_t i;

	json_array_foreach(attrs, i, a) {
		const char *k = json_string_value(json_object_get(a, "key"));
		json_t *v = attr_json(json_string_value(json_object_get(a, "value")));

		if (k != NULL && v != NULL)
			json_object_set_new(o, k, v);
		else
			json_decref(v);
	}
	return o;
}

static int
ema_event(json_t *at, scorev_ours_fn ours, json_t *out, char *bad, size_t badlen)
{
	json_t *addrs = json_object_get(at, "addresses"), *scores = json_object_get(at, "scores");
	json_t *act = json_object_get(at, "is_active");
	int64_t topic = jint(json_object_get(at, "topic_id"));
	int64_t nonce = jint(json_object_get(at, "nonce"));
	size_t n, i, j;
	double *v;
	int has_act, n_out = 0;
	char err[160];
	const char *lowest = NULL;
	double lowv = 0;
	long active_count = 0;

	if (!inferer_actor(json_object_get(at, "actor_type")))
		return 0;
	if (topic <= 0 || topic > UINT32_MAX || nonce <= 0 || !all_strings(addrs) ||
	    !all_strings(scores) || json_array_size(addrs) != json_array_size(scores)) {
		set_bad(bad, badlen, "%s: %s", "EventEMAScoresSet", "missing or mismatched fields");
		return 0;
	}
	n = json_array_size(addrs);
	has_act = json_is_array(act) && json_array_size(act) == n;
	if (has_act)
		for (i = 0; i < n; i++)
			if (!json_is_boolean(json_array_get(act, i)))
				has_act = 0;
	v = xcalloc(n + 1, sizeof(double));
	for (i = 0; i < n; i++) {
		json_t *d = scoreq_dec(json_string_value(json_array_get(scores, i)), err,
		    sizeof(err));

		if (d == NULL || parse_double(json_string_value(d), &v[i]) == -1) {
			json_decref(d);
			free(v);
			set_bad(bad, badlen, "%s: %s", "EventEMAScoresSet", err);
			return 0;
		}
		json_decref(d);
		if (has_act && json_is_true(json_array_get(act, i))) {
			active_count++;
			if (lowest == NULL || v[i] < lowv) {
				lowest = json_string_value(json_array_get(scores, i));
				lowv = v[i];
			}
		}
	}
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(addrs, i));
		long rank = 1;

		if (!ours((uint32_t)topic, a))
			continue;
		for (j = 0; j < n; j++)
			if (j != i && v[j] > v[i])
				rank++;
		json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:I, s:s, s:o, s:i, s:i,"
		    " s:o, s:o}", "kind", "ema", "topic", (json_int_t)topic, "address", a, "nonce",
		    (json_int_t)nonce, "ema", json_string_value(json_array_get(scores, i)),
		    "active", has_act ? json_boolean(json_is_true(json_array_get(act, i))) :
		    json_null(), "rank", (int)rank, "count", (int)n, "active_count", has_act ?
		    json_integer(active_count) : json_null(), "lowest_active_ema", lowest ?
		    json_string(lowest) : json_null()));
		n_out++;
	}
	free(v);
	return n_out;
}

static int
reward_event(json_t *at, scorev_ours_fn ours, json_t *out, char *bad, size_t badlen)
{
	json_t *addrs = json_object_get(at, "addresses"), *rw = json_object_get(at, "rewards");
	int64_t topic = jint(json_object_get(at, "topic_id"));
	int64_t nonce = jint(json_object_get(at, "block_height"));
	int64_t tx = jint(json_object_get(at, "block_height_tx"));
	size_t i;
	int n_out = 0;
	char err[160];

	if (!inferer_actor(json_object_get(at, "actor_type")))
		return 0;
	if (topic <= 0 || topic > UINT32_MAX || nonce <= 0 || !all_strings(addrs) ||
	    !all_strings(rw) || json_array_size(addrs) != json_array_size(rw)) {
		set_bad(bad, badlen, "%s: %s", "EventRewardsSettled", "missing or mismatched fields");
		return 0;
	}
	for (i = 0; i < json_array_size(addrs); i++) {
		const char *a = json_string_value(json_array_get(addrs, i));
		const char *r = json_string_value(json_array_get(rw, i));
		json_t *d;

		if (!ours((uint32_t)topic, a))
			continue;
		if ((d = scoreq_dec(r, err, sizeof(err))) == NULL) {
			set_bad(bad, badlen, "%s: %s", "EventRewardsSettled", err);
			continue;
		}
		json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:I, s:o, s:o}", "kind",
		    "reward", "topic", (json_int_t)topic, "address", a, "nonce", (json_int_t)nonce,
		    "reward", d, "height", tx > 0 ? json_integer(tx) : json_null()));
		n_out++;
	}
	return n_out;
}

/* EventActiveInferersSet names the active set: each watched address of the topic is in it
 * or not. */
static int
active_event(json_t *at, scorev_ours_fn ours, json_t *watched, json_t *out, char *bad,
    size_t badlen)
{
	json_t *addrs = json_object_get(at, "addresses"), *w;
	int64_t topic = jint(json_object_get(at, "topic_id"));
	int64_t nonce = jint(json_object_get(at, "nonce_block_height"));
	size_t i, j;
	int n_out = 0;

	if (topic <= 0 || topic > UINT32_MAX || nonce <= 0 || !all_strings(addrs)) {
		set_bad(bad, badlen, "%s: %s", "EventActiveInferersSet",
		    "missing or mismatched fields");
		return 0;
	}
	json_array_foreach(watched, i, w) {
		const char *a = json_string_value(w);
		int in = 0;

		if (!ours((uint32_t)topic, a))
			continue;
		for (j = 0; j < json_array_size(addrs); j++)
			if (strcmp(json_string_value(json_array_get(addrs, j)), a) == 0)
				in = 1;
		json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:I, s:b, s:i}", "kind",
		    "active_set", "topic", (json_int_t)topic, "address", a, "nonce",
		    (json_int_t)nonce, "active", in, "active_count", (int)json_array_size(addrs)));
		n_out++;
	}
	return n_out;
}

/* Every address we watch (EventActiveInferersSet tells each whether it is in the set). */
static json_t *scorev_watched;

void
scorev_set_watched(json_t *addrs)
{
	json_decref(scorev_watched);
	scorev_watched = json_incref(addrs);
}

int
scorev_parse(const char *text, size_t len, scorev_ours_fn ours, json_t *out, char *bad,
    size_t badlen)
{
	json_t *doc, *evs, *ev, *at;
	size_t i;
	int n = 0;

	bad[0] = '\0';
	doc = json_loadb(text, len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return -1;
	}
	evs = json_object_get(json_object_get(json_object_get(json_object_get(doc, "result"),
	    "data"), "value"), "events");
	json_array_foreach(evs, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));

		if (!is_event(type, "EventEMAScoresSet") && !is_event(type, "EventRewardsSettled") &&
		    !is_event(type, "EventActiveInferersSet"))
			continue;
		if (!json_is_array(json_object_get(ev, "attributes"))) {
			set_bad(bad, badlen, "%s: %s", type, "no attributes");
			continue;
		}
		at = attrs_of(ev);
		if (is_event(type, "EventEMAScoresSet"))
			n += ema_event(at, ours, out, bad, badlen);
		else if (is_event(type, "EventRewardsSettled"))
			n += reward_event(at, ours, out, bad, badlen);
		else if (scorev_watched != NULL)
			n += active_event(at, ours, scorev_watched, out, bad, badlen);
		json_decref(at);
	}
	json_decref(doc);
	return n;
}

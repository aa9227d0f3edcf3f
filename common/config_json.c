/*
 * The configuration's JSON form (config.h): what the supervisor sends the children in the
 * CONFIG frame, one member a key of the table, and its reading back.  Never a secret (only
 * the names of the files or variables that hold them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config_int.h"
#include "util.h"

static void
obj_to_json(json_t *o, enum sect s, const void *obj)
{
	const char *base = obj;
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const struct kdef *k = &keys[i];
		const char *sv;

		if (k->sect != s)
			continue;
		switch (k->type) {
		case K_STR:
		case K_PATH:
			sv = *(char *const *)(base + k->off);
			json_object_set_new(o, k->name, sv ? json_string(sv) : json_null());
			break;
		case K_LONG:
			json_object_set_new(o, k->name,
			    json_integer(*(const long *)(base + k->off)));
			break;
		case K_DBL:
		case K_TIME:
			json_object_set_new(o, k->name, json_real(*(const double *)(base + k->off)));
			break;
		case K_LIST: {
			char *const *l = *(char **const *)(base + k->off);
			size_t n = *(const size_t *)(base + k->off + sizeof(char **));
			json_t *a = json_array();

			for (j = 0; j < n; j++)
				json_array_append_new(a, json_string(l[j]));
			json_object_set_new(o, k->name, a);
			break;
		}
		}
	}
}

json_t *
config_to_json(const struct config *c)
{
	json_t *o = json_object(), *ws = json_array(), *ts = json_array(), *x;
	size_t i;

	obj_to_json(o, S_GLOBAL, c);
	obj_to_json(o, S_CHAIN, c);
	json_object_set_new(o, "path", c->path ? json_string(c->path) : json_null());
	json_object_set_new(o, "env_path", c->env_path ? json_string(c->env_path) : json_null());
	json_object_set_new(o, "debug", json_boolean(c->debug));
	json_object_set_new(o, "foreground", json_boolean(c->foreground));
	json_object_set_new(o, "dry_run", json_boolean(c->dry_run));
	for (i = 0; i < c->nwallets; i++) {
		x = json_object();
		json_object_set_new(x, "name", json_string(c->wallets[i].name));
		obj_to_json(x, S_WALLET, &c->wallets[i]);
		json_array_append_new(ws, x);
	}
	for (i = 0; i < c->ntopics; i++) {
		x = json_object();
		json_object_set_new(x, "id", json_integer(c->topics[i].id));
		obj_to_json(x, S_TOPIC, &c->topics[i]);
		json_array_append_new(ts, x);
	}
	json_object_set_new(o, "wallets", ws);
	json_object_set_new(o, "topics", ts);
	return o;
}

static int
obj_from_json(const json_t *o, enum sect s, void *obj, char *err, size_t errlen)
{
	char *base = obj;
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const struct kdef *k = &keys[i];
		json_t *v = json_object_get(o, k->name);

		if (k->sect != s)
			continue;
		switch (k->type) {
		case K_STR:
		case K_PATH:
			if (json_is_null(v) || v == NULL)
				break;
			if (!json_is_string(v))
				goto bad;
			free(*(char **)(base + k->off));
			*(char **)(base + k->off) = xstrdup(json_string_value(v));
			break;
		case K_LONG:
			if (!json_is_integer(v))
				goto bad;
			*(long *)(base + k->off) = (long)json_integer_value(v);
			break;
		case K_DBL:
		case K_TIME:
			if (!json_is_number(v))
				goto bad;
			*(double *)(base + k->off) = json_number_value(v);
			break;
		case K_LIST: {
			char ***lp = (char ***)(base + k->off);
			size_t *np = (size_t *)(base + k->off + sizeof(char **));

			if (!json_is_array(v) || json_array_size(v) == 0)
				goto bad;
			free_list(*lp, *np);
			*np = json_array_size(v);
			*lp = xcalloc(*np, sizeof(char *));
			for (j = 0; j < *np; j++) {
				const char *sv = json_string_value(json_array_get(v, j));

				(*lp)[j] = xstrdup(sv ? sv : "");
			}
			break;
		}
		}
		continue;
bad:
		snprintf(err, errlen, "key %s: missing or of the wrong type", k->name);
		return -1;
	}
	return 0;
}

struct config *
config_from_json(const json_t *o, char *err, size_t errlen)
{
	struct config *c;
	json_t *a, *x;
	size_t i;
	const char *s;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "configuration is not an object");
		return NULL;
	}
	c = config_new();
	if (obj_from_json(o, S_GLOBAL, c, err, errlen) == -1 ||
	    obj_from_json(o, S_CHAIN, c, err, errlen) == -1)
		goto fail;
	if ((s = json_string_value(json_object_get(o, "path"))) != NULL)
		c->path = xstrdup(s);
	if ((s = json_string_value(json_object_get(o, "env_path"))) != NULL)
		c->env_path = xstrdup(s);
	c->debug = json_is_true(json_object_get(o, "debug"));
	c->foreground = json_is_true(json_object_get(o, "foreground"));
	c->dry_run = json_is_true(json_object_get(o, "dry_run"));
	a = json_object_get(o, "wallets");
	if (!json_is_array(a))
		goto missing;
	json_array_foreach(a, i, x) {
		s = json_string_value(json_object_get(x, "name"));
		if (s == NULL)
			goto missing;
		if (obj_from_json(x, S_WALLET, add_wallet(c, s, 0), err, errlen) == -1)
			goto fail;
	}
	a = json_object_get(o, "topics");
	if (!json_is_array(a))
		goto missing;
	json_array_foreach(a, i, x) {
		json_t *id = json_object_get(x, "id");

		if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
		    json_integer_value(id) > UINT32_MAX)
			goto missing;
		if (obj_from_json(x, S_TOPIC, add_topic(c, (uint32_t)json_integer_value(id), 0),
		    err, errlen) == -1)
			goto fail;
	}
	if (c->instance == NULL || c->state_dir == NULL || c->run_dir == NULL)
		goto missing;
	return c;
missing:
	snprintf(err, errlen, "configuration object is incomplete");
fail:
	config_free(c);
	return NULL;
}


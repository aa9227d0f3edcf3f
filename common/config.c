/*
 * Configuration parsing: one table of keys drives the INI parser, the defaults, and the
 * JSON form sent to the children.  This file owns the table and the parsing: one value's
 * syntax (set_key), the INI reader and handler, the .env reader, config_load, freeing and
 * the lookups.  The checks that need the whole file, the defaults and the network presets
 * are in config_check.c; the JSON form in config_json.c (config_int.h: what they share).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "config_int.h"
#include "dec.h"
#include "util.h"

#define G(f)	offsetof(struct config, f)
#define W(f)	offsetof(struct config_wallet, f)
#define T(f)	offsetof(struct config_topic, f)
#define BIG	1e15

const struct kdef config_keys[] = {
	{ S_GLOBAL, "instance", K_STR, G(instance), NULL, 0, 0, NULL },
	{ S_GLOBAL, "state_dir", K_PATH, G(state_dir), NULL, 0, 0, NULL },
	{ S_GLOBAL, "run_dir", K_PATH, G(run_dir), NULL, 0, 0, NULL },
	{ S_GLOBAL, "log_level", K_STR, G(log_level), "info", 0, 0, "info|debug" },
	{ S_GLOBAL, "metrics_listen", K_STR, G(metrics_listen), "127.0.0.1:9464", 0, 0, NULL },
	{ S_GLOBAL, "env_file", K_PATH, G(env_file), NULL, 0, 0, NULL },
	{ S_GLOBAL, "restart_backoff_min_ms", K_LONG, G(restart_backoff_min_ms), "100", 1, 3600000, NULL },
	{ S_GLOBAL, "restart_backoff_max_ms", K_LONG, G(restart_backoff_max_ms), "30000", 1, 86400000, NULL },
	{ S_GLOBAL, "restart_limit", K_LONG, G(restart_limit), "10", 1, 1000000, NULL },
	{ S_GLOBAL, "heartbeat_ms", K_LONG, G(heartbeat_ms), "1000", 10, 3600000, NULL },
	{ S_GLOBAL, "stop_timeout_ms", K_LONG, G(stop_timeout_ms), "5000", 10, 600000, NULL },
	{ S_GLOBAL, "predictor_user", K_STR, G(predictor_user), NULL, 0, 0, NULL },

	{ S_CHAIN, "chain_id", K_STR, G(chain_id), "allora-testnet-1", 0, 0, NULL },
	{ S_CHAIN, "rpc", K_LIST, G(rpc), "https://allora-rpc.testnet.allora.network", 0, 0, NULL },
	{ S_CHAIN, "websocket", K_STR, G(websocket), NULL, 0, 0, NULL },
	{ S_CHAIN, "emissions", K_STR, G(emissions), "auto", 0, 0, "auto|v9|v10" },
	{ S_CHAIN, "polling_interval", K_LONG, G(polling_interval), "120", 1, 86400, NULL },
	{ S_CHAIN, "gas_price", K_STR, G(gas_price), "auto", 0, 0, NULL },
	{ S_CHAIN, "gas_adjustment", K_DBL, G(gas_adjustment), "1.2", 1, 10, NULL },
	{ S_CHAIN, "gas_limit", K_LONG, G(gas_limit), "0", 0, 100000000, NULL },
	{ S_CHAIN, "max_fee", K_LONG, G(max_fee), "10000000000000000", 0, 9e18, NULL },
	{ S_CHAIN, "ws_silence_s", K_LONG, G(ws_silence_s), "30", 1, 86400, NULL },
	{ S_CHAIN, "request_timeout_ms", K_LONG, G(request_timeout_ms), "10000", 10, 600000, NULL },
	{ S_CHAIN, "network", K_STR, G(network), NULL, 0, 0, "testnet|mainnet" },
	{ S_CHAIN, "balance_warn_submissions", K_LONG, G(balance_warn_submissions), "24", 0, 1000000, NULL },

	{ S_CLUSTER, "etcd", K_LIST, G(etcd), NULL, 0, 0, NULL },
	{ S_CLUSTER, "prefix", K_STR, G(cluster_prefix), "allora-workerd", 0, 0, NULL },
	{ S_CLUSTER, "name", K_STR, G(cluster_name), NULL, 0, 0, NULL },
	{ S_CLUSTER, "lease_ttl_s", K_LONG, G(lease_ttl_s), "10", 2, 3600, NULL },
	{ S_CLUSTER, "ca_file", K_PATH, G(etcd_ca_file), NULL, 0, 0, NULL },
	{ S_CLUSTER, "cert_file", K_PATH, G(etcd_cert_file), NULL, 0, 0, NULL },
	{ S_CLUSTER, "key_file", K_PATH, G(etcd_key_file), NULL, 0, 0, NULL },

	{ S_WALLET, "mnemonic_file", K_PATH, W(mnemonic_file), NULL, 0, 0, NULL },
	{ S_WALLET, "mnemonic_env", K_STR, W(mnemonic_env), NULL, 0, 0, NULL },
	{ S_WALLET, "mnemonic_credential", K_STR, W(mnemonic_credential), NULL, 0, 0, NULL },
	{ S_WALLET, "hd_path", K_STR, W(hd_path), "m/44'/118'/0'/0/0", 0, 0, NULL },
	{ S_WALLET, "address", K_STR, W(expect_address), NULL, 0, 0, NULL },
	{ S_WALLET, "fee_granter", K_STR, W(fee_granter), NULL, 0, 0, NULL },

	{ S_TOPIC, "wallet", K_STR, T(wallet), NULL, 0, 0, NULL },
	{ S_TOPIC, "ticker", K_STR, T(ticker), "btcusd", 0, 0, NULL },
	{ S_TOPIC, "data_source", K_STR, T(data_source), "tiingo", 0, 0, NULL },
	{ S_TOPIC, "target_hours", K_LONG, T(target_hours), "168", 1, 8760, NULL },
	{ S_TOPIC, "train_span_hours", K_LONG, T(train_span_hours), "8760", 24, 200000, NULL },
	{ S_TOPIC, "min_train_hours", K_LONG, T(min_train_hours), "336", 24, 200000, NULL },
	{ S_TOPIC, "validation_span_hours", K_LONG, T(validation_span_hours), "168", 0, 200000, NULL },
	{ S_TOPIC, "purge_hours", K_LONG, T(purge_hours), "-1", -1, 200000, NULL },
	{ S_TOPIC, "cache_ttl", K_LONG, T(cache_ttl), "3600", 0, 31536000, NULL },
	{ S_TOPIC, "fallback", K_STR, T(fallback), "0.0", 0, 0, NULL },
	{ S_TOPIC, "model", K_STR, T(model), "default", 0, 0, NULL },
	{ S_TOPIC, "features", K_STR, T(features), "", 0, 0, "|b|reference" },
	{ S_TOPIC, "competition_start", K_TIME, T(competition_start), NULL, 0, 0, NULL },
	{ S_TOPIC, "competition_end", K_TIME, T(competition_end), NULL, 0, 0, NULL },
	{ S_TOPIC, "tiingo_key_file", K_PATH, T(tiingo_key_file), NULL, 0, 0, NULL },
	{ S_TOPIC, "tiingo_url", K_STR, T(tiingo_url), "https://api.tiingo.com", 0, 0, NULL },
	{ S_TOPIC, "data_url", K_STR, T(data_url), "", 0, 0, NULL },
	{ S_TOPIC, "stale_after_s", K_LONG, T(stale_after_s), "7200", 0, 31536000, NULL },
	{ S_TOPIC, "shrink", K_DBL, T(shrink), "-1", -1, 10, NULL },
	{ S_TOPIC, "clip_sigma", K_DBL, T(clip_sigma), "2", 0, 100, NULL },
	{ S_TOPIC, "predict_timeout_s", K_LONG, T(predict_timeout_s), "30", 1, 3600, NULL },
	{ S_TOPIC, "max_abs_value", K_DBL, T(max_abs_value), "0", 0, 1e40, NULL },
	{ S_TOPIC, "n_estimators", K_LONG, T(n_estimators), "0", 0, 100000, NULL },
	{ S_TOPIC, "max_depth", K_LONG, T(max_depth), "0", 0, 64, NULL },
	{ S_TOPIC, "learning_rate", K_DBL, T(learning_rate), "0", 0, 1, NULL },
	{ S_TOPIC, "subsample", K_DBL, T(subsample), "0", 0, 1, NULL },
	{ S_TOPIC, "ridge_lambda", K_DBL, T(ridge_lambda), "0", 0, BIG, NULL },
	{ S_TOPIC, "seed", K_LONG, T(seed), "42", 0, INT_MAX, NULL },
	{ S_TOPIC, "loss_method", K_STR, T(loss_method), "auto", 0, 0, "auto|mse|zptae|czar" },
	{ S_TOPIC, "objective", K_STR, T(objective), "mse", 0, 0, "mse|czar" },
	{ S_TOPIC, "czar_alpha", K_DBL, T(czar_alpha), "-1", -1, 1, NULL },
	{ S_TOPIC, "forecast", K_STR, T(forecast), "off", 0, 0, NULL },
	{ S_TOPIC, "shadow", K_STR, T(shadow), "", 0, 0, NULL },
};
const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_MAXKEYS,
    "struct parse: chain_set[CONFIG_MAXKEYS] holds a flag for every key");

static const char *sect_names[] = { "global", "chain", "wallet", "topic", "cluster" };

void
perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = 1;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* UTF-8 text without control characters (tabs allowed): what a value may hold. */
static int
text_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	int n, i;

	while (*u != '\0') {
		if (*u < 0x80) {
			if ((*u < 0x20 && *u != '\t') || *u == 0x7f)
				return 0;
			u++;
			continue;
		}
		if (*u >= 0xc2 && *u <= 0xdf)
			n = 1;
		else if (*u >= 0xe0 && *u <= 0xef)
			n = 2;
		else if (*u >= 0xf0 && *u <= 0xf4)
			n = 3;
		else
			return 0;
		if ((*u == 0xe0 && u[1] < 0xa0) || (*u == 0xed && u[1] > 0x9f) ||
		    (*u == 0xf0 && u[1] < 0x90) || (*u == 0xf4 && u[1] > 0x8f))
			return 0;	/* overlong, surrogate, past U+10FFFF */
		for (i = 1; i <= n; i++)
			if ((u[i] & 0xc0) != 0x80)
				return 0;
		u += n + 1;
	}
	return 1;
}

/* A plain decimal with at most 18 decimals (the chain's LegacyDec precision). */
static int
plain_decimal(const char *s)
{
	int nd = 0, frac = -1;

	for (; *s != '\0'; s++) {
		if (*s == '.' && frac < 0 && nd > 0)
			frac = 0;
		else if (isdigit((unsigned char)*s)) {
			nd++;
			if (frac >= 0 && ++frac > 18)
				return 0;
		} else
			return 0;
	}
	return nd > 0 && nd <= 36 && frac != 0;
}

/* The fee keys' own syntax (issue 20): NULL or the reason, in why. */
static const char *
fee_key_check(const struct kdef *k, const char *val, char *why, size_t whylen)
{
	size_t i;

	if (strcmp(k->name, "gas_price") == 0 && strcmp(val, "auto") != 0 &&
	    !plain_decimal(val)) {
		snprintf(why, whylen, "gas_price \"%s\" is neither auto nor a plain decimal "
		    "number of uallo per gas (at most 18 decimals)", val);
		return why;
	}
	if (strcmp(k->name, "fee_granter") == 0) {
		for (i = 0; val[i] != '\0'; i++)
			if (!islower((unsigned char)val[i]) && !isdigit((unsigned char)val[i]))
				break;
		if (strncmp(val, "allo1", 5) != 0 || val[i] != '\0' || i < 39 || i > 90) {
			snprintf(why, whylen, "fee_granter \"%s\" is not an allo1... address",
			    val);
			return why;
		}
	}
	return NULL;
}

/* Sets one key on obj from text; returns NULL or an error text (static). */
const char *
set_key(const struct kdef *k, void *obj, const char *val, const char *dir, char *why,
    size_t whylen)
{
	char *base = obj;
	long lv;
	double dv;

	if (!text_ok(val)) {
		snprintf(why, whylen, "%s: the value is not UTF-8 text (or holds control "
		    "characters)", k->name);
		return why;
	}

	if (fee_key_check(k, val, why, whylen) != NULL)
		return why;
	switch (k->type) {
	case K_STR:
		if (k->choices != NULL) {
			const char *c = k->choices;
			size_t vl = strlen(val);
			int ok = 0;

			while (c != NULL) {
				const char *bar = strchr(c, '|');
				size_t cl = bar ? (size_t)(bar - c) : strlen(c);

				if (cl == vl && strncmp(c, val, vl) == 0)
					ok = 1;
				c = bar ? bar + 1 : NULL;
			}
			if (!ok) {
				snprintf(why, whylen, "%s must be one of %s, not \"%s\"",
				    k->name, k->choices[0] == '|' ? k->choices + 1 : k->choices,
				    val);
				return why;
			}
		}
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(val);
		return NULL;
	case K_PATH:
		if (*val == '\0') {
			snprintf(why, whylen, "%s: empty path", k->name);
			return why;
		}
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = path_resolve(dir, val);
		return NULL;
	case K_LONG:
		if (parse_long(val, (long)k->min, (long)k->max, &lv) == -1) {
			snprintf(why, whylen, "%s: \"%s\" is not a whole number from %.0f to %.0f",
			    k->name, val, k->min, k->max);
			return why;
		}
		*(long *)(base + k->off) = lv;
		return NULL;
	case K_DBL:
		if (parse_double(val, &dv) == -1 || dv < k->min || dv > k->max) {
			snprintf(why, whylen, "%s: \"%s\" is not a number from %g to %g",
			    k->name, val, k->min, k->max);
			return why;
		}
		*(double *)(base + k->off) = dv;
		return NULL;
	case K_TIME:
		if (parse_iso8601(val, &dv) == -1) {
			snprintf(why, whylen, "%s: \"%s\" is not an ISO-8601 time "
			    "(2025-09-16T13:00:00Z)", k->name, val);
			return why;
		}
		*(double *)(base + k->off) = dv;
		return NULL;
	case K_LIST: {
		char ***lp = (char ***)(base + k->off);
		size_t *np = (size_t *)(base + k->off + sizeof(char **));
		char *copy = xstrdup(val), *tok, *save = NULL;
		char **l = NULL;
		size_t n = 0;

		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save)) {
			if (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0) {
				snprintf(why, whylen, "%s: \"%s\" is not an http:// or https:// URL",
				    k->name, tok);
				free(copy);
				free_list(l, n);
				return why;
			}
			l = xrealloc(l, (n + 1) * sizeof(*l));
			l[n++] = xstrdup(tok);
		}
		free(copy);
		if (n == 0) {
			snprintf(why, whylen, "%s: empty list", k->name);
			return why;
		}
		free_list(*lp, *np);
		*lp = l;
		*np = n;
		return NULL;
	}
	}
	return NULL;
}


struct config_wallet *
add_wallet(struct config *c, const char *name, int line)
{
	struct config_wallet *w;

	c->wallets = xrealloc(c->wallets, (c->nwallets + 1) * sizeof(*c->wallets));
	w = &c->wallets[c->nwallets++];
	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	w->line = line;
	apply_defaults(S_WALLET, w);
	return w;
}

struct config_topic *
add_topic(struct config *c, uint32_t id, int line)
{
	struct config_topic *t;

	c->topics = xrealloc(c->topics, (c->ntopics + 1) * sizeof(*c->topics));
	t = &c->topics[c->ntopics++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->line = line;
	apply_defaults(S_TOPIC, t);
	return t;
}

int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* Called by the reader at each "[...]" line: opens the section. */
static void
open_section(struct parse *p, const char *text)
{
	char name[128], arg[128];
	long id;
	size_t i;

	p->obj = NULL;
	memset(p->seen, 0, sizeof(p->seen));
	name[0] = arg[0] = '\0';
	if (sscanf(text, "%127s %127s", name, arg) < 1) {
		perr(p, p->line, "empty section name");
		return;
	}
	if (strcmp(name, "global") == 0 || strcmp(name, "chain") == 0) {
		int *seen = name[0] == 'g' ? &p->seen_global : &p->seen_chain;

		if (arg[0] != '\0') {
			perr(p, p->line, "[%s] takes no name", name);
			return;
		}
		if (*seen) {
			perr(p, p->line, "[%s] appears twice (first at line %d)", name, *seen);
			return;
		}
		*seen = p->line;
		p->sect = name[0] == 'g' ? S_GLOBAL : S_CHAIN;
		p->obj = p->c;
	} else if (strcmp(name, "wallet") == 0) {
		if (!valid_name(arg)) {
			perr(p, p->line, "[wallet NAME] needs a name of letters, digits, '-', '_' or '.'");
			return;
		}
		for (i = 0; i < p->c->nwallets; i++)
			if (strcmp(p->c->wallets[i].name, arg) == 0) {
				perr(p, p->line, "[wallet %s] appears twice (first at line %d)",
				    arg, p->c->wallets[i].line);
				return;
			}
		p->sect = S_WALLET;
		p->obj = add_wallet(p->c, arg, p->line);
	} else if (strcmp(name, "topic") == 0) {
		uint32_t tid;
		char why[128];

		switch (parse_topic_id(arg, &tid, why, sizeof(why))) {
		case -1:
			perr(p, p->line, "[topic ID] needs a topic number, not \"%s\"", arg);
			return;
		case -2:
			perr(p, p->line, "[topic %s]: %s", arg, why);
			return;
		}
		id = (long)tid;
		for (i = 0; i < p->c->ntopics; i++)
			if (p->c->topics[i].id == (uint32_t)id) {
				perr(p, p->line, "[topic %ld] appears twice (first at line %d)",
				    id, p->c->topics[i].line);
				return;
			}
		p->sect = S_TOPIC;
		p->obj = add_topic(p->c, (uint32_t)id, p->line);
	} else if (strcmp(name, "cluster") == 0) {
		if (config_cluster_open(p, arg) == -1)
			return;
		p->sect = S_CLUSTER;
		p->obj = p->c;
	} else
		perr(p, p->line, "unknown section [%s] (expected global, chain, wallet NAME, "
		    "topic ID or cluster)", text);
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s, *e;
	size_t len;

	if (fgets(str, num, p->fp) == NULL)
		return NULL;
	p->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->fp)) {
		perr(p, p->line, "line too long");
		return NULL;
	}
	for (s = str; isspace((unsigned char)*s); s++)
		;
	if (*s == '[') {
		char sect[256];

		e = strchr(s, ']');
		if (e == NULL) {
			perr(p, p->line, "section header without ']'");
			return str;
		}
		len = (size_t)(e - s - 1);
		if (len >= sizeof(sect))
			len = sizeof(sect) - 1;
		memcpy(sect, s + 1, len);
		sect[len] = '\0';
		open_section(p, sect);
	}
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct kdef *k = NULL;
	char why[512];
	const char *e;
	size_t i;

	if (p->failed)
		return 1;
	if (section[0] == '\0') {
		perr(p, p->line, "\"%s\" is outside any section (start with [global], [chain], "
		    "[wallet NAME] or [topic ID])", name);
		return 1;
	}
	if (p->obj == NULL)
		return 1;	/* the section header already failed */
	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == p->sect && strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL) {
		perr(p, p->line, "unknown key \"%s\" in [%s]", name, sect_names[p->sect]);
		return 1;
	}
	if (p->seen[p->sect][i % 64]) {
		perr(p, p->line, "\"%s\" is set twice in this section", name);
		return 1;
	}
	p->seen[p->sect][i % 64] = 1;
	if (p->sect == S_CHAIN)
		p->chain_set[i] = 1;
	e = set_key(k, p->obj, value, p->dir, why, sizeof(why));
	if (e != NULL)
		perr(p, p->line, "%s", e);
	else if (p->sect == S_CLUSTER)
		config_cluster_key(p, name);
	return 1;
}

const char *
config_find(const char *path)
{
	const char *env;

	if (path != NULL)
		return path;
	env = getenv("ALLORA_WORKER_CONF");
	if (env != NULL && *env != '\0')
		return env;
	if (access("allora-worker.conf", F_OK) == 0)
		return "allora-worker.conf";
	if (access("/etc/allora-worker/allora-worker.conf", F_OK) == 0)
		return "/etc/allora-worker/allora-worker.conf";
	return NULL;
}

static int dotenv_secrets = 1;

void
config_dotenv_secrets(int on)
{
	dotenv_secrets = on;
}

int
config_load_dotenv(const char *path, char *err, size_t errlen)
{
	/* Read with read(2) into one buffer that is wiped afterwards: the file may hold
	 * MNEMONIC, which must not linger in this process's memory. */
	size_t len;
	char *buf = read_file(path, 1 << 20, &len), *line, *next, *s, *eq, *k, *v, *end;
	int lineno = 0, rc = 0;

	if (buf == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected NAME=value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		k = s;
		for (end = eq - 1; end >= k && isspace((unsigned char)*end); end--)
			*end = '\0';
		v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if ((*v == '"' || *v == '\'') && end > v + 1 && end[-1] == *v) {
			end[-1] = '\0';
			v++;
		} else if ((s = strstr(v, " #")) != NULL) {
			*s = '\0';
			for (end = s; end > v && isspace((unsigned char)end[-1]); )
				*--end = '\0';
		}
		if (!valid_name(k)) {
			snprintf(err, errlen, "%s:%d: bad variable name", path, lineno);
			rc = -1;
			break;
		}
		if (!dotenv_secrets && strcasestr(k, "MNEMONIC") != NULL)
			continue;	/* alloractl: only its key child reads them */
		setenv(k, v, 0);	/* never overrides the environment */
	}
	secure_clear(buf, len);
	free(buf);
	return rc;
}

struct config *
config_load(const char *path, const struct config_overrides *ov, char *err, size_t errlen)
{
	struct parse p;
	struct config *c;
	struct stat st;
	char abs[PATH_MAX];
	int r;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = errlen;
	err[0] = '\0';
	path = config_find(path);
	c = config_new();
	p.c = c;
	if (path == NULL) {
		/* No configuration file: the Python worker's .env alone. */
		if (access(".env", F_OK) != 0) {
			snprintf(err, errlen, "no configuration: give -c FILE, set "
			    "ALLORA_WORKER_CONF, or create ./allora-worker.conf or "
			    "/etc/allora-worker/allora-worker.conf (or a .env with TOPIC_ID)");
			config_free(c);
			return NULL;
		}
		if (config_load_dotenv(".env", err, errlen) == -1) {
			config_free(c);
			return NULL;
		}
		c->env_path = realpath(".env", NULL);
		p.file = ".env";
		p.dir = getcwd(NULL, 0);
		finish(&p, ov);
		free(p.dir);
		if (p.failed) {
			config_free(c);
			return NULL;
		}
		return c;
	}
	p.file = path;
	p.fp = fopen(path, "r");
	if (p.fp == NULL || fstat(fileno(p.fp), &st) == -1) {
		snprintf(err, errlen, "%s:0: cannot read the configuration: %s", path,
		    strerror(errno));
		if (p.fp != NULL)
			fclose(p.fp);
		config_free(c);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s:0: is a directory, not a configuration file", path);
		fclose(p.fp);
		config_free(c);
		return NULL;
	}
	c->path = realpath(path, NULL);
	if (c->path == NULL)
		c->path = xstrdup(path);
	p.dir = path_dirname(c->path);
	ini_use_stack = false;
	ini_max_line = 8192;
	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.fp);
	if (r != 0 && !p.failed) {
		if (r == -2)
			snprintf(err, errlen, "%s:0: out of memory", path);
		else
			perr(&p, r > 0 ? r : p.line, "syntax error (expected [section], "
			    "key = value, or a ; or # comment)");
		p.failed = 1;
	}
	if (!p.failed && c->env_file != NULL) {
		if (config_load_dotenv(c->env_file, err, errlen) == -1)
			p.failed = 1;
		else
			c->env_path = xstrdup(c->env_file);
	}
	(void)abs;
	if (!p.failed)
		finish(&p, ov);
	if (!p.failed)
		config_cluster_finish(&p);
	free(p.dir);
	if (p.failed) {
		config_free(c);
		return NULL;
	}
	return c;
}

static void
free_obj(enum sect s, void *obj)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].sect != s)
			continue;
		if (keys[i].type == K_STR || keys[i].type == K_PATH)
			free(*(char **)((char *)obj + keys[i].off));
		else if (keys[i].type == K_LIST) {
			char ***lp = (char ***)((char *)obj + keys[i].off);
			size_t *np = (size_t *)((char *)obj + keys[i].off + sizeof(char **));

			free_list(*lp, *np);
		}
	}
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free_obj(S_GLOBAL, c);
	free_obj(S_CHAIN, c);
	free_obj(S_CLUSTER, c);
	for (i = 0; i < c->nwallets; i++) {
		free_obj(S_WALLET, &c->wallets[i]);
		free(c->wallets[i].name);
	}
	for (i = 0; i < c->ntopics; i++)
		free_obj(S_TOPIC, &c->topics[i]);
	free(c->wallets);
	free(c->topics);
	free(c->path);
	free(c->env_path);
	free(c);
}

const struct config_topic *
config_topic(const struct config *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->ntopics; i++)
		if (c->topics[i].id == id)
			return &c->topics[i];
	return NULL;
}

const struct config_wallet *
config_wallet(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nwallets; i++)
		if (strcmp(c->wallets[i].name, name) == 0)
			return &c->wallets[i];
	return NULL;
}


/*
 * Configuration validation and defaults (config_int.h): the keys' defaults, the default
 * state and run directories, the network presets, the checks that need the whole file
 * (finish: wallets, topics, instance, directories, the command-line overrides) and the
 * [cluster] section's checks.  Parsing is config.c's; the JSON form config_json.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "dec.h"
#include "util.h"

void
apply_defaults(enum sect s, void *obj)
{
	char why[256];
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == s && keys[i].def != NULL)
			set_key(&keys[i], obj, keys[i].def, NULL, why, sizeof(why));
}

/* The home directory: $HOME if absolute, else the password database's. */
static const char *
home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home == '/')
		return home;
	pw = getpwuid(geteuid());
	return pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

char *
config_default_state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = home_dir();

	if (geteuid() == 0)
		return xstrdup("/var/lib/allora-worker");
	if (x != NULL && *x == '/')
		return xasprintf("%s/allora-worker", x);
	if (home != NULL)
		return xasprintf("%s/.local/state/allora-worker", home);
	/* Never a predictable name in a world-writable directory: relative to the current
	 * directory, whose safety safe_dir checks. */
	return xstrdup("allora-worker-state");
}

/*
 * run_dir when not configured (allora-workerd(8), FILES): /run/allora-worker as root, else
 * $XDG_RUNTIME_DIR/allora-worker, else /run/user/<uid>/allora-worker when that directory
 * exists and is ours (mode 0700: pam_systemd's, when XDG_RUNTIME_DIR was lost by su or
 * sudo), else NULL: the caller then uses state_dir/run.  Never a predictable directory in
 * the system's temporary folder.
 */
char *
config_default_run_dir(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	char *u;
	struct stat st;

	if (geteuid() == 0)
		return xstrdup("/run/allora-worker");
	if (x != NULL && *x == '/')
		return xasprintf("%s/allora-worker", x);
	u = xasprintf("/run/user/%ld", (long)geteuid());
	if (lstat(u, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	    (st.st_mode & 077) == 0) {
		char *r = xasprintf("%s/allora-worker", u);

		free(u);
		return r;
	}
	free(u);
	return NULL;
}

static char *
instance_from_path(const char *path)
{
	const char *b = strrchr(path, '/');
	char *s, *dot;

	s = xstrdup(b ? b + 1 : path);
	dot = strrchr(s, '.');
	if (dot != NULL && dot != s)
		*dot = '\0';
	return s;
}

/*
 * network = testnet | mainnet: the public endpoints, chain id and emissions version of that
 * network (README "Networks"), for each of these keys the file does not set itself.  The
 * public websocket only when rpc is not set either (one's own node gets its own websocket).
 */
static const struct {
	const char	*name, *chain_id, *rpc, *websocket, *emissions;
} networks[] = {
	{ "testnet", "allora-testnet-1", "https://allora-rpc.testnet.allora.network",
	    "wss://allora-rpc.testnet.allora.network/websocket", "v10" },
	{ "mainnet", "allora-mainnet-1", "https://allora-rpc.mainnet.allora.network",
	    "wss://allora-rpc.mainnet.allora.network/websocket", "v9" },
};

static int
chain_key_set(const struct parse *p, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == S_CHAIN && strcmp(keys[i].name, name) == 0)
			return p->chain_set[i];
	return 0;
}

static void
preset_key(struct parse *p, const char *name, const char *val)
{
	char why[256];
	size_t i;

	if (chain_key_set(p, name))
		return;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == S_CHAIN && strcmp(keys[i].name, name) == 0)
			set_key(&keys[i], p->c, val, NULL, why, sizeof(why));
}

static int
apply_network(struct parse *p)
{
	size_t i;

	if (p->c->network == NULL)
		return 0;
	for (i = 0; i < sizeof(networks) / sizeof(networks[0]); i++)
		if (strcmp(networks[i].name, p->c->network) == 0)
			break;
	if (i == sizeof(networks) / sizeof(networks[0]))
		return 0;	/* the key's choices already refused it */
	preset_key(p, "chain_id", networks[i].chain_id);
	if (!chain_key_set(p, "rpc")) {
		preset_key(p, "rpc", networks[i].rpc);
		preset_key(p, "websocket", networks[i].websocket);
	}
	preset_key(p, "emissions", networks[i].emissions);
	return 0;
}

/* Checks that need the whole file; line is the end of the file for missing sections. */
void
finish(struct parse *p, const struct config_overrides *ov)
{
	struct config *c = p->c;
	const char *env;
	size_t i, j;
	long id;

	/* .env compatibility: TOPIC_ID serves that topic with defaults. */
	env = getenv("TOPIC_ID");
	if (c->ntopics == 0 && env != NULL && *env != '\0') {
		uint32_t tid;
		char why[128];

		if (parse_topic_id(env, &tid, why, sizeof(why)) != 0) {
			perr(p, p->line, "TOPIC_ID=\"%s\": %s", env, why);
			return;
		}
		id = (long)tid;
		add_topic(c, (uint32_t)id, 0);
	}
	if (c->ntopics == 0) {
		perr(p, p->line + 1, "no [topic ID] section (and TOPIC_ID is not set): "
		    "nothing to serve");
		return;
	}
	if (p->c->path == NULL) {
		env = getenv("ALLORA_RPC");
		if (env != NULL && *env != '\0') {
			char why[512];

			for (i = 0; i < NKEYS; i++)
				if (strcmp(keys[i].name, "rpc") == 0 &&
				    set_key(&keys[i], c, env, NULL, why, sizeof(why)) != NULL) {
					perr(p, 0, "ALLORA_RPC: %s", why);
					return;
				}
		}
		env = getenv("ALLORA_CHAIN_ID");
		if (env != NULL && *env != '\0') {
			free(c->chain_id);
			c->chain_id = xstrdup(env);
		}
	}
	if (apply_network(p) == -1)
		return;
	/* Wallets: an implicit one reading MNEMONIC when none is configured. */
	if (c->nwallets == 0) {
		struct config_wallet *w = add_wallet(c, "default", 0);

		w->mnemonic_env = xstrdup("MNEMONIC");
	}
	for (i = 0; i < c->nwallets; i++) {
		struct config_wallet *w = &c->wallets[i];

		if ((w->mnemonic_file != NULL) + (w->mnemonic_env != NULL) +
		    (w->mnemonic_credential != NULL) != 1) {
			perr(p, w->line, "[wallet %s] needs exactly one of mnemonic_file, "
			    "mnemonic_env and mnemonic_credential", w->name);
			return;
		}
		if (w->mnemonic_credential != NULL) {
			/* systemd LoadCredential=: the file is in $CREDENTIALS_DIRECTORY. */
			const char *cd = getenv("CREDENTIALS_DIRECTORY");

			if (strchr(w->mnemonic_credential, '/') != NULL) {
				perr(p, w->line, "[wallet %s] mnemonic_credential is a name, not a "
				    "path", w->name);
				return;
			}
			if (cd == NULL || *cd != '/') {
				perr(p, w->line, "[wallet %s] mnemonic_credential = %s, but "
				    "CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)",
				    w->name, w->mnemonic_credential);
				return;
			}
			w->mnemonic_file = xasprintf("%s/%s", cd, w->mnemonic_credential);
		}
		if (strncmp(w->hd_path, "m/", 2) != 0 && strcmp(w->hd_path, "m") != 0) {
			perr(p, w->line, "[wallet %s] hd_path \"%s\" must start with m/",
			    w->name, w->hd_path);
			return;
		}
		env = getenv("ALLORA_WALLET_ADDR");
		if (w->expect_address == NULL && env != NULL && *env != '\0' &&
		    (c->nwallets == 1 || (w->mnemonic_env != NULL &&
		    strcmp(w->mnemonic_env, "MNEMONIC") == 0)))
			w->expect_address = xstrdup(env);
	}
	for (i = 0; i < c->ntopics; i++) {
		struct config_topic *t = &c->topics[i];
		const char *m = t->model, *ds = t->data_source;

		if (t->wallet == NULL) {
			if (c->nwallets != 1) {
				perr(p, t->line, "[topic %u] needs \"wallet =\" (there are %zu wallets)",
				    t->id, c->nwallets);
				return;
			}
			t->wallet = xstrdup(c->wallets[0].name);
		}
		for (j = 0; j < c->nwallets; j++)
			if (strcmp(c->wallets[j].name, t->wallet) == 0)
				break;
		if (j == c->nwallets) {
			perr(p, t->line, "[topic %u] names wallet \"%s\", but there is no "
			    "[wallet %s] section", t->id, t->wallet, t->wallet);
			return;
		}
		if (!(strcmp(m, "default") == 0 || strcmp(m, "reference") == 0 ||
		    strcmp(m, "ridge") == 0 || strcmp(m, "xgboost") == 0 ||
		    strcmp(m, "momentum") == 0 ||
		    (strncmp(m, "exec:", 5) == 0 && m[5] == '/') ||
		    strncmp(m, "http://", 7) == 0 || strncmp(m, "https://", 8) == 0)) {
			perr(p, t->line, "[topic %u] model \"%s\" is not one of default, reference, "
			    "ridge, xgboost, momentum, exec:/path/to/program, http(s)://URL", t->id,
			    m);
			return;
		}
		if (!(strcmp(t->forecast, "off") == 0 || strcmp(t->forecast, "builtin") == 0 ||
		    (strncmp(t->forecast, "exec:", 5) == 0 && t->forecast[5] == '/') ||
		    strncmp(t->forecast, "http://", 7) == 0 ||
		    strncmp(t->forecast, "https://", 8) == 0)) {
			perr(p, t->line, "[topic %u] forecast \"%s\" is not one of off, builtin, "
			    "exec:/path/to/program, http(s)://URL", t->id, t->forecast);
			return;
		}
		{
			char why[300], **sh;
			size_t nsh;

			/* Each shadow model as `model` accepts it (common/shadowspec.c). */
			if ((sh = config_shadow_split(t->shadow, &nsh, why, sizeof(why))) == NULL) {
				perr(p, t->line, "[topic %u] shadow: %s", t->id, why);
				return;
			}
			config_shadow_free(sh);
		}
		if (strcmp(ds, "tiingo") == 0 || strcmp(ds, "coinbase") == 0 ||
		    strcmp(ds, "binance") == 0)
			;
		else if (strncmp(ds, "csv:", 4) == 0 && ds[4] != '\0') {
			char *abs = path_resolve(p->dir, ds + 4);

			free(t->data_source);
			t->data_source = xasprintf("csv:%s", abs);
			free(abs);
		} else {
			perr(p, t->line, "[topic %u] data_source \"%s\" is not one of tiingo, "
			    "coinbase, binance, csv:/path/to/file.csv", t->id, ds);
			return;
		}
		if (strcmp(t->fallback, "skip") != 0) {
			char canon[DEC_MAX_TEXT + 1], why[160];

			/* Submitted as written: it must be the chain's canonical text already. */
			if (dec_value(t->fallback, canon, sizeof(canon), why, sizeof(why)) == -1) {
				perr(p, t->line, "[topic %u] fallback \"%s\" is neither a number the "
				    "chain accepts nor skip (%s)", t->id, t->fallback, why);
				return;
			}
			if (strcmp(canon, t->fallback) != 0) {
				perr(p, t->line, "[topic %u] fallback \"%s\": write it as %s, the "
				    "chain's canonical text", t->id, t->fallback, canon);
				return;
			}
		}
		if (t->competition_start != 0 && t->competition_end != 0 &&
		    t->competition_end <= t->competition_start) {
			perr(p, t->line, "[topic %u] competition_end is not after competition_start",
			    t->id);
			return;
		}
		if (t->purge_hours < 0)
			t->purge_hours = t->target_hours;
	}
	if (strcmp(c->metrics_listen, "off") != 0 && strrchr(c->metrics_listen, ':') == NULL) {
		perr(p, 0, "metrics_listen \"%s\" is not host:port or off", c->metrics_listen);
		return;
	}
	/* Instance, directories, command-line overrides. */
	if (c->instance == NULL)
		c->instance = c->path != NULL ? instance_from_path(c->path) :
		    xasprintf("topic-%u", c->topics[0].id);
	if (!valid_name(c->instance)) {
		perr(p, 0, "instance \"%s\" must be letters, digits, '-', '_' or '.'", c->instance);
		return;
	}
	if (ov != NULL && ov->state_dir != NULL) {
		free(c->state_dir);
		c->state_dir = path_resolve(NULL, ov->state_dir);
	}
	if (ov != NULL && ov->run_dir != NULL) {
		free(c->run_dir);
		c->run_dir = path_resolve(NULL, ov->run_dir);
	}
	if (c->state_dir == NULL)
		c->state_dir = config_default_state_dir();
	if (c->run_dir == NULL && (c->run_dir = config_default_run_dir()) == NULL)
		c->run_dir = xasprintf("%s/run", c->state_dir);
	if (c->state_dir[0] != '/' || c->run_dir[0] != '/') {
		char cwd[PATH_MAX], *s;

		if (getcwd(cwd, sizeof(cwd)) != NULL) {
			if (c->state_dir[0] != '/') {
				s = xasprintf("%s/%s", cwd, c->state_dir);
				free(c->state_dir);
				c->state_dir = s;
			}
			if (c->run_dir[0] != '/') {
				s = xasprintf("%s/%s", cwd, c->run_dir);
				free(c->run_dir);
				c->run_dir = s;
			}
		}
	}
	if (c->websocket == NULL) {
		const char *r = c->rpc[0];
		size_t n = strlen(r);

		while (n > 0 && r[n - 1] == '/')
			n--;
		if (strncmp(r, "https://", 8) == 0)
			c->websocket = xasprintf("wss://%.*s/websocket", (int)(n - 8), r + 8);
		else
			c->websocket = xasprintf("ws://%.*s/websocket", (int)(n - 7), r + 7);
	}
	if (ov != NULL) {
		if (ov->polling_interval > 0)
			c->polling_interval = ov->polling_interval;
		c->debug = ov->debug || strcmp(c->log_level, "debug") == 0;
		c->foreground = ov->foreground;
		c->dry_run = ov->dry_run;
	} else
		c->debug = strcmp(c->log_level, "debug") == 0;
}

struct config *
config_new(void)
{
	struct config *c = xcalloc(1, sizeof(*c));

	apply_defaults(S_GLOBAL, c);
	apply_defaults(S_CHAIN, c);
	return c;
}

/*
 * [cluster] (active/standby across hosts through etcd; supervisor/cluster.c uses it).
 * The defaults apply only when the section is there: without it nothing changes.
 */
int
config_cluster_open(struct parse *p, const char *arg)
{
	if (arg[0] != '\0') {
		perr(p, p->line, "[cluster] takes no name");
		return -1;
	}
	if (p->c->cluster_line != 0) {
		perr(p, p->line, "[cluster] appears twice (first at line %d)", p->c->cluster_line);
		return -1;
	}
	p->c->cluster_line = p->line;
	apply_defaults(S_CLUSTER, p->c);
	return 0;
}

/* Checks of one [cluster] key, at its line. */
void
config_cluster_key(struct parse *p, const char *name)
{
	struct config *c = p->c;
	struct stat st;
	const char *s;
	size_t i;

	if (strcmp(name, "prefix") == 0) {
		s = c->cluster_prefix;
		if (*s == '\0' || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") != NULL) {
			perr(p, p->line, "prefix \"%s\": a non-empty key prefix without a leading "
			    "or trailing '/'", s);
			return;
		}
		for (; *s != '\0'; s++)
			if (!isalnum((unsigned char)*s) && strchr("-_./", *s) == NULL) {
				perr(p, p->line, "prefix \"%s\": only letters, digits, '-', '_', "
				    "'.' and '/'", c->cluster_prefix);
				return;
			}
	} else if (strcmp(name, "name") == 0) {
		if (!valid_name(c->cluster_name))
			perr(p, p->line, "name \"%s\": letters, digits, '-', '_' or '.' (at most "
			    "64)", c->cluster_name);
	} else if (strcmp(name, "etcd") == 0) {
		for (i = 0; i < c->netcd; i++)
			if (strlen(c->etcd[i]) > 512 || strpbrk(c->etcd[i], "?#") != NULL) {
				perr(p, p->line, "etcd: \"%s\" is not a plain endpoint URL "
				    "(scheme://host:port)", c->etcd[i]);
				return;
			}
	} else if (strcmp(name, "ca_file") == 0 || strcmp(name, "cert_file") == 0 ||
	    strcmp(name, "key_file") == 0) {
		s = strcmp(name, "ca_file") == 0 ? c->etcd_ca_file : strcmp(name, "cert_file") ==
		    0 ? c->etcd_cert_file : c->etcd_key_file;
		if (stat(s, &st) == -1) {
			perr(p, p->line, "%s: %s: %s", name, s, strerror(errno));
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			perr(p, p->line, "%s: %s: not a regular file", name, s);
			return;
		}
		if (strcmp(name, "key_file") == 0 && (st.st_mode & 077) != 0)
			perr(p, p->line, "key_file: %s is readable by group or others (mode %03o): "
			    "chmod 600 it", s, (unsigned)(st.st_mode & 0777));
	}
}

/* Checks that need the whole [cluster] section. */
void
config_cluster_finish(struct parse *p)
{
	struct config *c = p->c;
	char host[256];
	size_t i;

	if (c->cluster_line == 0)
		return;
	if (c->netcd == 0) {
		perr(p, c->cluster_line, "[cluster] needs \"etcd =\" (a comma-separated list of "
		    "endpoint URLs, http://h1:2379,http://h2:2379)");
		return;
	}
	if ((c->etcd_cert_file != NULL) != (c->etcd_key_file != NULL)) {
		perr(p, c->cluster_line, "[cluster] cert_file and key_file go together (%s is "
		    "missing)", c->etcd_cert_file == NULL ? "cert_file" : "key_file");
		return;
	}
	for (i = 0; i < c->netcd; i++)
		if (strncmp(c->etcd[i], "https://", 8) != 0 && (c->etcd_ca_file != NULL ||
		    c->etcd_cert_file != NULL)) {
			perr(p, c->cluster_line, "[cluster] etcd endpoint %s is plain http while "
			    "ca_file/cert_file ask for TLS", c->etcd[i]);
			return;
		}
	if (c->cluster_name == NULL) {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0') {
			perr(p, c->cluster_line, "[cluster] needs \"name =\": the hostname cannot "
			    "be read");
			return;
		}
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		if (!valid_name(host)) {
			perr(p, c->cluster_line, "[cluster] the hostname \"%s\" is not a valid "
			    "name: set \"name =\"", host);
			return;
		}
		c->cluster_name = xstrdup(host);
	}
}

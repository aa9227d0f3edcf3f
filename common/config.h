/*
 * The configuration: an INI file (libinih) plus the .env-style environment, as in
 * ARCHITECTURE.md and INTERFACES.md.  Parsed once by the supervisor (or alloractl); the
 * children receive it as JSON in the CONFIG frame (config_to_json / config_from_json),
 * which never carries a secret (only the names of the files or variables that hold them).
 */
#ifndef AW_CONFIG_H
#define AW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct config_wallet {
	char	*name;
	char	*mnemonic_file;		/* absolute path, or NULL */
	char	*mnemonic_env;		/* variable name (e.g. MNEMONIC), or NULL */
	char	*mnemonic_credential;	/* systemd credential name: $CREDENTIALS_DIRECTORY/NAME */
	char	*hd_path;		/* default m/44'/118'/0'/0/0 */
	char	*expect_address;	/* ALLORA_WALLET_ADDR (checked by the submitter), or NULL */
	char	*fee_granter;		/* allo1... that pays this wallet's fees (feegrant), or NULL */
	int	 line;			/* where the section starts */
};

struct config_topic {
	uint32_t id;
	char	*wallet;		/* wallet name */
	char	*ticker;		/* btcusd */
	char	*data_source;		/* tiingo | coinbase | binance | csv:/abs/path */
	long	 target_hours;		/* 168 */
	long	 train_span_hours;	/* 8760 */
	long	 min_train_hours;	/* 336: fewer rows than this -> fallback "Insufficient data" */
	long	 validation_span_hours;	/* 168 */
	long	 purge_hours;		/* -1 = target_hours */
	long	 cache_ttl;		/* 3600 s */
	char	*fallback;		/* "0.0" (any canonical decimal) or "skip" */
	char	*model;			/* default | reference | ridge | exec:... | http(s)://... */
	char	*features;		/* "" = the model's own; b | reference */
	double	 competition_start;	/* epoch seconds, 0 = unset */
	double	 competition_end;	/* epoch seconds, 0 = unset */
	char	*tiingo_key_file;	/* absolute path or NULL (then TIINGO_API_KEY) */
	char	*tiingo_url;		/* https://api.tiingo.com */
	char	*data_url;		/* base URL of the keyless source, "" = its default */
	long	 stale_after_s;		/* 7200 */
	double	 shrink;		/* output multiplier k; < 0 = the model's tuned default */
	double	 clip_sigma;		/* 2 */
	long	 predict_timeout_s;	/* 30 */
	double	 max_abs_value;		/* 0 = no bound */
	/* gradient boosting */
	long	 n_estimators;		/* 0 = the model's default */
	long	 max_depth;		/* 0 = the model's default */
	double	 learning_rate;		/* 0 = the model's default */
	double	 subsample;		/* 0 = the model's default */
	double	 ridge_lambda;		/* 0 = the model's default */
	long	 seed;			/* 42 */
	/* the network's loss (trainer/loss.h) */
	char	*loss_method;		/* auto | mse | zptae | czar (auto: the chain's) */
	char	*forecast;		/* off | builtin | exec:/path args | http(s)://URL (issue 22) */
	char	*shadow;		/* "" | MODEL[, MODEL...]: computed beside, never submitted */
	char	*objective;		/* mse | czar: what xgboost minimises */
	double	 czar_alpha;		/* CZAR's α for scoring; < 0 = 0 (CZAR_ALPHA_EVAL) */
	int	 line;			/* where the section starts */
};

struct config {
	char	*path;			/* the configuration file (absolute), or NULL (.env only) */
	char	*env_path;		/* the .env file read, or NULL */
	/* [global] */
	char	*instance;
	char	*state_dir;
	char	*run_dir;
	char	*log_level;		/* info | debug */
	char	*metrics_listen;	/* host:port or "off" */
	char	*env_file;
	long	 restart_backoff_min_ms;	/* 100 */
	long	 restart_backoff_max_ms;	/* 30000 */
	long	 restart_limit;		/* 10 */
	long	 heartbeat_ms;		/* 1000 */
	long	 stop_timeout_ms;	/* 5000: TERM -> KILL */
	char	*predictor_user;	/* exec: predictors run as this user, NULL = as we are */
	/* [chain] */
	char	*chain_id;
	char   **rpc;			/* failover order */
	size_t	 nrpc;
	char	*websocket;		/* default: rpc[0] with ws(s):// and /websocket */
	char	*emissions;		/* auto | v9 | v10 */
	long	 polling_interval;	/* 120 s */
	char	*gas_price;		/* "auto" (the chain's price) or uallo per gas (fees.h) */
	double	 gas_adjustment;	/* 1.2 */
	long	 gas_limit;		/* 0 = simulate */
	long	 max_fee;		/* uallo; 10^16 = 0.01 ALLO */
	char	*network;		/* testnet | mainnet presets, or NULL */
	long	 ws_silence_s;		/* 30 */
	long	 request_timeout_ms;	/* 10000 */
	long	 balance_warn_submissions;	/* 24 */
	/* [cluster]: cluster_line 0 = no such section (one host; nothing changes) */
	int	 cluster_line;
	char   **etcd;			/* endpoints, http:// or https:// */
	size_t	 netcd;
	char	*cluster_prefix;	/* allora-workerd */
	char	*cluster_name;		/* this host; default the hostname */
	long	 lease_ttl_s;		/* 10, at least 2 */
	char	*etcd_ca_file;		/* TLS: CA bundle, client certificate and key */
	char	*etcd_cert_file;
	char	*etcd_key_file;
	/* [wallet NAME] and [topic ID] */
	struct config_wallet *wallets;
	size_t	 nwallets;
	struct config_topic *topics;
	size_t	 ntopics;
	/* from the command line, not the file */
	int	 debug;
	int	 foreground;
	int	 dry_run;
};

struct config_overrides {
	const char	*state_dir;
	const char	*run_dir;
	long		 polling_interval;	/* 0 = none */
	int		 debug;
	int		 foreground;
	int		 dry_run;
};

/*
 * Finds the configuration: path if given, else $ALLORA_WORKER_CONF, ./allora-worker.conf,
 * /etc/allora-worker/allora-worker.conf, else a .env in the current directory.  Returns
 * the path to use (static or from the environment), or NULL when only .env (or nothing)
 * is there.
 */
const char *config_find(const char *path);

/*
 * Loads and checks a configuration.  path NULL: config_find().  On error returns NULL and
 * err holds "FILE:LINE: what is wrong" (exit status 2).
 */
struct config *config_load(const char *path, const struct config_overrides *,
	    char *err, size_t errlen);
void	 config_free(struct config *);
/*
 * A topic's `shadow` list (common/shadowspec.c): the models of "MODEL[, MODEL...]", each
 * trimmed; *n gets how many (0 for "").  NULL with why when a spec is not a model spec
 * (as `model` accepts), empty or repeated.  Free with config_shadow_free.
 */
char	**config_shadow_split(const char *list, size_t *n, char *why, size_t whylen);
void	 config_shadow_free(char **);
/* 1 when s is a model spec `model =` accepts. */
int	 config_model_spec_ok(const char *s);

json_t	*config_to_json(const struct config *);
struct config *config_from_json(const json_t *, char *err, size_t errlen);

const struct config_topic *config_topic(const struct config *, uint32_t id);
const struct config_wallet *config_wallet(const struct config *, const char *name);

/* Reads a .env file into the environment without overriding what is set; -1 + err. */
int	 config_load_dotenv(const char *path, char *err, size_t errlen);
/*
 * Whether config_load_dotenv sets the variables whose name holds "MNEMONIC" (default 1).
 * alloractl turns it off: a key it must check is loaded by a child, which reads the .env
 * again with it on.
 */
void	 config_dotenv_secrets(int on);

/* The default state and run directories for this user (caller frees). */
char	*config_default_state_dir(void);
char	*config_default_run_dir(void);

#endif

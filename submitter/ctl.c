/* alloractl keys (show, new) and tx (build, decode). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "dec.h"
#include "keyfile.h"
#include "keys.h"
#include "fees.h"
#include "tx.h"
#include "util.h"

static void
keys_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: alloractl keys show (--mnemonic-file F | -c FILE --wallet NAME) [--hd-path P] [--json]\n"
	    "       alloractl keys new --out F [--words N]\n"
	    "\n"
	    "  show   print the address (and with --json the public key and path)\n"
	    "  new    write a fresh mnemonic (24 words unless --words) to a new 0600 file F\n"
	    "         and print only its address\n");
}

/* Loads the key of a mnemonic file; exit status on failure (2: refused input). */
static int
load_key(const char *file, const char *path, uint8_t priv[32], uint8_t pub[33])
{
	char err[512], *m;

	m = keyfile_read(file, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return 2;
	}
	if (key_from_mnemonic(m, path, priv, pub, err, sizeof(err)) == -1) {
		keyfile_free(m);
		fprintf(stderr, "alloractl: %s: %s\n", file, err);
		return 2;
	}
	keyfile_free(m);
	return 0;
}

static int
keys_show(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mnemonic-file", required_argument, NULL, 'm' },
		{ "wallet", required_argument, NULL, 'w' },
		{ "hd-path", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *wallet = NULL, *path = NULL;
	struct config *c = NULL;
	uint8_t priv[32], pub[33];
	char addr[ADDR_MAX], *ph, err[2048];
	int ch, json = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': file = optarg; break;
		case 'w': wallet = optarg; break;
		case 'p': path = optarg; break;
		case 'j': json = 1; break;
		case 'h': keys_usage(stdout); return 0;
		default: keys_usage(stderr); return 2;
		}
	}
	if (optind != argc || (file == NULL) == (wallet == NULL)) {
		fprintf(stderr, "alloractl keys show: give --mnemonic-file F or --wallet NAME\n");
		return 2;
	}
	if (wallet != NULL) {
		const struct config_wallet *w;

		c = config_load(o->config, NULL, err, sizeof(err));
		if (c == NULL) {
			fprintf(stderr, "alloractl: %s\n", err);
			return 2;
		}
		w = config_wallet(c, wallet);
		if (w == NULL || w->mnemonic_file == NULL) {
			fprintf(stderr, "alloractl: %s: no [wallet %s] with a mnemonic_file\n",
			    c->path ? c->path : ".env", wallet);
			config_free(c);
			return 2;
		}
		file = w->mnemonic_file;
		if (path == NULL)
			path = w->hd_path;
	}
	if (path == NULL)
		path = DEFAULT_HD_PATH;
	rc = load_key(file, path, priv, pub);
	key_clear(priv, sizeof(priv));
	if (rc == 0) {
		key_address(pub, addr, sizeof(addr));
		if (json) {
			ph = hex_encode(pub, 33);
			printf("{\"address\": \"%s\", \"pubkey\": \"%s\", \"hd_path\": \"%s\"}\n",
			    addr, ph, path);
			free(ph);
		} else
			printf("%s\n", addr);
	}
	config_free(c);
	return rc;
}

static int
keys_new(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "words", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char m[512], err[512], addr[ADDR_MAX];
	uint8_t priv[32], pub[33];
	long words = 24;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'n':
			if (parse_long(optarg, 12, 24, &words) == -1 || words % 3 != 0) {
				fprintf(stderr, "alloractl: --words must be 12, 15, 18, 21 or 24\n");
				return 2;
			}
			break;
		case 'h': keys_usage(stdout); return 0;
		default: keys_usage(stderr); return 2;
		}
	}
	if (out == NULL || optind != argc) {
		fprintf(stderr, "alloractl keys new: give --out FILE\n");
		return 2;
	}
	if (bip39_generate((int)words, m, sizeof(m), err, sizeof(err)) == -1 ||
	    key_from_mnemonic(m, DEFAULT_HD_PATH, priv, pub, err, sizeof(err)) == -1) {
		key_clear(m, sizeof(m));
		fprintf(stderr, "alloractl: %s\n", err);
		return 1;
	}
	key_clear(priv, sizeof(priv));
	if (keyfile_write_new(out, m, err, sizeof(err)) == -1) {
		key_clear(m, sizeof(m));
		fprintf(stderr, "alloractl: %s\n", err);
		return 1;
	}
	key_clear(m, sizeof(m));
	key_address(pub, addr, sizeof(addr));
	printf("%s\n", addr);
	return 0;
}

int
ctl_keys(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		keys_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "show") == 0)
		return keys_show(o, argc - 1, argv + 1);
	if (strcmp(argv[1], "new") == 0)
		return keys_new(argc - 1, argv + 1);
	fprintf(stderr, "alloractl keys: unknown subcommand \"%s\"\n", argv[1]);
	keys_usage(stderr);
	return 2;
}

static void
tx_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: alloractl tx build --mnemonic-file F --chain-id ID --account-number N --sequence N\n"
	    "                          --topic T --nonce H (--value V | --labels FILE.json)\n"
	    "                          [--arity single|multi] [--no-bundle-signature]\n"
	    "                          [--gas N] [--fee AMOUNT[uallo]]\n"
	    "                          [--timeout-height H] [--emissions v9|v10] [--memo M]\n"
	    "                          [--fee-granter ADDR] [--forecast FILE.json]\n"
	    "                          [--max-forecast-elements N] [--hd-path P] [--json]\n"
	    "       alloractl tx decode [BASE64 | -] [--chain-id ID --account-number N]\n"
	    "\n"
	    "  build   sign an InsertWorkerPayload transaction offline; prints the base64 TxRaw\n"
	    "          (defaults: gas 300000, fee 3000000uallo, emissions v10)\n"
	    "  decode  print a transaction as JSON, with whether its signatures verify\n");
}

static int
num_arg(const char *name, const char *v, long long min, unsigned long long *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*v == '-' || *v == '\0')
		goto bad;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || (long long)x < min)
		goto bad;
	*out = x;
	return 0;
bad:
	fprintf(stderr, "alloractl tx build: %s: \"%s\" is not a valid number\n", name, v);
	return -1;
}

static int
tx_build_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mnemonic-file", required_argument, NULL, 'm' },
		{ "chain-id", required_argument, NULL, 'c' },
		{ "account-number", required_argument, NULL, 'a' },
		{ "sequence", required_argument, NULL, 's' },
		{ "topic", required_argument, NULL, 't' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "value", required_argument, NULL, 'v' },
		{ "gas", required_argument, NULL, 'g' },
		{ "fee", required_argument, NULL, 'f' },
		{ "timeout-height", required_argument, NULL, 'T' },
		{ "emissions", required_argument, NULL, 'e' },
		{ "memo", required_argument, NULL, 'M' },
		{ "fee-granter", required_argument, NULL, 'G' },
		{ "labels", required_argument, NULL, 'L' },
		{ "forecast", required_argument, NULL, 'W' },
		{ "max-forecast-elements", required_argument, NULL, 'X' },
		{ "arity", required_argument, NULL, 'A' },
		{ "no-bundle-signature", no_argument, NULL, 'B' },
		{ "hd-path", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *path = DEFAULT_HD_PATH, *value = NULL, *lfile = NULL;
	const char *ffile = NULL;
	struct tx_label *labels = NULL;
	struct tx_forecast_elem *fc = NULL;
	size_t nlabels = 0, nfc = 0;
	unsigned long long flimit = FORECAST_DEFAULT_LIMIT;
	unsigned long long acct = 0, seq = 0, topic = 0, nonce = 0, gas = 300000, fee = 3000000;
	uint32_t tid;
	unsigned long long th = 0;
	int have_acct = 0, have_seq = 0, json = 0, ch, rc;
	struct tx_params tp;
	struct tx_out out;
	uint8_t priv[32], pub[33];
	char err[512], canon[DEC_MAX_TEXT + 1];

	memset(&tp, 0, sizeof(tp));
	tp.emissions = "v10";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': file = optarg; break;
		case 'c': tp.chain_id = optarg; break;
		case 'a': if (num_arg("--account-number", optarg, 0, &acct)) return 2; have_acct = 1; break;
		case 's': if (num_arg("--sequence", optarg, 0, &seq)) return 2; have_seq = 1; break;
		case 't': if (topic_arg("alloractl tx build", optarg, &tid) == -1) return 2;
			topic = tid; break;
		case 'n': if (num_arg("--nonce", optarg, 1, &nonce) || nonce > INT64_MAX) return 2; break;
		case 'v': value = optarg; break;
		case 'g': if (num_arg("--gas", optarg, 1, &gas)) return 2; break;
		case 'f': {
			char buf[64];
			size_t l = strlen(optarg);

			snprintf(buf, sizeof(buf), "%s", optarg);
			if (l > 5 && strcmp(buf + l - 5, "uallo") == 0)
				buf[l - 5] = '\0';
			if (num_arg("--fee", buf, 0, &fee))
				return 2;
			break;
		}
		case 'T': if (num_arg("--timeout-height", optarg, 0, &th)) return 2; break;
		case 'e':
			if (strcmp(optarg, "v9") != 0 && strcmp(optarg, "v10") != 0) {
				fprintf(stderr, "alloractl tx build: --emissions must be v9 or v10\n");
				return 2;
			}
			tp.emissions = optarg;
			break;
		case 'M':
			if (strlen(optarg) > FEES_MEMO_MAX) {
				fprintf(stderr, "alloractl tx build: --memo: %zu bytes, the chain takes "
				    "at most %d\n", strlen(optarg), FEES_MEMO_MAX);
				return 2;
			}
			tp.memo = optarg;
			break;
		case 'G': {
			char hrp[16], e[96];
			uint8_t d[64];
			size_t dl;

			if (bech32_decode(optarg, hrp, sizeof(hrp), d, &dl, e, sizeof(e)) == -1 ||
			    strcmp(hrp, "allo") != 0) {
				fprintf(stderr, "alloractl tx build: --fee-granter \"%s\" is not an "
				    "allo1... address\n", optarg);
				return 2;
			}
			tp.fee_granter = optarg;
			break;
		}
		case 'L': lfile = optarg; break;
		case 'W': ffile = optarg; break;
		case 'X':
			if (num_arg("--max-forecast-elements", optarg, 1, &flimit))
				return 2;
			if (flimit > FORECAST_MAX_ELEMENTS) {
				fprintf(stderr, "alloractl tx build: --max-forecast-elements: at most "
				    "%d\n", FORECAST_MAX_ELEMENTS);
				return 2;
			}
			break;
		case 'A':
			if (strcmp(optarg, "single") == 0)
				tp.arity = ARITY_SINGLE;
			else if (strcmp(optarg, "multi") == 0)
				tp.arity = ARITY_MULTI;
			else {
				fprintf(stderr, "alloractl tx build: --arity must be single or multi\n");
				return 2;
			}
			break;
		case 'B': tp.no_bundle_signature = 1; break;
		case 'p': path = optarg; break;
		case 'j': json = 1; break;
		case 'h': tx_usage(stdout); return 0;
		default: tx_usage(stderr); return 2;
		}
	}
	if (optind != argc || file == NULL || tp.chain_id == NULL || !have_acct || !have_seq ||
	    topic == 0 || nonce == 0 || (value == NULL) == (lfile == NULL)) {
		fprintf(stderr, "alloractl tx build: --mnemonic-file, --chain-id, --account-number, "
		    "--sequence, --topic, --nonce and one of --value or --labels are required\n");
		return 2;
	}
	if (value != NULL && dec_value(value, canon, sizeof(canon), err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl tx build: --value \"%s\": %s\n", value, err);
		return 2;
	}
	if (lfile != NULL) {
		json_error_t je;
		json_t *lj = json_load_file(lfile, JSON_REJECT_DUPLICATES, &je);

		if (lj == NULL) {
			fprintf(stderr, "alloractl tx build: --labels %s:%d: %s\n", lfile, je.line,
			    je.text);
			return 2;
		}
		rc = labels_from_json(lj, 0, &labels, &nlabels, err, sizeof(err));
		json_decref(lj);
		if (rc == -1 || (rc = labels_check(labels, nlabels, tp.arity, (uint32_t)topic, err,
		    sizeof(err))) == -1) {
			fprintf(stderr, "alloractl tx build: --labels %s: %s\n", lfile, err);
			labels_free(labels, nlabels);
			return 2;
		}
		if (nlabels == 0) {
			fprintf(stderr, "alloractl tx build: --labels %s: no labels\n", lfile);
			return 2;
		}
	}
	if ((rc = load_key(file, path, priv, pub)) != 0) {
		labels_free(labels, nlabels);
		return rc;
	}
	if (ffile != NULL) {
		/* The element rules offline (not the configuration's policy, which needs -c). */
		json_error_t je;
		json_t *fj = json_load_file(ffile, 0, &je);
		const char *rule;
		char self[ADDR_MAX];

		if (fj == NULL) {
			fprintf(stderr, "alloractl tx build: --forecast %s:%d: %s\n", ffile, je.line,
			    je.text);
			rc = 2;
		} else if (key_address(pub, self, sizeof(self)) == -1 ||
		    forecast_from_json(fj, self, (size_t)flimit, &fc, &nfc, &rule, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "alloractl tx build: --forecast %s: %s [%s]\n", ffile, err,
			    rule);
			rc = 2;
		}
		json_decref(fj);
		if (rc != 0) {
			key_clear(priv, sizeof(priv));
			labels_free(labels, nlabels);
			return rc;
		}
	}
	tp.account_number = acct;
	tp.sequence = seq;
	tp.topic = (uint32_t)topic;
	tp.nonce = (int64_t)nonce;
	tp.value = value != NULL ? canon : NULL;
	tp.labels = labels;
	tp.nlabels = nlabels;
	tp.forecast = fc;
	tp.nforecast = nfc;
	tp.forecast_limit = (size_t)flimit;
	tp.gas_limit = gas;
	tp.fee_uallo = fee;
	tp.timeout_height = th;
	rc = tx_build_payload(priv, &tp, 0, &out, err, sizeof(err));
	key_clear(priv, sizeof(priv));
	labels_free(labels, nlabels);
	forecast_free(fc, nfc);
	if (rc == -1) {
		fprintf(stderr, "alloractl tx build: %s\n", err);
		return 2;
	}
	if (json) {
		char *s = json_dumps(out.detail, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s);
		free(s);
	} else
		printf("%s\n", out.base64);
	tx_out_free(&out);
	return 0;
}

static int
tx_decode_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chain-id", required_argument, NULL, 'c' },
		{ "account-number", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *chain = NULL, *arg = NULL;
	long long acct = -1;
	unsigned long long a;
	char *in = NULL, err[512], *s;
	unsigned char *raw;
	size_t n, len;
	json_t *d;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': chain = optarg; break;
		case 'a': if (num_arg("--account-number", optarg, 0, &a)) return 2; acct = (long long)a; break;
		case 'h': tx_usage(stdout); return 0;
		default: tx_usage(stderr); return 2;
		}
	}
	if ((chain == NULL) != (acct < 0)) {
		fprintf(stderr, "alloractl tx decode: give both --chain-id and --account-number, "
		    "or neither\n");
		return 2;
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind != argc) {
		tx_usage(stderr);
		return 2;
	}
	if (arg == NULL || strcmp(arg, "-") == 0) {
		size_t cap = 1 << 16;

		in = xmalloc(cap + 1);
		len = fread(in, 1, cap, stdin);
		in[len] = '\0';
	} else
		in = xstrdup(arg);
	for (s = in + strlen(in); s > in && (s[-1] == '\n' || s[-1] == ' ' || s[-1] == '\r'); )
		*--s = '\0';
	if (base64_decode(in, strlen(in), &raw, &n) == -1) {
		fprintf(stderr, "alloractl tx decode: the input is not base64\n");
		free(in);
		return 2;
	}
	free(in);
	d = tx_decode(raw, n, chain, acct, err, sizeof(err));
	free(raw);
	if (d == NULL) {
		fprintf(stderr, "alloractl tx decode: %s\n", err);
		return 2;
	}
	s = json_dumps(d, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(d);
	return 0;
}

int
ctl_tx(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		tx_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "build") == 0)
		return tx_build_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "decode") == 0)
		return tx_decode_cmd(argc - 1, argv + 1);
	fprintf(stderr, "alloractl tx: unknown subcommand \"%s\"\n", argv[1]);
	tx_usage(stderr);
	return 2;
}

/* Configuration: INI parsing, defaults, .env compatibility, the JSON form for children. */
#include <sys/stat.h>

#include "config.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/aw-conf-XXXXXX";

static char *
write_tmp(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	return p;
}

static const char full[] =
    "; an example\n"
    "[global]\n"
    "instance = main\n"
    "state_dir = st           ; relative to this file\n"
    "run_dir = /tmp/aw-run\n"
    "metrics_listen = off\n"
    "[chain]\n"
    "chain_id = allora-testnet-1\n"
    "rpc = https://a.example, http://b.example:26657/\n"
    "emissions = v9\n"
    "gas_price = 10\n"
    "max_fee = 25000000\n"
    "[wallet main]\n"
    "mnemonic_file = keys/main.mnemonic\n"
    "[wallet hot]\n"
    "mnemonic_env = HOT_MNEMONIC\n"
    "hd_path = m/44'/118'/0'/0/1\n"
    "[topic 67]\n"
    "wallet = main\n"
    "data_source = csv:bars.csv\n"
    "competition_start = 2025-09-16T13:00:00Z\n"
    "competition_end = 2025-12-15T13:00:00Z\n"
    "fallback = skip\n"
    "[topic 68]\n"
    "wallet = hot\n"
    "model = ridge\n"
    "cache_ttl = 60\n";

T_TEST(full_example)
{
	char err[512], *p = write_tmp("full.conf", full), *want;
	struct config *c = config_load(p, NULL, err, sizeof(err));
	const struct config_topic *t;

	if (c == NULL)
		T_FAIL("%s", err);
	T_ASSERT(c != NULL);
	T_EQ_STR(c->instance, "main");
	want = xasprintf("%s/st", dir);
	T_EQ_STR(c->state_dir, want);
	T_EQ_INT(c->nrpc, 2);
	T_EQ_STR(c->rpc[1], "http://b.example:26657/");
	T_EQ_STR(c->websocket, "wss://a.example/websocket");
	T_EQ_STR(c->emissions, "v9");
	T_EQ_INT(c->polling_interval, 120);
	T_EQ_INT(c->nwallets, 2);
	T_ASSERT(strstr(config_wallet(c, "main")->mnemonic_file, "/keys/main.mnemonic") != NULL);
	T_EQ_STR(config_wallet(c, "hot")->hd_path, "m/44'/118'/0'/0/1");
	t = config_topic(c, 67);
	T_ASSERT(t != NULL);
	T_EQ_INT((long long)t->competition_start, 1758027600);
	T_EQ_STR(t->fallback, "skip");
	T_EQ_INT(t->target_hours, 168);
	T_EQ_INT(t->purge_hours, 168);
	T_ASSERT(strncmp(t->data_source, "csv:/", 5) == 0);
	t = config_topic(c, 68);
	T_EQ_STR(t->model, "ridge");
	T_EQ_INT(t->cache_ttl, 60);
	T_EQ_STR(t->data_source, "tiingo");
	config_free(c);
	free(want);
	free(p);
}

T_TEST(json_roundtrip)
{
	char err[512], *p = write_tmp("full.conf", full), *a, *b;
	struct config *c = config_load(p, NULL, err, sizeof(err)), *d;
	json_t *j1, *j2;

	T_ASSERT(c != NULL);
	j1 = config_to_json(c);
	d = config_from_json(j1, err, sizeof(err));
	T_ASSERT(d != NULL);
	j2 = config_to_json(d);
	a = json_dumps(j1, JSON_SORT_KEYS);
	b = json_dumps(j2, JSON_SORT_KEYS);
	T_EQ_STR(a, b);
	T_ASSERT(strstr(a, "mnemonic") != NULL);	/* the names of the secrets ... */
	json_decref(j2);
	j2 = json_string("x");
	T_ASSERT(config_from_json(j2, err, sizeof(err)) == NULL);
	json_decref(j2);
	json_object_set_new(j1, "heartbeat_ms", json_string("soon"));
	T_ASSERT(config_from_json(j1, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "heartbeat_ms") != NULL);
	json_decref(j1);
	free(a);
	free(b);
	config_free(c);
	config_free(d);
	free(p);
}

T_TEST(dotenv_only)
{
	char err[512], cwd[512];
	struct config *c;

	free(write_tmp(".env", "# the Python worker's file\nMNEMONIC=\"abandon abandon about\"\n"
	    "TOPIC_ID=67\nexport ALLORA_RPC=http://127.0.0.1:26657\nTIINGO_API_KEY=abc # key\n"
	    "ALLORA_WALLET_ADDR=allo1xyz\n"));
	T_ASSERT(getcwd(cwd, sizeof(cwd)) != NULL);
	T_ASSERT(chdir(dir) == 0);
	unsetenv("ALLORA_WORKER_CONF");
	setenv("TIINGO_API_KEY", "from-env", 1);	/* never overridden by .env */
	c = config_load(NULL, NULL, err, sizeof(err));
	T_ASSERT(chdir(cwd) == 0);
	if (c == NULL)
		T_FAIL("%s", err);
	T_ASSERT(c != NULL);
	T_EQ_STR(c->instance, "topic-67");
	T_EQ_INT(c->ntopics, 1);
	T_EQ_INT(c->topics[0].id, 67);
	T_EQ_STR(c->rpc[0], "http://127.0.0.1:26657");
	T_EQ_STR(c->wallets[0].mnemonic_env, "MNEMONIC");
	T_EQ_STR(c->wallets[0].expect_address, "allo1xyz");
	T_EQ_STR(getenv("MNEMONIC"), "abandon abandon about");
	T_EQ_STR(getenv("TIINGO_API_KEY"), "from-env");
	config_free(c);
}

T_TEST(errors_name_file_and_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[topic 67]\nfoo = 1\n", "bad.conf:2: unknown key \"foo\" in [topic]" },
		{ "[topic 67]\ncache_ttl = -5\n", "bad.conf:2: cache_ttl" },
		{ "[chain]\nrpc = ftp://x\n[topic 1]\n", "bad.conf:2: rpc: \"ftp://x\" is not" },
		{ "[topic x]\n", "bad.conf:1: [topic ID] needs a topic number" },
		{ "[global]\n", "bad.conf:2: no [topic ID] section" },
		{ "[wallet a]\nmnemonic_env = A\nmnemonic_file = /k\n[topic 1]\n",
		    "bad.conf:1: [wallet a] needs exactly one of" },
		{ "[topic 1]\nmodel = magic\n", "bad.conf:1: [topic 1] model \"magic\"" },
		{ "[topic 1]\ndata_source = ftp\n", "bad.conf:1: [topic 1] data_source" },
		{ "[topic 1]\nfallback = maybe\n", "bad.conf:1: [topic 1] fallback" },
		{ "[topic 1]\ncache_ttl = 1\ncache_ttl = 2\n", "bad.conf:3: \"cache_ttl\" is set twice" },
		/* Found by fuzz_config: a value that is not UTF-8 could not reach the children. */
		{ "[chain]\nrpc = https://a\xa0" "b.example\n[topic 1]\n",
		    "bad.conf:2: rpc: the value is not UTF-8 text" },
		{ "[topic 1]\nticker = btc\x01" "usd\n", "bad.conf:2: ticker: the value is not UTF-8" },
		{ "[topic 1]\nfallback = 1e50\n", "bad.conf:1: [topic 1] fallback \"1e50\" is neither" },
		{ "[topic 1]\nfallback = 1.50e-07\n", "write it as 1.50E-7" },
		/* Topic ids are 32 bits. */
		{ "[topic 4294967296]\n", "bad.conf:1: [topic 4294967296]: topic id 4294967296 is "
		    "above the limit 4294967295" },
		{ "[topic 0]\n", "bad.conf:1: [topic 0]: topic id 0 is not a topic" },
	};
	char err[512];
	size_t i;

	unsetenv("TOPIC_ID");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = write_tmp("bad.conf", cases[i].text);
		struct config *c = config_load(p, NULL, err, sizeof(err));

		if (c != NULL || strstr(err, cases[i].want) == NULL)
			T_FAIL("case %zu: got \"%s\", want \"%s\"", i, c ? "(accepted)" : err,
			    cases[i].want);
		config_free(c);
		free(p);
	}
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	T_RUN(full_example);
	T_RUN(json_roundtrip);
	T_RUN(dotenv_only);
	T_RUN(errors_name_file_and_line);
	return t_done();
}

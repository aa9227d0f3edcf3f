/*
 * alloractl check: the configuration, then each role's preflight (common/preflight.h) in the
 * order an operator reads them: the node (listener), the wallets and the topics on the chain
 * (submitter), each topic's market data (trainer). One line per thing checked, then the
 * count; exit 0 when nothing is an error, 1 otherwise, 2 for a configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "preflight.h"
#include "rpc_sync.h"
#include "submitter/ctl_chain.h"
#include "submitter/keys.h"
#include "util.h"

int
ctl_check(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct sync s;
	char err[2048], em[8] = "v10", (*addrs)[ADDR_MAX];
	size_t i, k;
	int ch, chain;
	uint64_t data_fee = 0, reg_fee = 0;
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: alloractl [-c FILE] check\n"
			    "Preflight: configuration, keys, RPC and websocket, chain id, emissions "
			    "version,\ntopics (exist, active), registration, whitelist, balance and "
			    "market data; one\nline each with ok, warning or error (or skipped when "
			    "what it needs failed).\nExit status 0 when nothing is an error, else 1 "
			    "(2: configuration error).\n");
			return 0;
		}
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "alloractl check: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	preflight_reset();
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		preflight_line("configuration", L_ERR, "%s", err);
		return 2;
	}
	/* The wallets' key children read a .env's mnemonic themselves. */
	ctl_env_path = c->env_path;
	preflight_line("configuration", L_OK, "%s: %zu topic(s), %zu wallet(s)",
	    c->path ? c->path : ".env", c->ntopics, c->nwallets);
	sync_init(&s, c);

	if (c->network != NULL)
		preflight_line("network", L_OK, "%s preset: chain %s, rpc %s, websocket %s, "
		    "emissions %s (a node serving another chain is refused)", c->network,
		    c->chain_id, c->rpc[0], c->websocket, c->emissions);
	chain = listener_preflight(&s, c, em, sizeof(em));
	if (chain)
		submitter_preflight_fees(&s, em, &data_fee, &reg_fee);
	if (chain || strcmp(c->gas_price, "auto") != 0)
		submitter_preflight_gas(&s, c);

	addrs = xcalloc(c->nwallets, sizeof(*addrs));
	for (k = 0; k < c->nwallets; k++)
		submitter_preflight_wallet(&s, c, &c->wallets[k], chain, data_fee, addrs[k],
		    sizeof(addrs[k]));

	for (i = 0; i < c->ntopics; i++) {
		const struct config_topic *t = &c->topics[i];
		const char *addr = NULL;

		for (k = 0; k < c->nwallets; k++)
			if (strcmp(c->wallets[k].name, t->wallet) == 0 && addrs[k][0] != '\0')
				addr = addrs[k];
		if (chain) {
			submitter_preflight_topic(&s, em, t, addr, reg_fee);
			submitter_preflight_topic_fees(&s, em, c, i);
			listener_preflight_scores(&s, em, t, addr);
		}
		trainer_preflight_topic(&s, c, t);
	}
	for (k = 0; chain && k < c->nwallets; k++)
		if (addrs[k][0] != '\0')
			submitter_preflight_allowance(&s, c, &c->wallets[k], addrs[k]);
	free(addrs);
	sync_free(&s);
	config_free(c);
	printf("%d error(s), %d warning(s)\n", preflight_errors(), preflight_warnings());
	return preflight_errors() > 0 ? 1 : 0;
}

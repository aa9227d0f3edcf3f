/*
 * What alloractl register (ctl_chain.c) and the submitter's preflight (preflight.c) share:
 * loading a wallet's mnemonic in a child, and the chain queries about a (topic, address).
 */
#ifndef AW_CTL_CHAIN_H
#define AW_CTL_CHAIN_H

#include <stddef.h>
#include <stdint.h>

struct config_wallet;
struct sync;

/* The configuration's .env, which alloractl itself read without its mnemonic variables. */
extern const char *ctl_env_path;

/*
 * A wallet's mnemonic, in a child only: from its file (0600) or its environment variable
 * (from the environment, or from the .env, read here: never in alloractl's own memory).
 */
char	*ctl_mnemonic_load(const struct config_wallet *, char *err, size_t errlen);
void	 ctl_mnemonic_free(const struct config_wallet *, char *);
/* An emissions query that takes (topic_id, address): 0 when answered with code 0. */
int	 ctl_topic_addr_query(struct sync *, const char *em, const char *method, uint32_t topic,
	    const char *addr);
/* data_sending_fee and registration_fee of the module's parameters (0 when unknown). */
void	 ctl_module_fees(struct sync *, const char *em, uint64_t *data_fee, uint64_t *reg_fee);

/* The gas price: configured, or the chain's (feemarket, else the node's minimum), with
 * where it came from; -1 with err (submitter/preflight_fees.c). */
#include "fees.h"
struct config;
int	 ctl_gas_price(struct sync *, const struct config *, fee_price_t *, const char **src,
	    char *err, size_t errlen);

#endif

/*
 * The devnet's fees (devfees.c): the feemarket gas price (--gas-price-walk moves it), the
 * node's minimum gas price, fee grants (--fee-grant), and CheckTx's fee, memo and grant
 * checks with the chain's codes and texts.  devnet.c calls these hooks.
 */
#ifndef AW_DEVFEES_H
#define AW_DEVFEES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Long options handled here (getopt values): */
#define DEVFEES_OPT_WALK	1001	/* --gas-price-walk */
#define DEVFEES_OPT_GRANT	1002	/* --fee-grant GRANTER:GRANTEE:UALLO[:EXPIRES_S] */
#define DEVFEES_OPT_NO_FM	1003	/* --no-feemarket */
#define DEVFEES_OPT_GAS_USED	1004	/* --gas-used N (what delivery and Simulate consume) */

/* -1 when the argument is bad (the caller prints the usage error). */
int	 devfees_option(int opt, const char *arg);
/* After the options: the base (minimum) gas price and a seed for the walk. */
void	 devfees_start(uint64_t min_gas_price, uint64_t seed);
/* Once a block: the walk's next step. */
void	 devfees_block(void);
/* Gas used by a payload transaction (Simulate and delivery). */
uint64_t devfees_gas_used(void);
/* An abci_query path of ours: 0 with code/log (caller frees) and the value (caller
 * frees); -1 when the path is not one of ours. */
int	 devfees_abci(const char *path, const uint8_t *data, size_t len, long *code, char **log,
	    uint8_t **val, size_t *vlen);
/*
 * CheckTx's memo, fee and fee grant checks of a decoded transaction signed by signer.
 * spike: demand this many times the price (the --fee-spike-once fault).  0 when it passes,
 * with the account that pays (signer or granter, in payer) and the fee; else the code,
 * log (caller frees) and codespace.
 */
int	 devfees_checktx(json_t *dec, const char *signer, int spike, char *payer, size_t payerlen,
	    uint64_t *fee, long *code, char **log, const char **codespace);
/* The transaction passed CheckTx: its fee is spent from the grant, if one paid. */
void	 devfees_accepted(json_t *dec, const char *signer, uint64_t fee);
/* At delivery: out of gas (code 11) when the gas limit is below what it uses.  1 with
 * code/log/codespace when it fails. */
int	 devfees_deliver(json_t *dec, long *code, char **log, const char **codespace);

#endif

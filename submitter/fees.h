/*
 * Fees as the chain sets them (issue 20): the gas price (the feemarket module's GasPrice for
 * uallo, else the node's minimum gas price, else the configured fixed price), exact fee
 * arithmetic (ceil(gas x price) with the chain's 18-decimal LegacyDec prices), the ALLO/uallo
 * display, and the feegrant module's allowance.  The query paths, request packing and
 * answer decoding live here only; the submitter, alloractl check and the devnet call them.
 */
#ifndef AW_FEES_H
#define AW_FEES_H

#include <stddef.h>
#include <stdint.h>

struct rpc;

/* A price in uallo per gas, fixed point with 18 decimals (the chain's LegacyDec). */
typedef unsigned __int128 fee_price_t;
#define FEE_PRICE_ONE	((fee_price_t)1000000000000000000ULL)

#define FEES_DENOM		"uallo"
#define FEES_GAS_PRICE_PATH	"/feemarket.feemarket.v1.Query/GasPrice"
#define FEES_NODE_CONFIG_PATH	"/cosmos.base.node.v1beta1.Service/Config"
#define FEES_ALLOWANCE_PATH	"/cosmos.feegrant.v1beta1.Query/Allowance"
#define FEES_REFRESH_S		60	/* the price is asked again at most once a minute */
#define FEES_MEMO_MAX		256	/* the auth module's max_memo_characters default */

/* "250000000", "0.025": plain decimal text, at most 18 decimals.  -1 when not one. */
int	 fees_price_parse(const char *, fee_price_t *);
/* A DecCoin amount as the chain sends it: the integer text of value x 10^18 (a text with a
 * decimal point is read as the value itself).  -1 when not one. */
int	 fees_price_from_wire(const char *, fee_price_t *);
/* The wire text of a price (the integer of value x 10^18). */
void	 fees_price_wire(fee_price_t, char *, size_t);
/* Plain decimal, no trailing zeros ("250000000", "0.025"). */
void	 fees_price_text(fee_price_t, char *, size_t);
/* With all 18 decimals, as the chain prints a LegacyDec ("10.000000000000000000"). */
void	 fees_price_dec18(fee_price_t, char *, size_t);
/* ceil(gas x price) in uallo; UINT64_MAX when it does not fit. */
uint64_t fees_fee(uint64_t gas, fee_price_t);
/* "10000000000000000 uallo (0.01 ALLO)": 1 ALLO = 10^18 uallo (the chain registry's
 * exponent of allo). */
void	 fees_both_units(uint64_t uallo, char *, size_t);
/* Just the ALLO part ("0.01"). */
void	 fees_allo_text(uint64_t uallo, char *, size_t);

/* Request bytes (caller frees) and answer decoding.  -1 with err. */
uint8_t	*fees_gas_price_request(size_t *len);
int	 fees_gas_price_decode(const uint8_t *, size_t, fee_price_t *, char *err, size_t errlen);
int	 fees_node_config_decode(const uint8_t *, size_t, fee_price_t *, char *err,
	    size_t errlen);
/* "10.000000000000000000uallo,0.5stake" (sdk.DecCoins text): the uallo price, -1 if none. */
int	 fees_min_gas_prices_parse(const char *, fee_price_t *);

struct fee_allowance {
	int	 limited;	/* a spend limit applies */
	uint64_t left;		/* uallo that can still be spent (the smaller of the total and
				   the current period's limit), when limited */
	double	 expires;	/* epoch seconds, 0 = never */
	double	 period_reset;	/* periodic: when the period's limit is refilled, else 0 */
	char	 kind[32];	/* BasicAllowance, PeriodicAllowance, AllowedMsgAllowance */
	int	 msg_allowed;	/* an AllowedMsgAllowance lets InsertWorkerPayload through */
};
uint8_t	*fees_allowance_request(const char *granter, const char *grantee, size_t *len);
/* 0 with *a filled; 1 when there is no grant; -1 with err when the answer is unreadable. */
int	 fees_allowance_decode(const uint8_t *, size_t, struct fee_allowance *, char *err,
	    size_t errlen);
/* The same from the query's answer: code and log first ("fee-grant not found" = no grant). */
int	 fees_allowance_answer(long code, const char *log, const uint8_t *, size_t,
	    struct fee_allowance *, char *err, size_t errlen);
/* One line about an allowance ("540000000 uallo (…) left, expires …"). */
void	 fees_allowance_text(const struct fee_allowance *, char *, size_t);

/*
 * The submitter's gas price.  fees_price_config("auto" or a number) picks the mode;
 * fees_price_refresh asks the chain (feemarket, then the node's minimum) when the price is
 * unknown, older than FEES_REFRESH_S, or force is set (after an "insufficient fee" answer);
 * on_change (NULL: keep the one given before) runs when an answer arrives.
 * fees_price_current: 1 with the price and where it came from ("feemarket", "node
 * minimum", "configured"), 0 while unknown.
 */
int	 fees_price_config(const char *conf, char *err, size_t errlen);
void	 fees_price_refresh(struct rpc *, int force, void (*on_change)(void));
int	 fees_price_current(fee_price_t *, const char **source);

struct config;
/* The configured fee_granter of a wallet, NULL when it pays its own fees. */
const char *fees_wallet_granter(const struct config *, const char *wallet);
/* The fee of one submission of gas at the current price, at most cap (balance estimates). */
uint64_t fees_submission_fee(uint64_t gas, uint64_t cap);
/* 1 when fee is over max_fee, with the message naming both in uallo and ALLO. */
int	 fees_over_cap(uint64_t fee, uint64_t gas, uint64_t cap, char *msg, size_t msglen);
/* 1 when a read allowance cannot pay fee now (expired, too little left, message not
 * allowed), with the message. */
int	 fees_allowance_short(const struct fee_allowance *, uint64_t fee, const char *granter,
	    char *msg, size_t msglen);
/* Whether a chain answer is the feegrant module refusing to pay (matched by text). */
int	 fees_grant_error(const char *log);
/* The signing policy: the transaction's Fee.granter is exactly the configured one (or none
 * when none is configured).  -1 with err otherwise. */
int	 fees_granter_policy(const uint8_t *raw, size_t len, const char *want, char *err,
	    size_t errlen);

#endif

/*
 * The devnet's fees, as the chain checks them (issue 20; PROTOCOL-NOTES.md "Fees"): the
 * feemarket module's GasPrice (moving with --gas-price-walk), the node's minimum gas price
 * (cosmos.base.node Config), fee grants with allowances (--fee-grant) and the feegrant
 * Allowance query, and CheckTx's memo (<= 256 bytes), fee coin (exactly one, in uallo),
 * fee >= ceil(gas x price) and fee grant checks with the chain's codes and texts; out of
 * gas at delivery.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devfees.h"
#include "devhooks.h"
#include "fees.pb-c.h"
#include "submitter/fees.h"
#include "util.h"

#define MAXGRANTS	64

struct grant {
	char		 granter[96];
	char		 grantee[96];
	uint64_t	 left;
	double		 expires;	/* epoch seconds, 0 = never */
	int		 gone;		/* used up: the chain deletes it */
};

static struct {
	int		 walk;
	int		 no_feemarket;
	fee_price_t	 base;
	fee_price_t	 price;
	uint64_t	 rng;
	uint64_t	 gas_used;
	struct grant	 grants[MAXGRANTS];
	size_t		 ngrants;
	double		 started;
} F = { .gas_used = 120000 };

int
devfees_option(int opt, const char *arg)
{
	long v;

	switch (opt) {
	case DEVFEES_OPT_WALK:
		F.walk = 1;
		return 0;
	case DEVFEES_OPT_NO_FM:
		F.no_feemarket = 1;
		return 0;
	case DEVFEES_OPT_GAS_USED:
		if (parse_long(arg, 1, 100000000, &v) == -1)
			return -1;
		F.gas_used = (uint64_t)v;
		return 0;
	case DEVFEES_OPT_GRANT: {
		char *cp, *f[4], *save = NULL, *tok;
		int nf = 0;
		struct grant *g;
		double d;

		if (F.ngrants >= MAXGRANTS)
			return -1;
		cp = xstrdup(arg);
		for (tok = strtok_r(cp, ":", &save); tok != NULL && nf < 4;
		    tok = strtok_r(NULL, ":", &save))
			f[nf++] = tok;
		g = &F.grants[F.ngrants];
		memset(g, 0, sizeof(*g));
		if (nf < 3 || strncmp(f[0], "allo1", 5) != 0 || strncmp(f[1], "allo1", 5) != 0 ||
		    strlen(f[0]) >= sizeof(g->granter) || strlen(f[1]) >= sizeof(g->grantee) ||
		    parse_long(f[2], 0, 1L << 62, &v) == -1 ||
		    (nf == 4 && (parse_double(f[3], &d) == -1 || d < 0))) {
			free(cp);
			return -1;
		}
		snprintf(g->granter, sizeof(g->granter), "%s", f[0]);
		snprintf(g->grantee, sizeof(g->grantee), "%s", f[1]);
		g->left = (uint64_t)v;
		g->expires = nf == 4 ? d : -1;	/* relative until devfees_start */
		F.ngrants++;
		free(cp);
		return 0;
	}
	}
	return -1;
}

void
devfees_start(uint64_t min_gas_price, uint64_t seed)
{
	size_t i;

	F.base = (fee_price_t)min_gas_price * FEE_PRICE_ONE;
	F.price = F.base;
	F.rng = seed ? seed : 88172645463325252ULL;
	F.started = wall_s();
	for (i = 0; i < F.ngrants; i++)
		F.grants[i].expires = F.grants[i].expires < 0 ? 0 : F.started +
		    F.grants[i].expires;
}

static double
frand(void)
{
	F.rng ^= F.rng << 13;
	F.rng ^= F.rng >> 7;
	F.rng ^= F.rng << 17;
	return (double)(F.rng >> 11) / 9007199254740992.0;
}

/*
 * The walk: each block the price is multiplied by a factor from 0.85 to 1.25 (to 18
 * decimals, as the feemarket's LegacyDec), kept from the base price to 8 times it.
 */
void
devfees_block(void)
{
	fee_price_t f;

	if (!F.walk || F.base == 0)
		return;
	f = (fee_price_t)((0.85 + 0.40 * frand()) * 1e9);	/* the factor x 10^9 */
	F.price = F.price / 1000000000u * f + (F.price % 1000000000u) * f / 1000000000u;
	if (F.price < F.base)
		F.price = F.base + F.base / 7;
	if (F.price > F.base * 8)
		F.price = F.base * 8 - F.base / 3;
}

uint64_t
devfees_gas_used(void)
{
	return F.gas_used;
}

static struct grant *
grant_of(const char *granter, const char *grantee)
{
	size_t i;

	for (i = 0; i < F.ngrants; i++)
		if (!F.grants[i].gone && strcmp(F.grants[i].granter, granter) == 0 &&
		    strcmp(F.grants[i].grantee, grantee) == 0)
			return &F.grants[i];
	return NULL;
}

int
devfees_abci(const char *path, const uint8_t *data, size_t len, long *code, char **log,
    uint8_t **val, size_t *vlen)
{
	char amt[64], dec[80];

	*code = 0;
	*log = NULL;
	*val = NULL;
	*vlen = 0;
	if (strcmp(path, FEES_GAS_PRICE_PATH) == 0) {
		Awf__GasPriceRequest *q = awf__gas_price_request__unpack(NULL, len, data);
		Awf__GasPriceResponse r = AWF__GAS_PRICE_RESPONSE__INIT;
		Awf__DecCoin dc = AWF__DEC_COIN__INIT;
		int ours = q != NULL && q->denom != NULL && strcmp(q->denom, FEES_DENOM) == 0;

		if (q != NULL)
			awf__gas_price_request__free_unpacked(q, NULL);
		if (F.no_feemarket) {
			*code = 6;
			*log = xasprintf("unknown query path");
			return 0;
		}
		if (!ours) {
			*code = 2;	/* the feemarket's answer for a denom it does not price */
			*log = xasprintf("unable to get gas price: denom not supported");
			return 0;
		}
		fees_price_wire(F.price, amt, sizeof(amt));
		dc.denom = (char *)FEES_DENOM;
		dc.amount = amt;
		r.price = &dc;
		*vlen = awf__gas_price_response__get_packed_size(&r);
		*val = xmalloc(*vlen + 1);
		awf__gas_price_response__pack(&r, *val);
		return 0;
	}
	if (strcmp(path, FEES_NODE_CONFIG_PATH) == 0) {
		Awf__NodeConfigResponse r = AWF__NODE_CONFIG_RESPONSE__INIT;

		fees_price_dec18(F.base, dec, sizeof(dec));
		snprintf(amt, sizeof(amt), "%suallo", dec);
		r.minimum_gas_price = amt;
		*vlen = awf__node_config_response__get_packed_size(&r);
		*val = xmalloc(*vlen + 1);
		awf__node_config_response__pack(&r, *val);
		return 0;
	}
	if (strcmp(path, FEES_ALLOWANCE_PATH) == 0) {
		Awf__QueryAllowanceRequest *q = awf__query_allowance_request__unpack(NULL, len, data);
		Awf__QueryAllowanceResponse r = AWF__QUERY_ALLOWANCE_RESPONSE__INIT;
		Awf__Grant gr = AWF__GRANT__INIT;
		Awf__Any any = AWF__ANY__INIT;
		Awf__BasicAllowance ba = AWF__BASIC_ALLOWANCE__INIT;
		Awf__Coin c = AWF__COIN__INIT, *cs[1] = { &c };
		Awf__Timestamp ts = AWF__TIMESTAMP__INIT;
		struct grant *g = q != NULL && q->granter != NULL && q->grantee != NULL ?
		    grant_of(q->granter, q->grantee) : NULL;
		uint8_t *bb;

		if (g == NULL) {
			*code = 5;
			*log = xasprintf("fee-grant not found: no allowance");
			if (q != NULL)
				awf__query_allowance_request__free_unpacked(q, NULL);
			return 0;
		}
		snprintf(amt, sizeof(amt), "%" PRIu64, g->left);
		c.denom = (char *)FEES_DENOM;
		c.amount = amt;
		ba.n_spend_limit = 1;
		ba.spend_limit = cs;
		if (g->expires > 0) {
			ts.seconds = (int64_t)g->expires;
			ba.expiration = &ts;
		}
		any.type_url = (char *)"/cosmos.feegrant.v1beta1.BasicAllowance";
		any.value.len = awf__basic_allowance__get_packed_size(&ba);
		any.value.data = bb = xmalloc(any.value.len + 1);
		awf__basic_allowance__pack(&ba, bb);
		gr.granter = g->granter;
		gr.grantee = g->grantee;
		gr.allowance = &any;
		r.allowance = &gr;
		*vlen = awf__query_allowance_response__get_packed_size(&r);
		*val = xmalloc(*vlen + 1);
		awf__query_allowance_response__pack(&r, *val);
		free(bb);
		awf__query_allowance_request__free_unpacked(q, NULL);
		return 0;
	}
	return -1;
}
DEVNET_QUERY(devfees_abci)	/* asked by abci_query (devquery.c) */

int
devfees_checktx(json_t *dec, const char *signer, int spike, char *payer, size_t payerlen,
    uint64_t *fee, long *code, char **log, const char **codespace)
{
	json_t *ai = json_object_get(dec, "auth_info");
	json_t *coins = json_object_get(ai, "fee");
	const char *memo = json_string_value(json_object_get(json_object_get(dec, "body"),
	    "memo"));
	const char *granter = json_string_value(json_object_get(ai, "fee_granter"));
	const char *denom, *amt;
	uint64_t gas = (uint64_t)json_integer_value(json_object_get(ai, "gas_limit")), need;
	fee_price_t price = F.no_feemarket ? F.base : F.price;
	char pt[80];
	struct grant *g;

	*code = 0;
	*log = NULL;
	*codespace = "sdk";
	*fee = 0;
	snprintf(payer, payerlen, "%s", signer);
	/* ValidateMemoDecorator: max_memo_characters (256). */
	if (memo != NULL && strlen(memo) > FEES_MEMO_MAX) {
		*code = 12;
		*log = xasprintf("maximum number of characters is %d but received %zu characters: "
		    "memo too large", FEES_MEMO_MAX, strlen(memo));
		return -1;
	}
	if (json_array_size(coins) > 1) {
		*code = 1;
		*codespace = "feemarket";
		*log = xasprintf("too many fee coins provided.  Only one fee coin may be provided");
		return -1;
	}
	denom = json_string_value(json_object_get(json_array_get(coins, 0), "denom"));
	amt = json_string_value(json_object_get(json_array_get(coins, 0), "amount"));
	if (amt != NULL && denom != NULL && strcmp(denom, FEES_DENOM) == 0)
		*fee = strtoull(amt, NULL, 10);
	if (spike > 1)
		price *= (fee_price_t)spike;
	need = fees_fee(gas, price);
	if (*fee < need || denom == NULL || strcmp(denom, FEES_DENOM) != 0) {
		*code = 13;
		fees_price_dec18(price, pt, sizeof(pt));
		if (F.no_feemarket || spike > 1)
			*log = xasprintf("insufficient fees; got: %s%s required: %" PRIu64 "uallo: "
			    "insufficient fee", amt ? amt : "", denom ? denom : "", need);
		else	/* skip-mev/feemarket ante/fee.go CheckTxFee */
			*log = xasprintf("error checking fee: got: %s%s required: %" PRIu64
			    "uallo, minGasPrice: %suallo, gas: %" PRIu64 ": insufficient fee",
			    amt ? amt : "", denom ? denom : "", need, pt, gas);
		return -1;
	}
	if (granter == NULL || strcmp(granter, signer) == 0)
		return 0;
	/* x/auth/ante/fee.go checkDeductFee -> feegrant UseGrantedFees. */
	g = grant_of(granter, signer);
	if (g == NULL) {
		*code = 5;
		*codespace = "feegrant";
		*log = xasprintf("%s does not not allow to pay fees for %s: fee-grant not found: "
		    "no allowance", granter, signer);
		return -1;
	}
	if (g->expires > 0 && wall_s() >= g->expires) {
		*code = 3;
		*codespace = "feegrant";
		*log = xasprintf("%s does not not allow to pay fees for %s: basic allowance: fee "
		    "allowance expired", granter, signer);
		return -1;
	}
	if (g->left < *fee) {
		*code = 2;
		*codespace = "feegrant";
		*log = xasprintf("%s does not not allow to pay fees for %s: basic allowance: fee "
		    "limit exceeded", granter, signer);
		return -1;
	}
	snprintf(payer, payerlen, "%s", granter);
	return 0;
}

void
devfees_accepted(json_t *dec, const char *signer, uint64_t fee)
{
	const char *granter = json_string_value(json_object_get(json_object_get(dec,
	    "auth_info"), "fee_granter"));
	struct grant *g;

	if (granter == NULL || strcmp(granter, signer) == 0 ||
	    (g = grant_of(granter, signer)) == NULL)
		return;
	g->left -= fee <= g->left ? fee : g->left;
	if (g->left == 0)
		g->gone = 1;	/* a spent BasicAllowance is removed */
}

int
devfees_deliver(json_t *dec, long *code, char **log, const char **codespace)
{
	uint64_t gas = (uint64_t)json_integer_value(json_object_get(json_object_get(dec,
	    "auth_info"), "gas_limit"));

	if (gas >= F.gas_used)
		return 0;
	*code = 11;
	*codespace = "sdk";
	*log = xasprintf("out of gas in location: InsertWorkerPayload; gasWanted: %" PRIu64
	    ", gasUsed: %" PRIu64 ": out of gas", gas, F.gas_used);
	return 1;
}

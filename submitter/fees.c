/*
 * Fees as the chain sets them: the gas price (feemarket GasPrice, the node's minimum gas
 * price, or the configured one), the fee arithmetic and its display in uallo and ALLO, and
 * the feegrant allowance.  Owns these chain queries (paths, requests, decoding); see fees.h
 * and PROTOCOL-NOTES.md ("Fees: feemarket, feegrant, error texts").
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fees.h"
#include "fees.pb-c.h"
#include "log.h"
#include "rpc.h"
#include "tx.h"
#include "util.h"

#define U128_MAX	(~(fee_price_t)0)

/* ---- numbers ---- */

static int
add_digit(fee_price_t *v, int d)
{
	if (*v > (U128_MAX - (fee_price_t)d) / 10)
		return -1;
	*v = *v * 10 + (fee_price_t)d;
	return 0;
}

int
fees_price_parse(const char *s, fee_price_t *out)
{
	fee_price_t v = 0;
	int frac = -1, nd = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (frac >= 0 || nd == 0)
				return -1;
			frac = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return -1;
		if (frac >= 0 && ++frac > 18)
			return -1;
		if (add_digit(&v, *s - '0') == -1)
			return -1;
		nd++;
	}
	if (nd == 0 || frac == 0)
		return -1;
	for (frac = frac < 0 ? 0 : frac; frac < 18; frac++)
		if (add_digit(&v, 0) == -1)
			return -1;
	*out = v;
	return 0;
}

int
fees_price_from_wire(const char *s, fee_price_t *out)
{
	fee_price_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, '.') != NULL)
		return fees_price_parse(s, out);
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) || add_digit(&v, *s - '0') == -1)
			return -1;
	}
	*out = v;
	return 0;
}

/* Decimal text of a 128-bit integer. */
static void
u128_text(fee_price_t v, char *buf, size_t len)
{
	char tmp[48];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0 && i > 0);
	snprintf(buf, len, "%s", tmp + i);
}

void
fees_price_wire(fee_price_t p, char *buf, size_t len)
{
	u128_text(p, buf, len);
}

/* value / 10^scale as a decimal, trailing zeros trimmed unless keep. */
static void
scaled_text(fee_price_t v, int scale, int keep, char *buf, size_t len)
{
	char digits[48], *d;
	size_t n;
	int i;

	u128_text(v, digits, sizeof(digits));
	n = strlen(digits);
	if ((int)n <= scale) {
		char pad[96];

		memset(pad, '0', (size_t)scale - n + 1);
		memcpy(pad + scale - n + 1, digits, n + 1);
		snprintf(digits, sizeof(digits), "%s", pad);
		n = strlen(digits);
	}
	d = digits;
	{
		char out[64];
		size_t ip = n - (size_t)scale;

		memcpy(out, d, ip);
		out[ip] = '\0';
		if (scale > 0) {
			out[ip] = '.';
			memcpy(out + ip + 1, d + ip, (size_t)scale + 1);
			if (!keep) {
				i = (int)strlen(out) - 1;
				while (out[i] == '0')
					out[i--] = '\0';
				if (out[i] == '.')
					out[i] = '\0';
			}
		}
		snprintf(buf, len, "%s", out);
	}
}

void
fees_price_text(fee_price_t p, char *buf, size_t len)
{
	scaled_text(p, 18, 0, buf, len);
}

void
fees_price_dec18(fee_price_t p, char *buf, size_t len)
{
	scaled_text(p, 18, 1, buf, len);
}

uint64_t
fees_fee(uint64_t gas, fee_price_t p)
{
	fee_price_t f;

	if (gas == 0 || p == 0)
		return 0;
	if (p > U128_MAX / gas)
		return UINT64_MAX;
	f = p * gas;
	f = f / FEE_PRICE_ONE + (f % FEE_PRICE_ONE != 0);
	return f > UINT64_MAX ? UINT64_MAX : (uint64_t)f;
}

void
fees_allo_text(uint64_t uallo, char *buf, size_t len)
{
	scaled_text(uallo, 18, 0, buf, len);
}

void
fees_both_units(uint64_t uallo, char *buf, size_t len)
{
	char a[64];

	fees_allo_text(uallo, a, sizeof(a));
	snprintf(buf, len, "%" PRIu64 " uallo (%s ALLO)", uallo, a);
}

/* ---- queries ---- */

uint8_t *
fees_gas_price_request(size_t *len)
{
	Awf__GasPriceRequest r = AWF__GAS_PRICE_REQUEST__INIT;
	uint8_t *buf;

	r.denom = (char *)FEES_DENOM;
	*len = awf__gas_price_request__get_packed_size(&r);
	buf = xmalloc(*len + 1);
	awf__gas_price_request__pack(&r, buf);
	return buf;
}

int
fees_gas_price_decode(const uint8_t *v, size_t n, fee_price_t *p, char *err, size_t errlen)
{
	Awf__GasPriceResponse *r = awf__gas_price_response__unpack(NULL, n, v);
	int rc = -1;

	if (r == NULL || r->price == NULL || r->price->amount == NULL)
		snprintf(err, errlen, "the feemarket answer holds no price");
	else if (r->price->denom == NULL || strcmp(r->price->denom, FEES_DENOM) != 0)
		snprintf(err, errlen, "the feemarket price is in \"%s\", not uallo",
		    r->price->denom ? r->price->denom : "");
	else if (fees_price_from_wire(r->price->amount, p) == -1)
		snprintf(err, errlen, "the feemarket price \"%.40s\" is not a decimal",
		    r->price->amount);
	else
		rc = 0;
	if (r != NULL)
		awf__gas_price_response__free_unpacked(r, NULL);
	return rc;
}

int
fees_min_gas_prices_parse(const char *s, fee_price_t *p)
{
	char *copy, *tok, *save = NULL;
	int rc = -1;

	if (s == NULL)
		return -1;
	copy = xstrdup(s);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok), dl = strlen(FEES_DENOM);

		while (*tok == ' ')
			tok++, n--;
		if (n > dl && strcmp(tok + n - dl, FEES_DENOM) == 0) {
			tok[n - dl] = '\0';
			rc = fees_price_parse(tok, p);
			break;
		}
	}
	free(copy);
	return rc;
}

int
fees_node_config_decode(const uint8_t *v, size_t n, fee_price_t *p, char *err, size_t errlen)
{
	Awf__NodeConfigResponse *r = awf__node_config_response__unpack(NULL, n, v);
	int rc = -1;

	if (r == NULL)
		snprintf(err, errlen, "the node's configuration answer does not decode");
	else if (fees_min_gas_prices_parse(r->minimum_gas_price, p) == -1)
		snprintf(err, errlen, "the node's minimum gas price \"%.60s\" names no uallo price",
		    r->minimum_gas_price ? r->minimum_gas_price : "");
	else
		rc = 0;
	if (r != NULL)
		awf__node_config_response__free_unpacked(r, NULL);
	return rc;
}

uint8_t *
fees_allowance_request(const char *granter, const char *grantee, size_t *len)
{
	Awf__QueryAllowanceRequest r = AWF__QUERY_ALLOWANCE_REQUEST__INIT;
	uint8_t *buf;

	r.granter = (char *)granter;
	r.grantee = (char *)grantee;
	*len = awf__query_allowance_request__get_packed_size(&r);
	buf = xmalloc(*len + 1);
	awf__query_allowance_request__pack(&r, buf);
	return buf;
}

/* The uallo amount of a coin list; -1 when it names no uallo (nothing may be spent). */
static int
coins_uallo(Awf__Coin **c, size_t n, uint64_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i]->denom != NULL && strcmp(c[i]->denom, FEES_DENOM) == 0 &&
		    c[i]->amount != NULL) {
			*out = strtoull(c[i]->amount, NULL, 10);
			return 0;
		}
	return -1;
}

static void
basic_into(const Awf__BasicAllowance *b, struct fee_allowance *a)
{
	uint64_t v = 0;

	if (b == NULL)
		return;
	if (b->n_spend_limit > 0) {
		a->limited = 1;
		a->left = coins_uallo(b->spend_limit, b->n_spend_limit, &v) == 0 ? v : 0;
	}
	if (b->expiration != NULL)
		a->expires = (double)b->expiration->seconds + b->expiration->nanos / 1e9;
}

static int
allowance_any(const char *url, const uint8_t *v, size_t n, struct fee_allowance *a, int depth,
    char *err, size_t errlen)
{
	const char *name = url != NULL ? strrchr(url, '.') : NULL;

	if (name == NULL || depth > 4) {
		snprintf(err, errlen, "an allowance of unknown type \"%s\"", url ? url : "");
		return -1;
	}
	name++;
	if (a->kind[0] == '\0')
		snprintf(a->kind, sizeof(a->kind), "%s", name);
	if (strcmp(name, "BasicAllowance") == 0) {
		Awf__BasicAllowance *b = awf__basic_allowance__unpack(NULL, n, v);

		if (b == NULL)
			goto bad;
		basic_into(b, a);
		awf__basic_allowance__free_unpacked(b, NULL);
		return 0;
	}
	if (strcmp(name, "PeriodicAllowance") == 0) {
		Awf__PeriodicAllowance *pa = awf__periodic_allowance__unpack(NULL, n, v);
		uint64_t can = 0;

		if (pa == NULL)
			goto bad;
		basic_into(pa->basic, a);
		if (pa->n_period_can_spend > 0 || pa->n_period_spend_limit > 0) {
			if (coins_uallo(pa->period_can_spend, pa->n_period_can_spend, &can) == -1)
				can = 0;
			if (!a->limited || can < a->left)
				a->left = can;
			a->limited = 1;
		}
		if (pa->period_reset != NULL)
			a->period_reset = (double)pa->period_reset->seconds;
		awf__periodic_allowance__free_unpacked(pa, NULL);
		return 0;
	}
	if (strcmp(name, "AllowedMsgAllowance") == 0) {
		Awf__AllowedMsgAllowance *am = awf__allowed_msg_allowance__unpack(NULL, n, v);
		size_t i;
		int rc;

		if (am == NULL || am->allowance == NULL) {
			if (am != NULL)
				awf__allowed_msg_allowance__free_unpacked(am, NULL);
			goto bad;
		}
		a->msg_allowed = 0;
		for (i = 0; i < am->n_allowed_messages; i++)
			if (strstr(am->allowed_messages[i], "InsertWorkerPayload") != NULL)
				a->msg_allowed = 1;
		rc = allowance_any(am->allowance->type_url, am->allowance->value.data,
		    am->allowance->value.len, a, depth + 1, err, errlen);
		awf__allowed_msg_allowance__free_unpacked(am, NULL);
		return rc;
	}
	snprintf(err, errlen, "an allowance of unknown type \"%s\"", url);
	return -1;
bad:
	snprintf(err, errlen, "the %s does not decode", name);
	return -1;
}

int
fees_allowance_decode(const uint8_t *v, size_t n, struct fee_allowance *a, char *err,
    size_t errlen)
{
	Awf__QueryAllowanceResponse *r = awf__query_allowance_response__unpack(NULL, n, v);
	int rc;

	memset(a, 0, sizeof(*a));
	a->msg_allowed = 1;
	if (r == NULL) {
		snprintf(err, errlen, "the feegrant answer does not decode");
		return -1;
	}
	if (r->allowance == NULL || r->allowance->allowance == NULL) {
		awf__query_allowance_response__free_unpacked(r, NULL);
		return 1;
	}
	rc = allowance_any(r->allowance->allowance->type_url, r->allowance->allowance->value.data,
	    r->allowance->allowance->value.len, a, 0, err, errlen);
	awf__query_allowance_response__free_unpacked(r, NULL);
	return rc;
}

int
fees_allowance_answer(long code, const char *log, const uint8_t *v, size_t n,
    struct fee_allowance *a, char *err, size_t errlen)
{
	if (code != 0) {
		memset(a, 0, sizeof(*a));
		if (log != NULL && (strstr(log, "not found") != NULL ||
		    strstr(log, "no allowance") != NULL))
			return 1;
		snprintf(err, errlen, "%s", log != NULL && *log != '\0' ? log : "refused");
		return -1;
	}
	return fees_allowance_decode(v, n, a, err, errlen);
}

void
fees_allowance_text(const struct fee_allowance *a, char *buf, size_t len)
{
	char amt[96], exp[64], ts[40];

	if (a->limited) {
		fees_both_units(a->left, amt, sizeof(amt));
		strncat(amt, " left", sizeof(amt) - strlen(amt) - 1);
	} else
		snprintf(amt, sizeof(amt), "no spend limit");
	if (a->expires > 0)
		snprintf(exp, sizeof(exp), ", expires %s", iso8601(a->expires, ts, sizeof(ts)));
	else
		snprintf(exp, sizeof(exp), ", no expiry");
	snprintf(buf, len, "%s, %s%s%s", a->kind, amt, exp, a->msg_allowed ? "" :
	    ", but not for InsertWorkerPayload");
}

/* ---- the submitter's price ---- */

static struct {
	int		 auto_mode;
	fee_price_t	 price;
	int		 known;
	const char	*source;
	double		 at;		/* mono_s of the last answer */
	int		 pending;
	struct rpc	*rpc;
	void		(*on_change)(void);
} P;

int
fees_price_config(const char *conf, char *err, size_t errlen)
{
	fee_price_t p;

	if (conf == NULL || strcmp(conf, "auto") == 0) {
		if (!P.auto_mode)
			P.known = 0;
		P.auto_mode = 1;
		return 0;
	}
	if (fees_price_parse(conf, &p) == -1) {
		snprintf(err, errlen, "gas_price \"%s\" is neither auto nor a decimal number", conf);
		return -1;
	}
	P.auto_mode = 0;
	P.price = p;
	P.known = 1;
	P.source = "configured";
	return 0;
}

static void
price_set(fee_price_t p, const char *source)
{
	char t[64];
	int changed = !P.known || p != P.price;

	P.pending = 0;
	P.at = mono_s();
	if (changed) {
		fees_price_text(p, t, sizeof(t));
		log_info("gas price %s uallo/gas (%s)", t, source);
	}
	P.price = p;
	P.source = source;
	P.known = 1;
	if (P.on_change != NULL)
		P.on_change();
}

static void
node_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	fee_price_t p;
	char err[160];

	if (st == RPC_OK && a->code == 0 &&
	    fees_node_config_decode(a->value, a->value_len, &p, err, sizeof(err)) == 0) {
		price_set(p, "node minimum");
		return;
	}
	P.pending = 0;
	P.at = mono_s() - FEES_REFRESH_S + 2;	/* ask again in 2 s */
	log_warnx("the gas price: neither the feemarket module nor the node answers (%s)%s",
	    st != RPC_OK ? error : a->code != 0 ? a->log : err,
	    P.known ? "; keeping the last price" : "");
	if (P.known && P.on_change != NULL)
		P.on_change();
}

static void
feemarket_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	fee_price_t p;
	char err[160];

	if (st == RPC_OK && a->code == 0 &&
	    fees_gas_price_decode(a->value, a->value_len, &p, err, sizeof(err)) == 0) {
		price_set(p, "feemarket");
		return;
	}
	if (st != RPC_OK) {
		P.pending = 0;
		P.at = mono_s() - FEES_REFRESH_S + 2;
		log_warnx("the gas price: %s (retrying)", error);
		return;
	}
	/* No feemarket module on this chain (or no uallo price): the node's minimum. */
	log_debug("feemarket GasPrice: %s; asking the node's minimum gas price",
	    a->code != 0 ? a->log : err);
	if (rpc_abci_query(P.rpc, FEES_NODE_CONFIG_PATH, (const uint8_t *)"", 0, node_done,
	    NULL) == -1)
		P.pending = 0;
}

void
fees_price_refresh(struct rpc *rpc, int force, void (*on_change)(void))
{
	uint8_t *req;
	size_t n;

	if (on_change != NULL)
		P.on_change = on_change;
	if (!P.auto_mode || P.pending)
		return;
	if (!force && P.known && mono_s() - P.at < FEES_REFRESH_S)
		return;
	if (!force && !P.known && P.at > 0 && mono_s() - P.at < 2)
		return;	/* a failed attempt just now */
	P.rpc = rpc;
	P.pending = 1;
	req = fees_gas_price_request(&n);
	if (rpc_abci_query(rpc, FEES_GAS_PRICE_PATH, req, n, feemarket_done, NULL) == -1)
		P.pending = 0;
	free(req);
}

int
fees_price_current(fee_price_t *p, const char **source)
{
	if (!P.known)
		return 0;
	*p = P.price;
	if (source != NULL)
		*source = P.source;
	return 1;
}

/* ---- policy ---- */

const char *
fees_wallet_granter(const struct config *c, const char *wallet)
{
	const struct config_wallet *w = c != NULL ? config_wallet(c, wallet) : NULL;

	return w != NULL && w->fee_granter != NULL && *w->fee_granter != '\0' ?
	    w->fee_granter : NULL;
}

uint64_t
fees_submission_fee(uint64_t gas, uint64_t cap)
{
	fee_price_t p = 0;
	uint64_t f;

	(void)fees_price_current(&p, NULL);
	f = fees_fee(gas, p);
	return f > cap ? cap : f;
}

int
fees_over_cap(uint64_t fee, uint64_t gas, uint64_t cap, char *msg, size_t msglen)
{
	char a[96], b[96], pt[64];
	fee_price_t p = 0;

	if (fee <= cap)
		return 0;
	fees_both_units(fee, a, sizeof(a));
	fees_both_units(cap, b, sizeof(b));
	if (fees_price_current(&p, NULL))
		fees_price_text(p, pt, sizeof(pt));
	else
		snprintf(pt, sizeof(pt), "?");
	snprintf(msg, msglen, "the fee %s (%" PRIu64 " gas at %s uallo/gas) is over max_fee %s; "
	    "not signed", a, gas, pt, b);
	return 1;
}

int
fees_allowance_short(const struct fee_allowance *a, uint64_t fee, const char *granter,
    char *msg, size_t msglen)
{
	char f[96], l[96], ts[40];

	if (a->expires > 0 && wall_s() >= a->expires) {
		snprintf(msg, msglen, "the fee grant of %s expired at %s; not signed",
		    granter ? granter : "?", iso8601(a->expires, ts, sizeof(ts)));
		return 1;
	}
	if (!a->msg_allowed) {
		snprintf(msg, msglen, "the fee grant of %s does not allow InsertWorkerPayload; "
		    "not signed", granter ? granter : "?");
		return 1;
	}
	if (a->limited && a->left < fee && !(a->period_reset > 0 && wall_s() >= a->period_reset)) {
		fees_both_units(fee, f, sizeof(f));
		fees_both_units(a->left, l, sizeof(l));
		snprintf(msg, msglen, "the fee grant of %s has %s left, the fee is %s; not signed",
		    granter ? granter : "?", l, f);
		return 1;
	}
	return 0;
}

int
fees_grant_error(const char *log)
{
	static const char *texts[] = { "fee-grant not found", "fee limit exceeded",
	    "fee allowance expired", "not allow to pay fees", "fee grants are not enabled",
	    "message not allowed" };
	size_t i;

	for (i = 0; log != NULL && i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcasestr(log, texts[i]) != NULL)
			return 1;
	return 0;
}

int
fees_granter_policy(const uint8_t *raw, size_t len, const char *want, char *err,
    size_t errlen)
{
	char e[160];
	json_t *d = tx_decode(raw, len, NULL, -1, e, sizeof(e));
	const char *g;
	int rc = 0;

	if (d == NULL) {
		snprintf(err, errlen, "the transaction just built does not decode: %s", e);
		return -1;
	}
	g = json_string_value(json_object_get(json_object_get(d, "auth_info"), "fee_granter"));
	if ((g == NULL) != (want == NULL) || (g != NULL && strcmp(g, want) != 0)) {
		snprintf(err, errlen, "refusing to sign: the fee granter would be %s, the "
		    "configuration allows %s", g ? g : "none", want ? want : "none");
		rc = -1;
	}
	json_decref(d);
	return rc;
}

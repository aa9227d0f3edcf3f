/* Fees (submitter/fees.c): prices as the chain writes them, fee arithmetic, the ALLO display,
 * the node's minimum gas prices, allowances; the fee keys of the configuration. */
#include "config.h"
#include "submitter/fees.h"
#include "fees.pb-c.h"
#include "t.h"
#include "util.h"

T_TEST(price_parse_and_text)
{
	fee_price_t p;
	char b[80];

	T_ASSERT(fees_price_parse("250000000", &p) == 0);
	fees_price_text(p, b, sizeof(b));
	T_EQ_STR(b, "250000000");
	T_ASSERT(fees_price_parse("0.025", &p) == 0);
	fees_price_text(p, b, sizeof(b));
	T_EQ_STR(b, "0.025");
	fees_price_dec18(p, b, sizeof(b));
	T_EQ_STR(b, "0.025000000000000000");
	T_ASSERT(fees_price_parse("0.000000000000000001", &p) == 0 && p == 1);
	T_ASSERT(fees_price_parse("0.0000000000000000001", &p) == -1);	/* 19 decimals */
	T_ASSERT(fees_price_parse("1e3", &p) == -1);
	T_ASSERT(fees_price_parse("-1", &p) == -1);
	T_ASSERT(fees_price_parse("1.", &p) == -1);
	T_ASSERT(fees_price_parse(".5", &p) == -1);
	T_ASSERT(fees_price_parse("", &p) == -1);
	T_ASSERT(fees_price_parse("999999999999999999999999999999999999999", &p) == -1);
}

T_TEST(price_wire_is_legacydec_integer)
{
	fee_price_t p;
	char b[80];

	/* LegacyDec on the wire: value x 10^18 as an integer. */
	T_ASSERT(fees_price_from_wire("250000000000000000000000000", &p) == 0);
	fees_price_text(p, b, sizeof(b));
	T_EQ_STR(b, "250000000");
	T_ASSERT(fees_price_from_wire("10.5", &p) == 0);
	fees_price_text(p, b, sizeof(b));
	T_EQ_STR(b, "10.5");
	fees_price_wire(p, b, sizeof(b));
	T_EQ_STR(b, "10500000000000000000");
	T_ASSERT(fees_price_from_wire("12x", &p) == -1);
}

T_TEST(fee_is_ceil_and_saturates)
{
	fee_price_t p;

	T_ASSERT(fees_price_parse("250000000", &p) == 0);
	T_EQ_INT(fees_fee(144000, p), 36000000000000LL);
	T_ASSERT(fees_price_parse("0.025", &p) == 0);
	T_EQ_INT(fees_fee(144001, p), 3601);	/* 3600.025 rounds up */
	T_EQ_INT(fees_fee(0, p), 0);
	T_ASSERT(fees_price_parse("100000000000000000000", &p) == 0);
	T_ASSERT(fees_fee(1000000, p) == UINT64_MAX);
}

T_TEST(allo_units)
{
	char b[96];

	fees_both_units(10000000000000000ULL, b, sizeof(b));
	T_EQ_STR(b, "10000000000000000 uallo (0.01 ALLO)");
	fees_both_units(1000000000000000000ULL, b, sizeof(b));
	T_EQ_STR(b, "1000000000000000000 uallo (1 ALLO)");
	fees_allo_text(36000000000000ULL, b, sizeof(b));
	T_EQ_STR(b, "0.000036");
	fees_allo_text(0, b, sizeof(b));
	T_EQ_STR(b, "0");
}

T_TEST(node_minimum_gas_prices)
{
	fee_price_t p;
	char b[80];

	T_ASSERT(fees_min_gas_prices_parse("0.5stake,10.000000000000000000uallo", &p) == 0);
	fees_price_text(p, b, sizeof(b));
	T_EQ_STR(b, "10");
	T_ASSERT(fees_min_gas_prices_parse("1stake", &p) == -1);
	T_ASSERT(fees_min_gas_prices_parse("", &p) == -1);
}

T_TEST(over_cap_message)
{
	char m[512];

	T_ASSERT(fees_over_cap(100, 10, 100, m, sizeof(m)) == 0);
	T_ASSERT(fees_over_cap(36000000000000ULL, 144000, 1000000, m, sizeof(m)) == 1);
	T_CHECK(strstr(m, "36000000000000 uallo (0.000036 ALLO)") != NULL);
	T_CHECK(strstr(m, "max_fee 1000000 uallo (0.000000000001 ALLO)") != NULL);
}

T_TEST(allowance_periodic_and_errors)
{
	Awf__Coin lim = AWF__COIN__INIT, can = AWF__COIN__INIT, *l1[1] = { &lim }, *c1[1] = { &can };
	Awf__BasicAllowance ba = AWF__BASIC_ALLOWANCE__INIT;
	Awf__PeriodicAllowance pa = AWF__PERIODIC_ALLOWANCE__INIT;
	Awf__Any any = AWF__ANY__INIT;
	Awf__Grant g = AWF__GRANT__INIT;
	Awf__QueryAllowanceResponse r = AWF__QUERY_ALLOWANCE_RESPONSE__INIT;
	struct fee_allowance a;
	uint8_t pb[256], rb[512];
	size_t n;
	char err[128], m[256];

	lim.denom = can.denom = (char *)"uallo";
	lim.amount = (char *)"5000000";
	can.amount = (char *)"700";
	ba.n_spend_limit = 1;
	ba.spend_limit = l1;
	pa.basic = &ba;
	pa.n_period_can_spend = 1;
	pa.period_can_spend = c1;
	any.type_url = (char *)"/cosmos.feegrant.v1beta1.PeriodicAllowance";
	any.value.data = pb;
	any.value.len = awf__periodic_allowance__pack(&pa, pb);
	g.allowance = &any;
	r.allowance = &g;
	n = awf__query_allowance_response__pack(&r, rb);
	T_ASSERT(fees_allowance_answer(0, "", rb, n, &a, err, sizeof(err)) == 0);
	T_EQ_STR(a.kind, "PeriodicAllowance");
	T_ASSERT(a.limited && a.left == 700);
	T_ASSERT(fees_allowance_short(&a, 701, "allo1g", m, sizeof(m)) == 1);
	T_ASSERT(fees_allowance_short(&a, 700, "allo1g", m, sizeof(m)) == 0);
	T_ASSERT(fees_allowance_answer(5, "fee-grant not found: no allowance", NULL, 0, &a, err,
	    sizeof(err)) == 1);
	T_ASSERT(fees_allowance_answer(1, "internal", NULL, 0, &a, err, sizeof(err)) == -1);
	T_ASSERT(fees_allowance_answer(0, "", (const uint8_t *)"\xff\xff", 2, &a, err,
	    sizeof(err)) == -1);
	T_ASSERT(fees_grant_error("x does not not allow to pay fees for y: basic allowance: fee "
	    "limit exceeded"));
	T_ASSERT(!fees_grant_error("insufficient fees"));
}

static char dir[] = "/tmp/aw-fees-XXXXXX";

static struct config *
load(const char *chain, const char *wallet, char *err, size_t errlen)
{
	char *p = xasprintf("%s/w.conf", dir), *key = xasprintf("%s/k", dir);
	FILE *f = fopen(p, "w");
	struct config *c;

	fprintf(f, "[global]\nstate_dir = /tmp/x\nrun_dir = /tmp/y\n[chain]\n%s\n"
	    "[wallet main]\nmnemonic_file = %s\n%s\n[topic 67]\n", chain, key, wallet);
	fclose(f);
	c = config_load(p, NULL, err, errlen);
	free(p);
	free(key);
	return c;
}

T_TEST(config_fee_keys_and_presets)
{
	struct config *c;
	char err[512];

	T_ASSERT(mkdtemp(dir) != NULL);
	c = load("", "", err, sizeof(err));
	T_ASSERT(c != NULL);
	T_EQ_STR(c->gas_price, "auto");
	T_EQ_INT(c->max_fee, 10000000000000000LL);
	T_ASSERT(c->network == NULL);
	config_free(c);
	c = load("network = mainnet", "", err, sizeof(err));
	T_ASSERT(c != NULL);
	T_EQ_STR(c->chain_id, "allora-mainnet-1");
	T_EQ_STR(c->rpc[0], "https://allora-rpc.mainnet.allora.network");
	T_EQ_STR(c->websocket, "wss://allora-rpc.mainnet.allora.network/websocket");
	T_EQ_STR(c->emissions, "v9");
	config_free(c);
	/* Explicit keys win; one's own rpc brings its own websocket. */
	c = load("network = mainnet\nrpc = http://node.example:26657\nemissions = auto", "", err,
	    sizeof(err));
	T_ASSERT(c != NULL);
	T_EQ_STR(c->chain_id, "allora-mainnet-1");
	T_EQ_STR(c->websocket, "ws://node.example:26657/websocket");
	T_EQ_STR(c->emissions, "auto");
	config_free(c);
	c = load("network = testnet", "", err, sizeof(err));
	T_ASSERT(c != NULL && strcmp(c->chain_id, "allora-testnet-1") == 0 &&
	    strcmp(c->emissions, "v10") == 0);
	config_free(c);
	T_ASSERT(load("network = devnet", "", err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "w.conf:5: network must be one of testnet|mainnet") != NULL);
	T_ASSERT(load("gas_price = cheap", "", err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "w.conf:5: gas_price \"cheap\" is neither auto nor") != NULL);
	c = load("gas_price = 0.025", "fee_granter = allo1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu",
	    err, sizeof(err));
	T_ASSERT(c != NULL);
	T_EQ_STR(c->wallets[0].fee_granter, "allo1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu");
	config_free(c);
	T_ASSERT(load("", "fee_granter = cosmos1abc", err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "w.conf:8: fee_granter \"cosmos1abc\" is not an allo1") != NULL);
	T_ASSERT(load("max_fee = 0.01", "", err, sizeof(err)) == NULL);
}

int
main(void)
{
	T_RUN(price_parse_and_text);
	T_RUN(price_wire_is_legacydec_integer);
	T_RUN(fee_is_ceil_and_saturates);
	T_RUN(allo_units);
	T_RUN(node_minimum_gas_prices);
	T_RUN(over_cap_message);
	T_RUN(allowance_periodic_and_errors);
	T_RUN(config_fee_keys_and_presets);
	return t_done();
}

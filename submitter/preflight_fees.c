/*
 * alloractl check's fee lines (issue 20), the submitter's part of the preflight: the gas
 * price (the chain's, through fees.c, or the configured one), the fee of a submission against
 * max_fee, each topic's fees per day at its epoch length, and a wallet's fee grant; and the
 * chain id guard of alloractl start with a network preset.  The fee knowledge itself (query
 * paths, decoding, arithmetic) is in fees.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "fees.h"
#include "preflight.h"
#include "query.pb-c.h"
#include "rpc_sync.h"
#include "submitter/ctl_chain.h"
#include "util.h"

#define CHECK_GAS	300000		/* the gas a submission is priced at (no simulation) */
#define ASSUMED_BLOCK_S	5.0		/* when the node does not tell its block times */

static fee_price_t check_price;		/* 0 until known */
static double block_s;			/* seconds per block, measured or assumed */
static int block_s_measured;

static uint64_t
check_fee(const struct config *c)
{
	uint64_t gas = c->gas_limit > 0 ? (uint64_t)c->gas_limit : CHECK_GAS;

	return fees_fee(gas, check_price);
}

/* The gas price: configured, or the chain's (feemarket, else the node's minimum).  -1 with
 * err. */
int
ctl_gas_price(struct sync *s, const struct config *c, fee_price_t *p, const char **src,
    char *err, size_t errlen)
{
	char e1[256], e2[256];
	uint8_t *req;
	size_t n;
	int ok;

	if (strcmp(c->gas_price, "auto") != 0) {
		*src = "configured";
		if (fees_price_parse(c->gas_price, p) == 0)
			return 0;
		snprintf(err, errlen, "gas_price \"%s\" is not a decimal", c->gas_price);
		return -1;
	}
	req = fees_gas_price_request(&n);
	ok = sync_abci(s, FEES_GAS_PRICE_PATH, req, n) == RPC_OK && s->code == 0 &&
	    fees_gas_price_decode(s->value, s->value_len, p, e1, sizeof(e1)) == 0;
	free(req);
	if (ok) {
		*src = "feemarket";
		return 0;
	}
	if (s->st != RPC_OK || s->code != 0)
		snprintf(e1, sizeof(e1), "%s", sync_why(s));
	if (sync_abci(s, FEES_NODE_CONFIG_PATH, (const uint8_t *)"", 0) == RPC_OK &&
	    s->code == 0 && fees_node_config_decode(s->value, s->value_len, p, e2,
	    sizeof(e2)) == 0) {
		*src = "node minimum";
		return 0;
	}
	if (s->st != RPC_OK || s->code != 0)
		snprintf(e2, sizeof(e2), "%s", sync_why(s));
	snprintf(err, errlen, "cannot read the chain's gas price: feemarket: %s; node: %s", e1,
	    e2);
	return -1;
}

static void
gas_price_line(struct sync *s, const struct config *c)
{
	char err[600], t[64];
	const char *src = NULL;

	if (ctl_gas_price(s, c, &check_price, &src, err, sizeof(err)) == -1) {
		preflight_line("gas price", L_ERR, "%s", err);
		return;
	}
	fees_price_text(check_price, t, sizeof(t));
	preflight_line("gas price", L_OK, "%s uallo/gas (%s)", t, src);
}

/* Seconds per block from the node's earliest and latest block (CometBFT status). */
static void
measure_block_time(json_t *status)
{
	json_t *si = json_object_get(status, "sync_info");
	const char *lh = json_string_value(json_object_get(si, "latest_block_height"));
	const char *eh = json_string_value(json_object_get(si, "earliest_block_height"));
	const char *lt = json_string_value(json_object_get(si, "latest_block_time"));
	const char *et = json_string_value(json_object_get(si, "earliest_block_time"));
	double t1, t0;
	long long h1, h0;

	if (block_s_measured || lh == NULL || eh == NULL || lt == NULL || et == NULL ||
	    parse_iso8601(lt, &t1) == -1 || parse_iso8601(et, &t0) == -1)
		return;
	h1 = atoll(lh);
	h0 = atoll(eh);
	if (h1 - h0 < 2 || t1 <= t0)
		return;
	block_s = (t1 - t0) / (double)(h1 - h0);
	block_s_measured = 1;
}

/* The fee of one submission against max_fee. */
static void
check_fee_line(const struct config *c)
{
	char f[96], cap[96];
	uint64_t fee = check_fee(c);

	fees_both_units(fee, f, sizeof(f));
	fees_both_units((uint64_t)c->max_fee, cap, sizeof(cap));
	if (fee > (uint64_t)c->max_fee)
		preflight_line("fee", L_ERR, "%s per submission (%ld gas) is over max_fee %s: "
		    "every window would be missed (fee_cap)", f, c->gas_limit > 0 ?
		    c->gas_limit : (long)CHECK_GAS, cap);
	else
		preflight_line("fee", L_OK, "%s per submission (%ld gas); max_fee %s", f,
		    c->gas_limit > 0 ? c->gas_limit : (long)CHECK_GAS, cap);
}

/* Submissions a day of a topic with this epoch length. */
static double
per_day(int64_t epoch)
{
	if (block_s <= 0)
		block_s = ASSUMED_BLOCK_S;
	return epoch > 0 ? 86400.0 / ((double)epoch * block_s) : 0;
}

static double topic_daily_fee[64];	/* per configured topic (index), uallo */

void
submitter_preflight_gas(struct sync *s, const struct config *c)
{
	check_price = 0;
	block_s = 0;
	block_s_measured = 0;
	memset(topic_daily_fee, 0, sizeof(topic_daily_fee));
	if (sync_call(s, "status", NULL) == RPC_OK)
		measure_block_time(s->result);
	gas_price_line(s, c);
	check_fee_line(c);
}

uint64_t
submitter_preflight_cost(const struct config *c, const struct config_wallet *w,
    uint64_t data_fee)
{
	return (w->fee_granter != NULL ? 0 : check_fee(c)) + data_fee;
}

/* A topic's fees per submission and per day at its epoch length. */
void
submitter_preflight_topic_fees(struct sync *s, const char *em, const struct config *c,
    size_t ti)
{
	const struct config_topic *t = &c->topics[ti];
	Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
	Awq__GetTopicResponse *gt;
	uint8_t buf[32];
	char path[96], f[96], d[96], what[64];
	uint64_t fee = check_fee(c), day;
	double k;
	size_t n;

	if (check_price == 0 && strcmp(c->gas_price, "auto") == 0)
		return;	/* no price: the gas price line said why */
	tr.topic_id = t->id;
	n = awq__topic_id_request__pack(&tr, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
	if (sync_abci(s, path, buf, n) != RPC_OK || s->code != 0 ||
	    (gt = awq__get_topic_response__unpack(NULL, s->value_len, s->value)) == NULL)
		return;	/* the topic line said why */
	if (gt->topic == NULL) {
		awq__get_topic_response__free_unpacked(gt, NULL);
		return;
	}
	k = per_day(gt->topic->epoch_length);
	day = (uint64_t)((double)fee * k + 0.5);
	if (ti < 64)
		topic_daily_fee[ti] = (double)day;
	fees_both_units(fee, f, sizeof(f));
	fees_both_units(day, d, sizeof(d));
	snprintf(what, sizeof(what), "topic %u fees", t->id);
	preflight_line(what, L_OK, "%s per submission, %s per day (%.1f submissions at %" PRId64
	    " blocks an epoch, %.3g s a block%s)", f, d, k, gt->topic->epoch_length, block_s,
	    block_s_measured ? "" : ", assumed");
	awq__get_topic_response__free_unpacked(gt, NULL);
}

/* The fee grant of a wallet: its allowance against a day of its topics' fees. */
void
submitter_preflight_allowance(struct sync *s, const struct config *c,
    const struct config_wallet *w, const char *addr)
{
	const char *g = w->fee_granter;
	struct fee_allowance a;
	char what[64], err[256], text[256], day[96];
	uint8_t *req;
	size_t n, i;
	double daily = 0;
	int r;

	if (g == NULL)
		return;
	snprintf(what, sizeof(what), "wallet %s fee grant", w->name);
	for (i = 0; i < c->ntopics && i < 64; i++)
		if (strcmp(c->topics[i].wallet, w->name) == 0)
			daily += topic_daily_fee[i];
	req = fees_allowance_request(g, addr, &n);
	if (sync_abci(s, FEES_ALLOWANCE_PATH, req, n) != RPC_OK) {
		free(req);
		preflight_line(what, L_WARN, "the allowance of %s cannot be read (%s); the daemon "
		    "submits anyway", g, sync_why(s));
		return;
	}
	free(req);
	if ((r = fees_allowance_answer(s->code, s->log, s->value, s->value_len, &a, err,
	    sizeof(err))) == -1) {
		preflight_line(what, L_WARN, "the allowance of %s cannot be read (%s); the daemon "
		    "submits anyway", g, err);
		return;
	}
	if (r == 1) {
		preflight_line(what, L_ERR, "%s has granted %s no fee allowance: the chain would "
		    "refuse every transaction", g, addr);
		return;
	}
	fees_allowance_text(&a, text, sizeof(text));
	fees_both_units((uint64_t)daily, day, sizeof(day));
	if (a.expires > 0 && wall_s() >= a.expires)
		preflight_line(what, L_WARN, "from %s: expired (%s)", g, text);
	else if (!a.msg_allowed)
		preflight_line(what, L_WARN, "from %s: does not allow InsertWorkerPayload (%s)", g,
		    text);
	else if (a.limited && (double)a.left < daily)
		preflight_line(what, L_WARN, "from %s: %s; less than a day of fees (%s)", g, text,
		    day);
	else
		preflight_line(what, L_OK, "from %s: %s; a day of fees is %s", g, text, day);
}

int
ctl_network_guard(const struct config *c)
{
	struct sync s;
	size_t i;
	int bad = 0;

	sync_init(&s, c);
	for (i = 0; i < c->nrpc; i++) {
		struct rpc *one = rpc_new(s.http, &c->rpc[i], 1, c->request_timeout_ms);
		struct rpc *saved = s.rpc;
		const char *net;

		s.rpc = one;
		if (sync_call(&s, "status", NULL) == RPC_OK) {
			net = json_string_value(json_object_get(json_object_get(s.result,
			    "node_info"), "network"));
			if (net == NULL || strcmp(net, c->chain_id) != 0) {
				fprintf(stderr, "alloractl: chain id mismatch: network = %s "
				    "means chain %s, but %s serves chain \"%s\"; refusing to "
				    "start\n", c->network, c->chain_id, c->rpc[i], net ? net : "?");
				bad = 1;
			}
		}
		s.rpc = saved;
		rpc_free(one);
	}
	sync_free(&s);
	return bad;
}


/* common/scoreq: the score queries' answers decoded, and refused when they are wrong. */
#include "scoreq.h"
#include "score.pb-c.h"
#include "t.h"

#define ADDR "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"

static size_t
pack_score(uint8_t *buf, uint64_t topic, int64_t h, const char *addr, const char *score)
{
	Awq__GetScoreResponse r = AWQ__GET_SCORE_RESPONSE__INIT;
	Awq__ScoreMsg s = AWQ__SCORE_MSG__INIT;

	s.topic_id = topic;
	s.block_height = h;
	s.address = (char *)addr;
	s.score = (char *)score;
	r.score = &s;
	return awq__get_score_response__pack(&r, buf);
}

static json_t *
dec(enum scoreq q, const uint8_t *b, size_t n, int *rc)
{
	json_t *o = json_object();
	char err[256];

	*rc = scoreq_decode(q, "v10", 67, ADDR, b, n, o, err, sizeof(err));
	return o;
}

T_TEST(ema_scored)
{
	uint8_t b[256];
	int rc;
	json_t *o = dec(SQ_EMA, b, pack_score(b, 67, 1234, ADDR, "-0.0123"), &rc);

	T_EQ_INT(rc, 0);
	T_EQ_STR(json_string_value(json_object_get(o, "ema")), "-0.0123");
	T_EQ_INT(json_integer_value(json_object_get(o, "ema_height")), 1234);
}

T_TEST(block_height_zero_is_not_scored_null_not_zero)
{
	uint8_t b[256];
	int rc;
	json_t *o = dec(SQ_EMA, b, pack_score(b, 0, 0, "", "0"), &rc);

	T_EQ_INT(rc, 0);
	T_ASSERT(json_is_null(json_object_get(o, "ema")));
	T_ASSERT(json_is_null(json_object_get(o, "ema_height")));
}

T_TEST(non_canonical_decimal_refused)
{
	uint8_t b[256];
	int rc;
	json_t *o = dec(SQ_EMA, b, pack_score(b, 67, 10, ADDR, "+1.50"), &rc);

	T_EQ_INT(rc, -1);
	T_ASSERT(json_is_null(json_object_get(o, "ema")));
	o = dec(SQ_EMA, b, pack_score(b, 67, 10, ADDR, "NaN"), &rc);
	T_EQ_INT(rc, -1);
	T_ASSERT(json_is_null(json_object_get(o, "ema")));
}

T_TEST(another_address_or_topic_refused)
{
	uint8_t b[256];
	int rc;
	json_t *o = dec(SQ_EMA, b, pack_score(b, 67, 10, "allo1someoneelse", "0.5"), &rc);

	T_EQ_INT(rc, -1);
	T_ASSERT(json_is_null(json_object_get(o, "ema")));
	o = dec(SQ_EMA, b, pack_score(b, 68, 10, ADDR, "0.5"), &rc);
	T_EQ_INT(rc, -1);
}

T_TEST(garbage_does_not_decode)
{
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	int rc;
	json_t *o = dec(SQ_NETWORK, junk, sizeof(junk), &rc);

	T_EQ_INT(rc, -1);
	T_ASSERT(json_is_null(json_object_get(o, "network_value")));
	o = dec(SQ_TOPIC, junk, sizeof(junk), &rc);
	T_EQ_INT(rc, -1);
	T_ASSERT(json_is_null(json_object_get(o, "loss_method")));
}

T_TEST(network_inference_v10_and_v9)
{
	Awq__GetLatestNetworkInferencesResponse r = AWQ__GET_LATEST_NETWORK_INFERENCES_RESPONSE__INIT;
	Awq__NetworkInferenceBundleMsg nb = AWQ__NETWORK_INFERENCE_BUNDLE_MSG__INIT;
	Awq__LabeledValueMsg lv = AWQ__LABELED_VALUE_MSG__INIT, *lvs[1] = { &lv };
	Awq__GetLatestNetworkInferencesV9Response r9 =
	    AWQ__GET_LATEST_NETWORK_INFERENCES_V9_RESPONSE__INIT;
	Awq__ValueBundleMsg vb = AWQ__VALUE_BUNDLE_MSG__INIT;
	uint8_t b[256];
	size_t n;
	json_t *o = json_object();
	char err[256];

	nb.topic_id = 67;
	nb.block_height = 500;
	lv.value = (char *)"0.0042";
	nb.combined_value = lvs;
	nb.n_combined_value = 1;
	r.network_inferences = &nb;
	r.inference_block_height = 500;
	n = awq__get_latest_network_inferences_response__pack(&r, b);
	T_EQ_INT(scoreq_decode(SQ_NETWORK, "v10", 67, NULL, b, n, o, err, sizeof(err)), 0);
	T_EQ_STR(json_string_value(json_object_get(o, "network_value")), "0.0042");
	T_EQ_INT(json_integer_value(json_object_get(o, "network_nonce")), 500);
	vb.topic_id = 67;
	vb.combined_value = (char *)"-1.5";
	r9.network_inferences = &vb;
	r9.inference_block_height = 600;
	n = awq__get_latest_network_inferences_v9_response__pack(&r9, b);
	T_EQ_INT(scoreq_decode(SQ_NETWORK, "v9", 67, NULL, b, n, o, err, sizeof(err)), 0);
	T_EQ_STR(json_string_value(json_object_get(o, "network_value")), "-1.5");
}

T_TEST(reward_fraction_not_found_is_null)
{
	Awq__GetRewardFractionResponse r = AWQ__GET_REWARD_FRACTION_RESPONSE__INIT;
	uint8_t b[64];
	int rc;
	json_t *o;

	r.not_found = 1;
	r.reward_fraction = (char *)"0";
	o = dec(SQ_REWARD_FRACTION, b, awq__get_reward_fraction_response__pack(&r, b), &rc);
	T_EQ_INT(rc, 0);
	T_ASSERT(json_is_null(json_object_get(o, "reward_fraction")));
}

T_TEST(floor_uallo)
{
	T_EQ_STR(scoreq_floor_uallo("12.9"), "12");
	T_EQ_STR(scoreq_floor_uallo("5E+5"), "500000");
	T_EQ_STR(scoreq_floor_uallo("0.999"), "0");
	T_EQ_STR(scoreq_floor_uallo("1.5e-3"), "0");
	T_EQ_STR(scoreq_floor_uallo("007"), "7");
	T_ASSERT(scoreq_floor_uallo("-1") == NULL);
	T_ASSERT(scoreq_floor_uallo("abc") == NULL);
	T_ASSERT(scoreq_floor_uallo("1e999") == NULL);
}

T_TEST(gap)
{
	T_EQ_STR(scoreq_sub("0.5", "0.25"), "0.25");
	T_EQ_STR(scoreq_sub("0.5", "0.5"), "0");
	T_ASSERT(scoreq_sub(NULL, "1") == NULL);
}

int
main(void)
{
	T_RUN(ema_scored);
	T_RUN(block_height_zero_is_not_scored_null_not_zero);
	T_RUN(non_canonical_decimal_refused);
	T_RUN(another_address_or_topic_refused);
	T_RUN(garbage_does_not_decode);
	T_RUN(network_inference_v10_and_v9);
	T_RUN(reward_fraction_not_found_is_null);
	T_RUN(floor_uallo);
	T_RUN(gap);
	return t_done();
}

/* common/forecastq: the forecaster's queries, their requests and decoded answers, and the
 * answers refused when they are wrong. */
#include "forecastq.h"
#include "addrshape.h"
#include "forecast.pb-c.h"
#include "score.pb-c.h"
#include "t.h"

#define A "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
#define B "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc"

static size_t
pack_bundle(uint8_t *buf, uint64_t topic, const char *w1, const char *l1, const char *w2,
    const char *l2)
{
	Awfc__GetNetworkLossBundleAtBlockResponse r =
	    AWFC__GET_NETWORK_LOSS_BUNDLE_AT_BLOCK_RESPONSE__INIT;
	Awfc__LossBundleMsg b = AWFC__LOSS_BUNDLE_MSG__INIT;
	Awfc__WorkerValueMsg v[2] = { AWFC__WORKER_VALUE_MSG__INIT, AWFC__WORKER_VALUE_MSG__INIT };
	Awfc__WorkerValueMsg *vp[2] = { &v[0], &v[1] };

	v[0].worker = (char *)w1;
	v[0].value = (char *)l1;
	v[1].worker = (char *)w2;
	v[1].value = (char *)l2;
	b.topic_id = topic;
	b.inferer_values = vp;
	b.n_inferer_values = 2;
	r.loss_bundle = &b;
	return awfc__get_network_loss_bundle_at_block_response__pack(&r, buf);
}

static int
dec(enum forecastq q, const uint8_t *b, size_t n, json_t **o)
{
	char err[256];

	*o = json_object();
	return forecastq_decode(q, 67, 1200, A, b, n, *o, err, sizeof(err));
}

T_TEST(paths_and_requests)
{
	char p[128];
	uint8_t b[64];
	Awfc__LossBundleRequest *r;
	size_t n;

	forecastq_path(FQ_LOSSES, "v10", p, sizeof(p));
	T_EQ_STR(p, "/emissions.v10.QueryService/GetNetworkLossBundleAtBlock");
	forecastq_path(FQ_SCORE, "v9", p, sizeof(p));
	T_EQ_STR(p, "/emissions.v9.QueryService/GetForecasterScoreEma");
	n = forecastq_request(FQ_LOSSES, 67, 1200, NULL, b, sizeof(b));
	/* {topic_id = 1: 67, block_height = 2: 1200} */
	T_EQ_INT(n, 5);
	T_EQ_INT(b[0], 0x08);
	T_EQ_INT(b[1], 67);
	T_EQ_INT(b[2], 0x10);
	r = awfc__loss_bundle_request__unpack(NULL, n, b);
	T_ASSERT(r != NULL);
	T_EQ_INT(r->block_height, 1200);
	awfc__loss_bundle_request__free_unpacked(r, NULL);
}

T_TEST(loss_bundle_decoded)
{
	uint8_t b[512];
	json_t *o, *l;

	T_EQ_INT(dec(FQ_LOSSES, b, pack_bundle(b, 67, A, "0.0125", B, "1.5E-2"), &o), 0);
	l = json_object_get(o, "losses");
	T_EQ_INT(json_integer_value(json_object_get(l, "nonce")), 1200);
	T_EQ_INT(json_array_size(json_object_get(l, "values")), 2);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(l, "values"),
	    1), "loss")), "0.015");
	json_decref(o);
}

T_TEST(empty_answer_is_no_bundle)
{
	json_t *o;

	T_EQ_INT(dec(FQ_LOSSES, (const uint8_t *)"", 0, &o), 0);
	T_CHECK(json_is_null(json_object_get(o, "losses")));
	json_decref(o);
}

T_TEST(wrong_bundles_refused)
{
	uint8_t b[512];
	json_t *o;

	T_EQ_INT(dec(FQ_LOSSES, b, pack_bundle(b, 68, A, "0.1", B, "0.2"), &o), -1);
	T_CHECK(json_is_null(json_object_get(o, "losses")));
	json_decref(o);
	T_EQ_INT(dec(FQ_LOSSES, b, pack_bundle(b, 67, A, "0.1", "allo1devnetpeer01", "0.2"),
	    &o), -1);
	json_decref(o);
	T_EQ_INT(dec(FQ_LOSSES, b, pack_bundle(b, 67, A, "0.1", A, "0.2"), &o), -1);
	json_decref(o);
	T_EQ_INT(dec(FQ_LOSSES, b, pack_bundle(b, 67, A, "0.1", B, "NaN"), &o), -1);
	json_decref(o);
	T_EQ_INT(dec(FQ_LOSSES, (const uint8_t *)"\xff\xff\xff", 3, &o), -1);
	json_decref(o);
}

T_TEST(forecaster_score)
{
	Awq__GetScoreResponse r = AWQ__GET_SCORE_RESPONSE__INIT;
	Awq__ScoreMsg s = AWQ__SCORE_MSG__INIT;
	uint8_t b[256];
	json_t *o;

	s.topic_id = 67;
	s.block_height = 1180;
	s.address = (char *)A;
	s.score = (char *)"-0.25";
	r.score = &s;
	T_EQ_INT(dec(FQ_SCORE, b, awq__get_score_response__pack(&r, b), &o), 0);
	T_EQ_STR(json_string_value(json_object_get(o, "ema")), "-0.25");
	T_EQ_INT(json_integer_value(json_object_get(o, "ema_height")), 1180);
	json_decref(o);
	s.address = (char *)B;		/* another forecaster's */
	T_EQ_INT(dec(FQ_SCORE, b, awq__get_score_response__pack(&r, b), &o), -1);
	T_CHECK(json_is_null(json_object_get(o, "ema")));
	json_decref(o);
}

T_TEST(heights_past_the_ground_truth_lag)
{
	int64_t h[FORECASTQ_HEIGHTS];
	size_t n;

	/* Topic 67: hourly epochs of 720 blocks, a 7-day lag (168 epochs): the bundles that can
	 * exist are 167 epochs back and older. */
	n = forecastq_heights(6626395, 720, 168 * 720, h);
	T_EQ_INT(n, FORECASTQ_HEIGHTS);
	T_EQ_INT(h[0], 6626395 - 167 * 720);
	T_EQ_INT(h[n - 1], 6626395 - (167 + FORECASTQ_HEIGHTS - 1) * 720);
	/* No lag: from the last epoch on. */
	n = forecastq_heights(1000, 10, 0, h);
	T_EQ_INT(h[0], 1000);
	T_EQ_INT(h[1], 990);
	/* Young chain: positive heights only; a lag past the chain's age: none. */
	T_EQ_INT(forecastq_heights(25, 10, 10, h), 3);
	T_EQ_INT(h[0], 25);
	T_EQ_INT(h[2], 5);
	T_EQ_INT(forecastq_heights(25, 10, 1000, h), 0);
	T_EQ_INT(forecastq_heights(0, 10, 0, h), 0);
}

T_TEST(address_shape)
{
	T_CHECK(allo_address_shape(A));
	T_CHECK(!allo_address_shape("allo1devnetpeer01"));
	T_CHECK(!allo_address_shape("cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0a3vute5"));
	T_CHECK(!allo_address_shape("allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gB"));
	T_CHECK(!allo_address_shape(NULL));
}

int
main(void)
{
	T_RUN(paths_and_requests);
	T_RUN(loss_bundle_decoded);
	T_RUN(empty_answer_is_no_bundle);
	T_RUN(wrong_bundles_refused);
	T_RUN(forecaster_score);
	T_RUN(heights_past_the_ground_truth_lag);
	T_RUN(address_shape);
	return t_done();
}

/* devnet_forecast: the devnet's delivery rules for forecasts (tests/devnet/devforecast.c) on
 * transactions our builder signs (tx_build_payload, decoded by tx_decode as the devnet does),
 * changed one field at a time the way another client could send them. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "submitter/keys.h"
#include "submitter/tx.h"
#include "t.h"
#include "util.h"

#include "tests/devnet/devforecast.c"

static const char *ADDR2 = "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc";
static const char *ADDR3 = "allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy";

/* A decoded payload message of TEST_MNEMONIC_1 with a forecast of n elements. */
static json_t *
decoded(struct tx_forecast_elem *el, size_t n, json_t **dec)
{
	uint8_t priv[32], pub[33];
	struct tx_params p;
	struct tx_out out;
	char err[256];
	json_t *m;

	T_CHECK(key_from_mnemonic("abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon abandon abandon about", DEFAULT_HD_PATH, priv, pub, err,
	    sizeof(err)) == 0);
	memset(&p, 0, sizeof(p));
	p.chain_id = "devnet-1";
	p.account_number = 1;
	p.sequence = 0;
	p.topic = 67;
	p.nonce = 1000;
	p.value = "0.5";
	p.gas_limit = 300000;
	p.fee_uallo = 3000;
	p.emissions = "v10";
	p.forecast = el;
	p.nforecast = n;
	if (tx_build_payload(priv, &p, 0, &out, err, sizeof(err)) == -1) {
		T_FAIL("tx_build_payload: %s", err);
		return NULL;
	}
	*dec = tx_decode(out.raw, out.rawlen, NULL, -1, err, sizeof(err));
	tx_out_free(&out);
	m = json_array_get(json_object_get(json_object_get(*dec, "body"), "messages"), 0);
	return m;
}

static json_t *
fc(json_t *m)
{
	return json_object_get(json_object_get(m, "worker_data_bundle"), "forecast");
}

static long
check_code(json_t *m, const char *signer, char *logbuf, size_t loglen)
{
	long code = 0;
	char *log = NULL;
	const char *cs = "";

	if (!devforecast_check(m, signer, &code, &log, &cs))
		return 0;
	snprintf(logbuf, loglen, "%s", log ? log : "");
	free(log);
	return code;
}

T_TEST(accepted_and_kept)
{
	struct tx_forecast_elem el[2] = { { (char *)"allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc",
	    (char *)"-0.175" }, { (char *)"allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy",
	    (char *)"2.5" } };
	json_t *dec = NULL, *m = decoded(el, 2, &dec);
	const struct devforecast *d;
	char log[512];

	T_ASSERT(m != NULL);
	T_EQ_INT(check_code(m, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv", log, sizeof(log)), 0);
	T_EQ_INT(devforecast_elements(m), 2);
	T_EQ_INT(devforecast_accept(m, 1001), 2);
	d = devforecast_get(67, 1000, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv");
	T_ASSERT(d != NULL);
	T_EQ_INT(d->nel, 2);
	T_EQ_STR(d->el[0].inferer, ADDR2);
	T_EQ_STR(d->el[0].value, "-0.175");
	T_EQ_INT(d->height, 1001);
	T_CHECK(devforecast_get(67, 999, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv") == NULL);
	json_decref(dec);
}

T_TEST(duplicates_and_limit_filtered)
{
	json_t *dec = NULL, *m;
	struct tx_forecast_elem el[1] = { { (char *)"allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc",
	    (char *)"1" } };
	json_t *els;

	m = decoded(el, 1, &dec);
	T_ASSERT(m != NULL);
	/* Another client's bundle with a repeated inferer: the chain keeps the first. */
	els = json_object_get(fc(m), "forecast_elements");
	json_array_append_new(els, json_pack("{s:s, s:s}", "inferer", ADDR2, "value", "7"));
	json_array_append_new(els, json_pack("{s:s, s:s}", "inferer", ADDR3, "value", "3"));
	json_object_set_new(json_object_get(m, "worker_data_bundle"), "nonce", json_integer(1002));
	json_object_set_new(fc(m), "block_height", json_integer(1002));
	T_EQ_INT(devforecast_accept(m, 1003), 2);
	T_EQ_STR(devforecast_get(67, 1002, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv")->el[0].value,
	    "1");
	T_EQ_INT(devforecast_option(DEVFORECAST_OPT_MAX, "1"), 0);
	json_object_set_new(json_object_get(m, "worker_data_bundle"), "nonce", json_integer(1004));
	T_EQ_INT(devforecast_accept(m, 1005), 1);
	T_EQ_INT(devforecast_option(DEVFORECAST_OPT_MAX, "0"), 0);
	json_object_set_new(json_object_get(m, "worker_data_bundle"), "nonce", json_integer(1006));
	T_EQ_INT(devforecast_accept(m, 1007), 0);	/* nothing stored */
	T_CHECK(devforecast_get(67, 1006, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv") == NULL);
	T_EQ_INT(devforecast_option(DEVFORECAST_OPT_MAX, "12"), 0);
	T_EQ_INT(devforecast_option(DEVFORECAST_OPT_MAX, "x"), -1);
	json_decref(dec);
}

static void
count_cb(const struct devforecast *d, void *arg)
{
	(*(int *)arg)++;
}

T_TEST(refused_as_the_chain_does)
{
	struct tx_forecast_elem el[1] = { { (char *)"allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc",
	    (char *)"1" } };
	const char *me = "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv";
	json_t *dec = NULL, *m, *f, *orig;
	char log[512];
	int n = 0;

	m = decoded(el, 1, &dec);
	T_ASSERT(m != NULL);
	f = fc(m);
	orig = json_deep_copy(f);
	/* no element */
	json_array_clear(json_object_get(f, "forecast_elements"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 18);
	T_CHECK(strstr(log, "at least one forecast element must be provided") != NULL);
	/* an element's inferer that is not an allo address */
	{
		json_t *c = json_deep_copy(orig);

		json_object_update(f, c);
		json_decref(c);
	}
	f = fc(m);
	json_object_set_new(json_array_get(json_object_get(f, "forecast_elements"), 0), "inferer", json_string("cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 7);
	T_CHECK(strstr(log, "forecast element inferer address is invalid") != NULL);
	json_object_set_new(json_array_get(json_object_get(f, "forecast_elements"), 0), "inferer",
	    json_string("allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszd"));	/* checksum */
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 7);
	/* the forecaster is someone else */
	json_object_set_new(fc(m), "forecast_elements", json_deep_copy(json_object_get(orig,
	    "forecast_elements")));
	json_object_set_new(fc(m), "forecaster", json_string(ADDR3));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 4);
	T_CHECK(strstr(log, "Forecast.Forecaster") != NULL && strstr(log, "does not match") != NULL);
	json_object_set_new(fc(m), "forecaster", json_string("allo1bad"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 7);
	json_object_set_new(fc(m), "forecaster", json_string(me));
	/* another topic, another height */
	json_object_set_new(fc(m), "topic_id", json_integer(68));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 18);
	T_CHECK(strstr(log, "same topic") != NULL);
	json_object_set_new(fc(m), "topic_id", json_integer(0));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 18);
	json_object_set_new(fc(m), "topic_id", json_integer(67));
	json_object_set_new(fc(m), "block_height", json_integer(999));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 18);
	T_CHECK(strstr(log, "nonce") != NULL);
	json_object_set_new(fc(m), "block_height", json_integer(1000));
	/* values: out of bounds never decode; not canonical fails the signature */
	json_object_set_new(json_array_get(json_object_get(fc(m), "forecast_elements"), 0), "value",
	    json_string("1e41"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 2);
	json_object_set_new(json_array_get(json_object_get(fc(m), "forecast_elements"), 0), "value",
	    json_string("1.0e0"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 4);
	json_object_set_new(json_array_get(json_object_get(fc(m), "forecast_elements"), 0), "value",
	    json_string("1"));
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 0);
	/* a bundle without forecast: no rule, no count */
	json_object_set_new(json_object_get(m, "worker_data_bundle"), "forecast", json_null());
	T_EQ_INT(check_code(m, me, log, sizeof(log)), 0);
	T_EQ_INT(devforecast_elements(m), -1);
	T_EQ_INT(devforecast_accept(m, 1), -1);
	T_EQ_INT(devforecast_each(67, 1000, count_cb, &n), (size_t)n);
	json_decref(orig);
	json_decref(dec);
}

int
main(void)
{
	T_RUN(accepted_and_kept);
	T_RUN(duplicates_and_limit_filtered);
	T_RUN(refused_as_the_chain_does);
	return t_done();
}

/* Transactions against tests/vectors/allora-tx.json: every intermediate byte string, the
 * signatures and hashes of tx_v9 and tx_v10; decoding gives every field back. */
#include <jansson.h>

#include "submitter/keys.h"
#include "submitter/tx.h"
#include "t.h"
#include "util.h"

static json_t *vec;
static uint8_t priv[32];

static void
load(void)
{
	json_error_t je;
	uint8_t pub[33];
	char err[128];

	vec = json_load_file("tests/vectors/allora-tx.json", 0, &je);
	if (vec == NULL || key_from_mnemonic(json_string_value(json_object_get(
	    json_object_get(vec, "keys"), "mnemonic")), DEFAULT_HD_PATH, priv, pub, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "cannot load vectors\n");
		exit(1);
	}
}

static int
build(const char *which, struct tx_out *out)
{
	json_t *v = json_object_get(vec, which), *p = json_object_get(vec, "payload");
	struct tx_params tp;
	char err[256];

	memset(&tp, 0, sizeof(tp));
	tp.chain_id = json_string_value(json_object_get(v, "chain_id"));
	tp.account_number = strtoull(json_string_value(json_object_get(v, "account_number")), NULL, 10);
	tp.sequence = strtoull(json_string_value(json_object_get(v, "sequence")), NULL, 10);
	tp.topic = (uint32_t)atoi(json_string_value(json_object_get(p, "topic_id")));
	tp.nonce = atoll(json_string_value(json_object_get(p, "nonce_block_height")));
	tp.value = json_string_value(json_object_get(p, "value"));
	tp.gas_limit = strtoull(json_string_value(json_object_get(v, "gas_limit")), NULL, 10);
	tp.fee_uallo = strtoull(json_string_value(json_object_get(v, "fee")), NULL, 10);
	tp.timeout_height = strtoull(json_string_value(json_object_get(v, "timeout_height")), NULL, 10);
	tp.emissions = strcmp(which, "tx_v9") == 0 ? "v9" : "v10";
	if (tx_build_payload(priv, &tp, 0, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "# build: %s\n", err);
		return -1;
	}
	return 0;
}

static void
same_keys(json_t *want, json_t *got, const char *what)
{
	const char *k;
	json_t *v;

	json_object_foreach(want, k, v) {
		json_t *g = json_object_get(got, k);

		if (!json_is_string(v))
			continue;
		if (!json_is_string(g) || strcmp(json_string_value(g), json_string_value(v)) != 0)
			T_FAIL("%s.%s: got %s, want %s", what, k, g ? json_string_value(g) : "(none)",
			    json_string_value(v));
	}
}

T_TEST(payload_and_tx_vectors)
{
	const char *which[] = { "tx_v9", "tx_v10" };
	int i;

	for (i = 0; i < 2; i++) {
		struct tx_out out;

		T_ASSERT(build(which[i], &out) == 0);
		same_keys(json_object_get(vec, "payload"), json_object_get(out.detail, "payload"),
		    "payload");
		same_keys(json_object_get(vec, which[i]), out.detail, which[i]);
		T_EQ_STR(out.hash, json_string_value(json_object_get(json_object_get(vec, which[i]),
		    "tx_hash_hex_upper")));
		tx_out_free(&out);
	}
}

T_TEST(signatures_low_s_and_bundle_verifies)
{
	struct tx_out out;
	unsigned char *sig, *pub;
	size_t n, pn;

	T_ASSERT(build("tx_v10", &out) == 0);
	T_ASSERT(hex_decode(json_string_value(json_object_get(out.detail, "tx_signature_rs_hex")),
	    &sig, &n) == 0 && n == 64);
	T_ASSERT(sig_is_low_s(sig));
	free(sig);
	T_ASSERT(hex_decode(json_string_value(json_object_get(out.detail,
	    "bundle_signature_rs_hex")), &sig, &n) == 0 && n == 64);
	T_ASSERT(sig_is_low_s(sig));
	{
		unsigned char *bundle;
		size_t bl;

		T_ASSERT(hex_decode(json_string_value(json_object_get(out.detail,
		    "input_inference_forecast_bundle_hex")), &bundle, &bl) == 0);
		T_ASSERT(hex_decode(json_string_value(json_object_get(out.detail, "pubkey")), &pub,
		    &pn) == 0 && pn == 33);
		T_ASSERT(key_verify(pub, bundle, bl, sig));
		free(bundle);
		free(pub);
	}
	free(sig);
	tx_out_free(&out);
}

T_TEST(decode_gives_back_every_field)
{
	const char *which[] = { "tx_v9", "tx_v10" };
	int i;

	for (i = 0; i < 2; i++) {
		json_t *v = json_object_get(vec, which[i]), *p = json_object_get(vec, "payload");
		json_t *d, *m, *b, *inf, *ai;
		unsigned char *raw;
		size_t n;
		char err[256];

		T_ASSERT(hex_decode(json_string_value(json_object_get(v, "tx_raw_hex")), &raw, &n) == 0);
		d = tx_decode(raw, n, "allora-testnet-1", 12345, err, sizeof(err));
		T_ASSERT(d != NULL);
		m = json_array_get(json_object_get(json_object_get(d, "body"), "messages"), 0);
		T_EQ_STR(json_string_value(json_object_get(m, "type_url")),
		    json_string_value(json_object_get(v, "type_url")));
		T_EQ_STR(json_string_value(json_object_get(m, "sender")),
		    "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv");
		b = json_object_get(m, "worker_data_bundle");
		T_EQ_INT(json_integer_value(json_object_get(b, "nonce")), 6626395);
		T_EQ_INT(json_integer_value(json_object_get(b, "topic_id")), 67);
		T_EQ_STR(json_string_value(json_object_get(b, "pubkey")),
		    "024f4e2ad99c34d60b9ba6283c9431a8418af8673212961f97a77b6377fcd05b62");
		T_EQ_STR(json_string_value(json_object_get(b, "signature_hex")),
		    json_string_value(json_object_get(p, "bundle_signature_rs_hex")));
		T_ASSERT(json_is_null(json_object_get(b, "forecast")));
		inf = json_object_get(b, "inference");
		T_EQ_STR(json_string_value(json_object_get(inf, "value")), "-0.0123456789");
		T_EQ_STR(json_string_value(json_object_get(inf, "inferer")),
		    "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv");
		T_EQ_INT(json_integer_value(json_object_get(inf, "block_height")), 6626395);
		T_EQ_INT(json_integer_value(json_object_get(json_object_get(d, "body"),
		    "timeout_height")), 6627115);
		ai = json_object_get(d, "auth_info");
		T_EQ_INT(json_integer_value(json_object_get(ai, "sequence")), 7);
		T_EQ_INT(json_integer_value(json_object_get(ai, "gas_limit")), 300000);
		T_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(ai, "fee"), 0),
		    "amount")), "3000000");
		T_EQ_STR(json_string_value(json_object_get(ai, "sign_mode")), "SIGN_MODE_DIRECT");
		T_EQ_STR(json_string_value(json_array_get(json_object_get(d, "signatures_hex"), 0)),
		    json_string_value(json_object_get(v, "tx_signature_rs_hex")));
		T_EQ_STR(json_string_value(json_object_get(d, "tx_hash")),
		    json_string_value(json_object_get(v, "tx_hash_hex_upper")));
		T_ASSERT(json_is_true(json_object_get(d, "bundle_signature_ok")));
		T_ASSERT(json_is_true(json_object_get(d, "tx_signature_ok")));
		json_decref(d);
		d = tx_decode(raw, n, "other-chain", 12345, err, sizeof(err));
		T_ASSERT(json_is_false(json_object_get(d, "tx_signature_ok")));
		json_decref(d);
		d = tx_decode(raw, n, NULL, -1, err, sizeof(err));
		T_ASSERT(json_is_null(json_object_get(d, "tx_signature_ok")));
		json_decref(d);
		raw[n - 70] ^= 1;	/* inside the bundle */
		d = tx_decode(raw, n, NULL, -1, err, sizeof(err));
		if (d != NULL)
			T_ASSERT(!json_is_true(json_object_get(d, "bundle_signature_ok")) ||
			    !json_is_true(json_object_get(d, "tx_signature_ok")));
		json_decref(d);
		free(raw);
	}
}

T_TEST(register_vector)
{
	struct tx_params tp;
	struct tx_out out;
	char err[256];

	memset(&tp, 0, sizeof(tp));
	tp.chain_id = "allora-testnet-1";
	tp.account_number = 12345;
	tp.sequence = 7;
	tp.topic = 67;
	tp.gas_limit = 300000;
	tp.fee_uallo = 3000000;
	tp.emissions = "v9";
	T_ASSERT(tx_build_register(priv, &tp, 0, &out, err, sizeof(err)) == 0);
	T_EQ_STR(json_string_value(json_object_get(out.detail, "register_request_hex")),
	    json_string_value(json_object_get(vec, "register_request_hex")));
	tx_out_free(&out);
}

T_TEST(bad_values_refused)
{
	static const char *bad[] = { "NaN", "1e41", "abc", "1.2345e-07", "+1", "" };
	struct tx_params tp;
	struct tx_out out;
	char err[256];
	size_t i;

	memset(&tp, 0, sizeof(tp));
	tp.chain_id = "c";
	tp.topic = 67;
	tp.nonce = 5;
	tp.emissions = "v10";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp.value = bad[i];
		if (tx_build_payload(priv, &tp, 0, &out, err, sizeof(err)) == 0)
			T_FAIL("value \"%s\" accepted", bad[i]);
	}
	tp.value = "0.5";
	tp.emissions = "v11";
	T_ASSERT(tx_build_payload(priv, &tp, 0, &out, err, sizeof(err)) == -1);
}

T_TEST(garbage_does_not_decode)
{
	json_t *o;
	char err[256];
	uint8_t junk[64];
	int i;

	for (i = 0; i < 64; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	T_ASSERT(tx_decode(junk, sizeof(junk), NULL, -1, err, sizeof(err)) == NULL);
	o = tx_decode((const uint8_t *)"", 0, NULL, -1, err, sizeof(err));
	T_ASSERT(o != NULL || strlen(err) > 0);
	json_decref(o);
}

int
main(void)
{
	load();
	T_RUN(payload_and_tx_vectors);
	T_RUN(signatures_low_s_and_bundle_verifies);
	T_RUN(decode_gives_back_every_field);
	T_RUN(register_vector);
	T_RUN(bad_values_refused);
	T_RUN(garbage_does_not_decode);
	return t_done();
}

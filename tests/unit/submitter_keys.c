/* Keys against the vectors: BIP39 (Trezor), Cosmos keys (cosmjs), bech32 (BIP173). */
#include <jansson.h>

#include "submitter/keys.h"
#include "t.h"
#include "util.h"

static void
hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

T_TEST(bip39_vectors)
{
	json_error_t je;
	json_t *d = json_load_file("tests/vectors/bip39.json", 0, &je), *v;
	uint8_t seed[64];
	char h[129], err[128];
	size_t i;

	T_ASSERT(d != NULL);
	json_array_foreach(json_object_get(d, "vectors"), i, v) {
		const char *m = json_string_value(json_object_get(v, "mnemonic"));

		T_ASSERT(bip39_check(m, err, sizeof(err)) == 0);
		T_ASSERT(bip39_seed(m, json_string_value(json_object_get(v, "passphrase")), seed) == 0);
		hex(seed, 64, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "seed")));
	}
	T_ASSERT(i >= 8);
	json_decref(d);
}

T_TEST(cosmos_key_vectors)
{
	json_error_t je;
	json_t *d = json_load_file("tests/vectors/cosmos-keys.json", 0, &je), *v;
	uint8_t seed[64], priv[32], chain[32], pub[33];
	char h[129], addr[ADDR_MAX], err[128];
	size_t i;

	T_ASSERT(d != NULL);
	json_array_foreach(json_object_get(d, "vectors"), i, v) {
		const char *m = json_string_value(json_object_get(v, "mnemonic"));
		const char *path = json_string_value(json_object_get(v, "path"));

		T_ASSERT(bip39_seed(m, "", seed) == 0);
		hex(seed, 64, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "seed")));
		T_ASSERT(bip32_derive(seed, path, priv, chain, err, sizeof(err)) == 0);
		hex(priv, 32, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "privkey")));
		hex(chain, 32, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "chain_code")));
		T_ASSERT(key_pubkey(priv, pub) == 0);
		hex(pub, 33, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "pubkey")));
		T_ASSERT(key_address(pub, addr, sizeof(addr)) == 0);
		T_EQ_STR(addr, json_string_value(json_object_get(v, "address")));
		T_ASSERT(key_from_mnemonic(m, path, priv, pub, err, sizeof(err)) == 0);
		hex(pub, 33, h);
		T_EQ_STR(h, json_string_value(json_object_get(v, "pubkey")));
	}
	T_ASSERT(i >= 4);
	json_decref(d);
}

T_TEST(mnemonic_errors_name_the_position)
{
	char err[256];
	const char *good = "abandon abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon abandon about";

	T_EQ_INT(bip39_check("abandon abandon abandon abandon abandonx abandon abandon abandon "
	    "abandon abandon abandon about", err, sizeof(err)), -1);
	T_EQ_STR(err, "word 5 is not in the BIP39 English list");
	T_EQ_INT(bip39_check("abandon abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon abandon abandon", err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "checksum") != NULL);
	T_EQ_INT(bip39_check("abandon abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon about", err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "not 11") != NULL);
	{
		char m25[400] = "";
		int k;

		for (k = 0; k < 25; k++)
			strcat(m25, "abandon ");
		T_EQ_INT(bip39_check(m25, err, sizeof(err)), -1);
		T_ASSERT(strstr(err, "not 25") != NULL);
	}
	T_ASSERT(strstr(err, "abandon") == NULL);
	T_EQ_INT(bip39_check(good, err, sizeof(err)), 0);
	T_EQ_INT(bip39_check("  abandon abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon abandon about\n", err, sizeof(err)), 0);
}

T_TEST(generate_roundtrip)
{
	char m[400], err[128];
	int n;

	for (n = 12; n <= 24; n += 3) {
		T_ASSERT(bip39_generate(n, m, sizeof(m), err, sizeof(err)) == 0);
		T_EQ_INT(bip39_check(m, err, sizeof(err)), 0);
	}
}

T_TEST(bech32)
{
	static const char *valid[] = { "A12UEL5L", "a12uel5l",
	    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	    "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv" };
	static const char *invalid[] = { " 1nwldj5", "\x7f" "1axkwrx", "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
	    "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff",
	    "A1G7SGD8", "10a06t8", "1qzzfhee", "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gw",
	    "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7Gv" };
	char hrp[100], err[128], out[100];
	uint8_t data[64];
	size_t i, n;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (bech32_decode(valid[i], hrp, sizeof(hrp), data, &n, err, sizeof(err)) != 0 &&
		    strstr(err, "padding") == NULL)
			T_FAIL("valid %s refused: %s", valid[i], err);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (bech32_decode(invalid[i], hrp, sizeof(hrp), data, &n, err, sizeof(err)) == 0)
			T_FAIL("invalid %s accepted", invalid[i]);
	T_ASSERT(bech32_decode("allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv", hrp, sizeof(hrp),
	    data, &n, err, sizeof(err)) == 0);
	T_EQ_STR(hrp, "allo");
	T_EQ_INT(n, 20);
	T_ASSERT(bech32_encode("allo", data, n, out, sizeof(out)) == 0);
	T_EQ_STR(out, "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv");
}

T_TEST(sign_verify_low_s)
{
	uint8_t priv[32], pub[33], sig[64];
	char err[128], msg[32];
	int i;

	T_ASSERT(key_from_mnemonic("abandon abandon abandon abandon abandon abandon abandon "
	    "abandon abandon abandon abandon about", NULL, priv, pub, err, sizeof(err)) == 0);
	for (i = 0; i < 200; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		T_ASSERT(key_sign(priv, (uint8_t *)msg, strlen(msg), sig) == 0);
		T_ASSERT(sig_is_low_s(sig));
		T_ASSERT(key_verify(pub, (uint8_t *)msg, strlen(msg), sig));
		msg[0] ^= 1;
		T_ASSERT(!key_verify(pub, (uint8_t *)msg, strlen(msg), sig));
	}
}

int
main(void)
{
	T_RUN(bip39_vectors);
	T_RUN(cosmos_key_vectors);
	T_RUN(mnemonic_errors_name_the_position);
	T_RUN(generate_roundtrip);
	T_RUN(bech32);
	T_RUN(sign_verify_low_s);
	return t_done();
}

/* BIP39, BIP32, bech32 (BIP173) and signing with OpenSSL and libsecp256k1. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <secp256k1.h>

#include "keys.h"
#include "util.h"

static secp256k1_context *
ctx(void)
{
	static secp256k1_context *c;

	if (c == NULL)
		c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
	return c;
}

void
key_clear(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}

/* ---- bech32 ---- */

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod(const uint8_t *v, size_t n)
{
	static const uint32_t g[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
	    0x2a1462b3 };
	uint32_t chk = 1, top;
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		top = chk >> 25;
		chk = (chk & 0x1ffffff) << 5 ^ v[i];
		for (j = 0; j < 5; j++)
			if ((top >> j) & 1)
				chk ^= g[j];
	}
	return chk;
}

/* hrp expanded + data (5-bit) + checksum placeholders into buf; returns length. */
static size_t
expand(const char *hrp, const uint8_t *d5, size_t n5, uint8_t *buf)
{
	size_t h = strlen(hrp), i, k = 0;

	for (i = 0; i < h; i++)
		buf[k++] = (uint8_t)(hrp[i] >> 5);
	buf[k++] = 0;
	for (i = 0; i < h; i++)
		buf[k++] = (uint8_t)(hrp[i] & 31);
	memcpy(buf + k, d5, n5);
	return k + n5;
}

static int
convert_bits(const uint8_t *in, size_t inlen, int from, int to, int pad, uint8_t *out,
    size_t *outlen, size_t outcap)
{
	uint32_t acc = 0, maxv = (1u << to) - 1;
	int bits = 0;
	size_t i, n = 0;

	for (i = 0; i < inlen; i++) {
		if (in[i] >> from)
			return -1;
		acc = acc << from | in[i];
		bits += from;
		while (bits >= to) {
			bits -= to;
			if (n >= outcap)
				return -1;
			out[n++] = (uint8_t)((acc >> bits) & maxv);
		}
	}
	if (pad) {
		if (bits > 0) {
			if (n >= outcap)
				return -1;
			out[n++] = (uint8_t)((acc << (to - bits)) & maxv);
		}
	} else if (bits >= from || ((acc << (to - bits)) & maxv) != 0)
		return -1;
	*outlen = n;
	return 0;
}

int
bech32_encode(const char *hrp, const uint8_t *data, size_t len, char *out, size_t outlen)
{
	uint8_t d5[160] = { 0 }, buf[400];
	size_t n5, n, i, h = strlen(hrp);
	uint32_t chk;

	if (len > 90 || h == 0 || h > 83 ||
	    convert_bits(data, len, 8, 5, 1, d5, &n5, sizeof(d5)) == -1)
		return -1;
	if (h + 1 + n5 + 6 + 1 > outlen || h + 1 + n5 + 6 > 90)
		return -1;
	n = expand(hrp, d5, n5, buf);
	memset(buf + n, 0, 6);
	chk = polymod(buf, n + 6) ^ 1;
	memcpy(out, hrp, h);
	out[h] = '1';
	for (i = 0; i < n5; i++)
		out[h + 1 + i] = charset[d5[i]];
	for (i = 0; i < 6; i++)
		out[h + 1 + n5 + i] = charset[(chk >> (5 * (5 - i))) & 31];
	out[h + 1 + n5 + 6] = '\0';
	return 0;
}

int
bech32_decode(const char *s, char *hrp, size_t hrplen, uint8_t *data, size_t *len,
    char *err, size_t errlen)
{
	size_t n = strlen(s), i, sep, n5, h;
	uint8_t d5[90] = { 0 }, buf[300];
	int lower = 0, upper = 0;
	char c;

	if (n < 8 || n > 90)
		return errorf(err, errlen, "bech32: length %zu out of range 8..90", n);
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c < 33 || c > 126)
			return errorf(err, errlen, "bech32: character %zu is not printable ASCII", i + 1);
		if (islower((unsigned char)c))
			lower = 1;
		if (isupper((unsigned char)c))
			upper = 1;
	}
	if (lower && upper)
		return errorf(err, errlen, "bech32: mixed case");
	sep = (size_t)(strrchr(s, '1') - s);
	if (strrchr(s, '1') == NULL || sep == 0 || sep + 7 > n)
		return errorf(err, errlen, "bech32: no separator or empty part");
	h = sep;
	if (h + 1 > hrplen)
		return errorf(err, errlen, "bech32: prefix too long");
	for (i = 0; i < h; i++)
		hrp[i] = (char)tolower((unsigned char)s[i]);
	hrp[h] = '\0';
	n5 = n - sep - 1;
	for (i = 0; i < n5; i++) {
		const char *p = strchr(charset, tolower((unsigned char)s[sep + 1 + i]));

		if (p == NULL || *p == '\0')
			return errorf(err, errlen, "bech32: invalid character '%c'", s[sep + 1 + i]);
		d5[i] = (uint8_t)(p - charset);
	}
	if (polymod(buf, expand(hrp, d5, n5, buf)) != 1)
		return errorf(err, errlen, "bech32: bad checksum");
	if (convert_bits(d5, n5 - 6, 5, 8, 0, data, len, 64) == -1)
		return errorf(err, errlen, "bech32: bad padding");
	return 0;
}

/* ---- BIP39 ---- */

static int
word_index(const char *w, size_t len)
{
	int lo = 0, hi = 2047, mid, c;
	char buf[16];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		c = strcmp(buf, bip39_english[mid]);
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

int
bip39_check(const char *m, char *err, size_t errlen)
{
	uint8_t bits[33], hash[32];
	int idx[24], nw = 0, i, ent_bits, cs_bits;
	const char *p = m, *start;

	memset(bits, 0, sizeof(bits));
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (nw >= 24) {
			nw++;
			continue;
		}
		idx[nw] = word_index(start, (size_t)(p - start));
		if (idx[nw] < 0) {
			key_clear(idx, sizeof(idx));
			return errorf(err, errlen, "word %d is not in the BIP39 English list", nw + 1);
		}
		nw++;
	}
	if (nw != 12 && nw != 15 && nw != 18 && nw != 21 && nw != 24) {
		key_clear(idx, sizeof(idx));
		return errorf(err, errlen, "a mnemonic has 12, 15, 18, 21 or 24 words, not %d", nw);
	}
	for (i = 0; i < nw; i++) {
		int b;

		for (b = 0; b < 11; b++)
			if (idx[i] >> (10 - b) & 1) {
				int pos = i * 11 + b;

				bits[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
			}
	}
	ent_bits = nw * 11 * 32 / 33;
	cs_bits = nw * 11 - ent_bits;
	SHA256(bits, (size_t)ent_bits / 8, hash);
	for (i = 0; i < cs_bits; i++) {
		int pos = ent_bits + i;
		int want = hash[i / 8] >> (7 - i % 8) & 1;
		int have = bits[pos / 8] >> (7 - pos % 8) & 1;

		if (want != have) {
			key_clear(bits, sizeof(bits));
			key_clear(idx, sizeof(idx));
			return errorf(err, errlen, "the mnemonic's checksum is wrong (a word is "
			    "mistyped or in the wrong order)");
		}
	}
	key_clear(bits, sizeof(bits));
	key_clear(idx, sizeof(idx));
	key_clear(hash, sizeof(hash));
	return 0;
}

int
bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64])
{
	char *salt, *norm;
	const char *p;
	size_t n = 0, i;
	int rc;

	if (passphrase == NULL)
		passphrase = "";
	for (i = 0; passphrase[i] != '\0'; i++)
		if ((unsigned char)passphrase[i] >= 0x80)
			return -1;	/* NFKD of non-ASCII text is not implemented */
	/* Words separated by single spaces, as the standard's normalised text. */
	norm = malloc(strlen(mnemonic) + 1);
	if (norm == NULL)
		return -1;
	for (p = mnemonic; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			if (n > 0 && norm[n - 1] != ' ')
				norm[n++] = ' ';
		} else
			norm[n++] = *p;
	}
	while (n > 0 && norm[n - 1] == ' ')
		n--;
	norm[n] = '\0';
	salt = malloc(strlen(passphrase) + 9);
	if (salt == NULL) {
		key_clear(norm, n);
		free(norm);
		return -1;
	}
	strcpy(salt, "mnemonic");
	strcat(salt, passphrase);
	rc = PKCS5_PBKDF2_HMAC(norm, (int)n, (const unsigned char *)salt, (int)strlen(salt), 2048,
	    EVP_sha512(), 64, seed) == 1 ? 0 : -1;
	key_clear(norm, n);
	key_clear(salt, strlen(salt));
	free(norm);
	free(salt);
	return rc;
}

int
bip39_generate(int words, char *out, size_t outlen, char *err, size_t errlen)
{
	uint8_t ent[33], hash[32];
	int ent_bytes, i, b;
	size_t off = 0;

	if (words < 12 || words > 24 || words % 3 != 0)
		return errorf(err, errlen, "a mnemonic has 12, 15, 18, 21 or 24 words");
	ent_bytes = words * 11 * 32 / 33 / 8;
	memset(ent, 0, sizeof(ent));
	if (getrandom(ent, (size_t)ent_bytes, 0) != ent_bytes)
		return errorf(err, errlen, "getrandom: %s", strerror(errno));
	SHA256(ent, (size_t)ent_bytes, hash);
	ent[ent_bytes] = hash[0];
	for (i = 0; i < words; i++) {
		int v = 0;
		const char *w;

		for (b = 0; b < 11; b++) {
			int pos = i * 11 + b;

			v = v << 1 | (ent[pos / 8] >> (7 - pos % 8) & 1);
		}
		w = bip39_english[v];
		if (off + strlen(w) + 2 > outlen) {
			key_clear(ent, sizeof(ent));
			return errorf(err, errlen, "buffer too small");
		}
		off += (size_t)snprintf(out + off, outlen - off, "%s%s", i ? " " : "", w);
	}
	key_clear(ent, sizeof(ent));
	key_clear(hash, sizeof(hash));
	return 0;
}

/* ---- BIP32 ---- */

int
key_pubkey(const uint8_t priv[32], uint8_t pub[33])
{
	secp256k1_pubkey pk;
	size_t len = 33;

	if (!secp256k1_ec_pubkey_create(ctx(), &pk, priv))
		return -1;
	secp256k1_ec_pubkey_serialize(ctx(), pub, &len, &pk, SECP256K1_EC_COMPRESSED);
	return 0;
}

int
bip32_derive(const uint8_t seed[64], const char *path, uint8_t priv[32], uint8_t chain[32],
    char *err, size_t errlen)
{
	uint8_t I[64], data[37], pub[33];
	unsigned int ilen = 64;
	const char *p;
	int rc = -1;

	if (HMAC(EVP_sha512(), "Bitcoin seed", 12, seed, 64, I, &ilen) == NULL)
		return errorf(err, errlen, "HMAC failed");
	memcpy(priv, I, 32);
	memcpy(chain, I + 32, 32);
	if (!secp256k1_ec_seckey_verify(ctx(), priv)) {
		errorf(err, errlen, "invalid master key (try another seed)");
		goto out;
	}
	if (path[0] != 'm' || (path[1] != '\0' && path[1] != '/')) {
		errorf(err, errlen, "derivation path \"%s\" must start with m/", path);
		goto out;
	}
	p = path + 1;
	while (*p == '/') {
		char *end;
		unsigned long idx;
		int hard = 0;

		p++;
		if (!isdigit((unsigned char)*p)) {
			errorf(err, errlen, "derivation path \"%s\": expected a number", path);
			goto out;
		}
		errno = 0;
		idx = strtoul(p, &end, 10);
		if (errno != 0 || idx >= 0x80000000UL) {
			errorf(err, errlen, "derivation path \"%s\": index too large", path);
			goto out;
		}
		p = end;
		if (*p == '\'' || *p == 'h' || *p == 'H') {
			hard = 1;
			p++;
		}
		if (*p != '/' && *p != '\0') {
			errorf(err, errlen, "derivation path \"%s\": unexpected '%c'", path, *p);
			goto out;
		}
		if (hard) {
			idx |= 0x80000000UL;
			data[0] = 0;
			memcpy(data + 1, priv, 32);
		} else {
			if (key_pubkey(priv, pub) == -1) {
				errorf(err, errlen, "invalid key");
				goto out;
			}
			memcpy(data, pub, 33);
		}
		data[33] = (uint8_t)(idx >> 24);
		data[34] = (uint8_t)(idx >> 16);
		data[35] = (uint8_t)(idx >> 8);
		data[36] = (uint8_t)idx;
		if (HMAC(EVP_sha512(), chain, 32, data, 37, I, &ilen) == NULL) {
			errorf(err, errlen, "HMAC failed");
			goto out;
		}
		if (!secp256k1_ec_seckey_tweak_add(ctx(), priv, I)) {
			errorf(err, errlen, "derivation hit an invalid key (index %lu)", idx);
			goto out;
		}
		memcpy(chain, I + 32, 32);
	}
	if (*p != '\0') {
		errorf(err, errlen, "derivation path \"%s\": unexpected '%c'", path, *p);
		goto out;
	}
	rc = 0;
out:
	key_clear(I, sizeof(I));
	key_clear(data, sizeof(data));
	if (rc == -1) {
		key_clear(priv, 32);
		key_clear(chain, 32);
	}
	return rc;
}

int
key_address(const uint8_t pub[33], char *addr, size_t addrlen)
{
	uint8_t sha[32], rip[20];
	unsigned int len = 20;
	EVP_MD_CTX *c;
	const EVP_MD *md;
	int ok;

	SHA256(pub, 33, sha);
	/* RIPEMD160 lives in OpenSSL 3's default provider (EVP_ripemd160). */
	md = EVP_ripemd160();
	c = EVP_MD_CTX_new();
	ok = c != NULL && md != NULL && EVP_DigestInit_ex(c, md, NULL) == 1 &&
	    EVP_DigestUpdate(c, sha, 32) == 1 && EVP_DigestFinal_ex(c, rip, &len) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	return bech32_encode(ADDR_HRP, rip, 20, addr, addrlen);
}

int
key_from_mnemonic(const char *mnemonic, const char *path, uint8_t priv[32], uint8_t pub[33],
    char *err, size_t errlen)
{
	uint8_t seed[64], chain[32];
	int rc;

	if (bip39_check(mnemonic, err, errlen) == -1)
		return -1;
	if (bip39_seed(mnemonic, "", seed) == -1)
		return errorf(err, errlen, "PBKDF2 failed");
	rc = bip32_derive(seed, path ? path : DEFAULT_HD_PATH, priv, chain, err, errlen);
	key_clear(seed, sizeof(seed));
	key_clear(chain, sizeof(chain));
	if (rc == 0 && key_pubkey(priv, pub) == -1) {
		key_clear(priv, 32);
		return errorf(err, errlen, "invalid private key");
	}
	return rc;
}

/* ---- signatures ---- */

int
key_sign(const uint8_t priv[32], const uint8_t *msg, size_t len, uint8_t sig[64])
{
	secp256k1_ecdsa_signature s;
	uint8_t h[32];
	int ok;

	SHA256(msg, len, h);
	/* NULL nonce function: RFC 6979.  libsecp256k1 always returns low-S. */
	ok = secp256k1_ecdsa_sign(ctx(), &s, h, priv, NULL, NULL);
	if (ok)
		secp256k1_ecdsa_signature_serialize_compact(ctx(), sig, &s);
	key_clear(&s, sizeof(s));
	return ok ? 0 : -1;
}

int
key_verify(const uint8_t pub[33], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	secp256k1_ecdsa_signature s;
	secp256k1_pubkey pk;
	uint8_t h[32];

	if (!secp256k1_ec_pubkey_parse(ctx(), &pk, pub, 33) ||
	    !secp256k1_ecdsa_signature_parse_compact(ctx(), &s, sig))
		return 0;
	SHA256(msg, len, h);
	/* secp256k1_ecdsa_verify refuses high-S, as the chain does. */
	return secp256k1_ecdsa_verify(ctx(), &s, h, &pk) == 1;
}

int
sig_is_low_s(const uint8_t sig[64])
{
	/* n/2 = 7FFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 5D576E73 57A4501D DFE92F46 681B20A0 */
	static const uint8_t half[32] = {
		0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46,
		0x68, 0x1b, 0x20, 0xa0 };

	return memcmp(sig + 32, half, 32) <= 0;
}

/*
 * Keys: BIP39 mnemonics, BIP32 derivation over secp256k1, bech32 addresses, signatures.
 * Pure functions, no I/O but getrandom.  Secrets are the caller's to clear (key_clear).
 */
#ifndef AW_KEYS_H
#define AW_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_HRP		"allo"
#define ADDR_MAX		128
#define DEFAULT_HD_PATH		"m/44'/118'/0'/0/0"

extern const char *const bip39_english[2048];

/* BIP173 bech32 of 8-bit data. */
int	 bech32_encode(const char *hrp, const uint8_t *data, size_t len, char *out, size_t outlen);
/* Decodes to 8-bit data; -1 with a reason (mixed case, bad character, bad checksum, ...). */
int	 bech32_decode(const char *s, char *hrp, size_t hrplen, uint8_t *data, size_t *len,
	    char *err, size_t errlen);

/*
 * Checks a mnemonic: 12, 15, 18, 21 or 24 words of the English list, checksum valid.  On
 * error the message names the word position ("word 5 is not in the BIP39 English list"),
 * never the words themselves.
 */
int	 bip39_check(const char *mnemonic, char *err, size_t errlen);
/* PBKDF2-HMAC-SHA512, 2048 rounds (ASCII passphrases only). */
int	 bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64]);
/* A new mnemonic of `words` words (12..24) from getrandom(2). */
int	 bip39_generate(int words, char *out, size_t outlen, char *err, size_t errlen);

/* Derives the private key at path ("m/44'/118'/0'/0/0", hardened with ' or h). */
int	 bip32_derive(const uint8_t seed[64], const char *path, uint8_t priv[32],
	    uint8_t chain_code[32], char *err, size_t errlen);

int	 key_pubkey(const uint8_t priv[32], uint8_t pub[33]);
/* bech32("allo", RIPEMD160(SHA256(pub))). */
int	 key_address(const uint8_t pub[33], char *addr, size_t addrlen);
/* The whole chain: mnemonic (checked) -> seed -> key at path -> pubkey. */
int	 key_from_mnemonic(const char *mnemonic, const char *path, uint8_t priv[32],
	    uint8_t pub[33], char *err, size_t errlen);

/* ECDSA over SHA-256(msg) with RFC 6979 nonces, 64-byte r||s, low-S. */
int	 key_sign(const uint8_t priv[32], const uint8_t *msg, size_t len, uint8_t sig[64]);
/* 1 when sig (64-byte r||s, low-S) is valid for SHA-256(msg) under pub (33 bytes). */
int	 key_verify(const uint8_t pub[33], const uint8_t *msg, size_t len, const uint8_t sig[64]);
/* 1 when s <= n/2. */
int	 sig_is_low_s(const uint8_t sig[64]);

void	 key_clear(void *, size_t);

#endif

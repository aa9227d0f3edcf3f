/*
 * libFuzzer target: the TxRaw decoder of `alloractl tx decode` (submitter/tx.c), with the
 * bundle and transaction signature checks.  The first input byte chooses whether a chain id
 * and account number are given (so tx_signature_ok is computed) or not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "submitter/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], hash[65];
	json_t *j;
	char *s;
	int with_chain;

	if (size == 0)
		return 0;
	with_chain = data[0] & 1;
	data++;
	size--;
	j = tx_decode(data, size, with_chain ? "allora-testnet-1" : NULL,
	    with_chain ? 12345 : -1, err, sizeof(err));
	if (j != NULL) {
		/* The JSON must always serialise. */
		s = json_dumps(j, JSON_COMPACT);
		if (s == NULL)
			abort();
		free(s);
		json_decref(j);
	}
	tx_hash_hex(data, size, hash);
	return 0;
}

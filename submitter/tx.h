/*
 * Transactions (PROTOCOL.md §1, §2, §4): the InsertWorkerPayload transaction and the worker
 * RegisterRequest, built, signed and decoded.  Pure: no I/O.
 */
#ifndef AW_TX_H
#define AW_TX_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "forecast.h"
#include "labels.h"

struct tx_params {
	const char	*chain_id;
	uint64_t	 account_number;
	uint64_t	 sequence;
	uint32_t	 topic;
	int64_t		 nonce;		/* block height of the window */
	const char	*value;		/* canonical decimal text (dec_value); NULL with labels */
	const struct tx_label *labels;	/* v10 InputInference field 7, sorted; NULL = none */
	size_t		 nlabels;
	int		 arity;		/* enum topic_arity, for the label rules */
	int		 no_bundle_signature;	/* leave InputWorkerDataBundle fields 5, 6 out */
	uint64_t	 gas_limit;
	uint64_t	 fee_uallo;
	uint64_t	 timeout_height;	/* 0 = none */
	const char	*emissions;	/* "v9" or "v10" */
	const char	*memo;		/* may be NULL */
	const char	*fee_granter;	/* Fee.granter (feegrant pays the fee), NULL = none */
	/* Issue 22: the InputForecast of the bundle (forecaster = our address, block height =
	 * nonce, extra_data empty); none when nforecast is 0.  Checked by forecast_check. */
	const struct tx_forecast_elem *forecast;
	size_t		 nforecast;
	size_t		 forecast_limit;	/* max elements (0 = FORECAST_DEFAULT_LIMIT) */
};

struct tx_out {
	uint8_t		*raw;		/* TxRaw bytes */
	size_t		 rawlen;
	char		 hash[65];	/* upper-case hex SHA-256 of raw */
	char		*base64;	/* raw in base64 */
	json_t		*detail;	/* every intermediate under the vector's key names */
};

/* Builds and signs an InsertWorkerPayload transaction.  for_simulation: one empty
 * signature (what Simulate expects).  -1 with err on bad parameters. */
int	 tx_build_payload(const uint8_t priv[32], const struct tx_params *, int for_simulation,
	    struct tx_out *, char *err, size_t errlen);
/* Builds and signs a RegisterRequest (sender = owner = the key's address, worker). */
int	 tx_build_register(const uint8_t priv[32], const struct tx_params *, int for_simulation,
	    struct tx_out *, char *err, size_t errlen);
void	 tx_out_free(struct tx_out *);

/*
 * Decodes a TxRaw into the JSON of INTERFACES.md (`alloractl tx decode`), including
 * bundle_signature_ok and, when chain_id and account_number (>= 0) are given,
 * tx_signature_ok (else null).  Also: "signer_address" (from the pubkey) and, per message,
 * "value_canonical".  NULL with err when the bytes are not a transaction we understand.
 */
json_t	*tx_decode(const uint8_t *raw, size_t len, const char *chain_id, int64_t account_number,
	    char *err, size_t errlen);

void	 tx_hash_hex(const uint8_t *raw, size_t len, char out[65]);

#endif

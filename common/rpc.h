/*
 * CometBFT JSON-RPC over HTTP (common/http.h) with a list of endpoints: a request that
 * fails in transport, or gets 429 or 5xx, is retried on the next endpoint, and the endpoint
 * that answered becomes the preferred one.
 */
#ifndef AW_RPC_H
#define AW_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct http_client;
struct rpc;

enum rpc_status {
	RPC_OK,		/* result is the JSON-RPC "result" */
	RPC_ERROR,	/* the node answered with a JSON-RPC error; error holds message + data */
	RPC_FAIL,	/* no endpoint answered usably; error says why (last one tried) */
};

typedef void (*rpc_cb)(enum rpc_status, json_t *result, const char *error, void *arg);

struct rpc *rpc_new(struct http_client *, char *const *urls, size_t n, long timeout_ms);
/* Calls in flight still complete (their callbacks run); the memory goes with the last. */
void	 rpc_free(struct rpc *);
/* params is stolen (NULL = {}).  Returns 0, or -1 when the request could not start. */
int	 rpc_call(struct rpc *, const char *method, json_t *params, rpc_cb, void *arg);
const char *rpc_endpoint(struct rpc *);	/* the preferred endpoint */
/*
 * Inside a callback: how many endpoints that call was sent to.  More than 1 means an
 * earlier endpoint failed in transport or with 429/5xx after perhaps processing it (a
 * broadcast's outcome is then unknown whatever the last endpoint said).
 */
size_t	 rpc_last_tried(struct rpc *);

/* abci_query: the response's code, log, value (decoded from base64) and height. */
struct abci_result {
	long		 code;
	const char	*log;
	const uint8_t	*value;
	size_t		 value_len;
	int64_t		 height;
};
typedef void (*rpc_abci_cb)(enum rpc_status, const struct abci_result *, const char *error,
	    void *arg);
int	 rpc_abci_query(struct rpc *, const char *path, const uint8_t *data, size_t len,
	    rpc_abci_cb, void *arg);

/* broadcast_tx_sync with the TxRaw bytes: result is the CheckTx answer (code, log, hash). */
int	 rpc_broadcast_tx_sync(struct rpc *, const uint8_t *tx, size_t len, rpc_cb, void *arg);
/* tx by its 32-byte hash: RPC_ERROR with rpc_tx_not_found(error) while not included. */
int	 rpc_tx(struct rpc *, const uint8_t hash[32], rpc_cb, void *arg);
int	 rpc_tx_not_found(const char *error);

#endif

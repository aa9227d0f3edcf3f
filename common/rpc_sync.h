/*
 * A synchronous layer over the asynchronous HTTP and JSON-RPC clients, for the command-line
 * tools (alloractl check, register and the roles' preflights): each call runs a private event
 * loop until its answer is in. The daemon never uses it (its roles stay event-driven).
 */
#ifndef AW_RPC_SYNC_H
#define AW_RPC_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "rpc.h"

struct config;

/* One chain connection: the last answer's status, result or ABCI fields, or error. */
struct sync {
	struct event_base	*base;
	struct http_client	*http;
	struct rpc		*rpc;
	int			 done;
	enum rpc_status		 st;
	json_t			*result;
	char			*error;
	long			 code;
	char			*log;
	uint8_t			*value;
	size_t			 value_len;
};

/* One HTTP GET's answer. */
struct sync_get {
	struct event_base	*base;
	int			 done;
	int			 curl_code;
	long			 status;
	char			*error;
	char			*body;
	size_t			 body_len;
};

void	 sync_init(struct sync *, const struct config *);	/* the configuration's rpc list */
void	 sync_free(struct sync *);
void	 sync_reset(struct sync *);
/* A JSON-RPC call (params stolen) or an ABCI query; the answer is in s until the next call. */
enum rpc_status sync_call(struct sync *, const char *method, json_t *params);
enum rpc_status sync_abci(struct sync *, const char *path, const uint8_t *data, size_t len);
enum rpc_status sync_wait(struct sync *);
/* broadcast_tx_sync of TxRaw bytes (result: the CheckTx answer) and tx by its hash. */
enum rpc_status sync_broadcast(struct sync *, const uint8_t *tx, size_t len);
enum rpc_status sync_tx(struct sync *, const uint8_t hash[32]);
/*
 * The emissions version: the configured one ("v9", "v10"), or detected when it is "auto" (v10
 * when the chain answers /emissions.v10.QueryService/GetParams, else v9), written to em.
 * 0 configured, 1 detected, -1 when the chain does not answer.
 */
int	 sync_emissions_version(struct sync *, const struct config *, char *em, size_t emlen);
/* Why the last query failed, for a message. */
const char *sync_why(const struct sync *);
/* A GET on the same event loop (-1 when it could not start); free with sync_get_free. */
int	 sync_get(struct sync *, const char *url, const char *const *headers, long timeout_ms,
	    struct sync_get *);
void	 sync_get_free(struct sync_get *);

#endif

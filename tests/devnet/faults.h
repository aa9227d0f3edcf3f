/*
 * The devnet's faults as the real components produce them (issue 13): see faults.c.
 */
#ifndef AW_DEVNET_FAULTS_H
#define AW_DEVNET_FAULTS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct evhttp_request;

/* Options: returns 1 when OPT was one of ours (0 when not, -1 with a bad value). */
int	 faults_option(const char *opt, const char *arg);
void	 faults_init(struct event_base *, double (*rnd)(void), void (*record)(json_t *));
void	 faults_free(void);

/* CometBFT's mempool cache: bytes already seen (pending or included) are refused before
 * CheckTx with the JSON-RPC error; returns 1 and sets *err then. */
int	 faults_cache_check(const char *hash, json_t **err);
void	 faults_cache_add(const char *hash);

/* --lose-reply-rate: returns 1 when this processed broadcast's answer is to be lost (the
 * request is then held and the connection closed later; the caller sends nothing). */
int	 faults_lose_reply(struct evhttp_request *);

/* --fake-window-rate: called at every block; returns how many windows the websocket is to
 * announce that the chain does not have (topic, nonce, end written to the arrays). */
size_t	 faults_fake_windows(int64_t height, int64_t start_height, long epoch, long window,
	    const uint32_t *topics, size_t ntopics, uint32_t *ft, int64_t *fn, int64_t *fe,
	    size_t max);

/* Is unconfirmed_txs offered (not --no-unconfirmed-txs)? */
int	 faults_unconfirmed_offered(void);
/* unconfirmed_txs: the result object for the mempool's transactions (raw bytes). */
json_t	*faults_unconfirmed_txs(unsigned char *const *raw, const size_t *len, size_t n,
	    json_t *params, size_t total_bytes);

#endif

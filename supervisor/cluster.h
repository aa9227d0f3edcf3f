/*
 * Active/standby across hosts through etcd ([cluster]; supervisor/cluster.c and
 * cluster_fence.c).  Without [cluster] every function here says "serve" and nothing changes.
 */
#ifndef AW_CLUSTER_H
#define AW_CLUSTER_H

#include <stdint.h>
#include <jansson.h>

enum cluster_verdict {
	CL_GO,		/* we hold the leader key (and nothing else is recorded) */
	CL_RESOLVE,	/* a transaction is recorded for this nonce: resolve it, sign nothing */
	CL_NOT_LEADER,	/* our lease does not hold the leader key: sign nothing */
	CL_UNAVAILABLE,	/* etcd did not answer: sign nothing (for now) */
};

/* rec: the recorded {"txhash", "tx", "sequence", "host"} for CL_RESOLVE (borrowed). */
typedef void (*cluster_cb)(uint32_t topic, int64_t nonce, enum cluster_verdict,
	    json_t *rec, const char *why, void *arg);

void	 cluster_init(void);
void	 cluster_stop(void);
void	 cluster_free(void);
int	 cluster_enabled(void);
/* Whether this host serves the wallet now (as far as it knows; the fence decides). */
int	 cluster_serves(const char *wallet);
/*
 * A window the listener reported: kept while it is open so that a host that becomes
 * the leader serves it.  Returns cluster_serves(wallet).
 */
int	 cluster_window(uint32_t topic, const char *wallet, json_t *payload);
/*
 * The chain's answer (WINDOW_STATUS state: open, no_answer, not_open) about a websocket
 * window kept above while this host stood by: the kept payload's "confirm" takes it, so
 * that a takeover does not wait for a confirmation that came already (not_open: the
 * window is forgotten).
 */
void	 cluster_window_status(uint32_t topic, int64_t nonce, const char *state);
/* Before signing: still the leader, and is a transaction recorded for the nonce? */
void	 cluster_presign(uint32_t topic, int64_t nonce, const char *wallet, cluster_cb,
	    void *arg);
/*
 * Before broadcasting: records txhash and tx under the nonce's key, only while our
 * lease holds the leader key and no other transaction is recorded there (prev_txhash:
 * the transaction this one replaces after the chain refused it at CheckTx, or NULL).
 */
void	 cluster_fence(uint32_t topic, int64_t nonce, const char *wallet, const char *txhash,
	    const char *tx, long long sequence, const char *prev_txhash, cluster_cb, void *arg);
/* 1 once after this host became the wallet's leader (its account moved meanwhile). */
int	 cluster_take_fresh(const char *wallet);
/*
 * For /readyz (INTERFACES.md: a standby is ready, with a reason naming the wallets it
 * stands by for): an array of texts, empty when this host leads every wallet (or no
 * [cluster]).
 */
json_t	*cluster_ready_reasons(void);
/* The "cluster" object of alloractl status (INTERFACES.md "Cluster"). */
json_t	*cluster_status_json(void);

/* alloractl check (cluster_preflight.c): each etcd endpoint, with a quorum read. */
struct config;
void	 cluster_preflight(const struct config *);

/* flow.c, called by the cluster */
void	 flow_cluster_lost(const char *wallet);
void	 flow_window_replay(json_t *payload);

#endif

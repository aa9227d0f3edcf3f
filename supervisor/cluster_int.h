/*
 * What the two halves of the cluster share (folder-private: cluster.c and cluster_fence.c
 * include it): the wallets' leadership state, the process-wide state C (the lease, etcd's
 * reachability, the windows kept for a takeover) and the etcd helpers both use.
 * cluster.c owns the lease, the campaign and watch of each leader key, the windows kept
 * for a takeover, the tick, and the status and readiness side; cluster_fence.c the
 * per-transaction protocol (presign and fence).
 */
#ifndef AW_CLUSTER_INT_H
#define AW_CLUSTER_INT_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "cluster.h"

#define STASH_MAX	256

struct stash {
	uint32_t	 topic;
	json_t		*payload;	/* the WINDOW_OPEN payload */
	int64_t		 seen_ms;
};

struct cwallet {
	char		*name;
	char		*address;	/* from the submitter; campaigns wait for it */
	char		*key;		/* the leader key */
	char		*nonce_prefix;	/* .../nonce/ */
	int		 leader;	/* we hold the key and may sign */
	int		 checking;	/* our lease may have lapsed: asking etcd */
	char		*holder;	/* the leader's name, NULL = nobody / unknown */
	int		 campaign_busy;
	int64_t		 next_campaign_ms;
	long		 watch_id;
	int64_t		 watch_rev;
	int64_t		 next_watch_ms;
	int		 announced;	/* a leader event was written once */
	int		 fresh;		/* leader since the last SUBMIT */
};

struct cluster_state {
	int		 on;
	struct etcd	*etcd;
	struct event	*tick;
	char		*name;
	char		*prefix;
	char		*chain_id;
	json_t		*endpoints;	/* as started (a reload does not change them) */
	long		 ttl_s;
	int64_t		 lease;		/* 0 = none */
	int64_t		 deadline_ms;	/* mono: the lease surely holds until then */
	int		 granting;
	int		 keepalive_busy;
	int64_t		 next_keepalive_ms;
	int		 etcd_ok;	/* last request answered */
	char		*etcd_err;	/* why not */
	int64_t		 next_warn_ms;
	struct cwallet	*w;
	size_t		 nw;
	struct stash	 stash[STASH_MAX];
	size_t		 nstash;
	int		 stopping;
};

extern struct cluster_state C;

/* cluster.c */
struct cwallet	*wallet_of(const char *name);
void		 etcd_answered(void);
void		 etcd_failed(const char *err);
/* Records what we now know of the wallet's leader; an event for every change. */
void		 leader_is(struct cwallet *w, const char *holder, int me, const char *why);
/* etcd txn pieces: a compare, a range request, the first kv of the n-th response, a
 * kv's value (decoded) and the leader's name in a leader key's value. */
json_t		*cmp(const char *k64, const char *target, const char *field, json_t *v);
json_t		*range_op(const char *k64);
json_t		*txn_kv(json_t *reply, size_t n);
char		*kv_value(json_t *kv);
char		*holder_name(json_t *kv);

#endif

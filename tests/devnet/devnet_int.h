/*
 * What the devnet's pieces share (folder-private): the chain's state D (accounts, topics,
 * windows, mempool, results, websocket connections) and the entry points one piece offers
 * another.  devnet.c: the HTTP JSON-RPC front, options and main; devchain.c: the chain's
 * rules (accounts, topics, windows, CheckTx, delivery, blocks, the --record); devquery.c:
 * the abci_query paths; devws.c: the /websocket server.
 */
#ifndef AW_DEVNET_INT_H
#define AW_DEVNET_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <event2/util.h>
#include <jansson.h>
#include <wslay/wslay.h>

#include "devhooks.h"
#include "submitter/keys.h"

struct event_base;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;
struct bufferevent;

#define MAXT	64

struct account {
	char		 addr[ADDR_MAX];
	uint64_t	 balance;
	uint64_t	 number;
	uint64_t	 sequence;	/* CheckTx's state (mempool included) */
	uint64_t	 committed;	/* the last block's state: what queries answer */
	uint32_t	 unregistered[MAXT];
	size_t		 nunreg;
	uint32_t	 notwl[MAXT];
	size_t		 nnotwl;
};

struct window {
	uint32_t	 topic;
	int64_t		 nonce;
	int64_t		 end;
};

struct mtx {			/* a transaction that passed CheckTx, waiting for a block */
	unsigned char	*raw;
	size_t		 len;
	json_t		*dec;
	char		 hash[65];
	struct mtx	*next;
};

struct wsconn {
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ctx;
	int			 subscribed;
	char			*sub_id;	/* JSON text of the subscription id */
	char			*query;
	struct wsconn		*next;
	int			 dead;
};


struct devnet {
	struct event_base	*base;
	struct evhttp		*http;
	char			*chain_id;
	long			 block_ms;
	int64_t			 height;
	int64_t			 start_height;
	uint32_t		 topics[MAXT];
	size_t			 ntopics;
	uint32_t		 inactive[MAXT];	/* exist, but open no windows */
	size_t			 ninactive;
	long			 epoch;
	long			 window;
	char			 em[8];
	struct account		*accts;
	size_t			 nacct;
	uint64_t		 min_gas_price;
	uint64_t		 data_sending_fee;
	uint64_t		 registration_fee;
	FILE			*record;
	uint64_t		 rng;
	double			 drop_ws_every;
	int			 ws_one_block;	/* close each subscription after one block */
	double			 http_error_rate;
	double			 http_429_rate;
	long			 delay_ms;
	int			 seq_mismatch_once;
	int			 fee_spike_once;
	int			 accepted_any;
	int			 fee_spike_armed;
	double			 malformed_rate;
	struct window		*wins;
	size_t			 nwins;
	json_t			*fulfilled;	/* "topic:nonce:worker" */
	json_t			*results;	/* hash -> {height, code, log, codespace} */
	struct mtx		*mempool;
	struct wsconn		*ws;
	json_t			*block_events;	/* events of the block being made */
	double			 last_drop;
};

extern struct devnet D;

/* devnet.c */
double	 rnd(void);

/* devchain.c: state lookups */
struct account	*account(const char *addr);
int	 topic_known(uint32_t t);
int	 topic_active(uint32_t t);
int	 registered(struct account *a, uint32_t t);
int	 whitelisted(struct account *a, uint32_t t);
struct window	*open_window(uint32_t topic, int64_t nonce);
/* A --record line (takes o). */
void	 record(json_t *o);
/* The message-level checks (delivery, or simulation without the signature). */
json_t	*deliver_checks(json_t *dec, int simulate, long *code, char **log,
	    const char **codespace);
/* broadcast_tx_sync's CheckTx: the result object; hash_out gets the hash (65 bytes). */
json_t	*checktx(const char *b64, char *hash_out);
/* The block timer (the first call makes the start height). */
void	 make_block(evutil_socket_t fd, short ev, void *arg);

/* devquery.c */
json_t	*abci_query(const char *path, const uint8_t *data, size_t dlen);

/* devws.c */
void	 ws_upgrade(struct evhttp_request *req);
void	 ws_reap(int all);
/* The block's NewBlockEvents to every subscriber (drops and faults included). */
void	 ws_block(json_t *events);

#endif

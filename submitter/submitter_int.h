/*
 * What the pieces of the submitter process share (folder-private: only submitter.c,
 * wallets.c, queries.c, broadcast.c and resolve.c include it): a job (one nonce of one
 * topic, from SUBMIT to its outcome), a wallet as the process holds it, the process state S,
 * and the functions one piece calls in another.  Who owns what:
 *   submitter.c  the process: frames from the supervisor (SUBMIT, SIGNED_ACK, the
 *                configuration, shutdown), the end of a job (SUBMITTED), small helpers
 *   wallets.c    key loading: the mnemonics (sealed memfd or key file) to locked key pages
 *   queries.c    the chain queries of the process: account, balance, parameters, whitelist,
 *                emissions version, height, the gas price setting, the fee grant
 *   broadcast.c  the job machine: simulate, sign (audit line, SIGNED), broadcast and the
 *                classification of the node's answer
 *   resolve.c    confirmation and resolution rounds by hash (issue 13)
 */
#ifndef AW_SUBMITTER_INT_H
#define AW_SUBMITTER_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "fees.h"
#include "keys.h"
#include "labels.h"

struct audit_file;
struct http_client;
struct rpc;

#define DEFAULT_GAS		300000
#define CONFIRM_MS		400
#define RETRY_MS		500
#define MAX_ATTEMPTS		6
#define NO_END_GIVE_UP_S	180
#define MAX_HASHES		8
#define MEMPOOL_EVERY		5	/* confirmation rounds between two mempool checks */

enum jstate {
	J_QUEUED, J_ACCOUNT, J_SIMULATE, J_WAIT_ACK, J_BROADCAST, J_CONFIRM, J_UNKNOWN, J_DONE
};

enum rstep { RS_NONE, RS_STATUS, RS_TX, RS_MEMPOOL, RS_ACCOUNT };

struct wallet;

struct job {
	TAILQ_ENTRY(job) entry;
	struct wallet	*w;
	uint32_t	 topic;
	int64_t		 nonce;
	char		*value;
	struct tx_label	*labels;	/* labelled values (chainnext.h), NULL = one value */
	size_t		 nlabels;
	struct tx_forecast_elem *fc;	/* the forecast signed with it (forecast.h), issue 22 */
	size_t		 nfc;
	const char	*fc_dropped;	/* the rule that dropped the SUBMIT's forecast, or NULL */
	int64_t		 window_end;	/* -1 unknown */
	enum jstate	 st;
	int		 attempts;
	int		 resolving;	/* a transaction signed before a restart */
	uint64_t	 gas;
	uint64_t	 fee;
	uint64_t	 seq;
	uint8_t		*raw;
	size_t		 rawlen;
	char		*b64;
	char		 hash[65];
	double		 started;	/* mono */
	struct event	*timer;
	int		 dry_sim;	/* dry run: the simulation is all */
	int		 acked;		/* SIGNED_ACK ok received for this hash */
	int		 audited;	/* its audit line is on disk */
	/* Issue 13: what is known about the transaction(s) of this nonce. */
	int		 maybe;		/* the current bytes may be in a mempool or included */
	int		 in_mempool;	/* seen in a mempool (CheckTx, cache, unconfirmed_txs) */
	int		 released;	/* the wallet's next job was let go */
	int		 told_broadcast;	/* SUBMITTED "broadcast" sent */
	char		 hashes[MAX_HASHES][65];	/* every tx signed for this nonce */
	int		 nhashes;
	int64_t		 bcast_height;	/* a height known after the last broadcast not
					   refused (0 until a status answer after it) */
	int		 bcast_pending;	/* bcast_height is to come from the next status */
	int		 chain_seq_known;
	uint64_t	 chain_seq;
	int64_t		 seq_change_height;
	/* the resolution round in progress (one request in flight at a time) */
	enum rstep	 rstep;
	int		 ridx, rnotfound, rfail, rmempool, rounds;
	int64_t		 rheight;
	int		 gas_cached;	/* the gas came from topic_gas, not a simulation */
	uint64_t	 failed_gas;	/* the gas limit that ran out at delivery, 0 = none */
};

TAILQ_HEAD(jobq, job);

struct wallet {
	char		*name;
	char		 address[ADDR_MAX];
	uint8_t		 pub[33];
	uint8_t		*priv;		/* 32 bytes in a locked page */
	int		 have_account;
	int		 account_pending;
	uint64_t	 account_number;
	uint64_t	 sequence;
	char		*balance;
	int		 stopped;
	struct jobq	 queue;
	struct job	*active;
	struct audit_file *audit;	/* audit.c: group commit of the audit log */
	int		 allowance_state;	/* 0 unknown, 1 read, 2 no grant */
	struct fee_allowance allowance;
};

struct submitter_state {
	struct event_base	*base;
	const struct config	*conf;
	struct config		*own_conf;
	struct http_client	*http;
	struct rpc		*rpc;
	struct wallet		*wallets;
	size_t			 nwallets;
	char			 emissions[8];	/* "" until known */
	int			 detecting;
	uint64_t		 data_sending_fee;
	uint64_t		 max_elements_per_forecast;	/* GetParams; 0 = unknown */
	uint64_t		*topic_gas;	/* per configured topic: last simulated gas, 0 = none */
	int			*topic_wl;	/* per configured topic: CanSubmitWorkerPayload at
						   start, 0 unknown, 1 yes, -1 no */
	int			 shutting_down;
	int			 memfd;		/* the sealed mnemonics of the environment, -1 */
	int64_t			 height;	/* latest known block height */
	double			 height_at;
	int			 no_mempool_query;	/* the node has no unconfirmed_txs */
};

extern struct submitter_state S;

/* submitter.c */
struct wallet	*wallet_by_name(const char *name);
size_t		 topic_index(uint32_t topic);
void		 job_timer(struct job *j, long ms);
void		 send_wallet(struct wallet *w);
void		 job_finish(struct job *j, const char *outcome, long code, int64_t height,
		    const char *reason, const char *error, int stop_topic, int stop_wallet);
int		 window_over(struct job *j);
int		 has(const char *text, const char *needle);

/* wallets.c */
void		 load_wallets(const struct config *c);

/* queries.c */
void		 query_account(struct wallet *w);
void		 query_balance(struct wallet *w);
void		 query_allowance(struct wallet *w);
void		 detect_emissions(void);
void		 refresh_height(void);
void		 price_config(const struct config *c);
void		 price_known(void);

/* broadcast.c */
void		 maybe_broadcast(struct job *j);
void		 set_fee(struct job *j, uint64_t gas);
int		 final_error(struct job *j, long code, const char *codespace, const char *log,
		    int64_t height);
void		 remember_hash(struct job *j, const char *hash);
void		 sign_and_record(struct job *j);
void		 broadcast(struct job *j);
void		 job_step(struct job *j);
void		 wallet_next(struct wallet *w);
void		 job_timer_cb(evutil_socket_t fd, short ev, void *arg);

/* resolve.c */
void		 round_start(struct job *j);
void		 mark_in_mempool(struct job *j);
void		 warn_event(struct job *j, const char *reason, const char *fmt,
		    const char *detail);

#endif

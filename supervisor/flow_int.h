/*
 * What the pieces of the window flow share (supervisor/ only, not an interface; flow.h is
 * the supervisor's view of them):
 *   flow.c          the works and their routing: WINDOW_OPEN/WINDOW_STATUS from the
 *                   listener, PREDICT to and PREDICTION from the trainer, SUBMIT to the
 *                   submitter, the fallback, the frame dispatch and the timers (flow_tick)
 *   flow_ledger.c   the ledger side: the SIGNED record and its group commit (SIGNED_ACK),
 *                   the replay of the ledgers at start, flow_free, the ledger state queries
 *   flow_results.c  the submitter's answers: SIGNED (and the cluster's fence), SUBMITTED
 *                   outcomes, WALLET, the cluster's presign verdict
 *   flow_reload.c   the configuration reload: topics added and removed, the new CONFIG
 */
#ifndef AW_FLOW_INT_H
#define AW_FLOW_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "cluster.h"
#include "sup.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct frame;
struct ledger;

enum wstate { W_PREDICTING, W_SUBMITTING, W_SIGNED, W_BROADCAST };

struct work {
	TAILQ_ENTRY(work) entry;
	uint32_t	 topic;
	int64_t		 nonce;
	int64_t		 window_end;	/* -1 unknown */
	enum wstate	 st;
	int64_t		 seen_ms;
	int64_t		 predict_deadline_ms;
	int		 predict_sent;
	int		 submit_sent;
	char		*value;
	char		*txhash;
	char		*tx;
	long long	 sequence;
	/* issue 13 */
	json_t		*txhashes;	/* every hash the ledger holds for the nonce */
	int		 confirm;	/* ws windows: 1 the chain says open, 0 asked, -1 no answer */
	int64_t		 close_ms;	/* estimated close of the window (mono) */
	int64_t		 next_submit_ms;	/* a refused SUBMIT is sent again from then */
	char		*wait_reason;	/* why the submitter has not taken it (refused, ...) */
	/* [cluster] (cluster.c): the presign check passed, it is asked, the estimated
	 * close of the window (mono ms, 0 unknown), a signature the fence refused */
	int		 cl_ok;
	int		 cl_asked;
	int64_t		 cl_close_ms;
	char		*cl_refused;
};

TAILQ_HEAD(worklist, work);

struct ftopic {
	struct ledger	*ledger;
	json_t		*known;		/* nonce string -> last state */
	double		 next_wait_log;	/* wall time of the next "starts in" line */
	int		 chain_stopped;	/* not whitelisted / no funds: reason in rt */
};

/* flow.c */
extern struct worklist works;
extern struct ftopic *ft;

struct topic_rt *rt_of(uint32_t id, size_t *idx);
void	 set_str(char **dst, const char *s);
int	 record(struct work *w, const char *state, json_t *fields, int sync);
void	 work_free(struct work *w);
struct work *work_find(uint32_t topic, int64_t nonce);
void	 mcount(const char *name, uint32_t topic, const char *k2, const char *v2);
void	 count_missed(struct topic_rt *t, const char *reason);
void	 send_submit(struct work *w);
void	 competition_tick(void);

/* flow_ledger.c */
void	 signed_commit(struct work *w, const char *txhash, const char *tx, long long seq,
	    uint32_t fseq);

/* flow_results.c */
void	 presign_done(uint32_t, int64_t, enum cluster_verdict, json_t *, const char *,
	    void *);
void	 on_signed(struct frame *f);
void	 on_submitted(struct frame *f);
void	 on_wallet(struct frame *f);

#endif

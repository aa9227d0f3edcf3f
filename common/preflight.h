/*
 * The report of `alloractl check` (common/preflight.c): one line per thing checked, written
 * by whichever role knows the thing (listener/preflight.c, trainer/preflight.c,
 * submitter/preflight.c) and counted here; supervisor/ctl_check.c composes them.
 */
#ifndef AW_PREFLIGHT_H
#define AW_PREFLIGHT_H

#include <stddef.h>
#include <stdint.h>

enum { L_OK, L_WARN, L_ERR, L_SKIP };

/* "LEVEL    WHAT                         message" on standard output. */
void	 preflight_line(const char *what, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 preflight_reset(void);
int	 preflight_errors(void);
int	 preflight_warnings(void);

struct sync;
struct config;
struct config_topic;
struct config_wallet;

/*
 * listener/preflight.c: the node. Each RPC endpoint answers and serves the configured chain
 * id, the websocket upgrades and accepts the listener's subscription, the emissions version
 * (configured or detected, written to em). Returns 1 when the chain can be asked further.
 */
int	 listener_preflight(struct sync *, const struct config *, char *em, size_t emlen);
/*
 * The websocket alone: connects, upgrades, subscribes as the listener does and waits for the
 * answer, each step bounded by timeout_ms. -1 with err naming the step that failed ("cannot
 * connect: ...", "not a websocket: ...", "no answer ...", "the subscription was refused: ...").
 */
int	 listener_preflight_ws(const char *url, long timeout_ms, char *err, size_t errlen);

/*
 * listener/preflight_score.c: topic t's loss method (GetTopic) and whether addr has a score
 * (GetInfererScoreEma; skipped on a chain without it, or when addr is NULL).
 */
void	 listener_preflight_scores(struct sync *, const char *em, const struct config_topic *,
	    const char *addr);

/* trainer/preflight.c: topic t's market data answers, has its symbol, and is fresh. */
void	 trainer_preflight_topic(struct sync *, const struct config *,
	    const struct config_topic *);

/*
 * submitter/preflight.c: the emissions module's data_sending_fee and registration_fee (0 when
 * unknown); a wallet's key line (loaded in a child; addr gets the address, "" when it did not
 * load: -1) and, when chain, its balance line; a topic's lines (exists, active, registration,
 * whitelist; addr NULL when the wallet's key did not load).
 */
void	 submitter_preflight_fees(struct sync *, const char *em, uint64_t *data_fee,
	    uint64_t *reg_fee);
int	 submitter_preflight_wallet(struct sync *, const struct config *,
	    const struct config_wallet *, int chain, uint64_t data_fee, char *addr,
	    size_t addrlen);
void	 submitter_preflight_topic(struct sync *, const char *em, const struct config_topic *,
	    const char *addr, uint64_t reg_fee);

/*
 * submitter/preflight_fees.c (issue 20): the gas price and fee lines (and the block time from
 * the node's status), what a submission costs a wallet's own balance, a topic's fees per day,
 * a wallet's fee grant (after the topics: it is weighed against a day of their fees).
 */
void	 submitter_preflight_gas(struct sync *, const struct config *);
uint64_t submitter_preflight_cost(const struct config *, const struct config_wallet *,
	    uint64_t data_fee);
void	 submitter_preflight_topic_fees(struct sync *, const char *em, const struct config *,
	    size_t topic_index);
void	 submitter_preflight_allowance(struct sync *, const struct config *,
	    const struct config_wallet *, const char *addr);

#endif

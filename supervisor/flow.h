/*
 * The work of the daemon, as the supervisor routes it: WINDOW_OPEN (listener) -> ledger
 * check -> PREDICT (trainer) -> PREDICTION -> SUBMIT (submitter) -> SIGNED -> ledger fsync ->
 * SIGNED_ACK -> SUBMITTED.  Also the ledger, the competition window and re-sending work
 * in flight to a restarted child.
 */
#ifndef AW_FLOW_H
#define AW_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct child;
struct config;
struct frame;

void	 flow_init(void);
void	 flow_ready(void);
void	 flow_child_ready(struct child *);
void	 flow_dispatch(struct child *, struct frame *);
void	 flow_tick(void);
void	 flow_stop(void);
void	 flow_reload(void);
int	 flow_reload_config(char *err, size_t errlen);
void	 flow_free(void);
/* 1 while a submission is between SIGNED and its outcome (shutdown waits for it). */
int	 flow_in_flight(void);
int	 reload_topics(struct config *, char *err, size_t errlen);
/* wallet_reload.c */
int	 wallets_changed(const struct config *, const struct config *, char *what, size_t);
void	 submitter_restart(const char *why);
/* The ledger state of a (topic, nonce) we know (NULL when none), and a new record of it
 * (fields stolen): for the score states after accepted (supervisor/scores.c). */
const char *flow_nonce_state(uint32_t topic, int64_t nonce);
int	 flow_record(uint32_t topic, int64_t nonce, const char *state, json_t *fields);
/* A record that is no state change (shadow: supervisor/shadow.c): the ledger only. */
int	 flow_note(uint32_t topic, int64_t nonce, const char *state, json_t *fields);

#endif

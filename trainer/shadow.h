/* Shadow models of the trainer (trainer/shadow.c, issue 19). */
#ifndef AW_TRAINER_SHADOW_H
#define AW_TRAINER_SHADOW_H

#include <stdint.h>

struct config;
struct event_base;
struct http_client;

/*
 * The topic's shadow models for the window `nonce`, after its PREDICTION went out
 * (submitted_value: what it carried, NULL for none): journalled, queued, computed one
 * after the other.  held: the PREDICTION is not out yet (the forecaster holds it for its
 * forecast): the round waits for shadow_released (at most SHADOW_HELD_MAX_S).
 */
void	 shadow_window(struct event_base *, struct http_client *, const struct config *,
	    uint32_t topic, int64_t nonce, const char *submitted_value, int held);
/* The held PREDICTION of (topic, nonce) has been sent (trainer/forecaster.c). */
void	 shadow_released(uint32_t topic, int64_t nonce);
void	 shadow_cancel_all(void);

#endif

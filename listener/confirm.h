/*
 * A window nonce heard only on the websocket is confirmed on the chain
 * (IsWorkerNonceUnfulfilled) before anything is signed for it: see confirm.c.
 */
#ifndef AW_CONFIRM_H
#define AW_CONFIRM_H

#include <stdint.h>

struct event_base;
struct rpc;

/* rpcp and emissions point at the listener's current client and "v9"/"v10" text. */
void	confirm_init(struct event_base *, struct rpc **rpcp, const char *emissions);
/* Asks the chain about (topic, nonce) and sends WINDOW_STATUS with its answer; a query
 * without an answer is retried (a WINDOW_STATUS "no_answer" is sent after each). */
void	confirm_window(uint32_t topic, int64_t nonce);

#endif

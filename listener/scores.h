/*
 * The worker's score, standing and rewards as the chain reports them (issue 18): the
 * listener's part.  scorev.c parses the events of a NewBlockEvents frame (pure, untrusted
 * input); scores.c holds the (topic, address) pairs the supervisor asked about, runs the
 * query rounds of common/scoreq.h (on start, after our events, and from the poll when an
 * epoch passed without one) and sends everything to the supervisor as MSG_SCORE frames.
 */
#ifndef AW_SCORES_H
#define AW_SCORES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct rpc;
struct frame;

/* Is (topic, address) one the supervisor watches? */
typedef int (*scorev_ours_fn)(uint32_t topic, const char *address);

/*
 * The score events of one websocket frame for our (topic, address) pairs, appended to out
 * as objects:
 *   {"kind": "ema", "topic", "address", "nonce", "ema", "active": bool|null, "rank",
 *    "count", "active_count", "lowest_active_ema"}   (EventEMAScoresSet, inferers)
 *   {"kind": "reward", "topic", "address", "nonce", "reward", "height"} (EventRewardsSettled)
 *   {"kind": "active_set", "topic", "address", "nonce", "active", "active_count"}
 *                                                              (EventActiveInferersSet)
 * Returns the number appended, or -1 when the frame is not JSON.  A malformed event of
 * one of these types is skipped and described in bad (the first one; "" when none).
 */
int	 scorev_parse(const char *text, size_t len, scorev_ours_fn, json_t *out, char *bad,
	    size_t badlen);

/* The addresses EventActiveInferersSet is matched against (an array of strings). */
void	 scorev_set_watched(json_t *);

void	 scores_init(struct event_base *, struct rpc **, const char *em);
/* MSG_SCORE_WATCH: {"watch": [{"topic": N, "address": "allo1…"}, …]}. */
void	 scores_watch(const struct frame *);
/* A websocket frame (after the window events were taken). */
void	 scores_ws(const char *text, size_t len, int64_t height);
/* The websocket (re)connected: events may have been lost. */
void	 scores_gap(void);
/* The poll timer: a round for every pair that had none for an epoch. */
void	 scores_poll(int64_t height);

#endif

/*
 * What the trainer process's files share (trainer.c: frames and the queue; prediction.c:
 * the prediction's JSON, the fallback, the cache; compute.c: the computations).  Private to
 * trainer/.
 */
#ifndef AW_TRAINER_INT_H
#define AW_TRAINER_INT_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "trainer.h"

struct event_base;
struct http_client;

/* prediction.c */
json_t	*prediction_json(uint32_t topic, const struct prediction *);
/* The inverse of prediction_json (the cache file, the training helper's answer). */
int	 prediction_from_json(json_t *, struct prediction *);
/* The topic's fallback (its value, or none for skip) with the reason. */
void	 fallback(const struct config_topic *, struct prediction *, const char *why);
/* A fallback without a topic (it was removed): no value. */
void	 fallback_plain(struct prediction *, const char *why);
/* The cached prediction, when younger than cache_ttl (0), else -1. */
int	 from_cache(const struct config *, const struct config_topic *, double now,
	    struct prediction *);
/* Writes the topic's prediction.json (temporary name, then rename). */
void	 cache_write(const struct config *, const struct config_topic *,
	    const struct prediction *);

/* compute.c */
enum pkind { PK_BUILTIN, PK_EXEC, PK_HTTP };

enum pkind pkind(const struct config_topic *);

/*
 * One computation of a topic's prediction, asynchronous: a built-in model trained in a
 * forked helper, a predictor program, or a model server.  done() is called exactly once.
 */
struct compute;
typedef void (*compute_fn)(struct compute *, const struct prediction *, void *arg);

/*
 * Starts a computation for topic `topic` (nonce: the window's, for NONCE and {BlockHeight};
 * deadline_ms: how long an external predictor may take at most, <= 0 for its
 * predict_timeout_s).  builtin_inline: train in this process (alloractl predict).  NULL:
 * done() has already run.
 */
struct compute *compute_start(struct event_base *, struct http_client *,
	    const struct config *, uint32_t topic, int64_t nonce, long deadline_ms,
	    const char *csv, int use_cache, int builtin_inline, compute_fn done, void *arg);
void	 compute_free(struct compute *);

#endif

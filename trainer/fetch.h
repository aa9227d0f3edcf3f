/*
 * Market data refresh on the trainer's event loop: fetches the missing tail of a ticker's
 * bars (re-fetching the last day, which the source revises) from Tiingo or Coinbase through
 * the asynchronous HTTP client, merges it into the on-disk bar cache
 * (state_dir/bars/<source>-<ticker>.csv, "unix,close", written to a temporary name and
 * renamed), and calls back.  Backfills go in chunks (Tiingo 7 days, Coinbase 300 hours).
 */
#ifndef AW_FETCH_H
#define AW_FETCH_H

#include "config.h"
#include "model.h"

struct http_client;

/* The bar cache file of a topic's source (malloc'd). */
char	*bar_cache_path(const struct config *, const struct config_topic *);

/* Merges `add` into `b`: bars of `add` replace those at the same hours (revisions). */
void	 bars_merge(struct bars *b, const struct bars *add);
/* Writes "unix,close" atomically.  -1 with errno. */
int	 bars_write_csv(const char *path, const struct bars *);

/* ok: 0, or -1 with err (quota errors included); retry_after_s from the server or -1. */
typedef void (*fetch_cb)(int ok, const char *err, long retry_after_s, void *arg);

/*
 * Starts a refresh of topic t's bar cache up to `now` (history: t->train_span_hours plus the
 * target and the feature warm-up).  -1 with err when it cannot start (no API key, unknown
 * source).  The callback is called exactly once otherwise.
 */
int	 fetch_refresh(struct http_client *, const struct config *, const struct config_topic *,
	    double now, fetch_cb, void *arg, char *err, size_t errlen);

#endif

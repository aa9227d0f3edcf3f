/*
 * Market data refresh on the trainer's event loop: fetches the missing bars of a ticker
 * from Tiingo, Coinbase or Binance through the asynchronous HTTP client, merges them into
 * the on-disk bar cache (state_dir/bars/<source>-<ticker>.csv, "unix,close", written to a
 * temporary name and renamed), and calls back.
 *
 * Order: the newest bars first (the last day is always re-fetched, the source revises it),
 * then the older history the training window still lacks, newest chunk first (Tiingo 7
 * days, Coinbase 300 hours, Binance 1000 hours a request).  Requests are paced per source
 * and process: Tiingo's free plan allows about 50 requests an hour, so at most
 * FETCH_TIINGO_PER_HOUR go out in any hour, and the backfill leaves FETCH_TIINGO_RESERVE of
 * them to the newest bars; a backfill that runs out of budget stops and goes on at the
 * next refresh.  A Retry-After (or, without one, a back-off after a quota error detected by
 * status or by body) holds every request to that source until it has passed.
 */
#ifndef AW_FETCH_H
#define AW_FETCH_H

#include "config.h"
#include "model.h"

#define FETCH_TIINGO_PER_HOUR	40
#define FETCH_TIINGO_RESERVE	8

struct http_client;

/* 1 when data_source is a source fetch_refresh can fetch (tiingo, coinbase, binance). */
int	 fetch_source_known(const char *data_source);

/* The bar cache file of a topic's source (malloc'd). */
char	*bar_cache_path(const struct config *, const struct config_topic *);

/* Merges `add` into `b`: bars of `add` replace those at the same hours (revisions). */
void	 bars_merge(struct bars *b, const struct bars *add);
/* Writes "unix,close" atomically.  -1 with errno. */
int	 bars_write_csv(const char *path, const struct bars *);

/*
 * The source's name of a ticker (btcusd): Tiingo btcusd, Coinbase BTC-USD, Binance BTCUSDT
 * (Binance quotes in USDT).  -1 when it cannot be mapped.
 */
int	 fetch_symbol(const char *source, const char *ticker, char *out, size_t len);

/* ok: 0, or -1 with err (quota errors included); retry_after_s: when to try again, or -1. */
typedef void (*fetch_cb)(int ok, const char *err, long retry_after_s, void *arg);

/*
 * Starts a refresh of topic t's bar cache up to `now` (history: t->train_span_hours plus
 * twice the target and the feature warm-up).  -1 with err when it cannot start (no API
 * key, unknown source).  The callback is called exactly once otherwise: ok when the newest
 * bars were fetched (even if some older history is still missing), -1 when they were not.
 */
int	 fetch_refresh(struct http_client *, const struct config *, const struct config_topic *,
	    double now, fetch_cb, void *arg, char *err, size_t errlen);

/*
 * One request for the bars [from, to) of topic t's source, built as a refresh builds it (for
 * the trainer's preflight): URL, headers (Tiingo's Authorization header included, never to be
 * logged) and the parser of its answer. fetch_request_free clears the key.
 */
struct fetch_req {
	char		*url;
	const char	*hdr[3];
	char		 symbol[64];
	char		*base;
	char		*auth;
	int		 src;
};
int	 fetch_request(const struct config_topic *, int64_t from, int64_t to, struct fetch_req *,
	    char *err, size_t errlen);
/* The source's parser (marketdata.h: MD_OK, MD_ERROR, MD_QUOTA); partial bars dropped. */
int	 fetch_request_parse(const struct fetch_req *, const char *body, size_t len, long status,
	    double now, struct bars *, char *err, size_t errlen);
void	 fetch_request_free(struct fetch_req *);

/* Pacing of a source ("tiingo", "coinbase", "binance"): for tests and tuning. */
void	 fetch_pacing_set(const char *source, int per_hour, int reserve);
void	 fetch_pacing_reset(void);

#endif

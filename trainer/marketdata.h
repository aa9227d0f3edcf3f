/*
 * Parsers of market data responses (untrusted input): Tiingo crypto prices, Coinbase
 * Exchange candles and Binance klines.  Bars come out ascending, hourly closes only; a bar whose hour has not
 * ended by `now` (partial) is dropped.
 */
#ifndef AW_MARKETDATA_H
#define AW_MARKETDATA_H

#include <stddef.h>

#include "model.h"

#define MD_OK		0
#define MD_ERROR	-1	/* bad response: err says why */
#define MD_QUOTA	-2	/* rate limited or over quota (by status or by body): back off */

/* GET {tiingo_url}/tiingo/crypto/prices?tickers=T&startDate=D&resampleFreq=1hour */
int	 tiingo_parse(const char *body, size_t len, long status, double now, struct bars *,
	    char *err, size_t errlen);
/* GET {url}/products/BTC-USD/candles?granularity=3600&start=…&end=…, newest first. */
int	 coinbase_parse(const char *body, size_t len, long status, double now, struct bars *,
	    char *err, size_t errlen);
/*
 * GET {url}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=…&endTime=…&limit=1000,
 * oldest first, prices as strings.  429 and 418 (IP banned) are MD_QUOTA.
 */
int	 binance_parse(const char *body, size_t len, long status, double now, struct bars *,
	    char *err, size_t errlen);
/* "2025-07-30T00:00:00+00:00", "…Z", fractional seconds allowed; UTC offsets only. */
int	 md_parse_time(const char *, long long *out);

#endif

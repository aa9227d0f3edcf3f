/* Trainer: Tiingo, Coinbase and Binance response parsing against recorded shapes (tests/data/). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#include "trainer/marketdata.h"
#include "util.h"

#define NOW	1764201810.0	/* 2025-11-27T00:03:30Z: the 00:00 bar is partial */

static int
parse_file(int tiingo, const char *path, long status, double now, struct bars *b, char *err,
    size_t errlen)
{
	size_t len;
	char *body = read_file(path, 1 << 20, &len);
	int rc;

	if (body == NULL) {
		snprintf(err, errlen, "%s: missing", path);
		return -100;
	}
	rc = tiingo == 2 ? binance_parse(body, len, status, now, b, err, errlen) : tiingo ?
	    tiingo_parse(body, len, status, now, b, err, errlen) :
	    coinbase_parse(body, len, status, now, b, err, errlen);
	free(body);
	return rc;
}

T_TEST(tiingo_hourly_partial_last_bar_dropped)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(1, "tests/data/tiingo/hourly.json", 200, NOW, &b, err, sizeof(err)),
	    MD_OK);
	T_EQ_INT(b.n, 3);
	T_EQ_INT(b.t[0], 1764190800);
	T_EQ_INT(b.t[2], 1764198000);
	T_ASSERT(b.close[2] == 90602.125);
	T_EQ_INT(b.gaps, 0);
	bars_free(&b);
	/* An hour later the 00:00 bar is complete. */
	T_EQ_INT(parse_file(1, "tests/data/tiingo/hourly.json", 200, NOW + 3600, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 4);
	bars_free(&b);
}

T_TEST(tiingo_z_dates_fraction_and_gap)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(1, "tests/data/tiingo/hourly_z.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 3);
	T_EQ_INT(b.t[0], 1513641600);
	T_EQ_INT(b.t[1], 1513645200);
	T_ASSERT(b.close[1] == 19050);
	T_EQ_INT(b.gaps, 1);	/* 02:00 is missing */
	bars_free(&b);
}

T_TEST(tiingo_empty)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(1, "tests/data/tiingo/empty.json", 200, NOW, &b, err, sizeof(err)),
	    MD_OK);
	T_EQ_INT(b.n, 0);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/empty_pricedata.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 0);
}

T_TEST(tiingo_quota_200_and_429)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(1, "tests/data/tiingo/quota.json", 200, NOW, &b, err, sizeof(err)),
	    MD_QUOTA);
	T_ASSERT(strstr(err, "hourly request allocation") != NULL);
	T_ASSERT(b.n == 0 && b.t == NULL);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/quota.json", 429, NOW, &b, err, sizeof(err)),
	    MD_QUOTA);
	T_ASSERT(strstr(err, "HTTP 429") != NULL);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/quota_bare.txt", 200, NOW, &b, err,
	    sizeof(err)), MD_QUOTA);
}

T_TEST(tiingo_errors)
{
	static const char *bad[] = {
		"", "{", "[1]", "[{}]", "[{\"priceData\": 5}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T21:00:00Z\"}]}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T21:00:00Z\", \"close\": -1}]}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T21:00:00Z\", \"close\": \"1\"}]}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T21:30:00Z\", \"close\": 1}]}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T22:00:00Z\", \"close\": 1}, "
		    "{\"date\": \"2025-11-26T21:00:00Z\", \"close\": 1}]}]",
		"[{\"priceData\": [{\"date\": \"2025-11-26T21:00:00+02:00\", \"close\": 1}]}]",
		"[{\"priceData\": []}, {\"priceData\": []}]",
	};
	struct bars b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tiingo_parse(bad[i], strlen(bad[i]), 200, NOW, &b, err, sizeof(err)) !=
		    MD_ERROR)
			T_FAIL("accepted: %s", bad[i]);
		T_CHECK(strncmp(err, "tiingo", 6) == 0);
		T_CHECK(b.t == NULL && b.n == 0);
	}
	T_EQ_INT(parse_file(1, "tests/data/tiingo/not_found.json", 404, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_ASSERT(strstr(err, "not found") != NULL);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/not_found.json", 200, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/bad_date.json", 200, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_EQ_INT(parse_file(1, "tests/data/tiingo/hourly.json", 500, NOW, &b, err, sizeof(err)),
	    MD_ERROR);
}

T_TEST(coinbase_candles)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(0, "tests/data/coinbase/candles.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 3);		/* the 00:00 candle is partial */
	T_EQ_INT(b.t[0], 1764190800);	/* ascending */
	T_ASSERT(b.close[0] == 90320.0);
	T_ASSERT(b.close[2] == 90601.99);
	bars_free(&b);
	T_EQ_INT(parse_file(0, "tests/data/coinbase/error_400.json", 400, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_ASSERT(strstr(err, "300") != NULL);
	T_EQ_INT(parse_file(0, "tests/data/coinbase/rate_limited.json", 429, NOW, &b, err,
	    sizeof(err)), MD_QUOTA);
	T_EQ_INT(coinbase_parse("[]", 2, 200, NOW, &b, err, sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 0);
	T_EQ_INT(coinbase_parse("[[1764190800, 1, 2, 3]]", 23, 200, NOW, &b, err, sizeof(err)),
	    MD_ERROR);
	T_EQ_INT(coinbase_parse("[[1764190800,1,2,3,4,5],[1764194400,1,2,3,4,5]]", 47, 200, NOW,
	    &b, err, sizeof(err)), MD_ERROR);	/* must be newest first */
}

T_TEST(binance_klines)
{
	struct bars b;
	char err[256];

	T_EQ_INT(parse_file(2, "tests/data/binance/klines.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 3);		/* the 00:00 kline is partial */
	T_EQ_INT(b.t[0], 1764190800);	/* seconds, from milliseconds */
	T_ASSERT(b.close[0] == 90320.0);
	T_ASSERT(b.close[2] == 90601.99);
	T_EQ_INT(b.gaps, 0);
	bars_free(&b);
	T_EQ_INT(parse_file(2, "tests/data/binance/klines.json", 200, NOW + 3600, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 4);
	bars_free(&b);
	T_EQ_INT(parse_file(2, "tests/data/binance/klines_gap.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 2);
	T_EQ_INT(b.gaps, 1);		/* 20:00 is missing */
	bars_free(&b);
	T_EQ_INT(parse_file(2, "tests/data/binance/empty.json", 200, NOW, &b, err,
	    sizeof(err)), MD_OK);
	T_EQ_INT(b.n, 0);
}

T_TEST(binance_errors)
{
	static const char *bad[] = {
		"", "{", "[1]", "[[]]", "{\"code\":-1121}",
		"[[1764190800000,\"1\",\"2\",\"3\",\"4\",\"5\"]]",	/* no closeTime */
		"[[1764190800000,\"1\",\"2\",\"3\",\"abc\",\"5\",1764194399999]]",
		"[[1764190800000,\"1\",\"2\",\"3\",\"-4\",\"5\",1764194399999]]",
		"[[1764190800000,\"1\",\"2\",\"3\",\" 4\",\"5\",1764194399999]]",
		"[[1764190800000,\"1\",\"2\",\"3\",\"4x\",\"5\",1764194399999]]",
		"[[1764190800000,\"1\",\"2\",\"3\",\"1e999\",\"5\",1764194399999]]",
		"[[1764190800001,\"1\",\"2\",\"3\",\"4\",\"5\",1764194399999]]",	/* not on the hour */
		"[[1764190800000,\"1\",\"2\",\"3\",\"4\",\"5\",1764190800000]]",	/* closeTime */
		"[[1764190800000,\"1\",\"2\",\"3\",\"4\",\"5\",1764197999999]]",	/* 2 hours */
		"[[\"1764190800000\",\"1\",\"2\",\"3\",\"4\",\"5\",1764194399999]]",
		"[[1764194400000,\"1\",\"2\",\"3\",\"4\",\"5\",1764197999999],"
		    "[1764190800000,\"1\",\"2\",\"3\",\"4\",\"5\",1764194399999]]",	/* order */
		"[[-3600000,\"1\",\"2\",\"3\",\"4\",\"5\",-1]]",
		"[[9223372036854000000,\"1\",\"2\",\"3\",\"4\",\"5\",9223372036854775807]]",
	};
	struct bars b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (binance_parse(bad[i], strlen(bad[i]), 200, NOW, &b, err, sizeof(err)) !=
		    MD_ERROR)
			T_FAIL("accepted: %s", bad[i]);
		T_CHECK(strncmp(err, "binance", 7) == 0);
		T_CHECK(b.t == NULL && b.n == 0);
	}
	T_EQ_INT(parse_file(2, "tests/data/binance/invalid_symbol.json", 400, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_ASSERT(strstr(err, "Invalid symbol") != NULL);
	T_EQ_INT(parse_file(2, "tests/data/binance/rate_limited.json", 429, NOW, &b, err,
	    sizeof(err)), MD_QUOTA);
	T_ASSERT(strstr(err, "HTTP 429") != NULL);
	T_EQ_INT(parse_file(2, "tests/data/binance/banned.json", 418, NOW, &b, err,
	    sizeof(err)), MD_QUOTA);
	T_EQ_INT(parse_file(2, "tests/data/binance/restricted.json", 451, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_ASSERT(strstr(err, "restricted location") != NULL);
	/* An error object with HTTP 200 is no data either. */
	T_EQ_INT(parse_file(2, "tests/data/binance/invalid_symbol.json", 200, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
	T_EQ_INT(parse_file(2, "tests/data/binance/klines.json", 503, NOW, &b, err,
	    sizeof(err)), MD_ERROR);
}

T_TEST(time_formats)
{
	long long t;

	T_ASSERT(md_parse_time("2025-07-30T00:00:00+00:00", &t) == 0 && t == 1753833600);
	T_ASSERT(md_parse_time("2025-07-30T00:00:00Z", &t) == 0 && t == 1753833600);
	T_ASSERT(md_parse_time("2025-07-30T00:00:00.123456Z", &t) == 0 && t == 1753833600);
	T_ASSERT(md_parse_time("2025-07-30T00:00:00", &t) == -1);
	T_ASSERT(md_parse_time("2025-07-30T00:00:00.Z", &t) == -1);
	T_ASSERT(md_parse_time("2025-13-30T00:00:00Z", &t) == -1);
	T_ASSERT(md_parse_time("2025-07-30T00:00:00-05:00", &t) == -1);
	T_ASSERT(md_parse_time(NULL, &t) == -1);
}

int
main(void)
{
	T_RUN(tiingo_hourly_partial_last_bar_dropped);
	T_RUN(tiingo_z_dates_fraction_and_gap);
	T_RUN(tiingo_empty);
	T_RUN(tiingo_quota_200_and_429);
	T_RUN(tiingo_errors);
	T_RUN(coinbase_candles);
	T_RUN(binance_klines);
	T_RUN(binance_errors);
	T_RUN(time_formats);
	return t_done();
}

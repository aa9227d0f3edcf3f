/* The devnet's forecasts: the chain's delivery rules and the accepted forecasts (devforecast.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "devforecast.h"
#include "submitter/keys.h"
#include "util.h"

#define KEEP_MAX	4096	/* accepted forecasts kept (the oldest go first) */

static struct {
	uint64_t		 max_elements;
	struct devforecast	*fc;
	size_t			 n;
} F = { 12, NULL, 0 };

int
devforecast_option(int opt, const char *arg)
{
	char *end;
	unsigned long long v;

	if (opt != DEVFORECAST_OPT_MAX || arg == NULL || *arg == '-' || *arg == '\0')
		return -1;
	v = strtoull(arg, &end, 10);
	if (*end != '\0' || v > 100000)
		return -1;
	F.max_elements = v;
	return 0;
}

uint64_t
devforecast_max_elements(void)
{
	return F.max_elements;
}

static json_t *
forecast_of(json_t *msg)
{
	json_t *f = json_object_get(json_object_get(msg, "worker_data_bundle"), "forecast");

	return json_is_object(f) ? f : NULL;
}

/* sdk.AccAddressFromBech32: the "allo" prefix, a valid checksum, 1..255 bytes. */
static int
chain_bech32(const char *s, char *why, size_t whylen)
{
	char hrp[32];
	uint8_t d[512];
	size_t dl = 0;

	if (s == NULL || *s == '\0') {
		snprintf(why, whylen, "empty address string is not allowed");
		return -1;
	}
	if (strlen(s) > 500 || bech32_decode(s, hrp, sizeof(hrp), d, &dl, why, whylen) == -1) {
		if (strlen(s) > 500)
			snprintf(why, whylen, "address too long");
		return -1;
	}
	if (strcmp(hrp, "allo") != 0) {
		snprintf(why, whylen, "invalid Bech32 prefix; expected allo, got %s", hrp);
		return -1;
	}
	if (dl == 0 || dl > 255) {
		snprintf(why, whylen, "address length must be 1..255 bytes, got %zu", dl);
		return -1;
	}
	return 0;
}

static int
refused(long *code, char **log, const char **cs, long c, const char *space, char *text)
{
	*code = c;
	*log = text;
	*cs = space;
	return 1;
}

int
devforecast_check(json_t *msg, const char *signer, long *code, char **log,
    const char **codespace)
{
	json_t *b = json_object_get(msg, "worker_data_bundle"), *f = forecast_of(msg), *els, *e;
	const char *fcr, *worker, *pkaddr;
	char why[160], canon[DEC_MAX_TEXT + 1];
	size_t i;

	if (f == NULL)
		return 0;
	fcr = json_string_value(json_object_get(f, "forecaster"));
	worker = json_string_value(json_object_get(b, "worker"));
	pkaddr = json_string_value(json_object_get(b, "pubkey_address"));
	els = json_object_get(f, "forecast_elements");
	/* BoundedExp40Dec.Unmarshal while decoding: a value outside the bounds never decodes. */
	json_array_foreach(els, i, e) {
		const char *v = json_string_value(json_object_get(e, "value"));

		if (v == NULL || dec_value(v, canon, sizeof(canon), why, sizeof(why)) == -1)
			return refused(code, log, codespace, 2, "sdk", xasprintf("tx parse error: "
			    "forecast element %zu value \"%.64s\": %s", i, v ? v : "", v ? why :
			    "missing"));
	}
	/* InputForecast.Validate (ValidateForecastContents, then the elements). */
	if (json_integer_value(json_object_get(f, "topic_id")) == 0)
		return refused(code, log, codespace, 18, "sdk", xstrdup("topic id zero is reserved: "
		    "invalid type: forecast topic id is invalid: forecast contents are invalid: "
		    "invalid request"));
	if (chain_bech32(fcr, why, sizeof(why)) == -1)
		return refused(code, log, codespace, 7, "sdk", xasprintf("invalid bech32 address "
		    "(%s): invalid address: forecast forecaster address is invalid", why));
	if (json_integer_value(json_object_get(f, "block_height")) < 0)
		return refused(code, log, codespace, 18, "sdk", xstrdup("block height must be "
		    "greater than or equal to 0: forecast block height is invalid: invalid request"));
	if (json_array_size(els) == 0)
		return refused(code, log, codespace, 18, "sdk", xstrdup("at least one forecast "
		    "element must be provided: invalid request"));
	json_array_foreach(els, i, e) {
		const char *inf = json_string_value(json_object_get(e, "inferer"));

		if (chain_bech32(inf, why, sizeof(why)) == -1)
			return refused(code, log, codespace, 7, "sdk", xasprintf("invalid bech32 "
			    "address (%s): invalid address: forecast element inferer address is "
			    "invalid: forecast element contents are invalid: forecast element %zu is "
			    "invalid", why, i));
	}
	/* InputWorkerDataBundle.Validate: the forecaster is the key's address and the worker. */
	if (pkaddr != NULL && strcmp(fcr, pkaddr) != 0)
		return refused(code, log, codespace, 4, "sdk", xasprintf("Forecast.Forecaster %s "
		    "does not match pubkey %s: unauthorized", fcr, pkaddr));
	if (worker == NULL || strcmp(worker, fcr) != 0 || (signer != NULL &&
	    strcmp(signer, fcr) != 0))
		return refused(code, log, codespace, 4, "sdk", xasprintf("Forecast.Forecaster %s "
		    "does not match worker address %s: unauthorized", fcr, worker ? worker : ""));
	/* The labelled era's Validate: the forecast's topic and height are the bundle's. */
	if (json_integer_value(json_object_get(f, "topic_id")) !=
	    json_integer_value(json_object_get(b, "topic_id")))
		return refused(code, log, codespace, 18, "sdk", xasprintf("forecaster not using the "
		    "same topic as bundle (%" JSON_INTEGER_FORMAT " != %" JSON_INTEGER_FORMAT
		    "): invalid request", json_integer_value(json_object_get(f, "topic_id")),
		    json_integer_value(json_object_get(b, "topic_id"))));
	if (json_integer_value(json_object_get(f, "block_height")) !=
	    json_integer_value(json_object_get(b, "nonce")))
		return refused(code, log, codespace, 18, "sdk", xasprintf("forecast block height "
		    "%" JSON_INTEGER_FORMAT " does not match the nonce %" JSON_INTEGER_FORMAT
		    ": invalid request", json_integer_value(json_object_get(f, "block_height")),
		    json_integer_value(json_object_get(b, "nonce"))));
	/* The chain re-encodes the bundle before it verifies the signature: a value that is not
	 * a fixed point of parse-and-print changes the bytes. */
	json_array_foreach(els, i, e) {
		const char *v = json_string_value(json_object_get(e, "value"));

		if (dec_value(v, canon, sizeof(canon), why, sizeof(why)) == 0 &&
		    strcmp(canon, v) != 0)
			return refused(code, log, codespace, 4, "sdk", xstrdup("failed to execute "
			    "message; message index: 0: signature verification failed: "
			    "unauthorized"));
	}
	return 0;
}

int
devforecast_elements(json_t *msg)
{
	json_t *f = forecast_of(msg);

	return f == NULL ? -1 : (int)json_array_size(json_object_get(f, "forecast_elements"));
}

static void
drop(struct devforecast *d)
{
	size_t i;

	for (i = 0; i < d->nel; i++) {
		free(d->el[i].inferer);
		free(d->el[i].value);
	}
	free(d->el);
	free(d->forecaster);
}

int
devforecast_accept(json_t *msg, int64_t height)
{
	json_t *b = json_object_get(msg, "worker_data_bundle"), *f = forecast_of(msg), *els, *e;
	struct devforecast d;
	size_t i, j;

	if (f == NULL)
		return -1;
	memset(&d, 0, sizeof(d));
	d.topic = (uint32_t)json_integer_value(json_object_get(b, "topic_id"));
	d.nonce = json_integer_value(json_object_get(b, "nonce"));
	d.height = height;
	els = json_object_get(f, "forecast_elements");
	d.el = xcalloc(json_array_size(els) + 1, sizeof(*d.el));
	/* The first element of each inferer, then the first max_elements_per_forecast (the
	 * chain keeps the top ones by inferer score; the devnet, without those scores, the
	 * first). */
	json_array_foreach(els, i, e) {
		const char *inf = json_string_value(json_object_get(e, "inferer"));

		if ((uint64_t)d.nel >= F.max_elements)
			break;
		for (j = 0; j < d.nel; j++)
			if (strcmp(d.el[j].inferer, inf) == 0)
				break;
		if (j < d.nel)
			continue;
		d.el[d.nel].inferer = xstrdup(inf);
		d.el[d.nel].value = xstrdup(json_string_value(json_object_get(e, "value")));
		d.nel++;
	}
	if (d.nel == 0) {
		free(d.el);
		return 0;	/* nothing stored */
	}
	d.forecaster = xstrdup(json_string_value(json_object_get(f, "forecaster")));
	if (F.n == KEEP_MAX) {
		drop(&F.fc[0]);
		memmove(F.fc, F.fc + 1, (F.n - 1) * sizeof(*F.fc));
		F.n--;
	}
	F.fc = xrealloc(F.fc, (F.n + 1) * sizeof(*F.fc));
	F.fc[F.n++] = d;
	return (int)d.nel;
}

const struct devforecast *
devforecast_get(uint32_t topic, int64_t nonce, const char *forecaster)
{
	size_t i;

	for (i = F.n; i-- > 0;)
		if (F.fc[i].topic == topic && F.fc[i].nonce == nonce &&
		    strcmp(F.fc[i].forecaster, forecaster) == 0)
			return &F.fc[i];
	return NULL;
}

size_t
devforecast_each(uint32_t topic, int64_t nonce, void (*cb)(const struct devforecast *, void *),
    void *arg)
{
	size_t i, k = 0;

	for (i = 0; i < F.n; i++)
		if (F.fc[i].topic == topic && F.fc[i].nonce == nonce) {
			cb(&F.fc[i], arg);
			k++;
		}
	return k;
}

/* The chain's queries a forecaster needs (see forecastq.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrshape.h"
#include "dec.h"
#include "forecast.pb-c.h"
#include "score.pb-c.h"
#include "forecastq.h"

static const char *methods[FQ_N] = {
	"GetTopic", "GetNetworkLossBundleAtBlock", "GetForecasterScoreEma",
};

const char *
forecastq_method(enum forecastq q)
{
	return q < FQ_N ? methods[q] : "?";
}

void
forecastq_path(enum forecastq q, const char *em, char *buf, size_t len)
{
	snprintf(buf, len, "/emissions.%s.QueryService/%s", em, forecastq_method(q));
}

size_t
forecastq_heights(int64_t e, int64_t l, int64_t g, int64_t *out)
{
	int64_t lag, k, k0;
	size_t n = 0;

	if (e <= 0 || l <= 0)
		return 0;
	lag = g > 0 ? (g + l - 1) / l : 0;
	k0 = lag > 0 ? lag - 1 : 0;
	if (k0 > e / l)
		return 0;	/* the chain is younger than the lag: nothing scored yet */
	for (k = k0; k < k0 + FORECASTQ_HEIGHTS && e - k * l > 0; k++)
		out[n++] = e - k * l;
	return n;
}

size_t
forecastq_request(enum forecastq q, uint32_t topic, int64_t height, const char *addr,
    uint8_t *buf, size_t cap)
{
	if (q == FQ_SCORE) {
		Awfc__ForecasterRequest r = AWFC__FORECASTER_REQUEST__INIT;

		r.topic_id = topic;
		r.forecaster = (char *)(addr != NULL ? addr : "");
		if (awfc__forecaster_request__get_packed_size(&r) > cap)
			return 0;
		return awfc__forecaster_request__pack(&r, buf);
	} else {
		/* GetTopic's request is {topic_id = 1}: the same bytes with height 0. */
		Awfc__LossBundleRequest r = AWFC__LOSS_BUNDLE_REQUEST__INIT;

		r.topic_id = topic;
		r.block_height = q == FQ_LOSSES ? height : 0;
		if (awfc__loss_bundle_request__get_packed_size(&r) > cap)
			return 0;
		return awfc__loss_bundle_request__pack(&r, buf);
	}
}

static void
set_int(json_t *into, const char *key, int64_t v)
{
	json_object_set_new(into, key, v > 0 ? json_integer(v) : json_null());
}

static int
decode_losses(uint32_t topic, int64_t height, const uint8_t *v, size_t n, json_t *into,
    char *err, size_t errlen)
{
	Awfc__GetNetworkLossBundleAtBlockResponse *r =
	    awfc__get_network_loss_bundle_at_block_response__unpack(NULL, n, v);
	Awfc__LossBundleMsg *b = r != NULL ? r->loss_bundle : NULL;
	json_t *vals, *seen;
	char canon[DEC_MAX_TEXT + 1], derr[128];
	size_t i;
	int rc = -1;

	if (r == NULL) {
		snprintf(err, errlen, "%s: the answer does not decode", methods[FQ_LOSSES]);
		return -1;
	}
	if (b == NULL || b->n_inferer_values == 0) {
		/* No bundle at that height (the chain's zero value). */
		awfc__get_network_loss_bundle_at_block_response__free_unpacked(r, NULL);
		return 0;
	}
	if (b->topic_id != topic) {
		snprintf(err, errlen, "%s: a bundle of topic %llu at %lld", methods[FQ_LOSSES],
		    (unsigned long long)b->topic_id, (long long)height);
		awfc__get_network_loss_bundle_at_block_response__free_unpacked(r, NULL);
		return -1;
	}
	vals = json_array();
	seen = json_object();
	for (i = 0; i < b->n_inferer_values; i++) {
		const char *w = b->inferer_values[i]->worker, *l = b->inferer_values[i]->value;

		if (!allo_address_shape(w)) {
			snprintf(err, errlen, "%s at %lld: inferer %.64s is not an allo address",
			    methods[FQ_LOSSES], (long long)height, w != NULL ? w : "");
			goto out;
		}
		if (json_object_get(seen, w) != NULL) {
			snprintf(err, errlen, "%s at %lld: inferer %.64s twice", methods[FQ_LOSSES],
			    (long long)height, w);
			goto out;
		}
		if (l == NULL || dec_canonical(l, canon, sizeof(canon), derr, sizeof(derr)) == -1) {
			snprintf(err, errlen, "%s at %lld: the loss of %.64s: %s", methods[FQ_LOSSES],
			    (long long)height, w, l == NULL ? "absent" : derr);
			goto out;
		}
		json_object_set_new(seen, w, json_true());
		json_array_append_new(vals, json_pack("{s:s, s:s}", "inferer", w, "loss", canon));
	}
	json_object_set_new(into, "losses", json_pack("{s:I, s:O}", "nonce", (json_int_t)height,
	    "values", vals));
	rc = 0;
out:
	json_decref(vals);
	json_decref(seen);
	awfc__get_network_loss_bundle_at_block_response__free_unpacked(r, NULL);
	return rc;
}

int
forecastq_decode(enum forecastq q, uint32_t topic, int64_t height, const char *addr,
    const uint8_t *v, size_t n, json_t *into, char *err, size_t errlen)
{
	err[0] = '\0';
	switch (q) {
	case FQ_TOPIC: {
		Awfc__GetTopicForecastResponse *r = awfc__get_topic_forecast_response__unpack(NULL, n,
		    v);

		json_object_set_new(into, "epoch_last_ended", json_null());
		json_object_set_new(into, "epoch_length", json_null());
		json_object_set_new(into, "ground_truth_lag", json_null());
		json_object_set_new(into, "allow_negative", json_null());
		if (r == NULL || r->topic == NULL || r->topic->id != topic) {
			snprintf(err, errlen, "%s: not a topic %u", methods[q], topic);
			if (r != NULL)
				awfc__get_topic_forecast_response__free_unpacked(r, NULL);
			return -1;
		}
		set_int(into, "epoch_last_ended", r->topic->epoch_last_ended);
		set_int(into, "epoch_length", r->topic->epoch_length);
		set_int(into, "ground_truth_lag", r->topic->ground_truth_lag);
		json_object_set_new(into, "allow_negative", json_boolean(r->topic->allow_negative));
		awfc__get_topic_forecast_response__free_unpacked(r, NULL);
		return 0;
	}
	case FQ_LOSSES:
		json_object_set_new(into, "losses", json_null());
		if (decode_losses(topic, height, v, n, into, err, errlen) == -1) {
			json_object_set_new(into, "losses", json_null());
			return -1;
		}
		return 0;
	case FQ_SCORE: {
		Awq__GetScoreResponse *r = awq__get_score_response__unpack(NULL, n, v);
		char canon[DEC_MAX_TEXT + 1], derr[128];
		int rc = 0;

		json_object_set_new(into, "ema", json_null());
		json_object_set_new(into, "ema_height", json_null());
		if (r == NULL) {
			snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
			return -1;
		}
		if (r->score == NULL || r->score->block_height == 0)
			;	/* not scored yet */
		else if (r->score->topic_id != topic || (addr != NULL && r->score->address != NULL &&
		    *r->score->address != '\0' && strcmp(r->score->address, addr) != 0)) {
			snprintf(err, errlen, "%s: a score of another topic or forecaster",
			    methods[q]);
			rc = -1;
		} else if (r->score->score == NULL || dec_canonical(r->score->score, canon,
		    sizeof(canon), derr, sizeof(derr)) == -1 || strcmp(canon, r->score->score) != 0) {
			snprintf(err, errlen, "%s: the score %.64s is not canonical decimal text",
			    methods[q], r->score->score ? r->score->score : "");
			rc = -1;
		} else {
			json_object_set_new(into, "ema", json_string(canon));
			set_int(into, "ema_height", r->score->block_height);
		}
		awq__get_score_response__free_unpacked(r, NULL);
		return rc;
	}
	default:
		snprintf(err, errlen, "unknown query");
		return -1;
	}
}

/* The chain's score, reward and network-inference queries (see scoreq.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "query.pb-c.h"
#include "score.pb-c.h"
#include "scoreq.h"
#include "util.h"

static const char *methods[SQ_N] = {
	"GetTopic", "GetInfererScoreEma", "GetCurrentLowestInfererScore",
	"GetPreviousTopicQuantileInfererScoreEma", "GetPreviousInferenceRewardFraction",
	"GetWorkerLatestInputInferenceByTopicId", "GetWorkerLatestInferenceByTopicId",
	"GetLatestNetworkInferences",
};

static const char *const f_topic[] = { "loss_method", "epoch_length", "ground_truth_lag",
    "active_inferer_quantile", NULL };
static const char *const f_ema[] = { "ema", "ema_height", NULL };
static const char *const f_lowest[] = { "lowest_active_ema", "lowest_height",
    "lowest_address", NULL };
static const char *const f_quantile[] = { "quantile_ema", NULL };
static const char *const f_reward[] = { "reward_fraction", NULL };
static const char *const f_latest[] = { "inference_nonce", "inference_value", NULL };
static const char *const f_network[] = { "network_value", "network_nonce", NULL };
static const char *const *fields[SQ_N] = { f_topic, f_ema, f_lowest, f_quantile, f_reward,
    f_latest, f_latest, f_network };

const char *
scoreq_method(enum scoreq q)
{
	return q < SQ_N ? methods[q] : "?";
}

const char *const *
scoreq_fields(enum scoreq q)
{
	return fields[q];
}

void
scoreq_path(enum scoreq q, const char *em, char *buf, size_t len)
{
	snprintf(buf, len, "/emissions.%s.QueryService/%s", em, scoreq_method(q));
}

size_t
scoreq_request(enum scoreq q, uint32_t topic, const char *addr, uint8_t *buf, size_t cap)
{
	Awq__TopicAddressRequest r = AWQ__TOPIC_ADDRESS_REQUEST__INIT;

	r.topic_id = topic;
	if (q == SQ_EMA || q == SQ_REWARD_FRACTION || q == SQ_LATEST_INPUT || q == SQ_LATEST)
		r.address = (char *)(addr != NULL ? addr : "");
	if (awq__topic_address_request__get_packed_size(&r) > cap)
		return 0;
	return awq__topic_address_request__pack(&r, buf);
}

json_t *
scoreq_dec(const char *s, char *err, size_t errlen)
{
	char out[DEC_MAX_TEXT + 1], why[120];

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty decimal");
		return NULL;
	}
	if (dec_canonical(s, out, sizeof(out), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "decimal \"%.40s\" refused: %s", s, why);
		return NULL;
	}
	if (strcmp(out, s) != 0) {
		snprintf(err, errlen, "decimal \"%.40s\" is not canonical (\"%s\")", s, out);
		return NULL;
	}
	return json_string(s);
}

char *
scoreq_sub(const char *a, const char *b)
{
	char out[DEC_MAX_TEXT + 1], err[80];
	double x, y;

	if (a == NULL || b == NULL || parse_double(a, &x) == -1 || parse_double(b, &y) == -1)
		return NULL;
	if (x - y == 0)
		return xstrdup("0");
	if (dec_from_double(x - y, out, sizeof(out), err, sizeof(err)) == -1)
		return NULL;
	return xstrdup(out);
}

char *
scoreq_floor_uallo(const char *dec)
{
	char digits[256];
	const char *p = dec, *e;
	size_t nd = 0, point = (size_t)-1, i;
	long exp = 0;
	char *out;

	if (dec == NULL || *p == '-' || *p == '\0')
		return NULL;
	if (*p == '+')
		p++;
	for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			if (point != (size_t)-1)
				return NULL;
			point = nd;
		} else if (isdigit((unsigned char)*p) && nd < sizeof(digits) - 1)
			digits[nd++] = *p;
		else
			return NULL;
	}
	if (nd == 0)
		return NULL;
	if (point == (size_t)-1)
		point = nd;
	if (*p != '\0') {
		char *end;

		e = p + 1;
		exp = strtol(e, &end, 10);
		if (*e == '\0' || *end != '\0' || exp > 60 || exp < -200)
			return NULL;
	}
	/* The integer part: the digits before point + exp. */
	{
		long ip = (long)point + exp;
		size_t k = 0;

		out = xcalloc(1, (ip > 0 ? (size_t)ip : 0) + 2);
		for (i = 0; (long)i < ip; i++)
			out[k++] = i < nd ? digits[i] : '0';
		/* strip leading zeros */
		for (i = 0; i + 1 < k && out[i] == '0'; i++)
			;
		if (k == 0)
			out[k++] = '0';
		memmove(out, out + i, k - i + 1);
	}
	return out;
}

static void
set_dec(json_t *into, const char *key, const char *s, int *bad, char *err, size_t errlen)
{
	json_t *v = scoreq_dec(s, err, errlen);

	if (v == NULL)
		*bad = 1;
	json_object_set_new(into, key, v != NULL ? v : json_null());
}

static void
set_int(json_t *into, const char *key, int64_t v)
{
	json_object_set_new(into, key, v > 0 ? json_integer(v) : json_null());
}

int
scoreq_decode(enum scoreq q, const char *em, uint32_t topic, const char *addr,
    const uint8_t *v, size_t n, json_t *into, char *err, size_t errlen)
{
	const char *const *f;
	int bad = 0;

	err[0] = '\0';
	for (f = fields[q]; *f != NULL; f++)
		json_object_set_new(into, *f, json_null());
	switch (q) {
	case SQ_TOPIC: {
		Awq__GetTopicScoreResponse *r = awq__get_topic_score_response__unpack(NULL, n, v);

		if (r == NULL || r->topic == NULL || r->topic->id != topic) {
			snprintf(err, errlen, "%s: not a topic %u", methods[q], topic);
			bad = 1;
		} else {
			if (r->topic->loss_method != NULL && *r->topic->loss_method != '\0')
				json_object_set_new(into, "loss_method",
				    json_string(r->topic->loss_method));
			set_int(into, "epoch_length", r->topic->epoch_length);
			set_int(into, "ground_truth_lag", r->topic->ground_truth_lag);
			if (r->topic->active_inferer_quantile != NULL &&
			    *r->topic->active_inferer_quantile != '\0')
				set_dec(into, "active_inferer_quantile",
				    r->topic->active_inferer_quantile, &bad, err, errlen);
		}
		if (r != NULL)
			awq__get_topic_score_response__free_unpacked(r, NULL);
		break;
	}
	case SQ_EMA:
	case SQ_LOWEST: {
		Awq__GetScoreResponse *r = awq__get_score_response__unpack(NULL, n, v);
		const char *k = q == SQ_EMA ? "ema" : "lowest_active_ema";

		if (r == NULL) {
			snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
			bad = 1;
		} else if (r->score == NULL || r->score->block_height == 0) {
			/* Block height 0: no score yet (the chain's zero value). */
		} else if (r->score->topic_id != topic || (q == SQ_EMA && addr != NULL &&
		    r->score->address != NULL && *r->score->address != '\0' &&
		    strcmp(r->score->address, addr) != 0)) {
			snprintf(err, errlen, "%s: a score of another topic or address (%llu, %.64s)",
			    methods[q], (unsigned long long)r->score->topic_id,
			    r->score->address ? r->score->address : "");
			bad = 1;
		} else {
			set_dec(into, k, r->score->score, &bad, err, errlen);
			if (!bad)
				set_int(into, q == SQ_EMA ? "ema_height" : "lowest_height",
				    r->score->block_height);
			if (q == SQ_LOWEST && !bad && r->score->address != NULL &&
			    *r->score->address != '\0')
				json_object_set_new(into, "lowest_address",
				    json_string(r->score->address));
		}
		if (r != NULL)
			awq__get_score_response__free_unpacked(r, NULL);
		break;
	}
	case SQ_QUANTILE: {
		Awq__GetDecValueResponse *r = awq__get_dec_value_response__unpack(NULL, n, v);

		if (r == NULL) {
			snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
			bad = 1;
		} else if (r->value != NULL && *r->value != '\0')
			set_dec(into, "quantile_ema", r->value, &bad, err, errlen);
		if (r != NULL)
			awq__get_dec_value_response__free_unpacked(r, NULL);
		break;
	}
	case SQ_REWARD_FRACTION: {
		Awq__GetRewardFractionResponse *r = awq__get_reward_fraction_response__unpack(NULL,
		    n, v);

		if (r == NULL) {
			snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
			bad = 1;
		} else if (!r->not_found && r->reward_fraction != NULL &&
		    *r->reward_fraction != '\0')
			set_dec(into, "reward_fraction", r->reward_fraction, &bad, err, errlen);
		if (r != NULL)
			awq__get_reward_fraction_response__free_unpacked(r, NULL);
		break;
	}
	case SQ_LATEST_INPUT:
	case SQ_LATEST: {
		Awq__GetWorkerLatestInferenceResponse *r =
		    awq__get_worker_latest_inference_response__unpack(NULL, n, v);

		if (r == NULL) {
			snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
			bad = 1;
		} else if (r->latest_inference == NULL || r->latest_inference->block_height <= 0) {
			/* Nothing stored for us. */
		} else if (r->latest_inference->topic_id != topic || (addr != NULL &&
		    r->latest_inference->inferer != NULL && strcmp(r->latest_inference->inferer,
		    addr) != 0)) {
			snprintf(err, errlen, "%s: an inference of another topic or inferer",
			    methods[q]);
			bad = 1;
		} else {
			set_int(into, "inference_nonce", r->latest_inference->block_height);
			if (r->latest_inference->value != NULL &&
			    *r->latest_inference->value != '\0')
				set_dec(into, "inference_value", r->latest_inference->value, &bad,
				    err, errlen);
		}
		if (r != NULL)
			awq__get_worker_latest_inference_response__free_unpacked(r, NULL);
		break;
	}
	case SQ_NETWORK:
		if (strcmp(em, "v9") == 0) {
			Awq__GetLatestNetworkInferencesV9Response *r =
			    awq__get_latest_network_inferences_v9_response__unpack(NULL, n, v);

			if (r == NULL) {
				snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
				bad = 1;
			} else if (r->network_inferences != NULL &&
			    r->network_inferences->combined_value != NULL &&
			    *r->network_inferences->combined_value != '\0') {
				set_dec(into, "network_value", r->network_inferences->combined_value,
				    &bad, err, errlen);
				set_int(into, "network_nonce", r->inference_block_height);
			}
			if (r != NULL)
				awq__get_latest_network_inferences_v9_response__free_unpacked(r,
				    NULL);
		} else {
			Awq__GetLatestNetworkInferencesResponse *r =
			    awq__get_latest_network_inferences_response__unpack(NULL, n, v);
			Awq__NetworkInferenceBundleMsg *b = r != NULL ? r->network_inferences : NULL;

			if (r == NULL) {
				snprintf(err, errlen, "%s: the answer does not decode", methods[q]);
				bad = 1;
			} else if (b != NULL && b->topic_id != 0 && b->topic_id != topic) {
				snprintf(err, errlen, "%s: a bundle of topic %llu", methods[q],
				    (unsigned long long)b->topic_id);
				bad = 1;
			} else if (b != NULL && b->n_combined_value > 0 &&
			    b->combined_value[0]->value != NULL &&
			    *b->combined_value[0]->value != '\0') {
				/* A single-valued topic: the first (only) label. */
				set_dec(into, "network_value", b->combined_value[0]->value, &bad,
				    err, errlen);
				set_int(into, "network_nonce", r->inference_block_height > 0 ?
				    r->inference_block_height : b->block_height);
			}
			if (r != NULL)
				awq__get_latest_network_inferences_response__free_unpacked(r, NULL);
		}
		break;
	default:
		snprintf(err, errlen, "unknown query");
		return -1;
	}
	if (bad) {
		for (f = fields[q]; *f != NULL; f++)
			json_object_set_new(into, *f, json_null());
		return -1;
	}
	return 0;
}

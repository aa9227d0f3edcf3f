#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "util.h"

static const struct {
	uint16_t	 type;
	const char	*name;
} msg_names[] = {
	{ MSG_HELLO, "HELLO" },
	{ MSG_HEARTBEAT, "HEARTBEAT" },
	{ MSG_HEARTBEAT_ACK, "HEARTBEAT_ACK" },
	{ MSG_CONFIG, "CONFIG" },
	{ MSG_READY, "READY" },
	{ MSG_EVENT, "EVENT" },
	{ MSG_SHUTDOWN, "SHUTDOWN" },
	{ MSG_CHILD_STATE, "CHILD_STATE" },
	{ MSG_WINDOW_OPEN, "WINDOW_OPEN" },
	{ MSG_WINDOW_STATUS, "WINDOW_STATUS" },
	{ MSG_SCORE, "SCORE" },
	{ MSG_SCORE_WATCH, "SCORE_WATCH" },
	{ MSG_FORECAST_DATA, "FORECAST_DATA" },
	{ MSG_PREDICT, "PREDICT" },
	{ MSG_PREDICTION, "PREDICTION" },
	{ MSG_SHADOW, "SHADOW" },
	{ MSG_SHADOW_SCORES, "SHADOW_SCORES" },
	{ MSG_SUBMIT, "SUBMIT" },
	{ MSG_SIGNED, "SIGNED" },
	{ MSG_SIGNED_ACK, "SIGNED_ACK" },
	{ MSG_SUBMITTED, "SUBMITTED" },
	{ MSG_WALLET, "WALLET" },
	{ MSG_STATUS, "STATUS" },
	{ MSG_STATUS_REPLY, "STATUS_REPLY" },
	{ MSG_STOP, "STOP" },
	{ MSG_STOP_REPLY, "STOP_REPLY" },
	{ MSG_ERROR, "ERROR" },
	{ MSG_RELOAD, "RELOAD" },
	{ MSG_RELOAD_REPLY, "RELOAD_REPLY" },
};

const char *
msg_type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(msg_names) / sizeof(msg_names[0]); i++)
		if (msg_names[i].type == type)
			return msg_names[i].name;
	return NULL;
}

int
msg_type_known(uint16_t type)
{
	return msg_type_name(type) != NULL;
}

static void
put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static void
put16(unsigned char *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint16_t
get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ntohs(v);
}

int
frame_encode(uint16_t type, uint32_t topic, uint32_t seq, const json_t *payload,
    unsigned char **out, size_t *outlen)
{
	char *js = NULL;
	size_t plen = 0;
	unsigned char *buf;

	if (payload != NULL) {
		if (!json_is_object(payload))
			return -1;
		js = json_dumps(payload, JSON_COMPACT);
		if (js == NULL)
			return -1;
		plen = strlen(js);
		if (plen > FRAME_MAX_PAYLOAD) {
			free(js);
			return -1;
		}
	}
	buf = xmalloc(FRAME_HDR_LEN + plen);
	put32(buf, (uint32_t)plen);
	put16(buf + 4, type);
	put16(buf + 6, 0);
	put32(buf + 8, topic);
	put32(buf + 12, seq);
	if (plen > 0)
		memcpy(buf + FRAME_HDR_LEN, js, plen);
	free(js);
	*out = buf;
	*outlen = FRAME_HDR_LEN + plen;
	return 0;
}

void
frame_decoder_init(struct frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void
frame_decoder_free(struct frame_decoder *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

void
frame_decoder_feed(struct frame_decoder *d, const void *data, size_t len)
{
	if (d->failed || len == 0)
		return;
	if (d->len + len > d->cap) {
		size_t ncap = d->cap ? d->cap : 4096;

		while (ncap < d->len + len)
			ncap *= 2;
		d->buf = xrealloc(d->buf, ncap);
		d->cap = ncap;
	}
	memcpy(d->buf + d->len, data, len);
	d->len += len;
}

static int
frame_fail(struct frame_decoder *d, char *err, size_t errlen, const char *why)
{
	d->failed = 1;
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int
frame_decoder_next(struct frame_decoder *d, struct frame *f, char *err, size_t errlen)
{
	uint32_t plen;
	uint16_t type, flags;
	json_t *js;
	json_error_t jerr;
	char why[160];

	if (d->failed)
		return frame_fail(d, err, errlen, "decoder already failed");
	if (d->len < FRAME_HDR_LEN)
		return 0;
	plen = get32(d->buf);
	type = get16(d->buf + 4);
	flags = get16(d->buf + 6);
	/* Check the header before waiting for (or allocating) the payload. */
	if (plen > FRAME_MAX_PAYLOAD) {
		snprintf(why, sizeof(why), "frame length %u over the limit of %u", plen,
		    FRAME_MAX_PAYLOAD);
		return frame_fail(d, err, errlen, why);
	}
	if (!msg_type_known(type)) {
		snprintf(why, sizeof(why), "unknown message type %u", type);
		return frame_fail(d, err, errlen, why);
	}
	if (flags != 0) {
		snprintf(why, sizeof(why), "reserved flags 0x%04x set", flags);
		return frame_fail(d, err, errlen, why);
	}
	if (d->len < FRAME_HDR_LEN + (size_t)plen)
		return 0;
	if (plen == 0)
		js = json_object();
	else {
		js = json_loadb((const char *)d->buf + FRAME_HDR_LEN, plen,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (js == NULL) {
			snprintf(why, sizeof(why), "%s payload is not JSON: %s",
			    msg_type_name(type), jerr.text);
			return frame_fail(d, err, errlen, why);
		}
		if (!json_is_object(js)) {
			json_decref(js);
			snprintf(why, sizeof(why), "%s payload is not a JSON object",
			    msg_type_name(type));
			return frame_fail(d, err, errlen, why);
		}
	}
	/* Topic ids are 32 bits (the header's field): a payload naming a larger one is refused. */
	if (json_is_integer(json_object_get(js, "topic")) &&
	    (json_integer_value(json_object_get(js, "topic")) < 0 ||
	    (unsigned long long)json_integer_value(json_object_get(js, "topic")) > TOPIC_ID_MAX)) {
		snprintf(why, sizeof(why), "%s payload: topic %lld is outside 0 to %llu",
		    msg_type_name(type), (long long)json_integer_value(json_object_get(js, "topic")),
		    TOPIC_ID_MAX);
		json_decref(js);
		return frame_fail(d, err, errlen, why);
	}
	f->type = type;
	f->flags = flags;
	f->topic = get32(d->buf + 8);
	f->seq = get32(d->buf + 12);
	f->len = plen;
	f->payload = js;
	memmove(d->buf, d->buf + FRAME_HDR_LEN + plen, d->len - FRAME_HDR_LEN - plen);
	d->len -= FRAME_HDR_LEN + plen;
	return 1;
}

int
frame_decoder_eof(struct frame_decoder *d, char *err, size_t errlen)
{
	char why[96];

	if (d->len == 0)
		return 0;
	if (d->len < FRAME_HDR_LEN)
		snprintf(why, sizeof(why), "end of stream inside a frame header (%zu bytes)",
		    d->len);
	else
		snprintf(why, sizeof(why), "end of stream inside a frame payload (%zu of %u bytes)",
		    d->len - FRAME_HDR_LEN, get32(d->buf));
	return frame_fail(d, err, errlen, why);
}

void
frame_free(struct frame *f)
{
	json_decref(f->payload);
	f->payload = NULL;
}

const char *
frame_str(const struct frame *f, const char *key)
{
	return json_string_value(json_object_get(f->payload, key));
}

long long
frame_int(const struct frame *f, const char *key, long long def)
{
	json_t *v = json_object_get(f->payload, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

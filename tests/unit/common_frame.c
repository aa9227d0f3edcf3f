/* The framed protocol: encoder and incremental decoder (common/frame.c). */
#include <arpa/inet.h>

#include "frame.h"
#include "t.h"

static const uint16_t all_types[] = {
	MSG_HELLO, MSG_HEARTBEAT, MSG_HEARTBEAT_ACK, MSG_CONFIG, MSG_READY, MSG_EVENT,
	MSG_SHUTDOWN, MSG_CHILD_STATE, MSG_WINDOW_OPEN, MSG_PREDICT, MSG_PREDICTION, MSG_SUBMIT,
	MSG_SIGNED, MSG_SIGNED_ACK, MSG_SUBMITTED, MSG_WALLET, MSG_STATUS, MSG_STATUS_REPLY,
	MSG_STOP, MSG_STOP_REPLY, MSG_ERROR, MSG_RELOAD, MSG_RELOAD_REPLY,
};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static void
header(unsigned char *h, uint32_t len, uint16_t type, uint16_t flags)
{
	uint32_t l = htonl(len), z = htonl(7);
	uint16_t t = htons(type), f = htons(flags);

	memcpy(h, &l, 4);
	memcpy(h + 4, &t, 2);
	memcpy(h + 6, &f, 2);
	memcpy(h + 8, &z, 4);
	memcpy(h + 12, &z, 4);
}

T_TEST(roundtrip_every_type)
{
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		json_t *p = json_pack("{s:i, s:s, s:[i,i]}", "topic", 67, "v", "-0.01", "a", 1, 2);
		unsigned char *buf;
		size_t len;
		struct frame_decoder d;
		struct frame f;
		char err[128];

		T_ASSERT(frame_encode(all_types[i], 67, 1000 + (uint32_t)i, p, &buf, &len) == 0);
		frame_decoder_init(&d);
		frame_decoder_feed(&d, buf, len);
		T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 1);
		T_EQ_INT(f.type, all_types[i]);
		T_EQ_INT(f.topic, 67);
		T_EQ_INT(f.seq, 1000 + i);
		T_ASSERT(json_equal(f.payload, p));
		T_ASSERT(msg_type_name(all_types[i]) != NULL);
		frame_free(&f);
		T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 0);
		T_EQ_INT(frame_decoder_eof(&d, err, sizeof(err)), 0);
		frame_decoder_free(&d);
		free(buf);
		json_decref(p);
	}
}

/* Three frames in one stream, split at every byte offset (two feeds), and fed one byte at
 * a time. */
T_TEST(split_at_every_offset)
{
	unsigned char *b1, *b2, *b3, stream[4096];
	size_t l1, l2, l3, total, cut, i;
	json_t *p1 = json_pack("{s:s}", "role", "listener"), *p3 = json_pack("{s:I}", "nonce",
	    (json_int_t)6626395);

	T_ASSERT(frame_encode(MSG_HELLO, 0, 1, p1, &b1, &l1) == 0);
	T_ASSERT(frame_encode(MSG_HEARTBEAT, 0, 2, NULL, &b2, &l2) == 0);
	T_ASSERT(frame_encode(MSG_WINDOW_OPEN, 67, 3, p3, &b3, &l3) == 0);
	total = l1 + l2 + l3;
	memcpy(stream, b1, l1);
	memcpy(stream + l1, b2, l2);
	memcpy(stream + l1 + l2, b3, l3);
	for (cut = 0; cut <= total; cut++) {
		struct frame_decoder d;
		struct frame f;
		char err[128];
		int got = 0, r;

		frame_decoder_init(&d);
		frame_decoder_feed(&d, stream, cut);
		while ((r = frame_decoder_next(&d, &f, err, sizeof(err))) == 1) {
			got++;
			frame_free(&f);
		}
		T_EQ_INT(r, 0);
		frame_decoder_feed(&d, stream + cut, total - cut);
		while ((r = frame_decoder_next(&d, &f, err, sizeof(err))) == 1) {
			got++;
			if (got == 3) {
				T_EQ_INT(f.type, MSG_WINDOW_OPEN);
				T_EQ_INT(frame_int(&f, "nonce", 0), 6626395);
			}
			frame_free(&f);
		}
		T_EQ_INT(r, 0);
		T_EQ_INT(got, 3);
		T_EQ_INT(frame_decoder_eof(&d, err, sizeof(err)), 0);
		frame_decoder_free(&d);
	}
	{
		struct frame_decoder d;
		struct frame f;
		char err[128];
		int got = 0;

		frame_decoder_init(&d);
		for (i = 0; i < total; i++) {
			frame_decoder_feed(&d, stream + i, 1);
			while (frame_decoder_next(&d, &f, err, sizeof(err)) == 1) {
				got++;
				frame_free(&f);
			}
		}
		T_EQ_INT(got, 3);
		frame_decoder_free(&d);
	}
	free(b1);
	free(b2);
	free(b3);
	json_decref(p1);
	json_decref(p3);
}

static int
decode_one(uint32_t len, uint16_t type, uint16_t flags, const char *payload, size_t plen,
    char *err, size_t errlen)
{
	unsigned char h[FRAME_HDR_LEN];
	struct frame_decoder d;
	struct frame f;
	int r;

	header(h, len, type, flags);
	frame_decoder_init(&d);
	frame_decoder_feed(&d, h, sizeof(h));
	if (payload != NULL)
		frame_decoder_feed(&d, payload, plen);
	r = frame_decoder_next(&d, &f, err, errlen);
	if (r == 1)
		frame_free(&f);
	frame_decoder_free(&d);
	return r;
}

T_TEST(length_zero_is_empty_object)
{
	unsigned char h[FRAME_HDR_LEN];
	struct frame_decoder d;
	struct frame f;
	char err[128];

	header(h, 0, MSG_STATUS, 0);
	frame_decoder_init(&d);
	frame_decoder_feed(&d, h, sizeof(h));
	T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 1);
	T_ASSERT(json_is_object(f.payload) && json_object_size(f.payload) == 0);
	frame_free(&f);
	frame_decoder_free(&d);
}

T_TEST(length_max_accepted_max_plus_one_refused)
{
	char *big = malloc(FRAME_MAX_PAYLOAD + 1), err[128];
	json_t *p;
	unsigned char *buf;
	size_t len;

	/* {"x":"aaaa...."} of exactly FRAME_MAX_PAYLOAD bytes */
	memset(big, 'a', FRAME_MAX_PAYLOAD);
	memcpy(big, "{\"x\":\"", 6);
	big[FRAME_MAX_PAYLOAD - 2] = '"';
	big[FRAME_MAX_PAYLOAD - 1] = '}';
	T_EQ_INT(decode_one(FRAME_MAX_PAYLOAD, MSG_EVENT, 0, big, FRAME_MAX_PAYLOAD, err,
	    sizeof(err)), 1);
	T_EQ_INT(decode_one(FRAME_MAX_PAYLOAD + 1, MSG_EVENT, 0, NULL, 0, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "over the limit") != NULL);
	/* and the encoder refuses to make one */
	big[FRAME_MAX_PAYLOAD - 1] = '\0';
	p = json_pack("{s:s}", "x", big);
	T_EQ_INT(frame_encode(MSG_EVENT, 0, 0, p, &buf, &len), -1);
	json_decref(p);
	free(big);
}

T_TEST(length_ffffffff_refused_before_allocating)
{
	char err[128];

	T_EQ_INT(decode_one(0xffffffffu, MSG_EVENT, 0, NULL, 0, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "4294967295") != NULL);
}

T_TEST(non_object_payloads_refused)
{
	static const char *bad[] = { "[1,2]", "\"str\"", "42", "null", "{\"a\":", "{}x",
	    "\xff\xfe", "{\"a\":1,\"a\":2}" };
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(decode_one((uint32_t)strlen(bad[i]), MSG_EVENT, 0, bad[i], strlen(bad[i]),
		    err, sizeof(err)), -1);
}

T_TEST(unknown_type_and_flags_refused)
{
	char err[128];

	T_EQ_INT(decode_one(2, 9999, 0, "{}", 2, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "unknown message type 9999") != NULL);
	T_EQ_INT(decode_one(2, 0, 0, "{}", 2, err, sizeof(err)), -1);
	T_EQ_INT(decode_one(2, MSG_HELLO, 1, "{}", 2, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "flags") != NULL);
}

T_TEST(truncated_at_eof)
{
	unsigned char h[FRAME_HDR_LEN];
	struct frame_decoder d;
	struct frame f;
	char err[128];

	header(h, 10, MSG_EVENT, 0);
	frame_decoder_init(&d);
	frame_decoder_feed(&d, h, 7);
	T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 0);
	T_EQ_INT(frame_decoder_eof(&d, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "header") != NULL);
	frame_decoder_free(&d);

	frame_decoder_init(&d);
	frame_decoder_feed(&d, h, sizeof(h));
	frame_decoder_feed(&d, "{\"a\"", 4);
	T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 0);
	T_EQ_INT(frame_decoder_eof(&d, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "payload") != NULL);
	frame_decoder_free(&d);
}

T_TEST(decoder_stays_failed)
{
	struct frame_decoder d;
	struct frame f;
	char err[128];
	unsigned char *buf;
	size_t len;

	frame_decoder_init(&d);
	frame_decoder_feed(&d, "garbage garbage garbage", 23);
	T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), -1);
	T_ASSERT(frame_encode(MSG_HELLO, 0, 1, NULL, &buf, &len) == 0);
	frame_decoder_feed(&d, buf, len);
	T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), -1);
	free(buf);
	frame_decoder_free(&d);
}

/* Topic ids are 32 bits: a payload naming a larger (or negative) one is refused, the limit kept. */
T_TEST(payload_topic_above_32_bits_refused)
{
	static const long long tops[] = { 4294967295LL, 4294967296LL, -1 };
	struct frame_decoder d;
	struct frame f;
	char err[160];
	unsigned char *buf;
	size_t len, i;
	json_t *o;

	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		o = json_pack("{s:I, s:I}", "topic", (json_int_t)tops[i], "nonce", (json_int_t)5);
		T_ASSERT(frame_encode(MSG_PREDICT, 0, 1, o, &buf, &len) == 0);
		json_decref(o);
		frame_decoder_init(&d);
		frame_decoder_feed(&d, buf, len);
		if (i == 0) {
			T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), 1);
			T_EQ_INT(frame_int(&f, "topic", 0), 4294967295LL);
			frame_free(&f);
		} else {
			T_EQ_INT(frame_decoder_next(&d, &f, err, sizeof(err)), -1);
			T_ASSERT(strstr(err, "4294967295") != NULL);
		}
		free(buf);
		frame_decoder_free(&d);
	}
}

int
main(void)
{
	T_RUN(roundtrip_every_type);
	T_RUN(split_at_every_offset);
	T_RUN(length_zero_is_empty_object);
	T_RUN(length_max_accepted_max_plus_one_refused);
	T_RUN(length_ffffffff_refused_before_allocating);
	T_RUN(non_object_payloads_refused);
	T_RUN(unknown_type_and_flags_refused);
	T_RUN(truncated_at_eof);
	T_RUN(decoder_stays_failed);
	T_RUN(payload_topic_above_32_bits_refused);
	return t_done();
}

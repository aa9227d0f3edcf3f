/* The event parser against the real NewBlockEvents frame from Allora testnet. */
#include "listener/events.h"
#include "t.h"

#include <jansson.h>

static char *frame;
static size_t frame_len;

T_TEST(real_frame_has_no_window)
{
	struct window_ev w[8];
	int64_t h;
	char err[128];

	T_EQ_INT(events_parse(frame, frame_len, w, 8, &h, err, sizeof(err)), 0);
	T_ASSERT(h > 0);
}

T_TEST(real_frame_with_a_window_added)
{
	json_error_t je;
	json_t *d = json_loadb(frame, frame_len, 0, &je), *evs;
	struct window_ev w[8];
	int64_t h;
	char err[128], *s;

	T_ASSERT(d != NULL);
	evs = json_object_get(json_object_get(json_object_get(json_object_get(d, "result"), "data"),
	    "value"), "events");
	T_ASSERT(json_is_array(evs));
	json_array_append_new(evs, json_pack("{s:s, s:[{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},"
	    "{s:s,s:s,s:b}]}", "type", "emissions.v10.EventWorkerSubmissionWindowOpened",
	    "attributes", "key", "nonce_block_height", "value", "\"6626395\"", "index", 1,
	    "key", "topic_id", "value", "\"67\"", "index", 1, "key", "window_end_block", "value",
	    "\"6626995\"", "index", 1, "key", "mode", "value", "EndBlock", "index", 1));
	s = json_dumps(d, JSON_COMPACT);
	T_EQ_INT(events_parse(s, strlen(s), w, 8, &h, err, sizeof(err)), 1);
	T_EQ_INT(w[0].topic, 67);
	T_EQ_INT(w[0].nonce, 6626395);
	T_EQ_INT(w[0].window_end, 6626995);
	free(s);
	json_decref(d);
}

T_TEST(untrusted_input)
{
	static const char *bad[] = { "", "[]", "nul", "{\"result\":5}",
	    "{\"result\":{\"data\":{\"value\":{\"events\":{}}}}}",
	    "{\"result\":{\"data\":{\"value\":{\"events\":[{\"type\":5}]}}}}",
	    "{\"result\":{\"data\":{\"value\":{\"events\":[{\"type\":\"emissions.v9.EventWorkerSubmissionWindowOpened\",\"attributes\":[{\"key\":\"topic_id\",\"value\":\"\\\"99999999999999999999999\\\"\"},{\"key\":\"nonce_block_height\",\"value\":\"\\\"5\\\"\"}]}]}}}}",
	    "{\"result\":{\"data\":{\"value\":{\"events\":[{\"type\":\"emissions.v9.EventWorkerSubmissionWindowOpened\",\"attributes\":[{\"key\":\"topic_id\",\"value\":\"\\\"-1\\\"\"},{\"key\":\"nonce_block_height\",\"value\":7}]}]}}}}",
	    "{\"result\":{\"data\":{\"value\":{\"events\":[{\"type\":\"emissions.v9.EventWorkerSubmissionWindowOpened\",\"attributes\":[{\"key\":\"topic_id\",\"value\":\"\\\"67\\\"\"}]}]}}}}",
	};
	struct window_ev w[4];
	int64_t h;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ASSERT(events_parse(bad[i], strlen(bad[i]), w, 4, &h, err, sizeof(err)) <= 0);
	{
		const char *ok = "{\"result\":{\"data\":{\"value\":{\"events\":[{\"type\":"
		    "\"emissions.v9.EventWorkerSubmissionWindowOpened\",\"attributes\":[{\"key\":"
		    "\"topic_id\",\"value\":\"\\\"68\\\"\"},{\"key\":\"nonce_block_height\","
		    "\"value\":\"\\\"100\\\"\"}]}]}}}}";

		T_EQ_INT(events_parse(ok, strlen(ok), w, 4, &h, err, sizeof(err)), 1);
		T_EQ_INT(w[0].topic, 68);
		T_EQ_INT(w[0].nonce, 100);
		T_EQ_INT(w[0].window_end, -1);
	}
}

/* A frame with one window event per (topic, nonce, end) text triple. */
static char *
frame_with(const char *const *w, size_t n)
{
	json_t *evs = json_array(), *d;
	char *s;
	size_t i;

	for (i = 0; i + 2 < n; i += 3)
		json_array_append_new(evs, json_pack("{s:s, s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]}",
		    "type", "emissions.v9.EventWorkerSubmissionWindowOpened", "attributes",
		    "key", "topic_id", "value", w[i], "key", "nonce_block_height", "value", w[i + 1],
		    "key", "window_end_block", "value", w[i + 2]));
	d = json_pack("{s:{s:{s:{s:s, s:o}}}}", "result", "data", "value", "height", "\"12\"",
	    "events", evs);
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

T_TEST(several_windows_capped_and_checked)
{
	static const char *const w[] = {
		"\"67\"", "\"100\"", "\"110\"",
		"\"68\"", "\"100\"", "\"90\"",		/* end before the nonce: unknown */
		"\"4294967296\"", "\"100\"", "\"110\"",	/* topic beyond uint32: dropped */
		"\"69\"", "\"0x10\"", "\"110\"",		/* not decimal: dropped */
		"\"70\"", "\" 5\"", "\"110\"",		/* leading space: dropped */
		"\"71\"", "\"9223372036854775808\"", "\"1\"",	/* overflows int64 */
		"\"4294967295\"", "\"7\"", "\"9223372036854775807\"",
	};
	struct window_ev out[4];
	int64_t h;
	char err[128], *s = frame_with(w, sizeof(w) / sizeof(w[0]));

	T_EQ_INT(events_parse(s, strlen(s), out, 4, &h, err, sizeof(err)), 3);
	T_EQ_INT(h, 12);
	T_EQ_INT(out[0].topic, 67);
	T_EQ_INT(out[0].window_end, 110);
	T_EQ_INT(out[1].topic, 68);
	T_EQ_INT(out[1].window_end, -1);
	T_EQ_INT(out[2].topic, 4294967295u);
	T_EQ_INT(out[2].nonce, 7);
	T_ASSERT(out[2].window_end == INT64_MAX);
	/* The caller's array is never overrun. */
	T_EQ_INT(events_parse(s, strlen(s), out, 1, &h, err, sizeof(err)), 1);
	T_EQ_INT(out[0].topic, 67);
	free(s);
	/* Not NUL-terminated: only len bytes are read. */
	T_EQ_INT(events_parse("{\"result\":{}}xxxx", 13, out, 1, &h, err, sizeof(err)), 0);
	T_EQ_INT(events_parse("{\"result\":{}}", 5, out, 1, &h, err, sizeof(err)), -1);
	T_ASSERT(err[0] != '\0');
}

int
main(void)
{
	frame = t_slurp("tests/vectors/cometbft-new-block-events.json", &frame_len);
	T_RUN(real_frame_has_no_window);
	T_RUN(real_frame_with_a_window_added);
	T_RUN(untrusted_input);
	T_RUN(several_windows_capped_and_checked);
	return t_done();
}

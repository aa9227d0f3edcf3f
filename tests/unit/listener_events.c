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

int
main(void)
{
	frame = t_slurp("tests/vectors/cometbft-new-block-events.json", &frame_len);
	T_RUN(real_frame_has_no_window);
	T_RUN(real_frame_with_a_window_added);
	T_RUN(untrusted_input);
	return t_done();
}

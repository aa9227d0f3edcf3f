/* listener/scorev: score events of a NewBlockEvents frame, for our addresses only. */
#include "listener/scores.h"
#include "t.h"

#include <jansson.h>

#define ME "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"

static int
ours(uint32_t topic, const char *a)
{
	return topic == 67 && a != NULL && strcmp(a, ME) == 0;
}

/* A frame with one typed event; attrs alternate key, JSON value text. */
static char *
frame_of(const char *type, const char **kv)
{
	json_t *attrs = json_array(), *f;
	char *s;
	size_t i;

	for (i = 0; kv[i] != NULL; i += 2)
		json_array_append_new(attrs, json_pack("{s:s, s:s, s:b}", "key", kv[i], "value",
		    kv[i + 1], "index", 1));
	f = json_pack("{s:s, s:{s:s, s:{s:s, s:{s:s, s:[{s:s, s:o}]}}}}", "jsonrpc", "2.0",
	    "result", "query", "tm.event='NewBlockEvents'", "data", "type",
	    "tendermint/event/NewBlockEvents", "value", "height", "100", "events", "type", type,
	    "attributes", attrs);
	s = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return s;
}

static json_t *
parse(const char *type, const char **kv, int *n, char *bad)
{
	char *s = frame_of(type, kv);
	json_t *out = json_array();

	*n = scorev_parse(s, strlen(s), ours, out, bad, 256);
	free(s);
	return out;
}

T_TEST(ema_event_ours_with_rank_and_active)
{
	const char *kv[] = { "actor_type", "\"ACTOR_TYPE_INFERER_UNSPECIFIED\"", "topic_id",
	    "\"67\"", "nonce", "\"90\"", "addresses", "[\"allo1a\",\"" ME "\",\"allo1b\"]",
	    "scores", "[\"-0.5\",\"-0.1\",\"-0.9\"]", "is_active", "[true,true,false]", NULL };
	char bad[256];
	int n;
	json_t *out = parse("emissions.v10.EventEMAScoresSet", kv, &n, bad), *e;

	T_EQ_INT(n, 1);
	T_EQ_STR(bad, "");
	e = json_array_get(out, 0);
	T_EQ_STR(json_string_value(json_object_get(e, "kind")), "ema");
	T_EQ_STR(json_string_value(json_object_get(e, "ema")), "-0.1");
	T_EQ_INT(json_integer_value(json_object_get(e, "nonce")), 90);
	T_EQ_INT(json_integer_value(json_object_get(e, "rank")), 1);
	T_EQ_INT(json_integer_value(json_object_get(e, "active_count")), 2);
	T_ASSERT(json_is_true(json_object_get(e, "active")));
	T_EQ_STR(json_string_value(json_object_get(e, "lowest_active_ema")), "-0.5");
}

T_TEST(other_addresses_and_topics_and_forecasters_ignored)
{
	const char *kv[] = { "topic_id", "\"67\"", "nonce", "\"90\"", "addresses",
	    "[\"allo1a\"]", "scores", "[\"-0.5\"]", "is_active", "[true]", NULL };
	const char *kv68[] = { "topic_id", "\"68\"", "nonce", "\"90\"", "addresses",
	    "[\"" ME "\"]", "scores", "[\"-0.5\"]", NULL };
	const char *kvf[] = { "actor_type", "\"ACTOR_TYPE_FORECASTER\"", "topic_id", "\"67\"",
	    "nonce", "\"90\"", "addresses", "[\"" ME "\"]", "scores", "[\"-0.5\"]", NULL };
	char bad[256];
	int n;

	parse("emissions.v10.EventEMAScoresSet", kv, &n, bad);
	T_EQ_INT(n, 0);
	T_EQ_STR(bad, "");
	parse("emissions.v10.EventEMAScoresSet", kv68, &n, bad);
	T_EQ_INT(n, 0);
	parse("emissions.v10.EventEMAScoresSet", kvf, &n, bad);
	T_EQ_INT(n, 0);
}

T_TEST(malformed_events_skipped_and_named)
{
	const char *mismatch[] = { "topic_id", "\"67\"", "nonce", "\"90\"", "addresses",
	    "[\"" ME "\",\"allo1a\"]", "scores", "[\"-0.5\"]", NULL };
	const char *noncanon[] = { "topic_id", "\"67\"", "nonce", "\"90\"", "addresses",
	    "[\"" ME "\"]", "scores", "[\"-0.50000e0\"]", NULL };
	const char *reward[] = { "topic_id", "\"67\"", "block_height", "\"90\"", "addresses",
	    "[\"" ME "\"]", "rewards", "[\"1e\"]", NULL };
	char bad[256];
	int n;

	parse("emissions.v10.EventEMAScoresSet", mismatch, &n, bad);
	T_EQ_INT(n, 0);
	T_ASSERT(strstr(bad, "EventEMAScoresSet") != NULL);
	parse("emissions.v10.EventEMAScoresSet", noncanon, &n, bad);
	T_EQ_INT(n, 0);
	T_ASSERT(strstr(bad, "canonical") != NULL);
	parse("emissions.v10.EventRewardsSettled", reward, &n, bad);
	T_EQ_INT(n, 0);
	T_ASSERT(bad[0] != '\0');
	T_EQ_INT(scorev_parse("{{not json", 10, ours, json_array(), bad, sizeof(bad)), -1);
}

T_TEST(reward_event)
{
	const char *kv[] = { "actor_type", "\"ACTOR_TYPE_INFERER_UNSPECIFIED\"", "topic_id",
	    "\"67\"", "block_height", "\"90\"", "addresses", "[\"allo1a\",\"" ME "\"]",
	    "rewards", "[\"1.5\",\"333333.25\"]", "block_height_tx", "\"102\"", NULL };
	char bad[256];
	int n;
	json_t *out = parse("emissions.v9.EventRewardsSettled", kv, &n, bad), *e;

	T_EQ_INT(n, 1);
	e = json_array_get(out, 0);
	T_EQ_STR(json_string_value(json_object_get(e, "reward")), "333333.25");
	T_EQ_INT(json_integer_value(json_object_get(e, "nonce")), 90);
	T_EQ_INT(json_integer_value(json_object_get(e, "height")), 102);
}

T_TEST(active_set_event)
{
	const char *in[] = { "topic_id", "\"67\"", "addresses", "[\"allo1a\",\"" ME "\"]",
	    "nonce_block_height", "\"90\"", NULL };
	const char *out_[] = { "topic_id", "\"67\"", "addresses", "[\"allo1a\"]",
	    "nonce_block_height", "\"96\"", NULL };
	json_t *w = json_pack("[s]", ME), *out;
	char bad[256];
	int n;

	scorev_set_watched(w);
	out = parse("emissions.v10.EventActiveInferersSet", in, &n, bad);
	T_EQ_INT(n, 1);
	T_ASSERT(json_is_true(json_object_get(json_array_get(out, 0), "active")));
	T_EQ_INT(json_integer_value(json_object_get(json_array_get(out, 0), "active_count")), 2);
	out = parse("emissions.v10.EventActiveInferersSet", out_, &n, bad);
	T_EQ_INT(n, 1);
	T_ASSERT(json_is_false(json_object_get(json_array_get(out, 0), "active")));
}

int
main(void)
{
	T_RUN(ema_event_ours_with_rank_and_active);
	T_RUN(other_addresses_and_topics_and_forecasters_ignored);
	T_RUN(malformed_events_skipped_and_named);
	T_RUN(reward_event);
	T_RUN(active_set_event);
	return t_done();
}

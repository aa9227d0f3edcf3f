/*
 * alloractl check's score lines (issue 18): the topic's loss method as GetTopic says and
 * whether our worker has a score (GetInfererScoreEma), through common/scoreq.h, the queries
 * the listener reads in the daemon.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "preflight.h"
#include "rpc.h"
#include "rpc_sync.h"
#include "scoreq.h"

static int
ask(struct sync *s, enum scoreq q, const char *em, uint32_t topic, const char *addr,
    json_t *o, char *err, size_t errlen)
{
	uint8_t buf[256];
	char path[128];
	size_t n;

	scoreq_path(q, em, path, sizeof(path));
	n = scoreq_request(q, topic, addr, buf, sizeof(buf));
	if (sync_abci(s, path, buf, n) != RPC_OK) {
		snprintf(err, errlen, "cannot tell: %s", sync_why(s));
		return L_WARN;
	}
	if (s->code != 0) {
		snprintf(err, errlen, "this chain does not answer %s (%s)", scoreq_method(q),
		    sync_why(s));
		return L_SKIP;
	}
	if (scoreq_decode(q, em, topic, addr, s->value, s->value_len, o, err, errlen) == -1)
		return L_WARN;
	return L_OK;
}

void
listener_preflight_scores(struct sync *s, const char *em, const struct config_topic *t,
    const char *addr)
{
	json_t *o = json_object();
	char what[64], err[256];
	int lv;

	snprintf(what, sizeof(what), "topic %u loss method", t->id);
	lv = ask(s, SQ_TOPIC, em, t->id, NULL, o, err, sizeof(err));
	if (lv != L_OK)
		preflight_line(what, lv, "%s", err);
	else if (json_is_string(json_object_get(o, "loss_method")))
		preflight_line(what, L_OK, "%s (ground truth %lld blocks after the window)",
		    json_string_value(json_object_get(o, "loss_method")),
		    (long long)json_integer_value(json_object_get(o, "ground_truth_lag")));
	else
		preflight_line(what, L_WARN, "the chain names none");
	snprintf(what, sizeof(what), "topic %u score", t->id);
	if (addr == NULL)
		preflight_line(what, L_SKIP, "the wallet's key did not load");
	else if ((lv = ask(s, SQ_EMA, em, t->id, addr, o, err, sizeof(err))) != L_OK)
		preflight_line(what, lv, "%s", err);
	else if (json_is_string(json_object_get(o, "ema")))
		preflight_line(what, L_OK, "%s has a score: EMA %s (nonce %lld)", addr,
		    json_string_value(json_object_get(o, "ema")),
		    (long long)json_integer_value(json_object_get(o, "ema_height")));
	else
		preflight_line(what, L_OK, "%s has no score yet (none of its inferences scored)",
		    addr);
	json_decref(o);
}

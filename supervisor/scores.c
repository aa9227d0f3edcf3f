/*
 * Each topic's score as the chain reports it (see scores.h).  Everything here comes from
 * the listener's SCORE frames and from the ledger; nothing is computed that the chain did
 * not say, except the gap (our EMA minus the lowest active EMA) and the rank among the
 * inferers of the chain's own EventEMAScoresSet.
 */
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "forecast.h"
#include "metrics.h"
#include "proc.h"
#include "scoreq.h"
#include "scores.h"
#include "sup.h"
#include "util.h"

#define OUTSIDE_WARN	24	/* scored epochs outside the active set before a warning */

struct sc {
	uint32_t	 topic;
	char		*address;
	char		*loss_method;
	char		*ema;
	int64_t		 ema_height;	/* -1 unknown */
	int		 active;	/* -1 unknown */
	int		 known_active;	/* last known value across gaps, -1 never */
	char		*lowest;
	int64_t		 lowest_height;
	long		 rank, active_count;	/* -1 unknown */
	char		*last_reward;	/* uallo, integer text */
	unsigned long long rewards;	/* summed from the ledger */
	int64_t		 last_reward_nonce;
	char		*network_value;
	int64_t		 network_nonce;
	long		 outside;	/* consecutive scored epochs outside the active set */
	json_t		*networks;	/* nonce -> the network's value, for the scored records */
	int		 warned_reward;
};

static struct sc *scs;
static size_t nscs;
static char *watch_sent;	/* the watch the listener of watch_pid has */
static pid_t watch_pid;

static struct sc *
sc_of(uint32_t topic)
{
	size_t i;

	for (i = 0; i < nscs; i++)
		if (scs[i].topic == topic)
			return &scs[i];
	scs = xrealloc(scs, (nscs + 1) * sizeof(*scs));
	memset(&scs[nscs], 0, sizeof(*scs));
	scs[nscs].topic = topic;
	scs[nscs].ema_height = scs[nscs].lowest_height = -1;
	scs[nscs].active = scs[nscs].known_active = -1;
	scs[nscs].rank = scs[nscs].active_count = -1;
	scs[nscs].network_nonce = -1;
	return &scs[nscs++];
}

static void
set_str(char **dst, const char *s)
{
	char *n = s != NULL ? xstrdup(s) : NULL;

	free(*dst);
	*dst = n;
}

static const char *
wallet_of(uint32_t topic)
{
	const struct config_topic *ct = config_topic(sup->conf, topic);

	return ct != NULL ? ct->wallet : NULL;
}

static const char *
address_of(uint32_t topic)
{
	const char *w = wallet_of(topic);
	size_t i;

	for (i = 0; w != NULL && i < sup->nwallets; i++)
		if (strcmp(sup->wallets[i].name, w) == 0)
			return sup->wallets[i].address;
	return NULL;
}

/* The score gauges: a value that is not known is not exported. */
static void
gauge(const char *name, const char *labels, const char *dec)
{
	double d;

	if (dec != NULL && parse_double(dec, &d) == 0)
		metrics_gauge(name, labels, d);
	else
		metrics_gauge_unset(name, labels);
}

static void
export(struct sc *s)
{
	char lab[256], lt[64], num[32];
	char *gap = scoreq_sub(s->ema, s->lowest);

	snprintf(lab, sizeof(lab), "topic=\"%u\",wallet=\"%s\"", s->topic,
	    wallet_of(s->topic) ? wallet_of(s->topic) : "");
	snprintf(lt, sizeof(lt), "topic=\"%u\"", s->topic);
	gauge("allora_worker_score_ema", lab, s->ema);
	gauge("allora_worker_active", lab, s->active < 0 ? NULL : s->active ? "1" : "0");
	gauge("allora_worker_score_gap", lab, gap);
	snprintf(num, sizeof(num), "%llu", s->rewards);
	gauge("allora_worker_rewards_uallo_total", lab, s->ema != NULL ||
	    s->last_reward != NULL ? num : NULL);
	gauge("allora_worker_network_inference", lt, s->network_value);
	free(gap);
}

static int
is_our(struct sc *s, const char *address)
{
	const char *a = address_of(s->topic);

	return a != NULL && address != NULL && strcmp(a, address) == 0;
}

static void
on_active(struct sc *s, int active, const char *why)
{
	char *gap;

	s->active = active;
	if (active && s->known_active != 1)
		log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:s, s:b}", "topic",
		    (json_int_t)s->topic, "reason", "active_set_entered", "active", 1),
		    "Topic %u: the worker is in the active set (%s)", s->topic, why);
	else if (!active && s->known_active == 1) {
		gap = scoreq_sub(s->ema, s->lowest);
		log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:s, s:b, s:s?}", "topic",
		    (json_int_t)s->topic, "reason", "active_set_left", "active", 0, "gap", gap),
		    "Topic %u: the worker left the active set (%s; gap to the lowest active "
		    "score %s)", s->topic, why, gap ? gap : "unknown");
		free(gap);
	}
	s->known_active = active;
}

static void
on_ema(struct sc *s, struct frame *f)
{
	int64_t nonce = frame_int(f, "nonce", -1);
	json_t *act = json_object_get(f->payload, "active");
	const char *ema = frame_str(f, "ema"), *st;
	char *gap;

	if (ema == NULL || nonce <= 0)
		return;
	if (nonce >= s->ema_height) {
		set_str(&s->ema, ema);
		s->ema_height = nonce;
		if (frame_str(f, "lowest_active_ema") != NULL && nonce >= s->lowest_height) {
			set_str(&s->lowest, frame_str(f, "lowest_active_ema"));
			s->lowest_height = nonce;
		}
		s->rank = frame_int(f, "rank", -1);
		s->active_count = frame_int(f, "active_count", -1);
		if (json_is_boolean(act))
			on_active(s, json_is_true(act), "EventEMAScoresSet");
	}
	if (json_is_false(act)) {
		if (++s->outside % OUTSIDE_WARN == 0) {
			gap = scoreq_sub(s->ema, s->lowest);
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:s, s:i, s:s?, s:s?,"
			    " s:s?}", "topic", (json_int_t)s->topic, "reason", "outside_active_set",
			    "epochs", (int)s->outside, "score_ema", s->ema, "lowest_active_ema",
			    s->lowest, "gap", gap), "Topic %u: %ld scored epochs outside the "
			    "active set (score %s, lowest active %s, gap %s): the worker earns "
			    "nothing there", s->topic, s->outside, s->ema ? s->ema : "?",
			    s->lowest ? s->lowest : "?", gap ? gap : "?");
			free(gap);
		}
	} else if (json_is_true(act))
		s->outside = 0;
	/* The ledger: our accepted submission of that nonce was scored. */
	st = flow_nonce_state(s->topic, nonce);
	if (st != NULL && strcmp(st, "accepted") == 0) {
		char key[32];

		snprintf(key, sizeof(key), "%lld", (long long)nonce);
		json_t *net = s->networks != NULL ? json_object_get(s->networks, key) : NULL;
		json_int_t rank = frame_int(f, "rank", -1);

		json_t *fields = json_pack("{s:s, s:O, s:o, s:s?, s:O?}",
		    "score_ema", ema, "active", json_is_boolean(act) ? act : json_null(), "rank",
		    rank > 0 ? json_integer(rank) : json_null(), "loss_method", s->loss_method,
		    "network_value", net);

		supfc_fill_scored(s->topic, fields);	/* issue 22 */
		flow_record(s->topic, nonce, "scored", fields);
	}
}

static void
on_reward(struct sc *s, struct frame *f)
{
	int64_t nonce = frame_int(f, "nonce", -1);
	const char *reward = frame_str(f, "reward"), *st;
	char *u;

	if (reward == NULL || nonce <= 0)
		return;
	if ((u = scoreq_floor_uallo(reward)) == NULL) {
		if (!s->warned_reward++)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:s, s:s, s:I}",
			    "topic", (json_int_t)s->topic, "reason", "score_data", "reward", reward, "nonce",
			    (json_int_t)nonce), "topic %u: reward \"%.40s\" of nonce %lld is not a "
			    "non-negative amount; ignored (logged once)", s->topic, reward,
			    (long long)nonce);
		return;
	}
	st = flow_nonce_state(s->topic, nonce);
	if (st != NULL && (strcmp(st, "accepted") == 0 || strcmp(st, "scored") == 0)) {
		if (flow_record(s->topic, nonce, "rewarded", json_pack("{s:s, s:s}", "reward",
		    reward, "reward_uallo", u)) == 0)
			s->rewards += strtoull(u, NULL, 10);
	}
	if (nonce >= s->last_reward_nonce) {
		set_str(&s->last_reward, u);
		s->last_reward_nonce = nonce;
	}
	free(u);
}

static void
on_query(struct sc *s, struct frame *f)
{
	json_t *p = f->payload;
	int64_t h;

	if (frame_str(f, "loss_method") != NULL)
		set_str(&s->loss_method, frame_str(f, "loss_method"));
	h = frame_int(f, "ema_height", -1);
	if (json_is_string(json_object_get(p, "ema")) && h >= s->ema_height) {
		set_str(&s->ema, frame_str(f, "ema"));
		s->ema_height = h;
	} else if (json_is_null(json_object_get(p, "ema")) && s->ema_height < 0)
		set_str(&s->ema, NULL);		/* not scored yet */
	h = frame_int(f, "lowest_height", -1);
	if (json_is_string(json_object_get(p, "lowest_active_ema")) && h >= s->lowest_height) {
		set_str(&s->lowest, frame_str(f, "lowest_active_ema"));
		s->lowest_height = h;
	}
	h = frame_int(f, "network_nonce", -1);
	if (json_is_string(json_object_get(p, "network_value")) && h >= s->network_nonce) {
		char key[32];

		set_str(&s->network_value, frame_str(f, "network_value"));
		s->network_nonce = h;
		/* Kept until that nonce is scored (a bounded number of them). */
		if (s->networks == NULL)
			s->networks = json_object();
		if (json_object_size(s->networks) >= 256)
			json_object_clear(s->networks);
		snprintf(key, sizeof(key), "%lld", (long long)h);
		json_object_set_new(s->networks, key, json_string(s->network_value));
	}
}

void
scores_dispatch(struct frame *f)
{
	const char *kind = frame_str(f, "kind"), *addr = frame_str(f, "address");
	json_int_t topic = frame_int(f, "topic", -1);
	struct sc *s;

	if (kind == NULL || topic <= 0 || topic > UINT32_MAX ||
	    config_topic(sup->conf, (uint32_t)topic) == NULL)
		return;
	s = sc_of((uint32_t)topic);
	if (!is_our(s, addr)) {
		log_debug("SCORE for topic %u of %s, not our address; ignored", (unsigned)topic,
		    addr ? addr : "?");
		return;
	}
	set_str(&s->address, addr);
	if (strcmp(kind, "ema") == 0)
		on_ema(s, f);
	else if (strcmp(kind, "reward") == 0)
		on_reward(s, f);
	else if (strcmp(kind, "active_set") == 0) {
		if (json_is_boolean(json_object_get(f->payload, "active")))
			on_active(s, json_is_true(json_object_get(f->payload, "active")),
			    "EventActiveInferersSet");
		if (frame_int(f, "active_count", -1) >= 0)
			s->active_count = frame_int(f, "active_count", -1);
	} else if (strcmp(kind, "gap") == 0)
		s->active = -1;		/* unknown until the next EventEMAScoresSet */
	else if (strcmp(kind, "query") == 0)
		on_query(s, f);
	export(s);
}

void
scores_send_watch(void)
{
	json_t *w = json_array(), *o;
	struct child *c = child_by_role(ROLE_LISTENER);
	size_t i;
	char *txt;

	for (i = 0; i < sup->ntopics; i++) {
		const char *a = address_of(sup->topics[i].id);

		if (a != NULL)
			json_array_append_new(w, json_pack("{s:I, s:s}", "topic",
			    (json_int_t)sup->topics[i].id, "address", a));
	}
	o = json_pack("{s:o}", "watch", w);
	txt = json_dumps(o, JSON_COMPACT);
	if (c->peer == NULL || c->ready_ms == 0 || (watch_sent != NULL && txt != NULL &&
	    strcmp(watch_sent, txt) == 0 && c->pid == watch_pid)) {
		/* Not up, or this listener has that watch already. */
		free(txt);
		json_decref(o);
		return;
	}
	free(watch_sent);
	watch_sent = txt;
	watch_pid = c->pid;
	sup_send_child(c, MSG_SCORE_WATCH, 0, 0, o);
}

void
scores_replay(uint32_t topic, const json_t *rec)
{
	const char *u = json_string_value(json_object_get(rec, "reward_uallo"));
	int64_t nonce = json_integer_value(json_object_get(rec, "nonce"));
	struct sc *s;

	if (u == NULL)
		return;
	s = sc_of(topic);
	s->rewards += strtoull(u, NULL, 10);
	if (nonce >= s->last_reward_nonce) {
		set_str(&s->last_reward, u);
		s->last_reward_nonce = nonce;
	}
}

const char *
scores_loss_method(uint32_t topic)
{
	return sc_of(topic)->loss_method;
}

void
scores_fill_predict(uint32_t topic, json_t *payload)
{
	const char *lm = json_string_value(json_object_get(payload, "loss_method"));
	const char *chain = scores_loss_method(topic);

	if ((lm == NULL || strcmp(lm, "auto") == 0) && chain != NULL)
		json_object_set_new(payload, "loss_method", json_string(chain));
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jint(long long v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

void
scores_status(uint32_t topic, json_t *x)
{
	struct sc *s = sc_of(topic);
	char num[32];
	char *gap = scoreq_sub(s->ema, s->lowest);
	const struct config_topic *ct = config_topic(sup->conf, topic);

	snprintf(num, sizeof(num), "%llu", s->rewards);
	/* The configured loss method wins; with auto, the chain's once it said it. */
	if (ct != NULL && ct->loss_method != NULL && strcmp(ct->loss_method, "auto") != 0)
		json_object_set_new(x, "loss_method", json_string(ct->loss_method));
	else if (s->loss_method != NULL || json_object_get(x, "loss_method") == NULL)
		json_object_set_new(x, "loss_method", jstr(s->loss_method));
	if (json_object_get(x, "model_resolved") == NULL)
		json_object_set_new(x, "model_resolved", jstr(ct != NULL ? ct->model : NULL));
	json_object_set_new(x, "score", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:s, s:o, s:o}", "ema", jstr(s->ema), "height", jint(s->ema != NULL ?
	    s->ema_height : -1), "active", s->active < 0 ? json_null() :
	    json_boolean(s->active), "lowest_active_ema", jstr(s->lowest), "gap", jstr(gap),
	    "rank", jint(s->rank), "active_count", jint(s->active_count), "last_reward_uallo",
	    jstr(s->last_reward), "rewards_uallo", num, "network_value",
	    jstr(s->network_value), "network_nonce", jint(s->network_value != NULL ?
	    s->network_nonce : -1)));
	free(gap);
}

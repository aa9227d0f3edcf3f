/*
 * Active/standby across hosts ([cluster]): this file owns the leadership of each wallet
 * and the fencing of its transactions.  One etcd lease per daemon (granted with
 * lease_ttl_s, kept alive every TTL/3); per wallet a campaign for
 * /<prefix>/<chain_id>/<address>/leader (a create-if-absent transaction putting our name
 * under our lease) and a watch of that key; before a signature a transaction that checks
 * that our lease still holds the key and reads /<prefix>/<chain_id>/<address>/nonce/
 * <topic>/<nonce>; before a broadcast one that writes the signed transaction there, only
 * while our lease holds the key and nothing else is recorded.  A host that loses the
 * lease (keepalive refused, key gone, etcd silent for the TTL) stops signing at once.
 * The etcd wire format is common/etcd.c's.
 *
 * This file keeps the lease, the campaign and watch of each leader key, the windows kept
 * for a takeover, the tick, start and stop, and the readiness and status side; the presign
 * and fence transactions are cluster_fence.c's, and cluster_int.h is what the two share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "cluster_int.h"
#include "etcd.h"
#include "metrics.h"
#include "sup.h"
#include "util.h"

#define WARN_EVERY_MS	30000

struct cluster_state C;

int
cluster_enabled(void)
{
	return C.on;
}

struct cwallet *
wallet_of(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < C.nw; i++)
		if (strcmp(C.w[i].name, name) == 0)
			return &C.w[i];
	return NULL;
}

static void
set_str(char **dst, const char *s)
{
	char *n = s != NULL ? xstrdup(s) : NULL;

	free(*dst);
	*dst = n;
}

static int
lease_valid(void)
{
	return C.lease != 0 && mono_ms() < C.deadline_ms;
}

int
cluster_serves(const char *wallet)
{
	struct cwallet *w;

	if (!C.on)
		return 1;
	w = wallet_of(wallet);
	return w != NULL && w->leader && !w->checking && lease_valid();
}

int
cluster_take_fresh(const char *wallet)
{
	struct cwallet *w = wallet_of(wallet);
	int f = w != NULL && w->fresh;

	if (w != NULL)
		w->fresh = 0;
	return f;
}

/* ---- etcd reachability, said once per change (and every 30 s while down) ---- */

void
etcd_answered(void)
{
	if (!C.etcd_ok)
		log_event(LOG_LVL_INFO, "info", json_pack("{s:s}", "cluster", C.name),
		    "etcd answers again; leadership resumes");
	C.etcd_ok = 1;
	set_str(&C.etcd_err, NULL);
}

void
etcd_failed(const char *err)
{
	int64_t now = mono_ms();

	set_str(&C.etcd_err, err);
	if (C.etcd_ok || now >= C.next_warn_ms) {
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s}", "topic",
		    "reason", "etcd_unreachable", "error", err),
		    "etcd unreachable, so this host signs nothing until it answers: %s", err);
		C.next_warn_ms = now + WARN_EVERY_MS;
	}
	C.etcd_ok = 0;
}

/* ---- leadership changes ---- */

static void
gauge(struct cwallet *w)
{
	char lab[160];

	snprintf(lab, sizeof(lab), "wallet=\"%s\"", w->name);
	metrics_gauge("allora_worker_leader", lab, w->leader ? 1 : 0);
}

static void	replay_windows(struct cwallet *);

/* Records what we now know of the wallet's leader; an event for every change. */
void
leader_is(struct cwallet *w, const char *holder, int me, const char *why)
{
	int changed = w->announced == 0 || w->leader != me ||
	    (holder == NULL) != (w->holder == NULL) ||
	    (holder != NULL && strcmp(holder, w->holder) != 0);
	char *prev = w->holder ? xstrdup(w->holder) : NULL;
	int was = w->leader;

	set_str(&w->holder, holder);
	w->leader = me;
	w->checking = 0;
	gauge(w);
	if (changed) {
		w->announced = 1;
		log_event(was && !me && !C.stopping && why != NULL &&
		    strcmp(why, "this host is stopping") != 0 ? LOG_LVL_WARNING : LOG_LVL_INFO,
		    "leader",
		    json_pack("{s:s, s:s?, s:s?, s:b, s:s?, s:s?, s:s}", "wallet", w->name,
		    "address", w->address, "leader", holder, "me", me, "previous", prev,
		    "reason", why, "host", C.name),
		    "wallet %s: %s%s%s%s%s", w->name, me ? "this host (" : holder ?
		    "the leader is " : "no leader", me ? C.name : holder ? holder : "",
		    me ? ") is now the leader and serves it" : "; this host stands by",
		    why ? ": " : "", why ? why : "");
		if (why != NULL && was && !me && strcmp(why, "this host is stopping") != 0)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s}",
			    "topic", "reason", "leadership_lost", "wallet", w->name, "error", why),
			    "wallet %s: leadership lost (%s): signing stopped", w->name, why);
	}
	free(prev);
	if (was && !me)
		flow_cluster_lost(w->name);
	if (!was && me) {
		w->fresh = 1;
		replay_windows(w);
	}
}

static void
lose_all(const char *why)
{
	size_t i;

	for (i = 0; i < C.nw; i++)
		if (C.w[i].leader)
			leader_is(&C.w[i], NULL, 0, why);
}

/* ---- the lease ---- */

static void
grant_done(json_t *reply, const char *err, void *arg)
{
	int64_t sent = (int64_t)(intptr_t)arg;

	C.granting = 0;
	if (C.stopping)
		return;
	if (reply == NULL || etcd_int(reply, "ID") == 0) {
		etcd_failed(err ? err : "lease grant refused");
		return;
	}
	etcd_answered();
	C.lease = etcd_int(reply, "ID");
	C.deadline_ms = sent + etcd_int(reply, "TTL") * 1000;
	C.next_keepalive_ms = sent + C.ttl_s * 1000 / 3;
	log_debug("cluster: lease %llx granted (TTL %lld s)", (unsigned long long)C.lease,
	    (long long)etcd_int(reply, "TTL"));
}

static void
keepalive_done(json_t *reply, const char *err, void *arg)
{
	int64_t sent = (int64_t)(intptr_t)arg;
	json_t *r;
	int64_t ttl;
	size_t i;

	C.keepalive_busy = 0;
	if (C.stopping || C.lease == 0)
		return;
	if (reply == NULL) {
		etcd_failed(err);
		C.next_keepalive_ms = mono_ms() + 250;
		return;
	}
	etcd_answered();
	r = json_object_get(reply, "result");
	ttl = etcd_int(r != NULL ? r : reply, "TTL");
	if (ttl <= 0) {
		/* The lease is gone in etcd: our key went with it. */
		C.lease = 0;
		lose_all("the lease expired in etcd (keepalive refused)");
		return;
	}
	C.deadline_ms = sent + ttl * 1000;
	C.next_keepalive_ms = sent + C.ttl_s * 1000 / 3;
	/* The lease lives, and with it the key it holds: a pending check is answered. */
	for (i = 0; i < C.nw; i++)
		C.w[i].checking = 0;
}

/* ---- campaign and watch ---- */

json_t *
cmp(const char *k64, const char *target, const char *field, json_t *v)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "key", k64, "target", target, "result",
	    "EQUAL", field, v);
}

json_t *
range_op(const char *k64)
{
	return json_pack("{s:{s:s}}", "request_range", "key", k64);
}

/* The first kv of the n-th response of a txn reply, or NULL. */
json_t *
txn_kv(json_t *reply, size_t n)
{
	json_t *r = json_array_get(json_object_get(reply, "responses"), n);

	return json_array_get(json_object_get(json_object_get(r, "response_range"), "kvs"), 0);
}

char *
kv_value(json_t *kv)
{
	return etcd_unb64(json_string_value(json_object_get(kv, "value")));
}

char *
holder_name(json_t *kv)
{
	char *v = kv_value(kv), *n = NULL;
	json_t *o;

	if (v == NULL)
		return NULL;
	o = json_loads(v, 0, NULL);
	if (json_is_string(json_object_get(o, "name")))
		n = xstrdup(json_string_value(json_object_get(o, "name")));
	json_decref(o);
	free(v);
	return n != NULL ? n : xstrdup("?");
}

static void
campaign_done(json_t *reply, const char *err, void *arg)
{
	struct cwallet *w = arg;
	json_t *kv;
	char *h;

	w->campaign_busy = 0;
	if (C.stopping)
		return;
	if (reply == NULL) {
		etcd_failed(err);
		return;
	}
	etcd_answered();
	if (w->watch_rev == 0)
		w->watch_rev = etcd_int(json_object_get(reply, "header"), "revision") + 1;
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		leader_is(w, C.name, 1, NULL);
		return;
	}
	kv = txn_kv(reply, 0);
	if (kv == NULL)
		return;		/* gone meanwhile: the next campaign takes it */
	if (C.lease != 0 && etcd_int(kv, "lease") == C.lease) {
		if (!w->leader)
			leader_is(w, C.name, 1, NULL);
		return;
	}
	h = holder_name(kv);
	leader_is(w, h, 0, w->leader ? "another host holds the leader key" : NULL);
	free(h);
}

static void
campaign(struct cwallet *w)
{
	char *k = etcd_b64(w->key), *v, *v64;
	char id[32];
	json_t *txn;

	snprintf(id, sizeof(id), "%lld", (long long)C.lease);
	v = xasprintf("{\"name\":\"%s\",\"lease\":\"%s\",\"pid\":%ld}", C.name, id,
	    (long)getpid());
	v64 = etcd_b64(v);
	txn = json_pack("{s:[o], s:[{s:{s:s, s:s, s:o}}], s:[o]}",
	    "compare", cmp(k, "CREATE", "create_revision", etcd_num(0)),
	    "success", "request_put", "key", k, "value", v64, "lease", etcd_num(C.lease),
	    "failure", range_op(k));
	w->campaign_busy = 1;
	w->next_campaign_ms = mono_ms() + C.ttl_s * 1000 / 3;
	etcd_post(C.etcd, "/v3/kv/txn", txn, campaign_done, w);
	free(k);
	free(v);
	free(v64);
}

static void
watch_cb(json_t *result, const char *err, void *arg)
{
	struct cwallet *w = arg;
	json_t *ev;
	size_t i;

	if (result == NULL) {
		w->watch_id = 0;
		w->next_watch_ms = mono_ms() + 500;
		log_debug("cluster: watch of %s ended: %s", w->key, err ? err : "?");
		return;
	}
	if (etcd_int(json_object_get(result, "header"), "revision") > 0)
		w->watch_rev = etcd_int(json_object_get(result, "header"), "revision") + 1;
	if (etcd_int(result, "compact_revision") > 0 || json_is_true(json_object_get(result,
	    "canceled"))) {
		/* Our revision was compacted away: watch from now, and campaign to resync. */
		w->watch_rev = 0;
		w->next_campaign_ms = 0;
	}
	json_array_foreach(json_object_get(result, "events"), i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		json_t *kv = json_object_get(ev, "kv");

		if (type != NULL && strcmp(type, "DELETE") == 0) {
			/* The holder's lease ended: campaign at once. */
			if (w->leader)
				leader_is(w, NULL, 0, "the leader key was deleted");
			else
				set_str(&w->holder, NULL);
			w->next_campaign_ms = 0;
		} else if (kv != NULL && !(C.lease != 0 && etcd_int(kv, "lease") == C.lease)) {
			char *h = holder_name(kv);

			leader_is(w, h, 0, w->leader ? "another host holds the leader key" : NULL);
			free(h);
		}
	}
}

/* After our lease may have lapsed (a pause, a partition): is the key still ours? */
static void
check_done(json_t *reply, const char *err, void *arg)
{
	struct cwallet *w = arg;
	json_t *kv;
	char *h;

	if (C.stopping)
		return;
	if (reply == NULL) {
		etcd_failed(err);
		if (w->leader)
			leader_is(w, w->holder, 0, "etcd did not answer within the lease TTL");
		return;
	}
	etcd_answered();
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		if (lease_valid())
			w->checking = 0;
		return;
	}
	kv = txn_kv(reply, 0);
	h = kv != NULL ? holder_name(kv) : NULL;
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s?}", "topic",
	    "reason", "fenced", "wallet", w->name, "leader", h),
	    "wallet %s: fencing transaction failed: our lease no longer holds the leader key "
	    "(%s%s); signing nothing", w->name, h ? "held by " : "nobody holds it", h ? h : "");
	if (w->leader)
		leader_is(w, h, 0, "fencing transaction failed: the lease lapsed");
	free(h);
}

static void
check_leadership(struct cwallet *w)
{
	char *k = etcd_b64(w->key);

	w->checking = 1;
	etcd_post(C.etcd, "/v3/kv/txn", json_pack("{s:[o], s:[], s:[o]}", "compare",
	    cmp(k, "LEASE", "lease", etcd_num(C.lease)), "success", "failure", range_op(k)),
	    check_done, w);
	free(k);
}

/* ---- windows kept for a takeover ---- */

static int
stash_open(const struct stash *s, int64_t now)
{
	int64_t end = json_integer_value(json_object_get(s->payload, "window_end"));
	int64_t h = json_integer_value(json_object_get(s->payload, "height"));
	int64_t bms = json_integer_value(json_object_get(s->payload, "block_ms"));

	if (end > 0 && h > 0 && bms > 0)
		return h + (now - s->seen_ms) / bms < end;
	return now - s->seen_ms < 60000;
}

int
cluster_window(uint32_t topic, const char *wallet, json_t *payload)
{
	int64_t now = mono_ms();
	size_t i, j;

	if (!C.on)
		return 1;
	for (i = j = 0; i < C.nstash; i++) {
		if (!stash_open(&C.stash[i], now)) {
			json_decref(C.stash[i].payload);
			continue;
		}
		C.stash[j++] = C.stash[i];
	}
	C.nstash = j;
	if (C.nstash == STASH_MAX) {
		json_decref(C.stash[0].payload);
		memmove(&C.stash[0], &C.stash[1], (STASH_MAX - 1) * sizeof(C.stash[0]));
		C.nstash--;
	}
	C.stash[C.nstash].topic = topic;
	C.stash[C.nstash].payload = json_deep_copy(payload);
	C.stash[C.nstash].seen_ms = now;
	C.nstash++;
	return cluster_serves(wallet);
}

void
cluster_window_status(uint32_t topic, int64_t nonce, const char *state)
{
	size_t i;

	if (!C.on || state == NULL)
		return;
	for (i = 0; i < C.nstash; i++) {
		json_t *p = C.stash[i].payload;
		const char *was;

		if (C.stash[i].topic != topic ||
		    json_integer_value(json_object_get(p, "nonce")) != nonce)
			continue;
		if (strcmp(state, "not_open") == 0) {
			json_decref(p);
			memmove(&C.stash[i], &C.stash[i + 1], (C.nstash - i - 1) *
			    sizeof(C.stash[0]));
			C.nstash--;
			return;
		}
		/* "open" stays; "no_answer" after "open" says nothing new. */
		was = json_string_value(json_object_get(p, "confirm"));
		if (strcmp(state, "open") == 0 || was == NULL || strcmp(was, "pending") == 0)
			json_object_set_new(p, "confirm", json_string(state));
		return;
	}
}

static void
replay_windows(struct cwallet *w)
{
	int64_t now = mono_ms();
	size_t i;

	for (i = 0; i < C.nstash; i++) {
		const struct config_topic *ct = config_topic(sup->conf, C.stash[i].topic);
		json_t *p;
		int64_t h, bms;

		if (ct == NULL || strcmp(ct->wallet, w->name) != 0 ||
		    !stash_open(&C.stash[i], now))
			continue;
		p = json_deep_copy(C.stash[i].payload);
		h = json_integer_value(json_object_get(p, "height"));
		bms = json_integer_value(json_object_get(p, "block_ms"));
		if (h > 0 && bms > 0)
			json_object_set_new(p, "height", json_integer(h + (now -
			    C.stash[i].seen_ms) / bms));
		flow_window_replay(p);
		json_decref(p);
	}
}

/* ---- the tick ---- */

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	int64_t now = mono_ms();
	size_t i;

	if (C.stopping)
		return;
	if (C.lease == 0 && !C.granting) {
		C.granting = 1;
		etcd_post(C.etcd, "/v3/lease/grant", json_pack("{s:I}", "TTL",
		    (json_int_t)C.ttl_s), grant_done, (void *)(intptr_t)now);
	}
	if (C.lease != 0 && !C.keepalive_busy && now >= C.next_keepalive_ms) {
		C.keepalive_busy = 1;
		etcd_post(C.etcd, "/v3/lease/keepalive", json_pack("{s:o}", "ID",
		    etcd_num(C.lease)), keepalive_done, (void *)(intptr_t)now);
	}
	if (C.lease != 0 && now >= C.deadline_ms) {
		/* Not renewed for the whole TTL: paused, partitioned or etcd silent. */
		for (i = 0; i < C.nw; i++)
			if (C.w[i].leader && !C.w[i].checking) {
				log_warnx("wallet %s: the lease was not renewed for %ld s; signing "
				    "stopped until etcd confirms the leader key", C.w[i].name,
				    C.ttl_s);
				check_leadership(&C.w[i]);
			}
		if (now >= C.deadline_ms + C.ttl_s * 1000) {
			/* Surely expired in etcd too: start over with a new lease. */
			C.lease = 0;
			lose_all("the lease expired: etcd did not answer within the TTL");
		}
	}
	for (i = 0; i < C.nw; i++) {
		struct cwallet *w = &C.w[i];

		if (w->address == NULL && sup->wallets != NULL) {
			size_t k;

			for (k = 0; k < sup->nwallets; k++)
				if (strcmp(sup->wallets[k].name, w->name) == 0 &&
				    sup->wallets[k].address != NULL) {
					w->address = xstrdup(sup->wallets[k].address);
					w->key = xasprintf("/%s/%s/%s/leader", C.prefix,
					    C.chain_id, w->address);
					w->nonce_prefix = xasprintf("/%s/%s/%s/nonce/", C.prefix,
					    C.chain_id, w->address);
				}
		}
		if (w->address == NULL)
			continue;
		if (lease_valid() && !w->leader && !w->campaign_busy && now >= w->next_campaign_ms)
			campaign(w);
		if (w->watch_id == 0 && now >= w->next_watch_ms && C.etcd_ok) {
			w->watch_id = etcd_watch(C.etcd, w->key, w->watch_rev, watch_cb, w);
			if (w->watch_id < 0)
				w->watch_id = 0;
			w->next_watch_ms = now + 1000;
		}
	}
}

void
cluster_init(void)
{
	struct timeval tv;
	long ms;
	size_t i;

	if (sup->conf->cluster_line == 0)
		return;
	memset(&C, 0, sizeof(C));
	C.on = 1;
	C.name = xstrdup(sup->conf->cluster_name);
	C.prefix = xstrdup(sup->conf->cluster_prefix);
	C.chain_id = xstrdup(sup->conf->chain_id);
	C.endpoints = json_array();
	for (i = 0; i < sup->conf->netcd; i++)
		json_array_append_new(C.endpoints, json_string(sup->conf->etcd[i]));
	C.ttl_s = sup->conf->lease_ttl_s;
	C.etcd_ok = 1;	/* until the first request says otherwise */
	ms = C.ttl_s * 1000 / 3;
	C.etcd = etcd_new(sup->base, sup->conf, ms < 2000 ? ms : 2000);
	C.nw = sup->conf->nwallets;
	C.w = xcalloc(C.nw ? C.nw : 1, sizeof(*C.w));
	for (i = 0; i < C.nw; i++) {
		C.w[i].name = xstrdup(sup->conf->wallets[i].name);
		gauge(&C.w[i]);
	}
	C.tick = event_new(sup->base, -1, EV_PERSIST, tick_cb, NULL);
	ms = C.ttl_s * 1000 / 12;
	if (ms > 250)
		ms = 250;
	tv.tv_sec = 0;
	tv.tv_usec = ms * 1000;
	event_add(C.tick, &tv);
	log_info("cluster: host %s, etcd %s%s, lease TTL %ld s: standing by until this host "
	    "holds a wallet's leader key", C.name, sup->conf->etcd[0],
	    sup->conf->netcd > 1 ? " ..." : "", C.ttl_s);
	tick_cb(-1, 0, NULL);
}

static int revoke_pending;

static void
revoke_done(json_t *reply, const char *err, void *arg)
{
	revoke_pending = 0;
	if (reply == NULL)
		log_debug("cluster: lease revoke: %s", err);
}

void
cluster_stop(void)
{
	size_t i;

	if (!C.on || C.stopping)
		return;
	for (i = 0; i < C.nw; i++) {
		if (C.w[i].leader)
			leader_is(&C.w[i], NULL, 0, "this host is stopping");
		if (C.w[i].watch_id > 0)
			etcd_watch_cancel(C.etcd, C.w[i].watch_id);
		C.w[i].watch_id = 0;
	}
	C.stopping = 1;
	if (C.lease != 0 && (revoke_pending = 1))
		/* The standby takes over at once instead of after the TTL. */
		etcd_post(C.etcd, "/v3/lease/revoke", json_pack("{s:o}", "ID",
		    etcd_num(C.lease)), revoke_done, NULL);
	C.lease = 0;
}

void
cluster_free(void)
{
	size_t i;

	if (!C.on)
		return;
	{
		/* Let the revoke reach etcd (bounded). */
		int64_t until = mono_ms() + 1000;

		while (revoke_pending && mono_ms() < until) {
			event_base_loop(sup->base, EVLOOP_NONBLOCK);
			usleep(5000);
		}
	}
	if (C.tick != NULL)
		event_free(C.tick);
	etcd_free(C.etcd);
	for (i = 0; i < C.nw; i++) {
		free(C.w[i].name);
		free(C.w[i].address);
		free(C.w[i].key);
		free(C.w[i].nonce_prefix);
		free(C.w[i].holder);
	}
	free(C.w);
	for (i = 0; i < C.nstash; i++)
		json_decref(C.stash[i].payload);
	free(C.name);
	free(C.prefix);
	free(C.chain_id);
	json_decref(C.endpoints);
	free(C.etcd_err);
	memset(&C, 0, sizeof(C));
}

json_t *
cluster_ready_reasons(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; C.on && i < C.nw; i++) {
		struct cwallet *w = &C.w[i];
		char *t;

		if (cluster_serves(w->name))
			continue;
		t = !C.etcd_ok ? xasprintf("cluster: etcd unreachable, signing nothing for wallet "
		    "%s", w->name) : w->holder != NULL ? xasprintf("cluster: standby for wallet %s "
		    "(leader %s)", w->name, w->holder) : xasprintf("cluster: standby for wallet %s "
		    "(no leader yet)", w->name);
		json_array_append_new(a, json_string(t));
		free(t);
	}
	return a;
}

json_t *
cluster_status_json(void)
{
	json_t *o, *eps = json_array(), *ws = json_array();
	int64_t now = mono_ms();
	size_t i;

	json_array_extend(eps, C.endpoints);
	for (i = 0; i < C.nw; i++) {
		struct cwallet *w = &C.w[i];
		int me = cluster_serves(w->name);

		json_array_append_new(ws, json_pack("{s:s, s:o, s:b, s:o, s:o}", "name", w->name,
		    "leader", w->holder ? json_string(w->holder) : json_null(), "me", me,
		    "lease_expires_in_s", me ? json_real((double)(C.deadline_ms - now) / 1000.0) :
		    json_null(), "reason", me ? json_null() : !C.etcd_ok && C.etcd_err ?
		    json_string(C.etcd_err) : w->address == NULL ?
		    json_string("waiting for the wallet's address") : json_null()));
	}
	o = json_pack("{s:s, s:o, s:b, s:o, s:I, s:o}", "name", C.name, "etcd", eps, "etcd_ok",
	    C.etcd_ok, "etcd_error", C.etcd_err ? json_string(C.etcd_err) : json_null(),
	    "lease_ttl_s", (json_int_t)C.ttl_s, "wallets", ws);
	return o;
}
